"""Writers for the two hosts that render a timeline headless: Kdenlive (MLT, ``melt``) and GStreamer
Editing Services (``ges-launch-1.0``, Pitivi).

Both start from the PyPI adapters (``otio-kdenlive-adapter`` 0.0.3, ``otio-xges-adapter`` 1.0.0): the
timeline is fitted to what each adapter handles, the adapter writes the XML, and the XML is fixed where
the adapter gets it wrong for a render. What is fixed, and why (each was seen in a ``melt`` or
``ges-launch-1.0`` render, or in the adapter's code):

.kdenlive (MLT XML, via ``kdenlive``)
  - The profile's rate came from ``timeline.duration().rate`` (any item's rate: 25 from a clip's media,
    48000 from an audio clip) and only 23.98/29.97/59.94 became fractions (47.952 became 47): the profile
    gets the timeline's exact rate, and every item is first conformed to that rate (whole frames, record
    boundaries rounded, not durations), since the adapter writes times as seconds that MLT reads back to
    the frame only at the profile's rate.
  - Only the topmost track sounded: MLT mixes tracks only through "mix" transitions, which the adapter
    does not write. One per audio track is added, as Kdenlive writes them (``internal_added`` 237).
  - The render ran 10 minutes (the black background's default length): it gets the timeline's length.
  - Nested stacks were skipped without a blank (everything after them moved earlier): each is flattened
    into its track (the topmost clip shows, as in a render), or becomes a gap where it cannot be.
  - Transitions were skipped with a print: they are removed first (cuts), and logged.
  - Clips without a source range failed ('NoneType' has no 'duration'); source ranges were taken as
    frames of the file from the media's start timecode, so media whose available range starts at
    01:00:00:00 played from an hour in: sources are made relative to their media's start.
  - Clips it cannot write (generators other than colour and bars, missing references without a name)
    point at a "qtext" placeholder, which needs an X server: headless melt hung or failed on it. The
    placeholder is a transparent colour instead.
  - It prints a deprecation banner on stdout: captured and logged at debug level.

.xges (GES, via ``xges``)
  - The video track was forced to 30 fps: its restriction caps get the timeline's rate.
  - The audio track rendered at GES's default 44.1 kHz stereo: its restriction caps ask 48 kHz, the
    takes' rate, so a render keeps them sample-exact.
  - Clip markers outside their clip's range made the writer fail (a negative position): dropped, logged.
  - Nested stacks became sub-projects, on which ges-launch-1.0 hung: flattened, as for Kdenlive.
  - A transition from or to a gap (a fade), or one without media before the incoming clip, made GES
    refuse the whole project ("The NleComposition structure is not valid"): such transitions become cuts.
  - Sources (and clip markers) are made relative to their media's start, as above.

Both
  - GES takes only ``file://`` URIs as asset ids ("Wrong ID", and it loads and renders nothing) and the
    kdenlive adapter decodes the URL's path: plain paths, ``file://localhost/`` URLs and relative URLs
    (against ``media_base``, by default the written file's folder) become absolute ``file://`` URLs
    (``Path.as_uri``, percent-encoded); http and other URLs are kept.
  - A clip whose media file is not on this machine is logged: GES stops loading a project at the
    first missing file (``ges-launch-1.0`` then waits for ever); melt renders it black and silent.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import math
import re
import warnings
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from .media import exists, is_file, reference_path
from .placement import NAMESPACE
from .timing import otio_rate, range_seconds, seconds

log = logging.getLogger(__name__)

TAKE_SAMPLE_RATE = 48000  # every take WAV Foley-Flow writes
# MLT reads "HH:MM:SS.mmm" times back as frames with lrint(fps * seconds): written to the millisecond,
# they name the right frame only while a frame lasts more than 2 ms.
KDENLIVE_MAX_RATE = Fraction(500)
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_AUDIO_MIX = (("a_track", "0"), ("mlt_service", "mix"), ("kdenlive_id", "mix"), ("internal_added", "237"),
              ("always_active", "1"), ("accepts_blanks", "1"), ("sum", "1"))


# -- shared ------------------------------------------------------------------------------------------
def absolute_url(url: str, base: Path) -> str:
    """``url`` as an absolute ``file://`` URL where it names a local file (relative ones against ``base``).

    Windows paths become ``file:///C:/...``; URLs of other schemes (http, ...) are returned unchanged.
    """
    parts = urlparse(url)
    scheme = parts.scheme.lower()
    if scheme and scheme != "file" and not _WINDOWS_PATH.match(url):
        return url
    if scheme == "file" and parts.netloc.lower() not in ("", "localhost"):
        return url  # a share on another machine (file://server/share/...)
    path = reference_path(otio.schema.ExternalReference(target_url=url))
    if not path:
        return url
    if _WINDOWS_PATH.match(path):
        return PureWindowsPath(path).as_uri()
    if not path.startswith("/"):
        # a relative URL: percent-encoded as OTIO writes it (and Foley-Flow), or a plain path as some
        # hosts write it; the decoded one where only it exists
        plain, decoded = Path(base) / path, Path(base) / unquote(path)
        return (decoded if decoded != plain and exists(decoded) and not exists(plain) else plain).resolve().as_uri()
    return PurePosixPath(path).as_uri()


def absolute_media(timeline: otio.schema.Timeline, base: Path, check_relative: bool = True) -> list[str]:
    """Make every external reference's URL absolute (in place); the names of clips whose file is missing.

    Foley-Flow's own takes are not looked for (a preflight writes them before they exist), nor, unless
    ``check_relative``, files whose URL was relative (``base`` may only be a guess).
    """
    missing = []
    for clip in timeline.find_clips():
        relative = False
        for ref in clip.media_references().values():  # the clip's own references: changed in place
            if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
                url = absolute_url(ref.target_url, base)
                if ref is clip.media_reference:
                    relative = not urlparse(ref.target_url).scheme and not ref.target_url.startswith("/")
                ref.target_url = url
        ref = clip.media_reference
        if NAMESPACE in (clip.metadata or {}) or (relative and not check_relative):
            continue
        if isinstance(ref, otio.schema.ExternalReference) and urlparse(ref.target_url).scheme == "file":
            local = reference_path(ref)
            if local and not is_file(local):
                missing.append(clip.name or "(unnamed)")
    return missing


def zero_based_sources(timeline: otio.schema.Timeline) -> None:
    """Express clips' source ranges from their media's first frame (in place), as MLT and GES read them.

    OTIO counts a source from the media's start timecode (an available range starting at 01:00:00:00);
    both hosts count from the file's first frame. Clips get an explicit source range.
    """
    for clip in timeline.find_clips():
        try:
            trimmed = clip.trimmed_range()
        except Exception:  # no source range and no available range: the writer says so
            continue
        ref = clip.media_reference
        avail = getattr(ref, "available_range", None)
        if avail is None:
            clip.source_range = trimmed
            continue
        offset = avail.start_time
        start = trimmed.start_time - offset.rescaled_to(trimmed.start_time.rate)
        if start.value < 0:
            start = otio.opentime.RationalTime(0, trimmed.start_time.rate)
        clip.source_range = otio.opentime.TimeRange(start, trimmed.duration)
        shift = trimmed.start_time - start  # the clip's markers are in its source time too
        for marker in clip.markers:
            m = marker.marked_range
            marker.marked_range = otio.opentime.TimeRange(m.start_time - shift.rescaled_to(m.start_time.rate),
                                                          m.duration)
        for r in clip.media_references().values():  # the clip's own references: changed in place
            if getattr(r, "available_range", None) is not None:
                a = r.available_range
                r.available_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, a.duration.rate),
                                                            a.duration)


@contextlib.contextmanager
def _quiet(adapter: str):
    """Keep an adapter's prints and warnings off the console (logged at debug level)."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        yield
    for line in filter(None, (s.strip() for s in out.getvalue().splitlines())):
        if not set(line) <= {"!"}:
            log.debug("%s adapter: %s", adapter, line)
    for w in caught:
        log.debug("%s adapter: %s", adapter, w.message)


