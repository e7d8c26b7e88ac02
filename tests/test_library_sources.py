"""The default library's sources: the committed mapping, its checks, and a whole fetch on tiny fake
Debian packages built here with dpkg-deb (no network)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from foleyflow.library import sources
from foleyflow.library.errors import LibraryError
from foleyflow.library.sources import (
    DEFAULT_PACKAGES,
    LICENSES,
    MAPPING_COLUMNS,
    MIN_RATE,
    SourceRule,
    default_cache,
    fetch_library,
    load_mapping,
    match,
)
from foleyflow.library.ucs import CATIDS, NOT_FOLEY

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed here")

ZIP = "usr/share/games/0ad/mods/public/public.zip"


# -- the committed mapping ------------------------------------------------------------------------
def test_committed_mapping_loads_and_every_row_is_valid() -> None:
    rules = load_mapping()
    assert rules, "the committed mapping is empty"
    with sources.MAPPING_PATH.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert tuple(header) == MAPPING_COLUMNS
    for rule in rules:
        assert rule.package in DEFAULT_PACKAGES
        if rule.excluded:
            continue
        assert rule.category in CATIDS and rule.category not in NOT_FOLEY, rule
        assert rule.license in LICENSES, rule
        assert "GPL" not in rule.license and rule.attribution not in ("", "-"), rule
    assert {r.package for r in rules} == set(DEFAULT_PACKAGES)  # every package has its rows


def test_committed_mapping_never_keeps_music_or_voice_and_keeps_the_foley() -> None:
    rules = load_mapping()
    for member in (f"{ZIP}!audio/music/Sunrise.ogg", f"{ZIP}!audio/voice/greek/civ/x.ogg",
                   "usr/share/games/redeclipse/data/sounds/music/track_01.ogg",
                   "usr/share/games/supertuxkart/data/music/farm.ogg",
                   "usr/share/games/supertuxkart/data/sfx/anvil.ogg"):  # GPL-2+ (from Wesnoth)
        package = next(p for p in DEFAULT_PACKAGES if p.split("-")[0] in member)
        rule = match(rules, package, member)
        assert rule is not None and rule.excluded, member
    mods = "usr/share/games/minetest/games/minetest_game/mods"
    steps = match(rules, "minetest-data", f"{mods}/default/sounds/default_wood_footstep.1.ogg")
    assert steps is not None and steps.category == "FEETHmn"
    arrow = match(rules, "0ad-data", f"{ZIP}!audio/attack/impact/arrow_metal_01.ogg")
    assert arrow is not None and arrow.category == "WEAPArro" and arrow.license == "CC-BY-SA-3.0"
    assert match(rules, "minetest-data", "usr/share/doc/minetest-data/copyright") is not None  # a '-' row


# -- bad rows -------------------------------------------------------------------------------------
GOOD = "minetest-data,*/wood*.ogg,FEETHmn,CC-BY-SA-3.0,Mito551"


def _mapping(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "sources.csv"
    path.write_text("\n".join([",".join(MAPPING_COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("bad, words", [
    ("minetest-data,*/x.ogg,FEETWood,CC-BY-3.0,someone", "unknown CatID 'FEETWood'"),
    ("minetest-data,*/x.ogg,FEETHmn,GPL-2+,someone", "license 'GPL-2+' is not allowed"),
    ("minetest-data,*/x.ogg,FEETHmn,public-domain,someone", "license 'public-domain'"),
    ("doom-wad-data,*/x.ogg,FEETHmn,CC0-1.0,someone", "unknown package 'doom-wad-data'"),
    ("minetest-data,*/x.ogg,FEETHmn,CC0-1.0,", "no attribution"),
    ("minetest-data,,FEETHmn,CC0-1.0,someone", "empty pattern"),
    ("0ad-data,*.zip!audio/x.ogg,FEETHmn,CC0-1.0,someone", "literal path of a .zip"),
    ("minetest-data,*/x.ogg,FEETHmn,CC0-1.0", "4 fields"),
])
def test_a_bad_row_is_refused_naming_the_file_and_line(tmp_path: Path, bad: str, words: str) -> None:
    path = _mapping(tmp_path, GOOD, "", bad)  # a blank line between: the line number still counts it
    with pytest.raises(LibraryError) as info:
        load_mapping(path)
    assert info.value.path == path
    assert "line 4:" in str(info.value) and words in str(info.value), str(info.value)


def test_a_wrong_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.csv"
    path.write_text("package,pattern,category,licence,attribution\n" + GOOD + "\n", encoding="utf-8")
    with pytest.raises(LibraryError, match="line 1: the columns must be"):
        load_mapping(path)


def test_an_exclusion_row_needs_no_license(tmp_path: Path) -> None:
    rules = load_mapping(_mapping(tmp_path, "minetest-data,*/music/*,-,-,-", GOOD))
    assert [r.excluded for r in rules] == [True, False] and rules[1].line == 3


# -- match ----------------------------------------------------------------------------------------
def test_match_first_row_wins_and_a_dash_row_excludes() -> None:
    rules = [
        SourceRule("minetest-data", "*/sounds/*_footstep*.ogg", "FEETHmn", "CC0-1.0", "a"),
        SourceRule("minetest-data", "*/sounds/*ui*", "-", "-", "-"),
        SourceRule("minetest-data", "*/sounds/*", "WOODImpt", "CC0-1.0", "b"),
        SourceRule("0ad-data", "*", "ROCKImpt", "CC0-1.0", "c"),
    ]
    first = match(rules, "minetest-data", "usr/x/sounds/default_wood_footstep.1.ogg")
    assert first is rules[0]
    assert match(rules, "minetest-data", "usr/x/sounds/ui_click_footstep.ogg") is rules[0]  # first wins
    ui = match(rules, "minetest-data", "usr/x/sounds/ui_click.ogg")
    assert ui is rules[1] and ui.excluded
    assert match(rules, "minetest-data", "usr/x/sounds/knock.ogg") is rules[2]
    assert match(rules, "minetest-data", "usr/x/textures/a.png") is None  # no row: not used
    assert match(rules, "0ad-data", "anything") is rules[3]  # a row only applies to its package
    assert match(rules, "megaglest-data", "usr/x/sounds/knock.ogg") is None


def test_default_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOLEYFLOW_CACHE", str(tmp_path / "c"))
    assert default_cache() == tmp_path / "c"
    monkeypatch.delenv("FOLEYFLOW_CACHE")
    assert default_cache() == Path.home() / ".cache" / "foleyflow"


def test_library_path_drops_the_sound_root_and_nesting_folders() -> None:
    mods = "usr/share/games/minetest/games/minetest_game/mods"
    assert (sources.library_path("minetest-data", f"{mods}/default/sounds/default_wood_footstep.1.ogg")
            == "minetest-data/default/default_wood_footstep.1.ogg")
    assert (sources.library_path("0ad-data", f"{ZIP}!audio/attack/impact/arrow_01.ogg")
            == "0ad-data/attack/impact/arrow_01.ogg")
    assert (sources.library_path("fake", "usr/share/games/fake/units/sounds/a.wav") == "fake/fake/a.wav")


# -- a whole fetch on fake packages ---------------------------------------------------------------
RATE = 48000
FAKE = "foleyflow-fake-data"
FAKE_ZIP = "foleyflow-fake-zip"
SND = "usr/share/games/fake/sounds"
PZIP = "usr/share/games/fakezip/public.zip"


def _tone(rate: int, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    env = np.exp(-np.arange(n) / (0.05 * rate))
    return (0.3 * env * rng.standard_normal(n)).astype(np.float32)


def _wav_bytes(tmp: Path, rate: int, seconds: float, seed: int, fmt: str = "WAV") -> bytes:
    path = tmp / f"t{seed}.{fmt.lower()}"
    sf.write(path, _tone(rate, seconds, seed), rate, format=fmt)
    return path.read_bytes()


def _build_deb(root: Path, package: str, out: Path) -> Path:
    (root / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Test <t@example.org>\n"
        "Description: a fake game-data package for the tests\n", encoding="utf-8")
    deb = out / f"{package}_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Znone", "--build", str(root), str(deb)],
                   check=True, capture_output=True)
    return deb


@pytest.fixture
def fake_debs(tmp_path: Path) -> dict[str, Path]:
    work = tmp_path / "build"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = tmp_path / "mirror"
    out.mkdir()
    # a plain package: sounds, one too low in rate, one under music/, one unreadable, a duplicate
    root = work / FAKE
    snd = root / SND
    (snd / "music").mkdir(parents=True)
    step = _wav_bytes(scratch, RATE, 0.4, 1)
    (snd / "step_wood1.wav").write_bytes(step)
    (snd / "step_wood2.ogg").write_bytes(_wav_bytes(scratch, 44100, 0.5, 2, "OGG"))
    (snd / "knock.flac").write_bytes(_wav_bytes(scratch, RATE, 0.25, 3, "FLAC"))
    (snd / "door_low.wav").write_bytes(_wav_bytes(scratch, 22050, 0.3, 4))
    (snd / "music" / "theme.ogg").write_bytes(_wav_bytes(scratch, 44100, 1.0, 5, "OGG"))
    (snd / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really a wave file")
    (snd / "ui_click.wav").write_bytes(_wav_bytes(scratch, RATE, 0.1, 6))
    (snd / "step_wood1_copy.wav").write_bytes(step)  # the same audio again
    os.symlink("step_wood1.wav", snd / "step_link.wav")
    (root / "usr/share/doc" / FAKE).mkdir(parents=True)
    (root / "usr/share/doc" / FAKE / "copyright").write_text("CC-BY-SA-3.0\n", encoding="utf-8")
    # a package whose audio is inside a zip (as 0 A.D.'s), music and voice members in it too
    zroot = work / FAKE_ZIP
    (zroot / PZIP).parent.mkdir(parents=True)
    with zipfile.ZipFile(zroot / PZIP, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("audio/impact/metal_01.wav", _wav_bytes(scratch, RATE, 0.3, 7))
        zf.writestr("audio/impact/wood_01.ogg", _wav_bytes(scratch, 44100, 0.2, 8, "OGG"))
        zf.writestr("audio/music/track.ogg", _wav_bytes(scratch, 44100, 0.5, 9, "OGG"))
        zf.writestr("audio/voice/hello.wav", _wav_bytes(scratch, RATE, 0.3, 10))
        zf.writestr("art/texture.png", b"\x89PNG not audio")
    return {FAKE: _build_deb(root, FAKE, out), FAKE_ZIP: _build_deb(zroot, FAKE_ZIP, out)}


def _fake_rules(tmp_path: Path) -> list[SourceRule]:
    path = _mapping(
        tmp_path,
        f"{FAKE},{SND}/ui_*,-,-,-",
        f"{FAKE},{SND}/step_*,FEETHmn,CC-BY-SA-3.0,Fake Author",
        f"{FAKE},{SND}/*,WOODImpt,CC0-1.0,\"Other, Author\"",  # catches music/theme.ogg: policy drops it
        f"{FAKE_ZIP},{PZIP}!audio/music/*,-,-,-",
        f"{FAKE_ZIP},{PZIP}!audio/impact/metal*,METLImpt,CC-BY-3.0,Zip Team",
        f"{FAKE_ZIP},{PZIP}!audio/*,WOODImpt,CC-BY-3.0,Zip Team",  # catches voice/: policy drops it
    )
    return load_mapping(path, packages=(FAKE, FAKE_ZIP))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _counting(debs: dict[str, Path], calls: list[str]) -> Callable[[str, Path], Path]:
    def downloader(package: str, dest: Path) -> Path:
        calls.append(package)
        return debs[package]
    return downloader


@needs_dpkg
def test_fetch_library_on_fake_packages(tmp_path: Path, fake_debs: dict[str, Path]) -> None:
    cache = tmp_path / "cache"
    rules = _fake_rules(tmp_path)
    calls: list[str] = []
    report = fetch_library(cache, (FAKE, FAKE_ZIP), rules=rules, downloader=_counting(fake_debs, calls),
                           write_text=_write)
    assert calls == [FAKE, FAKE_ZIP] and report.downloaded == [FAKE, FAKE_ZIP]
    assert (cache / "library" / "library.csv").read_text(encoding="utf-8") == report.csv_text

    library = cache / "library"
    with (library / "library.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == ("path", "category", "license", "attribution", "source")
        rows = list(reader)
    assert [(r["path"], r["category"], r["license"], r["attribution"]) for r in rows] == [
        (f"{FAKE}/fake/knock.flac", "WOODImpt", "CC0-1.0", "Other, Author"),
        (f"{FAKE}/fake/step_wood1.wav", "FEETHmn", "CC-BY-SA-3.0", "Fake Author"),
        (f"{FAKE}/fake/step_wood2.ogg", "FEETHmn", "CC-BY-SA-3.0", "Fake Author"),
        (f"{FAKE_ZIP}/fakezip/impact/metal_01.wav", "METLImpt", "CC-BY-3.0", "Zip Team"),
        (f"{FAKE_ZIP}/fakezip/impact/wood_01.ogg", "WOODImpt", "CC-BY-3.0", "Zip Team"),
    ]
    assert rows[1]["source"] == f"debian:{FAKE}/{SND}/step_wood1.wav"
    assert rows[3]["source"] == f"debian:{FAKE_ZIP}/{PZIP}!audio/impact/metal_01.wav"
    for r in rows:
        info = sf.info(library / r["path"])
        assert info.samplerate >= MIN_RATE and info.frames > 0
    assert sorted(p.relative_to(library).as_posix() for p in library.rglob("*") if p.is_file()) == sorted(
        [r["path"] for r in rows] + ["library.csv"])

    reasons = dict(report.excluded)
    src = f"debian:{FAKE}/{SND}"
    assert reasons[f"{src}/door_low.wav"] == f"low rate: 22050 Hz < {MIN_RATE} Hz"
    assert reasons[f"{src}/broken.wav"].startswith("unreadable:")
    assert reasons[f"{src}/music/theme.ogg"].startswith("music or speech:")
    assert reasons[f"{src}/step_wood1_copy.wav"] == f"duplicate: the same audio as {src}/step_wood1.wav"
    assert reasons[f"{src}/step_link.wav"].startswith("duplicate:")
    assert reasons[f"debian:{FAKE_ZIP}/{PZIP}!audio/voice/hello.wav"].startswith("music or speech:")
    assert len(reasons) == 6  # the zip's music/ is a '-' row: not reported, only counted
    assert report.excluded_by_mapping == 2  # ui_click.wav and audio/music/track.ogg
    assert report.excluded_by_reason() == {"duplicate": 2, "music or speech": 2, "low rate": 1, "unreadable": 1}
    assert report.kept == {"FEETHmn": 2, "WOODImpt": 2, "METLImpt": 1}
    assert report.seconds["FEETHmn"] == pytest.approx(0.9, abs=1e-3)
    assert report.total_files == 5
    text = report.summary()
    assert "FEETHmn" in text and "FOOTSTEPS / HUMAN" in text and "low rate" in text

    # nothing left behind but the cached .debs and the library
    assert sorted(p.name for p in cache.iterdir()) == ["debs", "library"]
    assert sorted(p.name for p in (cache / "debs").iterdir()) == sorted(d.name for d in fake_debs.values())

    # a second run reuses the cached .debs: the downloader is not called again, the library is the same
    before = (library / "library.csv").read_text(encoding="utf-8")
    again = fetch_library(cache, (FAKE, FAKE_ZIP), rules=rules, downloader=_counting(fake_debs, calls),
                          write_text=_write)
    assert calls == [FAKE, FAKE_ZIP] and again.downloaded == [] and again.packages == [FAKE, FAKE_ZIP]
    assert (library / "library.csv").read_text(encoding="utf-8") == before
    assert again.kept == report.kept

    # a run of one package keeps the other's rows
    one = fetch_library(cache, (FAKE_ZIP,), rules=rules, downloader=_counting(fake_debs, calls), write_text=_write)
    assert one.kept == {"METLImpt": 1, "WOODImpt": 1}
    assert (library / "library.csv").read_text(encoding="utf-8") == before


@needs_dpkg
def test_a_failing_apt_get_names_the_package_and_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text("#!/bin/sh\necho 'E: Unable to locate package '\"$2\" >&2\nexit 100\n", encoding="utf-8")
    apt.chmod(0o755)
    os.symlink(shutil.which("dpkg-deb") or "dpkg-deb", bin_dir / "dpkg-deb")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(LibraryError) as info:
        fetch_library(tmp_path / "cache", ("minetest-data",))
    text = str(info.value)
    assert "apt-get download minetest-data failed" in text and "Unable to locate package minetest-data" in text
    assert not list((tmp_path / "cache" / "debs").iterdir())  # no half download left


def test_missing_commands_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither dpkg-deb nor apt-get
    with pytest.raises(LibraryError, match="'dpkg-deb' is missing"):
        fetch_library(tmp_path / "cache", ("minetest-data",))
    real = shutil.which("dpkg-deb", path="/usr/bin:/bin:/usr/local/bin")
    if real is None:
        return
    os.symlink(real, tmp_path / "dpkg-deb")
    with pytest.raises(LibraryError, match="'apt-get' is missing"):
        fetch_library(tmp_path / "cache", ("minetest-data",))


def test_a_package_no_row_names_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no row of the mapping names the package"):
        fetch_library(tmp_path / "cache", ("nonexistent-data",), downloader=lambda p, d: d)
