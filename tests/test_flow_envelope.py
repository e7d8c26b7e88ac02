"""export.models.flow's loudness envelope: the head, its target, how it conditions the flow, and that a
flow trained with it exports to a velocity graph with the usual inputs that matches PyTorch."""

import numpy as np
import pytest
import torch

from foleyflow.export.models.flow import VelocityNet, loudness_target


def test_the_loudness_target_is_each_frames_mean_over_the_bands():
    mel = torch.arange(8 * 3, dtype=torch.float32).reshape(1, 8, 3)  # [B, F=8 frames, M=3 bands]
    tokens = mel.reshape(1, 2, 4 * 3)  # 4 frames per token, time-major (export.dataset.to_tokens)
    got = loudness_target(tokens, 4)
    assert got.shape == (1, 2, 4)
    torch.testing.assert_close(got.reshape(1, 8), mel.mean(dim=-1))


def _net(envelope: bool) -> VelocityNet:
    torch.manual_seed(0)
    net = VelocityNet(8, 6, 16, 1, 2, envelope=envelope, frames_per_token=2)
    for m in (net.final_mod[1], net.out, *(blk.mod[1] for blk in net.blocks)):  # zero-initialised: wake them
        torch.nn.init.normal_(m.weight, std=0.2)
    return net.eval()


def _feeds(b=2, n=10, p=8, d=6):
    g = torch.Generator().manual_seed(1)
    return (torch.randn(b, n, p, generator=g), torch.rand(b, generator=g), torch.randn(b, n, d, generator=g),
            torch.zeros(b, n, p), torch.zeros(b, n, 1))


def test_without_an_envelope_given_the_flow_uses_the_heads_estimate_and_follows_a_given_one():
    net = _net(True)
    x, t, cond, ctx, mask = _feeds()
    zero = torch.zeros(2)
    with torch.no_grad():
        own = net(x, t, cond, ctx, mask, zero)
        told = net(x, t, cond, ctx, mask, zero, None, None, net.loudness(cond))
        loud = net(x, t, cond, ctx, mask, zero, None, None, net.loudness(cond) + 3.0)
    assert net.loudness(cond).shape == (2, 10, 2)
    torch.testing.assert_close(own, told)
    assert (loud - own).abs().max() > 1e-3  # the envelope reaches the velocity


def test_the_unconditioned_row_reads_its_envelope_from_the_null_condition():
    net = _net(True)
    x, t, cond, ctx, mask = _feeds()
    one = torch.ones(2)
    with torch.no_grad():
        a = net(x, t, cond, ctx, mask, one)
        b = net(x, t, -cond, ctx, mask, one)  # other video, same null: the same velocity
    torch.testing.assert_close(a, b)


def test_a_flow_without_the_envelope_has_no_envelope_weights():
    assert not any(k.startswith("env") for k in _net(False).state_dict())
    assert {k.split(".")[0] for k in _net(True).state_dict() if k.startswith("env")} == {"env_head", "env_in"}


