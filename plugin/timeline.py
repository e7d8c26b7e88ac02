"""Read a timeline file with OpenTimelineIO and pick the timeline to work on.

Every format OTIO's adapters read is accepted (.otio, .otioz, .otiod, FCP7 XML,
FCPXML, CMX 3600 EDL, AAF, ALE). A reader may return a collection (an FCPXML
library holds several projects): the first timeline is used unless another is
picked, and the choice is logged. The file is only read, never written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from .errors import TimelineError
from .timing import exact_rate

log = logging.getLogger(__name__)

# suffix -> OTIO adapter name (what we read; writing is output.py's business)
READ_ADAPTERS = {
    ".otio": "otio_json",
    ".otioz": "otioz",
    ".otiod": "otiod",
    ".xml": "fcp_xml",
    ".fcpxml": "fcpx_xml",
    ".edl": "cmx_3600",
    ".aaf": "AAF",
    ".ale": "ale",
}
# formats that carry no frame rate: the reader needs one (--rate)
RATELESS = {"cmx_3600", "ale"}
DEFAULT_RATE = Fraction(24)


@dataclass(frozen=True)
class LoadedTimeline:
    """A timeline read from ``path`` and what was decided while reading it."""

    timeline: otio.schema.Timeline
    path: Path
    adapter: str
    rate: Fraction  # the timeline's frame rate, exact (24000/1001, not 23.976)
    index: int  # which timeline of the file (0 unless the file holds several)
    names: tuple[str, ...]  # names of every timeline the file holds


def adapter_for(path: Path) -> str:
    """The OTIO adapter that reads ``path``, from its suffix."""
    suffix = path.suffix.lower()
    if suffix in READ_ADAPTERS:
        return READ_ADAPTERS[suffix]
    try:
        return otio.adapters.from_filepath(str(path)).name
    except Exception as exc:  # OTIO raises its own NoKnownAdapterForExtensionError
        known = ", ".join(sorted(READ_ADAPTERS))
        raise TimelineError(f"unknown timeline format {suffix or '(no suffix)'!r}; known: {known}", path) from exc


def read_timeline(path: str | Path, rate: Fraction | None = None, pick: str | int | None = None) -> LoadedTimeline:
    """Read ``path`` and return one of its timelines.

    ``rate`` is given to readers of formats that carry none (EDL, ALE; default 24,
    logged); elsewhere it only serves where the timeline itself names no rate.
    ``pick`` chooses a timeline of a collection by index or by name.
    """
    path = Path(path)
    if not path.exists():
        raise TimelineError("timeline file not found", path)
    adapter = adapter_for(path)
    kwargs: dict[str, object] = {}
    if adapter in RATELESS:
        if rate is None:
            log.info("%s: %s carries no frame rate; reading at %s fps (use --rate)", path, adapter, DEFAULT_RATE)
        kwargs["rate"] = float(rate or DEFAULT_RATE)
    try:
        result = otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    except Exception as exc:  # adapters raise anything from ValueError to their own classes
        hint = " (this format carries no frame rate: give it with --rate)" if adapter in RATELESS else ""
        raise TimelineError(f"cannot read as {adapter}: {exc}{hint}", path) from exc
    timelines = _timelines_in(result)
    if not timelines:
        raise TimelineError(f"holds no timeline (the {adapter} reader returned a {type(result).__name__})", path)
    names = tuple(tl.name or f"timeline {i + 1}" for i, tl in enumerate(timelines))
    index = _pick(timelines, names, pick, path)
    if len(timelines) > 1:
        log.info("%s holds %d timelines (%s); using #%d %r", path, len(timelines), ", ".join(map(repr, names)),
                 index + 1, names[index])
    timeline = timelines[index]
    return LoadedTimeline(timeline, path, adapter, timeline_rate(timeline, rate), index, names)


def _timelines_in(result: otio.core.SerializableObject) -> list[otio.schema.Timeline]:
    if isinstance(result, otio.schema.Timeline):
        return [result]
    if isinstance(result, otio.schema.SerializableCollection):
        return list(result.find_children(descended_from_type=otio.schema.Timeline))
    return []


def _pick(timelines: list[otio.schema.Timeline], names: tuple[str, ...], pick: str | int | None, path: Path) -> int:
    if pick is None:
        return 0
    if isinstance(pick, int) or (isinstance(pick, str) and pick.isdigit()):
        i = int(pick) - 1  # 1-based on the command line, as listed
        if 0 <= i < len(timelines):
            return i
        raise TimelineError(f"holds {len(timelines)} timeline(s); there is no #{pick}", path)
    if pick in names:
        return names.index(pick)
    raise TimelineError(f"holds no timeline named {pick!r} (it holds {', '.join(map(repr, names))})", path)


def timeline_rate(timeline: otio.schema.Timeline, fallback: Fraction | None = None) -> Fraction:
    """The timeline's frame rate, exact.

    Taken from the global start time, else from the first video item's range,
    else ``fallback`` (--rate), else 24.
    """
    if timeline.global_start_time is not None:
        return exact_rate(timeline.global_start_time.rate)
    for track in timeline.video_tracks():
        for item in track:
            if isinstance(item, otio.core.Item) and item.source_range is not None:
                return exact_rate(item.source_range.duration.rate)
    return fallback or DEFAULT_RATE


def record_start(loaded: LoadedTimeline) -> otio.opentime.RationalTime:
    """The timecode the timeline starts at (global start time), 0 when it has none."""
    gst = loaded.timeline.global_start_time
    return gst if gst is not None else otio.opentime.RationalTime(0, float(loaded.rate))
