"""Read a timeline file with OpenTimelineIO and pick the timeline to work on.

Every format OTIO's adapters read is accepted (.otio, .otioz, .otiod, FCP7 XML,
FCPXML, CMX 3600 EDL, AAF, ALE). A reader may return a collection (an FCPXML
library holds several projects): the first timeline is used unless another is
picked, and the choice is logged. The file is only read, never written.
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import re
import sys
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio

from .clips import time_scalar
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
# Avid's AAFs nest their objects about 10 storages deep (nested sequences included); see _check_aaf.
MAX_AAF_DEPTH = 128
# ... and no OTIO JSON document past 256 MiB is read: OTIO alone takes some 10 s per 300 MB here, and
# MAX_ITEMS items take less (premiere_example.otio, the most verbose of the corpus: 6 KB an item).
MAX_JSON_BYTES = 1 << 28
# A feature film's edit, every audio split included, holds some tens of thousands of items, a few
# thousand of them video clips. Past these limits the readers take longer than the 30 s anyone waits
# (`foleyflow clips` and the panel's open, 2 cores: 10 000 video clips in 8 s, 20 000 in 20 s, 44 000
# in 104 s).
MAX_ITEMS = 50_000
MAX_VIDEO_CLIPS = 10_000
# No editing system writes times beyond days (timecode wraps at 24 h): larger ones are corrupt data
# and would ask for absurd sample counts.
MAX_SECONDS = 10 * 24 * 3600
# Frame (and sample) rates an editing system can mean: exact_rate() cannot keep a rate below 1/2002
# (it becomes 0) and rates past a MHz only serve to overflow sample and frame arithmetic.
MIN_RATE = 1e-3
MAX_RATE = 1e6
# Speeds past this (one effect, or the product down a nesting of stacks) are corrupt data.
MAX_SPEED = 10_000


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
    _check_aaf(path, adapter)
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
    check_size(timeline, path)
    check_times(timeline, path)
    check_speeds(timeline, path)
    check_ranges(timeline, path)
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
    _check_utf8(data, path, adapter)
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise TimelineError(f"is nested {depth} levels deep (more than {MAX_JSON_DEPTH}): not a timeline OTIO "
                            "can read safely", path)
    _check_schemas(data, path, adapter)


def _check_aaf(path: Path, adapter: str) -> None:
    """TimelineError for an AAF whose objects nest deeper than MAX_AAF_DEPTH storages: the AAF reader's
    simplification clones the tree once per level (quadratic), so that a few hundred levels take
    minutes. The depth is read from the file's directory (pyaaf2's compound-file layer, no objects)."""
    if adapter != "AAF":
        return
    try:
        from aaf2.cfb import CompoundFileBinary
    except ImportError:  # no AAF reader installed: the read below says so
        return
    try:
        with path.open("rb") as f:
            cfb = CompoundFileBinary(f, "rb")
            todo, seen, deepest = [(cfb.root, 0)], set(), 0
            while todo:
                entry, depth = todo.pop()
                if entry.dir_id in seen:  # a damaged directory may point back up
                    continue
                seen.add(entry.dir_id)
                deepest = max(deepest, depth)
                if deepest > MAX_AAF_DEPTH:
                    break
                for child in cfb.listdir(entry):
                    if child.isdir():
                        todo.append((child, depth + 1))
                    elif child.name.endswith(" index"):
                        _check_aaf_index(child, path)
    except TimelineError:
        raise
    except Exception as exc:  # pyaaf2 raises its own errors, ValueError, IndexError... on a damaged file
        raise TimelineError(f"cannot read as AAF: {exc or type(exc).__name__}", path) from exc
    if deepest > MAX_AAF_DEPTH:
        raise TimelineError(f"nests its objects more than {MAX_AAF_DEPTH} levels deep: not a timeline the AAF "
                            "reader can read in reasonable time", path)


def _check_aaf_index(entry: object, path: Path) -> None:
    """TimelineError if an AAF index stream claims more entries than its bytes hold: pyaaf2 builds a
    struct format of that many entries first (a damaged count of 2**31 asks for gigabytes, and the
    process is killed for memory). Every index format begins with its entry count (u32), and each entry
    takes at least 4 bytes."""
    size = entry.byte_size  # type: ignore[attr-defined]
    head = entry.open("r").read(4)  # type: ignore[attr-defined]
    count = int.from_bytes(head, "little") if len(head) == 4 else 0
    if count * 4 > size:
        raise TimelineError(f"cannot read as AAF: its index {entry.name!r} claims {count} entries, more than "  # type: ignore[attr-defined]
                            f"its {size} bytes hold (a damaged file)", path)


def _check_utf8(data: bytes, path: Path, adapter: str) -> None:
    """TimelineError unless ``data`` is UTF-8: OTIO's reader keeps any bytes in its strings, and every later
    look at such a name or URL fails in Python (UnicodeDecodeError). Checked in slices (no 1 GB copy)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 24
    for at in range(0, max(len(data), 1), step):
        try:
            decoder.decode(data[at:at + step], final=at + step >= len(data))
        except UnicodeDecodeError as exc:
            where = at + exc.start
            raise TimelineError(f"cannot read as {adapter}: not UTF-8 text (byte {data[where]:#04x} at offset "
                                f"{where}); an OTIO JSON document is UTF-8", path) from None


