"""export.distill: the guided few-step student of the flow."""

import shutil

import numpy as np
import pytest
import torch
from tiny_prompts import prompt_config, prompt_workdir

from foleyflow.export.distill import guided, levels, stage_distill, student_name, velocity_net
from foleyflow.export.train import flow_name, load_checkpoint


def test_the_levels_double_from_the_teachers_step_to_one():
    assert levels(8) == [0.125, 0.25, 0.5, 1.0] and levels(1) == [1.0]
    with pytest.raises(ValueError, match="power of two"):
        levels(6)


def test_the_teachers_guided_velocity_is_the_runtimes():
    """3 rows (video and prompt, video alone, neither): v_none + g (v_auto - v_none) + g_p (v_prompt - v_auto)."""

    class Parts(torch.nn.Module):  # v = x + 2 (video on) + 5 (prompt on)
        def forward(self, x, t, cond, ctx, ctx_mask, uncond, prompt=None, prompt_on=None):
            v = x + 2.0 * (1 - uncond)[:, None, None]
            return v if prompt_on is None else v + 5.0 * prompt_on[:, None, None]

    x = torch.randn(2, 3, 4)
    z = torch.zeros(2, 3, 1)
    g, gp = torch.tensor([2.0, 3.0]), torch.tensor([7.0, 3.0])
    with_prompt = guided(Parts(), x, torch.zeros(2), z, x, z, torch.ones(2, 5), torch.ones(2), g, gp)
    torch.testing.assert_close(with_prompt, x + 2.0 * g[:, None, None] + 5.0 * gp[:, None, None])
    auto = guided(Parts(), x, torch.zeros(2), z, x, z, torch.ones(2, 5), torch.zeros(2), g, gp)
    torch.testing.assert_close(auto, x + 2.0 * g[:, None, None])  # prompt off: g_p has nothing to scale
    torch.testing.assert_close(guided(Parts(), x, torch.zeros(2), z, x, z, None, None, g, gp),
                               x + 2.0 * g[:, None, None])


def test_a_new_student_is_its_teachers_conditioned_velocity():
    cfg = prompt_config()
    torch.manual_seed(0)
    teacher = velocity_net(cfg).eval()
    student = velocity_net(cfg, student=True).eval()
    missing, unexpected = student.load_state_dict(teacher.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("scale_mlp.") for k in missing)
    for p in teacher.parameters():  # the zero-initialised outputs too, so the match is not trivial
        torch.nn.init.normal_(p, std=0.05)
    student.load_state_dict(teacher.state_dict(), strict=False)
    b, n = 2, 10
    x, cond = torch.randn(b, n, teacher.out.out_features), torch.randn(b, n, cfg.encoder.dim)
    args = (x, torch.rand(b), cond, x, torch.zeros(b, n, 1), torch.zeros(b), torch.randn(b, 16), torch.ones(b))
    with torch.no_grad():
        want = teacher(*args)
        got = student(*args, None, torch.tensor([[4.5, 9.0, 0.25], [1.0, 1.0, 1.0]]))
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="needs its scales"):
        student(*args)


def _guided_error(cfg, workdir, student_state) -> float:
    """The student's squared error against the teacher's guided velocity at the teacher's step, on a fixed
    batch of the training clips (g in [3, 5], prompts on)."""
    from foleyflow.export.train import _train_set, token_batch

    data, stats = _train_set(cfg, workdir)
    state = load_checkpoint(workdir / f"{flow_name('masked', True)}.pt")["model"]
    teacher = velocity_net(cfg).eval()
    teacher.load_state_dict(state["net"])
    student = velocity_net(cfg, student=True).eval()
    student.load_state_dict(student_state, strict=False)
    gen = torch.Generator().manual_seed(3)
    idx = np.arange(len(data))
    x1 = token_batch(data, idx, stats, cfg.audio.frames_per_token)
    b, n = x1.shape[:2]
    cond = torch.from_numpy(np.load(workdir / "feats_align_masked.npy")[idx])
    t = torch.rand(b, generator=gen)
    xt = (1 - t[:, None, None]) * torch.randn(x1.shape, generator=gen) + t[:, None, None] * x1
    pvec, on = torch.randn(b, 16, generator=gen), torch.ones(b)
    g = 3 + 2 * torch.rand(b, generator=gen)
    mask = torch.zeros(b, n, 1)
    with torch.no_grad():
        target = guided(teacher, xt, t, cond, x1, mask, pvec, on, g, g)
        v = student(xt, t, cond, x1, mask, torch.zeros(b), pvec, on, None,
                    torch.stack([g, g, torch.full((b,), 0.125)], dim=-1))
    return float((v - target).pow(2).mean())


def test_the_stage_trains_a_student_toward_the_guided_teacher(tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(prompt_workdir(), workdir)
    cfg = prompt_config(("distill.steps=40", "distill.batch_size=4", "distill.lr=3e-3", "distill.warmup=1",
                         "distill.guidance_min=3", "distill.guidance_max=5", "distill.teacher_share=1.0"))
    fresh = velocity_net(cfg, student=True).state_dict()
    fresh.update(load_checkpoint(workdir / f"{flow_name('masked', True)}.pt")["model"]["net"])
    before = _guided_error(cfg, workdir, fresh)
    stage_distill(cfg, workdir)
    ck = load_checkpoint(workdir / f"{student_name('masked', True)}.pt")
    assert ck["step"] == 40 and ck["teacher_steps"] == 8 and ck["levels"] == [0.125, 0.25, 0.5, 1.0]
    after = _guided_error(cfg, workdir, ck["model"]["net"])
    assert after < 0.5 * before, (before, after)


def test_the_shortcut_levels_train_and_the_stage_needs_a_teacher(tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(prompt_workdir(), workdir)
    cfg = prompt_config(("distill.steps=6", "distill.batch_size=2", "distill.teacher_share=0.0",
                         "distill.teacher_steps=4"))
    stage_distill(cfg, workdir)
    ck = load_checkpoint(workdir / f"{student_name('masked', True)}.pt")
    assert ck["levels"] == [0.25, 0.5, 1.0] and all(torch.isfinite(v).all() for v in ck["model"]["net"].values())
    (workdir / f"{flow_name('masked', True)}.pt").unlink()
    with pytest.raises(FileNotFoundError, match="needs the flow stage"):
        stage_distill(cfg, tmp_path / "w")
