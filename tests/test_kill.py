"""Faults: a run SIGKILLed at each stage of its work, and a run cancelled, lose nothing.

Each kill lands where the test says, whatever the machine's speed: the run is held (a small wrapper
around ``foleyflow generate``, the command scripts/kill_trials.py kills) while a take's WAV is half
written, or with every take whole and the timeline's temporary file not yet renamed, and killed
there. After each kill the input is byte-identical, the only file left over is the one being written
(under a hidden temporary name of the killed process), every WAV under a final name is whole (exact
frame count), the output timeline is absent or the old one, and a re-run completes and clears the
killed run's temporary files. Ctrl-C while a take is written, and the cancel callback the panel uses,
place nothing and remove the temporary files. The seeded random kills (24 of them) are
``python scripts/kill_trials.py``; one of its trials runs here.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile as sf

from foleyflow.plugin.errors import EXIT_OK
from foleyflow.plugin.generate import Engine, GenerateOptions
from foleyflow.plugin.pipeline import GenerateRequest, execute, plan_run
from foleyflow.runtime.errors import CancelledError

REPO = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("kill_trials", REPO / "scripts" / "kill_trials.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("kill_trials", module)
    spec.loader.exec_module(module)
    return module


kt = _load_script()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = kt.make_workspace(tmp_path_factory.mktemp("kills"))
    wall, reference = kt.calibrate(ws)
    return ws, wall, reference


# The run under test, held at a chosen point so that each kill lands where the test says: after the
# first block of audio of the K-th take ("wav:K": its temporary WAV exists, half written), or just
# before the output timeline's temporary file is renamed over its final name ("replace:NAME"). There
# the process writes MARKER and sleeps until it is killed (or interrupted).
HELD_RUN = r"""
import os, runpy, sys, time
import soundfile

marker, stage = sys.argv[1], sys.argv[2]
sys.argv = ["foleyflow-held", *sys.argv[3:]]
_replace, _write = os.replace, soundfile.SoundFile.write


def hold(what):
    with open(marker + ".part", "w") as f:
        f.write(what)
    _replace(marker + ".part", marker)
    while True:
        time.sleep(0.01)


kind, _, arg = stage.partition(":")
if kind == "wav":
    takes = []

    def write(self, data):
        written = _write(self, data)
        if self.name not in takes:
            takes.append(self.name)
            if len(takes) == int(arg):
                hold(self.name)
        return written

    soundfile.SoundFile.write = write
elif kind == "replace":
    def replace(src, dst, *args, **kwargs):
        if os.path.basename(os.fspath(dst)) == arg:
            hold(os.fspath(src))
        return _replace(src, dst, *args, **kwargs)

    os.replace = replace
