"""Takes keyed by what made them: a run killed midway and run again makes only the missing takes.

The key (plugin/takekey.py) changes with every input that decides a take's samples and with nothing
else; the run loop reuses a take whose sidecar has the job's key and whose WAVs are whole, and
``--force`` makes it again. End to end: ``foleyflow generate`` on six clips with the bundled model,
SIGKILLed once the third take is recorded, then the same command again: the three finished takes are
reused untouched, the three others are generated, and the result equals an uninterrupted run byte for
byte (``SOURCE_DATE_EPOCH`` fixes the takes' "created" time).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import write_indexed_video

from foleyflow.plugin import service, takekey
from foleyflow.plugin.generate import GenerateOptions

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "default"
RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
EPOCH = "1700000000"

# `foleyflow generate`, held right after its K-th take is recorded (WAVs and sidecar whole): it writes
# MARKER and sleeps there until it is killed, so the kill lands at the same point on any machine.
HELD_RUN = r"""
import os, sys, time
marker, k = sys.argv[1], int(sys.argv[2])
from foleyflow.plugin import cli, takekey
_write, done = takekey.write_sidecar, []

def write_sidecar(*a, **kw):
    path = _write(*a, **kw)
    done.append(path)
    if len(done) == k:
        with open(marker + ".part", "w") as f:
            f.write(str(path))
        os.replace(marker + ".part", marker)
        while True:
            time.sleep(0.01)
    return path

