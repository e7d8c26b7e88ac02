"""Atomic writes: every file Foley-Flow writes goes to a temporary name in its final folder and is
renamed over the final name only when whole.

``os.replace`` within one folder is atomic on POSIX and Windows: a reader sees the old file or the
new one, never half of one. Folders (.otiod) are swapped in two renames. Several files can be
committed together (:func:`atomic_targets`): all of them appear, or none does.

The one temporary-name scheme (hidden, same folder, the final suffix kept for writers that sniff it)::

    take.wav  ->  .take.foleyflow.tmp-4242.3fa9c1-8e1f2a9b.wav
                         marker     pid  host   random

The pid and a short hash of the host name say who writes it, the random part keeps two writers
(threads, or two processes on one host) apart. On every write into a folder, the temporary files
that writers on this host left there when they died (their pid runs no more) are removed; those of
live processes and of other hosts (a render farm on shared storage) are kept.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .errors import OutputError

log = logging.getLogger(__name__)

_TEMP = re.compile(r"^\..+\.foleyflow\.tmp-(?P<pid>\d+)\.(?P<host>[0-9a-f]{6})-[0-9a-f]{8}(\.[^.]*)?$")


class TempWriter(NamedTuple):
    """Who wrote a temporary file: the host's tag and the process id."""

    host: str
    pid: int


@functools.cache
def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def temp_path(final: Path) -> Path:
    """A new temporary name beside ``final`` (same folder, so the rename is atomic); keeps the suffix.

    Each call gives another name, so two writers of one final name never share a temporary file.
    """
    final = Path(final)
    token = secrets.token_hex(4)
    return final.with_name(f".{final.stem}.foleyflow.tmp-{os.getpid()}.{_host_tag()}-{token}{final.suffix}")


def temp_writer(name: str) -> TempWriter | None:
    """The writer of a temporary file named ``name`` (by :func:`temp_path`), or None for any other name."""
    match = _TEMP.match(name)
    return None if match is None else TempWriter(match["host"], int(match["pid"]))


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files in ``folder`` of writers on this host that no longer run (a process
    killed while writing). A live process's, this process's and other hosts' are kept. Returns what
    was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    host, me = _host_tag(), os.getpid()
    for entry in entries:
        writer = temp_writer(entry.name)
        if writer is not None and writer.host == host and writer.pid != me and not _alive(writer.pid):
            _remove(entry)
            removed.append(entry)
    if removed:
        log.info("removed %d temporary file(s) that dead writers left in %s", len(removed), folder)
    return removed


def _remove_legacy_temps(final: Path) -> None:
    """Temporary names of ``final`` that versions before this scheme left (``.NAME.tmp-PID.EXT``), if
    their process is gone: those versions removed them on the next write of the same name."""
    prefix, suffix = f".{final.stem}.tmp-", final.suffix
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            pid = entry.name[len(prefix): len(entry.name) - len(suffix)] if entry.name.endswith(suffix) else ""
            if entry.name.startswith(prefix) and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                _remove(entry)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (True when that cannot be told: nothing is removed then)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def check_fits(final: Path) -> None:
    """OutputError, before any work, if ``final`` or its temporary name is too long for the file system
    (a name over NAME_MAX bytes, usually 255, or a path over PATH_MAX, usually 4096)."""
    folder = final.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    name_max = _pathconf(folder, "PC_NAME_MAX", 255)
    path_max = _pathconf(folder, "PC_PATH_MAX", 4096)
    for path in (final, temp_path(final)):
        whole = path.absolute()
        long = [part for part in whole.parts if len(os.fsencode(part)) > name_max]
        if long:
            raise OutputError(f"the name {long[0]!r} is longer than the {name_max} bytes this file system allows; "
                              "choose a shorter output name", final)
        if len(os.fsencode(str(whole))) >= path_max:
            raise OutputError(f"the path of {path.name!r} is longer than the {path_max} bytes this system allows; "
                              "write into a shallower folder", final)


def _pathconf(folder: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(folder, name))
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no such limit
        return default