runpy.run_module("foleyflow.plugin.cli", run_name="__main__", alter_sys=True)
"""


def start_held(ws, out: Path, stage: str, stderr=subprocess.DEVNULL) -> tuple[subprocess.Popen, Path]:
    """Start ``foleyflow generate`` (kill_trials' command) held at ``stage``; wait until it is there and
    return the process and the path it holds (the temporary file being written)."""
    command = kt.command(ws, out)
    assert command[:3] == [sys.executable, "-m", "foleyflow.plugin.cli"]
    marker = out.parent.parent / f"{out.parent.name}.held"
    proc = subprocess.Popen([sys.executable, "-c", HELD_RUN, str(marker), stage, *command[3:]],
                            stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    deadline = time.monotonic() + 300  # a hang guard, not a measurement
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if not marker.exists():
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the run never reached {stage} (exit {proc.returncode}): {err}")
    return proc, Path(marker.read_text())


def finals(out: Path) -> list[str]:
    wav_dir = out.parent / f"{out.stem}_foley"
    return sorted(p.name for p in wav_dir.glob("*.wav") if not p.name.startswith(".")) if wav_dir.is_dir() else []


# (stage, over an old result): the kill lands while take 1, 3 or 5 of 5 is half written, or once every
# take is whole and the timeline's temporary file is written but not yet renamed
KILLS = [("wav:1", False), ("wav:3", True), ("wav:5", False), ("replace:cut.otio", False), ("replace:cut.otio", True)]


@pytest.mark.slow
@pytest.mark.parametrize(("stage", "overwrite"), KILLS, ids=[f"{s}-{'over' if o else 'fresh'}" for s, o in KILLS])
def test_sigkill_at_each_stage_loses_nothing_and_a_rerun_completes(workspace, stage, overwrite):
    ws, wall, reference = workspace
    folder = ws.root / f"kill-{stage.replace(':', '-').replace('.', '-')}-{'over' if overwrite else 'fresh'}"
    kt.trial_folder(folder, reference, overwrite)
    out = folder / "cut.otio"
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    proc, held = start_held(ws, out, stage)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    left = kt.temps(out)
    assert left == [held] and f".tmp-{proc.pid}." in held.name  # only the file being written, under a hidden name
    assert kt.check_result(ws, out, complete=False) == []  # inputs unchanged, every final WAV whole
    if stage.startswith("wav:"):
        k = int(stage.split(":")[1])
        assert held.suffix == ".wav" and held.parent == folder / "cut_foley"
        # a fresh folder holds the k - 1 takes done; over an old result every take is there, old or new
        assert len(finals(out)) == (len(ws.samples) if overwrite else k - 1)
    else:
        assert held.parent == folder and held.suffix == ".otio"
        assert finals(out) == sorted(ws.samples)  # every take was whole before the timeline was written
    if overwrite:
        assert out.read_bytes() == before[Path("cut.otio")]  # the old timeline, untouched until the rename
    else:
        assert not out.exists()

    rerun = subprocess.run(kt.command(ws, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == EXIT_OK, rerun.stderr
    assert kt.check_result(ws, out, complete=True) == [] and kt.temps(out) == []


@pytest.mark.slow
def test_a_kill_at_a_seeded_moment_loses_nothing(workspace):
    """The script's own trial (scripts/kill_trials.py runs 24): wherever the kill lands, nothing is lost."""
    ws, wall, reference = workspace
    trial = kt.run_trial(ws, 100, 0.55 * wall, overwrite=True, reference=reference)
    assert trial.ok, trial.problems


@pytest.mark.slow
def test_ctrl_c_while_a_take_is_written_cancels_places_nothing_and_removes_temps(workspace):
    ws, wall, reference = workspace
    out = ws.root / "interrupted" / "cut.otio"
    out.parent.mkdir()
    proc, held = start_held(ws, out, "wav:2", stderr=subprocess.PIPE)
    assert held.exists() and held in kt.temps(out)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "foleyflow: cancelled" in err and "Traceback" not in err
    assert not out.exists() and kt.temps(out) == []  # the half-written take is gone, nothing is placed
    assert len(finals(out)) == 1  # the take finished before Ctrl-C is kept, whole
    assert kt.check_result(ws, out, complete=False) == []


def test_cancel_callback_places_nothing_and_removes_temps(workspace):
    """The panel's cancel (between segments, real model): no timeline, no temporary file; takes
    finished before the cancel stay whole, none is placed."""
    ws, wall, reference = workspace
    out = ws.root / "cancelled" / "cut.otio"
    out.parent.mkdir()
    plan_ = plan_run(GenerateRequest(ws.timeline, out, options=GenerateOptions(steps=2)))
    engine = Engine.load(kt.MODEL, provider="cpu")
    seen = []

    def on_event(event):
        seen.append(event.kind)

    def cancel() -> bool:  # asked before each segment: the second clip is cancelled before its first
        return "clip-done" in seen

    with pytest.raises(CancelledError):
        execute(plan_, engine, on_event=on_event, cancel=cancel)
    assert not out.exists() and kt.temps(out) == []
    wavs = sorted(plan_.wav_dir.glob("*.wav"))
    assert [p.name for p in wavs] == ["V1_0_door_seed0.wav"]
    assert sf.info(str(wavs[0])).frames == ws.samples["V1_0_door_seed0.wav"]
    assert ws.inputs == {p: kt._sha(Path(p)) for p in ws.inputs}


def test_cancel_before_any_audio_leaves_no_wav_folder(workspace):
    ws, wall, reference = workspace
    out = ws.root / "cancelled-early" / "cut.otio"
    out.parent.mkdir()
    plan_ = plan_run(GenerateRequest(ws.timeline, out, options=GenerateOptions(steps=2)))
    engine = Engine.load(kt.MODEL, provider="cpu")
    with pytest.raises(CancelledError):
        execute(plan_, engine, cancel=lambda: True)
    assert list(out.parent.iterdir()) == []


def test_the_trial_timeline_is_what_the_checks_expect(workspace):
    ws, wall, reference = workspace
    tl = otio.adapters.read_from_file(str(ws.timeline))
    n = sum(isinstance(c, otio.schema.Clip) for t in tl.video_tracks() for c in t)
    assert n == len(ws.samples) == 5
    assert sum(ws.samples.values()) == round(Fraction(275, 25) * 48000)