takekey.write_sidecar = write_sidecar
sys.exit(cli.main(sys.argv[3:]))
"""


def make_timeline(root: Path, n: int, frames: int = 10) -> Path:
    """root/cut.otio: ``n`` clips of ``frames`` frames at 25 fps, back to back on one file (relative URL)."""
    root.mkdir(parents=True, exist_ok=True)
    write_indexed_video(root / "m.mp4", n * frames + 5, Fraction(25))
    tl = otio.schema.Timeline(name="resume")
    track = otio.schema.Track(name="V1")
    tl.tracks.append(track)
    for k in range(n):
        track.append(otio.schema.Clip(name=f"c{k}", media_reference=otio.schema.ExternalReference(target_url="m.mp4"),
                                      source_range=TR(RT(k * frames, 25), RT(frames, 25))))
    path = root / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


def generate_cmd(timeline: Path, out: Path, *extra: str) -> list[str]:
    return ["generate", str(timeline), "-o", str(out), "--model", str(MODEL), "--steps", "1", "--provider", "cpu",
            *extra]


def env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(REPO / "tests")}


def wavs(out: Path) -> dict[str, bytes]:
    folder = out.parent / f"{out.stem}_foley"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.wav"))}


# -- the key ------------------------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path):
    return service.open_project(make_timeline(tmp_path / "in", 2))


def test_the_key_follows_what_makes_the_take_and_nothing_else(project):
    model = takekey.ModelIdentity("a" * 64, 4, 2.0)
    job = project.jobs[0]
    base = takekey.take_key(job, GenerateOptions(), model)
    assert base is not None and len(base) == 64
    assert takekey.take_key(job, GenerateOptions(), model) == base  # deterministic
    assert takekey.take_key(job, GenerateOptions(steps=4, guidance=2.0), model) == base  # defaults as used
    changed = [
        takekey.take_key(project.jobs[1], GenerateOptions(), model),  # another source range
        takekey.take_key(job, GenerateOptions(steps=3), model),
        takekey.take_key(job, GenerateOptions(guidance=1.5), model),
        takekey.take_key(job, GenerateOptions(seed=1), model),
        takekey.take_key(job, GenerateOptions(variations=2), model),
        takekey.take_key(job, GenerateOptions(), dataclasses.replace(model, checksum="b" * 64)),
        takekey.take_key(job, GenerateOptions(), model, prompt="glass"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    media = Path(job.media.path)
    st = media.stat()
    os.utime(media, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # the file touched: a new key
    assert takekey.take_key(job, GenerateOptions(), model) != base


def test_the_run_loop_reuses_a_finished_take_and_force_makes_it_again(project, tmp_path, fake_engine):
    wav_dir = tmp_path / "w"
    first = service.run(fake_engine, project.jobs, wav_dir, GenerateOptions())
    assert [r.reused for r in first.results] == [False, False] and len(fake_engine.model.calls) == 2
    key = first.takes[0].metadata["take_key"]
    assert key == takekey.take_key(project.jobs[0], GenerateOptions(), takekey.ModelIdentity.of_engine(fake_engine))
    again = service.run(fake_engine, project.jobs, wav_dir, GenerateOptions())
    assert [r.reused for r in again.results] == [True, True] and len(fake_engine.model.calls) == 2
    assert again.takes[0].media == first.takes[0].media and again.takes[0].metadata["take_key"] == key
    forced = service.run(fake_engine, project.jobs, wav_dir, GenerateOptions(), force=True)
    assert [r.reused for r in forced.results] == [False, False] and len(fake_engine.model.calls) == 4
    # a WAV cut short (or gone) is not a finished take: only that clip is made again
    path = first.takes[1].media[0]
    data, rate = sf.read(str(path), dtype="float32")
    sf.write(str(path), data[:-10], rate, subtype="PCM_24")
    third = service.run(fake_engine, project.jobs, wav_dir, GenerateOptions())
    assert [r.reused for r in third.results] == [True, False] and len(fake_engine.model.calls) == 5
    # other options: another key, so no reuse
    fourth = service.run(fake_engine, project.jobs[:1], wav_dir, GenerateOptions(steps=2))
    assert [r.reused for r in fourth.results] == [False]


def test_a_loader_is_not_called_when_every_take_is_reused(project, tmp_path, fake_engine):
    model = takekey.ModelIdentity.of_engine(fake_engine)
    service.run(fake_engine, project.jobs, tmp_path / "w", GenerateOptions())

    def load():
        raise AssertionError("the model was loaded for nothing")

    report = service.run(load, project.jobs, tmp_path / "w", GenerateOptions(), model=model)
    assert [r.reused for r in report.results] == [True, True]


def test_created_comes_from_source_date_epoch(project, tmp_path, fake_engine, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    report = service.run(fake_engine, project.jobs[:1], tmp_path / "w", GenerateOptions())
    assert report.takes[0].metadata["created"] == "2023-11-14T22:13:20+00:00"


# -- end to end: SIGKILL, then the same command -------------------------------------------------------
@pytest.mark.slow
def test_a_killed_generate_run_again_makes_only_the_missing_takes(tmp_path):
    timeline = make_timeline(tmp_path / "in", 6)
    ref_out, out = tmp_path / "ref" / "out.otio", tmp_path / "res" / "out.otio"
    ref_out.parent.mkdir()
    out.parent.mkdir()
    py = [sys.executable, "-m", "foleyflow.plugin.cli"]
    ref = subprocess.run([*py, *generate_cmd(timeline, ref_out)], env=env(), capture_output=True, text=True,
                         timeout=300)
    assert ref.returncode == 0, ref.stderr

    marker = tmp_path / "held"
    held = subprocess.Popen([sys.executable, "-c", HELD_RUN, str(marker), "3", *generate_cmd(timeline, out)],
                            env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert held.poll() is None, held.stderr.read().decode() if held.stderr else ""
            assert time.monotonic() < deadline, "the held run never recorded its third take"
            time.sleep(0.02)
        held.send_signal(signal.SIGKILL)
        held.wait(timeout=30)
    finally:
        if held.poll() is None:
            held.kill()
            held.wait()
    wav_dir = out.parent / "out_foley"
    sidecars = sorted(p.name for p in (wav_dir / ".foleyflow").glob("*.json"))
    assert sidecars == ["V1_0.json", "V1_1.json", "V1_2.json"] and not out.exists()
    finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in wav_dir.glob("V1_[012]_*.wav")}
    assert len(finished) == 3

    again = subprocess.run([*py, *generate_cmd(timeline, out)], env=env(), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert "3 take(s) generated, 3 reused" in again.stdout
    rows = {line.split()[0]: line.split()[5] for line in again.stdout.splitlines() if line.startswith("V1:")}
    assert rows == {"V1:0": "reused", "V1:1": "reused", "V1:2": "reused",
                    "V1:3": "generated", "V1:4": "generated", "V1:5": "generated"}
    assert {n: (wav_dir / n).stat().st_ino for n in finished} == {n: v[0] for n, v in finished.items()}
    assert {n: (wav_dir / n).stat().st_mtime_ns for n in finished} == {n: v[1] for n, v in finished.items()}
    assert wavs(out) == wavs(ref_out) and len(wavs(out)) == 6
    assert out.read_bytes() == ref_out.read_bytes()
    assert sorted(p.name for p in wav_dir.iterdir() if p.name.startswith(".") and p.is_file()) == []  # no temp left
