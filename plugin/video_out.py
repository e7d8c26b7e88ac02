"""The one video writer: H.264 (optionally with an AAC or PCM track) with PyAV, streamed and atomic.

Frames are taken from any iterable one at a time (an array [T, H, W, 3] works too) and encoded as
they come: a clip of any length costs the memory of a frame plus the encoder's look-ahead. Audio is
an array or an iterable of chunks, pulled as far as the picture has got, so the muxer interleaves
the two. The file is written to a hidden temporary name in its folder (:mod:`.atomic`) and renamed
over the final name only when whole: a failure never leaves a half-written file, and never touches
an existing file of the same name.

Frame rates are exact rationals: the video stream's time base is 1/fps, frame k gets PTS k, so
frame k's time is exactly k/fps (24000/1001 stays 24000/1001, never 23.976). The audio track says
exactly the samples given: AAC decodes padded to whole 1024-sample frames, but the MP4/MOV edit list
(in a movie time scale fine enough for both the sample rate and the frame rate) gives the true
length, which a reader trims to; PCM is exact everywhere. Matroska cannot say an AAC track's exact
length, so AAC there is refused (use PCM, or .mp4/.mov)::

    picture  |f0      |f1      |f2      | ...   frame k at k/fps
    audio    |a0 .. upto floor((k+1) * rate / fps)| ...   in 1024-sample frames, then the rest
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .atomic import atomic_target
from .errors import OutputError
from .timing import SAMPLE_RATE

log = logging.getLogger(__name__)

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
_AUDIO_CODECS = {"aac": "aac", "pcm": "pcm_s24le"}
_AAC_FRAME = 1024  # samples per AAC frame
_MAX_TIMESCALE = 2**31 - 1


def _as_fps(fps: Fraction | int) -> Fraction:
    if isinstance(fps, (float, bool)) or not isinstance(fps, (Fraction, int)):
        raise TypeError(f"fps must be a Fraction (e.g. Fraction(30000, 1001)) or an int, got {fps!r}")
    fps = Fraction(fps)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return fps


class _AudioFeed:
    """Audio chunks pulled on demand: float32 [n, C] in [-1, 1], checked as they arrive."""

    def __init__(self, audio: np.ndarray | Iterable[np.ndarray], path: Path) -> None:
        self._chunks: Iterator[np.ndarray] = iter([audio] if isinstance(audio, np.ndarray) else audio)
        self._path = path
        self._parts: list[np.ndarray] = []
        self.buffered = 0  # samples in _parts
        self.exhausted = False
        self.channels = 0  # known from the first chunk
        self._warned = False

    def _pull(self) -> bool:
        """One more chunk into the buffer; False when there are no more."""
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self.exhausted = True
            return False
        a = np.asarray(chunk)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] not in (1, 2) or (self.channels and a.shape[1] != self.channels):
            want = f"[samples, {self.channels}]" if self.channels else "[samples] or [samples, 1 or 2 channels]"
            raise ValueError(f"{self._path}: audio must be {want}, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"{self._path}: audio must be floating point in [-1, 1], got {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{self._path}: the audio holds NaN or infinite samples")
        peak = float(np.max(np.abs(a))) if a.size else 0.0
        if peak > 1.0:
            if not self._warned:
                log.warning("%s: the audio peaks at %.3f; clipping to [-1, 1]", self._path, peak)
                self._warned = True
            a = np.clip(a, -1.0, 1.0)
        self.channels = self.channels or a.shape[1]
        if a.shape[0]:
            self._parts.append(a.astype(np.float32, copy=False))
            self.buffered += a.shape[0]
        return True

    def start(self) -> int:
        """Pull until the channel count is known (an empty stream is an error); return it."""
        while not self.channels and self._pull():
            pass
        if not self.channels:
            raise ValueError(f"{self._path}: the audio holds no samples")
        return self.channels

    def take(self, n: int) -> np.ndarray:
        """Up to ``n`` samples [m, C] (fewer only when the audio has ended), pulling chunks as needed."""
        while self.buffered < n and not self.exhausted:
            self._pull()
        if not self._parts:
            return np.zeros((0, self.channels), np.float32)
        whole = self._parts[0] if len(self._parts) == 1 else np.concatenate(self._parts)
        out, rest = whole[:n], whole[n:]
        self._parts = [rest] if rest.shape[0] else []
        self.buffered = rest.shape[0]
        return out


def write_video(path: str | Path, frames: Iterable[np.ndarray] | np.ndarray, fps: Fraction | int,
                audio: np.ndarray | Iterable[np.ndarray] | None = None, sample_rate: int | None = None, *,
                audio_samples: int | None = None, audio_codec: str = "aac", crf: int = 18,
                preset: str | None = None, gop: int | None = None, timecode: str | None = None) -> int:
    """Stream ``frames`` (uint8 [H, W, 3] RGB each, H and W even; or one array [T, H, W, 3]) into
    H.264 yuv420p at exactly ``fps``; return the number of frames written.

    ``audio`` (float [N] or [N, C] in [-1, 1], or an iterable of such chunks, at ``sample_rate``,
    48 kHz when not given) becomes an AAC track (``audio_codec="aac"``) or 24-bit PCM (``"pcm"``) of
    exactly the samples given; ``audio_samples``, when given, is how many there must be (an
    OutputError otherwise: a review render passes its picture's sample count). The container follows
    the suffix (.mp4, .m4v, .mov, .mkv; mp4 otherwise). ``preset`` and ``gop`` are libx264's,
    ``timecode`` (e.g. ``"01:00:00:00"``) the video stream's start timecode. Atomic.
    """
    path = Path(path)
    fps = _as_fps(fps)
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf}")
    if gop is not None and gop < 1:
        raise ValueError(f"gop must be at least 1, got {gop}")
    fmt = _FORMATS.get(path.suffix.lower(), "mp4")
    rate = SAMPLE_RATE if sample_rate is None else sample_rate
    feed = None
    if audio is not None:
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise ValueError(f"sample_rate must be a positive whole number of Hz, got {sample_rate!r}")
        if audio_codec not in _AUDIO_CODECS:
            raise ValueError(f"audio_codec must be one of {sorted(_AUDIO_CODECS)}, got {audio_codec!r}")
        if audio_codec == "aac" and fmt == "matroska":
            raise ValueError(f"{path}: Matroska cannot say an AAC track's exact length; write .mp4 or .mov, "
                             "or give audio_codec='pcm'")
        if audio_samples is not None and audio_samples < 0:
            raise ValueError(f"audio_samples cannot be negative, got {audio_samples}")
        feed = _AudioFeed(audio, path)
    options = {}
    if fmt in ("mp4", "mov"):  # edit lists in a time scale that holds every frame and sample time exactly
        scale = math.lcm(fps.numerator, rate if feed is not None else 1, 1000)
        if scale > _MAX_TIMESCALE:
            log.warning("%s: no movie time scale holds both %s fps and %d Hz exactly; durations in ms", path, fps,
                        rate)
            scale = 1000
        options["movie_timescale"] = str(scale)

    with atomic_target(path) as tmp:
        encoder = _Encoder(tmp=tmp, path=path, fmt=fmt, options=options, fps=fps, feed=feed, rate=rate,
                           codec=_AUDIO_CODECS[audio_codec], crf=crf, preset=preset, gop=gop, timecode=timecode)
        return encoder.run(frames, audio_samples)


@dataclass
class _Encoder:
    """One write: streams added at the first frame (its size), audio interleaved frame by frame."""

    tmp: Path  # the temporary name written (atomic_target renames it)
    path: Path  # the final name, for messages
    fmt: str  # FFmpeg's container name
    options: dict[str, str]  # the muxer's
    fps: Fraction
    feed: _AudioFeed | None
    rate: int  # audio samples per second
    codec: str  # FFmpeg's audio codec name
    crf: int
    preset: str | None
    gop: int | None
    timecode: str | None
    audio_done: int = 0  # audio samples encoded so far

    @property
    def vtb(self) -> Fraction:
        return Fraction(self.fps.denominator, self.fps.numerator)  # frame k has PTS k in 1/fps: exact

    @property
    def atb(self) -> Fraction:
        return Fraction(1, self.rate)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """PyAV's and the OS's errors while writing, as an OutputError naming the file."""
        try:
            yield
        except (OSError, av.FFmpegError) as exc:
            raise OutputError(f"cannot write the video: {exc}", self.path) from exc

    def run(self, frames: Iterable[np.ndarray] | np.ndarray, audio_samples: int | None) -> int:
        with self._guard():
            container = av.open(str(self.tmp), mode="w", format=self.fmt, options=self.options)
        try:
            n = self._streams(container, iter(frames))
            if self.feed is not None and audio_samples is not None and self.audio_done != audio_samples:
                raise OutputError(f"the audio holds {self.audio_done} samples, {audio_samples} were promised",
                                  self.path)
        except BaseException:
            with contextlib.suppress(Exception):
                container.close()
            raise
        with self._guard():
            container.close()  # writes the trailer (the index, the edit lists)
        return n

    def _frame(self, frame: np.ndarray, n: int, size: tuple[int, int] | None) -> np.ndarray:
        img = np.asarray(frame)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(f"{self.path}: frame {n} must be uint8 [H, W, 3], got {img.dtype} {img.shape}")
        if size is None and (img.shape[0] % 2 or img.shape[1] % 2):
            raise ValueError(f"{self.path}: H.264 yuv420p needs even frame sizes, got {img.shape[1]}x{img.shape[0]}")
        if size is not None and img.shape[:2] != size:
            raise ValueError(f"{self.path}: frame {n} is {img.shape[1]}x{img.shape[0]}, "
                             f"the first was {size[1]}x{size[0]}")
        return np.ascontiguousarray(img)

    def _streams(self, container: av.container.OutputContainer, frames: Iterator[np.ndarray]) -> int:
        first = next(frames, None)  # the caller's iterators run outside _guard: their errors are their own
        if first is None:
            raise ValueError(f"{self.path}: no frames to write")
        img = self._frame(first, 0, None)
        del first  # from here on only the frame being written is held
        size = (img.shape[0], img.shape[1])
        channels = self.feed.start() if self.feed is not None else 0
        vs, aus = self._add_streams(container, size, channels)
        n = 0
        while True:
            video_frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            # frames carry their own time base: the muxer may pick a finer one for the stream
            video_frame.pts, video_frame.time_base = n, self.vtb
            with self._guard():
                container.mux(vs.encode(video_frame))
            n += 1
            if aus is not None:  # the audio up to this frame's end, in whole AAC frames
                self._audio(container, aus, n * self.rate * self.fps.denominator // self.fps.numerator)
            nxt = next(frames, None)
            if nxt is None:
                break
            img = self._frame(nxt, n, size)
        with self._guard():
            container.mux(vs.encode(None))
        if aus is not None:
            self._audio(container, aus, None)
            with self._guard():
                container.mux(aus.encode(None))
        return n

    def _add_streams(self, container: av.container.OutputContainer, size: tuple[int, int],
                     channels: int) -> tuple[av.video.stream.VideoStream, av.audio.stream.AudioStream | None]:
        with self._guard():
            vs = container.add_stream("libx264", rate=self.fps)
            vs.height, vs.width = size
            vs.pix_fmt = "yuv420p"
            vs.time_base = self.vtb
            vs.options = {"crf": str(self.crf), **({"preset": self.preset} if self.preset else {})}
            if self.gop is not None:
                vs.codec_context.gop_size = self.gop
            if self.timecode:
                vs.metadata["timecode"] = self.timecode
            if not channels:
                return vs, None
            aus = container.add_stream(self.codec, rate=self.rate, layout="mono" if channels == 1 else "stereo")
        if not isinstance(aus, av.audio.stream.AudioStream):  # what add_stream gives for an audio codec
            raise OutputError(f"{self.codec} made a {type(aus).__name__}, not an audio stream", self.path)
        aus.time_base = self.atb
        return vs, aus

    def _audio(self, container: av.container.OutputContainer, aus: av.audio.stream.AudioStream,
               upto: int | None) -> None:
        """Encode audio up to sample ``upto`` in whole AAC frames, or (``None``) all that is left."""
        feed = self.feed
        while feed is not None and (upto is None or self.audio_done + _AAC_FRAME <= upto):
            pcm = feed.take(_AAC_FRAME)  # [m, C]
            if pcm.shape[0] == 0:
                return
            audio_frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm.T), format="fltp",
                                                     layout=aus.layout.name)
            audio_frame.sample_rate, audio_frame.pts, audio_frame.time_base = self.rate, self.audio_done, self.atb
            with self._guard():
                container.mux(aus.encode(audio_frame))
            self.audio_done += pcm.shape[0]
            if pcm.shape[0] < _AAC_FRAME:
                return
