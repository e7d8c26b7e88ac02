"""Onset detection for the sync metrics, in numpy only (no torch, no scipy, no librosa).

The detector follows the recipe CondFoleyGen (Du et al., CVPR 2023) evaluates with, and MMAudio
(Cheng et al., 2025) reuses for Greatest Hits: a librosa-style onset-strength envelope (spectral flux
of a log-power mel spectrogram, floored ``top_db`` below its maximum), normalised by its maximum, peak
picking against a local mean plus ``delta``, then non-maximum suppression (NMS) within 0.05 s, each
onset carrying a confidence (the clip-normalised peak ``|x|`` within +-0.05 s) that ranks it for AP.

What differs from CondFoleyGen's ``librosa.onset.onset_detect(delta=0.3)`` at 22.05 kHz, and why
(each choice measured on synthetic impacts: wood, ringing metal, dense, smeared attacks, noise):

- Analysis at 16 kHz, 64 ms window, 10 ms hop, 24 mel bands (librosa: 93 ms / 23 ms / 128 bands),
  so that impacts 50-60 ms apart stay separate.
- Flux over a lag of 2 hops (20 ms), so that a smeared attack (generated audio: 15-40 ms rises)
  counts whole instead of in sub-threshold slices.
- A per-band dead zone of 6 dB (a band's rise counts only beyond it) and an absolute floor
  ``min_rise_db`` on the envelope. Both are differences of logs, so the detector stays
  gain-invariant, yet stationary noise at any level gives no onsets (its band-wise dB fluctuations
  stay inside the dead zone); librosa's max-normalised envelope alone turns noise into "onsets".
  The relative threshold (``delta`` above the local mean of the max-normalised envelope) is kept
  but small: a large one (CondFoleyGen's 0.3) drops impacts that land on a louder ringing decay.
- Each onset is refined to about a millisecond: the steepest rise of a 4 ms energy envelope
  (relative to its maximum over the preceding 10 ms) within the detecting frame's window. A
  frame-level flux peak lands anywhere within that 64 ms window; the refined time does not.
- Frames whose window runs past the end of the clip carry no onsets (the cut is a broadband step),
  so onsets in the last 32 ms are not reported; a flux needs 20 ms of history, so nor are onsets
  in roughly the first 20 ms.

Properties the tests hold it to: digital silence gives no onsets; scaling the signal by any gain in
a wide range leaves the onsets unchanged; a ringing (slowly decaying, beating) metal impact gives one
onset; eight damped-sinusoid impacts at random times are found within 20 ms.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ANALYSIS_SR = 16000
"""Sample rate every onset, envelope and energy computation runs at."""
HOP = 160
"""Onset-envelope hop at ``ANALYSIS_SR``: 10 ms."""
N_FFT = 1024
"""Onset-envelope window at ``ANALYSIS_SR``: 64 ms."""
N_MELS = 24
LAG = 2
"""Flux lag in frames (20 ms): a rise spread over two hops (a smeared attack) still counts whole."""
BAND_THRESHOLD_DB = 6.0
"""Per-band dead zone of the flux (dB): stationary noise fluctuates within it."""
NMS_WINDOW_S = 0.05
"""CondFoleyGen's NMS window."""
CONFIDENCE_WINDOW_S = 0.05
"""CondFoleyGen's confidence window: peak ``|x|`` within +- this of the onset."""

_FINE_WIN = 64  # 4 ms energy frames for refinement
_FINE_HOP = 16  # 1 ms
_FINE_MEMORY = 10  # compare against the maximum over the preceding 10 fine hops (10 ms)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Return ``audio`` as a 1-D float64 array; a 2-D array is ``(channels, samples)`` and is averaged."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1:
        raise ValueError(f"audio must be 1-D or (channels, samples), got shape {np.shape(audio)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or inf")
    return x


