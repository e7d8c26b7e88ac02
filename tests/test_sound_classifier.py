"""The independent classifier of library categories: a tiny fixture library of three synthetic timbres."""

from __future__ import annotations

import ast
import csv
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")

from foleyflow.export.eval import sound_classifier as sc  # noqa: E402
from foleyflow.library.audio import resample  # noqa: E402
from foleyflow.library.index import LibraryIndex, index_library  # noqa: E402

SR = 48000
KINDS = ("THUMP", "HISS", "RING")  # the classes; "DRONE" has too few train files and is "other"


def _sound(kind: str, rng: np.random.Generator, seconds: float | None = None) -> np.ndarray:
    """One event: a low thump (50..110 Hz, short), a bright noise burst (above 5 kHz) or a ringing tone
    (700..2000 Hz with two partials, long); "DRONE": a steady mid-band hum."""
    n = int((seconds or rng.uniform(0.3, 0.8)) * SR)
    t = np.arange(n) / SR
    if kind == "THUMP":
        x = np.sin(2 * np.pi * rng.uniform(50, 110) * t) * np.exp(-t / rng.uniform(0.03, 0.08))
    elif kind == "HISS":
        spec = np.fft.rfft(rng.standard_normal(n))
        spec[np.fft.rfftfreq(n, 1 / SR) < 5000] = 0
        x = np.fft.irfft(spec, n) * np.exp(-t / rng.uniform(0.05, 0.15))
    elif kind == "RING":
        f = rng.uniform(700, 2000)
        x = (np.sin(2 * np.pi * f * t) + 0.4 * np.sin(2 * np.pi * 2.76 * f * t)) * np.exp(-t / rng.uniform(0.2, 0.4))
    else:
        x = np.sin(2 * np.pi * 300 * t) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))
    x[: int(0.002 * SR)] *= np.linspace(0, 1, int(0.002 * SR))
    return (0.8 * x / np.abs(x).max()).astype(np.float32)


def _clip(kind: str, rng: np.random.Generator, seconds: float = 3.0, distractor: str | None = None) -> np.ndarray:
    """A clip of a few hits of ``kind`` over faint room tone, perhaps a quieter sound of another kind."""
    n = int(seconds * SR)
    out = np.zeros(n)
    for t0 in rng.uniform(0.1, seconds - 0.9, size=int(rng.integers(1, 4))):
        s = _sound(kind, rng)
        i = int(t0 * SR)
        out[i:i + len(s)] += s[: n - i] * rng.uniform(0.5, 1.0)
    if distractor is not None:
        s = _sound(distractor, rng)
        i = int(rng.uniform(0.1, seconds - 0.9) * SR)
        out[i:i + len(s)] += s[: n - i] * 10 ** (-16 / 20) * 0.7
    out += 1e-3 * rng.standard_normal(n)
    return out.astype(np.float32)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> LibraryIndex:
    root = tmp_path_factory.mktemp("lib")
    rng = np.random.default_rng(7)
    rows = []
    for kind, n in [(k, 8) for k in KINDS] + [("DRONE", 3)]:
        for i in range(n):
            rel = f"{kind.lower()}/{kind.lower()}_{i:02d}.wav"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(root / rel, _sound(kind, rng), SR, subtype="FLOAT")
            rows.append((rel, kind))
    with open(root / "library.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "category"])
        w.writerows(rows)
    return index_library(root)


@pytest.fixture(scope="module")
def trained(library: LibraryIndex, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, sc.SoundClassifierHandle,
                                                                                      list[str]]:
    torch.set_num_threads(1)  # faster than 2 on shared cores
    read: list[str] = []
    real_read = sc.read_mono

    def spy(path, rate, max_seconds=30.0):  # type: ignore[no-untyped-def]
        read.append(Path(path).relative_to(library.root).as_posix())
        return real_read(path, rate, max_seconds=max_seconds)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sc, "read_mono", spy)
        path = sc.train_sound_classifier(library, tmp_path_factory.mktemp("ckpt") / "sound.pt", steps=60,
                                         seed=0, batch_size=16, lr=5e-3, channels=(8, 16, 32), embed_dim=32)
    return path, sc.load_sound_classifier(path), read


def test_classes_and_checkpoint(library: LibraryIndex, trained: tuple) -> None:
    path, handle, _ = trained
    assert handle.classes == tuple(sorted(KINDS))  # DRONE has 1 train file (< min_train 5)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["format"] == sc.CHECKPOINT_FORMAT and ckpt["classes"] == sorted(KINDS)
    assert ckpt["front_end"]["sample_rate"] == SR and ckpt["front_end"]["f_max"] == 24000.0
    assert ckpt["info"]["other_categories"] == ["DRONE"]
    assert ckpt["info"]["class_counts"] == {k: 6 for k in KINDS}
    assert sc.trainable_categories(library, min_train=1) == sorted([*KINDS, "DRONE"])


def test_never_reads_val_or_test(library: LibraryIndex, trained: tuple) -> None:
    _, _, read = trained
    train = {r.path for r in library.split("train")}
    held_out = {r.path for r in library.recordings if r.split != "train"}
    assert held_out and read
    assert set(read) == train  # every train file (DRONE's as a distractor), nothing else
    assert not set(read) & held_out


