from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import TIMELINES

from foleyflow.plugin.errors import NothingToDoError
from foleyflow.plugin.generate import GenerateOptions
from foleyflow.plugin.pipeline import GenerateRequest, execute, missing_lines, plan_run
from foleyflow.plugin.selection import Selection

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


@pytest.fixture
def edit(tmp_path, video_24):
    tl = otio.schema.Timeline(name="p")
    track = otio.schema.Track()
    tl.tracks.append(track)
    rel = Path("media") / video_24.name
    (tmp_path / "media").mkdir()
    (tmp_path / rel).write_bytes(video_24.read_bytes())
    track.append(otio.schema.Clip(name="rel", media_reference=otio.schema.ExternalReference(target_url=rel.as_posix()),
                                  source_range=TR(RT(0, 24), RT(10, 24))))
    track.append(otio.schema.Clip(name="gen", media_reference=otio.schema.GeneratorReference(),
                                  source_range=TR(RT(0, 24), RT(10, 24))))
    track.append(otio.schema.Clip(name="lost", source_range=TR(RT(0, 24), RT(10, 24))))
    path = tmp_path / "edit.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


def test_plan_then_execute(edit, tmp_path, fake_engine):
    out = tmp_path / "out" / "res.otio"
    out.parent.mkdir()
    plan_ = plan_run(GenerateRequest(edit, out, options=GenerateOptions(variations=2)))
    assert [j.status for j in plan_.jobs] == ["found", "generator", "missing"]
    assert [j.info.id for j in plan_.runnable] == ["V1:0"] and plan_.wav_dir == out.parent / "res_foley"
    assert "'lost': media not found" in missing_lines(plan_.jobs)[0]
    events = []
    outcome = execute(plan_, fake_engine, on_event=events.append)
    assert outcome.written == out and [j.info.name for j in outcome.skipped] == ["gen", "lost"]
    assert len(outcome.report.takes[0].media) == 2
    for p in outcome.report.takes[0].media:
        assert sf.info(str(p)).frames == round(Fraction(10, 24) * 48000)
    assert any(e.kind == "segments" for e in events)


def test_nothing_to_do(edit, tmp_path, fake_engine):
    plan_ = plan_run(GenerateRequest(edit, tmp_path / "x.otio", selection=Selection(names=("gen", "lost"))))
    with pytest.raises(NothingToDoError) as info:
        execute(plan_, fake_engine)
    assert "1 generator, 1 missing" in str(info.value)


def test_all_failed_writes_no_timeline(edit, tmp_path, fake_engine, monkeypatch):
    (tmp_path / "media").joinpath("idx_2398.mp4").write_bytes(b"broken")
    plan_ = plan_run(GenerateRequest(edit, tmp_path / "x.otio"))
    outcome = execute(plan_, fake_engine)
    assert outcome.written is None and len(outcome.report.failed) == 1
    assert "idx_2398.mp4" in outcome.report.failed[0].error and not (tmp_path / "x.otio").exists()


def test_a_format_that_cannot_carry_the_result_fails_before_generating(tmp_path):
    from foleyflow.plugin.errors import OutputError

    src = TIMELINES / "transition.otio"
    root = tmp_path / "media"
    root.mkdir()
    for name in ("titles.mov", "wind-up.mov", "punchline.mov", "credits.mov"):
        (root / name).write_bytes(b"x")  # found is enough: nothing is decoded before the preflight
    with pytest.raises(OutputError) as info:
        plan_run(GenerateRequest(src, tmp_path / "out.xml", media_roots=(root,)))
    assert "fcp_xml writer failed" in str(info.value) and "out.xml" in str(info.value)
    assert list(tmp_path.iterdir()) == [root]
