"""Read a timeline file with OpenTimelineIO and pick the timeline to work on.

Every format OTIO's adapters read is accepted (.otio, .otioz, .otiod, FCP7 XML,
FCPXML, CMX 3600 EDL, AAF, ALE). A reader may return a collection (an FCPXML
library holds several projects): the first timeline is used unless another is
picked, and the choice is logged. The file is only read, never written.
"""

from __future__ import annotations

import logging
import math
import re
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
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
# OTIO's C++ JSON reader recurses per nesting level and crashes the process (SIGSEGV) on a file
# nested tens of thousands deep: such a file is refused before it reaches it. Real timelines nest a
# few levels per stack; a bundle's content.otio is not inflated past MAX_JSON_BYTES (zip bombs).
MAX_JSON_DEPTH = 1000
MAX_JSON_BYTES = 1 << 30
# No editing system writes times beyond days (timecode wraps at 24 h): larger ones are corrupt data
# and would ask for absurd sample counts.
MAX_SECONDS = 10 * 24 * 3600
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


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
    _check_json(path, adapter)
    try:
        result = otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    except Exception as exc:  # adapters raise anything from ValueError to their own classes
        hint = " (this format carries no frame rate: give it with --rate)" if adapter in RATELESS and rate is None else ""
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
    check_times(timeline, path)
    return LoadedTimeline(timeline, path, adapter, timeline_rate(timeline, rate), index, names)


def _check_json(path: Path, adapter: str) -> None:
    """TimelineError for an OTIO JSON document too deep or too large to hand to OTIO's reader."""
    if adapter not in ("otio_json", "otioz", "otiod"):
        return
    try:
        if adapter == "otioz":
            if not zipfile.is_zipfile(path):
                raise TimelineError("is not a zip file (an .otioz is a zip holding content.otio)", path)
            with zipfile.ZipFile(path) as z:
                info = z.getinfo("content.otio")
                if info.file_size > MAX_JSON_BYTES:
                    raise TimelineError(f"its content.otio would inflate to {info.file_size} bytes "
                                        f"(more than {MAX_JSON_BYTES}): refused", path)
                data = z.read(info)
        else:
            doc = path / "content.otio" if adapter == "otiod" else path
            if doc.stat().st_size > MAX_JSON_BYTES:
                raise TimelineError(f"is larger than {MAX_JSON_BYTES} bytes: refused", doc)
            data = doc.read_bytes()
    except TimelineError:
        raise
    except KeyError as exc:
        raise TimelineError("holds no content.otio (not an OTIO bundle)", path) from exc
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:  # zipfile raises these on damage
        raise TimelineError(f"cannot read as {adapter}: {exc}", path) from exc
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise TimelineError(f"is nested {depth} levels deep (more than {MAX_JSON_DEPTH}): not a timeline OTIO "
                            "can read safely", path)


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON document (brackets inside strings do not count)."""
    brackets = np.frombuffer(_JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS), np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)  # [n] +1 open, -1 close
    return int(np.cumsum(steps).max())


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def check_times(timeline: otio.schema.Timeline, path: Path) -> None:
    """TimelineError naming the item if a time of the timeline is not finite, has no positive rate,
    lies beyond MAX_SECONDS, or a duration is negative: corrupt data, refused before any use."""

    def check(t: otio.opentime.RationalTime, what: str, duration: bool = False) -> None:
        value, rate = t.value, t.rate
        if not (math.isfinite(value) and math.isfinite(rate)) or rate <= 0:
            raise TimelineError(f"{what}: time {value!r} at rate {rate!r} is not a valid time", path)
        if abs(value / rate) > MAX_SECONDS:
            raise TimelineError(f"{what}: time {value / rate:.6g} s is out of range (more than {MAX_SECONDS} s)",
                                path)
        if duration and value < 0:
            raise TimelineError(f"{what}: negative duration {value!r} at {rate!r} fps", path)

    def check_range(r: otio.opentime.TimeRange | None, what: str) -> None:
        if r is not None:
            check(r.start_time, f"{what} start")
            check(r.duration, f"{what} duration", duration=True)

    if timeline.global_start_time is not None:
        check(timeline.global_start_time, "the timeline's start time")
    for thing in [timeline.tracks, *timeline.tracks.find_children()]:
        what = f"{type(thing).__name__} {thing.name!r}"
        if isinstance(thing, otio.schema.Transition):
            check(thing.in_offset, f"{what} in offset", duration=True)
            check(thing.out_offset, f"{what} out offset", duration=True)
            continue
        check_range(getattr(thing, "source_range", None), f"{what} source range")
        for marker in getattr(thing, "markers", ()):
            check_range(marker.marked_range, f"{what} marker {marker.name!r}")
        if isinstance(thing, otio.schema.Clip):
            for key, ref in thing.media_references().items():
                check_range(ref.available_range, f"{what} media reference {key!r} available range")


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
