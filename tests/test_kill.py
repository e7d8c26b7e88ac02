"""Faults: a run SIGKILLed at seeded random moments, and a run cancelled, lose nothing.

A sample of scripts/kill_trials.py (the full run, 24 kills, is ``python scripts/kill_trials.py``):
after each kill the input is byte-identical, every WAV under a final name is whole (exact frame
count), the output timeline is absent or whole, and a re-run completes and clears the killed
run's temporary files. Cancellation (Ctrl-C on the command line; the cancel callback the panel
uses) places nothing and removes its temporary files.
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


@pytest.mark.parametrize("index", range(4))
def test_sigkill_at_a_seeded_moment_loses_nothing(workspace, index):
    ws, wall, reference = workspace
    delay = [0.35, 0.55, 0.75, 0.95][index] * wall  # spread over the run (seeded draws in the full script)
    trial = kt.run_trial(ws, 100 + index, delay, overwrite=index % 2 == 1, reference=reference)
    assert trial.ok, trial.problems


def test_a_kill_leaves_temps_only_under_hidden_names_and_a_rerun_clears_them(workspace):
    """Kill a run while a WAV is being written (its temporary name exists), then re-run."""
    ws, wall, reference = workspace
    out = ws.root / "watched" / "cut.otio"
    out.parent.mkdir()
    proc = subprocess.Popen(kt.command(ws, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not kt.temps(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = kt.temps(out)
    if not left:
        pytest.skip("the run ended before a WAV was being written (a very fast machine)")
    assert all(p.name.startswith(".") and f".tmp-{proc.pid}." in p.name for p in left)
    assert kt.check_result(ws, out, complete=False) == []
    assert not out.exists()
    rerun = subprocess.run(kt.command(ws, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == EXIT_OK, rerun.stderr
    assert kt.check_result(ws, out, complete=True) == [] and kt.temps(out) == []


def test_ctrl_c_cancels_places_nothing_and_removes_temps(workspace):
    ws, wall, reference = workspace
    out = ws.root / "interrupted" / "cut.otio"
    out.parent.mkdir()
    proc = subprocess.Popen(kt.command(ws, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not kt.temps(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    if proc.poll() is not None:
        pytest.skip("the run ended before a WAV was being written (a very fast machine)")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == EXIT_OK:
        pytest.skip("the run ended before the interrupt arrived")
    assert proc.returncode == 130 and "foleyflow: cancelled" in err and "Traceback" not in err
    assert not out.exists() and kt.temps(out) == []
    assert kt.check_result(ws, out, complete=False) == []  # what was finished before the cancel is whole


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
