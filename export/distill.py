"""The distill stage: a guided few-step student of the trained flow (issue 20).

The teacher (the flow stage's network, frozen) samples a take in ``teacher_steps`` Euler steps, each a
guided batch: 2 rows (video and prompt, neither) or 3 with a prompt guided on its own (runtime.stream).
The student (:class:`export.models.flow.VelocityNet` with ``student=True``, initialised from the teacher)
takes the guidance g, the prompt's scale g_p and the step size dt as inputs (guidance distillation: a step
is a batch of one row) and, for dt above the teacher's step, predicts the average velocity over dt
(shortcut models, Frans et al. 2024): the target for dt is the mean of the student's own two steps of
dt / 2 (self-consistency, without gradient), and for the teacher's step dt_0 = 1 / teacher_steps the
teacher's guided velocity. So the student's 1, 2, 4 ... steps follow what the teacher's ``teacher_steps``
guided steps make, at a fraction of the calls.

Each training step trains one level: the teacher's (``teacher_share`` of the steps) or a shortcut level
dt = 2^j dt_0 (j >= 1) drawn uniformly; t lies on that level's uniform grid (the run-time sampler's).
The student trains on the frozen video features and the teacher's frozen loudness head and prompt
modules; nothing else changes, and the package keeps the teacher for the quality setting.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import TrainConfig
from .models.flow import VelocityNet
from .prompts import build_prompt_data, category_table, precompute_features, prompt_batch, prompt_encoder
from .train import (
    _encoders,
    _train_set,
    dist_info,
    envelope_name,
    flow_name,
    load_checkpoint,
    run_stage,
    token_batch,
    video_features,
    wrap,
)

log = logging.getLogger(__name__)


def student_name(align: str, dynamic: bool) -> str:
    return "student_" + flow_name(align, dynamic)


def velocity_net(cfg: TrainConfig, student: bool = False) -> VelocityNet:
    """The flow stage's network for ``cfg`` (a student with ``student``)."""
    fc, a = cfg.flow, cfg.audio
    return VelocityNet(a.frames_per_token * a.n_mels, cfg.encoder.dim, fc.dim, fc.layers, fc.heads,
                       dynamic=fc.dynamic, prompt_dim=fc.prompt_dim if fc.prompts else 0,
                       envelope=bool(fc.envelope), frames_per_token=a.frames_per_token, student=student)


def levels(teacher_steps: int) -> list[float]:
    """The step sizes a student learns: 1 / teacher_steps, doubled up to 1 (teacher_steps a power of two)."""
    j = int(round(math.log2(teacher_steps)))
    if teacher_steps < 1 or 2**j != teacher_steps:
        raise ValueError(f"distill.teacher_steps={teacher_steps}: a power of two (the shortcut levels halve)")
    return [2.0**i / teacher_steps for i in range(j + 1)]


def guided(net: nn.Module, xt: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, ctx: torch.Tensor,
           ctx_mask: torch.Tensor, pvec: torch.Tensor | None, on: torch.Tensor | None, g: torch.Tensor,
           gp: torch.Tensor) -> torch.Tensor:
    """The teacher's guided velocity, as runtime.stream forms it: one batch of 3B rows (video and prompt,
    video alone, neither); v_none + g (v_auto - v_none) + g_p (v_prompt - v_auto). Without prompts (``pvec``
    None) the prompt row and the auto row are the same: v_none + g (v_cond - v_none)."""
    b = xt.shape[0]
    three = lambda a: torch.cat([a, a, a])  # noqa: E731
    unc = torch.cat([torch.zeros(2 * b), torch.ones(b)])
    if pvec is None:
        v = net(three(xt), three(t), three(cond), three(ctx), three(ctx_mask), unc)
    else:
        assert on is not None
        on3 = torch.cat([on, torch.zeros(2 * b)])
        v = net(three(xt), three(t), three(cond), three(ctx), three(ctx_mask), unc, three(pvec), on3)
    v_prompt, v_auto, v_none = v[:b], v[b : 2 * b], v[2 * b :]
    return v_none + g[:, None, None] * (v_auto - v_none) + gp[:, None, None] * (v_prompt - v_auto)


