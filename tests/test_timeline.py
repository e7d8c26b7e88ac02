import logging
from fractions import Fraction

import opentimelineio as otio
import pytest
from conftest import EDL_RATES, TIMELINES

from foleyflow.plugin.errors import TimelineError
from foleyflow.plugin.timeline import read_timeline, record_start, timeline_rate

CORPUS_FILES = sorted(p.name for p in TIMELINES.iterdir())
# Each corpus file's frame rate, as the file itself states it (read once by hand): FCP7 XML the first
# sequence's <rate> (<timebase>, <ntsc> TRUE = x 1000/1001), FCPXML its format's frameDuration (100/3000s),
# OTIO the global start time's rate or else the first video item's, AAF the picture slots' edit rate;
# EDLs state none: 25fps.edl reads at 25, the others at 24 (tests/data/README.md, conftest.EDL_RATES).
EXPECTED_RATES = {
    "25fps.edl": Fraction(25),
    "avid_example.edl": Fraction(24),
    "dissolve_test.edl": Fraction(24),
    "gap_test.edl": Fraction(24),
    "screening_example.edl": Fraction(24),
    "speed_effects_small.edl": Fraction(24),
    "clip_example.otio": Fraction(24),  # no global start time: the first video clip's range
    "effects.otio": Fraction(24),
    "multiple_track.otio": Fraction(24),
    "nested_example.otio": Fraction(24),
    "premiere_example.otio": Fraction(30),  # 30 with 15 fps clips on it
    "simple_cut.otio": Fraction(24),
    "transition.otio": Fraction(24),
    "fcpx_example.fcpxml": Fraction(30),  # FFVideoFormat1080p30, frameDuration 100/3000s (the first of two)
    "hiero_xml_export.xml": Fraction(24),  # timebase 24, ntsc FALSE
    "premiere_example.xml": Fraction(30),  # timebase 30, ntsc FALSE (15 fps clips on it)
    "premiere_generators.xml": Fraction(24000, 1001),  # timebase 24, ntsc TRUE
    "linear_speed_effects.aaf": Fraction(24),
    "nested_stack.aaf": Fraction(24),
    "simple.aaf": Fraction(24),
    "transitions.aaf": Fraction(24),
    "trims.aaf": Fraction(24),
}


def test_corpus_is_there():
    assert len(CORPUS_FILES) >= 20, f"corpus not found at {TIMELINES}"
    assert sorted(EXPECTED_RATES) == CORPUS_FILES  # a new corpus file needs its rate here


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_reads_every_corpus_timeline(name):
    loaded = read_timeline(TIMELINES / name, EDL_RATES.get(name))
    assert isinstance(loaded.timeline, otio.schema.Timeline)
    assert isinstance(loaded.rate, Fraction) and loaded.rate == EXPECTED_RATES[name]
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
