"""Atomic writes: a temporary name in the final folder, renamed over the final name when whole.

``os.replace`` within one folder is atomic on POSIX and Windows: a reader sees the
old file or the new one, never half of one. Folders (.otiod) are swapped in two
renames. A backup copy is made the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .errors import OutputError


def temp_path(final: Path) -> Path:
    """A temporary name beside ``final`` (same folder, so the rename is atomic); keeps the suffix."""
    return final.with_name(f".{final.stem}.tmp-{os.getpid()}{final.suffix}")


def remove_stale_temps(final: Path) -> list[Path]:
    """Remove temporary names of ``final`` left by a process that no longer runs (one killed while
    writing); a live process's are kept. Returns what was removed."""
    removed: list[Path] = []
    prefix, suffix = f".{final.stem}.tmp-", final.suffix
    try:
        entries = list(final.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid = name[len(prefix) : len(name) - len(suffix)]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            _remove(entry)
            removed.append(entry)
    return removed


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
    """Yield a temporary path to write; on success it replaces ``final`` (file or folder)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    _remove(tmp)
    remove_stale_temps(final)
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError("the writer produced no file", final)
        if tmp.is_dir() and final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            _remove(old)
        else:
            os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


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
