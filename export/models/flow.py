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
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import AdaLNBlock, timestep_embedding


class VelocityNet(nn.Module):
    def __init__(self, token_dim: int, cond_dim: int, dim: int = 192, layers: int = 4, heads: int = 6,
                 max_len: int = 128, dynamic: bool = True, prompt_dim: int = 0):
        super().__init__()
        self.dim, self.dynamic, self.prompt_dim = dim, dynamic, prompt_dim
        self.inp = nn.Linear(2 * token_dim + 1, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        self.t_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.null = nn.Parameter(torch.zeros(1, 1, cond_dim))
        self.cond_glob = nn.Linear(cond_dim, dim)
        self.cond_tok = nn.Conv1d(cond_dim, dim, 3, padding=1)
        if prompt_dim > 0:
            self.prompt_in = nn.Linear(prompt_dim, dim)
            self.prompt_null = nn.Parameter(torch.zeros(1, dim))  # the learned "no prompt" state
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
                prompt_on: torch.Tensor | None = None) -> torch.Tensor:
        u = uncond[:, None, None]  # [B, 1, 1]
        cond = cond * (1 - u) + self.null * u  # [B, N, D]
        h = self.inp(torch.cat([x, ctx * ctx_mask, ctx_mask], dim=-1))  # [B, N, dim]
        h = h + self.pos[:, : x.shape[1]]
        c = self.t_mlp(timestep_embedding(t, self.dim))[:, None] + self.cond_glob(cond.mean(dim=1))[:, None]
        if self.prompt_dim > 0:
            if prompt is None or prompt_on is None:  # auto
                prompt, prompt_on = x.new_zeros(x.shape[0], self.prompt_dim), x.new_zeros(x.shape[0])
            on = (prompt_on * (1 - uncond))[:, None]  # [B, 1]: uncond drops the prompt too
            c = c + (self.prompt_in(prompt) * on + self.prompt_null * (1 - on))[:, None]  # [B, 1, dim]
        if self.dynamic:
            c = c + self.cond_tok(cond.transpose(1, 2)).transpose(1, 2)  # [B, N, dim], per token
        for blk in self.blocks:
            h = blk(h, c)
        shift, scale = self.final_mod(c).chunk(2, dim=-1)
        return self.out(self.norm(h) * (1 + scale) + shift)  # [B, N, P]
