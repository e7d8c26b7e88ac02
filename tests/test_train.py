import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from tiny_training import TINY, exported_tiny, tiny_config, trained_tiny

from foleyflow.export.config import StageConfig, TrainConfig
from foleyflow.export.train import load_checkpoint, lr_at, run_stage


def test_every_stage_writes_a_weights_only_checkpoint():
    wd = trained_tiny()
    for name in ("audio_mae", "video_mae", "align_masked", "flow_masked_dynamic", "vocoder"):
        ck = torch.load(wd / f"{name}.pt", map_location="cpu", weights_only=True)
        assert ck["stage"] == name and "model" in ck and "config" in ck
    assert (wd / "cache" / "train.npz").exists()


def test_run_stage_resumes_where_it_stopped(tmp_path):
    cfg = tiny_config()
    lin = torch.nn.Linear(3, 1)
    calls, current = [], [lin]

    def loss_fn(rng, step):
        calls.append(step)
        return current[0](torch.ones(1, 3)).pow(2).sum()

    run_stage("toy", {"m": lin}, loss_fn, StageConfig(steps=3, ckpt_every=1, warmup=1), cfg, tmp_path)
    assert calls == [0, 1, 2] and load_checkpoint(tmp_path / "toy.pt")["step"] == 3
    w_before = lin.weight.detach().clone()
    lin2 = torch.nn.Linear(3, 1)
    current[0] = lin2
    calls.clear()
    run_stage("toy", {"m": lin2}, loss_fn, StageConfig(steps=5, ckpt_every=1, warmup=1), cfg, tmp_path)
    assert calls == [3, 4]  # resumed, not restarted
    assert load_checkpoint(tmp_path / "toy.pt")["step"] == 5
    assert not torch.equal(w_before, lin2.weight)  # trained on from the loaded weights


def test_lr_schedule_warms_up_then_decays():
    sc = StageConfig(steps=100, warmup=10, lr=1.0)
    lrs = [lr_at(s, sc) for s in range(100)]
    assert lrs[0] < lrs[9] == 1.0 and lrs[99] < 0.1 and all(a >= b for a, b in zip(lrs[10:], lrs[11:], strict=False))


def test_config_round_trip_and_overrides():
    cfg = TrainConfig().override(["flow.dim=64", "flow.dynamic=false", "align.method=contrastive", "seed=3"])
    assert cfg.flow.dim == 64 and cfg.flow.dynamic is False and cfg.align.method == "contrastive" and cfg.seed == 3
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.token_rate() == 25.0


def test_a_config_saved_before_video_pool_existed_loads_the_flat_stem_it_was_trained_with():
    old = TrainConfig().to_dict()
    del old["encoder"]["video_pool"]  # as saved before the key existed (the flat stem was the only one)
    assert TrainConfig.from_dict(old).encoder.video_pool == "flat"
    assert TrainConfig.from_dict(TrainConfig().to_dict()).encoder.video_pool == TrainConfig().encoder.video_pool
    assert TrainConfig.from_dict({}).encoder.video_pool == TrainConfig().encoder.video_pool  # no section: defaults


def test_the_recipe_trains_the_cluster_term_and_a_config_saved_before_it_did_not():
    recipe = TrainConfig()
    assert (recipe.flow.cluster_weight, recipe.flow.cluster_span) == (0.1, 1)
    old = recipe.to_dict()
    for key in ("cluster_weight", "clusters", "cluster_span", "cluster_onset"):
        del old["flow"][key]  # as saved before the term existed (out/train/attn: the previous default model)
    assert TrainConfig.from_dict(old).flow.cluster_weight == 0.0


