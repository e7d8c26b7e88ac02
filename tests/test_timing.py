from fractions import Fraction

import opentimelineio as otio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from foleyflow.plugin.timing import (
    SAMPLE_RATE,
    TimeMap,
    exact_rate,
    model_frame_times,
    parse_rate,
    rescale_range,
    samples_for,
    seconds,
    snap_to_frame,
    timecode,
    timecode_to_seconds,
    to_range,
)

NTSC24 = Fraction(24000, 1001)
NTSC30 = Fraction(30000, 1001)


def rt(v: float, r: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(v, r)


@pytest.mark.parametrize(("given", "exact"), [
    (23.976, NTSC24), (23.976023976023978, NTSC24), (29.97, NTSC30), (59.94, Fraction(60000, 1001)),
    (24.0, Fraction(24)), (25, Fraction(25)), (12.5, Fraction(25, 2)), (NTSC24, NTSC24), (Fraction(2997, 125), NTSC24),
])
def test_exact_rate(given, exact):
    assert exact_rate(given) == exact


@pytest.mark.parametrize("bad", [0, -24, float("nan"), float("inf")])
def test_exact_rate_refuses(bad):
    with pytest.raises(ValueError):
        exact_rate(bad)


@pytest.mark.parametrize(("text", "rate"), [("24000/1001", NTSC24), ("23.976", NTSC24), ("25", Fraction(25)),
                                            ("30000/1001", NTSC30), ("15", Fraction(15))])
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("bad", ["", "abc", "24/0", "0", "-25", "1e3"])
def test_parse_rate_refuses(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_ntsc_float_and_literal_give_the_same_seconds():
    # 23.976 literally would drift ~4 ms per 1000 frames; both snap to 24000/1001
    assert seconds(rt(1000, 23.976)) == seconds(rt(1000, 24000 / 1001)) == Fraction(1000 * 1001, 24000)


@given(st.integers(min_value=0, max_value=10**6))
def test_samples_at_24000_1001_are_exact(frames):
    # one frame at 24000/1001 is exactly 2002 samples at 48 kHz
    r = otio.opentime.TimeRange(rt(0, 24000 / 1001), rt(frames, 24000 / 1001))
    assert samples_for(r) == frames * 2002


@given(st.integers(min_value=0, max_value=10**6))
def test_samples_at_30000_1001_round_once(frames):
    # 1601.6 samples a frame: the count is rounded once from the exact duration, never per frame
    r = otio.opentime.TimeRange(rt(0, 29.97), rt(frames, 29.97))
    assert samples_for(r) == round(Fraction(frames * 1001 * SAMPLE_RATE, 30000))


def test_samples_examples():
    assert samples_for(otio.opentime.TimeRange(rt(0, 30000 / 1001), rt(5, 30000 / 1001))) == 8008
    assert samples_for(otio.opentime.TimeRange(rt(0, 30000 / 1001), rt(1, 30000 / 1001))) == 1602
    assert samples_for(otio.opentime.TimeRange(rt(86400, 25), rt(50, 25))) == 96000


def test_rescale_15_to_30():
    r = rescale_range(otio.opentime.TimeRange(rt(7, 15), rt(50, 15)), Fraction(30))
    assert r == otio.opentime.TimeRange(rt(14, 30), rt(100, 30))


def test_snap_to_frame():
    assert snap_to_frame(Fraction(1001, 24000) * Fraction(10, 1) + Fraction(1, 100000), NTSC24) == Fraction(10 * 1001, 24000)
    assert snap_to_frame(Fraction(1, 48), Fraction(24)) == Fraction(1, 24)  # halves go up


@pytest.mark.parametrize(("value", "rate", "text"), [
    (86400, NTSC24, "01:00:00:00"), (1800, NTSC30, "00:01:00:00"), (16, Fraction(15), "00:00:01:01"),
    (0, Fraction(25), "00:00:00:00"), (90061, Fraction(25), "01:00:02:11"),
])
def test_timecode_any_rate(value, rate, text):
    assert timecode(rt(value, float(rate)), rate) == text


def test_timecode_with_start_and_other_unit():
    assert timecode(rt(50, 15), Fraction(30), start=rt(108000, 30)) == "01:00:03:10"


def test_timecode_to_seconds():
    assert timecode_to_seconds("01:00:00:00", NTSC24) == Fraction(86400 * 1001, 24000)
    assert timecode_to_seconds("00:00:01:05", Fraction(25)) == Fraction(30, 25)


def test_time_map_composes_levels():
    # a clip at position 10 s in a track, trimmed from media 100 s, inside a stack at speed 2
    top = TimeMap(Fraction(0))
    stack = top.then(Fraction(0), Fraction(2), Fraction(5))  # stack placed at 5 s, plays at 2x
    clip = stack.then(Fraction(100), Fraction(1), Fraction(4))  # clip at 4 s of the stack, media from 100 s
    assert clip(Fraction(7)) == Fraction(100)  # record 7 -> stack time 4 -> clip media 100
    assert clip(Fraction(8)) == Fraction(102)
    assert clip.scale == 2


def test_model_frame_times_freeze_and_speed():
    frozen = list(model_frame_times(Fraction(0), 3, Fraction(25), TimeMap(Fraction(7), Fraction(0))))
    assert frozen == [7, 7, 7]
    fast = list(model_frame_times(Fraction(1), 3, Fraction(25), TimeMap(Fraction(0), Fraction(2)), Fraction(1, 2)))
    assert fast == [Fraction(3, 2), Fraction(3, 2) + Fraction(2, 25), Fraction(3, 2) + Fraction(4, 25)]


def test_to_range_roundtrip():
    r = to_range(Fraction(1001, 24000) * 3, Fraction(1001, 24000) * 10, NTSC24)
    assert r.start_time.value == 3 and r.duration.value == 10 and r.duration.rate == 24000 / 1001
