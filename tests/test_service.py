"""The application service: plan, the one run loop (its exception policy and cancel), place, the one save path."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile as sf

from foleyflow.plugin import generate as generate_mod
from foleyflow.plugin import service
from foleyflow.plugin.errors import MediaError, OutputError, SelectionError
from foleyflow.plugin.events import ClipStatus, EventKind
from foleyflow.plugin.generate import GenerateOptions
from foleyflow.plugin.media import MediaStatus
from foleyflow.plugin.placement import NAMESPACE
from foleyflow.plugin.selection import Selection
from foleyflow.runtime.errors import CancelledError

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


@pytest.fixture
def edit(tmp_path, video_24):
    """edit/cut.otio: three clips on found media (relative URLs), one on missing media."""
    folder = tmp_path / "edit"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / video_24.name).write_bytes(video_24.read_bytes())
    tl = otio.schema.Timeline(name="svc")
    track = otio.schema.Track()
    tl.tracks.append(track)
    for name, start in (("a", 0), ("b", 20), ("c", 40)):
        ref = otio.schema.ExternalReference(target_url=f"media/{video_24.name}")
        track.append(otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(start, 24), RT(12, 24))))
    track.append(otio.schema.Clip(name="lost", source_range=TR(RT(0, 24), RT(12, 24))))
    path = folder / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


def foley_urls(path: Path) -> list[str]:
    tl = otio.adapters.read_from_file(str(path))
    return [c.media_reference.target_url for t in tl.audio_tracks() for c in t
            if isinstance(c, otio.schema.Clip) and NAMESPACE in c.metadata]


def resolve_from(saved: Path, url: str) -> Path:
    """Where a take's URL points, read as an editor's host reads it: relative to the saved file's folder."""
    return saved.parent / otio.url_utils.filepath_from_url(url)


# -- opening and planning --------------------------------------------------------------------------
def test_open_project_plans_every_clip_and_selects(edit):
    project = service.open_project(edit)
    assert [j.status for j in project.jobs] == [MediaStatus.FOUND] * 3 + [MediaStatus.MISSING]
    assert [j.status for j in project.jobs] == ["found", "found", "found", "missing"]  # still strings
    assert [j.info.id for j in project.select(Selection(names=("b", "c")))] == ["V1:1", "V1:2"]
    with pytest.raises(SelectionError):
        project.select(Selection(ids=("V9:0",)))


def test_plan_checks_the_output_before_anything(edit, tmp_path):
    with pytest.raises(OutputError):  # the input itself, not in place
        service.plan(service.GenerateRequest(edit, edit))
    plan = service.plan(service.GenerateRequest(edit, tmp_path / "out.otio", options=GenerateOptions(variations=2)))
    assert plan.output == tmp_path / "out.otio" and plan.wav_dir == tmp_path / "out_foley"
    assert [p.name for p in plan.wav_paths(plan.runnable[0])] == ["V1_0_a_seed0.wav", "V1_0_a_seed1.wav"]
    assert "'lost': media not found" in service.missing_lines(plan.jobs)[0]


# -- the run loop ------------------------------------------------------------------------------------
def test_events_are_typed_and_every_take_is_reported(edit, tmp_path, fake_engine):
    events = []
    project = service.open_project(edit)
    report = service.run(fake_engine, project.jobs, tmp_path / "w", GenerateOptions(), events.append)
    assert [r.status for r in report.results] == [ClipStatus.DONE] * 3 and not report.cancelled
    assert all(isinstance(e.kind, EventKind) for e in events)
    done = [e for e in events if e.kind == EventKind.CLIP_DONE]
    assert [e.take for e in done] == report.takes and all(e.fraction == 1.0 for e in done)
    segs = [e.fraction for e in events if e.kind == EventKind.SEGMENTS and e.index == 0]
    assert segs == sorted(segs) and segs[-1] == 1.0
    assert report.audio_seconds == pytest.approx(3 * 12 / 24)


