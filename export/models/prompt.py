"""Sound prompts: a category table and a reference encoder, both giving a prompt vector [B, E].

PromptEncoder: a reference waveform [B, L] -> log-mel (ConvLogMel: the STFT as a strided conv1d
with windowed DFT kernels, so the whole front end exports to ONNX and the runtime feeds raw
samples) -> normalised tokens -> the pretrained audio encoder (export.models.encoders.AudioEncoder)
-> attention-weighted mean and max over its tokens -> a projection to E, layer-normed. The
audio encoder stays frozen unless ``train_encoder``: its MAE/alignment training already says what
sounds; the pool and the projection learn what the flow needs of it.

CategoryTable: a learned row [E] per category of the vocabulary.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .encoders import AudioEncoder
from .mel import dft_angles, dft_bases, mel_filterbank


class ConvLogMel(nn.Module):
    """waveform [B, S] -> log-mel [B, F, n_mels], F = S // hop: :class:`LogMel`'s numbers (centred,
    reflect-padded Hann STFT, power, mel filterbank, log clamped at 1e-5) from a conv1d whose kernels
    are the windowed DFT's cosines and sines (no torch.stft, which ONNX export does not take). The
    kernels are a buffer in PyTorch; an exported graph builds them when onnxruntime opens it
    (:func:`export.models.mel.dft_bases`) instead of carrying them (15 MB at n_fft 1920)."""

    def __init__(self, sample_rate: int, n_fft: int, hop_length: int, n_mels: int, fmin: float, fmax: float):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop_length
        ang = dft_angles(n_fft)  # [K, N]
        win = torch.hann_window(n_fft, dtype=torch.float64)
        self.register_buffer("dft", self._kernels(torch.cos(ang), torch.sin(ang), win), persistent=False)
        fb = mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax)
        self.register_buffer("melfb", torch.from_numpy(fb).t().contiguous(), persistent=False)  # [K, n_mels]

    @staticmethod
    def _kernels(cos: torch.Tensor, sin: torch.Tensor, win: torch.Tensor) -> torch.Tensor:
        """float64 cos, sin [K, N] and window [N] -> the conv kernels float32 [2K, 1, N]: real, imaginary."""
        return torch.cat([cos * win, -sin * win]).float().unsqueeze(1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        # exported, the kernels are built in the graph, not stored in it (see the docstring)
        dft = self._kernels(*dft_bases(self.n_fft)) if torch.compiler.is_exporting() else self.dft
        n_frames = wave.shape[-1] // self.hop
        pad = self.n_fft // 2
        x = F.pad(wave[:, None], (pad, pad), mode="reflect")  # [B, 1, S + N]
        spec = F.conv1d(x, dft, stride=self.hop)[..., :n_frames]  # [B, 2K, F]
        re, im = spec.chunk(2, dim=1)
        power = (re * re + im * im).transpose(1, 2)  # [B, F, K]
        return torch.log((power @ self.melfb).clamp_min(1e-5))  # [B, F, n_mels]


class PromptEncoder(nn.Module):
    """A prepared reference (runtime.prompt.prepare_reference) [B, L] -> prompt vector [B, E]."""

    def __init__(self, front: ConvLogMel, encoder: AudioEncoder, mel_stats: tuple[float, float],
                 frames_per_token: int, prompt_dim: int, train_encoder: bool = False):
        super().__init__()
        self.front, self.encoder, self.k = front, encoder, frames_per_token
        self.register_buffer("stats", torch.tensor([float(mel_stats[0]), float(mel_stats[1])]))
        dim = encoder.inp.out_features
        self.att = nn.Linear(dim, 1)
        self.proj = nn.Linear(2 * dim, prompt_dim)
        self.out_norm = nn.LayerNorm(prompt_dim)
        self.train_encoder = train_encoder
        if not train_encoder:
            self.encoder.requires_grad_(False)

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """[B, L] -> the audio encoder's tokens [B, L // (hop * k), dim]."""
        mel = (self.front(wave) - self.stats[0]) / self.stats[1]  # [B, F, n_mels]
        b, f, m = mel.shape
        n = f // self.k
        tokens = mel[:, : n * self.k].reshape(b, n, self.k * m)  # [B, N, k * n_mels]
        return self.encoder(tokens)

    def forward(self, wave: torch.Tensor | None = None, features: torch.Tensor | None = None) -> torch.Tensor:
        """``wave`` [B, L], or (training, frozen encoder) ``features``: :meth:`features` of the waves, computed
        once beforehand, so that a training step does not run the encoder again on the same references."""
        if features is not None:
            if self.train_encoder:
                raise ValueError("PromptEncoder: precomputed features with a trained encoder would not train it")
            h = features
        elif wave is None:
            raise ValueError("PromptEncoder: give the wave or its features")
        elif self.train_encoder:
            h = self.features(wave)
        else:
            with torch.no_grad():
                h = self.features(wave)  # [B, N, dim]
        w = torch.softmax(self.att(h), dim=1)  # [B, N, 1]
        pooled = torch.cat([(w * h).sum(dim=1), h.amax(dim=1)], dim=-1)  # [B, 2 * dim]
        return self.out_norm(self.proj(pooled))  # [B, E]


class CategoryTable(nn.Module):
    """category indices int64 [B] -> prompt vectors [B, E] (one learned row per vocabulary entry)."""

    def __init__(self, n_categories: int, prompt_dim: int):
        super().__init__()
        self.table = nn.Embedding(n_categories, prompt_dim)

    def forward(self, category: torch.Tensor) -> torch.Tensor:
        return self.table(category)
