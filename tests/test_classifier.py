"""The independent audio classifier (class accuracy, Frechet distance): constructed signals, tiny runs."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from foleyflow.export.eval import classifier as clf  # noqa: E402
from foleyflow.world import world  # noqa: E402

SR = clf.SAMPLE_RATE
CLASSES = ("thud", "ring")


def _constructed(kind: str, rng: np.random.Generator, seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    """A few hits of a low, short thud (60..120 Hz) or a high, long ring (1.5..3 kHz), random gain."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for t0 in rng.uniform(0.05, seconds - 0.2, size=int(rng.integers(1, 4))):
        f, tau = (rng.uniform(60, 120), rng.uniform(0.02, 0.04)) if kind == "thud" else \
            (rng.uniform(1500, 3000), rng.uniform(0.3, 0.6))
        u = t - t0
        out += np.where(u >= 0, np.exp(-np.maximum(u, 0) / tau) * np.sin(2 * np.pi * f * u), 0.0)
    out += 0.002 * rng.standard_normal(n)
    return (out * 10 ** rng.uniform(-1.5, 0) / (np.abs(out).max() + 1e-9)).astype(np.float32)


def _dataset(n: int, seed: int, sr: int = SR) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    labels = [CLASSES[i % 2] for i in range(n)]
    return [_constructed(k, rng, sr=sr) for k in labels], labels


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, clf.ClassifierHandle]:
    torch.set_num_threads(1)
    audios, labels = _dataset(32, seed=0)
    model = clf.AudioClassifier(len(CLASSES), channels=(8, 16, 32), embed_dim=32)
    losses = clf.fit(model, audios, [CLASSES.index(k) for k in labels], steps=40, batch_size=16, lr=1e-2,
                     seed=0)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    path = clf.save_checkpoint(model, CLASSES, tmp_path_factory.mktemp("clf") / "c.pt", {"note": "test"})
    return path, clf.load_classifier(path)


def test_checkpoint_loads_weights_only(trained: tuple[Path, clf.ClassifierHandle]) -> None:
    path, handle = trained
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["format"] == clf.CHECKPOINT_FORMAT
    assert ckpt["classes"] == list(CLASSES)
    assert ckpt["front_end"]["sample_rate"] == SR and ckpt["front_end"]["n_fft"] == clf.N_FFT
    assert ckpt["arch"] == {"channels": [8, 16, 32], "embed_dim": 32}
    assert all(isinstance(v, torch.Tensor) for v in ckpt["state_dict"].values())
    assert handle.classes == CLASSES and handle.meta["info"] == {"note": "test"}


def test_separates_constructed_classes(trained: tuple[Path, clf.ClassifierHandle]) -> None:
    _, handle = trained
    audios, labels = _dataset(24, seed=1)
    assert handle.accuracy(audios, SR, labels) >= 0.95
    # another rate (resampled to 16 kHz inside), another length, stereo
    rng = np.random.default_rng(2)
    other = [_constructed(k, rng, seconds=1.3, sr=22050) for k in ("thud", "ring", "thud", "ring")]
    assert handle.predict(other, 22050) == ["thud", "ring", "thud", "ring"]
    assert handle.predict([np.stack([other[1], other[1]])], 22050) == ["ring"]


def test_predict_embed_shapes_and_invariances(trained: tuple[Path, clf.ClassifierHandle]) -> None:
    _, handle = trained
    audios, _ = _dataset(5, seed=3)
    audios.append(np.zeros(100, np.float32))  # short and silent: padded, still finite
    pred = handle.predict(audios, SR)
    assert len(pred) == 6 and all(p in CLASSES for p in pred)
    emb = handle.embed(audios, SR)
    assert emb.shape == (6, 32) and np.all(np.isfinite(emb))
    assert handle.embed([], SR).shape[0] == 0 and handle.predict([], SR) == []
    # gain: exactly normalised away (up to float error)
    quiet = handle.embed([a * 0.05 for a in audios[:5]], SR)
    np.testing.assert_allclose(quiet, emb[:5], rtol=1e-3, atol=1e-4)
    # a small time shift does not change the class
    shifted = [np.roll(a, int(0.03 * SR)) for a in audios[:5]]
    assert handle.predict(shifted, SR) == pred[:5]


def test_class_metrics_on_ground_truth_vs_itself(trained: tuple[Path, clf.ClassifierHandle]) -> None:
    _, handle = trained
    audios, labels = _dataset(12, seed=4)
    m = clf.class_metrics(handle, audios, SR, labels, audios, SR)
    assert m["class_accuracy"] == pytest.approx(handle.accuracy(audios, SR, labels))
    assert m["frechet"] == pytest.approx(0.0, abs=1e-6)
    # wrong labels score zero accuracy; audio of one class against both classes is far
    flipped = [CLASSES[1 - CLASSES.index(k)] for k in labels]
    assert clf.class_metrics(handle, audios, SR, flipped, audios, SR)["class_accuracy"] == pytest.approx(
        1.0 - m["class_accuracy"])
    thuds = [a for a, k in zip(audios, labels, strict=True) if k == "thud"]
    far = clf.class_metrics(handle, thuds, SR, ["thud"] * len(thuds), audios, SR)["frechet"]
    assert far > 10 * max(m["frechet"], 1e-6)
    assert m["n_scored"] == len(audios)
    # an unlabelled clip ("": nothing sounds) counts towards FD only
    part = clf.class_metrics(handle, audios, SR, [""] + labels[1:], audios, SR)
    assert part["n_scored"] == len(audios) - 1 and part["frechet"] == pytest.approx(m["frechet"], abs=1e-9)
    with pytest.raises(ValueError):
        clf.class_metrics(handle, audios, SR, ["metal"] * len(audios), audios, SR)


