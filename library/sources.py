"""The default training library: free-licensed recordings that Debian game-data packages ship.

Each package is fetched by name (``apt-get download NAME``, no root needed) into a cache outside the
repository, unpacked with ``dpkg-deb -x``, and the committed mapping :file:`sources.csv` decides which
of its files are used: one row per fnmatch ``pattern`` on the file's path inside the package, with
the file's UCS CatID (``category``, :mod:`.ucs`), its SPDX ``license`` and its ``attribution`` as the
package's copyright file (or the README it points to) gives them. The first row that matches a file
wins; a ``-`` category excludes the file explicitly (music, speech, UI sounds, designed effects...),
and a file no row matches is not used. A file inside a zip archive of the package is named
``ARCHIVE!MEMBER`` (0 A.D. keeps its audio in ``public.zip``).

Whatever the mapping says, a file under a ``music`` or ``voice`` folder is never used, every kept
file is checked with :func:`soundfile.info` (readable, at least :data:`MIN_RATE` Hz) and the same
audio is kept once. What was left out is reported with the reason (:class:`FetchReport`).

The result, ``CACHE/library/`` with its ``library.csv`` (``path,category,license,attribution,source``),
is a library folder :mod:`.index` reads as it is. The cache is resumable: a package's ``.deb`` stays
in ``CACHE/debs/`` and is not downloaded again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

import soundfile as sf

from .errors import LibraryError
from .ucs import CATIDS

log = logging.getLogger(__name__)

DEFAULT_PACKAGES: tuple[str, ...] = (
    "minetest-data", "megaglest-data", "0ad-data", "redeclipse-data", "supertuxkart-data")
"""The Debian packages the default library is built from, in the order they are fetched."""

MIN_RATE = 32000
"""The lowest sample rate (Hz) a kept recording may have."""

MAPPING_PATH = Path(__file__).with_name("sources.csv")
MAPPING_COLUMNS = ("package", "pattern", "category", "license", "attribution")
LIBRARY_COLUMNS = ("path", "category", "license", "attribution", "source")
LICENSES = frozenset({"CC0-1.0", "CC-BY-3.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0"})
"""The SPDX ids a kept recording may carry (no GPL, no public-domain dedication without CC0)."""
EXCLUDE = "-"
ARCHIVE_SEP = "!"
LIBRARY_DIR = "library"
DEBS_DIR = "debs"
LIBRARY_CSV = "library.csv"

# Never training material, whatever the mapping says: a folder of music or of speech.
_NEVER_DIRS = frozenset({"music", "voice", "voices"})
# Where each package keeps its sounds: stripped from the library path of a kept file.
SOUND_ROOTS: dict[str, str] = {
    "minetest-data": "usr/share/games/minetest/games/minetest_game/mods/",
    "megaglest-data": "usr/share/games/megaglest/techs/megapack/",
    "0ad-data": "usr/share/games/0ad/mods/public/public.zip!audio/",
    "redeclipse-data": "usr/share/games/redeclipse/data/sounds/",
    "supertuxkart-data": "usr/share/games/supertuxkart/data/",
}
# Folder names that only nest (``mods/default/sounds/x.ogg`` -> ``default/x.ogg``).
_NESTING_DIRS = frozenset({"sounds", "sound", "sfx", "audio", "units", "factions"})
_WILDCARDS = frozenset("*?[")
AUDIO_SUFFIXES = frozenset({".wav", ".ogg", ".oga", ".flac", ".mp3", ".opus", ".aif", ".aiff"})
"""What counts as a recording in :attr:`FetchReport.excluded_by_mapping` (files a ``-`` row left out)."""

Downloader = Callable[[str, Path], Path]
"""``downloader(package, dest_dir)``: puts the package's ``.deb`` into ``dest_dir`` (or anywhere) and
returns its path."""


@dataclass(frozen=True)
class SourceRule:
    """One row of the mapping (``line``: its line in the CSV, for messages)."""

    package: str
    pattern: str
    category: str
    license: str
    attribution: str
    line: int = 0

    @property
    def excluded(self) -> bool:
        return self.category == EXCLUDE

    @property
    def archive(self) -> str | None:
        """The archive's path inside the package, for a pattern ``ARCHIVE!MEMBER``; else None."""
        return self.pattern.split(ARCHIVE_SEP, 1)[0] if ARCHIVE_SEP in self.pattern else None


