"""The panel driven the way an editor uses it: open, select, generate, cancel, generate again, place, save."""

from __future__ import annotations

import re
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import TIMELINES
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow
from ui_fixtures import FakeCache, engines, make_timeline, wav_files  # noqa: F401 (engines is a fixture)

from foleyflow.plugin import cli, service
from foleyflow.plugin.generate import Engine
from foleyflow.plugin.placement import NAMESPACE
from foleyflow.plugin.timeline import read_timeline
from foleyflow.plugin.timing import seconds
from foleyflow.ui.clip_table import COL_MEDIA, COL_TAKE
from foleyflow.ui.panel import FoleyPanel, ReviewChoice
from foleyflow.ui.preview import NullPlayer

CORPUS = TIMELINES
STEPS = 2


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """V1: a (2 s), b (2 s), gone (no media); V2: long (24 s, six segments: room to cancel)."""
    folder = tmp_path_factory.mktemp("cut")
    return make_timeline(folder, [[("a", 2.0, True), ("b", 2.0, True), ("gone", 2.0, False)],
                                  [("long", 24.0, True)]])


@pytest.fixture
def panel(qtbot, tmp_path, engines):  # noqa: F811
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    p = FoleyPanel(settings=store, engines=engines, player=NullPlayer())
    p.confirm_unsaved = lambda question: "discard"  # the unsaved-work questions: tests/test_ui_recovery.py
    qtbot.addWidget(p)
    p.resize(1400, 860)
    p.show()
    p.form.steps.setValue(STEPS)
    p.form.set_output_folder(str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    return p


def cell(p: FoleyPanel, clip_id: str, col: int) -> str:
    return p.table.clips.data(p.table.clips.index(p.table.clips.row_of(clip_id), col))


def click_clip(qtbot, p: FoleyPanel, clip_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = p.view.clip_rect(clip_id)
    assert rect is not None, clip_id
    qtbot.mouseClick(p.view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center().toPoint())


def run_to_end(qtbot, p: FoleyPanel, start) -> object:
    with qtbot.waitSignal(p.runFinished, timeout=60_000) as blocker:
        start()
    qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)
    return blocker.args[0]


def test_open_select_generate_place_save(qtbot, panel, cut, tmp_path):
    p = panel
    assert p.open_timeline(cut)
    # what the editor sees: four rows, the missing clip marked, tracks painted
    assert p.table.model().rowCount() == 4
    assert p.title.text() == "Test cut"
    assert cell(p, "V1:2", COL_MEDIA) == "missing"
    assert cell(p, "V1:0", COL_MEDIA) == "found"
    assert "missing" in p.message_text()
    assert [r.label for r in p.view.rows] == ["V2", "V1"]

    # select in the timeline view: click, ctrl-click, shift-click; the table follows
    click_clip(qtbot, p, "V1:0")
    assert p.selected_ids() == ["V1:0"]
    click_clip(qtbot, p, "V1:2", Qt.KeyboardModifier.ShiftModifier)  # a range from the last click
    assert p.selected_ids() == ["V1:0", "V1:1", "V1:2"]
    click_clip(qtbot, p, "V1:1", Qt.KeyboardModifier.ControlModifier)  # toggles one
    assert p.selected_ids() == ["V1:0", "V1:2"]
    assert p.view.selected == {"V1:0", "V1:2"}
    # select in the table: the view follows
    p.table.select_ids(["V2:0"])
    assert p.view.selected == {"V2:0"}
    # select all on a track (the track header)
    header = p.view.header_rect("V1")
    qtbot.mouseClick(p.view.viewport(), Qt.MouseButton.LeftButton, pos=header.center().toPoint())
    assert p.selected_ids() == ["V1:0", "V1:1", "V1:2"]
    assert p.generate_button.text() == "Generate 3 clips"

    result = run_to_end(qtbot, p, lambda: qtbot.mouseClick(p.generate_button, Qt.MouseButton.LeftButton))
    assert not result.cancelled and set(result.takes) == {"V1:0", "V1:1"}
    # statuses, progress, waveforms, the missing clip's reason in plain words
    assert cell(p, "V1:0", COL_TAKE).startswith("seed 0") and "kept" in cell(p, "V1:0", COL_TAKE)
    assert cell(p, "V1:2", COL_TAKE) == "Skipped"
    assert p.overall.value() == 1000
    assert "V1:2 'gone': media not found" in p.message_text()
    assert str(Path(cut).parent / "media" / "gone.mp4") in p.message_text()
    assert "V1:0" in p.view.takes and "V1:1" in p.view.takes
    p.table.select_ids(["V1:1"], current="V1:1")
    assert p.take_card.waveform.has_waveform()
    assert p.take_card.heading.text() == "V1:1 · b"
    # preview: no audio output here, and the panel says so instead of failing
    qtbot.mouseClick(p.take_card.play, Qt.MouseButton.LeftButton)
    assert "no audio output" in p.take_card.player_note.text()

    # keep one, drop the other, place
    qtbot.mouseClick(p.take_card.keep, Qt.MouseButton.LeftButton)
    assert not p.session.is_kept("V1:1") and p.session.is_kept("V1:0")
    assert p.place_button.text() == "Place kept takes (1)"
    qtbot.mouseClick(p.place_button, Qt.MouseButton.LeftButton)
    assert "Foley V1" in [r.label for r in p.view.rows]
    assert "placed" in cell(p, "V1:0", COL_TAKE)

    saved = p.save()
    assert saved == tmp_path / "out" / "cut_foley.otio"
    assert str(saved) in p.message_text()
    tl = read_timeline(saved).timeline
    foley = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert [t.name for t in foley] == ["Foley V1"]
    clips = [c for c in foley[0] if isinstance(c, otio.schema.Clip)]
    assert [c.metadata[NAMESPACE]["source_clip"] for c in clips] == ["V1:0"]
    assert clips[0].metadata[NAMESPACE]["steps"] == STEPS
    # save as another format the plugin writes
    xml = p.save_as(tmp_path / "out" / "cut_foley.xml")
    assert xml is not None and xml.exists()
    # the input timeline is never overwritten
    assert p.save_as(cut) is None and p.message_level() == "error"


def test_cancel_mid_run_leaves_nothing_then_generate_again(qtbot, panel, cut, tmp_path):
    p = panel
    p.form.steps.setValue(3)  # six segments of a 24 s clip: room to cancel between them
    assert p.open_timeline(cut)
    wav_dir = p.doc.wav_dir(tmp_path / "out")
    p.select_clips(["V2:0"])
    with qtbot.waitSignal(p.runFinished, timeout=60_000) as blocker:
        qtbot.mouseClick(p.generate_button, Qt.MouseButton.LeftButton)
        assert p.is_running() and not p.generate_button.isEnabled()
        qtbot.waitUntil(lambda: 0 < p.table.clips.take("V2:0").fraction < 1, timeout=60_000)
        qtbot.mouseClick(p.cancel_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)
    assert result.cancelled and not result.takes
    assert result.segments_after_cancel <= 1  # stopped within one segment
    assert cell(p, "V2:0", COL_TAKE) == "Cancelled"
    assert "Cancelled" in p.message_text() and "nothing placed" in p.message_text()
    assert wav_files(wav_dir) == []  # nothing half-written, no stray file
    assert not p.doc.placed and "Foley V1" not in [r.label for r in p.view.rows]

    # generate again (short clips), place, save
    p.form.steps.setValue(STEPS)
    p.select_clips(["V1:0", "V1:1"])
    result = run_to_end(qtbot, p, p.generate)
    assert set(result.takes) == {"V1:0", "V1:1"}
    # the takes, beside the take keys' sidecars (WAV_DIR/.foleyflow/*.json)
    assert sorted(f.name for f in wav_files(wav_dir) if f.parent == wav_dir) == ["V1_0_a_seed0.wav",
                                                                                   "V1_1_b_seed0.wav"]
    assert p.place() == 2
    saved = p.save_as(tmp_path / "out" / "again.otio")
    tl = read_timeline(saved).timeline
    (foley,) = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert sorted(c.metadata[NAMESPACE]["source_clip"] for c in foley if isinstance(c, otio.schema.Clip)) == [
        "V1:0", "V1:1"]


def test_closing_during_a_run_cancels_cleanly(qtbot, tmp_path, cut, engines):  # noqa: F811
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    p = FoleyPanel(settings=store, engines=engines, player=NullPlayer())
    p.show()
    p.form.steps.setValue(STEPS)
    p.form.set_output_folder(str(tmp_path))
    assert p.open_timeline(cut)
    wav_dir = p.doc.wav_dir(tmp_path)
    p.select_clips(["V2:0"])
    assert p.generate()
    qtbot.waitUntil(lambda: p.table.clips.take("V2:0").fraction > 0, timeout=60_000)
    thread = p._thread
    p.close()  # cancels, quits and waits: the process goes on
    assert thread.isFinished()
    p.deleteLater()
    qtbot.wait(10)
    assert wav_files(wav_dir) == []


def test_rerolls_and_variations(qtbot, panel, cut, fake_engine):
    p = panel
    p.engines = FakeCache(fake_engine)  # the model's sound does not matter here: instant takes
    p.form.variations.setValue(2)
    p.form.seed.setValue(5)
    assert p.open_timeline(cut)
    p.select_clips(["V1:0"])
    run_to_end(qtbot, p, p.generate)
    res = p.take_result("V1:0")
    assert res.seeds == [5, 6] and len(res.peaks) == 2
    assert p.take_card.variation.count() == 2 and p.take_card.variation.isEnabled()
    p.set_variation("V1:0", 1)
    assert p.session.take("V1:0").active == 1 and "seed 6" in cell(p, "V1:0", COL_TAKE)
    old = list(res.take.media)
    run_to_end(qtbot, p, lambda: qtbot.mouseClick(p.take_card.reroll, Qt.MouseButton.LeftButton))
    new = p.take_result("V1:0")
    assert new.seeds != [5, 6] and all(m.exists() for m in new.take.media)
    assert not any(m.exists() for m in old)  # the replaced take's files are gone
    # placed, then not kept and placed again: off the timeline
    assert p.place() == 1 and "Foley V1" in [r.label for r in p.view.rows]
    p.set_keep("V1:0", False)
    assert p.place_button.isEnabled()
    p.place()
    assert "Foley V1" not in [r.label for r in p.view.rows] and not p.doc.placed


def test_docked_in_a_host_window_closing_the_host_cancels_cleanly(qtbot, tmp_path, cut, engines):  # noqa: F811
    host = QMainWindow()
    dock = QDockWidget("Foley-Flow", host)
    p = FoleyPanel(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), engines=engines,
                   player=NullPlayer())
    dock.setWidget(p)
    host.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    host.show()
    p.form.steps.setValue(STEPS)
    p.form.set_output_folder(str(tmp_path))
    assert p.open_timeline(cut)
    p.select_clips(["V2:0"])
    assert p.generate()
    qtbot.waitUntil(lambda: p.table.clips.take("V2:0").fraction > 0, timeout=60_000)
    thread = p._thread
    host.close()  # the host's close reaches the panel: cancel, quit, wait
    assert thread.isFinished()
    host.deleteLater()
    qtbot.wait(10)
    assert wav_files(tmp_path / "cut_foley_foley") == []


