"""Reading a library's recordings as the world and the prompts need them: mono, at one rate, onset found.

numpy and soundfile only. Resampling is band-limited (an FFT over the whole, zero-padded recording:
recordings are short), so a 44.1 kHz recording read at 48 kHz keeps its band and gains no alias.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from foleyflow.runtime.prompt import onset_index  # the one onset rule: the world's voicing and the prompts

from .errors import LibraryError

__all__ = ["MAX_SECONDS", "band_share_db", "onset_index", "read_mono", "resample"]

MAX_SECONDS = 30.0  # a recording is cut to this much (Foley events, not ambiences)


def resample(x: np.ndarray, n_out: int) -> np.ndarray:
    """``x`` (1-D) band-limited to ``n_out`` samples over the same time span: the spectrum truncated
    or zero-extended, with zero padding against wrap-around at the ends."""
    x = np.asarray(x, dtype=np.float64)
    n_in = len(x)
    if n_out <= 0 or n_in == 0:
        return np.zeros(max(n_out, 0), dtype=np.float32)
    if n_out == n_in:
        return x.astype(np.float32)
    pad_in = n_in // 8 + 16
    n_pad = n_in + 2 * pad_in
    pad_out = round(pad_in * n_out / n_in)
    m_out = n_out + 2 * pad_out
    spec = np.fft.rfft(np.pad(x, pad_in))
    k = min(len(spec), m_out // 2 + 1)
    out_spec = np.zeros(m_out // 2 + 1, dtype=np.complex128)
    out_spec[:k] = spec[:k]
    if m_out < n_pad and m_out % 2 == 0:  # the new Nyquist bin is real
        out_spec[-1] = out_spec[-1].real
    y = np.fft.irfft(out_spec, m_out) * (m_out / n_pad)
    return y[pad_out:pad_out + n_out].astype(np.float32)


def read_mono(path: str | Path, rate: int, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """The recording at ``path`` as mono float32 at ``rate`` (channels averaged), at most
    ``max_seconds`` long. LibraryError names the file if it cannot be read or holds no audio."""
    path = Path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            src_rate = int(f.samplerate)
            frames = min(f.frames, int(max_seconds * src_rate)) if f.frames > 0 else int(max_seconds * src_rate)
            data = f.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise LibraryError(f"cannot read as audio: {str(exc).strip() or type(exc).__name__}", path) from exc
    if data.shape[0] == 0:
        raise LibraryError("holds no audio (0 samples)", path)
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise LibraryError("holds samples that are not finite numbers", path)
    if src_rate != rate:
        mono = resample(mono, round(len(mono) * rate / src_rate))
    return mono.astype(np.float32)


def band_share_db(x: np.ndarray, rate: int, above_hz: float = 8000.0) -> float:
    """The share of ``x``'s energy above ``above_hz``, in dB (-inf for none, or for silence)."""
    spec = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64))) ** 2
    total = float(spec.sum())
    if total <= 0.0:
        return float("-inf")
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    high = float(spec[freqs > above_hz].sum())
    return 10.0 * np.log10(high / total) if high > 0 else float("-inf")