def stage_distill(cfg: TrainConfig, workdir: Path) -> None:
    dc, fc, align = cfg.distill, cfg.flow, cfg.align.method
    teacher_path = workdir / f"{flow_name(align, fc.dynamic)}.pt"
    if not teacher_path.exists():
        raise FileNotFoundError(f"{teacher_path}: the distill stage needs the flow stage's teacher first "
                                "(--stage flow)")
    data, stats = _train_set(cfg, workdir)
    _, world = dist_info()
    teacher_state = load_checkpoint(teacher_path)["model"]
    source = envelope_name(align) if fc.envelope == "stage" else f"align_{align}"
    feats_path = workdir / f"feats_{source}.npy"
    feats = np.load(feats_path) if feats_path.exists() and not fc.finetune_video else None
    if feats is None or len(feats) != len(data):  # the features the teacher's flow was trained on
        venc = _encoders(cfg)[0]
        venc.load_state_dict(teacher_state["video"] if fc.finetune_video else
                             load_checkpoint(workdir / f"{source}.pt")["model"]["video"])
        feats = video_features(venc.eval(), data)
    teacher = velocity_net(cfg).eval()
    teacher.load_state_dict(teacher_state["net"])
    teacher.requires_grad_(False)
    student = velocity_net(cfg, student=True)
    missing, unexpected = student.load_state_dict(teacher_state["net"], strict=False)
    if unexpected or any(not k.startswith("scale_mlp.") for k in missing):
        raise ValueError(f"{teacher_path}: the teacher's network does not fit the student ({missing, unexpected})")
    if fc.envelope:
        student.env_head.requires_grad_(False)  # the teacher's head, on the same frozen features
    student_w = wrap(student, world)
    prompts = table = encoder = None
    if fc.prompts:
        prompts = build_prompt_data(cfg, data)
        table = category_table(cfg, len(prompts.vocabulary))
        table.load_state_dict(teacher_state["prompt_table"])
        encoder = prompt_encoder(cfg, stats)
        encoder.load_state_dict(teacher_state["prompt_encoder"])
        for m in (table, encoder):
            m.eval().requires_grad_(False)
        precompute_features(prompts, encoder)
    k = cfg.audio.frames_per_token
    dts = levels(dc.teacher_steps)
    max_prefix = int(data.mel.shape[1] // k) - 1

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        b = dc.batch_size
        idx = rng.integers(0, len(data), b)
        x1 = token_batch(data, idx, stats, k)  # [B, N, P]
        cond = torch.from_numpy(feats[idx])  # [B, N, D]
        n = x1.shape[1]
        lengths = np.where(rng.random(b) < fc.prefix_prob, rng.integers(1, max(2, min(max_prefix, 3 * n // 4)), b), 0)
        ctx_mask = (torch.arange(n)[None] < torch.from_numpy(lengths)[:, None]).float()[..., None]  # [B, N, 1]
        g = torch.from_numpy(rng.uniform(dc.guidance_min, dc.guidance_max, b).astype(np.float32))
        gp = g.clone()
        pvec = on = None
        if prompts is not None:
            kinds, cats, refs = prompts.choose(rng, idx, fc.prompt_category, fc.prompt_reference)
            with torch.no_grad():
                pvec, on = prompt_batch(prompts, kinds, cats, refs, data, table, encoder, cfg)
            own = torch.from_numpy((rng.random(b) < dc.prompt_guidance_share).astype(np.float32)) * on
            gp_own = torch.from_numpy(rng.uniform(dc.guidance_min, dc.prompt_guidance_max, b).astype(np.float32))
            gp = own * gp_own + (1 - own) * g  # a prompted row: its own scale or the guidance; auto: the guidance
        level = 0 if rng.random() < dc.teacher_share else int(rng.integers(1, len(dts)))
        dt = dts[level]
        t = torch.from_numpy((rng.integers(0, round(1 / dt), b) * dt).astype(np.float32))  # on the level's grid
        noise = torch.randn_like(x1)
        xt = (1 - t[:, None, None]) * noise + t[:, None, None] * x1
        zeros = torch.zeros(b)

        def student_v(x: torch.Tensor, tt: torch.Tensor, d: float) -> torch.Tensor:
            scales = torch.stack([g, gp, torch.full((b,), d)], dim=-1)
            return student_w(x, tt, cond, x1, ctx_mask, zeros, pvec, on, None, scales)

        with torch.no_grad():
            if level == 0:
                target = guided(teacher, xt, t, cond, x1, ctx_mask, pvec, on, g, gp)
            else:  # two half steps of the student's own
                half = dt / 2
                v1 = student_v(xt, t, half)
                v2 = student_v(xt + half * v1, t + half, half)
                target = (v1 + v2) / 2
        w = 1 - ctx_mask
        return ((student_v(xt, t, dt) - target).pow(2) * w).sum() / (w.sum() * x1.shape[-1])

    run_stage(student_name(align, fc.dynamic), {"net": student_w}, loss_fn, dc, cfg, workdir,
              {"mel_stats": list(stats), "align": align, "teacher": teacher_path.name,
               "teacher_steps": dc.teacher_steps, "levels": dts})