_warned: set[tuple[object, ...]] = set()


def _first_time(*key: object) -> bool:
    """True the first time ``key`` is seen: a warning about an output is logged once, though the preflight
    writes the same file to a scratch folder first (keys, and the messages, use the file's name only)."""
    if key in _warned:
        return False
    if len(_warned) > 256:
        _warned.clear()
    _warned.add(key)
    return True


def _warn_missing(missing: list[str], path: Path, host: str) -> None:
    if missing and _first_time(Path(path).name, "missing", tuple(missing)):
        log.warning("%s: %d clip(s) reference media that is not on this machine (%s%s); %s", Path(path).name,
                    len(missing),
                    ", ".join(missing[:5]), " ..." if len(missing) > 5 else "", host)


# -- kdenlive ----------------------------------------------------------------------------------------
def _frame(secs: Fraction, rate: Fraction) -> int:
    return math.floor(secs * rate + Fraction(1, 2))


def _flatten_nested(track: otio.schema.Track) -> int:
    """Replace nested stacks and tracks in ``track`` by what shows of them (in place); how many there were."""
    count = 0
    items = list(track)
    out: list[otio.core.Composable] = []
    for item in items:
        if not isinstance(item, (otio.schema.Stack, otio.schema.Track)):
            out.append(item)
            continue
        count += 1
        rng = item.trimmed_range()
        replacement: list[otio.core.Composable] = []
        try:
            kids = [item] if isinstance(item, otio.schema.Track) else [
                t for t in item if isinstance(t, otio.schema.Track) and t.kind == track.kind]
            if kids:
                flat = otio.algorithms.flatten_stack([copy.deepcopy(k) for k in kids])
                flat = otio.algorithms.track_trimmed_to_range(flat, rng)
                count += _flatten_nested(flat)
                replacement = [copy.deepcopy(c) for c in flat]
                covered = sum((seconds(c.duration()) for c in replacement
                               if not isinstance(c, otio.schema.Transition)), Fraction(0))
                if abs(covered - seconds(rng.duration)) > Fraction(1, 1000):
                    raise ValueError("flattened stack does not cover its range")
        except Exception as exc:  # anything OTIO cannot flatten stays a gap of the same length
            log.debug("nested %r written as a gap: %s", item.name, exc)
            replacement = []
        out.extend(replacement or [otio.schema.Gap(source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rng.duration.rate), rng.duration))])
    del track[:]
    for item in out:
        track.append(item)
    return count


