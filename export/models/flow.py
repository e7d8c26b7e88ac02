"""The dynamic conditional flow: a transformer that predicts the velocity of a rectified flow.

x_t = (1 - t) * noise + t * x1 moves from noise (t=0) to normalised mel tokens (t=1);
the network predicts v = x1 - noise. Its condition is *dynamic*: every audio token
gets the aligned video feature of its own time (per-token adaLN), plus a pooled
global feature. ``dynamic=False`` keeps only the pooled feature: the global-only
baseline. ``uncond`` swaps the video for a learned null condition (classifier-free
guidance); ``ctx``/``ctx_mask`` give known tokens (masked-prefix infilling), so a
streaming sampler can continue the previous segment.

Sound prompts (``prompt_dim`` E > 0): a prompt vector [B, E] (a category's row of the learned
table, or a reference recording through the prompt encoder, export.models.prompt) is projected
and added to the global condition, so it reaches every token's adaLN; ``prompt_on`` 0 swaps it
for a learned "no prompt" state (auto: the picture decides), and so does ``uncond`` (classifier-free
guidance drops the video and the prompt together, as condition dropout trains it).

The loudness envelope (``envelope`` True, Video-Foley's RMS condition, learned end to end): a head reads
from each token's video feature the loudness of its ``frames_per_token`` mel frames (the mean of the
normalised log-mel over the bands, the target ``loudness_target`` gives it in training) and the
envelope conditions that token's adaLN. The flow then only has to voice a loudness it is told, which
is a simpler, sharper map than voicing the video feature itself: a hit's sound follows one bump of the
envelope instead of being guessed from the look. Training may pass the true envelope (``env``) on some
examples so the flow learns to follow it; at run time the head's own estimate is used (``env`` None),
so the exported graph's inputs are those of a flow without it.

A guided few-step student (``student`` True, export.distill): the same network with three more scalar
inputs per row, the guidance scale g, the prompt's own scale g_p and the step size dt, embedded and added
to the global condition (zero-initialised, so a student starts as its teacher's conditioned velocity). It
predicts in one row what the teacher's guided batch gives (``uncond`` stays 0), and with dt > the teacher's
step the average velocity over dt (a shortcut model's self-consistency), so a take is 1 to 4 calls of V rows.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import AdaLNBlock, timestep_embedding


class VelocityNet(nn.Module):
    def __init__(self, token_dim: int, cond_dim: int, dim: int = 192, layers: int = 4, heads: int = 6,
                 max_len: int = 128, dynamic: bool = True, prompt_dim: int = 0, envelope: bool = False,
                 frames_per_token: int = 4, student: bool = False):
        super().__init__()
        self.dim, self.dynamic, self.prompt_dim, self.envelope = dim, dynamic, prompt_dim, envelope
        self.student = student
        self.inp = nn.Linear(2 * token_dim + 1, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        self.t_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.null = nn.Parameter(torch.zeros(1, 1, cond_dim))
        self.cond_glob = nn.Linear(cond_dim, dim)
        self.cond_tok = nn.Conv1d(cond_dim, dim, 3, padding=1)
        if prompt_dim > 0:
            self.prompt_in = nn.Linear(prompt_dim, dim)
            self.prompt_null = nn.Parameter(torch.zeros(1, dim))  # the learned "no prompt" state
        if envelope:
            self.env_head = LoudnessHead(cond_dim, frames_per_token)
            self.env_in = nn.Sequential(nn.Linear(frames_per_token, dim), nn.SiLU(), nn.Linear(dim, dim))
        if student:  # (g, g_p, dt) -> the global condition; zero-initialised: the teacher's conditioned velocity
            self.scale_mlp = nn.Sequential(nn.Linear(3 * dim, dim), nn.SiLU(), nn.Linear(dim, dim))
            nn.init.zeros_(self.scale_mlp[2].weight)
            nn.init.zeros_(self.scale_mlp[2].bias)
        self.blocks = nn.ModuleList([AdaLNBlock(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.final_mod = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.out = nn.Linear(dim, token_dim)
        nn.init.normal_(self.pos, std=0.02)
        for m in (self.final_mod[1], self.out):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, ctx: torch.Tensor,
                ctx_mask: torch.Tensor, uncond: torch.Tensor, prompt: torch.Tensor | None = None,
                prompt_on: torch.Tensor | None = None, env: torch.Tensor | None = None,
                scales: torch.Tensor | None = None) -> torch.Tensor:
        """``scales`` [B, 3] (a student only): each row's guidance, prompt guidance and step size."""
        cond = self.conditioned(cond, uncond)  # [B, N, D]
        h = self.inp(torch.cat([x, ctx * ctx_mask, ctx_mask], dim=-1))  # [B, N, dim]
        h = h + self.pos[:, : x.shape[1]]
        c = self.t_mlp(timestep_embedding(t, self.dim))[:, None] + self.cond_glob(cond.mean(dim=1))[:, None]
        if self.prompt_dim > 0:
            if prompt is None or prompt_on is None:  # auto
                prompt, prompt_on = x.new_zeros(x.shape[0], self.prompt_dim), x.new_zeros(x.shape[0])
            on = (prompt_on * (1 - uncond))[:, None]  # [B, 1]: uncond drops the prompt too
            c = c + (self.prompt_in(prompt) * on + self.prompt_null * (1 - on))[:, None]  # [B, 1, dim]
        if self.student:
            if scales is None:
                raise ValueError("a guided student needs its scales (guidance, prompt guidance, dt) [B, 3]")
            c = c + self.scale_mlp(scale_embedding(scales, self.dim))[:, None]  # [B, 1, dim]
        if self.dynamic:
            c = c + self.cond_tok(cond.transpose(1, 2)).transpose(1, 2)  # [B, N, dim], per token
        if self.envelope:
            c = c + self.env_in(self.loudness(cond) if env is None else env)  # [B, N, dim], per token
        for blk in self.blocks:
            h = blk(h, c)
        shift, scale = self.final_mod(c).chunk(2, dim=-1)
        return self.out(self.norm(h) * (1 + scale) + shift)  # [B, N, P]

    def conditioned(self, cond: torch.Tensor, uncond: torch.Tensor) -> torch.Tensor:
        """Video features [B, N, D] with the rows where ``uncond`` [B] is 1 swapped for the learned null."""
        u = uncond[:, None, None]  # [B, 1, 1]
        return cond * (1 - u) + self.null * u

    def loudness(self, cond: torch.Tensor) -> torch.Tensor:
        """The envelope the head reads from video features [B, N, D] (null-swapped ones included): [B, N, k]."""
        return self.env_head(cond)