@contextlib.contextmanager
def atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``final`` (file or folder).

    On any exception (Ctrl-C included) the temporary file is removed and ``final`` is untouched.
    """
    with atomic_targets([final]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_targets(finals: Sequence[Path]) -> Iterator[list[Path]]:
    """Yield a temporary path per final path; on success all of them replace their finals, together.

    All or nothing: an exception in the body (a failed writer, a cancel, Ctrl-C) removes every
    temporary file, and a rename that fails midway puts back what the finals held before (the
    previous versions are kept under temporary names until the last rename is done).
    """
    paths = [Path(f) for f in finals]
    if not paths:
        raise ValueError("atomic_targets needs at least one path")
    if len({os.path.abspath(p) for p in paths}) != len(paths):
        raise ValueError(f"the same path is given twice: {[str(p) for p in paths]}")
    for folder in dict.fromkeys(p.parent for p in paths):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder: {exc.strerror or exc}", folder) from exc
        remove_stale_temps(folder)
    for p in paths:
        _remove_legacy_temps(p)
    temps = [temp_path(p) for p in paths]
    try:
        yield temps
        for tmp, final in zip(temps, paths, strict=True):
            if not os.path.lexists(tmp):
                raise OutputError("the writer produced no file", final)
        _commit(list(zip(temps, paths, strict=True)))
    except BaseException:
        for tmp in temps:
            _remove(tmp)
        raise


def _commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each temporary file over its final name; if one rename fails, undo those done.

    A single file needs no undo: its final name holds the previous version or the new one, both whole.
    """
    placed: list[tuple[Path, Path | None, bool]] = []  # (final, previous version set aside, existed)
    final = pairs[0][1]
    try:
        for tmp, final in pairs:
            existed = os.path.lexists(final)
            placed.append((final, _set_aside(final, tmp.is_dir(), keep=len(pairs) > 1), existed))
            os.replace(tmp, final)
    except BaseException as exc:
        for done, old, existed in reversed(placed):
            _put_back(done, old, existed)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot move the finished file into place: {exc.strerror or exc}", final) from exc
        raise
    for _, old, _existed in placed:
        if old is not None:
            _remove(old)


def _set_aside(final: Path, is_dir: bool, keep: bool) -> Path | None:
    """Before ``final`` is replaced: a folder is moved to a temporary name (a folder cannot be renamed
    over); with ``keep`` a file is hard-linked (else copied) to one, so it can be put back."""
    if not os.path.lexists(final):
        return None
    old = temp_path(final)
    if is_dir:
        os.replace(final, old)
    elif keep:
        try:
            os.link(final, old, follow_symlinks=False)
        except OSError:  # no hard links here (FAT, some shares)
            shutil.copy2(final, old, follow_symlinks=False)
    else:
        return None
    return old


def _put_back(final: Path, old: Path | None, existed: bool) -> None:
    """Undo one rename of :func:`_commit`: the previous version back under ``final``, or nothing there
    if there was nothing before."""
    try:
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                _remove(final)
            os.replace(old, final)
        elif not existed:
            _remove(final)
    except OSError as exc:
        log.warning("%s: could not put the previous version back (%s); it is kept as %s", final, exc, old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def backup_copy(path: Path, when: datetime | None = None) -> Path:
    """Copy ``path`` to ``NAME.foleyflow-backup-YYYYmmddTHHMMSS.EXT`` beside it (atomically); return it."""
    stamp = (when or datetime.now()).strftime("%Y%m%dT%H%M%S")
    backup = path.with_name(f"{path.stem}.foleyflow-backup-{stamp}{path.suffix}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.stem}.foleyflow-backup-{stamp}-{n}{path.suffix}")
    try:
        with atomic_target(backup) as tmp:
            if path.is_dir():
                shutil.copytree(path, tmp)
            else:
                shutil.copy2(path, tmp)
    except OSError as exc:
        raise OutputError(f"cannot keep a backup before writing in place: {exc}", path) from exc
    return backup