def test_errors_in_plain_words(qtbot, panel, tmp_path, cut):
    p = panel
    bad = tmp_path / "broken.otio"
    bad.write_text("{ not json")
    assert not p.open_timeline(bad)
    assert p.message_level() == "error" and "Cannot open the timeline" in p.message_text()
    assert str(bad) in p.message_text()
    assert not p.open_timeline(tmp_path / "nowhere.otio")
    assert "not found" in p.message_text()
    # a model folder that is not a model package
    assert p.open_timeline(cut)
    empty = tmp_path / "not_a_model"
    empty.mkdir()
    p.form.set_model_package(str(empty))
    p.select_clips(["V1:0"])
    result = run_to_end(qtbot, p, p.generate)
    assert result.error and p.message_level() == "error"
    assert "model cannot be loaded" in p.message_text() and str(empty) in p.message_text()
    # only a clip without media: nothing to do, and why
    p.form.set_model_package("")
    p.select_clips(["V1:2"])
    run_to_end(qtbot, p, p.generate)
    assert "no selected clip can be generated" in p.message_text()
    assert "'gone': media not found" in p.message_text()


def test_drop_recent_and_collections(qtbot, panel, cut):
    p = panel
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(cut))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    p.dropEvent(drop)
    assert p.doc is not None and p.doc.path == cut
    assert p.values.recent[0] == str(cut.resolve())
    actions = [a for a in p.recent_menu.actions() if a.isEnabled()]
    assert actions[0].text() == "cut.otio"
    # an FCPXML library with two timelines: the editor picks the second
    asked = []
    p.choose_timeline = lambda names: asked.append(list(names)) or 1
    assert p.open_timeline(CORPUS / "fcpx_example.fcpxml")
    assert asked == [["OpenTimeline_Project", "OpenTimeline_Project 1"]]
    assert p.doc.loaded.index == 1 and "timeline 2 of 2" in p.subtitle.text()
    # recent files: a click reopens
    recent = [a for a in p.recent_menu.actions() if a.text() == "cut.otio"][0]
    recent.trigger()
    assert p.doc.path == cut