GUIDANCE_UNIT = 10.0  # a student's guidance scales are embedded as g / this (timestep_embedding's range: [0, 1])


def scale_embedding(scales: torch.Tensor, dim: int) -> torch.Tensor:
    """[B, 3] (g, g_p, dt) -> [B, 3 * dim]: sinusoidal embeddings of g / GUIDANCE_UNIT, g_p / GUIDANCE_UNIT, dt."""
    unit = scales.new_tensor([GUIDANCE_UNIT, GUIDANCE_UNIT, 1.0])
    s = scales / unit
    return torch.cat([timestep_embedding(s[:, i], dim) for i in range(3)], dim=-1)


class LoudnessHead(nn.Module):
    """Video features [B, N, D] -> the loudness of each token's k mel frames [B, N, k]: a temporal conv of
    ``kernel`` tokens (a contact reads from the frames around it: the approach and the stop), then a
    per-token layer. Window-local, so a streaming window computes it from its own features."""

    def __init__(self, cond_dim: int, frames_per_token: int, hidden: int = 128, kernel: int = 5):
        super().__init__()
        self.conv = nn.Conv1d(cond_dim, hidden, kernel, padding=kernel // 2)
        self.out = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, frames_per_token))

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        return self.out(self.conv(cond.transpose(1, 2)).transpose(1, 2))


def loudness_target(tokens: torch.Tensor, frames_per_token: int) -> torch.Tensor:
    """Normalised log-mel tokens [B, N, k * M] (time-major) -> their frames' loudness [B, N, k]: the mean over
    the M bands."""
    b, n, p = tokens.shape
    return tokens.reshape(b, n, frames_per_token, p // frames_per_token).mean(dim=-1)
