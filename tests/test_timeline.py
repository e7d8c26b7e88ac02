import logging
from fractions import Fraction

import opentimelineio as otio
import pytest
from conftest import EDL_RATES, TIMELINES

from foleyflow.plugin.errors import TimelineError
from foleyflow.plugin.timeline import read_timeline, record_start, timeline_rate

CORPUS_FILES = sorted(p.name for p in TIMELINES.iterdir())


def test_corpus_is_there():
    assert len(CORPUS_FILES) >= 20, f"corpus not found at {TIMELINES}"


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_reads_every_corpus_timeline(name):
    loaded = read_timeline(TIMELINES / name, EDL_RATES.get(name))
    assert isinstance(loaded.timeline, otio.schema.Timeline)
    assert loaded.rate > 0 and isinstance(loaded.rate, Fraction)
    assert loaded.timeline.video_tracks()


def test_collection_uses_the_first_and_says_so(caplog):
    with caplog.at_level(logging.INFO):
        loaded = read_timeline(TIMELINES / "fcpx_example.fcpxml")
    assert loaded.index == 0 and len(loaded.names) == 2
    assert "holds 2 timelines" in caplog.text and "using #1" in caplog.text


def test_collection_pick_by_index_and_name():
    second = read_timeline(TIMELINES / "fcpx_example.fcpxml", pick="2")
    assert second.index == 1
    by_name = read_timeline(TIMELINES / "fcpx_example.fcpxml", pick=second.names[1])
    assert by_name.index == 1


@pytest.mark.parametrize("pick", ["3", "no such timeline"])
def test_collection_bad_pick(pick):
    with pytest.raises(TimelineError) as info:
        read_timeline(TIMELINES / "fcpx_example.fcpxml", pick=pick)
    assert type(info.value) is TimelineError and "fcpx_example.fcpxml" in str(info.value)


def test_edl_rate_given_and_defaulted():
    assert read_timeline(TIMELINES / "25fps.edl", Fraction(25)).rate == 25
    assert read_timeline(TIMELINES / "gap_test.edl").rate == 24


def test_edl_wrong_rate_says_to_give_one():
    with pytest.raises(TimelineError, match="--rate"):
        read_timeline(TIMELINES / "25fps.edl")


def test_missing_file(tmp_path):
    with pytest.raises(TimelineError) as info:
        read_timeline(tmp_path / "nope.otio")
    assert type(info.value) is TimelineError and "nope.otio" in str(info.value) and "not found" in str(info.value)


def test_unknown_suffix(tmp_path):
    bad = tmp_path / "cut.xyz"
    bad.write_text("hello")
    with pytest.raises(TimelineError, match="unknown timeline format"):
        read_timeline(bad)


def test_garbage_content(tmp_path):
    bad = tmp_path / "broken.otio"
    bad.write_text("{ not json")
    with pytest.raises(TimelineError) as info:
        read_timeline(bad)
    assert "broken.otio" in str(info.value) and "cannot read" in str(info.value)


def test_a_lone_clip_is_not_a_timeline(tmp_path):
    path = tmp_path / "clip.otio"
    otio.adapters.write_to_file(otio.schema.Clip(name="x"), str(path))
    with pytest.raises(TimelineError, match="holds no timeline"):
        read_timeline(path)


def test_rates_and_start():
    loaded = read_timeline(TIMELINES / "premiere_generators.xml")
    assert loaded.rate == Fraction(24000, 1001)
    assert record_start(loaded).value == 0
    tl = otio.schema.Timeline()
    assert timeline_rate(tl, Fraction(25)) == 25 and timeline_rate(tl) == 24


def test_input_is_not_modified():
    path = TIMELINES / "premiere_example.xml"
    before = path.read_bytes()
    read_timeline(path)
    assert path.read_bytes() == before
