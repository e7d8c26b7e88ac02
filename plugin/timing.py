"""Every conversion between OTIO time and samples, frames or seconds lives here.

OTIO stores a rate as a float; NTSC rates arrive as 23.976023976023978, 29.97 or
23.976. :func:`exact_rate` snaps them to 24000/1001 and 30000/1001 so that a frame
count becomes seconds exactly (23.976 would drift ~4 ms per 1000 frames).
Seconds are ``Fraction`` here; nothing is rounded until a sample or frame count is
asked for, and then only once::

    record range (RationalTime, timeline rate) --seconds()--> Fraction s --samples_for()--> int
    record time T --TimeMap--> media time (clip's source time, s) --minus media start--> file time
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeAlias

import opentimelineio as otio

from foleyflow.runtime.audio import OUTPUT_RATE

SAMPLE_RATE = OUTPUT_RATE  # Hz of every WAV the plugin writes: the runtime's delivery rate, defined there
_NTSC_BASES = (24, 30, 48, 60, 120, 240)

# OTIO ships no type information: to mypy both are Any, named for the reader
RationalTime: TypeAlias = otio.opentime.RationalTime
TimeRange: TypeAlias = otio.opentime.TimeRange


def exact_rate(rate: float | Fraction | int) -> Fraction:
    """The exact rate a float stands for: 23.976.. -> 24000/1001, 25.0 -> 25, 12.5 -> 25/2."""
    value = float(rate)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"not a frame rate: {rate!r}")
    if isinstance(rate, (Fraction, int)) and Fraction(rate).denominator in (1, 1001):
        return Fraction(rate)
    for base in _NTSC_BASES:
        if abs(value - base * 1000 / 1001) < 5e-3:  # 23.976.., 23.976 and FCPXML's 23.98
            return Fraction(base * 1000, 1001)
    if abs(value - round(value)) < 1e-6:
        return Fraction(round(value))
    return Fraction(value).limit_denominator(1001)


def parse_rate(text: str) -> Fraction:
    """Parse a rate given on a command line: ``24000/1001``, ``23.976``, ``25``."""
    text = text.strip()
    if not re.fullmatch(r"\d+(\.\d+)?(/\d+(\.\d+)?)?", text):
        raise ValueError(f"not a frame rate: {text!r} (write 25, 23.976 or 24000/1001)")
    if "/" in text:
        num, den = (Fraction(part) for part in text.split("/"))
        if den == 0:
            raise ValueError(f"not a frame rate: {text!r}")
        return exact_rate(num / den)
    return exact_rate(float(text))


def otio_rate(rate: Fraction) -> float:
    """The float OTIO stores for an exact rate (24000/1001 -> 23.976023976023978)."""
    return float(rate)


def seconds(t: RationalTime) -> Fraction:
    """A RationalTime as exact seconds (its rate snapped by :func:`exact_rate`)."""
    return Fraction(t.value) / exact_rate(t.rate)


def range_seconds(r: TimeRange) -> tuple[Fraction, Fraction]:
    """(start, duration) of a TimeRange in exact seconds."""
    return seconds(r.start_time), seconds(r.duration)


def to_time(secs: Fraction, rate: Fraction) -> RationalTime:
    """Exact seconds as a RationalTime at ``rate`` (the value may be fractional)."""
    return RationalTime(float(secs * rate), otio_rate(rate))


def to_range(start: Fraction, duration: Fraction, rate: Fraction) -> TimeRange:
    return TimeRange(to_time(start, rate), to_time(duration, rate))


def snap_to_frame(secs: Fraction, rate: Fraction) -> Fraction:
    """Round seconds to the nearest frame of ``rate`` (halves go up)."""
    return Fraction(math.floor(secs * rate + Fraction(1, 2))) / rate


def rescale_range(r: TimeRange, rate: Fraction) -> TimeRange:
    """A TimeRange expressed at another rate, exactly (15 fps -> 30 fps doubles the values)."""
    start, duration = range_seconds(r)
    return to_range(start, duration, rate)


def samples_for_seconds(secs: Fraction, sample_rate: int = SAMPLE_RATE) -> int:
    """round(seconds * sample_rate), halves to even as Python's round does."""
    return round(secs * sample_rate)


def samples_for(r: TimeRange, sample_rate: int = SAMPLE_RATE) -> int:
    """Samples of audio that cover a record range: round(duration seconds * 48000)."""
    return samples_for_seconds(seconds(r.duration), sample_rate)


def frame_count(secs: Fraction, rate: Fraction) -> Fraction:
    """Frames (possibly fractional) in ``secs`` at ``rate``."""
    return secs * rate


def timecode(t: RationalTime, rate: Fraction, start: RationalTime | None = None) -> str:
    """Non-drop-frame ``HH:MM:SS:FF`` of ``t`` (plus ``start``) at ``rate``.

    Works at every rate (OTIO's own formatter refuses 15 or 12.5 fps); the frame
    field counts at the nominal rate (24 for 24000/1001). A time between frames
    is shown at the nearest frame.
    """
    secs = seconds(t) + (seconds(start) if start is not None else 0)
    nominal = max(1, round(rate))
    frames = math.floor(secs * rate + Fraction(1, 2))
    sign = "-" if frames < 0 else ""
    frames = abs(frames)
    ff = frames % nominal
    total_s = frames // nominal
    return f"{sign}{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}:{ff:02d}"


def timecode_to_seconds(tc: str, rate: Fraction) -> Fraction:
    """Seconds of a start timecode (``01:00:00:00``, ``;`` for drop frame) at ``rate``."""
    frames = otio.opentime.from_timecode(tc.strip(), otio_rate(rate)).value
    return Fraction(frames) / rate


@dataclass(frozen=True)
class TimeMap:
    """An affine map from record time to a clip's media time, in seconds.

    ``media = offset + scale * record``: scale 1 plays at speed, 2 twice as fast,
    0 holds a frame (FreezeFrame), negative plays backwards.
    """

    offset: Fraction
    scale: Fraction = Fraction(1)

    def __call__(self, record: Fraction) -> Fraction:
        return self.offset + self.scale * record

    def then(self, offset: Fraction, scale: Fraction, position: Fraction) -> TimeMap:
        """Compose with a child level: ``child = offset + scale * (parent - position)``."""
        return TimeMap(offset + scale * (self.offset - position), scale * self.scale)


def model_frame_times(
    record_start: Fraction,
    n_frames: int,
    fps: Fraction,
    time_map: TimeMap,
    media_start: Fraction = Fraction(0),
) -> Iterator[Fraction]:
    """File times (seconds from the file's first frame) of the model-rate frames of a clip.

    Frame k samples record time ``record_start + k / fps``; the map takes it to media
    time and the media's start timecode to file time::

        record  |T0     T0+1/fps   T0+2/fps ...
        media   |m(T0)  m(T0+1/fps) ...        (speed and freeze frames live in m)
        file    |m(T0)-start ...
    """
    step = Fraction(1) / fps
    for k in range(n_frames):
        yield time_map(record_start + k * step) - media_start
