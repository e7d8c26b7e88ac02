"""export.distill: the guided few-step student of the flow."""

import shutil

import numpy as np
import pytest
import torch
from tiny_prompts import prompt_config, prompt_workdir
from tiny_student import student_workdir

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


# -- the student in a package ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def student_package():
    return student_workdir()


class Calls:
    """A model behind a wrapper that counts the rows of each velocity and student call."""

    def __init__(self, inner) -> None:
        self.inner, self.spec, self.calls = inner, inner.spec, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def velocity(self, x, *args):
        self.calls.append(("velocity", len(x)))
        return self.inner.velocity(x, *args)

    def student_velocity(self, x, t, cond, ctx, ctx_mask, scales, *prompt):
        self.calls.append(("student", len(x), scales.tolist()))
        return self.inner.student_velocity(x, t, cond, ctx, ctx_mask, scales, *prompt)


def _frames(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(n)]


def test_the_package_defaults_to_the_student_and_keeps_the_teacher(student_package):
    from foleyflow.runtime.generate import frames_needed, generate_audio, generate_variations
    from foleyflow.runtime.prompt import CategoryPrompt
    from foleyflow.runtime.session import FoleyModel

    model = FoleyModel.load(student_package / "package", provider="cpu")
    spec = model.spec
    assert (spec.sampler, spec.student_steps, spec.default_steps) == ("student", 2, 8)
    assert spec.graphs["student"].inputs[-1].name == "scales" and spec.training["parity_max_abs_diff"]["student"] < 1e-4
    n = 48000 * 3
    frames = _frames(frames_needed(spec, n))
    rec = Calls(model)
    cat = CategoryPrompt(spec.vocabulary[0])
    take = np.concatenate(list(generate_variations(rec, frames, n, (1, 2), guidance=3.0, prompt=cat,
                                                   prompt_guidance=6.0)), axis=1)
    segments = len(rec.calls) // 2  # 2 steps a segment
    assert segments >= 1 and len(rec.calls) == 2 * segments and take.shape == (2, n) and np.isfinite(take).all()
    assert all(c[0] == "student" and c[1] == 2 and c[2] == [[3.0, 6.0, 0.5]] * 2 for c in rec.calls)  # V rows
    rec.calls.clear()
    teacher = np.concatenate(list(generate_audio(rec, frames, n, seed=1, sampler="teacher", guidance=3.0,
                                                 prompt=cat)))
    assert rec.calls and all(c == ("velocity", 2) for c in rec.calls) and len(rec.calls) == 8 * segments
    assert np.abs(teacher - take[0]).max() > 1e-4  # another sampler, another take
    with pytest.raises(ValueError, match="Euler on the uniform grid"):
        list(generate_audio(model, frames, n, solver="heun"))


def test_the_student_runs_the_same_in_onnx_runtime_and_pytorch(student_package):
    from foleyflow.export.torch_backend import TorchModel
    from foleyflow.runtime.generate import frames_needed, generate_audio
    from foleyflow.runtime.session import FoleyModel

    model = FoleyModel.load(student_package / "package", provider="cpu")
    twin = TorchModel.load(student_package, student_package / "package")
    n = 48000 * 2
    frames = _frames(frames_needed(model.spec, n))
    a = np.concatenate(list(generate_audio(model, frames, n, seed=4)))
    b = np.concatenate(list(generate_audio(twin, frames, n, seed=4)))
    assert np.abs(a - b).max() < 1e-3


def test_a_package_without_a_student_refuses_the_student_sampler(student_package):
    from foleyflow.runtime.generate import frames_needed, generate_audio
    from foleyflow.runtime.session import FoleyModel

    model = FoleyModel.load(student_package / "teacher_only", provider="cpu")
    assert model.spec.sampler == "teacher" and model.spec.student_steps == 0 and "student" not in model.spec.graphs
    with pytest.raises(ValueError, match="has no student sampler"):
        list(generate_audio(model, _frames(frames_needed(model.spec, 4800)), 4800, sampler="student"))
    with pytest.raises(ValueError, match="expected one of teacher, student"):
        list(generate_audio(model, _frames(frames_needed(model.spec, 4800)), 4800, sampler="fast"))


def test_a_variant_of_a_student_package_converts_and_checks_the_student(student_package, tmp_path):
    from foleyflow.export.variants import make_variant

    report = make_variant(student_package / "package", "fp16", tmp_path / "fp16")
    assert "student" in report.graph_rel_err and report.graph_rel_err["student"] < 0.05


def test_take_keys_and_steps_of_a_package_with_two_samplers(student_package):
    from foleyflow.plugin.generate import GenerateOptions
    from foleyflow.plugin.takekey import ModelIdentity

    ident = ModelIdentity.read(student_package / "package")
    assert (ident.student_steps, ident.default_sampler) == (2, "student")
    assert ident.steps(GenerateOptions()) == 2 and ident.steps(GenerateOptions(sampler="teacher")) == 8
    assert ident.steps(GenerateOptions(sampler="teacher", steps=3)) == 3
    ident.check_sampler(GenerateOptions(sampler="student"))  # it has one
    plain = ModelIdentity.read(student_package / "teacher_only")
    assert plain.steps(GenerateOptions()) == 8 and plain.student_steps == 0


def test_the_train_command_runs_the_distill_stage_and_names_an_unknown_one(tmp_path, caplog):
    from tiny_prompts import PROMPT
    from tiny_training import TINY

    from foleyflow.export.cli import main

    workdir = tmp_path / "w"
    shutil.copytree(prompt_workdir(), workdir)
    sets = [a for s in (*TINY, *PROMPT, "distill.steps=3", "distill.batch_size=2") for a in ("--set", s)]
    assert main(["train", "--workdir", str(workdir), "--stage", "distill", *sets]) == 0
    assert load_checkpoint(workdir / f"{student_name('masked', True)}.pt")["step"] == 3
    assert main(["train", "--workdir", str(workdir), "--stage", "distil", *sets]) == 2
    assert "no stage distil" in caplog.text
