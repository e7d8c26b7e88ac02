from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from conftest import TIMELINES
from hypothesis import given
from hypothesis import strategies as st

from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.placement import (
    NAMESPACE,
    Take,
    assign_lanes,
    file_url,
    foley_track_label,
    place_takes,
    rebase_take_urls,
)
from foleyflow.plugin.timeline import read_timeline

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def takes_for(clips, folder=Path("/tmp/foley"), seed=0, **meta):
    return [Take(c.id, c.track, c.name, c.record_range, (folder / f"{c.id.replace(':', '_')}_s{seed}.wav",),
                 metadata={"seed": seed, **meta}) for c in clips]


def serialized(tracks):
    return [otio.adapters.write_to_string(t, "otio_json") for t in tracks]


def foley_tracks(tl):
    return [t for t in tl.tracks if foley_track_label(t) is not None]


def placed_ranges(tl):
    out = {}
    for track in foley_tracks(tl):
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Clip):
                out[item.metadata[NAMESPACE]["source_clip"]] = track.range_of_child_at_index(i)
    return out


@pytest.mark.parametrize("name", ["premiere_example.xml", "transition.otio", "nested_example.otio",
                                  "fcpx_example.fcpxml", "transitions.aaf", "multiple_track.otio"])
def test_takes_sit_exactly_on_their_clips_and_nothing_else_changes(name):
    loaded = read_timeline(TIMELINES / name)
    before = serialized(loaded.timeline.tracks)
    clips = video_clips(loaded.timeline, loaded.rate)
    new = place_takes(loaded.timeline, takes_for(clips), loaded.rate)
    assert serialized(loaded.timeline.tracks) == before  # the input object is untouched
    assert serialized([t for t in new.tracks if foley_track_label(t) is None]) == before
    ranges = placed_ranges(new)
    assert ranges == {c.id: c.record_range for c in clips}
    for track in foley_tracks(new):
        assert track.kind == otio.schema.TrackKind.Audio
        for item in track:
            assert isinstance(item, otio.schema.Clip | otio.schema.Gap)


def test_one_foley_track_per_video_track_with_gaps():
    loaded = read_timeline(TIMELINES / "multiple_track.otio")
    new = place_takes(loaded.timeline, takes_for(video_clips(loaded.timeline, loaded.rate)), loaded.rate)
    names = [t.name for t in foley_tracks(new)]
    assert names == ["Foley V1", "Foley V2", "Foley V3"]
    v2 = foley_tracks(new)[1]
    assert isinstance(v2[0], otio.schema.Gap) and v2[0].duration() == RT(7, 24)
    assert v2.metadata[NAMESPACE] == {"role": "foley", "video_track": "V2", "lane": 0}


def test_overlapping_takes_get_a_second_lane():
    loaded = read_timeline(TIMELINES / "transition.otio")  # Clip-002 and Clip-003 overlap under the transition
    new = place_takes(loaded.timeline, takes_for(video_clips(loaded.timeline, loaded.rate)), loaded.rate)
    assert [t.name for t in foley_tracks(new)] == ["Foley V1", "Foley V1 (2)"]


def test_take_clip_reference_and_metadata(tmp_path):
    loaded = read_timeline(TIMELINES / "premiere_generators.xml")  # 24000/1001
    c = video_clips(loaded.timeline, loaded.rate)[0]
    wav = tmp_path / "a #1%.wav"
    take = Take(c.id, c.track, c.name, c.record_range, (wav,), metadata={"model": "m", "model_checksum": "abc",
                                                                         "seed": 3, "steps": 8, "guidance": 2.0,
                                                                         "created": "2025-01-01T00:00:00+00:00"})
    new = place_takes(loaded.timeline, [take], loaded.rate)
    clip = next(i for i in foley_tracks(new)[0] if isinstance(i, otio.schema.Clip))
    ref = clip.media_reference
    assert ref.target_url == wav.resolve().as_uri() and "%23" in ref.target_url and "%25" in ref.target_url
    assert otio.url_utils.filepath_from_url(ref.target_url) == str(wav.resolve())
    assert ref.available_range == TR(RT(0, 24000 / 1001), c.record_range.duration)
    assert clip.source_range == TR(RT(0, 24000 / 1001), c.record_range.duration)
    meta = clip.metadata[NAMESPACE]
    assert meta["source_clip"] == c.id and meta["model_checksum"] == "abc" and meta["seed"] == 3
    assert set(clip.metadata) == {NAMESPACE}


