"""Write the result timeline: format from the suffix, each format's limits, atomically.

=========  ===========  ==========================================================
suffix     adapter      what it carries / how it is handled
=========  ===========  ==========================================================
.otio      otio_json    everything; takes' WAVs by relative URL, variations kept
.otioz     otioz        a zip with the media; references to files that do not
                        exist (and generators) become MissingReference with the
                        original URL in their metadata (OTIO 0.18.1 cannot bundle
                        them); refuses to overwrite, so it is written to a new name
.otiod     otiod        the same, as a folder
.xml       fcp_xml      FCP7 XML: active take only; audio references need an
                        available range at the timeline rate (ours have it);
                        track names and metadata do not survive
.fcpxml    fcpx_xml     Final Cut Pro X: active take only, one timeline
.aaf       AAF          one rate throughout, empty mob ids for clips that have none
.kdenlive  kdenlive     Kdenlive / MLT XML (renders with ``melt``): active take only;
                        the adapter's XML fixed by mlt_ges.py (exact profile rate, items
                        in whole frames, audio tracks mixed, length = the timeline's);
                        transitions become cuts; at most 500 fps
.xges      xges         GStreamer Editing Services (``ges-launch-1.0``, Pitivi): active
                        take only; file:// asset URLs; video caps at the timeline rate,
                        audio at 48 kHz (mlt_ges.py)
.edl       (refused)    CMX 3600 holds one video track and no audio references
=========  ===========  ==========================================================

Take WAVs are referenced by URL (:func:`url_policy`): relative to the output for .otio (unless
asked otherwise), absolute ``file://`` for every other format; for .kdenlive and .xges every other
media reference is made absolute too (mlt_ges.py), as melt and GES need.

The input timeline is never overwritten unless asked (``in_place``), and then a
backup copy is kept first.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from . import mlt_ges
from .atomic import atomic_target, backup_copy, check_fits
from .errors import OutputError
from .media import is_file
from .placement import NAMESPACE, file_url
from .timing import exact_rate

log = logging.getLogger(__name__)

WRITE_ADAPTERS = {
    ".otio": "otio_json",
    ".otioz": "otioz",
    ".otiod": "otiod",
    ".xml": "fcp_xml",
    ".fcpxml": "fcpx_xml",
    ".aaf": "AAF",
    ".kdenlive": "kdenlive",
    ".xges": "xges",
}
# Formats written by an OTIO adapter whose XML mlt_ges.py fixes (not by otio.adapters.write_to_file).
HOST_FORMATS = ("kdenlive", "xges")
REFUSED = {
    ".edl": "an EDL (CMX 3600) holds one video track and no audio clip references, so it cannot carry the "
            "Foley track; write .otio, .xml (FCP7), .fcpxml, .aaf, .kdenlive or .xges instead",
    ".ale": "an ALE is a clip list, not a timeline; write .otio, .xml (FCP7), .fcpxml, .aaf, .kdenlive or "
            ".xges instead",
}
_BUNDLES = ("otioz", "otiod")


def output_adapter(path: Path) -> str:
    """The adapter that writes ``path``, or an OutputError saying why it cannot be written."""
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise OutputError(f"cannot write {suffix}: {REFUSED[suffix]}", path)
    if suffix not in WRITE_ADAPTERS:
        known = ", ".join(sorted(WRITE_ADAPTERS))
        raise OutputError(f"unknown output format {suffix or '(no suffix)'!r}; write one of {known}", path)
    return WRITE_ADAPTERS[suffix]


def check_output(output: Path, input_path: Path, in_place: bool = False) -> str:
    """Validate the output path before any work; return its adapter."""
    adapter = output_adapter(output)
    try:
        same = output.resolve() == input_path.resolve()
        if same and not in_place:
            raise OutputError("is the input timeline; it is never overwritten (write elsewhere, or pass --in-place, "
                              "which keeps a backup)", output)
        if in_place and not same:
            raise OutputError("--in-place writes over the input timeline; do not give a different -o", output)
        if output.is_dir() and adapter != "otiod":
            raise OutputError("is a folder", output)
        if not output.parent.exists():
            raise OutputError("its folder does not exist", output.parent)
        if not output.parent.is_dir():
            raise OutputError("is not a folder", output.parent)
        if not os.access(output.parent, os.W_OK | os.X_OK):  # EROFS even for root; permissions for others
            raise OutputError("cannot be written into (a read-only file system, or no permission)", output.parent)
    except OSError as exc:  # a name too long, a loop of links, a folder that cannot be searched
        raise OutputError(f"cannot be used as the output: {exc.strerror or exc}", output) from exc
    check_fits(output)
    return adapter


def url_policy(adapter: str, output: Path, absolute: bool = False) -> Callable[[Path], str]:
    """How take WAVs are referenced: relative to the output for .otio, absolute ``file://`` elsewhere.

    Bundles (.otioz/.otiod) copy the WAVs in and need to find them: absolute. GES (.xges) takes only
    ``file://`` URIs as asset ids and melt (.kdenlive) opens the URL's decoded path, so both get
    ``Path.as_uri()`` URLs (percent-encoded: ``#``, ``%`` and spaces survive) whatever ``absolute`` says.
    """
    if adapter == "otio_json" and not absolute:
        base = output.resolve().parent
        return lambda p: file_url(p, base)
    return lambda p: file_url(p)


def prepare(timeline: otio.schema.Timeline, adapter: str) -> otio.schema.Timeline:
    """A copy fitted to ``adapter``'s limits (only the active take where variations do not survive)."""
    if adapter == "otio_json":
        return timeline
    fitted = copy.deepcopy(timeline)
    if adapter in _BUNDLES:
        # the bundle writers turn references to files they cannot pack into MissingReferences, which drops
        # their available range: a clip that took its length from it would come back with none
        for clip in fitted.find_clips():
            ref = clip.media_reference
            if clip.source_range is None and ref is not None and ref.available_range is not None:
                clip.source_range = ref.available_range
        return fitted
    for clip in fitted.find_clips():
        if NAMESPACE in (clip.metadata or {}) and len(clip.media_references()) > 1:
            active = clip.media_reference
            clip.set_media_references({otio.schema.Clip.DEFAULT_MEDIA_KEY: copy.deepcopy(active)},
                                      otio.schema.Clip.DEFAULT_MEDIA_KEY)
    return fitted


# The FCPXML writer (otio-fcpx-xml-adapter) looks frame durations up by int(rate): only these rates
# come out exact; at 24000/1001 it fails, and relabelled as 23.98 it writes durations 0.1 % off.
FCPX_RATES = {Fraction(24), Fraction(25), Fraction(30), Fraction(50), Fraction(60)}


def check_limits(adapter: str, timeline: otio.schema.Timeline, rate: Fraction, path: Path) -> None:
    """OutputError, before any work, if ``adapter`` cannot carry this timeline exactly."""
    if adapter == "fcpx_xml" and rate not in FCPX_RATES:
        raise OutputError(f"the FCPXML writer cannot write a {rate} fps timeline exactly (it knows "
                          f"{', '.join(str(r) for r in sorted(FCPX_RATES))} fps); write .xml (FCP7), .aaf or .otio",
                          path)
    if adapter == "AAF":
        rates = sorted(rates_used(timeline))
        if len(rates) > 1:
            raise OutputError("AAF needs one frame rate throughout; this timeline uses "
                              f"{', '.join(str(r) for r in rates)} fps; write .otio or .xml (FCP7)", path)
    if adapter == "kdenlive" and rate > mlt_ges.KDENLIVE_MAX_RATE:
        raise OutputError(f"the kdenlive writer stores times to the millisecond, which cannot name every frame "
                          f"of a {rate} fps timeline (at most {mlt_ges.KDENLIVE_MAX_RATE} fps); write .xges or .otio",
                          path)


def rates_used(timeline: otio.schema.Timeline) -> set[Fraction]:
    """Every frame rate the timeline's items and references are expressed in."""
    rates: set[Fraction] = set()
    for thing in timeline.tracks.find_children():
        rng = getattr(thing, "source_range", None)
        if rng is not None and rng.duration.rate > 0:
            rates.add(exact_rate(rng.duration.rate))
        if isinstance(thing, otio.schema.Clip):
            for ref in thing.media_references().values():
                if ref.available_range is not None and ref.available_range.duration.rate > 0:
                    rates.add(exact_rate(ref.available_range.duration.rate))
    return rates


def write_timeline(timeline: otio.schema.Timeline, path: str | Path, adapter: str | None = None,
                   in_place: bool = False, *, rate: Fraction | None = None,
                   media_base: str | Path | None = None) -> Path | None:
    """Write ``timeline`` to ``path`` atomically; with ``in_place`` keep a backup first (returned).

    For .kdenlive and .xges, ``rate`` is the timeline's frame rate (default: the one the timeline says,
    as the reader decides it) and ``media_base`` the folder that relative media URLs are relative to
    (default: ``path``'s folder).
    """
    path = Path(path)
    adapter = adapter or output_adapter(path)
    backup = backup_copy(path) if in_place and path.exists() else None
    if backup is not None:
        log.info("kept a backup of %s as %s", path, backup)
    fitted = prepare(timeline, adapter)
    kwargs: dict[str, object] = {}
    if adapter == "AAF":
        kwargs["use_empty_mob_ids"] = True
    if adapter in _BUNDLES:
        kwargs["media_policy"] = "MissingIfNotFile"
        _warn_unbundled(fitted, path)
    try:
        if adapter in HOST_FORMATS:
            text = _host_text(fitted, adapter, path, rate, media_base)
            with atomic_target(path) as tmp:
                Path(tmp).write_text(text, encoding="utf-8")
        else:
            with atomic_target(path) as tmp:
                otio.adapters.write_to_file(fitted, str(tmp), adapter_name=adapter, **kwargs)
    except OutputError:
        raise
    except Exception as exc:  # adapters raise anything (ValueError, their own errors)
        raise OutputError(f"the {adapter} writer failed: {exc}{_hint(adapter)}", path) from exc
    return backup


def _host_text(timeline: otio.schema.Timeline, adapter: str, path: Path, rate: Fraction | None,
               media_base: str | Path | None) -> str:
    """The .kdenlive or .xges text of ``timeline`` (mlt_ges.py: the adapter's XML, fixed for a render)."""
    from .timeline import timeline_rate

    rate = exact_rate(rate) if rate is not None else timeline_rate(timeline)
    base = Path(media_base) if media_base is not None else None
    if adapter == "kdenlive":
        return mlt_ges.kdenlive_string(timeline, rate, base, path)
    return mlt_ges.xges_string(timeline, rate, base, path)


def _hint(adapter: str) -> str:
    return {
        "AAF": " (AAF needs one frame rate throughout the timeline)",
        "fcp_xml": " (FCP7 XML needs SMPTE rates and available ranges on references)",
        "xges": " (the xges writer needs every clip to have a duration)",
        "kdenlive": " (the kdenlive writer needs every clip to have a duration)",
    }.get(adapter, "")


def _warn_unbundled(timeline: otio.schema.Timeline, path: Path) -> None:
    from .media import path_from_file_url

    missing = []
    for clip in timeline.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            local = path_from_file_url(ref.target_url) if ref.target_url.startswith("file:") else ref.target_url
            if not is_file(local):
                missing.append(clip.name)
        elif not isinstance(ref, otio.schema.ExternalReference):
            missing.append(clip.name)
    if missing:
        log.warning("%s: %d clip(s) have no media file to bundle (%s%s); they are written as missing references "
                    "with their original URL in metadata", path, len(missing), ", ".join(missing[:5]),
                    " ..." if len(missing) > 5 else "")
