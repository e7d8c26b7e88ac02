"""`foleyflow eval --recorded`: the recorded world's rows (real, vocoder, auto, category and reference
prompts, shuffled) on the same clips, with category, Fréchet and band figures."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from tiny_prompts import library_prompt_workdir

from foleyflow.export.eval import recorded
from foleyflow.library.index import index_library


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from foleyflow.export.eval.sound_classifier import train_sound_classifier
    from foleyflow.export.onnx_export import export_package

    workdir = library_prompt_workdir()
    package = tmp_path_factory.mktemp("pkg") / "package"
    export_package(workdir, package, name="tiny-recorded")
    lib = workdir / "library"
    clf = train_sound_classifier(index_library(lib), tmp_path_factory.mktemp("clf") / "sound.pt", steps=60,
                                 sample_rate=48000)
    return package, lib, clf


def test_clip_category_is_the_category_carrying_most_energy():
    index = SimpleNamespace(recordings=[SimpleNamespace(path="a.wav", category="WOODImpt"),
                                        SimpleNamespace(path="b.wav", category="METLImpt")])
    events = [SimpleNamespace(strength=0.5), SimpleNamespace(strength=0.4), SimpleNamespace(strength=0.4)]
    assert recorded.clip_category(events, {0: ("a.wav",), 1: ("b.wav",), 2: ("b.wav",)}, index) == "METLImpt"
    assert recorded.clip_category(events, {}, index) == ""


def test_a_reference_is_never_a_recording_that_sounds_the_clip(tiny):
    _package, lib, _clf = tiny
    index = index_library(lib)
    test_recs = [r.path for r in index.of("WOODImpt", "test")]
    val_recs = [r.path for r in index.of("WOODImpt", "val")]
    clip = recorded.RecordedClip(0, np.zeros((1, 8, 8, 3), np.uint8), np.zeros(10, np.float32), np.zeros(0),
                                 "WOODImpt", (test_recs[0],), 1.0)
    held_out = set(test_recs) | set(val_recs)
    for k in range(5):
        ref = recorded.reference_for(clip, index, "test", k)
        assert ref in held_out and ref != test_recs[0]  # held out from training, not the clip's own


def test_every_row_on_the_same_clips(tiny):
    package, lib, clf = tiny
    result = recorded.evaluate_recorded(package, lib, clf, "test", n=6, steps=2)
    rows = result["rows"]
    assert list(rows) == ["real recordings", "real recordings through the vocoder", "auto", "category prompt",
                          "reference prompt", "video shuffled across clips"]
    assert rows["real recordings"]["f1"] > 0.9  # the truth finds its own onsets
    assert all(r["n_clips"] == 6 for r in rows.values())
    labelled = result["labelled_clips"]
    assert labelled == sum(result["categories"].values()) and labelled > 0
    assert set(result["categories"]) <= {"WOODImpt", "METLImpt", "GLASImpt", "RUBRImpt", "CERMImpt"}
    for name, r in rows.items():
        assert 0.0 <= r["accuracy"] <= 1.0, name
        assert set(r["band_db"]) == set(result["categories"]), name
    assert rows["real recordings"]["band_db_median_abs_diff"] == 0.0
    assert 0 < rows["reference prompt"]["clips_with_a_reference"] <= labelled
    table = recorded.format_recorded(result)
    assert "| category prompt |" in table and "Median share of energy above 8 kHz" in table


def test_several_prompt_guidance_scales_score_a_pair_of_prompt_rows_each(tiny):
    package, lib, _ = tiny
    result = recorded.evaluate_recorded(package, lib, None, "test", n=6, steps=2, prompt_guidance=(None, 9.0))
    rows = result["rows"]
    names = [n for n in rows if "prompt" in n]
    assert names == ["category prompt, prompt guidance default", "reference prompt, prompt guidance default",
                     "category prompt, prompt guidance 9.0", "reference prompt, prompt guidance 9.0"]
    assert result["prompt_guidance"] == [None, 9.0]
    assert "prompt guidance None, 9.0" in recorded.format_recorded(result)
    assert result["labelled_clips"] > 0
    assert rows["category prompt, prompt guidance 9.0"]["band_db"] != rows[names[0]]["band_db"]  # other takes


def test_the_distractor_test_counts_onsets_where_nothing_touches(tiny):
    """Beside the rows: clips of distractor_config() (silent motion, nothing that touches); the truth's
    room tone has no onsets, and the figure is onsets per 10 s of the auto takes; look B draws every clip
    in the other look."""
    package, lib, clf = tiny
    result = recorded.evaluate_recorded(package, lib, None, "test", n=3, steps=2, look="b")
    d = result["distractors"]
    assert result["look"] == "b" and d["clips"] == 3 and d["seconds"] == pytest.approx(12.0)
    assert d["real recordings"] == 0.0
    assert d["auto"] >= 0.0
    assert "Distractors, no contact (look b, 3 clips" in recorded.format_recorded(result)


def test_onsets_per_10s_counts_the_detectors_onsets():
    rate = 16000
    audio = np.zeros(2 * rate, np.float32)
    for t in (0.5, 1.0, 1.5):  # three clicks in 2 s: 15 per 10 s
        i = int(t * rate)
        audio[i:i + 400] = np.exp(-np.arange(400) / 60.0) * np.sin(np.arange(400) * 0.7)
    assert recorded.onsets_per_10s([audio], rate) == pytest.approx(15.0)
    assert recorded.onsets_per_10s([np.zeros(2 * rate, np.float32)], rate) == 0.0