# OTIO 0.18.1's JSON reader takes the process down on objects of a few shapes, refused here first:
# - "UnknownSchema.N" anywhere aborts it ("Fatal error: UnknownSchema should not be created from type
#   registry", exit 255);
# - an object it creates and then drops crashes it (SIGSEGV): it registers every object it creates (all but
#   the value types, _VALUE_SCHEMAS) for a final pass, which reads them after they were freed where they were
#   dropped: held by the later value of a key given twice in one JSON object (the first is kept), by a field
#   of a value type (only the fields it reads are kept), or by a field a schema upgrade overwrites (a Clip of
#   version 0 or 1 with "media_references", version 2's field, or "active_media_reference_key"; a Marker of
#   version 0 or 1 with "marked_range").
# So every document is parsed here to look (some 0.5x the time OTIO takes); each JSON object is reduced as
# soon as parsed to whether it holds an object OTIO creates (_HOLDS), so that memory stays small. A document
# Python's parser refuses is refused (OTIO's refuses it too, or dies reading the objects before the error).
_VALUE_SCHEMAS = frozenset({"RationalTime.1", "TimeRange.1", "TimeTransform.1", "SerializableObjectRef.1", "V2d.1",
                            "Box2d.1"})
_UPGRADE_OVERWRITES = {"Clip": ("media_references", "active_media_reference_key"), "Marker": ("marked_range",)}
_STOI = re.compile(r"\s*([+-]?\d+)")  # how OTIO reads a schema version (std::stoi)
_HOLDS, _PLAIN = object(), object()  # what a JSON object is reduced to


def _check_schemas(data: bytes, path: Path, adapter: str) -> None:
    """TimelineError for an OTIO document holding an object OTIO's reader crashes on (see above)."""
    if not data.strip(b" \t\n\r"):
        return  # no objects: OTIO's reader says "The document is empty"
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 2 * MAX_JSON_DEPTH + 500))  # json_depth() has bounded the nesting
        json.loads(data.decode("utf-8"), strict=False, object_pairs_hook=_SchemaScan(path),
                   parse_int=lambda _: 0, parse_float=lambda _: 0.0, parse_constant=lambda _: 0.0)
    except (ValueError, RecursionError) as exc:
        raise TimelineError(f"cannot read as {adapter}: {exc}", path) from None
    finally:
        sys.setrecursionlimit(limit)


def _holds(value: object) -> bool:
    """Whether a parsed JSON value (objects reduced by _SchemaScan) holds an object OTIO creates."""
    if value is _HOLDS:
        return True
    todo = [value] if type(value) is list else []
    while todo:
        for item in todo.pop():
            if item is _HOLDS:
                return True
            if type(item) is list:
                todo.append(item)
    return False