@dataclass
class FetchReport:
    """What :func:`fetch_library` kept and left out."""

    library: Path
    kept: dict[str, int] = field(default_factory=dict)  # CatID -> files
    seconds: dict[str, float] = field(default_factory=dict)  # CatID -> seconds of audio
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (source, "kind: detail")
    packages: list[str] = field(default_factory=list)  # fetched this run
    downloaded: list[str] = field(default_factory=list)  # of those, downloaded (not cached)
    excluded_by_mapping: int = 0  # audio files (AUDIO_SUFFIXES) a "-" row matched
    elapsed_s: float = 0.0
    csv_text: str = ""  # library.csv as fetch_library wrote it (or would have)

    @property
    def total_files(self) -> int:
        return sum(self.kept.values())

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def excluded_by_reason(self) -> dict[str, int]:
        """Excluded files counted by the kind of reason (the text before its first ``:``)."""
        return dict(Counter(reason.split(":", 1)[0] for _, reason in self.excluded).most_common())

    def summary(self) -> str:
        lines = [f"{'category':<11} {'files':>6} {'seconds':>9}  description"]
        for cat in sorted(self.kept):
            info = CATIDS.get(cat)
            desc = f"{info.category} / {info.subcategory}" if info else ""
            lines.append(f"{cat:<11} {self.kept[cat]:>6} {self.seconds.get(cat, 0.0):>9.1f}  {desc}")
        lines.append(f"{'total':<11} {self.total_files:>6} {self.total_seconds:>9.1f}  "
                     f"{len(self.kept)} categories")
        lines.append(f"excluded: {len(self.excluded)} selected files"
                     + "".join(f"; {n} {kind}" for kind, n in self.excluded_by_reason().items())
                     + f" (and {self.excluded_by_mapping} audio files a '-' row excludes)")
        lines.append(f"packages: {', '.join(self.packages) or '-'}"
                     f" (downloaded: {', '.join(self.downloaded) or 'none, all cached'})")
        lines.append(f"library: {self.library} ({self.elapsed_s:.1f} s)")
        return "\n".join(lines)


# -- the mapping ----------------------------------------------------------------------------------
def load_mapping(path: Path | None = None, *, packages: Iterable[str] = DEFAULT_PACKAGES) -> list[SourceRule]:
    """The rows of the mapping CSV (the committed :file:`sources.csv` by default), every one checked:
    a package of ``packages``, a CatID of :data:`~.ucs.CATIDS` or ``-``, a license of
    :data:`LICENSES` and an attribution (both may be ``-`` on a ``-`` row). Raises
    :class:`LibraryError` naming the file, the line and the problem."""
    path = MAPPING_PATH if path is None else Path(path)
    known = frozenset(packages)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LibraryError(f"cannot read the sources mapping: {e}", path) from e
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != MAPPING_COLUMNS:
        raise LibraryError(f"line 1: the columns must be {','.join(MAPPING_COLUMNS)}, not "
                           f"{','.join(header or [])!r}", path)
    rules: list[SourceRule] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(MAPPING_COLUMNS):
            raise LibraryError(f"line {line}: {len(row)} fields, the mapping has {len(MAPPING_COLUMNS)}", path)
        package, pattern, category, license_, attribution = (cell.strip() for cell in row)
        rule = SourceRule(package, pattern, category, license_, attribution, line=line)
        problem = _rule_problem(rule, known)
        if problem:
            raise LibraryError(f"line {line}: {problem}", path)
        rules.append(rule)
    return rules


