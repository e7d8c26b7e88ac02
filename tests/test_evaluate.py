import numpy as np
import pytest
import torch
from tiny_training import exported_tiny

from foleyflow.export.evaluate import (
    NOTES_MARK,
    evaluate,
    format_class_table,
    format_table,
    log_mel_np,
    write_markdown,
)
from foleyflow.export.models.mel import LogMel
from foleyflow.runtime.spec import read_spec


@pytest.fixture(scope="module")
def result():
    pkg = exported_tiny()
    return evaluate([pkg, pkg], split="val", n=2, steps=1, names=["tiny", "tiny again"])


def test_numpy_log_mel_matches_the_training_front_end():
    spec = read_spec(exported_tiny())
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    ref = LogMel(spec.sample_rate, spec.n_fft, spec.hop_length, spec.n_mels, spec.mel_fmin, spec.mel_fmax)(
        torch.from_numpy(x)[None])[0].numpy()
    got = log_mel_np(x, spec) * spec.mel_std + spec.mel_mean
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-3


def test_rows_cover_truth_baselines_and_every_package(result):
    rows = result["rows"]
    assert list(rows) == ["ground truth", "another clip's ground truth (chance)", "ground truth through the vocoder",
                          "tiny", "tiny again", "video shuffled across clips"]
    assert rows["ground truth"]["f1"] > 0.9  # the detector finds the world's own onsets
    assert rows["ground truth"]["energy_l1"] == 0.0
    assert rows["tiny"] == {**rows["tiny again"], "seconds_per_clip": rows["tiny"]["seconds_per_clip"]}


def test_table_names_every_row(result):
    table = format_table(result)
    for name in result["rows"]:
        assert f"| {name} |" in table
    assert "onset F1 @0.1s" in table and "split val" in table


def test_markdown_rewrite_keeps_the_notes(result, tmp_path):
    page = tmp_path / "RESULTS.md"
    write_markdown(page, "foleyflow eval a", [result], [format_table(result)])
    first = page.read_text()
    assert first.startswith("# Results") and "foleyflow eval a" in first and "## Split: val" in first
    page.write_text(first.replace("## Split: val", "## Split: stale") + f"\n{NOTES_MARK}\n\nwhy the rows differ\n")
    write_markdown(page, "foleyflow eval b", [result], [format_table(result)])
    second = page.read_text()
    assert "foleyflow eval b" in second and "foleyflow eval a" not in second and "stale" not in second
    assert second.endswith(f"{NOTES_MARK}\n\nwhy the rows differ\n")
    assert second.count(NOTES_MARK) == 1


def test_class_table_shows_per_class_accuracy_and_what_misses_were_heard_as():
    result = {"split": "test", "clips": 5, "steps": 8, "guidance": 4.5, "rows": {
        "ground truth": {"f1": 1.0, "confusion": {"glass": {"glass": 2}, "metal": {"metal": 3}}},
        "model": {"f1": 0.8, "confusion": {"glass": {"ceramic": 1, "glass": 1}, "metal": {"ceramic": 3}}},
        "no classifier": {"f1": 0.5}}}
    table = format_class_table(result)
    assert "| row | glass | metal |" in table
    assert "| ground truth | 1.00 of 2 | 1.00 of 3 |" in table
    assert "| model | 0.50 of 2 (ceramic 1) | 0.00 of 3 (ceramic 3) |" in table
    assert "no classifier" not in table
    assert format_class_table({**result, "rows": {"x": {"f1": 0.1}}}) == ""