def test_settings_are_remembered(qtbot, tmp_path, engines):  # noqa: F811
    ini = str(tmp_path / "settings.ini")
    p = FoleyPanel(settings=QSettings(ini, QSettings.Format.IniFormat), engines=engines, player=NullPlayer())
    qtbot.addWidget(p)
    p.form.steps.setValue(7)
    p.form.guidance.setValue(3.5)
    p.form.seed.setValue(1234)
    p.form.variations.setValue(3)
    p.form.set_output_folder(str(tmp_path))
    p.form.provider.setCurrentIndex(p.form.provider.findData("cpu"))
    qtbot.mouseClick(p.theme_button, Qt.MouseButton.LeftButton)
    again = FoleyPanel(settings=QSettings(ini, QSettings.Format.IniFormat), engines=engines, player=NullPlayer())
    qtbot.addWidget(again)
    v = again.values
    assert (v.steps, v.guidance, v.seed, v.variations, v.output_folder, v.provider, v.theme) == (
        7, 3.5, 1234, 3, str(tmp_path), "cpu", "light")
    assert again.form.steps.value() == 7 and again.form.seed.value() == 1234
    assert again.recent_menu.actions()[0].text() == "No recent timelines"


def test_the_window_stays_responsive_while_generating(qtbot, panel, cut):
    p = panel
    p.form.steps.setValue(4)
    assert p.open_timeline(cut)
    p.select_clips(["V2:0"])
    assert p.generate()
    qtbot.waitUntil(lambda: p.table.clips.take("V2:0").fraction > 0, timeout=60_000)
    # the GUI thread handles clicks while the worker runs
    p.table.select_ids(["V1:0"], current="V1:0")
    assert p.take_card.heading.text() == "V1:0 · a"
    qtbot.mouseClick(p.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(300, 10))  # the ruler
    assert p.view.playhead > 0
    assert 0 < p.overall.value() < 1000
    # how much is left depends on the machine's speed: any of the panel's forms will do, never blank
    assert re.fullmatch(r"estimating time left…|almost done|about \d+ (s|min) left", p.time_left.text())
    assert p.overall.format().startswith("Clip 1 of 1")
    with qtbot.waitSignal(p.runFinished, timeout=60_000):
        p.cancel()
    qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)