class _SchemaScan:
    """json's object_pairs_hook for _check_schemas: raises TimelineError for an object OTIO crashes on, else
    reduces the object to _HOLDS (it is, or holds, an object OTIO creates) or _PLAIN."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, pairs: list[tuple[str, object]]) -> object:
        held: dict[str, bool] = {}  # key -> whether a value under it holds an object OTIO creates
        for key, value in pairs:
            inner = _holds(value)
            if inner and key in held:
                raise TimelineError(f"gives the key {key!r} twice in one object, the second time holding an OTIO "
                                    f"object, which OTIO {otio.__version__} drops and then crashes on (SIGSEGV): "
                                    "not a timeline it wrote", self.path)
            held[key] = held.get(key, False) or inner
        schemas = [value for key, value in pairs if key == "OTIO_SCHEMA" and isinstance(value, str)]
        for schema in schemas:  # every one: a key given twice is read by OTIO as it likes
            self._check(schema, held)
        return _HOLDS if any(held.values()) or any(s not in _VALUE_SCHEMAS for s in schemas) else _PLAIN

    def _check(self, schema: str, held: dict[str, bool]) -> None:
        if schema in _VALUE_SCHEMAS:
            dropped = [key for key, inner in held.items() if inner]
            if dropped:
                raise TimelineError(f"holds a {schema} whose field {dropped[0]!r} holds an OTIO object, which OTIO "
                                    f"{otio.__version__} drops and then crashes on (SIGSEGV): not a timeline it "
                                    "wrote", self.path)
            return
        name, _, version_text = schema.rpartition(".")
        version = _STOI.match(version_text)
        if version is None:
            return  # OTIO refuses a malformed schema itself
        if name == "UnknownSchema":
            raise TimelineError(f"holds an object of schema {schema!r}, which OTIO {otio.__version__} cannot "
                                "read (it aborts): not a timeline it wrote", self.path)
        if int(version.group(1)) >= 2:
            return
        if name == "Clip" and "media_references" in held:
            raise TimelineError(f"holds a clip of schema {schema!r} with \"media_references\" (a Clip.2 "
                                f"field), which OTIO {otio.__version__} cannot read (it crashes): not a timeline "
                                "it wrote", self.path)
        for key in _UPGRADE_OVERWRITES.get(name, ()):
            if held.get(key):
                raise TimelineError(f"holds an object of schema {schema!r} whose {key!r} holds an OTIO object, "
                                    f"which OTIO {otio.__version__}'s upgrade of the schema drops and then crashes "
                                    "on (SIGSEGV): not a timeline it wrote", self.path)


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON document (brackets inside strings do not count).

    Escapes go first (``\\\\`` pairs, then ``\\"``), so that every quote left opens or closes a string;
    then, slice by slice (bounded memory), a bracket counts where an even number of quotes precedes it.
    About 10x faster than stripping strings with a regular expression (310 MB: 2 s against 19 s)."""
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    quotes = 0  # quotes before the slice
    depth = deepest = 0
    step = 1 << 24
    for at in range(0, len(plain), step):
        chunk = np.frombuffer(plain, np.uint8, count=min(step, len(plain) - at), offset=at)
        marks = np.flatnonzero(np.isin(chunk, _MARKS))  # quotes and brackets only
        kinds = chunk[marks]
        is_quote = kinds == ord('"')
        outside = ((np.cumsum(is_quote, dtype=np.int64) + quotes) & 1) == 0
        quotes += int(is_quote.sum())
        brackets = kinds[outside & ~is_quote]
        if brackets.size == 0:
            continue
        steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
        levels = np.cumsum(steps, dtype=np.int64) + depth
        deepest = max(deepest, int(levels.max()))
        depth = int(levels[-1])
    return deepest


_MARKS = np.frombuffer(b'"[]{}', np.uint8)


def check_size(timeline: otio.schema.Timeline, path: Path) -> None:
    """TimelineError if the timeline holds more than MAX_ITEMS items, or its video tracks more than
    MAX_VIDEO_CLIPS clips: listing, planning and painting that many would take minutes."""
    count = len(timeline.tracks.find_children())
    if count > MAX_ITEMS:
        raise TimelineError(f"holds {count} items (clips, gaps, transitions, tracks), more than the {MAX_ITEMS} "
                            "the plugin reads: refused", path)
    video = sum(len(track.find_clips()) for track in timeline.video_tracks())
    if video > MAX_VIDEO_CLIPS:
        raise TimelineError(f"holds {video} clips on its video tracks, more than the {MAX_VIDEO_CLIPS} the plugin "
                            "lists: refused (split the timeline)", path)


