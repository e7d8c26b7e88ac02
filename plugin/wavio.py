"""Write the takes' WAVs (48 kHz PCM_24, atomically) under names safe on every OS.

A WAV is streamed chunk by chunk to a temporary name in its final folder and
renamed over the final name only once it holds exactly the samples promised; a
crash or a cancel leaves no half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from .atomic import remove_stale_temps, temp_path
from .errors import OutputError
from .timing import SAMPLE_RATE

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


def write_wav(path: str | Path, chunks: Iterable[np.ndarray], n_samples: int, sample_rate: int = SAMPLE_RATE) -> Path:
    """Stream mono float chunks into a PCM_24 WAV of exactly ``n_samples`` samples.

    The file appears under ``path`` only when whole; fewer or more samples than
    promised is an OutputError and leaves nothing behind.
    """
    path = Path(path)
    tmp = temp_path(path)
    f: sf.SoundFile | None = None
    # One guard from before the temporary name can exist until the rename: an interrupt (Ctrl-C is a
    # KeyboardInterrupt raised wherever Python happens to be, even inside SoundFile's constructor once
    # it has created the file) or any error removes the temporary file.
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(path)
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()  # never write through whatever sits at the temporary name (a link, a leftover)
            f = sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=1, subtype="PCM_24", format="WAV")
        except (OSError, RuntimeError) as exc:  # soundfile's LibsndfileError is a RuntimeError
            raise OutputError(f"cannot write the WAV: {_reason(exc, path.parent)}", path) from exc
        written = 0
        for chunk in chunks:
            chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)  # [n] mono
            if written + chunk.size > n_samples:
                raise OutputError(f"the generator gave more than the {n_samples} samples promised", path)
            try:
                f.write(chunk)
            except (OSError, RuntimeError) as exc:  # a full disk, a vanished folder
                raise OutputError(f"cannot write the WAV: {_reason(exc, path.parent)}", path) from exc
            written += chunk.size
        try:
            f.close()
        except (OSError, RuntimeError) as exc:
            raise OutputError(f"cannot write the WAV: {_reason(exc, path.parent)}", path) from exc
        if written != n_samples:
            raise OutputError(f"the generator gave {written} samples, {n_samples} were promised", path)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise OutputError(f"cannot write the WAV: {_reason(exc)}", path) from exc
    except BaseException:
        if f is not None:
            with contextlib.suppress(Exception):
                f.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


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