def foley_clips(path: Path) -> list[tuple[otio.schema.Clip, otio.opentime.TimeRange]]:
    tl = otio.adapters.read_from_file(str(path))
    return [(c, t.range_of_child_at_index(i)) for t in tl.audio_tracks() for i, c in enumerate(t)
            if isinstance(c, otio.schema.Clip) and NAMESPACE in c.metadata]


def test_save_as_into_another_folder_keeps_every_take_resolvable(qtbot, panel, cut, tmp_path, fake_engine):
    """Takes the timeline already holds (relative URLs) and new ones resolve from the saved file's folder."""
    p = panel
    p.engines = FakeCache(fake_engine)
    assert p.open_timeline(cut)
    p.select_clips(["V1:0"])
    run_to_end(qtbot, p, p.generate)
    assert p.place() == 1 and p.dirty
    first = p.save()
    assert first == tmp_path / "out" / "cut_foley.otio" and not p.dirty
    assert [c.media_reference.target_url for c, _ in foley_clips(first)] == ["cut_foley_foley/V1_0_a_seed0.wav"]
    # the editor opens the saved timeline, adds a take and saves it as a file in another folder
    assert p.open_timeline(first)
    p.select_clips(["V1:1"])
    run_to_end(qtbot, p, p.generate)
    assert p.place() == 1
    other = tmp_path / "elsewhere" / "deeper"
    other.mkdir(parents=True)
    assert other != p.default_save_path().parent
    saved = p.save_as(other / "saved.otio")
    assert saved == other / "saved.otio" and p.message_level() == "ok"
    placed = foley_clips(saved)
    assert sorted(c.metadata[NAMESPACE]["source_clip"] for c, _ in placed) == ["V1:0", "V1:1"]
    for clip, where in placed:
        wav = saved.parent / otio.url_utils.filepath_from_url(clip.media_reference.target_url)
        assert wav.is_file(), clip.media_reference.target_url
        info = sf.info(str(wav))
        assert info.samplerate == 48000 and info.frames == round(seconds(where.duration) * 48000) == 2 * 48000


