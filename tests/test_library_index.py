"""A library's index: categories from UCS names or a CSV, every unusable file named, splits by file."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from foleyflow.library import index as ix
from foleyflow.library.errors import LibraryError


def tone(path: Path, seconds: float = 0.1, rate: int = 48000, channels: int = 1, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(seed).standard_normal((int(seconds * rate), channels)) * 0.1
    sf.write(path, x, rate)
    return path


@pytest.fixture
def ucs_library(tmp_path):
    root = tmp_path / "lib"
    for i in range(10):
        tone(root / "feet" / f"FEETHmn-Gravel_Step {i}_FF_T01.wav", seed=i)
    tone(root / "DOORWood_Close_FF_T01.flac", seconds=0.5, rate=44100, channels=2)
    tone(root / "unnamed.wav")
    (root / "BrokenCat.wav").write_bytes(b"RIFF....WAVE")
    (root / "GLASBrk_Smash_FF_T01.wav").write_bytes(b"RIFF....WAVE")
    (root / "notes.txt").write_text("not audio")
    tone(root / ".hidden" / "FEETHmn_x_y_z.wav")
    return root


def test_ucs_names_give_the_categories(ucs_library):
    index = ix.index_library(ucs_library)
    assert index.counts() == {"FEETHmn": 10, "DOORWood": 1}
    door = index.of("DOORWood")[0]
    assert (door.path, door.rate, door.channels) == ("DOORWood_Close_FF_T01.flac", 44100, 2)
    assert door.duration_s == pytest.approx(0.5)
    assert all(r.path.startswith("feet/") for r in index.of("FEETHmn"))


def test_every_file_not_used_is_named_with_its_reason(ucs_library):
    problems = {p.path: p.reason for p in ix.index_library(ucs_library).problems}
    assert set(problems) == {"unnamed.wav", "BrokenCat.wav", "GLASBrk_Smash_FF_T01.wav"}
    assert "no UCS CatID" in problems["unnamed.wav"]
    assert problems["GLASBrk_Smash_FF_T01.wav"].startswith("cannot read as audio")


def test_a_csv_inside_the_folder_gives_categories_and_licenses(tmp_path):
    root = tmp_path / "mine"
    tone(root / "a" / "step1.wav")
    tone(root / "b.ogg")
    (root / "library.csv").write_text("path,category,license,attribution\n"
                                      "a/step1.wav,FEETHmn,CC0-1.0,Me\n./b.ogg,WOODImpt,,\nmissing.wav,X,,\n")
    index = ix.index_library(root)
    assert [(r.path, r.category, r.license, r.attribution) for r in index.recordings] == [
        ("a/step1.wav", "FEETHmn", "CC0-1.0", "Me"), ("b.ogg", "WOODImpt", "", "")]
    assert [p.path for p in index.problems] == ["missing.wav"]


def test_a_csv_beside_the_folder_wins_over_the_ucs_name(tmp_path):
    root = tmp_path / "mine"
    tone(root / "FEETHmn_x_y_z.wav")
    (tmp_path / "mine.csv").write_text("path,category\nFEETHmn_x_y_z.wav,FEETHors\n")
    assert ix.index_library(root).counts() == {"FEETHors": 1}


@pytest.mark.parametrize("text, where", [
    ("file,cat\na.wav,X\n", "needs the columns path and category"),
    ("path,category\na.wav,\n", "line 2: a row needs a path and a category"),
])
def test_a_malformed_csv_is_refused_naming_it(tmp_path, text, where):
    root = tmp_path / "mine"
    tone(root / "a.wav")
    (root / "library.csv").write_text(text)
    with pytest.raises(LibraryError, match=where) as err:
        ix.index_library(root)
    assert err.value.path == root / "library.csv"


def test_not_a_folder(tmp_path):
    with pytest.raises(LibraryError, match="no such folder"):
        ix.index_library(tmp_path / "nope")
    (tmp_path / "f.wav").write_bytes(b"")
    with pytest.raises(LibraryError, match="is not a folder"):
        ix.index_library(tmp_path / "f.wav")


def test_splits_are_by_file_stable_and_cover_each_category(ucs_library):
    a = ix.index_library(ucs_library)
    b = ix.index_library(ucs_library)
    assert [r.split for r in a.recordings] == [r.split for r in b.recordings]
    feet = a.of("FEETHmn")
    assert sorted(r.split for r in feet).count("test") == 1 and [r.split for r in feet].count("val") == 1
    assert a.of("DOORWood")[0].split == "train"  # fewer than three: all train
    # adding recordings of another category moves none of these
    tone(ucs_library / "WOODImpt_Knock_FF_T01.wav")
    c = ix.index_library(ucs_library)
    assert {r.path: r.split for r in c.of("FEETHmn")} == {r.path: r.split for r in feet}


def test_split_shares():
    recs = [ix.Recording(f"r{i}.wav", "X", 1.0, 48000, 1) for i in range(100)]
    splits = [r.split for r in ix.assign_splits(recs)]
    assert (splits.count("train"), splits.count("val"), splits.count("test")) == (80, 10, 10)


def test_index_round_trips_through_csv(ucs_library, tmp_path):
    index = ix.index_library(ucs_library)
    path = tmp_path / "index.csv"
    path.write_text(ix.index_csv(index))
    back = ix.read_index(path, root=ucs_library)
    assert sorted(back.recordings, key=lambda r: r.path) == sorted((
        ix.Recording(r.path, r.category, round(r.duration_s, 6), r.rate, r.channels, r.license, r.attribution,
                     r.source, r.split) for r in index.recordings), key=lambda r: r.path)
    assert back.file(back.recordings[0]).is_file()


def test_a_malformed_index_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / "index.csv"
    path.write_text("path,category\n")
    with pytest.raises(LibraryError, match="is not a Foley-Flow library index"):
        ix.read_index(path)
    path.write_text(",".join(ix.INDEX_COLUMNS) + "\na.wav,X,abc,48000,1,,,,train\n")
    with pytest.raises(LibraryError, match="line 2: not an index row"):
        ix.read_index(path)
    path.write_text(",".join(ix.INDEX_COLUMNS) + "\na.wav,X,1,48000,1,,,,holdout\n")
    with pytest.raises(LibraryError, match="line 2: .*split 'holdout'"):
        ix.read_index(path)


def test_summary_lists_categories_and_problems(ucs_library):
    text = ix.summary(ix.index_library(ucs_library), limit=1)
    assert "FEETHmn" in text and "FOOTSTEPS / HUMAN" in text
    assert "3 files not used:" in text and "... and 2 more" in text
