"""Place generated takes on Foley tracks of a *copy* of a timeline (pure functions).

One Foley audio track per video track, and one more ("lane") wherever takes of
that video track would overlap (clips under a transition, clips of a nested
stack); each take is an audio clip at exactly its video clip's record range, with
gaps between::

    V1          | clip A |==trans==| clip B |      | clip C |
    Foley V1    | take A    |  gap | ...           | take C |
    Foley V1 (2)|  gap   | take B           |

Everything Foley-Flow adds carries metadata under one namespace, ``"foleyflow"``:
tracks ``{"role": "foley", "video_track": "V1", "lane": 0}``, takes the model,
its checksum, seed, steps, guidance, source clip id and creation time. Placing a
take for a clip that already has one replaces it; every other track and take is
left exactly as it was. The input timeline is never touched: the result is a deep
copy.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import opentimelineio as otio

from .errors import OutputError
from .timing import otio_rate, seconds, to_range

NAMESPACE = "foleyflow"
ROLE_FOLEY = "foley"
_FOLEY_NAME = re.compile(r"^Foley (V\d+)(?: \((\d+)\))?$")


@dataclass(frozen=True)
class Take:
    """A generated take (one or more variations) of one video clip."""

    source_clip_id: str  # "V1:3"
    source_track: str  # "V1"
    name: str  # the video clip's name
    record_range: otio.opentime.TimeRange  # the video clip's record range, timeline rate
    media: tuple[Path, ...]  # one WAV per variation
    active: int = 0  # which variation is the active take
    metadata: Mapping[str, Any] = field(default_factory=dict)  # model, checksum, seeds, steps, guidance, created
    variation_metadata: tuple[Mapping[str, Any], ...] = ()  # per variation (seed), same length as media


def file_url(path: Path, relative_to: Path | None = None) -> str:
    """The URL of a WAV: relative (percent-encoded, POSIX) when under ``relative_to``, else absolute.

    Absolute URLs come from ``Path.as_uri()``, which percent-encodes ``#``, ``?``
    and ``%`` (OTIO's url_from_filepath does not).
    """
    path = Path(path).resolve()
    if relative_to is not None:
        try:
            rel = path.relative_to(Path(relative_to).resolve())
        except ValueError:
            rel = None
        if rel is not None:
            return quote(rel.as_posix())
    return path.as_uri()


def rebase_take_urls(
    timeline: otio.schema.Timeline, old_base: Path, url_for: Callable[[Path], str]
) -> otio.schema.Timeline:
    """A copy whose existing takes' relative URLs (relative to ``old_base``) are re-made by ``url_for``.

    Takes written beside one timeline keep pointing at their WAVs when the result
    is written into another folder. Only Foley-Flow's own takes are touched.
    """
    new = copy.deepcopy(timeline)
    for clip in new.find_clips():
        if NAMESPACE not in (clip.metadata or {}):
            continue
        refs = clip.media_references()
        changed = False
        for ref in refs.values():
            url = getattr(ref, "target_url", "") or ""
            if url and not urlparse(url).scheme and not url.startswith("/"):
                ref.target_url = url_for(Path(old_base) / unquote(url))
                changed = True
        if changed:
            clip.set_media_references(refs, clip.active_media_reference_key)
    return new


def foley_track_label(track: otio.schema.Track) -> tuple[str, int] | None:
    """(video track label, lane) if ``track`` is a Foley track Foley-Flow made, else None."""
    meta = track.metadata.get(NAMESPACE) if track.metadata else None
    if isinstance(meta, Mapping) and meta.get("role") == ROLE_FOLEY:
        return str(meta.get("video_track", "")), int(meta.get("lane", 0))
    if track.kind == otio.schema.TrackKind.Audio:
        match = _FOLEY_NAME.match(track.name or "")
        if match:
            return match.group(1), int(match.group(2) or 1) - 1
    return None


def take_clip(take: Take, rate: Fraction, url_for: Callable[[Path], str]) -> otio.schema.Clip:
    """An audio clip for ``take``: source range 0..duration, references covering the WAVs."""
    zero = otio.opentime.RationalTime(0, otio_rate(rate))
    duration = to_range(Fraction(0), seconds(take.record_range.duration), rate).duration
    available = otio.opentime.TimeRange(zero, duration)
    clip = otio.schema.Clip(name=f"Foley {take.name}".strip(), source_range=otio.opentime.TimeRange(zero, duration))
    refs = {}
    for i, path in enumerate(take.media):
        ref = otio.schema.ExternalReference(target_url=url_for(path), available_range=available)
        ref.name = path.name
        vmeta = dict(take.variation_metadata[i]) if i < len(take.variation_metadata) else {}
        ref.metadata[NAMESPACE] = {"variation": i + 1, **vmeta}
        refs[f"take{i + 1}"] = ref
    if len(refs) == 1:
        clip.media_reference = next(iter(refs.values()))
    elif refs:
        clip.set_media_references(refs, f"take{take.active + 1}")
    clip.metadata[NAMESPACE] = {
        "source_clip": take.source_clip_id,
        "source_track": take.source_track,
        "source_clip_name": take.name,
        **dict(take.metadata),
    }
    return clip


def place_takes(
    timeline: otio.schema.Timeline,
    takes: Sequence[Take],
    rate: Fraction,
    url_for: Callable[[Path], str] = file_url,
) -> otio.schema.Timeline:
    """A new timeline: ``timeline`` plus ``takes`` on Foley tracks (replacing takes of the same clips).

    ``rate`` is the timeline's rate; gaps and clips are expressed at it.
    """
    new = copy.deepcopy(timeline)
    replaced = {t.source_clip_id for t in takes}
    # label -> [(record range, clip)], old takes kept and new ones added
    entries: dict[str, list[tuple[Fraction, Fraction, str, otio.schema.Clip]]] = {}
    lanes_of: dict[str, list[otio.schema.Track]] = {}
    for track in list(new.tracks):
        found = foley_track_label(track) if isinstance(track, otio.schema.Track) else None
        if found is None:
            continue
        label, _lane = found
        lanes_of.setdefault(label, []).append(track)
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip):
                continue
            meta = item.metadata.get(NAMESPACE, {}) if item.metadata else {}
            sid = str(meta.get("source_clip", "")) if isinstance(meta, Mapping) else ""
            if sid and sid in replaced:
                continue
            placed = track.range_of_child_at_index(i)
            start = seconds(placed.start_time)
            entries.setdefault(label, []).append((start, start + seconds(placed.duration), sid, item))
    for take in takes:
        start = seconds(take.record_range.start_time)
        if start < 0:
            raise OutputError(f"clip {take.source_clip_id} starts before the timeline's start; cannot place its take")
        clip = take_clip(take, rate, url_for)
        entries.setdefault(take.source_track, []).append(
            (start, start + seconds(take.record_range.duration), take.source_clip_id, clip))
    for label in sorted(entries, key=_label_key):
        _rebuild(new, label, entries[label], lanes_of.get(label, []), rate)
    return new


def assign_lanes(spans: Sequence[tuple[Fraction, Fraction]]) -> list[int]:
    """Lane of each (start, end) span so that no two spans of a lane overlap (first fit, by start)."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], spans[i][1]))
    ends: list[Fraction] = []
    lanes = [0] * len(spans)
    for i in order:
        start, end = spans[i]
        for lane, last in enumerate(ends):
            if last <= start:
                lanes[i], ends[lane] = lane, end
                break
        else:
            lanes[i] = len(ends)
            ends.append(end)
    return lanes


def _label_key(label: str) -> tuple[int, str]:
    return (int(label[1:]), label) if label[1:].isdigit() else (1 << 30, label)


def _rebuild(
    timeline: otio.schema.Timeline,
    label: str,
    entries: list[tuple[Fraction, Fraction, str, otio.schema.Clip]],
    old_lanes: list[otio.schema.Track],
    rate: Fraction,
) -> None:
    """Refill (or create) the Foley lanes of ``label`` with ``entries``."""
    for track in old_lanes:  # detach every clip before re-adding any
        del track[:]
    lanes = assign_lanes([(s, e) for s, e, _, _ in entries])
    n_lanes = max(lanes, default=-1) + 1
    tracks = list(old_lanes)
    insert_at = (list(timeline.tracks).index(old_lanes[-1]) + 1) if old_lanes else len(timeline.tracks)
    while len(tracks) < n_lanes:
        track = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
        timeline.tracks.insert(insert_at, track)
        insert_at += 1
        tracks.append(track)
    for lane, track in enumerate(tracks):
        track.name = f"Foley {label}" if lane == 0 else f"Foley {label} ({lane + 1})"
        track.metadata[NAMESPACE] = {"role": ROLE_FOLEY, "video_track": label, "lane": lane}
        mine = sorted((e for e, ln in zip(entries, lanes, strict=True) if ln == lane), key=lambda e: (e[0], e[1]))
        cursor = Fraction(0)
        for start, end, _sid, clip in mine:
            if start > cursor:
                track.append(otio.schema.Gap(source_range=to_range(Fraction(0), start - cursor, rate)))
            track.append(clip)
            cursor = end
    for track in tracks[n_lanes:]:  # lanes no longer needed
        if len(track) == 0:
            timeline.tracks.remove(track)