def test_confusion_counts_true_against_predicted() -> None:
    labels = ["metal", "glass", "glass", "", "glass", "metal"]
    pred = ["metal", "ceramic", "glass", "wood", "ceramic", "ceramic"]
    assert clf.confusion(labels, pred) == {"glass": {"ceramic": 2, "glass": 1},
                                           "metal": {"ceramic": 1, "metal": 1}}
    assert list(clf.confusion(labels, pred)["metal"]) == ["ceramic", "metal"]  # ties: by name
    assert clf.confusion([], []) == {}


def test_class_metrics_carry_the_confusion(trained: tuple[Path, clf.ClassifierHandle]) -> None:
    _, handle = trained
    audios, labels = _dataset(8, seed=5)
    m = clf.class_metrics(handle, audios, SR, labels, audios, SR)
    pred = handle.predict(audios, SR)
    assert m["confusion"] == clf.confusion(labels, pred)
    right = sum(conf.get(t, 0) for t, conf in m["confusion"].items())
    assert right / m["n_scored"] == pytest.approx(m["class_accuracy"])


def test_train_classifier_on_world_clips(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    out = clf.train_classifier(tmp_path / "w.pt", n_train=6, steps=2, seed=0, duration=1.0, batch_size=4)
    ckpt = torch.load(out, map_location="cpu", weights_only=True)
    assert tuple(ckpt["classes"]) == clf.class_names()
    info = ckpt["info"]
    assert info["n_train"] == 6 and sum(info["class_counts"].values()) + info["n_unlabelled"] == 6
    assert info["world_digest"] == clf.world_digest()
    handle = clf.load_classifier(out)
    audios, labels = clf.render_labelled("val", 3, duration=1.0)
    assert len(audios) == 3 and all(lab in handle.classes for lab in labels)
    assert handle.embed(audios, SR).shape == (3, clf.EMBED_DIM)


def test_stale_world_warns(trained: tuple[Path, clf.ClassifierHandle], tmp_path: Path) -> None:
    _, handle = trained
    path = clf.save_checkpoint(handle.model, CLASSES, tmp_path / "old.pt", {"world_digest": "0" * 16})
    with pytest.warns(UserWarning, match="another version of the world"):
        clf.load_classifier(path)


def test_clip_label_and_target(monkeypatch: pytest.MonkeyPatch) -> None:
    clip = world.render_clip(world.split_seeds("train", 1)[0], duration=2.0, fps=8, size=32)
    label = clf.clip_label(clip)
    assert label in clf.class_names()
    target = clf.clip_target(clip, clf.class_names())
    assert target.sum() == pytest.approx(1.0) and clf.class_names()[int(target.argmax())] == label
    if hasattr(world, "clip_label"):
        assert label == world.clip_label(clip)
        assert clf.class_names() == tuple(world.CLASSES)
    # the fallback of a world without CLASSES / clip_label: materials, strongest impact inside the clip
    monkeypatch.delattr(world, "clip_label", raising=False)
    monkeypatch.delattr(world, "CLASSES", raising=False)
    assert clf.class_names() == tuple(world.MATERIALS)
    assert clf.label_rule() == clf.LABEL_RULE_FALLBACK
    ev = [world.Event(0.1, "impact", "wood", 0.3, 0), world.Event(0.5, "impact", "metal", 0.9, 1),
          world.Event(0.9, "impact", "glass", 0.9, 2), world.Event(2.5, "impact", "rubber", 1.0, 0)]
    fake = world.Clip(clip.frames, clip.fps, clip.audio, clip.sample_rate, ev, 2.0, 0, ["wood", "metal"])
    assert clf.clip_label(fake) == "metal"  # strongest inside the clip, first of a tie
    np.testing.assert_array_equal(clf.clip_target(fake, world.MATERIALS), [0, 1, 0, 0, 0])  # one-hot


def test_independent_of_the_generator() -> None:
    """The classifier imports nothing of the generator's models, training or backends."""
    tree = ast.parse(Path(clf.__file__).read_text())
    banned = ("models", "train", "torch_backend", "onnx_export", "dataset")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            names = [a.name for a in node.names]
            assert not any(p in banned for p in parts), node.module
            if node.level >= 2 and not node.module:  # from .. import x
                assert not any(n in banned for n in names), names
        elif isinstance(node, ast.Import):
            for a in node.names:
                assert not any(p in banned for p in a.name.split(".")), a.name