def check_times(timeline: otio.schema.Timeline, path: Path) -> None:
    """TimelineError naming the item if a time of the timeline is not finite, has no positive rate,
    lies beyond MAX_SECONDS, or a duration is negative: corrupt data, refused before any use."""

    def check(t: otio.opentime.RationalTime, what: str, duration: bool = False) -> None:
        value, rate = t.value, t.rate
        if not (math.isfinite(value) and math.isfinite(rate)) or rate <= 0:
            raise TimelineError(f"{what}: time {value!r} at rate {rate!r} is not a valid time", path)
        if not MIN_RATE <= rate <= MAX_RATE:
            raise TimelineError(f"{what}: rate {rate!r} is not a frame rate (outside {MIN_RATE:g}-{MAX_RATE:g})",
                                path)
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


def check_speeds(timeline: otio.schema.Timeline, path: Path) -> None:
    """TimelineError naming the item if a time effect's speed is not a finite number, or an item plays,
    through its own and its parents' time effects, faster than MAX_SPEED (either way): corrupt data whose
    time maps would overflow every later conversion."""
    todo: list[tuple[otio.core.Composable, Fraction]] = [(timeline.tracks, Fraction(1))]
    while todo:
        thing, outer = todo.pop()
        what = f"{type(thing).__name__} {thing.name!r}"
        for effect in getattr(thing, "effects", ()):
            if isinstance(effect, otio.schema.LinearTimeWarp) and not (
                    math.isfinite(effect.time_scalar) and abs(effect.time_scalar) <= MAX_SPEED):
                raise TimelineError(f"{what} time effect {effect.name or effect.effect_name!r}: speed "
                                    f"{effect.time_scalar!r} is not a speed (finite, at most {MAX_SPEED:g}x)", path)
        speed = outer * time_scalar(thing) if isinstance(thing, otio.core.Item) and thing.effects else outer
        if abs(speed) > MAX_SPEED:
            raise TimelineError(f"{what}: plays at {_speed_text(speed)}x through its time effects and its parents' "
                                f"(more than {MAX_SPEED:g}x): not a speed an editing system writes", path)
        if isinstance(thing, otio.core.Composition):
            todo.extend((child, speed) for child in thing)


def _speed_text(speed: Fraction) -> str:
    """A speed for a message; one past a float's range (a 1e308 speed in metadata, compounded) too."""
    try:
        return f"{float(speed):.6g}"
    except OverflowError:
        return f"{'-' if speed < 0 else ''}1e+{len(str(abs(speed.numerator // speed.denominator))) - 1}"


def check_ranges(timeline: otio.schema.Timeline, path: Path) -> None:
    """TimelineError naming the item if OTIO cannot compute a range the plugin asks for later: an item
    with no source range and no length of its own (a gap, a clip whose media has no available range),
    or a composition whose children's ranges or a track item's visible range cannot be computed."""

    def what(thing: otio.core.SerializableObject) -> str:
        parent = thing.parent() if hasattr(thing, "parent") else None
        inside = f" (in {type(parent).__name__} {parent.name!r})" if parent is not None else ""
        return f"{type(thing).__name__} {thing.name!r}{inside}"

    things = [timeline.tracks, *timeline.tracks.find_children()]
    leaves_first = sorted(things, key=lambda t: isinstance(t, otio.core.Composition))  # a leaf is the culprit
    for thing in leaves_first:
        if isinstance(thing, otio.schema.Transition):
            continue
        try:
            thing.trimmed_range()
        except Exception as exc:  # OTIO raises NotImplementedError (a gap) or its own errors (a clip)
            if isinstance(thing, otio.schema.Clip) and thing.source_range is None:
                ref = thing.media_reference
                why = (f"and its media reference ({type(ref).__name__}) has no available range"
                       if ref is not None and ref.available_range is None else f"and OTIO cannot tell its length: {exc}")
                raise TimelineError(f"{what(thing)}: has no source range {why}: its length is unknown", path) from exc
            if getattr(thing, "source_range", None) is None and not isinstance(thing, otio.core.Composition):
                raise TimelineError(f"{what(thing)}: has no source range, and a {type(thing).__name__} has no length "
                                    "of its own", path) from exc
            raise TimelineError(f"{what(thing)}: OTIO cannot compute its range: {exc}", path) from exc
    for thing in [timeline.tracks, *timeline.tracks.find_children(descended_from_type=otio.core.Composition)]:
        try:
            thing.range_of_all_children()
            if isinstance(thing, otio.schema.Track):
                for child in thing:
                    if not isinstance(child, otio.schema.Transition):
                        child.visible_range()
        except Exception as exc:
            raise TimelineError(f"{what(thing)}: OTIO cannot compute the ranges of its children: {exc}", path) from exc


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