def resample(
    audio: np.ndarray,
    orig_sr: int,
    target_sr: int,
    *,
    zeros: int = 16,
    rolloff: float = 0.94,
    beta: float = 8.0,
) -> np.ndarray:
    """Band-limited polyphase resampling (windowed sinc, Kaiser window), numpy only.

    Output sample ``n`` sits at input position ``n * orig_sr / target_sr``; it is the sum of the input
    samples within ``zeros`` zero crossings of a sinc low-passed at ``rolloff`` times the lower Nyquist
    frequency. The fractional positions repeat with period ``target_sr / gcd``, so one table of
    weights per phase is built (the polyphase form). Output length is ``ceil(len * target / orig)``.
    """
    x = to_mono(audio)
    orig_sr, target_sr = int(orig_sr), int(target_sr)
    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError("sample rates must be positive")
    if orig_sr == target_sr or x.size == 0:
        return x.copy()
    g = math.gcd(orig_sr, target_sr)
    up, down = target_sr // g, orig_sr // g
    n_out = -(-x.size * up // down)
    scale = min(1.0, target_sr / orig_sr) * rolloff
    half = int(math.ceil(zeros / scale))
    k = np.arange(-half + 1, half + 1)  # input offsets relative to floor(position)
    frac = (np.arange(up) * down % up) / up  # fractional input position of each phase
    d = frac[:, None] - k[None, :]  # distance (input samples) from the position to each tap
    u = np.clip(d / half, -1.0, 1.0)
    table = scale * np.sinc(scale * d) * np.i0(beta * np.sqrt(1.0 - u * u)) / np.i0(beta)
    xp = np.pad(x, (half, half + 1))
    out = np.empty(n_out)
    block = 8192
    for start in range(0, n_out, block):
        n = np.arange(start, min(start + block, n_out), dtype=np.int64)
        base = n * down // up
        idx = base[:, None] + k[None, :] + half
        out[start : start + n.size] = np.einsum("ij,ij->i", xp[idx], table[n % up])
    return out


def to_analysis_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float64 audio at ``ANALYSIS_SR`` (16 kHz)."""
    return resample(audio, sample_rate, ANALYSIS_SR) if int(sample_rate) != ANALYSIS_SR else to_mono(audio)


def _mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = ANALYSIS_SR) -> np.ndarray:
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(np.array(sr / 2.0)), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    fb = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return fb / np.maximum(fb.sum(axis=1, keepdims=True), 1e-12)


_MEL_FB = _mel_filterbank()


def onset_strength(
    audio: np.ndarray,
    sample_rate: int,
    *,
    top_db: float = 80.0,
    lag: int = LAG,
    band_threshold_db: float = BAND_THRESHOLD_DB,
) -> np.ndarray:
    """Onset-strength envelope (dB): mean over mel bands of each band's rise beyond ``band_threshold_db``.

    librosa's ``onset_strength`` (spectral flux of a dB mel spectrogram floored ``top_db`` below its
    maximum) with three changes: a lag of ``lag`` frames, a per-band dead zone of
    ``band_threshold_db`` (a band's rise counts only beyond it, which removes the random fluctuation
    of stationary noise), and 16 kHz, 64 ms Hann window, 10 ms hop, 24 mel bands. Frame ``k`` is
    centred at ``k * 0.01`` s. Frames whose window is cut by either end of the clip are 0 (the cut is
    a step, broadband at the end). Differences of logs: invariant to gain. All zeros for silence.
    """
    x = to_analysis_rate(audio, sample_rate)
    n_frames = 1 + x.size // HOP
    if x.size == 0 or not np.any(x):
        return np.zeros(max(n_frames, 1))
    xp = np.pad(x, (N_FFT // 2, N_FFT // 2 + HOP))
    frames = np.lib.stride_tricks.sliding_window_view(xp, N_FFT)[::HOP][:n_frames]
    spec = np.abs(np.fft.rfft(frames * np.hanning(N_FFT + 2)[1:-1], axis=1)) ** 2
    mel = spec @ _MEL_FB.T
    ref = mel.max()
    s_db = 10.0 * np.log10(np.maximum(mel, ref * 10.0 ** (-top_db / 10.0)))
    env = np.zeros(n_frames)
    if n_frames > lag:
        rise = s_db[lag:] - s_db[:-lag] - band_threshold_db
        env[lag:] = np.maximum(0.0, rise).mean(axis=1)
    centres = np.arange(n_frames) * HOP
    env[centres + N_FFT // 2 > x.size] = 0.0
    return env


def _refine(x: np.ndarray, frame: int, top_db: float) -> float:
    """Time (s) of the steepest rise of a 4 ms energy envelope within the support of ``frame``."""
    centre = frame * HOP
    lo = max(0, centre - N_FFT // 2 - _FINE_MEMORY * _FINE_HOP - _FINE_WIN)
    hi = min(x.size, centre + N_FFT // 2 + _FINE_WIN)
    seg = x[lo:hi]
    if seg.size < _FINE_WIN + 2 * _FINE_HOP:
        return centre / ANALYSIS_SR
    c = np.concatenate(([0.0], np.cumsum(seg * seg)))
    starts = np.arange(0, seg.size - _FINE_WIN + 1, _FINE_HOP)
    energy = (c[starts + _FINE_WIN] - c[starts]) / _FINE_WIN
    if energy.max() <= 0.0:
        return centre / ANALYSIS_SR
    e_db = 10.0 * np.log10(np.maximum(energy, energy.max() * 10.0 ** (-top_db / 10.0)))
    # maximum over the preceding _FINE_MEMORY frames (the first frame is its own past)
    head = np.concatenate((np.full(_FINE_MEMORY, e_db[0]), e_db[:-1]))
    past = np.lib.stride_tricks.sliding_window_view(head, _FINE_MEMORY).max(axis=1)
    rise = e_db - past
    # only rises whose frame ends inside the detecting frame's support can be this onset
    ends = lo + starts + _FINE_WIN
    ok = (ends > centre - N_FFT // 2) & (ends <= centre + N_FFT // 2 + _FINE_HOP)
    if not np.any(ok) or rise[ok].max() <= 0.0:
        return centre / ANALYSIS_SR
    j = int(np.flatnonzero(ok)[np.argmax(rise[ok])])
    # the attack lies in the last hop of the first 4 ms frame that contains it
    return (lo + starts[j] + _FINE_WIN - _FINE_HOP / 2) / ANALYSIS_SR


def nms(
    times: np.ndarray, strengths: np.ndarray, window_s: float = NMS_WINDOW_S
) -> tuple[np.ndarray, np.ndarray]:
    """CondFoleyGen's onset NMS: strongest first, drop any onset closer than ``window_s`` to a kept one.

    Returns the kept ``(times, strengths)`` in time order.
    """
    times = np.asarray(times, dtype=np.float64)
    strengths = np.asarray(strengths, dtype=np.float64)
    kept: list[int] = []
    for i in np.argsort(-strengths, kind="stable"):
        if all(abs(times[i] - times[j]) >= window_s for j in kept):
            kept.append(int(i))
    kept.sort(key=lambda i: times[i])
    return times[kept], strengths[kept]


def detect_onsets_with_strength(
    audio: np.ndarray,
    sample_rate: int,
    *,
    delta: float = 0.02,
    min_rise_db: float = 0.4,
    nms_window_s: float = NMS_WINDOW_S,
    refine: bool = True,
    silence_dbfs: float = -100.0,
    top_db: float = 80.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Onset times (s, ascending) and their confidences in (0, 1], CondFoleyGen style.

    1. Envelope: ``onset_strength`` (dB spectral flux, 10 ms hop), normalised by its maximum.
    2. Peak picking as librosa's ``peak_pick``: frame ``k`` is the maximum within +-30 ms, is at least
       the envelope's mean over +-100 ms plus ``delta`` (a threshold relative to the envelope), and
       its raw envelope (dB) is at least ``min_rise_db`` (scale-free; rejects stationary noise).
    3. Refinement to ~1 ms (see the module docstring) when ``refine``.
    4. Confidence = peak ``|x|`` within +-0.05 s of the onset over peak ``|x|`` of the clip
       (CondFoleyGen's, with ``min |x|`` taken as 0), then NMS within ``nms_window_s`` (0.05 s).

    Audio whose peak is below ``silence_dbfs`` (digital silence) yields two empty arrays. Any gain
    that keeps the peak above that floor gives the same result.
    """
    x = to_analysis_rate(audio, sample_rate)
    empty = np.zeros(0), np.zeros(0)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 10.0 ** (silence_dbfs / 20.0):
        return empty
    env = onset_strength(x, ANALYSIS_SR, top_db=top_db)
    if env.max() <= 0.0:
        return empty
    norm = env / env.max()
    n = norm.size
    pre_max = post_max = round(0.03 * ANALYSIS_SR / HOP)
    pre_avg = post_avg = round(0.10 * ANALYSIS_SR / HOP)
    padded = np.pad(norm, (pre_max, post_max), constant_values=-np.inf)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, pre_max + post_max + 1).max(axis=1)
    c = np.concatenate(([0.0], np.cumsum(norm)))
    lo = np.clip(np.arange(n) - pre_avg, 0, n)
    hi = np.clip(np.arange(n) + post_avg + 1, 0, n)
    local_mean = (c[hi] - c[lo]) / (hi - lo)
    is_peak = (norm >= local_max) & (norm >= local_mean + delta) & (env >= min_rise_db)
    frames = np.flatnonzero(is_peak)
    if frames.size == 0:
        return empty
    if refine:
        times = np.array([_refine(x, int(f), top_db) for f in frames])
    else:
        times = frames * (HOP / ANALYSIS_SR)
    ax = np.abs(x) / peak
    half = round(CONFIDENCE_WINDOW_S * ANALYSIS_SR)
    centres = np.clip(np.round(times * ANALYSIS_SR).astype(np.int64), 0, x.size - 1)
    conf = np.array([ax[max(0, i - half) : i + half + 1].max() for i in centres])
    return nms(times, conf, nms_window_s)


def detect_onsets(audio: np.ndarray, sample_rate: int, **kwargs: Any) -> np.ndarray:
    """Onset times in seconds, ascending; see ``detect_onsets_with_strength`` for the definition."""
    return detect_onsets_with_strength(audio, sample_rate, **kwargs)[0]
