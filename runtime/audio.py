"""Audio utilities of the runtime: streaming resampling to 48 kHz, cross-fades, edge fades, limiting."""

from __future__ import annotations

import numpy as np

OUTPUT_RATE = 48000  # Hz of all audio delivered (every WAV the plugin writes): the one definition of it


def lowpass_taps(up: int, half_width: int = 24, beta: float = 8.0, cutoff: float = 0.92) -> np.ndarray:
    """Kaiser-windowed sinc for upsampling by `up`: cutoff relative to the input Nyquist."""
    n = np.arange(-half_width * up, half_width * up + 1)
    h = cutoff * np.sinc(cutoff * n / up) * np.kaiser(len(n), beta)
    taps: np.ndarray = (h / h.sum() * up).astype(np.float64)  # numpy types h.sum() as Any
    return taps


class Upsampler:
    """Integer-ratio polyphase upsampler with explicit state, for streaming.

    ``process`` takes chunks of any size; the concatenated outputs of all calls plus
    ``flush()`` equal the one-shot result and are exactly ``up * len(input)`` long.
    Output sample ``up*m + p`` needs inputs ``m - hw .. m + hw``, so each call emits
    the outputs whose future inputs have arrived.

    ``up == 1`` (a 48 kHz model) passes the samples through as they are: no filter, no delay.
    """

    def __init__(self, up: int, half_width: int = 24):
        if up < 1:
            raise ValueError(f"the upsampling factor must be a positive integer, not {up}")
        self.up, self.hw = up, half_width
        h = lowpass_taps(up, half_width)
        self.phases = [h[p::up] for p in range(up)]
        self.buf = np.zeros(half_width, dtype=np.float64)  # inputs emitted-hw .. received-1 (zeros before 0)
        self.emitted = 0
        self.received = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.up == 1:
            self.received += len(x)
            self.emitted += len(x)
            return np.asarray(x, dtype=np.float32).ravel().copy()
        self.buf = np.concatenate([self.buf, np.asarray(x, dtype=np.float64).ravel()])
        self.received += len(x)
        n = self.received - self.hw - self.emitted
        if n <= 0:
            return np.zeros(0, dtype=np.float32)
        seg = self.buf[: n + 2 * self.hw]
        out = np.empty((n, self.up), dtype=np.float64)
        for p, taps in enumerate(self.phases):
            v = np.convolve(seg, taps, mode="valid")
            out[:, p] = v[:n] if p == 0 else v[1 : n + 1]
        self.buf = self.buf[n:]
        self.emitted += n
        return out.reshape(-1).astype(np.float32)

    def flush(self) -> np.ndarray:
        """Outputs of the last `hw` inputs, with zeros as their future."""
        if self.up == 1:
            return np.zeros(0, dtype=np.float32)
        tail = self.process(np.zeros(self.hw))
        self.received -= self.hw
        return tail


def fade_curves(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Complementary raised-cosine fades (out, in) whose gains sum to 1.

    The two sides of a segment join are vocodings of the same mel frames, hence
    correlated: gains summing to one keep the level flat (an equal-power pair would
    add 3 dB in the middle of a correlated join).
    """
    u = (np.arange(n) + 0.5) / n
    fin = np.sin(0.5 * np.pi * u) ** 2
    return (1.0 - fin).astype(np.float32), fin.astype(np.float32)


def crossfade(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    out_c, in_c = fade_curves(len(tail))
    mixed: np.ndarray = tail * out_c + head * in_c
    return mixed


def soft_limit(x: np.ndarray, threshold: float = 0.9) -> np.ndarray:
    """Identity below `threshold`, a tanh knee above, never beyond +-1."""
    y = np.asarray(x, dtype=np.float32).copy()
    over = np.abs(y) > threshold
    if over.any():
        s = np.sign(y[over])
        y[over] = s * (threshold + (1 - threshold) * np.tanh((np.abs(y[over]) - threshold) / (1 - threshold)))
    return y


def edge_fade_gain(n_total: int, start: int, n: int, fade: int) -> np.ndarray:
    """Gain for samples [start, start+n) of an n_total-sample clip with `fade`-sample fades at both ends."""
    idx = np.arange(start, start + n)
    g = np.ones(n, dtype=np.float32)
    if fade > 0:
        g = np.minimum(g, np.clip((idx + 0.5) / fade, 0, 1))
        g = np.minimum(g, np.clip((n_total - idx - 0.5) / fade, 0, 1))
    return g.astype(np.float32)
