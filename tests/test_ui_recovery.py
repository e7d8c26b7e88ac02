"""The panel never loses an editor's work: unsaved-work questions, the recovery file, a SIGKILL mid-session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from ui_fixtures import FakeCache, make_timeline

from foleyflow.plugin.recovery import pending, read_recovery, recovery_file
from foleyflow.ui.panel import CANCEL, DISCARD, SAVE, FoleyPanel
from foleyflow.ui.preview import NullPlayer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cut(tmp_path: Path) -> Path:
    return make_timeline(tmp_path / "cut", [[("a", 1.0, True), ("b", 1.0, True)]])


@pytest.fixture
def other(tmp_path: Path) -> Path:
    return make_timeline(tmp_path / "other", [[("c", 1.0, True)]], name="Other cut", filename="other.otio")


class Answers:
    """Answers the unsaved-work question and records what was asked."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, question: str) -> str:
        self.asked.append(question)
        return self.answer


def make_panel(qtbot, tmp_path: Path, fake_engine, answer: str = DISCARD) -> tuple[FoleyPanel, Answers]:
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    p = FoleyPanel(settings=store, engines=FakeCache(fake_engine), player=NullPlayer())
    answers = Answers(answer)
    p.confirm_unsaved = answers
    qtbot.addWidget(p)
    p.form.set_output_folder(str(tmp_path / "out"))
    (tmp_path / "out").mkdir(exist_ok=True)
    p.show()
    return p, answers


def generate(qtbot, p: FoleyPanel, ids: list[str]) -> None:
    p.select_clips(ids)
    with qtbot.waitSignal(p.runFinished, timeout=60_000):
        assert p.generate()
    qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)


def test_the_recovery_file_follows_every_change_and_goes_on_save(qtbot, tmp_path, cut, fake_engine):
    p, answers = make_panel(qtbot, tmp_path, fake_engine)
    assert p.recovery_dir == tmp_path / "recovery"  # beside the settings file
    assert p.open_timeline(cut)
    path = recovery_file(p.recovery_dir, cut, 0)
    assert not path.exists() and not p.dirty  # nothing to lose yet
    generate(qtbot, p, ["V1:0", "V1:1"])
    rec = read_recovery(path)
    assert rec.timeline == cut.absolute() and rec.session == p.session.to_dict()
    assert rec.selection == ["V1:0", "V1:1"] and rec.prompts == "" and rec.pid == os.getpid()
    assert rec.settings["output_folder"] == str(tmp_path / "out")
    p.set_keep("V1:1", False)
    assert not read_recovery(path).session["clips"]["V1:1"]["kept"]
    p.place()
    assert list(read_recovery(path).session["placed"]) == ["V1:0"]
    p.select_clips(["V1:1"])
    assert read_recovery(path).selection == ["V1:1"]
    assert pending(p.recovery_dir) == []  # a live panel's file is never offered to another
    assert p.save() is not None
    assert not path.exists() and not p.dirty
    p.close()
    assert answers.asked == []  # saved: nothing to ask


@pytest.mark.parametrize("answer", [SAVE, DISCARD, CANCEL])
def test_closing_with_unsaved_work_asks(qtbot, tmp_path, cut, fake_engine, answer):
    p, answers = make_panel(qtbot, tmp_path, fake_engine, answer)
    assert p.open_timeline(cut)
    generate(qtbot, p, ["V1:0"])
    p.place()
    path = recovery_file(p.recovery_dir, cut, 0)
    assert path.exists()
    p.close()
    assert len(answers.asked) == 1 and "unsaved" in answers.asked[0] and "close" in answers.asked[0]
    saved = tmp_path / "out" / "cut_foley.otio"
    if answer == CANCEL:  # the panel stays open, with its work
        assert p.isVisible() and p.dirty and p.session.placed_takes() and path.exists() and not saved.exists()
        answers.answer = DISCARD
    elif answer == SAVE:
        assert not p.isVisible() and saved.exists() and not p.dirty and not path.exists()
    else:
        assert not p.isVisible() and not saved.exists() and not path.exists()
        assert all(Path(m).exists() for t in p.session.placed_takes() for m in t.media)  # discarding deletes no WAV


@pytest.mark.parametrize("answer", [SAVE, DISCARD, CANCEL])
def test_opening_another_timeline_with_unsaved_work_asks(qtbot, tmp_path, cut, other, fake_engine, answer):
    p, answers = make_panel(qtbot, tmp_path, fake_engine, answer)
    assert p.open_timeline(cut)
    generate(qtbot, p, ["V1:1"])
    before = p.session.to_dict()
    opened = p.open_timeline(other)
    assert len(answers.asked) == 1 and "other.otio" in answers.asked[0]
    saved = tmp_path / "out" / "cut_foley.otio"
    if answer == CANCEL:
        assert not opened and p.doc.path == cut and p.session.to_dict() == before
        assert recovery_file(p.recovery_dir, cut, 0).exists() and "still here" in p.message_text()
        answers.answer = DISCARD
    else:
        assert opened and p.doc.path == other and not p.dirty
        assert not recovery_file(p.recovery_dir, cut, 0).exists()
        assert saved.exists() == (answer == SAVE)


