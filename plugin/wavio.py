"""Write WAVs (48 kHz PCM_24 by default, atomically) under names safe on every OS.

A WAV is streamed chunk by chunk to a temporary name in its final folder and renamed over the final
name only once it holds exactly the samples promised; a crash or a cancel leaves no half-written file
under the final name. :func:`write_wavs` writes several takes side by side (variations: one row per
file in each chunk) and commits them together: all of them, or none.
"""

from __future__ import annotations

import contextlib
import logging
import operator
import re
import shutil
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from .atomic import atomic_targets
from .errors import OutputError
from .timing import SAMPLE_RATE

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME = 96


def safe_name(text: str, fallback: str = "clip") -> str:
    """A file name part safe on Windows, macOS and Linux, from any text.

    Keeps ASCII letters, digits, ``.``, ``_`` and ``-``; everything else (slashes,
    ``:*?"<>|``, spaces, control characters) becomes ``_``. No leading dot or dash,
    no trailing dot, no reserved device name (CON, NUL, COM1...), at most 96 chars.
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _UNSAFE.sub("_", text).strip("._- ")
    text = re.sub(r"_+", "_", text)[:MAX_NAME].rstrip(".")
    if not text:
        text = fallback
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = "_" + text
    return text


def write_wav(path: str | Path, chunks: Iterable[np.ndarray] | np.ndarray, n_samples: int,
              sample_rate: int = SAMPLE_RATE, *, channels: int = 1, subtype: str = "PCM_24") -> Path:
    """Stream float chunks into a WAV of exactly ``n_samples`` samples (per channel); return its path.

    A chunk is float [n] (mono) or [n, channels], in [-1, 1] (PCM subtypes clip beyond); an array
    given instead of chunks is one chunk. The file appears under ``path`` only when whole; fewer or
    more samples than promised, or a chunk that is not finite float audio, is an OutputError and
    leaves nothing behind (an existing file of that name is kept).
    """
    path = Path(path)
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a whole number >= 1, got {channels!r}")
    if isinstance(chunks, np.ndarray):
        chunks = [chunks]

    def blocks() -> Iterator[np.ndarray]:  # [1, n, channels]
        for chunk in chunks:
            a = np.asarray(chunk)
            if a.ndim == 1 and channels == 1:
                a = a[:, None]
            if a.ndim != 2 or a.shape[1] != channels:
                want = "[n]" if channels == 1 else f"[n, {channels}]"
                raise OutputError(f"a chunk of shape {a.shape} is not {want} audio", path)
            yield a[None]

    return _write((path,), blocks(), n_samples, sample_rate, channels, subtype)[0]


def write_wavs(paths: Sequence[str | Path], chunks: Iterable[np.ndarray], n_samples: int,
               sample_rate: int = SAMPLE_RATE, *, subtype: str = "PCM_24") -> list[Path]:
    """Stream variations into one mono WAV per path, side by side; return the paths.

    Each chunk is float32 [V, n]: row v goes to ``paths[v]`` (V == len(paths)). Every file must get
    exactly ``n_samples``. All or nothing: an error, a cancel or Ctrl-C midway leaves none of the files
    (earlier versions under those names are kept).
    """
    files = tuple(Path(p) for p in paths)
    if not files:
        raise ValueError("write_wavs needs at least one path")

    def blocks() -> Iterator[np.ndarray]:  # [V, n, 1]
        for chunk in chunks:
            a = np.asarray(chunk)
            if a.ndim != 2 or a.shape[0] != len(files):
                raise OutputError(f"a chunk of shape {a.shape} is not [{len(files)} variations, n] audio", files[0])
            yield a[:, :, None]

    return _write(files, blocks(), n_samples, sample_rate, 1, subtype)


def _write(paths: tuple[Path, ...], blocks: Iterable[np.ndarray], n_samples: int, sample_rate: int,
           channels: int, subtype: str) -> list[Path]:
    """The one WAV writer: ``blocks`` are [len(paths), n, channels]; exactly ``n_samples`` per file."""
    n_samples, sample_rate = operator.index(n_samples), operator.index(sample_rate)  # numpy ints too; 2.5 is not
    if n_samples < 0:
        raise ValueError(f"n_samples cannot be negative, got {n_samples}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not sf.check_format("WAV", subtype):
        raise ValueError(f"WAV cannot hold subtype {subtype!r}")
    clip = subtype.startswith("PCM") or subtype in ("ULAW", "ALAW")
    first = paths[0]
    # One guard from before a temporary name can exist until the renames (atomic_targets): an interrupt
    # (Ctrl-C is a KeyboardInterrupt raised wherever Python happens to be, even inside SoundFile's
    # constructor once it has created the file) or any error removes every temporary file.
    with atomic_targets(paths) as temps, contextlib.ExitStack() as stack:
        files: list[sf.SoundFile] = []
        for tmp, path in zip(temps, paths, strict=True):
            try:
                f = sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=channels, subtype=subtype,
                                 format="WAV")
            except (OSError, RuntimeError) as exc:  # soundfile's LibsndfileError is a RuntimeError
                raise OutputError(f"cannot write the WAV: {_reason(exc, path.parent)}", path) from exc
            stack.callback(_close_quietly, f)
            files.append(f)
        written, warned = 0, False
        for block in blocks:
            if not np.issubdtype(block.dtype, np.floating):
                raise OutputError(f"the audio must be floating point in [-1, 1], got {block.dtype}", first)
            if written + block.shape[1] > n_samples:
                raise OutputError(f"the generator gave more than the {n_samples} samples promised", first)
            if not np.all(np.isfinite(block)):
                raise OutputError("the audio holds NaN or infinite samples", first)
            if clip:
                peak = float(np.max(np.abs(block))) if block.size else 0.0
                if peak > 1.0:
                    if not warned:
                        log.warning("%s: the audio peaks at %.3f; clipped to [-1, 1]", first, peak)
                        warned = True
                    block = np.clip(block, -1.0, 1.0)
            for f, rows, path in zip(files, block, paths, strict=True):  # rows: [n, channels]
                try:
                    f.write(np.ascontiguousarray(rows, dtype=np.float32))
                except (OSError, RuntimeError) as exc:  # a full disk, a vanished folder
                    raise OutputError(f"cannot write the WAV: {_reason(exc, path.parent)}", path) from exc
            written += block.shape[1]
        for f, path in zip(files, paths, strict=True):
            try:
                f.close()
            except (OSError, RuntimeError) as exc:
                raise OutputError(f"cannot write the WAV: {_reason(exc, path.parent)}", path) from exc
        if written != n_samples:
            raise OutputError(f"the generator gave {written} samples, {n_samples} were promised", first)
    return list(paths)


def _close_quietly(f: sf.SoundFile) -> None:
    with contextlib.suppress(Exception):
        f.close()


def _reason(exc: BaseException, folder: Path | None = None) -> str:
    """An OS error's words without the path (the OutputError names it), else the exception's text;
    libsndfile says only "System error.", so a (nearly) full disk is named from the free space."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    if folder is not None:
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(folder).free
            if free < 1 << 20:
                text += f" (No space left on device? {free} bytes free)"
    return text
