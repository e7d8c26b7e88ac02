"""A Vocos-style vocoder: ConvNeXt blocks over mel frames, an iSTFT head built from matmuls.

torch.istft does not export usefully; here the inverse DFT is a matmul with the
synthesis window folded in, the overlap-add a conv_transpose1d with an identity
kernel, and the window-square envelope a second (one-channel) conv_transpose1d.
Those matrices are buffers in PyTorch; an exported graph builds them when onnxruntime opens it
(:func:`export.models.mel.dft_bases`) instead of carrying them (2 n_fft^2 floats: 30 MB at n_fft 1920).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .mel import dft_angles, dft_bases


class ConvNeXt(nn.Module):
    def __init__(self, dim: int, kernel: int = 7):
        super().__init__()
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pw = nn.Sequential(nn.Linear(dim, 3 * dim), nn.GELU(), nn.Linear(3 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, dim, F]
        y = self.dw(x).transpose(1, 2)
        return x + self.pw(self.norm(y)).transpose(1, 2)


class ISTFTHead(nn.Module):
    """[B, F, 2K] (log-magnitude, phase) -> waveform [B, F * hop] matching a centred STFT."""

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        ang = dft_angles(n_fft)  # [K, N]
        win = torch.hann_window(n_fft, dtype=torch.float64)
        cos_b, sin_b, eye = self._kernels(torch.cos(ang), torch.sin(ang), win)
        self.register_buffer("cos_b", cos_b, persistent=False)
        self.register_buffer("sin_b", sin_b, persistent=False)
        self.register_buffer("eye", eye, persistent=False)  # [N, 1, N]
        self.register_buffer("win_sq", (win**2).float().view(1, 1, -1), persistent=False)

    def _kernels(self, cos: torch.Tensor, sin: torch.Tensor,
                 win: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """float64 cos, sin [K, N] and window [N] -> the synthesis matrices cos_b, sin_b [K, N] (one-sided
        bins doubled, 1/N, the window folded in) and the overlap-add's identity kernel [N, 1, N], float32."""
        n = torch.arange(self.n_fft, dtype=torch.int64)
        f = n[: self.n_fft // 2 + 1]
        w = 2.0 - ((f == 0) | (2 * f == self.n_fft)).to(torch.float64)  # DC and Nyquist once, the rest twice
        cos_b = (w[:, None] * cos / self.n_fft * win).float()
        sin_b = (-w[:, None] * sin / self.n_fft * win).float()
        eye = (n[:, None] == n[None]).float().unsqueeze(1)
        return cos_b, sin_b, eye

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if torch.compiler.is_exporting():  # built in the graph, not stored in it (see the module's docstring)
            cos_b, sin_b, eye = self._kernels(*dft_bases(self.n_fft))
        else:
            cos_b, sin_b, eye = self.cos_b, self.sin_b, self.eye
        logmag, phase = spec.chunk(2, dim=-1)  # 2 x [B, F, K]
        mag = torch.exp(logmag.clamp(max=6.0))
        frames = (mag * torch.cos(phase)) @ cos_b + (mag * torch.sin(phase)) @ sin_b  # [B, F, N]
        y = F.conv_transpose1d(frames.transpose(1, 2), eye, stride=self.hop)  # [B, 1, (F-1)*hop + N]
        ones = torch.ones_like(frames[:, :, :1]).transpose(1, 2)  # [B, 1, F]
        env = F.conv_transpose1d(ones, self.win_sq, stride=self.hop)  # [B, 1, (F-1)*hop + N]
        pad = self.n_fft // 2
        n_out = frames.shape[1] * self.hop
        y = y[:, 0, pad : pad + n_out] / env[:, 0, pad : pad + n_out].clamp_min(0.1)
        return y  # [B, F * hop]


class Vocoder(nn.Module):
    """normalised log-mel [B, F, n_mels] -> waveform [B, F * hop]."""

    def __init__(self, n_mels: int, n_fft: int, hop: int, dim: int = 192, layers: int = 6):
        super().__init__()
        self.inp = nn.Conv1d(n_mels, dim, 7, padding=3)
        self.blocks = nn.Sequential(*[ConvNeXt(dim) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 2 * (n_fft // 2 + 1))
        self.istft = ISTFTHead(n_fft, hop)
        # (scale, shift) of the input: the identity unless restandardize() says otherwise; not saved
        self.register_buffer("input_affine", torch.tensor([1.0, 0.0]), persistent=False)

    def restandardize(self, given: tuple[float, float], trained: tuple[float, float]) -> None:
        """Take mel normalised with ``given`` (mean, std), e.g. a flow's, while the vocoder was trained on mel
        normalised with ``trained``: each input is mapped back to the log-mel and normalised as in training."""
        scale = given[1] / trained[1]
        self.input_affine = torch.tensor([scale, (given[0] - trained[0]) / trained[1]])

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        mel = mel * self.input_affine[0] + self.input_affine[1]
        x = self.blocks(self.inp(mel.transpose(1, 2)))  # [B, dim, F]
        return self.istft(self.head(self.norm(x.transpose(1, 2))))