def test_a_left_recovery_is_offered_on_opening_its_timeline_vanished_wavs_reported(qtbot, tmp_path, cut,
                                                                                   fake_engine):
    first, _ = make_panel(qtbot, tmp_path, fake_engine)
    assert first.open_timeline(cut)
    generate(qtbot, first, ["V1:0", "V1:1"])
    first.place()
    path = recovery_file(first.recovery_dir, cut, 0)
    left = path.read_text()
    first.close()  # discarded: the file goes ...
    assert not path.exists()
    data = json.loads(left)
    data["pid"] = _dead_pid()  # ... so put back what a killed panel would have left
    path.write_text(json.dumps(data))
    gone = Path(data["session"]["clips"]["V1:1"]["take"]["media"][0])
    gone.unlink()
    second, _ = make_panel(qtbot, tmp_path, fake_engine)
    offered = []
    second.offer_recovery = lambda rec: offered.append(rec) or True
    assert second.open_timeline(cut)
    assert [r.path for r in offered] == [path]
    assert second.session.clip_ids() == ["V1:0"] and [t.source_clip_id for t in second.session.placed_takes()] \
        == ["V1:0"]
    assert second.dirty and second.message_level() == "warning" and str(gone) in second.message_text()
    assert read_recovery(path).pid == os.getpid()  # the file is this panel's now
    assert "Foley V1" in [r.label for r in second.view.rows]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


DRIVER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    sys.path.insert(0, str(Path(sys.argv[1]) / "tests"))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from conftest import FakeModel, fake_frames_needed, fake_generate
    from ui_fixtures import FakeCache
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from foleyflow.plugin.generate import Engine
    from foleyflow.ui.panel import FoleyPanel
    from foleyflow.ui.preview import NullPlayer

    _, repo, mode, folder, timeline = sys.argv
    folder = Path(folder)
    app = QApplication([])
    panel = FoleyPanel(settings=QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat),
                       engines=FakeCache(Engine(FakeModel(), fake_generate, fake_frames_needed)), player=NullPlayer())
    panel.confirm_unsaved = lambda question: "cancel"
    panel.show()

    def state(name):
        out = {"session": panel.session.to_dict(), "selection": panel.selected_ids(), "timeline": str(panel.doc.path),
               "placed_tracks": [r.label for r in panel.view.rows]}
        (folder / name).write_text(json.dumps(out))

    if mode == "work":
        panel.form.set_output_folder(str(folder / "out"))
        panel.form.seed.setValue(7)
        panel.form.variations.setValue(2)
        assert panel.open_timeline(timeline)
        done = []
        panel.runFinished.connect(done.append)
        panel.select_clips(["V1:0", "V1:1"])
        assert panel.generate()
        while not done or panel.is_running():
            app.processEvents()
            time.sleep(0.005)
        panel.set_variation("V1:0", 1)
        panel.set_keep("V1:1", False)
        panel.place()
        panel.select_clips(["V1:1"])
        state("killed.json")  # what the editor had when the panel was killed
        while True:  # an editor at work: the panel waits for SIGKILL
            app.processEvents()
            time.sleep(0.01)
    else:
        offered = []
        panel.offer_recovery = lambda rec: offered.append(str(rec.timeline)) or True
        assert panel.check_recovery(), panel.message_text()
        state("restored.json")
        (folder / "offered.json").write_text(json.dumps({"offered": offered, "message": panel.message_text()}))
        panel.discard_unsaved()
""")


def _driver(mode: str, folder: Path, timeline: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(REPO), mode, str(folder), str(timeline)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_a_panel_killed_mid_session_gets_its_work_back(tmp_path, cut):
    folder = tmp_path / "session"
    (folder / "out").mkdir(parents=True)
    work = _driver("work", folder, cut)
    deadline = time.monotonic() + 120
    while not (folder / "killed.json").exists():
        assert work.poll() is None, work.communicate()
        assert time.monotonic() < deadline, "the panel never got to work"
        time.sleep(0.05)
    time.sleep(0.2)  # the panel idles in its event loop: killed mid-session, not mid-write
    os.kill(work.pid, signal.SIGKILL)
    work.communicate(timeout=30)
    assert work.returncode == -signal.SIGKILL
    killed = json.loads((folder / "killed.json").read_text())
    assert killed["session"]["dirty"] and killed["session"]["placed"]  # unsaved work was there
    left = pending(folder / "recovery")
    assert len(left) == 1 and left[0].pid == work.pid and left[0].session == killed["session"]

    again = _driver("restore", folder, cut)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    restored = json.loads((folder / "restored.json").read_text())
    offered = json.loads((folder / "offered.json").read_text())
    assert offered["offered"] == [str(cut.absolute())] and "Restored" in offered["message"]
    assert restored == killed  # the same takes, variations, keeps, placement, selection and timeline
    assert pending(folder / "recovery") == []  # discarded at the end of the second run
