import numpy as np
import pytest
import torch
from tiny_training import exported_tiny

from foleyflow.export.evaluate import NOTES_MARK, evaluate, format_table, log_mel_np, write_markdown
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
