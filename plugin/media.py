"""Find the media file of a clip: URL forms, relative paths, relinking under media roots.

Order of the search (the first file that exists wins; every place tried is kept
so that a missing file can be reported with what was looked for):

1. the reference itself: a ``file://`` URL (percent-encoded, Premiere's
   ``file://localhost/D%3a/...``, UNC ``file://server/share/...``), a plain
   absolute path (Resolve), or a path relative to the timeline file's folder;
2. under each ``--media-root``: the reference's path by its relative tail, longest
   first (``root/otio/IMG_0715.MOV`` before ``root/IMG_0715.MOV``);
3. under each root, recursively: the reference's basename (exact, then any case);
4. under each root, the clip's name, with or without a video extension (EDLs and
   many exports carry no usable reference).

Relinking serves reading only: the timeline keeps the editor's own references.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlparse

import opentimelineio as otio
from opentimelineio import url_utils

from .clips import ClipInfo
from .strenum import StrEnum
from .timing import exact_rate, seconds, timecode_to_seconds

log = logging.getLogger(__name__)


def is_file(path: str | Path) -> bool:
    """Path.is_file(), False for a path that cannot even be looked up: Python 3.11 lets ENAMETOOLONG
    (a reference's file name longer than the file system allows) and the like through as OSError."""
    try:
        return Path(path).is_file()
    except OSError:
        return False


def exists(path: str | Path) -> bool:
    """Path.exists(), False for a path that cannot even be looked up (as :func:`is_file`)."""
    try:
        return Path(path).exists()
    except OSError:
        return False

VIDEO_EXTENSIONS = (".mov", ".mp4", ".mxf", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".mts", ".m2ts",
                    ".dnxhd", ".r3d", ".braw", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr", ".dpx")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|\\")


class MediaStatus(StrEnum):
    """A clip's status, as `foleyflow clips` prints it (a str: ``MediaStatus.FOUND == "found"``)."""

    FOUND = "found"
    MISSING = "missing"
    GENERATOR = "generator"
    DISABLED = "disabled"


FOUND, MISSING, GENERATOR, DISABLED = MediaStatus.FOUND, MediaStatus.MISSING, MediaStatus.GENERATOR, MediaStatus.DISABLED


@dataclass(frozen=True)
class MediaResolution:
    """Where a clip's media was found (``path``), how, and every place tried."""

    path: Path | None
    method: str  # "reference", "relative", "media-root", "basename", "clip-name" or "" when not found
    looked_for: tuple[str, ...]
    note: str = ""  # why nothing could be looked for (a generator, an http URL, ...)

    @property
    def found(self) -> bool:
        return self.path is not None


def reference_path(ref: otio.core.MediaReference | None) -> str | None:
    """The file path a media reference names, as written (``None`` if it names no file).

    ``file://`` URLs are decoded; plain paths are kept as they are (Windows paths
    included). Image sequences give their first frame; a missing reference gives
    the path its metadata remembers (Resolve's "Media Url", otioz's original URL).
    """
    if isinstance(ref, otio.schema.ExternalReference):
        url = ref.target_url or ""
    elif isinstance(ref, otio.schema.ImageSequenceReference):
        url = _first_frame_url(ref) if ref.target_url_base else ""
    elif isinstance(ref, otio.schema.MissingReference):
        url = _url_in_metadata(ref.metadata)
    else:
        return None
    if not url:
        return None
    scheme = urlparse(url).scheme.lower()
    if scheme == "file":
        return path_from_file_url(url) or None
    if scheme == "" or (len(scheme) == 1 and _WINDOWS_PATH.match(url)):
        return url
    return None  # http:, s3:, ... not a local file


# OTIO 0.18's filepath_from_url unquotes twice (unquote, then url2pathname unquotes again), so
# "100%25" (a file named "100%") or "%2541" ("%41") decode wrong and the file is not found.
_DOUBLE_UNQUOTE = url_utils.filepath_from_url("file:///a%2541") == "/aA"


def path_from_file_url(url: str) -> str:
    """The file path of a ``file://`` URL, percent-decoded exactly once (OTIO's Windows/UNC rules kept).

    A URL without a path (``file://``, ``file:``) gives ``""``: OTIO's own function fails on it (IndexError).
    """
    try:
        return url_utils.filepath_from_url(url.replace("%25", "%2525") if _DOUBLE_UNQUOTE else url)
    except (IndexError, ValueError):
        return unquote(urlparse(url).path)


def _first_frame_url(ref: otio.schema.ImageSequenceReference) -> str:
    """The URL of an image sequence's first frame. OTIO's ``target_url_for_image_number`` refuses a
    sequence with no, a zero or a negative duration, a zero rate or step (IndexError): then the first
    frame's name is put together here, as OTIO would (base/, prefix, zero-padded start frame, suffix)."""
    try:
        return ref.target_url_for_image_number(0)
    except (IndexError, ValueError, otio.exceptions.OTIOError):
        pass
    base = ref.target_url_base
    padding = min(max(ref.frame_zero_padding, 0), 32)
    frame = ref.start_frame
    number = ("-" if frame < 0 else "") + str(abs(frame)).zfill(padding)
    return f"{base}{'' if base.endswith('/') else '/'}{ref.name_prefix}{number}{ref.name_suffix}"


def _url_in_metadata(meta: object) -> str:
    """Where a missing reference's metadata remembers its file (Resolve's "Media Url", otioz's original URL)."""
    if not hasattr(meta, "get"):
        return ""
    for key in ("original_target_url", "Media Url", "media_url"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    for value in meta.values():  # type: ignore[attr-defined]
        if hasattr(value, "get"):
            found = _url_in_metadata(value)
            if found:
                return found
    return ""


def pure_path(path: str) -> PurePath:
    """A PurePath of the right flavour: Windows paths (``D:/``, ``\\``, UNC) stay Windows paths."""
    if _WINDOWS_PATH.search(path) or path.startswith("//"):
        return PureWindowsPath(path)
    return PurePosixPath(path)


class MediaResolver:
    """Resolves clips' media for one timeline file and a list of media roots."""

    def __init__(self, timeline_path: str | Path | None = None, media_roots: Sequence[str | Path] = ()) -> None:
        self.base = Path(timeline_path).resolve().parent if timeline_path is not None else Path.cwd()
        self.roots = tuple(Path(r) for r in media_roots)
        self._index: dict[Path, dict[str, list[Path]]] = {}

    # -- the search ------------------------------------------------------------
    def resolve_clip(self, clip: otio.schema.Clip) -> MediaResolution:
        """Find ``clip``'s media (see the module docstring for the order)."""
        ref = clip.media_reference
        if isinstance(ref, otio.schema.GeneratorReference):
            return MediaResolution(None, "", (), f"generator ({ref.generator_kind or 'no kind'}): no media")
        looked: list[str] = []
        raw = reference_path(ref)
        if raw is not None:
            hit = self._from_reference(raw, looked)
            if hit is not None:
                return MediaResolution(hit[0], hit[1], tuple(looked))
        by_name = self._from_clip_name(clip.name or "", looked)
        if by_name is not None:
            return MediaResolution(by_name, "clip-name", tuple(looked))
        note = ""
        if raw is None:
            note = (f"the clip has no file reference ({type(ref).__name__})" if ref is not None
                    and not isinstance(ref, otio.schema.ExternalReference) else "the clip has no file reference")
            if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
                no_path = urlparse(ref.target_url).scheme.lower() == "file"  # file:// with nothing after it
                note = f"{'a file URL without a path' if no_path else 'not a local file URL'}: {ref.target_url}"
        if not self.roots:
            note = (note + "; " if note else "") + "no --media-root given"
        return MediaResolution(None, "", tuple(looked), note)

    def _from_reference(self, raw: str, looked: list[str]) -> tuple[Path, str] | None:
        pure = pure_path(raw)
        native = isinstance(pure, PureWindowsPath) == (os.name == "nt")
        if native:
            direct = Path(raw)
            if direct.is_absolute():
                candidates = [(direct, "reference")]
            else:
                candidates = [(self.base / direct, "relative")]
            if "%" in raw and not raw.lower().startswith("file:"):
                candidates.append((Path(unquote(raw)) if Path(unquote(raw)).is_absolute()
                                   else self.base / unquote(raw), "reference"))
            for cand, how in candidates:
                if _try(cand, looked):
                    return cand, how
        parts = [p for p in pure.parts if p not in (pure.anchor, "", "/", "\\")]
        if isinstance(pure, PureWindowsPath) and pure.drive.startswith("\\\\"):  # UNC: \\server\share
            parts = [p for p in pure.drive.split("\\") if p] + parts
        for root in self.roots:
            for k in range(len(parts), 0, -1):
                cand = root.joinpath(*parts[-k:])
                if _try(cand, looked):
                    return cand, "media-root"
        name = pure.name
        if name:
            for root in self.roots:
                hit = self._search(root, name, looked)
                if hit is not None:
                    return hit, "basename"
        return None

    def _from_clip_name(self, name: str, looked: list[str]) -> Path | None:
        name = pure_path(name).name if name else ""
        if not name or name in (".", "..") or not self.roots:
            return None
        has_ext = Path(name).suffix.lower() in VIDEO_EXTENSIONS
        for root in self.roots:
            if _try(root / name, looked):
                return root / name
            hit = self._search(root, name, looked, by_stem=not has_ext)
            if hit is not None:
                return hit
        return None

    def _search(self, root: Path, name: str, looked: list[str], by_stem: bool = False) -> Path | None:
        """Look for a file named ``name`` anywhere under ``root`` (exact case first)."""
        index = self._index_of(root)
        looked.append(f"{root}{os.sep}**{os.sep}{name}" + (".*" if by_stem else ""))
        key = name.lower()
        hits = index.get(key, [])
        if by_stem:
            hits = hits + index.get("stem:" + key, [])
        if not hits:
            return None
        exact = [h for h in hits if h.name == name or (by_stem and h.stem == name)]
        chosen = sorted(exact or hits)[0]
        if len(hits) > 1:
            log.info("%s: %d files named %r under %s; using %s", name, len(hits), name, root, chosen)
        return chosen

    def _index_of(self, root: Path) -> dict[str, list[Path]]:
        if root not in self._index:
            index: dict[str, list[Path]] = {}
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    p = Path(folder) / f
                    index.setdefault(f.lower(), []).append(p)
                    if Path(f).suffix.lower() in VIDEO_EXTENSIONS:
                        index.setdefault("stem:" + Path(f).stem.lower(), []).append(p)
            self._index[root] = index
        return self._index[root]


def _try(candidate: Path, looked: list[str]) -> bool:
    """Whether ``candidate`` is a file; a name the system refuses to look up (too long, ...) is not one."""
    looked.append(str(candidate))
    try:
        return candidate.is_file()
    except OSError:  # ENAMETOOLONG and the like: Path.is_file lets them through
        return False


def status_of(info: ClipInfo, media: MediaResolution) -> MediaStatus:
    """found, missing, generator or disabled (disabled wins: it is never generated)."""
    if not info.enabled:
        return DISABLED
    if info.is_generator:
        return GENERATOR
    return FOUND if media.found else MISSING


def reference_start(ref: otio.core.MediaReference | None) -> Fraction | None:
    """The media time of the file's first frame, from the reference's available range."""
    if ref is None or ref.available_range is None:
        return None
    return seconds(ref.available_range.start_time)


def reference_rate(ref: otio.core.MediaReference | None) -> Fraction | None:
    if ref is None or ref.available_range is None:
        return None
    return exact_rate(ref.available_range.duration.rate)


def media_start(
    ref: otio.core.MediaReference | None, file_timecode: str | None, rate: Fraction | None
) -> tuple[Fraction, str]:
    """Media time (seconds) of a file's first frame, and where it came from.

    The reference's available range start, else the start timecode written in the
    file (at ``rate``), else zero: source ranges are in media time, as editing
    systems write them (camera media often starts at 01:00:00:00).
    """
    start = reference_start(ref)
    if start is not None:
        return start, "the reference's available range"
    if file_timecode and rate:
        try:
            return timecode_to_seconds(file_timecode, rate), f"the file's timecode {file_timecode}"
        except ValueError:
            log.warning("unreadable start timecode %r; the media is taken to start at 0", file_timecode)
    return Fraction(0), "no start timecode (0)"