def _rule_problem(rule: SourceRule, known: frozenset[str]) -> str | None:
    """What is wrong with one row of the mapping, or None."""
    if rule.package not in known:
        return f"unknown package {rule.package!r} (known: {', '.join(sorted(known))})"
    if not rule.pattern:
        return "empty pattern"
    if rule.pattern.count(ARCHIVE_SEP) > 1:
        return f"pattern {rule.pattern!r} names more than one archive"
    archive = rule.archive
    if archive is not None and (not archive.endswith(".zip") or _WILDCARDS & set(archive)):
        return f"pattern {rule.pattern!r}: the part before '!' must be the literal path of a .zip"
    if rule.category != EXCLUDE and rule.category not in CATIDS:
        return f"unknown CatID {rule.category!r} (a UCS CatID of foleyflow.library.ucs, or '-')"
    if rule.excluded and rule.license in ("", EXCLUDE):
        return None
    if rule.license not in LICENSES:
        return f"license {rule.license!r} is not allowed (one of {', '.join(sorted(LICENSES))})"
    if not rule.attribution or rule.attribution == EXCLUDE:
        return "no attribution"
    return None


def match(rules: Sequence[SourceRule], package: str, member: str) -> SourceRule | None:
    """The first rule of ``package`` whose pattern matches ``member`` (a path inside the package,
    ``ARCHIVE!MEMBER`` inside an archive), or None. A ``-`` rule is returned too: the caller reads
    :attr:`SourceRule.excluded`."""
    for rule in rules:
        if rule.package == package and fnmatchcase(member, rule.pattern):
            return rule
    return None


