from fractions import Fraction

import opentimelineio as otio
import pytest
from conftest import EDL_RATES, TIMELINES

from foleyflow.plugin.clips import time_scalar, video_clips
from foleyflow.plugin.timeline import read_timeline
from foleyflow.plugin.timing import rescale_range, seconds

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def clips_of(name):
    loaded = read_timeline(TIMELINES / name, EDL_RATES.get(name))
    return loaded, video_clips(loaded.timeline, loaded.rate)


def _has_warped_parent(clip):
    p = clip.parent()
    while p is not None:
        if time_scalar(p) != 1:
            return True
        p = p.parent()
    return False


@pytest.mark.parametrize("name", sorted(p.name for p in TIMELINES.iterdir()))
def test_record_ranges_match_otio_where_no_parent_warps_or_cuts(name):
    loaded, clips = clips_of(name)
    assert len({c.id for c in clips}) == len(clips)
    for c in clips:
        expected = rescale_range(c.clip.transformed_time_range(c.clip.visible_range(), loaded.timeline.tracks),
                                 loaded.rate)
        if c.nested:  # parents may cut (the range lies inside OTIO's) or warp (OTIO ignores that)
            if not _has_warped_parent(c.clip):
                assert seconds(c.record_range.start_time) >= seconds(expected.start_time), c.id
                assert seconds(c.record_range.end_time_exclusive()) <= seconds(expected.end_time_exclusive()), c.id
            continue
        assert c.record_range == expected, c.id
        assert c.record_range.start_time.rate == float(loaded.rate)


def test_ids_and_tracks():
    _, clips = clips_of("multiple_track.otio")
    assert [(c.id, c.name) for c in clips] == [
        ("V1:0", "Clip-001"), ("V1:1", "Clip-002"), ("V1:3", "Clip-004"), ("V2:1", "Clip-003"), ("V3:0", "Clip-005")]


def test_nested_stack_cuts_its_clip():
    # Nested Stack 1 shows 31 frames; the clip inside is 37 frames long
    _, clips = clips_of("nested_example.otio")
    inside = next(c for c in clips if c.id == "V1:1.0")
    assert inside.nested and inside.record_range == TR(RT(238, 24), RT(31, 24))
    assert inside.source_range == TR(RT(373, 24), RT(31, 24))


def test_speed_on_a_nested_stack_reaches_its_clip():
    # Nested Stack 2 plays at 0.8545x: its 24-frame clip fills 28 record frames
    _, clips = clips_of("nested_example.otio")
    inside = next(c for c in clips if c.id == "V1:3.0")
    assert inside.speed == Fraction(0.8545454551724138).limit_denominator(1_000_000)
    assert inside.record_range == TR(RT(302, 24), RT(28, 24))
    assert inside.time_map(seconds(inside.record_range.start_time)) == Fraction(429, 24)


def test_freeze_frame_on_a_nested_track_holds_one_frame():
    _, clips = clips_of("nested_example.otio")
    inside = next(c for c in clips if c.id == "V1:5.0")
    assert inside.speed == 0 and inside.record_range == TR(RT(394, 24), RT(4, 24))
    t0 = seconds(inside.record_range.start_time)
    assert inside.time_map(t0) == inside.time_map(t0 + 1) == Fraction(471, 24)


def test_edl_speed_and_freeze():
    _, clips = clips_of("speed_effects_small.edl")
    by_name = {c.name: c for c in clips}
    assert by_name["Z682_156 (LAY3)"].speed == 0
    fast = by_name["Z686_5A (LAY2) (47.56 FPS)"]
    assert float(fast.speed) == pytest.approx(1.98333, abs=1e-5)
    assert fast.record_range.duration == RT(36, 24)  # record duration unchanged, media consumed 2x


def test_transition_extends_the_visible_range():
    # Clip-002 cut 3..9, a transition (in 2, out 3) at the cut: it shows until 12; Clip-003 from 7
    _, clips = clips_of("transition.otio")
    by_name = {c.name: c for c in clips}
    assert by_name["Clip-002"].record_range == TR(RT(3, 24), RT(9, 24))
    assert by_name["Clip-003"].record_range == TR(RT(7, 24), RT(6, 24))
    assert by_name["Clip-003"].source_range == TR(RT(1, 24), RT(6, 24))


def test_15fps_clip_in_30fps_sequence():
    _, clips = clips_of("premiere_example.xml")
    c = next(c for c in clips if c.id == "V1:1")
    assert c.record_range == TR(RT(536, 30), RT(100, 30))
    assert c.source_range == TR(RT(0, 15), RT(50, 15))
    assert c.time_map(Fraction(536, 30) + 1) == 1  # one record second is one media second


def test_edl_record_start_stays_where_otio_puts_it():
    loaded, clips = clips_of("avid_example.edl")
    assert clips[0].record_range.start_time == RT(86243, 24)


def test_disabled_and_generator():
    _, clips = clips_of("premiere_generators.xml")
    assert all(c.is_generator for c in clips)
    tl = otio.schema.Timeline()
    track = otio.schema.Track()
    tl.tracks.append(track)
    clip = otio.schema.Clip(name="off", source_range=TR(RT(0, 24), RT(10, 24)))
    clip.enabled = False
    track.append(clip)
    muted = otio.schema.Track()
    muted.enabled = False
    muted.append(otio.schema.Clip(name="on", source_range=TR(RT(0, 24), RT(10, 24))))
    tl.tracks.append(muted)
    assert [c.enabled for c in video_clips(tl, Fraction(24))] == [False, False]


def test_audio_tracks_and_gaps_are_not_listed():
    _, clips = clips_of("premiere_example.xml")
    assert all(c.track.startswith("V") for c in clips)
    assert not any(isinstance(c.clip, otio.schema.Gap) for c in clips)


def test_generic_time_warp_effect_reads_speed_from_metadata():
    clip = otio.schema.Clip(name="x", source_range=TR(RT(0, 24), RT(10, 24)))
    clip.effects.append(otio.schema.Effect(effect_name="LinearTimeWarp", metadata={"AAF": {"speed": 2.0}}))
    assert time_scalar(clip) == 2
    frozen = otio.schema.Clip(name="y")
    frozen.effects.append(otio.schema.Effect(effect_name="FreezeFrame"))
    assert time_scalar(frozen) == 0
