"""A sound library's index: every recording of a folder with its category, length, rate and license.

A recording's category comes, first, from a CSV beside the folder (``DIR/library.csv`` inside it, or
``DIR.csv`` next to it) with the columns ``path,category`` (paths relative to the folder) and,
optionally, ``license``, ``attribution`` and ``source``; then from the UCS CatID that starts its file
name (:func:`foleyflow.library.ucs.catid_of`). So a sound editor's UCS-named library works as it is,
and any other library works with a CSV. Files that cannot be read, or have no category, are named in
the index's ``problems``, never skipped in silence.

Each recording also gets a split (train / val / test) *by file*, from a hash of its path within its
category: so a sound of the test split is never heard in training, whatever else the library holds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import soundfile as sf

from .errors import LibraryError
from .ucs import catid_of

log = logging.getLogger(__name__)

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc", ".mp3", ".w64",
                            ".caf", ".bwf"})
CSV_NAME = "library.csv"  # the categories CSV inside a library folder
INDEX_NAME = "foleyflow-index.csv"  # where `foleyflow library index DIR` writes, by default
INDEX_COLUMNS = ("path", "category", "duration_s", "rate", "channels", "license", "attribution", "source",
                 "split")
VAL_SHARE = 0.1
TEST_SHARE = 0.1


@dataclass(frozen=True)
class Recording:
    """One recording of a library. ``path`` is relative to the library folder, with ``/``."""

    path: str
    category: str
    duration_s: float
    rate: int
    channels: int
    license: str = ""
    attribution: str = ""
    source: str = ""
    split: Split = "train"


@dataclass(frozen=True)
class Problem:
    """A file the index could not use, and why (``path`` relative to the library folder)."""

    path: str
    reason: str


@dataclass(frozen=True)
class LibraryIndex:
    root: Path
    recordings: tuple[Recording, ...]
    problems: tuple[Problem, ...] = ()
    categories_from: dict[str, str] = field(default_factory=dict)  # "csv" / "ucs" -> where they came from

    def counts(self) -> dict[str, int]:
        """Category -> number of recordings, most first (then by name)."""
        c = Counter(r.category for r in self.recordings)
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    def categories(self) -> list[str]:
        return sorted({r.category for r in self.recordings})

    def split(self, name: Split) -> list[Recording]:
        return [r for r in self.recordings if r.split == name]

    def of(self, category: str, split: Split | None = None) -> list[Recording]:
        return [r for r in self.recordings if r.category == category and (split is None or r.split == split)]

    def file(self, rec: Recording) -> Path:
        return self.root / rec.path


# -- the categories CSV ------------------------------------------------------------------------------
def categories_csv(root: Path) -> Path | None:
    """The CSV that gives the folder's categories: ``DIR/library.csv`` or ``DIR.csv`` beside it."""
    for candidate in (root / CSV_NAME, root.parent / f"{root.name}.csv"):
        if candidate.is_file():
            return candidate
    return None


def read_categories_csv(path: Path) -> dict[str, dict[str, str]]:
    """``path`` (relative, ``/``) -> its row (category, license, attribution, source). LibraryError names
    the file and the line of a row without a path or a category, or a file with no such columns."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError(f"cannot read the library's CSV: {exc}", path) from exc
    reader = csv.DictReader(io.StringIO(text))
    fields = {(f or "").strip().lower() for f in (reader.fieldnames or [])}
    if not {"path", "category"} <= fields:
        raise LibraryError("a library CSV needs the columns path and category (license, attribution and "
                           f"source are optional); it has {', '.join(sorted(fields)) or 'none'}", path)
    rows: dict[str, dict[str, str]] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        rel, category = row.get("path", ""), row.get("category", "")
        if not rel or not category:
            raise LibraryError(f"line {line}: a row needs a path and a category", path)
        rows[_posix(rel)] = row
    return rows


def _posix(rel: str) -> str:
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    return rel


# -- indexing ----------------------------------------------------------------------------------------
def audio_files(root: Path) -> list[Path]:
    """Every audio file under ``root`` (by suffix), sorted, hidden folders and files left out."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / f for f in sorted(files)
                     if not f.startswith(".") and Path(f).suffix.lower() in AUDIO_SUFFIXES)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def index_library(root: str | Path) -> LibraryIndex:
    """Index the folder ``root``: LibraryError if it is no folder or its CSV is malformed; every file
    that cannot be read or has no category is a :class:`Problem` of the result."""
    root = Path(root)
    if not root.is_dir():
        raise LibraryError("is not a folder of recordings" if root.exists() else "no such folder", root)
    csv_path = categories_csv(root)
    rows = read_categories_csv(csv_path) if csv_path is not None else {}
    recordings: list[Recording] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for file in audio_files(root):
        rel = file.relative_to(root).as_posix()
        seen.add(rel)
        row = rows.get(rel)
        category = row["category"] if row else catid_of(file.name)
        if category is None:
            problems.append(Problem(rel, "no category: its name starts with no UCS CatID and the library's "
                                         "CSV has no row for it"))
            continue
        try:
            info = sf.info(str(file))
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            problems.append(Problem(rel, f"cannot read as audio: {_reason(exc)}"))
            continue
        if info.frames <= 0 or info.samplerate <= 0:
            problems.append(Problem(rel, "holds no audio (0 samples)"))
            continue
        row = row or {}
        recordings.append(Recording(rel, category, info.frames / info.samplerate, int(info.samplerate),
                                    int(info.channels), row.get("license", ""), row.get("attribution", ""),
                                    row.get("source", "")))
    for rel in sorted(set(rows) - seen):
        problems.append(Problem(rel, f"named in {csv_path.name if csv_path else 'the CSV'} but not found "
                                     "(or not an audio file)"))
    recordings = assign_splits(recordings)
    log.info("%s: %d recordings in %d categories, %d problems", root, len(recordings),
             len({r.category for r in recordings}), len(problems))
    return LibraryIndex(root, tuple(recordings), tuple(problems),
                        {"csv": str(csv_path)} if csv_path else {"ucs": "file names"})


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def split_key(rec: Recording) -> str:
    return hashlib.sha1(f"{rec.category}\0{rec.path}".encode()).hexdigest()