# -- the cache ------------------------------------------------------------------------------------
def default_cache() -> Path:
    """``$FOLEYFLOW_CACHE``, or ``~/.cache/foleyflow``."""
    env = os.environ.get("FOLEYFLOW_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "foleyflow"


def _require(command: str, why: str) -> str:
    found = shutil.which(command)
    if found is None:
        raise LibraryError(f"the command {command!r} is missing ({why}); install it (Debian/Ubuntu: "
                           f"apt-get install {'apt' if command == 'apt-get' else 'dpkg'})")
    return found


def apt_download(package: str, dest: Path) -> Path:
    """The default downloader: ``apt-get download PACKAGE`` run in ``dest``; the ``.deb`` it wrote."""
    apt = _require("apt-get", f"it downloads the package {package}")
    proc = subprocess.run([apt, "download", package], cwd=dest, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LibraryError(f"apt-get download {package} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip() or 'no message'}", dest.parent)
    deb = _find_deb(dest, package)
    if deb is None:
        raise LibraryError(f"apt-get download {package} wrote no {package}_*.deb", dest.parent)
    return deb


def _find_deb(folder: Path, package: str) -> Path | None:
    """The newest ``PACKAGE_*.deb`` of a folder, or None."""
    debs = [p for p in folder.glob(f"{package}_*.deb") if p.is_file()]
    return max(debs, key=lambda p: (p.stat().st_mtime, p.name)) if debs else None


def _cached_or_download(package: str, debs: Path, downloader: Downloader) -> tuple[Path, bool]:
    """The package's ``.deb`` in ``debs`` (downloaded first if it is not there) and whether it was
    downloaded. A download goes to a temporary folder first: an interrupted one leaves no
    half-written ``.deb`` behind to be taken for a whole one."""
    deb = _find_deb(debs, package)
    if deb is not None:
        log.info("%s: using the cached %s", package, deb.name)
        return deb, False
    log.info("%s: downloading", package)
    tmp = Path(tempfile.mkdtemp(prefix=f".download-{package}-", dir=debs))
    try:
        got = Path(downloader(package, tmp))
        if not got.is_file():
            raise LibraryError(f"the downloader returned no file for {package}", got)
        final = debs / got.name
        if got.resolve().parent == tmp.resolve():
            os.replace(got, final)
        else:  # a .deb kept elsewhere (a test's, a local mirror's): copied, left in place
            part = tmp / (got.name + ".part")
            shutil.copyfile(got, part)
            os.replace(part, final)
    finally:
        _rmtree(tmp)
    return final, True


def _extract(deb: Path, package: str, dest: Path) -> None:
    dpkg = _require("dpkg-deb", f"it unpacks the package {package}")
    proc = subprocess.run([dpkg, "-x", str(deb), str(dest)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LibraryError(f"dpkg-deb -x failed for {package} (exit {proc.returncode}): "
                           f"{proc.stderr.strip() or 'no message'}; delete the file to download it again", deb)


def _rmtree(path: Path) -> None:
    """Remove a folder, read-only subfolders (as dpkg-deb -x may leave them) included."""
    if not path.exists():
        return
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, stat.S_IRWXU)
    shutil.rmtree(path)


# -- selecting and checking members ---------------------------------------------------------------
@dataclass(frozen=True)
class _Kept:
    path: str  # relative to CACHE/library, POSIX
    category: str
    license: str
    attribution: str
    source: str
    seconds: float


def _never(member: str) -> bool:
    """A member under a music or voice folder (never used, whatever the mapping says)."""
    parts = member.replace(ARCHIVE_SEP, "/").split("/")[:-1]
    return any(p.lower() in _NEVER_DIRS for p in parts)


def _unsafe(member: str) -> bool:
    parts = member.replace(ARCHIVE_SEP, "/").split("/")
    return member.startswith("/") or any(p in ("", ".", "..") for p in parts)


def library_path(package: str, member: str) -> str:
    """Where a kept member goes under ``CACHE/library``: ``PACKAGE/`` and its path below the
    package's sound root (:data:`SOUND_ROOTS`), without the folders that only nest
    (``sounds``, ``sfx``...): ``minetest-data/default/default_wood_footstep.1.ogg``."""
    rel = member
    root = SOUND_ROOTS.get(package)
    if root and rel.startswith(root):
        rel = rel[len(root):]
    else:
        for prefix in ("usr/share/games/", "usr/share/"):
            if rel.startswith(prefix):
                rel = rel[len(prefix):]
                break
    parts = rel.replace(ARCHIVE_SEP, "/").split("/")
    dirs = [p for p in parts[:-1] if p.lower() not in _NESTING_DIRS and not p.endswith(".zip")]
    return "/".join([package, *dirs, parts[-1]])


def _tree_members(root: Path) -> Iterator[tuple[str, Path]]:
    """(path inside the package, file on disk) of every file of an unpacked tree, sorted, the
    links to files after the files (so that of a file and a link to it, the file is the one kept)."""
    files: list[tuple[str, Path]] = []
    links: list[tuple[str, Path]] = []
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            full = Path(dirpath, name)
            (links if full.is_symlink() else files).append((full.relative_to(root).as_posix(), full))
    yield from sorted(files)
    yield from sorted(links)


def _read_tree_file(root: Path, full: Path) -> bytes | str:
    """The bytes of an unpacked file, through a symlink that stays inside the package; else the
    reason it cannot be used."""
    if full.is_symlink():
        target = os.readlink(full)
        resolved = (root / target.lstrip("/")) if os.path.isabs(target) else (full.parent / target)
        resolved = Path(os.path.realpath(resolved))
        if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
            return f"link: {full.name} points outside the package or to no file ({target})"
        full = resolved
    try:
        return full.read_bytes()
    except OSError as e:
        return f"unreadable: {e}"


def _check_audio(data: bytes) -> tuple[float, str | None]:
    """(seconds, None) for a usable recording, else (0, the reason)."""
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError, EOFError) as e:
        return 0.0, f"unreadable: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}"
    if info.samplerate < MIN_RATE:
        return 0.0, f"low rate: {info.samplerate} Hz < {MIN_RATE} Hz"
    if info.frames <= 0:
        return 0.0, "empty: no audio frames"
    return info.frames / info.samplerate, None


class _Collector:
    """Keeps the selected members of one run: checks them, drops duplicate audio, writes files."""

    def __init__(self, report: FetchReport, seen: dict[str, str]) -> None:
        self.report = report
        self.seen = seen  # sha256 -> source already kept (across packages)
        self.kept: list[_Kept] = []
        self.used_paths: set[str] = set()

    def offer(self, package: str, member: str, rule: SourceRule, data: bytes | str, out: Path) -> None:
        source = f"debian:{package}/{member}"
        if isinstance(data, str):
            self.report.excluded.append((source, data))
            return
        seconds, problem = _check_audio(data)
        if problem is not None:
            self.report.excluded.append((source, problem))
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.seen:
            self.report.excluded.append((source, f"duplicate: the same audio as {self.seen[digest]}"))
            return
        self.seen[digest] = source
        rel = self._unique(library_path(package, member))
        dest = out / PurePosixPath(rel).relative_to(package)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        self.kept.append(_Kept(rel, rule.category, rule.license, rule.attribution, source, seconds))

    def _unique(self, rel: str) -> str:
        if rel not in self.used_paths:
            self.used_paths.add(rel)
            return rel
        stem, dot, ext = rel.rpartition(".")
        base = stem if dot else rel
        n = 2
        while f"{base}~{n}{dot}{ext}" in self.used_paths:
            n += 1
        rel = f"{base}~{n}{dot}{ext}"
        self.used_paths.add(rel)
        return rel


def _select(rules: Sequence[SourceRule], package: str, member: str, report: FetchReport) -> SourceRule | None:
    """The rule that keeps ``member``, or None (unmatched, excluded by a ``-`` row or by policy)."""
    rule = match(rules, package, member)
    if rule is None:
        return None
    if rule.excluded:
        if PurePosixPath(member).suffix.lower() in AUDIO_SUFFIXES:
            report.excluded_by_mapping += 1
        return None
    source = f"debian:{package}/{member}"
    if _unsafe(member):
        report.excluded.append((source, "unsafe path: absolute or with '..'"))
        return None
    if _never(member):
        report.excluded.append((source, "music or speech: a music/ or voice/ folder is never used"))
        return None
    return rule


def _literal_prefix(pattern: str) -> str:
    cut = min((pattern.index(c) for c in _WILDCARDS if c in pattern), default=len(pattern))
    return pattern[:cut]


def _collect_package(rules: Sequence[SourceRule], package: str, root: Path, out: Path,
                     collector: _Collector) -> None:
    report = collector.report
    own = [r for r in rules if r.package == package]
    archives = sorted({a for r in own if (a := r.archive) is not None})
    for member, full in _tree_members(root):
        if member in archives:
            continue
        rule = _select(rules, package, member, report)
        if rule is not None:
            collector.offer(package, member, rule, _read_tree_file(root, full), out)
    for archive in archives:
        path = root / archive
        if not path.is_file():
            log.warning("%s: no %s in the package", package, archive)
            continue
        prefixes = tuple(_literal_prefix(r.pattern.split(ARCHIVE_SEP, 1)[1]) for r in own if r.archive == archive)
        try:
            with zipfile.ZipFile(path) as zf:
                for info in sorted(zf.infolist(), key=lambda i: i.filename):
                    if info.is_dir() or not info.filename.startswith(prefixes):
                        continue
                    member = f"{archive}{ARCHIVE_SEP}{info.filename}"
                    rule = _select(rules, package, member, report)
                    if rule is None:
                        continue
                    data: bytes | str
                    try:
                        data = zf.read(info)
                    except (zipfile.BadZipFile, OSError, NotImplementedError) as e:
                        data = f"unreadable: {e}"
                    collector.offer(package, member, rule, data, out)
        except (zipfile.BadZipFile, OSError) as e:
            raise LibraryError(f"{package}: cannot open {archive}: {e}", path) from e


# -- the library CSV ------------------------------------------------------------------------------
def _source_package(source: str) -> str:
    return source.split(":", 1)[-1].split("/", 1)[0]


def _old_rows(csv_path: Path, library: Path, refetched: set[str]) -> list[dict[str, str]]:
    """Rows of an existing library.csv for packages this run does not fetch again (files there)."""
    if not csv_path.is_file():
        return []
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if _source_package(r.get("source", "")) not in refetched
            and (library / r.get("path", "")).is_file()]


def library_csv_text(rows: Iterable[dict[str, str]]) -> str:
    """``library.csv`` as text: :data:`LIBRARY_COLUMNS`, one row per kept recording."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LIBRARY_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# -- the whole run --------------------------------------------------------------------------------
def fetch_library(cache: Path, packages: Sequence[str] = DEFAULT_PACKAGES, *,
                  rules: Sequence[SourceRule] | None = None,
                  downloader: Downloader | None = None,
                  write_text: Callable[[Path, str], None] | None = None) -> FetchReport:
    """Build ``CACHE/library`` from ``packages``: each ``.deb`` is taken from ``CACHE/debs`` or
    downloaded there (``downloader``, :func:`apt_download` by default), unpacked into a temporary
    folder of the cache (removed afterwards), and the members the mapping (``rules``,
    :func:`load_mapping` by default) selects are checked and copied to ``CACHE/library/PACKAGE/``;
    ``CACHE/library/library.csv`` is then written by ``write_text(path, text)`` (the timeline side's
    atomic writer, from ``foleyflow library fetch``; rows of packages fetched before and not now are
    kept); without ``write_text`` the text is only in the report (``FetchReport.csv_text``). Raises :class:`LibraryError` when a package cannot be downloaded or
    unpacked, or ``dpkg-deb`` / ``apt-get`` is missing."""
    start = time.monotonic()
    mapping = MAPPING_PATH if rules is None else None
    rules = load_mapping() if rules is None else list(rules)
    downloader = apt_download if downloader is None else downloader
    cache = Path(cache)
    library = cache / LIBRARY_DIR
    debs = cache / DEBS_DIR
    for folder in (library, debs):
        folder.mkdir(parents=True, exist_ok=True)
    for stale in cache.glob(".extract-*"):  # left by an interrupted run
        _rmtree(stale)
    for stale in library.glob(".*.partial"):
        _rmtree(stale)
    named = {r.package for r in rules}
    missing = [p for p in packages if p not in named]
    if missing:
        raise LibraryError(f"no row of the mapping names the package(s) {', '.join(missing)}",
                           mapping)
    _require("dpkg-deb", "it unpacks the packages")

    report = FetchReport(library=library)
    collector = _Collector(report, seen={})
    for package in packages:
        deb, downloaded = _cached_or_download(package, debs, downloader)
        if downloaded:
            report.downloaded.append(package)
        tmp = Path(tempfile.mkdtemp(prefix=f".extract-{package}-", dir=cache))
        partial = library / f".{package}.partial"
        try:
            _extract(deb, package, tmp)
            partial.mkdir()
            before = len(collector.kept)
            _collect_package(rules, package, tmp, partial, collector)
            final = library / package
            _rmtree(final)
            os.replace(partial, final)
            log.info("%s: kept %d files", package, len(collector.kept) - before)
        finally:
            _rmtree(tmp)
            _rmtree(partial)
        report.packages.append(package)

    rows = _old_rows(library / LIBRARY_CSV, library, set(report.packages))
    rows += [{"path": k.path, "category": k.category, "license": k.license, "attribution": k.attribution,
              "source": k.source} for k in collector.kept]
    rows.sort(key=lambda r: r["path"])
    report.csv_text = library_csv_text(rows)
    if write_text is not None:
        write_text(library / LIBRARY_CSV, report.csv_text)
    for k in collector.kept:
        report.kept[k.category] = report.kept.get(k.category, 0) + 1
        report.seconds[k.category] = report.seconds.get(k.category, 0.0) + k.seconds
    report.elapsed_s = time.monotonic() - start
    log.info("library: %d files, %.0f s of audio, %d left out", report.total_files, report.total_seconds,
             len(report.excluded))
    return report
