"""The panel's adapter to the plugin: documents, tracks, waveforms and runs (no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import TIMELINES
from ui_fixtures import FakeCache, make_timeline, wav_files

from foleyflow.plugin.errors import TimelineError
from foleyflow.plugin.generate import GenerateOptions
from foleyflow.ui import engine
from foleyflow.ui.engine import EngineCache, RunClock, RunSettings

CORPUS = TIMELINES


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_timeline(tmp_path_factory.mktemp("cut"), [[("a", 2.0, True), ("b", 1.0, True), ("gone", 1.0, False)]])


def test_a_real_premiere_timeline_reads_as_the_cli_lists_it():
    doc = engine.open_document(CORPUS / "premiere_example.xml")
    rows = {r.id: r for r in doc.rows}
    assert (rows["V1:1"].rec_in, rows["V1:1"].rec_out, rows["V1:1"].status) == ("00:00:17:26", "00:00:21:06", "missing")
    assert rows["V3:1"].status == "generator"
    assert "D:/media/sc01_sh010_anim.mov" in rows["V1:1"].detail and "Media folder" in rows["V1:1"].detail
    labels = [t.label for t in doc.tracks()]
    assert labels[:4] == ["V1", "V2", "V3", "V4"] and labels[4:] == ["A1", "A2", "A3", "A4"]
    v2 = next(t for t in doc.tracks() if t.label == "V2")
    assert [s.clip_id for s in v2.spans] == doc.clip_ids_on_track("V2")
    assert doc.duration == pytest.approx(max(r.end for r in doc.rows), abs=1)
    assert doc.timecode(17 + 26 / 30) == "00:00:17:26"
    assert doc.default_output() == CORPUS / "premiere_example_foley.xml"


def test_collections_and_bad_files():
    doc = engine.open_document(CORPUS / "fcpx_example.fcpxml", pick=1)
    assert doc.loaded.index == 1 and len(doc.loaded.names) == 2
    with pytest.raises(TimelineError):
        engine.open_document(CORPUS / "nope.otio")
    assert engine.is_timeline_file("x.fcpxml") and not engine.is_timeline_file("x.txt")
    assert engine.needs_rate("x.edl") and not engine.needs_rate("x.otio")
    assert "*.aaf" in engine.open_filter() and "*.edl" not in engine.save_filter()


def test_waveform_peaks_and_display(tmp_path):
    x = np.zeros(48000, np.float32)
    x[24000:24010] = 0.5
    x[30000] = -0.25
    path = tmp_path / "t.wav"
    sf.write(str(path), x, 48000, subtype="PCM_24")
    peaks = engine.waveform_peaks(path)
    assert peaks.shape == (200, 2)
    assert peaks[100, 1] == pytest.approx(0.5, abs=1e-4) and peaks[125, 0] == pytest.approx(-0.25, abs=1e-4)
    assert np.all(peaks[:100] == 0)
    cols = engine.peaks_span(peaks, 10)
    assert cols.shape == (10, 2) and cols[5, 1] == pytest.approx(0.5, abs=1e-4) and cols[6, 0] < 0
    assert engine.peaks_span(peaks, 4, 0.0, 0.5)[:, 1].max() == 0  # the first half is silent
    assert engine.display_gain(peaks) == pytest.approx(0.9 / 0.5, rel=1e-3)
    assert engine.display_gain(np.zeros((3, 2))) == 1.0
    assert engine.display_gain(np.full((3, 2), 1e-6)) == 16.0  # at most 24 dB up


def test_run_clock_weights_clips_by_samples():
    now = [0.0]
    clock = RunClock([100, 300], clock=lambda: now[0])
    now[0] = 10.0
    overall, left = clock.update(0, 1.0)
    assert overall == 0.25 and left == pytest.approx(30.0)
    assert clock.update(1, 0.5)[0] == pytest.approx(0.625)
    assert RunClock([1]).update(0, 0.0)[1] is None


def test_run_generation_takes_failures_and_skips(cut, tmp_path, fake_engine):
    doc = engine.open_document(cut)
    settings = RunSettings("", "auto", GenerateOptions(seed=3, variations=2), tmp_path / "wavs")
    events = []
    result = engine.run_generation(FakeCache(fake_engine), settings, doc.jobs, events.append)
    assert set(result.takes) == {"V1:0", "V1:1"} and not result.cancelled and not result.error
    take = result.takes["V1:0"]
    assert take.seeds == [3, 4] and len(take.peaks) == 2 and take.kept
    assert take.with_active(1).active_wav.name == "V1_0_a_seed4.wav"
    assert result.skipped == [engine.missing_text(doc.job("V1:2"))]
    kinds = [e.kind for e in events]
    assert kinds[0] == "loading" and kinds.count("clip-done") == 2
    done = [e for e in events if e.kind == "clip-done"]
    assert done[-1].overall == pytest.approx(1.0) and done[0].take is result.takes["V1:0"]
    segs = [e.clip_fraction for e in events if e.kind == "segments" and e.clip_id == "V1:0"]
    assert segs == sorted(segs) and segs[-1] == 1.0


def test_a_cancel_in_the_second_variation_leaves_no_file(cut, tmp_path, fake_engine):
    doc = engine.open_document(cut)
    wavs = tmp_path / "wavs"
    settings = RunSettings("", "auto", GenerateOptions(variations=2), wavs)
    state = {"cancel": False}

    def on_progress(p):  # cancel once the second variation of the first clip is under way
        if p.kind == "segments" and p.clip_fraction > 0.6:
            state["cancel"] = True

    result = engine.run_generation(FakeCache(fake_engine), settings, doc.jobs, on_progress, lambda: state["cancel"])
    assert result.cancelled and not result.takes and result.segments_after_cancel <= 1
    assert wav_files(wavs) == []  # the first variation's finished WAV went too: nothing stray


def test_a_failing_clip_does_not_stop_the_others(cut, tmp_path, fake_engine):
    doc = engine.open_document(cut)
    jobs = list(doc.jobs)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    jobs[0] = type(jobs[0])(jobs[0].info, type(jobs[0].media)(bad, "reference", ()), "found", jobs[0].n_samples)
    result = engine.run_generation(FakeCache(fake_engine), RunSettings("", "auto", GenerateOptions(), tmp_path / "w"),
                                   jobs)
    assert list(result.failed) == ["V1:0"] and str(bad) in result.failed["V1:0"]
    assert list(result.takes) == ["V1:1"]


def test_nothing_to_do_and_model_problems(cut, tmp_path):
    doc = engine.open_document(cut)
    settings = RunSettings(str(tmp_path), "auto", GenerateOptions(), tmp_path / "w")
    r = engine.run_generation(EngineCache(), settings, [doc.job("V1:2")])
    assert "no selected clip can be generated" in r.error
    r = engine.run_generation(EngineCache(), settings, [doc.job("V1:0")])
    assert r.error.startswith("the model cannot be loaded") and str(tmp_path) in r.error
    info = engine.model_info(tmp_path)
    assert info.error and str(tmp_path) in info.error


def test_model_info_of_the_bundled_package():
    info = engine.model_info("")
    spec = json.loads((engine.model_dir("") / "model.json").read_text())
    assert (info.name, info.default_steps, info.guidance) == (spec["name"], spec["default_steps"], spec["guidance"])
    assert {"auto", "cpu"} <= engine.available_providers()


def test_place_and_save_keep_the_input(cut, tmp_path, fake_engine):
    doc = engine.open_document(cut)
    result = engine.run_generation(FakeCache(fake_engine),
                                   RunSettings("", "auto", GenerateOptions(), doc.wav_dir(tmp_path)), doc.jobs[:1])
    doc.session.add(result.takes["V1:0"].take)
    assert [t.take for t in [result.takes["V1:0"]]] == doc.place()
    assert [t.label for t in doc.tracks()] == ["V1", "Foley V1"]
    foley = doc.tracks()[1].spans[0]
    assert foley.source_clip == "V1:0" and foley.wav == result.takes["V1:0"].active_wav
    before = cut.read_bytes()
    out = doc.save(tmp_path / "cut_foley.otio")
    assert cut.read_bytes() == before and not doc.session.dirty
    again = engine.open_document(out)
    assert [t.label for t in again.tracks()] == ["V1", "Foley V1"]
    assert again.tracks()[1].spans[0].wav.resolve() == result.takes["V1:0"].active_wav.resolve()
    # a re-roll replaces the take: the saved (placed) take's WAV stays, an unplaced one's goes
    old = result.takes["V1:0"]
    second = engine.run_generation(FakeCache(fake_engine), RunSettings("", "auto", GenerateOptions(seed=7),
                                                                       doc.wav_dir(tmp_path)), doc.jobs[:1])
    assert doc.session.add(second.takes["V1:0"].take) == [] and doc.session.dirty
    assert old.active_wav.exists()
    third = engine.run_generation(FakeCache(fake_engine), RunSettings("", "auto", GenerateOptions(seed=8),
                                                                      doc.wav_dir(tmp_path)), doc.jobs[:1])
    assert doc.session.add(third.takes["V1:0"].take) == [second.takes["V1:0"].active_wav]
    assert not second.takes["V1:0"].active_wav.exists() and old.active_wav.exists()