@pytest.mark.slow
def test_the_flow_stage_trains_the_head_and_the_export_matches_pytorch(tmp_path):
    """flow.envelope: the flow stage trains the head against the true loudness; the package's velocity
    graph has the usual inputs and matches the PyTorch flow (the head's own estimate inside)."""
    from tiny_training import exported_tiny, tiny_config, trained_tiny

    from foleyflow.export.onnx_export import export_package, load_models
    from foleyflow.export.train import STAGES, load_checkpoint
    from foleyflow.runtime.session import FoleyModel

    wd = trained_tiny()
    for name in ("cache", "audio_mae.pt", "video_mae.pt", "align_masked.pt", "vocoder.pt"):
        (tmp_path / name).symlink_to(wd / name)
    cfg = tiny_config().override(["flow.envelope=joint", "flow.steps=3"])
    STAGES["flow"](cfg, tmp_path)
    ck = load_checkpoint(tmp_path / "flow_masked_dynamic.pt")
    assert ck["config"]["flow"]["envelope"] == "joint" and "env_head.conv.weight" in ck["model"]["net"]
    export_package(tmp_path, tmp_path / "package", name="tiny-envelope")
    assert sorted(p.name for p in (tmp_path / "package").iterdir()) == \
        sorted(p.name for p in exported_tiny().iterdir())  # the same graphs as a package without it
    _, _, net, _, _ = load_models(tmp_path, "flow_masked_dynamic")
    assert net.envelope
    m = FoleyModel.load(tmp_path / "package", provider="cpu")
    rng = np.random.default_rng(5)
    n, p, d = m.spec.segment_tokens, m.spec.token_dim, m.spec.feature_dim
    x = rng.standard_normal((2, n, p), dtype=np.float32)
    t = np.array([0.3, 0.8], np.float32)
    cond = rng.standard_normal((2, n, d), dtype=np.float32)
    ctx, mask = np.zeros((2, n, p), np.float32), np.zeros((2, n, 1), np.float32)
    uncond = np.array([0.0, 1.0], np.float32)
    got = m.velocity(x, t, cond, ctx, mask, uncond)
    with torch.no_grad():
        want = net(*(torch.from_numpy(a) for a in (x, t, cond, ctx, mask, uncond))).numpy()
    assert np.abs(got - want).max() < 1e-4


@pytest.mark.slow
def test_the_envelope_stage_trains_encoder_and_head_and_the_flow_starts_from_both(tmp_path):
    """flow.envelope=stage: the envelope stage trains the aligned video encoder and a loudness head; the
    flow (features frozen) loads that head, frozen, reads the stage's encoder, and the export takes the
    stage's encoder too. Without the stage's checkpoint the flow says which stage to run."""
    from tiny_training import tiny_config, trained_tiny

    from foleyflow.export.onnx_export import load_models
    from foleyflow.export.train import STAGES, load_checkpoint

    wd = trained_tiny()
    for name in ("cache", "audio_mae.pt", "video_mae.pt", "align_masked.pt", "vocoder.pt"):
        (tmp_path / name).symlink_to(wd / name)
    cfg = tiny_config().override(["flow.envelope=stage", "flow.finetune_video=false", "flow.cluster_weight=0",
                                  "envelope.steps=3", "envelope.clusters=4", "flow.steps=2"])
    with pytest.raises(FileNotFoundError, match="envelope stage"):
        STAGES["flow"](cfg, tmp_path)
    STAGES["envelope"](cfg, tmp_path)
    env = load_checkpoint(tmp_path / "envelope_masked.pt")["model"]
    align = load_checkpoint(tmp_path / "align_masked.pt")["model"]["video"]
    assert any(not torch.equal(env["video"][k], align[k]) for k in align)  # the encoder trained on
    STAGES["flow"](cfg, tmp_path)
    ck = load_checkpoint(tmp_path / "flow_masked_dynamic.pt")
    assert ck["video_from"] == "envelope_masked" and "video" not in ck["model"]
    for k, v in env["head"].items():  # frozen in the flow
        torch.testing.assert_close(ck["model"]["net"][f"env_head.{k}"], v)
    _, venc, _, _, _ = load_models(tmp_path, "flow_masked_dynamic")
    for k, v in venc.state_dict().items():
        torch.testing.assert_close(v, env["video"][k])
    feats = tmp_path / "feats_envelope_masked.npy"  # the frozen features, cached for the next flow run
    assert np.load(feats).shape[:2] == (cfg.data.n_train, 100)
    np.save(feats, np.zeros((1, 100, cfg.encoder.dim), np.float32))  # of another training set: recomputed
    STAGES["flow"](cfg, tmp_path)
    assert np.load(feats).shape[0] == cfg.data.n_train
    STAGES["envelope"](cfg, tmp_path)  # the encoder trains again: its cached features are stale
    assert not feats.exists()


def test_the_envelope_stage_is_skipped_unless_asked(tmp_path):
    from tiny_training import tiny_config

    from foleyflow.export.train import STAGES

    STAGES["envelope"](tiny_config(), tmp_path)  # no data needed: it does nothing
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="flow.envelope"):
        STAGES["flow"](tiny_config().override(["flow.envelope=yes"]), tmp_path)