def test_the_cli_and_the_panel_run_and_save_through_the_same_service(qtbot, panel, cut, tmp_path, fake_engine,
                                                                     monkeypatch):
    calls: list[tuple[str, str]] = []
    real_run, real_save = service.run, service.save
    phase = {"now": ""}

    def run(*args, **kwargs):
        calls.append((phase["now"], "run"))
        return real_run(*args, **kwargs)

    def save(*args, **kwargs):
        calls.append((phase["now"], "save"))
        return real_save(*args, **kwargs)

    monkeypatch.setattr(service, "run", run)
    monkeypatch.setattr(service, "save", save)
    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, package, provider="auto": fake_engine))
    phase["now"] = "cli"
    out = tmp_path / "cli" / "cut.otio"
    out.parent.mkdir()
    assert cli.main(["generate", str(cut), "-o", str(out), "--clip", "V1:0", "-q"]) == 0
    phase["now"] = "panel"
    p = panel
    p.engines = FakeCache(fake_engine)
    assert p.open_timeline(cut)
    p.select_clips(["V1:0"])
    run_to_end(qtbot, p, p.generate)
    assert p.place() == 1 and p.save() is not None
    assert calls == [("cli", "run"), ("cli", "save"), ("panel", "run"), ("panel", "save")]
    assert [c.metadata[NAMESPACE]["source_clip"] for c, _ in foley_clips(out)] == ["V1:0"]


def test_export_review_renders_the_cut_with_its_placed_takes(qtbot, panel, tmp_path, fake_engine):
    import av

    p = panel
    p.engines = FakeCache(fake_engine)
    cut = make_timeline(tmp_path / "review", [[("r1", 1.0, True), ("r2", 1.2, True)]])
    assert p.open_timeline(cut)
    p.select_clips(["V1:0"])
    run_to_end(qtbot, p, p.generate)
    assert p.place() == 1
    asked = []
    out = tmp_path / "out" / "review.mp4"
    p.choose_review = lambda start: asked.append(start) or ReviewChoice(out, original_db=None)  # original muted
    with qtbot.waitSignal(p.reviewFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(p.review_button, Qt.MouseButton.LeftButton)
        assert p.is_running() and not p.generate_button.isEnabled()  # busy while it renders
    qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)
    result = blocker.args[0]
    assert asked == [tmp_path / "out" / "cut_review.mp4"]
    assert p.message_level() == "ok" and str(out) in p.message_text() and result.foley_items == 1
    assert p.review_button.isEnabled() and p.dirty  # the review changes nothing of the work
    with av.open(str(out)) as f:
        video, audio = f.streams.video[0], f.streams.audio[0]
        n_frames = sum(1 for _ in f.decode(video))
    with av.open(str(out)) as f:
        n_samples = sum(fr.samples for fr in f.decode(f.streams.audio[0]))
    assert n_frames == 55  # 2.2 s at 25 fps
    assert audio.rate == 48000 and abs(n_samples - 2.2 * 48000) <= 2048  # AAC pads to its frames
    # a failure is said in the banner, and the panel is usable again
    with qtbot.waitSignal(p.reviewFinished, timeout=60_000) as blocker:
        p.export_review(ReviewChoice(tmp_path / "review.mov.txt"))
    assert isinstance(blocker.args[0], str) and p.message_level() == "error" and "Review not written" in \
        p.message_text()
    qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)
