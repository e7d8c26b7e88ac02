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


@contextlib.contextmanager
def atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``final`` (file or folder)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    _remove(tmp)
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
