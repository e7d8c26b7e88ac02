"""Log-mel features in torch, with a numpy filterbank (Slaney-style mel scale).

The same constants go into model.json so that any other side can reproduce them.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular mel filters, area-normalised: float32 [n_mels, n_fft // 2 + 1]."""
    freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    mels = np.linspace(_hz_to_mel(np.array(fmin)), _hz_to_mel(np.array(fmax)), n_mels + 2)
    hz = _mel_to_hz(mels)
    fb = np.zeros((n_mels, len(freqs)), dtype=np.float64)
    for i in range(n_mels):
        lo, mid, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - lo) / max(mid - lo, 1e-9)
        down = (hi - freqs) / max(hi - mid, 1e-9)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
    fb *= (2.0 / (hz[2:] - hz[:-2]))[:, None]
    return fb.astype(np.float32)


class LogMel(torch.nn.Module):
    """Waveform [B, S] -> log-mel [B, F, n_mels] with F = S // hop (centred STFT, trailing frame dropped)."""

    def __init__(self, sample_rate: int, n_fft: int, hop_length: int, n_mels: int, fmin: float, fmax: float):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop_length
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        fb = mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax)
        self.register_buffer("fb", torch.from_numpy(fb), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        n_frames = audio.shape[-1] // self.hop
        spec = torch.stft(audio, self.n_fft, self.hop, window=self.window, center=True, return_complex=True)
        power = spec.abs().pow(2)[..., :n_frames]  # [B, K, F]
        mel = torch.einsum("mk,bkf->bfm", self.fb, power)  # [B, F, n_mels]
        return torch.log(mel.clamp_min(1e-5))


def dft_angles(n_fft: int) -> torch.Tensor:
    """float64 [n_fft // 2 + 1, n_fft]: 2 pi f n / N, the angles of a real DFT's bins (the forward
    STFT of the prompt encoder and the vocoder's inverse one are matmuls with their cosines and sines).
    What the modules' buffers are made of in PyTorch; an exported graph builds them with :func:`dft_bases`."""
    n = torch.arange(n_fft, dtype=torch.float64)
    f = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    return 2 * math.pi * f[:, None] * n[None] / n_fft


def dft_bases(n_fft: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """float64 cos, sin [n_fft // 2 + 1, n_fft] of the real DFT's angles, and the periodic Hann window
    [n_fft], from integer ranges only: f * n % N in int64 keeps every angle exact (reduced below 2 pi)
    before it becomes a float. Called in an exported forward (``torch.compiler.is_exporting()``) it
    becomes a few small ONNX nodes (Range, Mul, Mod, Cast, Cos, Sin) that onnxruntime evaluates once
    when it opens the graph, in place of n_fft-squared matrices stored in the file (44 MB in the
    vocoder and prompt encoder at n_fft 1920). Equal to :func:`dft_angles`'s cosines and sines to
    ~2e-12 at n_fft 1920 (float32 matrices made of either differ by an ulp here and there)."""
    n = torch.arange(n_fft, dtype=torch.int64)
    f = torch.arange(n_fft // 2 + 1, dtype=torch.int64)
    step = 2 * math.pi / n_fft
    ang = ((f[:, None] * n[None]) % n_fft).to(torch.float64) * step
    win = 0.5 - 0.5 * torch.cos(n.to(torch.float64) * step)  # torch.hann_window(n_fft, periodic=True)
    return torch.cos(ang), torch.sin(ang), win