def test_one_policy_for_failures_ours_as_they_are_foreign_ones_with_their_kind(edit, tmp_path, fake_engine,
                                                                              caplog):
    calls = {"n": 0}

    def flaky(model, frames, n_samples, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise MediaError("cannot decode frame 3", "/media/a.mov")
        if calls["n"] == 2:
            raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION")
        return fake_engine_generate(model, frames, n_samples, **kw)

    fake_engine_generate = fake_engine.generate_fn
    fake_engine.generate_fn = flaky
    caplog.set_level(logging.DEBUG, logger="foleyflow.plugin.service")
    report = service.run(fake_engine, service.open_project(edit).jobs, tmp_path / "w", GenerateOptions())
    assert [r.status for r in report.results] == [ClipStatus.FAILED, ClipStatus.FAILED, ClipStatus.DONE]
    assert report.failed[0].error == "/media/a.mov: cannot decode frame 3"
    assert report.failed[1].error == "RuntimeError: [ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION"
    traced = [r for r in caplog.records if r.exc_info is not None]
    assert len(traced) == 1 and traced[0].levelno == logging.DEBUG and traced[0].exc_info[0] is RuntimeError
    assert sorted(p.name for p in (tmp_path / "w").iterdir() if not p.name.startswith(".")) == ["V1_2_c_seed0.wav"]  # the failed left nothing


def test_a_failed_clip_removes_the_wavs_it_made_never_ones_there_before(edit, tmp_path, fake_engine, monkeypatch):
    wavs = tmp_path / "w"
    wavs.mkdir()
    before = wavs / "V1_0_a_seed1.wav"
    before.write_bytes(b"an earlier take")
    jobs = service.open_project(edit).jobs[:1]
    # a failure while generating: none of the take's WAVs is committed, the earlier file keeps its bytes
    fake_generate = fake_engine.generate_fn

    def fails_midway(model, frames, n_samples, **kw):
        for k, chunk in enumerate(fake_generate(model, frames, n_samples, **kw)):
            if k == 2:
                raise MediaError("cannot decode: Invalid data found when processing input", "/m/a.mov")
            yield chunk

    fake_engine.generate_fn = fails_midway
    report = service.run(fake_engine, jobs, wavs, GenerateOptions(variations=2))
    assert report.failed[0].error == "/m/a.mov: cannot decode: Invalid data found when processing input"
    assert sorted(p.name for p in wavs.iterdir() if not p.name.startswith(".")) == ["V1_0_a_seed1.wav"] and before.read_bytes() == b"an earlier take"
    # a failure after the take's WAVs were written: the new one goes, the one that was there before stays
    fake_engine.generate_fn = fake_generate
    real = generate_mod.generate_take

    def writes_then_fails(engine, job, wav_dir, options, *args, **kwargs):
        real(engine, job, wav_dir, options, *args, **kwargs)  # both WAVs written...
        raise OSError(28, "No space left on device")  # ...then something fails

    monkeypatch.setattr(generate_mod, "generate_take", writes_then_fails)
    report = service.run(fake_engine, jobs, wavs, GenerateOptions(variations=2))
    assert report.failed[0].error == "OSError: [Errno 28] No space left on device"
    assert sorted(p.name for p in wavs.iterdir() if not p.name.startswith(".")) == ["V1_0_a_seed1.wav"]  # the new seed0 WAV went
    assert sf.info(str(before)).frames == 12 * 2000  # the name that was there stays (never ours to delete)


def test_a_cancel_stops_within_one_segment_and_keeps_the_finished_takes(edit, tmp_path, fake_engine):
    asked = {"now": False}
    jobs = service.open_project(edit).jobs

    def on_event(e):  # the editor presses Cancel while the second clip's second variation runs
        if e.kind == EventKind.SEGMENTS and e.index == 1 and e.done == 1:
            asked["now"] = True

    wavs = tmp_path / "w"
    report = service.run(fake_engine, jobs, wavs, GenerateOptions(variations=2), on_event, lambda: asked["now"])
    assert report.cancelled and report.segments_after_cancel <= 1
    assert [r.status for r in report.results] == [ClipStatus.DONE, ClipStatus.CANCELLED]  # the third never started
    assert [t.source_clip_id for t in report.takes] == ["V1:0"]
    assert sorted(p.name for p in wavs.iterdir() if not p.name.startswith(".")) == ["V1_0_a_seed0.wav", "V1_0_a_seed1.wav"]
    assert all(sf.info(str(p)).frames == 12 * 2000 for p in report.takes[0].media)


def test_ctrl_c_cleans_up_and_goes_on(edit, tmp_path, fake_engine):
    def interrupted(model, frames, n_samples, **kw):
        yield from ()
        raise KeyboardInterrupt

    fake_engine.generate_fn = interrupted
    with pytest.raises(KeyboardInterrupt):
        service.run(fake_engine, service.open_project(edit).jobs, tmp_path / "w", GenerateOptions())
    assert not (tmp_path / "w").exists()  # the WAV folder this run made, empty, is gone too


def test_execute_raises_after_a_cancel_and_places_nothing(edit, tmp_path, fake_engine):
    plan = service.plan(service.GenerateRequest(edit, tmp_path / "out.otio"))
    with pytest.raises(CancelledError):
        service.execute(plan, fake_engine, cancel=lambda: True)
    assert list(tmp_path.iterdir()) == [edit.parent]


# -- placing and saving --------------------------------------------------------------------------------
def test_save_into_another_folder_rebases_the_takes_it_already_holds(edit, tmp_path, fake_engine):
    first = tmp_path / "first" / "cut_foley.otio"
    first.parent.mkdir()
    plan = service.plan(service.GenerateRequest(edit, first, selection=Selection(ids=("V1:0",))))
    outcome = service.execute(plan, fake_engine)
    assert foley_urls(first) == ["cut_foley_foley/V1_0_a_seed0.wav"]  # relative to the first file
    # read the result back, add a take, save it elsewhere: both takes resolve from the new file's folder
    more = service.run(fake_engine, service.open_project(edit).select(Selection(ids=("V1:1",))),
                       tmp_path / "first" / "more", GenerateOptions(seed=4))
    project = service.open_project(first)
    elsewhere = tmp_path / "deeper" / "still" / "final.otio"
    elsewhere.parent.mkdir(parents=True)
    saved = service.save(project.loaded, more.takes, elsewhere)
    assert saved.path == elsewhere and saved.adapter == "otio_json" and saved.backup is None
    urls = foley_urls(elsewhere)
    assert len(urls) == 2
    wavs = [resolve_from(elsewhere, u).resolve() for u in urls]
    assert wavs == [outcome.report.takes[0].media[0].resolve(), more.takes[0].media[0].resolve()]
    assert all(w.is_file() and sf.info(str(w)).frames == 12 * 2000 for w in wavs)


def test_save_checks_the_format_and_its_limits_before_writing(edit, tmp_path, fake_engine):
    project = service.open_project(edit)
    takes = service.run(fake_engine, project.jobs[:1], tmp_path / "w", GenerateOptions()).takes
    with pytest.raises(OutputError) as info:
        service.save(project.loaded, takes, tmp_path / "cut.edl")
    assert "cannot carry the Foley track" in str(info.value)
    with pytest.raises(OutputError):
        service.save(project.loaded, takes, edit)  # the input, not asked in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edit", "w"]
    placed = service.place(project.loaded, takes)  # the working copy; the loaded timeline is untouched
    assert [t.name for t in placed.audio_tracks()] == ["Foley V1"] and not list(project.timeline.audio_tracks())


def test_save_in_place_keeps_a_backup(edit, tmp_path, fake_engine):
    original = edit.read_bytes()
    project = service.open_project(edit)
    takes = service.run(fake_engine, project.jobs[:1], tmp_path / "w", GenerateOptions()).takes
    saved = service.save(project.loaded, takes, edit, in_place=True)
    assert saved.backup is not None and saved.backup.read_bytes() == original
    assert saved.backup.parent == edit.parent and len(foley_urls(edit)) == 1
    assert resolve_from(edit, foley_urls(edit)[0]).resolve() == takes[0].media[0].resolve()
    assert Fraction(sf.info(str(takes[0].media[0])).frames, 48000) == Fraction(12, 24)