def test_accuracy_on_held_out(library: LibraryIndex, trained: tuple) -> None:
    _, handle, _ = trained
    audios, cats, paths = sc.library_audios(library, "test", SR, categories=KINDS)
    va, vc, _ = sc.library_audios(library, "val", SR, categories=KINDS)
    assert len(audios) == 3 and all(library.of(c, "test") for c in KINDS)
    m = sc.category_metrics(handle, audios + va, SR, cats + vc)
    assert m["n_scored"] == 6 and m["accuracy"] >= 5 / 6, m["confusion"]
    # clips of a few seconds: several hits, room tone, half with a quieter sound of another kind
    rng = np.random.default_rng(123)
    kinds = [KINDS[i % 3] for i in range(12)]
    clips = [_clip(k, rng, distractor=KINDS[(KINDS.index(k) + 1) % 3] if i % 2 else None)
             for i, k in enumerate(kinds)]
    assert np.mean([p == k for p, k in zip(handle.predict(clips, SR), kinds, strict=True)]) >= 10 / 12
    c44 = [resample(c, round(len(c) * 44100 / SR)) for c in clips[:6]]
    assert handle.predict(c44, 44100) == handle.predict(clips[:6], SR)  # other rates: resampled inside


def test_gain_invariance(trained: tuple) -> None:
    _, handle, _ = trained
    rng = np.random.default_rng(5)
    clips = [_clip(k, rng) for k in KINDS]
    lg, em = handle.logits(clips, SR), handle.embed(clips, SR)
    for g in (1e-3, 0.05, 3.0):
        scaled = [c * np.float32(g) for c in clips]
        np.testing.assert_allclose(handle.logits(scaled, SR), lg, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(handle.embed(scaled, SR), em, rtol=1e-3, atol=1e-3)
    assert handle.embed(clips, SR).shape == (3, 32)
    assert handle.predict([], SR) == [] and handle.embed([], SR).shape == (0, 32)
    assert handle.predict([np.zeros(SR // 10, np.float32)], SR)[0] in handle.classes  # silence: defined


def test_frechet_self_zero_other_positive(trained: tuple) -> None:
    _, handle, _ = trained
    rng = np.random.default_rng(9)
    thumps = [_clip("THUMP", rng) for _ in range(6)]
    rings = [_clip("RING", rng) for _ in range(6)]
    m = sc.category_metrics(handle, thumps, SR, ["THUMP"] * 6, ref_audios=thumps, ref_rate=SR)
    assert m["frechet"] < 1e-6 and m["frechet_by_category"]["THUMP"] < 1e-6
    other = sc.category_metrics(handle, thumps, SR, ["THUMP"] * 6, ref_audios=rings, ref_rate=SR,
                                ref_categories=["RING"] * 6)
    assert other["frechet"] > 1.0 and other["frechet_by_category"] == {}
    # per category, paired references; a category without a class is counted apart
    gen = thumps[:3] + rings[:3] + [_clip("DRONE", rng)]
    cats = ["THUMP"] * 3 + ["RING"] * 3 + ["DRONE"]
    both = sc.category_metrics(handle, gen, SR, cats, ref_audios=thumps[3:] + rings[3:] + gen[-1:], ref_rate=SR)
    assert set(both["frechet_by_category"]) == {"THUMP", "RING"}
    assert both["n_scored"] == 6 and both["n_other"] == 1 and set(both["n_by_category"]) == {"THUMP", "RING"}
    assert sum(both["confusion"]["DRONE"].values()) == 1 and math.isfinite(both["frechet"])


def test_band_share_by_category() -> None:
    rng = np.random.default_rng(0)
    n = SR
    white = [rng.standard_normal(n) for _ in range(3)]
    t = np.arange(n) / SR
    tone = [np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 500 * t)]
    # three clips with 10 %, 50 % and 90 % of their energy above 8 kHz: the median is 50 %
    mixed = [np.sqrt(a) * np.sin(2 * np.pi * 12000 * t) + np.sqrt(1 - a) * np.sin(2 * np.pi * 2000 * t)
             for a in (0.1, 0.5, 0.9)]
    out = sc.band_share_by_category(white + tone + mixed, SR, ["w"] * 3 + ["t"] * 2 + ["m"] * 3)
    assert list(out) == ["m", "t", "w"]
    assert out["w"] == pytest.approx(10 * np.log10(16 / 24), abs=0.1)
    assert out["m"] == pytest.approx(10 * np.log10(0.5), abs=0.01)
    assert out["t"] < -100
    gap = sc.band_share_gap(white, SR, ["x"] * 3, mixed, SR, ["x"] * 3)
    assert gap["x"]["delta"] == pytest.approx(10 * np.log10(16 / 24) - 10 * np.log10(0.5), abs=0.1)
    with pytest.raises(ValueError):
        sc.band_share_by_category(white, SR, ["w"])


def test_voiced_clip_category(library: LibraryIndex) -> None:
    thump, ring = library.of("THUMP", "test")[0].path, library.of("RING", "test")[0].path
    ev = [SimpleNamespace(strength=s) for s in (0.9, 0.5, 0.7)]
    # event 0 is strongest but synthesized (no source): the strongest voiced one is event 2
    clip = SimpleNamespace(events=ev, sources={1: (thump,), 2: (ring, thump)})
    assert sc.voiced_clip_category(clip, library) == "RING"
    assert sc.voiced_clip_category(SimpleNamespace(events=ev, sources={}), library) == ""


def test_score_cli(library: LibraryIndex, trained: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    path, _, _ = trained
    assert sc.main(["score", str(path), "--library", str(library.root), "--split", "test", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "test recordings: accuracy" in out and "1 of categories without a class" in out
    assert all(k in out for k in KINDS)


def test_imports_nothing_of_the_generator() -> None:
    tree = ast.parse(Path(sc.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in names if "models" in m or m.startswith("foleyflow.export") and m != "foleyflow.export.eval"]
