"""Transformer pieces shared by the encoders, the alignment heads and the flow.

Attention is written with plain matmuls (no nn.MultiheadAttention), so that the
ONNX exporter keeps the time axis dynamic.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, kv_dim: int | None = None):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(kv_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        ctx = x if context is None else context
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)  # [B, h, N, d/h]
        k, v = self.kv(ctx).reshape(b, ctx.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)  # 2 x [B, h, M, d/h]
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)  # [B, h, N, M]
        return self.out((att @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block, optionally with cross-attention to a context."""

    def __init__(self, dim: int, heads: int, mlp: int = 4, cross_dim: int | None = None):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.cross = None
        if cross_dim is not None:
            self.nc = nn.LayerNorm(dim)
            self.cross = Attention(dim, heads, kv_dim=cross_dim)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp * dim), nn.GELU(), nn.Linear(mlp * dim, dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.n1(x))
        if self.cross is not None:
            x = x + self.cross(self.nc(x), context)
        return x + self.mlp(self.n2(x))


class AdaLNBlock(nn.Module):
    """DiT block whose shift/scale/gate come from a per-token condition [B, N, dim]."""

    def __init__(self, dim: int, heads: int, mlp: int = 4):
        super().__init__()
        self.n1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.attn = Attention(dim, heads)
        self.n2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp * dim), nn.GELU(), nn.Linear(mlp * dim, dim))
        self.mod = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.mod[1].weight)
        nn.init.zeros_(self.mod[1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        s1, sc1, g1, s2, sc2, g2 = self.mod(c).chunk(6, dim=-1)  # 6 x [B, N, dim]
        x = x + g1 * self.attn(self.n1(x) * (1 + sc1) + s1)
        return x + g2 * self.mlp(self.n2(x) * (1 + sc2) + s2)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of flow time t in [0, 1]: [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None].float() * 1000.0 * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