@pytest.mark.parametrize("extra, weight, dynamic", [
    ([], 0.1, True),
    (["--global-only"], 0.1, False),
    (["--align", "none"], 0.0, True),  # MAE encoders only: the cluster term would align them to the audio
    (["--align", "none", "--set", "flow.cluster_weight=0.3"], 0.3, True),
    (["--align", "contrastive"], 0.1, True),
])
def test_train_command_config_for_the_recipe_and_the_baselines(tmp_path, monkeypatch, extra, weight, dynamic):
    from foleyflow.export import cli, train

    seen = []
    monkeypatch.setitem(train.STAGES, "flow", lambda cfg, workdir: seen.append(cfg))
    assert cli.main(["train", "--workdir", str(tmp_path), "--stage", "flow", *extra]) == 0
    (cfg,) = seen
    assert cfg.flow.cluster_weight == weight and cfg.flow.dynamic is dynamic
    assert json.loads((tmp_path / "config.json").read_text())["flow"]["cluster_weight"] == weight


def test_masked_alignment_trains_the_video_encoder():
    wd = trained_tiny()
    mae = load_checkpoint(wd / "video_mae.pt")["model"]["encoder"]
    aligned = load_checkpoint(wd / "align_masked.pt")["model"]["video"]
    changed = [k for k in mae if not torch.equal(mae[k], aligned[k])]
    assert changed, "the alignment stage must update the video encoder"


@pytest.mark.slow
def test_two_gloo_processes_train_a_stage(tmp_path):
    wd = tmp_path / "ddp"
    shutil.copytree(trained_tiny() / "cache", wd / "cache")
    (wd / "config.json").write_text(json.dumps(tiny_config().to_dict()))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           "-m", "foleyflow.export.cli", "train", "--workdir", str(wd), "--stage", "audio_mae", "--threads", "1",
           "--set", "audio_mae.steps=3"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    ck = load_checkpoint(wd / "audio_mae.pt")
    assert ck["step"] == 3
    assert all(np.isfinite(v.numpy()).all() for v in ck["model"]["encoder"].values())


def test_tiny_config_is_tiny():
    assert len(TINY) > 10 and tiny_config().flow.dim == 32


@pytest.mark.slow
@pytest.mark.parametrize("onset", ["0.0", "0.3"])
def test_the_cluster_term_trains_a_head_on_the_video_features_and_export_ignores_it(tmp_path, onset):
    """flow.cluster_weight > 0: the flow stage also trains a linear head from the video features to the
    audio's k-means clusters (of every token, or of onset tokens only); the package exported from it is
    the usual one."""
    from foleyflow.export.onnx_export import export_package
    from foleyflow.export.train import STAGES

    wd = trained_tiny()
    for name in ("cache", "audio_mae.pt", "video_mae.pt", "align_masked.pt", "vocoder.pt"):
        (tmp_path / name).symlink_to(wd / name)
    cfg = tiny_config().override(["flow.cluster_weight=1.0", "flow.clusters=4", "flow.steps=3",
                                  f"flow.cluster_onset={onset}"])
    STAGES["flow"](cfg, tmp_path)
    ck = load_checkpoint(tmp_path / "flow_masked_dynamic.pt")
    head = ck["model"]["cluster_head"]
    assert head["weight"].shape == (4, cfg.encoder.dim)
    assert ck["config"]["flow"]["cluster_weight"] == 1.0 and ck["config"]["flow"]["cluster_onset"] == float(onset)
    export_package(tmp_path, tmp_path / "package", name="tiny-clusters")  # the head is not exported
    assert sorted(p.name for p in (tmp_path / "package").iterdir()) == \
        sorted(p.name for p in exported_tiny().iterdir())  # the same graphs as a package without the term


def test_the_cluster_term_needs_a_trainable_video_encoder(tmp_path):
    import pytest

    from foleyflow.export.train import STAGES

    wd = trained_tiny()
    for name in ("cache", "align_masked.pt"):
        (tmp_path / name).symlink_to(wd / name)
    cfg = tiny_config().override(["flow.cluster_weight=1.0", "flow.finetune_video=false"])
    with pytest.raises(ValueError, match="finetune_video"):
        STAGES["flow"](cfg, tmp_path)
