"""export.config: the recipes (default and recorded), and the train command's --recipe."""

import json

import numpy as np
import pytest
from tiny_training import TINY

from foleyflow.export.config import RECIPES, TrainConfig, default_library, full_band_audio, recorded_recipe


def test_the_default_recipe_is_unchanged_by_prompts():
    cfg = TrainConfig()
    assert cfg.recipe == "default" and cfg.audio.sample_rate == 16000 and cfg.flow.prompts is False
    assert cfg.data.library == "" and cfg.data.world == "impacts" and cfg.token_rate() == 25


def test_the_full_band_front_end_keeps_25_tokens_a_second_and_the_time_resolution():
    a, old = full_band_audio(), TrainConfig().audio
    assert (a.sample_rate, a.hop_length, a.n_fft, a.n_mels, a.fmax) == (48000, 480, 1920, 128, 24000.0)
    assert a.hop_length / a.sample_rate == old.hop_length / old.sample_rate  # 10 ms
    assert a.n_fft / a.sample_rate == old.n_fft / old.sample_rate  # 40 ms
    assert a.frames_per_token == old.frames_per_token and recorded_recipe().token_rate() == 25


def test_the_recorded_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("FOLEYFLOW_CACHE", str(tmp_path))
    assert default_library() == str(tmp_path / "library")
    cfg = RECIPES["recorded"]()
    assert cfg.recipe == "recorded" and cfg.audio == full_band_audio()
    assert cfg.data.world == "recorded" and cfg.data.library == str(tmp_path / "library")
    assert cfg.flow.prompts is True and cfg.flow.prompt_category == cfg.flow.prompt_reference == 0.35
    assert (cfg.flow.steps, cfg.vocoder.steps) == (6000, 1500)  # sized to the 2.5 h budget at 48 kHz
    assert (cfg.data.quiet, cfg.data.augment) == (0.25, 0.5)  # silent motion; other cameras and palettes
    assert cfg.flow.envelope == "stage" and not cfg.flow.finetune_video and cfg.flow.cluster_weight == 0.0
    assert cfg.flow.prompt_guidance == 20.0  # the prompt guided on its own scale (chosen on val clips)
    assert cfg.distill.prompt_guidance_max >= cfg.flow.prompt_guidance  # a student learns the scale it is run at
    assert cfg.align == TrainConfig().align and cfg.flow.dim == TrainConfig().flow.dim  # the rest: default
    assert recorded_recipe("/lib").data.library == "/lib"
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_an_optional_number_is_set_and_unset_from_the_command_line():
    cfg = TrainConfig()
    assert cfg.flow.prompt_guidance is None  # unset: prompted takes use the guidance
    assert cfg.override(["flow.prompt_guidance=6.5"]).flow.prompt_guidance == 6.5
    assert cfg.override(["flow.prompt_guidance=none"]).flow.prompt_guidance is None
    with pytest.raises(ValueError):
        cfg.override(["flow.prompt_guidance=loud"])


def test_a_config_saved_before_recipes_and_prompts_is_the_default_recipe():
    d = TrainConfig().to_dict()
    del d["recipe"]
    for k in ("prompts", "prompt_dim", "prompt_category", "prompt_reference", "prompt_seconds",
              "prompt_train_encoder"):
        del d["flow"][k]
    cfg = TrainConfig.from_dict(d)
    assert cfg.recipe == "default" and cfg.flow.prompts is False


def test_the_train_command_starts_a_workdir_from_a_recipe_and_keeps_it(tmp_path, monkeypatch):
    from foleyflow.export import cli, train

    seen = []
    monkeypatch.setitem(train.STAGES, "flow", lambda cfg, workdir: seen.append(cfg))
    monkeypatch.setenv("FOLEYFLOW_CACHE", str(tmp_path / "cache"))
    wd = tmp_path / "wd"
    assert cli.main(["train", "--workdir", str(wd), "--stage", "flow", "--recipe", "recorded"]) == 0
    assert seen[-1].recipe == "recorded" and seen[-1].audio.sample_rate == 48000 and seen[-1].flow.prompts
    saved = json.loads((wd / "config.json").read_text())
    assert saved["recipe"] == "recorded" and saved["data"]["library"] == str(tmp_path / "cache" / "library")
    assert cli.main(["train", "--workdir", str(wd), "--stage", "flow"]) == 0  # resumes as it started
    assert seen[-1].recipe == "recorded" and len(seen) == 2
    assert cli.main(["train", "--workdir", str(wd), "--stage", "flow", "--recipe", "default"]) == 2
    assert len(seen) == 2


@pytest.mark.slow
def test_the_recorded_recipe_trains_a_48_khz_model_the_runtime_runs_with_prompts(tmp_path):
    """Every stage of the recorded recipe for a few steps (tiny sizes, a tiny library), exported, loaded
    and run at 48 kHz (no resampling) with each kind of prompt."""
    from tiny_prompts import write_library

    from foleyflow.export.onnx_export import export_package
    from foleyflow.export.train import STAGES
    from foleyflow.runtime.generate import frames_needed, generate_audio, upsample_factor
    from foleyflow.runtime.prompt import CategoryPrompt, ReferencePrompt
    from foleyflow.runtime.session import FoleyModel

    lib = write_library(tmp_path / "library", per_category=6, rate=48000)
    cfg = recorded_recipe(str(lib)).override([
        *TINY, "data.n_train=4", "data.duration=2.0", "vocoder.crop_frames=50", "flow.prompt_dim=16",
        "flow.prompt_seconds=0.48", "envelope.steps=2", "envelope.batch_size=2", "envelope.clusters=4"])
    for stage in ("data", "audio_mae", "video_mae", "align", "envelope", "flow", "vocoder"):
        STAGES[stage](cfg, tmp_path)
    assert (tmp_path / "cache" / "train_quiet.npz").exists() and (tmp_path / "envelope_masked.pt").exists()
    spec = export_package(tmp_path, tmp_path / "package", name="tiny-recorded")
    assert (spec.sample_rate, spec.hop_length, spec.n_mels, spec.token_dim) == (48000, 480, 128, 512)
    assert spec.prompt_samples == 12 * 1920 and spec.vocabulary and spec.training["world"] == "recorded"
    m = FoleyModel.load(tmp_path / "package", provider="cpu")
    assert upsample_factor(m.spec) == 1
    n = 48000 * 3 + 17
    frames = [np.full((32, 32, 3), 40 * (k % 5), np.uint8) for k in range(frames_needed(m.spec, n))]
    hit = np.random.default_rng(0).standard_normal(9000).astype(np.float32) * np.exp(-np.arange(9000) / 900)
    for prompt in (None, CategoryPrompt(spec.vocabulary[0]), ReferencePrompt(hit)):
        y = np.concatenate(list(generate_audio(m, frames, n, steps=2, prompt=prompt)))
        assert y.shape == (n,) and np.all(np.isfinite(y))
