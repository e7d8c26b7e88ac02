from fractions import Fraction

import opentimelineio as otio
import pytest
from conftest import TIMELINES

from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import SelectionError
from foleyflow.plugin.media import MediaResolver
from foleyflow.plugin.selection import Selection, parse_record_range, plan, select
from foleyflow.plugin.timeline import read_timeline

RT = otio.opentime.RationalTime


@pytest.fixture(scope="module")
def multi():
    loaded = read_timeline(TIMELINES / "multiple_track.otio")
    return loaded, video_clips(loaded.timeline, loaded.rate)


def ids(clips):
    return [c.id for c in clips]


def test_everything_when_empty(multi):
    loaded, clips = multi
    assert select(clips, Selection()) == clips and Selection().empty


def test_by_id_track_and_name(multi):
    _, clips = multi
    assert ids(select(clips, Selection(ids=("V1:3", "V2:1")))) == ["V1:3", "V2:1"]
    assert ids(select(clips, Selection(tracks=("v2",)))) == ["V2:1"]
    assert ids(select(clips, Selection(names=("clip-00[12]",)))) == ["V1:0", "V1:1"]
    assert ids(select(clips, Selection(tracks=("V1",), names=("*4",)))) == ["V1:3"]


def test_unknown_id_and_track(multi):
    _, clips = multi
    with pytest.raises(SelectionError, match="V9:9") as info:
        select(clips, Selection(ids=("V9:9",)))
    assert "V1:0" in str(info.value)
    with pytest.raises(SelectionError):
        select(clips, Selection(tracks=("V7",)))


def test_by_record_range(multi):
    _, clips = multi
    # V1: Clip-001 0-3, Clip-002 3-9, gap, Clip-004 13-19; V2: Clip-003 7-16; V3 (track starts at -7): Clip-005 7-16
    assert ids(select(clips, Selection(time_range=(Fraction(10, 24), Fraction(13, 24))))) == ["V2:1", "V3:0"]
    assert ids(select(clips, Selection(time_range=(Fraction(0), Fraction(3, 24))))) == ["V1:0"]


def test_parse_record_range():
    assert parse_record_range("10-20", Fraction(25)) == (10, 20)
    start = RT(86400, 24)
    assert parse_record_range("01:00:01:00-01:00:02:12", Fraction(24), start) == (1, Fraction(5, 2))
    for bad in ("10", "20-10", "a-b"):
        with pytest.raises(SelectionError):
            parse_record_range(bad, Fraction(24))


def test_by_marker():
    loaded = read_timeline(TIMELINES / "multiple_track.otio")
    tl = loaded.timeline
    clips = video_clips(tl, loaded.rate)
    marker = otio.schema.Marker(name="foley here", marked_range=otio.opentime.TimeRange(RT(14, 24), RT(0, 24)))
    tl.tracks[0].markers.append(marker)
    clips[1].clip.markers.append(otio.schema.Marker(name="steps"))
    assert ids(select(clips, Selection(markers=("foley*",)), tl)) == ["V1:3"]
    assert ids(select(clips, Selection(markers=("*",)), tl)) == ["V1:1", "V1:3"]


def test_plan_counts_samples_and_status(multi, tmp_path):
    _, clips = multi
    jobs = plan(clips, MediaResolver(tmp_path / "t.otio"))
    assert [j.status for j in jobs] == ["missing"] * len(clips)
    assert jobs[0].n_samples == 3 * 2000 and not jobs[0].runnable