def _conform_track(track: otio.schema.Track, rate: Fraction) -> tuple[int, int]:
    """Every item of ``track`` in whole frames of ``rate``, record boundaries rounded (in place).

    Returns (the track's length in frames, transitions removed).
    """
    r = otio_rate(rate)
    t = Fraction(0)
    kept, removed, end = [], 0, 0
    for item in list(track):
        if isinstance(item, otio.schema.Transition):
            removed += 1
            continue
        start_s, dur_s = range_seconds(item.trimmed_range())
        f0, f1 = _frame(t, rate), _frame(t + dur_s, rate)
        t += dur_s
        if f1 <= f0:
            continue  # shorter than half a frame: MLT cannot hold it
        item.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(_frame(start_s, rate), r),
                                                    otio.opentime.RationalTime(f1 - f0, r))
        if isinstance(item, otio.schema.Clip):
            for ref in item.media_references().values():
                a = getattr(ref, "available_range", None)
                if a is not None:
                    a0, a_dur = range_seconds(a)
                    first, last = math.floor(a0 * rate), math.ceil((a0 + a_dur) * rate)
                    ref.available_range = otio.opentime.TimeRange(otio.opentime.RationalTime(first, r),
                                                                  otio.opentime.RationalTime(last - first, r))
        kept.append(item)
        end = f1
    del track[:]
    for item in kept:
        track.append(item)
    return end, removed


def _base(media_base: Path | None, where: Path | None) -> Path:
    if media_base is not None:
        return Path(media_base)
    return Path(where).absolute().parent if where is not None else Path.cwd()


