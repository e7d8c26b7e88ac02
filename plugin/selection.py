"""Choose clips (by id, name glob, track, record time range, markers) and plan the jobs.

Criteria of different kinds narrow each other (``--track V1 --name 'shot*'``);
several values of one kind add up (``--clip V1:0 --clip V1:2``). A job is what
the generator needs for one clip: the clip, its media, its status and the number
of 48 kHz samples that cover its record range.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from .clips import ClipInfo
from .errors import SelectionError
from .media import FOUND, MediaResolution, MediaResolver, MediaStatus, status_of
from .timing import samples_for, seconds, timecode_to_seconds

_TIMECODE = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;]\d{2}$")
_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


@dataclass(frozen=True)
class Job:
    """One clip to generate for (or to report on)."""

    info: ClipInfo
    media: MediaResolution
    status: MediaStatus  # found, missing, generator, disabled
    n_samples: int  # round(record seconds * 48000)

    @property
    def runnable(self) -> bool:
        return self.status == FOUND


@dataclass(frozen=True)
class Selection:
    """What the user asked for; empty means every clip."""

    ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # globs, case-insensitive
    tracks: tuple[str, ...] = ()  # "V1"
    time_range: tuple[Fraction, Fraction] | None = None  # record seconds [start, end)
    markers: tuple[str, ...] = ()  # marker name globs ("*" for any marker)

    @property
    def empty(self) -> bool:
        return not (self.ids or self.names or self.tracks or self.time_range or self.markers)


def select(clips: Sequence[ClipInfo], selection: Selection, timeline: otio.schema.Timeline | None = None,
           path: str | Path | None = None) -> list[ClipInfo]:
    """The clips ``selection`` picks, in timeline order. Unknown ids or tracks are a SelectionError
    (naming ``path``, the timeline file, where the caller gives it)."""
    known = {c.id for c in clips}
    unknown = [i for i in selection.ids if i not in known]
    if unknown:
        sample = ", ".join(sorted(known, key=_id_key)[:12]) + (" ..." if len(known) > 12 else "")
        raise SelectionError(f"no clip with id {', '.join(unknown)} (ids here: {sample or 'none'})", path)
    tracks = {c.track for c in clips}
    bad_tracks = [t for t in selection.tracks if t.upper() not in tracks]
    if bad_tracks:
        raise SelectionError(f"no video track {', '.join(bad_tracks)} holds clips (tracks: {', '.join(sorted(tracks))})",
                             path)
    out = list(clips)
    if selection.ids:
        out = [c for c in out if c.id in selection.ids]
    if selection.tracks:
        wanted = {t.upper() for t in selection.tracks}
        out = [c for c in out if c.track in wanted]
    if selection.names:
        out = [c for c in out if any(fnmatch.fnmatchcase(c.name.lower(), g.lower()) for g in selection.names)]
    if selection.time_range is not None:
        lo, hi = selection.time_range
        out = [c for c in out if _overlaps(c, lo, hi)]
    if selection.markers:
        out = [c for c in out if _marked(c, selection.markers, timeline)]
    return out


def plan(clips: Sequence[ClipInfo], resolver: MediaResolver) -> list[Job]:
    """A job per clip: media resolved, status and sample count computed."""
    return [_job(c, resolver) for c in clips]


def _job(info: ClipInfo, resolver: MediaResolver) -> Job:
    media = resolver.resolve_clip(info.clip)
    return Job(info, media, status_of(info, media), samples_for(info.record_range))


def parse_record_time(text: str, rate: Fraction, start: otio.opentime.RationalTime | None = None,
                      path: str | Path | None = None) -> Fraction:
    """Record seconds from the timeline's start: a timecode (minus the timeline's start timecode) or seconds."""
    text = text.strip()
    if _TIMECODE.match(text):
        secs = _timecode_seconds(text, rate, path)
        return secs - (seconds(start) if start is not None else 0)
    exponent = _EXPONENT.search(text)
    if exponent is not None and abs(int(exponent.group(1))) > 30:  # Fraction("1e999999999") would run for ages
        raise SelectionError(f"not a time: {text!r} (out of range)", path)
    try:
        return Fraction(text)
    except ValueError:
        raise SelectionError(f"not a time: {text!r} (write a timecode HH:MM:SS:FF or seconds)", path) from None


def _timecode_seconds(text: str, rate: Fraction, path: str | Path | None) -> Fraction:
    """Seconds of a timecode at ``rate``. OTIO's parser knows only the SMPTE rates (it refuses 15, 12.5,
    7 fps with a ValueError): elsewhere a non-drop timecode counts frames at the nominal rate, as
    timing.timecode() writes them. A timecode whose fields run past their counts is a SelectionError."""
    try:
        return timecode_to_seconds(text, rate)
    except ValueError as exc:
        reason = str(exc)
    hh, mm, ss, ff = (int(x) for x in re.split(r"[:;]", text))
    nominal = max(1, round(rate))
    if ";" in text or mm >= 60 or ss >= 60 or ff >= nominal:
        raise SelectionError(f"not a timecode at {float(rate):g} fps: {text!r} ({reason})", path)
    return Fraction(((hh * 60 + mm) * 60 + ss) * nominal + ff) / rate


def parse_record_range(text: str, rate: Fraction, start: otio.opentime.RationalTime | None = None,
                       path: str | Path | None = None) -> tuple[Fraction, Fraction]:
    """``IN-OUT`` (timecodes or seconds) as record seconds [in, out)."""
    parts = text.split("-") if text.count("-") == 1 else []
    if len(parts) != 2:
        raise SelectionError(f"not a range: {text!r} (write IN-OUT, e.g. 01:00:10:00-01:00:20:00 or 10-20)", path)
    lo, hi = (parse_record_time(p, rate, start, path) for p in parts)
    if hi <= lo:
        raise SelectionError(f"empty range: {text!r} ends before it starts", path)
    return lo, hi


def _overlaps(c: ClipInfo, lo: Fraction, hi: Fraction) -> bool:
    start = seconds(c.record_range.start_time)
    return start < hi and start + seconds(c.record_range.duration) > lo


def _marked(c: ClipInfo, globs: Sequence[str], timeline: otio.schema.Timeline | None) -> bool:
    def match(m: otio.schema.Marker) -> bool:
        return any(fnmatch.fnmatchcase((m.name or "").lower(), g.lower()) for g in globs)

    if any(match(m) for m in c.clip.markers):
        return True
    if timeline is None:
        return False
    start = seconds(c.record_range.start_time)
    end = start + seconds(c.record_range.duration)
    track = timeline.tracks[c.track_index]
    shift = -seconds(track.trimmed_range().start_time)  # track time -> record time
    scopes = [(track.markers, shift), (timeline.tracks.markers, Fraction(0))]
    for markers, offset in scopes:
        for m in markers:
            if not match(m):
                continue
            m0 = seconds(m.marked_range.start_time) + offset
            m1 = m0 + seconds(m.marked_range.duration)
            if m0 < end and (m1 > start or (m1 == m0 and m0 >= start)):
                return True
    return False


def _id_key(cid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", cid))