def assign_splits(recordings: Iterable[Recording], val_share: float = VAL_SHARE,
                  test_share: float = TEST_SHARE) -> list[Recording]:
    """Split by file, within each category: the recordings in the order of a hash of their path, the
    first ``test_share`` of them to test, the next ``val_share`` to val (at least one each where a
    category has three or more), the rest to train. The same library always splits the same way."""
    recs = list(recordings)
    by_cat: dict[str, list[int]] = {}
    for i, r in enumerate(recs):
        by_cat.setdefault(r.category, []).append(i)
    out = list(recs)
    for idx in by_cat.values():
        order = sorted(idx, key=lambda i: split_key(recs[i]))
        n = len(order)
        n_test = max(1, math.floor(n * test_share + 0.5)) if n >= 3 else 0
        n_val = max(1, math.floor(n * val_share + 0.5)) if n >= 3 else 0
        for k, i in enumerate(order):
            split: Split = "test" if k < n_test else "val" if k < n_test + n_val else "train"
            out[i] = replace(recs[i], split=split)
    return out


# -- the index file ----------------------------------------------------------------------------------
def index_csv(index: LibraryIndex) -> str:
    """The index as CSV text (:data:`INDEX_COLUMNS`), recordings in path order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(INDEX_COLUMNS)
    for r in sorted(index.recordings, key=lambda r: r.path):
        w.writerow([r.path, r.category, f"{r.duration_s:.6f}", r.rate, r.channels, r.license, r.attribution,
                    r.source, r.split])
    return buf.getvalue()


def read_index(path: str | Path, root: str | Path | None = None) -> LibraryIndex:
    """An index written by :func:`index_csv`; its recordings are relative to ``root`` (by default the
    index's folder). LibraryError names the file and line of anything malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError(f"cannot read the library index: {exc}", path) from exc
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != INDEX_COLUMNS:
        raise LibraryError(f"is not a Foley-Flow library index (columns {', '.join(INDEX_COLUMNS)})", path)
    recs: list[Recording] = []
    for line, row in enumerate(reader, start=2):
        try:
            split = row["split"]
            if split not in SPLITS:
                raise ValueError(f"split {split!r}")
            recs.append(Recording(row["path"], row["category"], float(row["duration_s"]), int(row["rate"]),
                                  int(row["channels"]), row["license"], row["attribution"], row["source"],
                                  split))
        except (KeyError, ValueError, TypeError) as exc:
            raise LibraryError(f"line {line}: not an index row ({exc})", path) from exc
    return LibraryIndex(Path(root) if root is not None else path.parent, tuple(recs))


def summary(index: LibraryIndex, limit: int | None = None) -> str:
    """Categories with counts and minutes, then the problems: what ``foleyflow library index`` prints."""
    from .ucs import describe

    lines = [f"{index.root}: {len(index.recordings)} recordings in {len(index.counts())} categories, "
             f"{sum(r.duration_s for r in index.recordings) / 60:.1f} min"]
    for cat, n in index.counts().items():
        secs = sum(r.duration_s for r in index.of(cat))
        splits = Counter(r.split for r in index.of(cat))
        lines.append(f"  {cat:<12} {n:5d}  {secs / 60:6.2f} min  train {splits['train']} / val {splits['val']}"
                     f" / test {splits['test']}   {describe(cat)}")
    if index.problems:
        lines.append(f"{len(index.problems)} files not used:")
        shown: Sequence[Problem] = index.problems if limit is None else index.problems[:limit]
        lines += [f"  {p.path}: {p.reason}" for p in shown]
        if limit is not None and len(index.problems) > limit:
            lines.append(f"  ... and {len(index.problems) - limit} more")
    return "\n".join(lines)