def fit_kdenlive(timeline: otio.schema.Timeline, rate: Fraction, media_base: Path | None = None,
                 where: Path | None = None) -> tuple[otio.schema.Timeline, int, list[str]]:
    """A copy the kdenlive adapter writes right: (timeline, its length in frames, clips with missing media)."""
    fitted = copy.deepcopy(timeline)
    nested = sum(_flatten_nested(t) for t in fitted.tracks if isinstance(t, otio.schema.Track))
    if nested:
        log.info("kdenlive: %d nested stack(s) flattened into their tracks", nested)
    zero_based_sources(fitted)
    length, transitions = 0, 0
    for track in fitted.tracks:
        if isinstance(track, otio.schema.Track):
            end, removed = _conform_track(track, rate)
            length, transitions = max(length, end), transitions + removed
    if transitions and _first_time(Path(where or "").name, "kdenlive transitions", transitions):
        log.warning("%s: %d transition(s) written as cuts (the kdenlive writer has no transitions)",
                    Path(where).name if where else "kdenlive", transitions)
    missing = absolute_media(fitted, _base(media_base, where), check_relative=media_base is not None)
    return fitted, length, missing


def kdenlive_string(timeline: otio.schema.Timeline, rate: Fraction, media_base: Path | None = None,
                    where: Path | None = None) -> str:
    """The .kdenlive (MLT XML) of ``timeline`` at ``rate``: the adapter's XML, fixed for a render.

    ``media_base``: the folder relative media URLs are relative to (default: ``where``'s folder, the
    file being written).
    """
    fitted, length, missing = fit_kdenlive(timeline, rate, media_base, where)
    _warn_missing(missing, where or _base(media_base, where), "melt renders them black and silent")
    with _quiet("kdenlive"):
        text = otio.adapters.write_to_string(fitted, adapter_name="kdenlive")
    return fix_kdenlive_xml(text, rate, length)


def fix_kdenlive_xml(text: str, rate: Fraction, length: int) -> str:
    """Exact profile rate, one mix transition per audio track, and the timeline's length on the background."""
    root = ET.fromstring(text)
    profile = root.find("profile")
    if profile is not None:
        profile.set("frame_rate_num", str(rate.numerator))
        profile.set("frame_rate_den", str(rate.denominator))
        profile.set("description", f"{profile.get('width', '1920')}x{profile.get('height', '1080')} "
                                   f"{float(rate):.6g} fps")
    placeholder = root.find("producer[@id='unsupported']")
    if placeholder is not None:  # its qtext service needs an X server: headless melt hangs or fails on it
        for prop in list(placeholder.findall("property")):
            if prop.get("name") in ("family", "fgcolour", "bgcolour", "text"):
                placeholder.remove(prop)
        _property(placeholder, "mlt_service", "color")
        _property(placeholder, "resource", "0x00000000")
    black = root.find("producer[@id='black_track']")
    last = str(max(length, 1) - 1)
    if black is not None:
        black.set("in", "0")
        black.set("out", last)
        _property(black, "length", str(max(length, 1)))
    main = root.find("tractor[@global_feed='1']")
    if main is not None:
        main.set("in", "0")
        main.set("out", last)
        tractors = {t.get("id"): t for t in root.findall("tractor")}
        for index, track in enumerate(main.findall("track")):
            sub = tractors.get(track.get("producer") or "")
            if index == 0 or sub is None or sub.findtext("property[@name='kdenlive:audio_track']") != "1":
                continue
            mix = ET.SubElement(main, "transition", {"id": f"foleyflow_mix{index}"})
            for name, value in _AUDIO_MIX[:1] + (("b_track", str(index)),) + _AUDIO_MIX[1:]:
                _property(mix, name, value)
    ET.indent(root, space="\t")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _property(element: ET.Element, name: str, value: str) -> None:
    prop = element.find(f"property[@name='{name}']")
    if prop is None:
        prop = ET.SubElement(element, "property", {"name": name})
    prop.text = value


