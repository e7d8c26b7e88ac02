"""Write real media files: H.264 video (optionally with an AAC track) with PyAV, WAV with soundfile.

Both writers are atomic: they write to a hidden temporary name in the destination folder and
rename it over the final name only once the file is whole, so a failure never leaves a
half-written file (and never touches an existing file of the same name).

Frame rates are exact rationals: the video stream's time base is 1/fps, frame k gets PTS k,
so frame k's time is exactly k/fps (24000/1001 stays 24000/1001, never 23.976).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
_AAC_FRAME = 1024  # samples per AAC frame


@contextmanager
def _atomic(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success, delete it on failure."""
    final = Path(path)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _as_fps(fps: Fraction | int) -> Fraction:
    if isinstance(fps, float) or not isinstance(fps, (Fraction, int)):
        raise TypeError(f"fps must be a Fraction (e.g. Fraction(30000, 1001)) or an int, got {fps!r}")
    fps = Fraction(fps)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return fps


def _as_audio(audio: np.ndarray, what: str) -> np.ndarray:
    """float32 [N, C] in [-1, 1] from [N] or [N, C]."""
    a = np.asarray(audio)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] not in (1, 2) or a.shape[0] == 0:
        raise ValueError(f"{what} must be [samples] or [samples, 1 or 2 channels], got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"{what} must be floating point in [-1, 1], got {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} holds NaN or infinite samples")
    peak = float(np.max(np.abs(a)))
    if peak > 1.0:
        log.warning("%s peaks at %.3f; clipping to [-1, 1]", what, peak)
    return np.clip(a, -1.0, 1.0).astype(np.float32)


def write_video(path: str | Path, frames: np.ndarray, fps: Fraction, audio: np.ndarray | None = None,
                sample_rate: int = 48000, *, crf: int = 18) -> None:
    """Write ``frames`` (uint8 [T, H, W, 3] RGB, H and W even) as H.264 yuv420p at exactly ``fps``.

    ``audio`` (float [N] or [N, C], in [-1, 1], at ``sample_rate``) becomes an AAC track when given.
    The container follows the suffix (.mp4, .m4v, .mov, .mkv; mp4 otherwise). Atomic.
    """
    fps = _as_fps(fps)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"frames must be uint8 [T, H, W, 3] with T >= 1, got {frames.dtype} {frames.shape}")
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 yuv420p needs even frame sizes, got {w}x{h}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf}")
    pcm = None
    if audio is not None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        pcm = _as_audio(audio, "audio")
    fmt = _FORMATS.get(Path(path).suffix.lower(), "mp4")

    with _atomic(path) as tmp, av.open(str(tmp), mode="w", format=fmt) as container:
        vs = container.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        # frame k has PTS k in 1/fps: exact. (The muxer may pick a finer stream time base once the header
        # is written, so frames carry their own time base rather than the stream's.)
        vtb = vs.time_base = Fraction(fps.denominator, fps.numerator)
        atb = Fraction(1, sample_rate)
        vs.options = {"crf": str(crf)}
        aus = None
        if pcm is not None:
            aus = container.add_stream("aac", rate=sample_rate, layout="mono" if pcm.shape[1] == 1 else "stereo")
            aus.time_base = atb
        done = 0  # audio samples encoded so far
        for k in range(frames.shape[0]):
            frame = av.VideoFrame.from_ndarray(frames[k], format="rgb24")
            frame.pts, frame.time_base = k, vtb
            container.mux(vs.encode(frame))
            if aus is not None:  # audio up to this frame's end, in whole AAC frames, so the muxer interleaves
                last = k == frames.shape[0] - 1
                upto = pcm.shape[0] if last else min(pcm.shape[0], int((k + 1) * sample_rate / fps))
                while done < upto and (last or done + _AAC_FRAME <= upto):
                    n = min(_AAC_FRAME, pcm.shape[0] - done)
                    af = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[done:done + n].T), format="fltp",
                                                    layout=aus.layout.name)
                    af.sample_rate, af.pts, af.time_base = sample_rate, done, atb
                    container.mux(aus.encode(af))
                    done += n
        container.mux(vs.encode(None))
        if aus is not None:
            container.mux(aus.encode(None))


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int, subtype: str = "PCM_24") -> None:
    """Write ``audio`` (float [N] or [N, C] in [-1, 1]) as a WAV file of ``subtype``. Atomic."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not sf.check_format("WAV", subtype):
        raise ValueError(f"WAV cannot hold subtype {subtype!r}")
    a = np.asarray(audio)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] == 0 or not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"audio must be floating point [samples] or [samples, channels], got {a.dtype} {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("audio holds NaN or infinite samples")
    if subtype.startswith("PCM"):
        a = np.clip(a, -1.0, 1.0)
    with _atomic(path) as tmp, sf.SoundFile(tmp, "w", samplerate=sample_rate, channels=a.shape[1],
                                             subtype=subtype, format="WAV") as f:
        f.write(a)
