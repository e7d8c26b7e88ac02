"""List the video clips of a timeline with a stable id, their record range and time map.

Ids name a clip by where it sits, so that they survive a re-read of the same
timeline: ``V2:5`` is item 5 (0-based, gaps and transitions counted) of the second
video track; a clip inside a nested stack adds the stack's child and the item
inside it, ``V1:3.0.2``. The walk goes through nested stacks and tracks and
composes each level's position, trim and time effect into one affine map::

    timeline.tracks      |----------- V1 -----------------------------|
    V1                   | clip A |  nested stack (speed 2)  | clip B |
    stack                          |--- clip C (0-48 frames) --|
    record range of C  = where C is visible on the timeline, cut to every parent
    C's time map       = record seconds -> C's media seconds (speed and freeze inside)

A clip's record range is its *visible* range: next to a transition it extends
under the cross-fade (OTIO's ``visible_range``), so that a cross-fade has Foley
under both sides. Ranges are snapped to the timeline's frame grid. OTIO's own
``transformed_time_range`` gives the same range wherever no parent has a time
effect (it ignores time effects).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from .timing import TimeMap, exact_rate, seconds, snap_to_frame, to_range

log = logging.getLogger(__name__)

_FOREVER = Fraction(10**12)  # seconds: "unbounded" for interval arithmetic
_SPEED_KEYS = ("time_scalar", "speed", "Speed", "SpeedRatio", "speed_ratio")


@dataclass(frozen=True)
class ClipInfo:
    """One video clip as the timeline shows it (no media lookup yet)."""

    id: str  # "V1:3", "V1:3.0.2" inside a nested stack
    track: str  # "V1": the top-level video track it sits on
    track_index: int  # index of that track in timeline.tracks
    name: str
    clip: otio.schema.Clip  # the timeline's own object: read it, never change it
    record_range: otio.opentime.TimeRange  # visible range on the timeline, at the timeline rate
    source_range: otio.opentime.TimeRange  # media time of the visible part, at the source rate
    time_map: TimeMap  # record seconds -> media seconds
    enabled: bool  # the clip and every parent enabled
    nested: bool  # inside a nested stack or track

    @property
    def media_reference(self) -> otio.core.MediaReference | None:
        return self.clip.media_reference

    @property
    def is_generator(self) -> bool:
        return isinstance(self.clip.media_reference, otio.schema.GeneratorReference)

    @property
    def speed(self) -> Fraction:
        return self.time_map.scale


def time_scalar(item: otio.core.Item) -> Fraction:
    """The speed an item's time effects give (1 plain, 0 FreezeFrame, 2 double speed).

    Handles ``schema.LinearTimeWarp``/``FreezeFrame`` and the generic Effect named
    "LinearTimeWarp"/"FreezeFrame" with the speed in its metadata (some AAF exports).
    """
    scale = Fraction(1)
    for effect in item.effects:
        if isinstance(effect, otio.schema.LinearTimeWarp):  # FreezeFrame is one, with scalar 0
            scale *= Fraction(effect.time_scalar).limit_denominator(1_000_000)
        elif effect.effect_name in ("FreezeFrame",):
            scale = Fraction(0)
        elif effect.effect_name in ("LinearTimeWarp", "TimeWarp"):
            found = _find_speed(effect.metadata)
            if found is None:
                log.warning("%r: time effect %r without a speed in its metadata; played at speed 1",
                            item.name, effect.effect_name)
            else:
                scale *= found
    return scale


def _find_speed(meta: Any, depth: int = 0) -> Fraction | None:
    if depth > 4 or not hasattr(meta, "items"):
        return None
    for key, value in meta.items():
        if (key in _SPEED_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value)):  # NaN or inf is no speed (Fraction() refuses them)
            return Fraction(value).limit_denominator(1_000_000)
    for value in meta.values():
        found = _find_speed(value, depth + 1)
        if found is not None:
            return found
    return None


def video_clips(timeline: otio.schema.Timeline, rate: Fraction) -> list[ClipInfo]:
    """Every visible video clip of ``timeline``, in track order, then time order.

    ``rate`` is the timeline's rate: record ranges are expressed and snapped at it.
    Clips that no parent lets show (trimmed away inside a nested stack) are left out.
    """
    out: list[ClipInfo] = []
    number = 0
    for index, track in enumerate(timeline.tracks):
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Video:
            continue
        number += 1
        label = f"V{number}"
        # A top-level track's trimmed start shifts its content as transformed_time_range
        # does; it does not cut it (the EDL reader stores the record start there).
        top = TimeMap(seconds(track.trimmed_range().start_time), Fraction(1))
        # Nothing shows before the timeline's start: a transition at a track's head (or a trimmed start
        # past the first clip) would otherwise give a clip a record range from before 0, which no take
        # can be placed on.
        bounds = (Fraction(0), _FOREVER)
        for clip, cid, tmap, (lo, hi), enabled, nested in _walk(track, top, bounds, track.enabled, f"{label}:", False):
            info = _make_info(clip, cid, label, index, tmap, lo, hi, enabled, nested, rate)
            if info is not None:
                out.append(info)
    return out


def _walk(
    comp: otio.core.Composition,
    base: TimeMap,
    bounds: tuple[Fraction, Fraction],
    enabled: bool,
    prefix: str,
    nested: bool,
) -> Iterator[tuple[otio.schema.Clip, str, TimeMap, tuple[Fraction, Fraction], bool, bool]]:
    """Yield (clip, id, record->media map, visible record bounds, enabled, nested) under ``comp``.

    ``base`` maps record seconds to ``comp``'s own time; ``bounds`` is the record
    interval where ``comp`` is visible.
    """
    in_track = isinstance(comp, otio.schema.Track)
    for idx, child in enumerate(comp):
        if isinstance(child, (otio.schema.Gap, otio.schema.Transition)):
            continue
        if isinstance(child, otio.schema.Track) and child.kind != otio.schema.TrackKind.Video:
            continue  # audio inside a nested stack
        if not isinstance(child, (otio.schema.Clip, otio.core.Composition)):
            continue
        placed = comp.range_of_child_at_index(idx)
        pos, dur = seconds(placed.start_time), seconds(placed.duration)
        trimmed = child.trimmed_range()
        lo_p, hi_p = pos, pos + dur
        if in_track:  # transitions next to the child show more of it
            visible = child.visible_range()
            lo_p -= seconds(trimmed.start_time) - seconds(visible.start_time)
            hi_p += seconds(visible.end_time_exclusive()) - seconds(trimmed.end_time_exclusive())
        child_map = base.then(seconds(trimmed.start_time), time_scalar(child), pos)
        child_bounds = _intersect(bounds, _record_interval(base, lo_p, hi_p))
        if child_bounds is None:
            continue
        child_enabled = enabled and child.enabled
        cid = f"{prefix}{idx}"
        if isinstance(child, otio.schema.Clip):
            yield child, cid, child_map, child_bounds, child_enabled, nested
        else:
            yield from _walk(child, child_map, child_bounds, child_enabled, f"{cid}.", True)


def _record_interval(base: TimeMap, lo: Fraction, hi: Fraction) -> tuple[Fraction, Fraction] | None:
    """The record interval where ``base`` (record -> parent time) lands in [lo, hi).

    ``None`` means everywhere (a frozen parent shows the child at all its record
    times or at none: ``()`` stands for none).
    """
    if base.scale == 0:
        return None if lo <= base.offset < hi else (Fraction(0), Fraction(0))
    a, b = (lo - base.offset) / base.scale, (hi - base.offset) / base.scale
    return (a, b) if a <= b else (b, a)


def _intersect(
    bounds: tuple[Fraction, Fraction], other: tuple[Fraction, Fraction] | None
) -> tuple[Fraction, Fraction] | None:
    if other is None:
        return bounds
    lo, hi = max(bounds[0], other[0]), min(bounds[1], other[1])
    return (lo, hi) if lo < hi else None


def _make_info(
    clip: otio.schema.Clip,
    cid: str,
    label: str,
    index: int,
    tmap: TimeMap,
    lo: Fraction,
    hi: Fraction,
    enabled: bool,
    nested: bool,
    rate: Fraction,
) -> ClipInfo | None:
    lo_s, hi_s = snap_to_frame(lo, rate), snap_to_frame(hi, rate)
    if hi_s <= lo_s:
        log.debug("%s %r: shorter than a frame on the timeline; left out", cid, clip.name)
        return None
    src_rate = exact_rate(clip.trimmed_range().start_time.rate)
    m0, m1 = tmap(lo_s), tmap(hi_s)
    source = to_range(min(m0, m1), abs(m1 - m0), src_rate)
    return ClipInfo(
        id=cid,
        track=label,
        track_index=index,
        name=clip.name or "",
        clip=clip,
        record_range=to_range(lo_s, hi_s - lo_s, rate),
        source_range=source,
        time_map=tmap,
        enabled=enabled,
        nested=nested,
    )