# -- xges --------------------------------------------------------------------------------------------
def fit_xges(timeline: otio.schema.Timeline, media_base: Path | None = None,
             where: Path | None = None) -> tuple[otio.schema.Timeline, list[str]]:
    """A copy the xges adapter writes right: (timeline, clips with missing media)."""
    fitted = copy.deepcopy(timeline)
    nested = sum(_flatten_nested(t) for t in fitted.tracks if isinstance(t, otio.schema.Track))
    if nested:
        log.info("xges: %d nested stack(s) flattened into their tracks", nested)
    zero_based_sources(fitted)
    cut = sum(_ges_transitions(t) for t in fitted.tracks if isinstance(t, otio.schema.Track))
    if cut and _first_time(Path(where or "").name, "xges transitions", cut):
        log.warning("%s: %d transition(s) written as cuts (GES mixes only two clips that overlap: not a fade "
                    "from or to a gap, nor one without media before the incoming clip)", Path(where).name if where else "xges", cut)
    dropped = 0
    for item in fitted.find_children():
        markers = getattr(item, "markers", None)
        if not markers or not isinstance(item, otio.core.Item):
            continue
        try:
            shown = item.trimmed_range()
        except Exception:
            continue
        keep = [m for m in markers if shown.contains(m.marked_range.start_time)
                or m.marked_range.start_time == shown.start_time]
        dropped += len(markers) - len(keep)
        if len(keep) != len(markers):
            kept = [copy.deepcopy(m) for m in keep]
            del markers[:]
            markers.extend(kept)
    if dropped:
        log.info("xges: %d marker(s) outside their clip's range dropped (GES cannot place them)", dropped)
    missing = absolute_media(fitted, _base(media_base, where), check_relative=media_base is not None)
    return fitted, missing


def _ges_transitions(track: otio.schema.Track) -> int:
    """Remove the transitions GES cannot build (in place); how many.

    GES makes a transition of two clips of a layer that overlap: the incoming clip starts ``in_offset``
    earlier (so it needs that much media before its source start) and the outgoing one lasts
    ``out_offset`` longer. A transition from or to a gap (a fade) has no second clip: GES refuses the
    whole project ("The NleComposition structure is not valid").
    """
    items = list(track)
    keep, removed = [], 0
    for i, item in enumerate(items):
        if isinstance(item, otio.schema.Transition):
            before = items[i - 1] if i > 0 else None
            after = items[i + 1] if i + 1 < len(items) else None
            ok = (isinstance(before, otio.schema.Clip) and isinstance(after, otio.schema.Clip)
                  and seconds(after.trimmed_range().start_time) >= seconds(item.in_offset))
            if not ok:
                removed += 1
                continue
        keep.append(item)
    if removed:
        del track[:]
        for item in keep:
            track.append(item)
    return removed


def xges_string(timeline: otio.schema.Timeline, rate: Fraction, media_base: Path | None = None,
                where: Path | None = None) -> str:
    """The .xges of ``timeline``: the adapter's XML with the tracks' caps set to ``rate`` and 48 kHz."""
    fitted, missing = fit_xges(timeline, media_base, where)
    _warn_missing(missing, where or _base(media_base, where), "GES does not load a project with a missing file (find them first)")
    with _quiet("xges"):
        text = otio.adapters.write_to_string(fitted, adapter_name="xges")
    return fix_xges_xml(text, rate)


def fix_xges_xml(text: str, rate: Fraction) -> str:
    """Video tracks at ``rate``, audio tracks at the takes' 48 kHz (restriction caps), in every project."""
    xges = otio.adapters.from_name("xges").module()
    root = ET.fromstring(text)
    for track in root.iter("track"):
        kind = track.get("track-type")
        if kind not in ("2", "4"):
            continue
        props = xges.GstStructure.new_from_str(track.get("properties") or "properties;")
        caps = props.get_typed("restriction-caps", "string") or ("video/x-raw" if kind == "4" else "audio/x-raw")
        try:
            struct = xges.GstStructure.new_from_str(caps)
        except Exception as exc:  # caps of several structures or with features (a read xges): left as they are
            log.debug("xges: restriction caps %r kept: %s", caps, exc)
            continue
        if kind == "4":
            struct.set("framerate", "fraction", f"{rate.numerator}/{rate.denominator}")
        else:
            struct.set("rate", "int", TAKE_SAMPLE_RATE)
        props.set("restriction-caps", "string", str(struct).rstrip(";"))
        track.set("properties", str(props))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="unicode") + "\n"
