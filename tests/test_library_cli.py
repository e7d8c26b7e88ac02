"""``foleyflow library index``: writes the index, prints categories, names what it cannot use."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from foleyflow.library import index as ix
from foleyflow.plugin import library_cli


def lib(tmp_path: Path, broken: bool = False) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    for i in range(3):
        sf.write(root / f"WOODImpt_Knock {i}_FF_T01.wav", np.full(480, 0.1 * (i + 1)), 48000)
    if broken:
        (root / "FEETHmn_Step_FF_T01.wav").write_bytes(b"not a wav")
    return root


def test_index_writes_the_index_and_prints_counts(tmp_path, capsys):
    root = lib(tmp_path)
    assert library_cli.main(["library", "index", str(root)]) == 0
    out = capsys.readouterr().out
    assert "WOODImpt" in out and "3 recordings in 1 categories" in out
    index = ix.read_index(root / ix.INDEX_NAME)
    assert index.counts() == {"WOODImpt": 3}


def test_index_names_every_unreadable_file_and_exits_4(tmp_path, capsys):
    root = lib(tmp_path, broken=True)
    out_file = tmp_path / "elsewhere.csv"
    assert library_cli.main(["library", "index", str(root), "-o", str(out_file)]) == 4
    out = capsys.readouterr().out
    assert "FEETHmn_Step_FF_T01.wav: cannot read as audio" in out
    assert out_file.is_file() and not (root / ix.INDEX_NAME).exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert library_cli.main(["library", "index", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip().endswith("nope: no such folder")
    root = lib(tmp_path)
    assert library_cli.main(["library", "index", str(root), "-o", str(tmp_path / "no" / "x.csv")]) == 2
    assert "the folder for the index does not exist" in capsys.readouterr().err


def test_the_foleyflow_command_dispatches_library(tmp_path):
    root = lib(tmp_path)
    run = subprocess.run([sys.executable, "-m", "foleyflow.cli", "library", "index", str(root)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "WOODImpt" in run.stdout
