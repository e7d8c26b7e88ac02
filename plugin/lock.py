"""One writer per output: ``OUTPUT.foleyflow.lock`` beside the file a save (or a whole run) writes.

Two front ends (a panel and a ``foleyflow generate``, or two panels) writing one timeline or
one take folder at once would each leave a whole file (writes are atomic), but the second
would silently replace the first's work. The lock makes the second one wait or say who
holds the output::

    with output_lock(OUTPUT, wait=0.0):     # LockHeldError at once when held
        ...write OUTPUT...
    with output_lock(OUTPUT, wait=30.0):    # wait up to 30 s for the holder to finish

The lock file is created with ``O_CREAT | O_EXCL`` (atomic on local file systems and NFSv3+)
and holds one JSON line: ``{"pid", "host", "program", "time"}``. A lock left by a process
of this host that runs no more (a crash, a SIGKILL) is stale and is taken over; locks of
live processes, and of other hosts (a farm on shared storage, where a pid means nothing
here), are honoured. Within one process the lock is re-entrant per thread, so the owner of a
whole run can hold it around ``service.execute`` while ``service.save`` takes it again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import OutputError

log = logging.getLogger(__name__)

SUFFIX = ".foleyflow.lock"
POLL_SECONDS = 0.05
UNWRITTEN_GRACE_SECONDS = 10.0  # an empty lock file younger than this is being written by its creator

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (thread id, depth) of the locks this process holds
_held_guard = threading.Lock()


class LockHeldError(OutputError):
    """Another writer holds the output's lock; ``holder`` says who (None when its file cannot be read)."""

    def __init__(self, message: str, path: str | Path | None = None, holder: LockInfo | None = None) -> None:
        self.holder = holder
        super().__init__(message, path)


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    program: str
    time: str  # ISO 8601, UTC

    def describe(self) -> str:
        return f"{self.program} (pid {self.pid} on {self.host}, since {self.time})"


def lock_path(output: str | Path) -> Path:
    """``OUTPUT.foleyflow.lock`` beside ``output`` (a file or a folder such as a take folder)."""
    output = Path(output).absolute()
    return output.with_name(output.name + SUFFIX)


def _program() -> str:
    argv0 = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([argv0, *sys.argv[1:3]]).strip() or "python"


def _me(program: str | None) -> LockInfo:
    return LockInfo(os.getpid(), socket.gethostname(), program or _program(),
                    datetime.now(timezone.utc).isoformat(timespec="seconds"))


def read_lock(path: Path) -> LockInfo | None:
    """Who holds the lock file ``path`` (None when it is gone, empty or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockInfo(int(data["pid"]), str(data["host"]), str(data["program"]), str(data["time"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # cannot tell: never take a lock over
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, someone else's
        return True
    return True


def _is_stale(path: Path, holder: LockInfo | None) -> bool:
    if holder is None:  # empty or torn: its creator died between create and write, or is writing now
        try:
            return time.time() - path.stat().st_mtime > UNWRITTEN_GRACE_SECONDS
        except OSError:
            return False
    return holder.host == socket.gethostname() and holder.pid != os.getpid() and not _alive(holder.pid)


def _take_over(path: Path, holder: LockInfo | None) -> None:
    """Remove a stale lock without removing one that a live writer made meanwhile.

    The stale file is renamed aside first (atomic: only one taker wins it); if what was renamed is
    no longer the stale lock, it is put back.
    """
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except OSError:
        return  # another taker got there first
    if read_lock(aside) == holder:
        log.warning("%s: taking over a stale lock of %s", path, holder.describe() if holder else "an unknown writer")
        with contextlib.suppress(OSError):
            aside.unlink()
        return
    with contextlib.suppress(OSError):  # a live writer's fresh lock: put it back
        os.link(aside, path)
    with contextlib.suppress(OSError):
        aside.unlink()


def _try_create(path: Path, me: LockInfo) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise OutputError(f"cannot create the lock file: {exc.strerror or exc}", path) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(asdict(me)) + "\n")
    return True


def acquire(output: str | Path, wait: float = 0.0, program: str | None = None) -> Path:
    """Take ``output``'s lock (waiting up to ``wait`` seconds); returns the lock file. LockHeldError when held.

    Re-entrant within a thread: every :func:`acquire` needs its :func:`release`.
    """
    path = lock_path(output)
    me_thread = threading.get_ident()
    with _held_guard:
        owner = _held.get(path)
        if owner is not None and owner[0] == me_thread:
            _held[path] = (me_thread, owner[1] + 1)
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + max(0.0, wait)
    me = _me(program)
    while True:
        with _held_guard:
            in_process = path in _held  # another thread of this process holds it
            if not in_process and _try_create(path, me):
                _held[path] = (me_thread, 1)
                log.debug("%s: locked", path)
                return path
        holder = me if in_process else read_lock(path)
        if not in_process and _is_stale(path, holder):
            _take_over(path, holder)
            continue
        if time.monotonic() >= deadline:
            who = holder.describe() if holder is not None else "another writer (its lock file is not written yet)"
            if in_process:
                who = f"another thread of this process (pid {os.getpid()})"
            waited = f" (waited {wait:g} s)" if wait > 0 else ""
            raise LockHeldError(f"{Path(output).name} is being written by {who}{waited}; wait for it to finish, "
                                f"or remove this lock file if that writer is gone", path, holder)
        time.sleep(POLL_SECONDS)


def release(output: str | Path) -> None:
    """Give back a lock :func:`acquire` took (the file goes with the last release)."""
    path = lock_path(output)
    with _held_guard:
        owner = _held.get(path)
        if owner is None:
            return
        if owner[1] > 1:
            _held[path] = (owner[0], owner[1] - 1)
            return
        del _held[path]
        holder = read_lock(path)
        if holder is not None and (holder.pid, holder.host) != (os.getpid(), socket.gethostname()):
            log.warning("%s: the lock is no longer ours (%s holds it); left in place", path, holder.describe())
            return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def output_lock(output: str | Path, wait: float = 0.0, program: str | None = None) -> Iterator[Path]:
    """Hold ``output``'s lock for the body (see the module docstring)."""
    path = acquire(output, wait, program)
    try:
        yield path
    finally:
        release(output)