def test_regenerate_replaces_only_that_take():
    loaded = read_timeline(TIMELINES / "multiple_track.otio")
    clips = video_clips(loaded.timeline, loaded.rate)
    first = place_takes(loaded.timeline, takes_for(clips, seed=0), loaded.rate)
    again = place_takes(first, takes_for([clips[1]], seed=7), loaded.rate)
    assert len(foley_tracks(again)) == len(foley_tracks(first))
    assert placed_ranges(again) == placed_ranges(first)
    urls = {}
    for track in foley_tracks(again):
        for item in track:
            if isinstance(item, otio.schema.Clip):
                urls[item.metadata[NAMESPACE]["source_clip"]] = item.media_reference.target_url
    assert urls[clips[1].id].endswith("_s7.wav")
    assert all(u.endswith("_s0.wav") for k, u in urls.items() if k != clips[1].id)
    # the non-Foley tracks of the first result are untouched by the second placement
    keep = [t for t in first.tracks if foley_track_label(t) is None]
    assert serialized([t for t in again.tracks if foley_track_label(t) is None]) == serialized(keep)
    # a track a user added after the Foley tracks keeps its place
    first.tracks.append(otio.schema.Track(name="Music", kind=otio.schema.TrackKind.Audio))
    third = place_takes(first, takes_for([clips[0]], seed=9), loaded.rate)
    assert third.tracks[-1].name == "Music"


def test_variations_are_media_references_with_an_active_take():
    loaded = read_timeline(TIMELINES / "simple_cut.otio")
    c = video_clips(loaded.timeline, loaded.rate)[0]
    take = Take(c.id, c.track, c.name, c.record_range, (Path("/t/a_s0.wav"), Path("/t/a_s1.wav")), active=1,
                variation_metadata=({"seed": 0}, {"seed": 1}))
    new = place_takes(loaded.timeline, [take], loaded.rate)
    clip = next(i for i in foley_tracks(new)[0] if isinstance(i, otio.schema.Clip))
    assert sorted(clip.media_references()) == ["take1", "take2"] and clip.active_media_reference_key == "take2"
    assert clip.media_reference.metadata[NAMESPACE] == {"variation": 2, "seed": 1}


def test_relative_urls():
    assert file_url(Path("/out/cut_foley/a b.wav"), Path("/out")) == "cut_foley/a%20b.wav"
    assert file_url(Path("/elsewhere/a.wav"), Path("/out")) == "file:///elsewhere/a.wav"


def test_negative_record_start_is_refused():
    tl = otio.schema.Timeline()
    take = Take("V1:0", "V1", "x", TR(RT(-5, 24), RT(10, 24)), (Path("/t/x.wav"),))
    with pytest.raises(OutputError):
        place_takes(tl, [take], Fraction(24))


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20)), max_size=30))
def test_lanes_never_overlap(spans):
    spans = [(Fraction(s), Fraction(s + d)) for s, d in spans]
    lanes = assign_lanes(spans)
    for lane in set(lanes):
        mine = sorted(s for s, ln in zip(spans, lanes, strict=True) if ln == lane)
        assert all(a[1] <= b[0] for a, b in zip(mine, mine[1:], strict=False))
    # first fit: a new lane only when every lane is busy
    assert max(lanes, default=-1) + 1 <= max((sum(1 for a in spans if a[0] <= t < a[1]) for t in range(80)), default=0)


def test_rebase_take_urls_touches_only_relative_takes(tmp_path):
    loaded = read_timeline(TIMELINES / "simple_cut.otio")
    c = video_clips(loaded.timeline, loaded.rate)[0]
    take = Take(c.id, c.track, c.name, c.record_range, (tmp_path / "a" / "cut_foley" / "x y.wav",))
    placed = place_takes(loaded.timeline, [take], loaded.rate, lambda p: file_url(p, tmp_path / "a"))
    rebased = rebase_take_urls(placed, tmp_path / "a", lambda p: file_url(p, tmp_path))
    urls = [i.media_reference.target_url for t in rebased.tracks for i in t if isinstance(i, otio.schema.Clip)]
    assert "a/cut_foley/x%20y.wav" in urls  # the take, now relative to the new folder
    assert "file:///folder/titles.mov" in urls  # the editor's own reference, untouched
    assert serialized(placed.tracks) != serialized(rebased.tracks)
