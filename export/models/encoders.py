"""Unimodal encoders and the heads that pretrain and align them.

VideoEncoder: per-frame CNN stem over (frame, frame difference) + temporal transformer.
AudioEncoder: transformer over log-mel tokens (frames_per_token mel frames each).
Heads: video/audio masked autoencoding (pretraining), masked audio-visual alignment
(recover masked audio spans from visible audio + video of the same time, the paper's
core) and the contrastive (InfoNCE) alignment baseline.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import Block

VIDEO_POOLS = ("flat", "attention")


class VideoEncoder(nn.Module):
    """frames [B, T, 3, S, S] in [0, 1] -> per-frame features [B, T, dim].

    ``pool="flat"``: the stem's S/8 map is flattened into one linear layer (where things are, by
    position). ``pool="attention"`` adds a position-free branch over the S/4 map: a learned
    attention-weighted mean and a max over its cells, so a small object's look reads the same
    wherever it is in the frame (scripts/material_probe.py: it reads the material better).
    """

    def __init__(self, frame_size: int = 32, dim: int = 128, layers: int = 2, heads: int = 4, max_len: int = 256,
                 pool: str = "flat"):
        super().__init__()
        if pool not in VIDEO_POOLS:
            raise ValueError(f"unknown video pool {pool!r}; expected one of {VIDEO_POOLS}")
        self.frame_size, self.pool = frame_size, pool
        self.stem = nn.Sequential(  # (frame, difference) 6ch S -> S/8
            nn.Conv2d(6, 24, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(24, 48, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(48, 96, 3, stride=2, padding=1), nn.GELU(),
        )
        self.proj = nn.Linear(96 * (frame_size // 8) ** 2, dim)
        if pool == "attention":
            self.att = nn.Conv2d(48, 1, 1)  # where on the S/4 map to look
            self.pooled = nn.Linear(2 * 48, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.pos, std=0.02)

    def stem_features(self, frames: torch.Tensor) -> torch.Tensor:
        b, t = frames.shape[:2]
        prev = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
        x = torch.cat([frames, frames - prev], dim=2)  # [B, T, 6, S, S]
        if self.pool == "flat":
            x = self.stem(x.reshape(b * t, *x.shape[2:]))  # [B*T, 96, S/8, S/8]
            return self.proj(x.reshape(b, t, -1))  # [B, T, dim]
        mid = self.stem[:4](x.reshape(b * t, *x.shape[2:]))  # [B*T, 48, S/4, S/4]
        x = self.stem[4:](mid)  # [B*T, 96, S/8, S/8]
        w = torch.softmax(self.att(mid).flatten(1), dim=-1)  # [B*T, cells]
        cells = mid.flatten(2)  # [B*T, 48, cells]
        g = torch.cat([(cells * w[:, None]).sum(-1), cells.amax(-1)], dim=-1)  # [B*T, 96]
        return self.proj(x.reshape(b, t, -1)) + self.pooled(g).reshape(b, t, -1)

    def forward(self, frames: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.stem_features(frames)
        if mask is not None:  # [B, T] bool, True = hidden
            x = torch.where(mask[..., None], self.mask_token.expand_as(x), x)
        x = x + self.pos[:, : x.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class AudioEncoder(nn.Module):
    """normalised log-mel tokens [B, N, P] -> features [B, N, dim]."""

    def __init__(self, token_dim: int, dim: int = 128, layers: int = 3, heads: int = 4, max_len: int = 256):
        super().__init__()
        self.inp = nn.Linear(token_dim, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.inp(tokens)
        if mask is not None:
            x = torch.where(mask[..., None], self.mask_token.expand_as(x), x)
        x = x + self.pos[:, : x.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def span_mask(b: int, n: int, ratio: float, span: int, generator: torch.Generator | None = None,
              hide_all: float = 0.0) -> torch.Tensor:
    """Boolean [B, N] mask hiding about `ratio` of tokens in contiguous spans of `span` tokens.

    With probability ``hide_all`` a row hides every token: then only the video can say what sounds.
    """
    n_spans = (n + span - 1) // span
    keep = torch.rand(b, n_spans, generator=generator) >= ratio  # [B, n_spans]
    if hide_all > 0:
        keep &= (torch.rand(b, 1, generator=generator) >= hide_all)
    return (~keep).repeat_interleave(span, dim=1)[:, :n]


class VideoMAEHead(nn.Module):
    """Reconstruct hidden frames (16x16 colour + grey frame difference) from the visible ones.

    Colour is part of the target: an object's look is what tells its material (and so its
    timbre); a grey target let pretraining throw it away.
    """

    def __init__(self, dim: int, frame_size: int):
        super().__init__()
        self.out = nn.Linear(dim, 4 * 16 * 16)
        self.frame_size = frame_size

    @staticmethod
    def target(frames: torch.Tensor) -> torch.Tensor:
        b, t = frames.shape[:2]
        rgb = F.adaptive_avg_pool2d(frames.reshape(b * t, 3, *frames.shape[3:]), 16).reshape(b, t, 3, 256)
        grey = rgb.mean(dim=2)  # [B, T, 256]
        diff = grey - torch.cat([grey[:, :1], grey[:, :-1]], dim=1)
        return torch.cat([rgb.reshape(b, t, 768), 8.0 * diff], dim=-1)  # [B, T, 1024]

    def loss(self, feats: torch.Tensor, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        err = (self.out(feats) - self.target(frames)).pow(2).mean(-1)  # [B, T]
        return (err * mask).sum() / mask.sum().clamp_min(1)


class AudioMAEHead(nn.Module):
    def __init__(self, dim: int, token_dim: int):
        super().__init__()
        self.out = nn.Linear(dim, token_dim)

    def loss(self, feats: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        err = (self.out(feats) - tokens).pow(2).mean(-1)
        return (err * mask).sum() / mask.sum().clamp_min(1)


class MaskedAlignmentHead(nn.Module):
    """Recover masked audio tokens from the visible audio plus the video of the same span.

    A small decoder over the audio encoder's output cross-attends to the video
    features; the video encoder is trained through it, so its per-frame features must
    say *when* and *what* sounds.
    """

    def __init__(self, dim: int, token_dim: int, layers: int = 2, heads: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, heads, cross_dim=dim) for _ in range(layers)])
        self.vid_in = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, token_dim)

    def loss(self, audio_feats: torch.Tensor, video_feats: torch.Tensor, tokens: torch.Tensor,
             mask: torch.Tensor) -> torch.Tensor:
        x = audio_feats + self.vid_in(video_feats)  # the video of the same time, added per token
        for blk in self.blocks:
            x = blk(x, video_feats)
        err = (self.out(x) - tokens).pow(2).mean(-1)  # [B, N]
        return (err * mask).sum() / mask.sum().clamp_min(1)


class ContrastiveHead(nn.Module):
    """InfoNCE between pooled audio and video clips (the baseline the paper compares against)."""

    def __init__(self, dim: int, temperature: float = 0.07):
        super().__init__()
        self.a = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.temperature = temperature

    def loss(self, audio_feats: torch.Tensor, video_feats: torch.Tensor) -> torch.Tensor:
        a = F.normalize(self.a(audio_feats.mean(1)), dim=-1)
        v = F.normalize(self.v(video_feats.mean(1)), dim=-1)
        logits = a @ v.t() / self.temperature
        labels = torch.arange(len(a), device=a.device)
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))
