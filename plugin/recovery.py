"""Session recovery files: the unsaved take work of an open timeline, kept on disk while it is edited.

As editing systems do, a front end writes one small JSON file per open timeline after every
change that leaves work unsaved, and removes it on save or discard. A front end killed mid-session
(a crash, a SIGKILL, a power cut) leaves the file behind; its next start offers it back::

    RECOVERY_FOLDER/cut-3fa9c1e2b4d5.json
    {"version": 1, "timeline": "/abs/cut.otio", "pick": 0,          which timeline of the file
     "session": TakeSession.to_dict(),                              placed and kept takes
     "selection": ["V1:0"], "current": "V1:0", "settings": {...},   what the editor had on screen
     "prompts": "", "save_path": null,                              (prompts: reserved for sound prompts)
     "pid": 4242, "host": "edit-3", "written": "2025-...Z"}         who wrote it

Files are written atomically (:mod:`foleyflow.plugin.atomic`): a kill mid-write leaves the
previous version whole. Qt-free: the panel is one user, a host integration could be another.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from foleyflow.runtime.errors import FoleyFlowError

from .atomic import atomic_target
from .takes import TakeSession

log = logging.getLogger(__name__)

VERSION = 1
SUFFIX = ".json"


class RecoveryError(FoleyFlowError):
    """A recovery file cannot be read (torn, of another version, not one of ours)."""


@dataclass
class Recovery:
    """What a recovery file holds (see the module docstring)."""

    timeline: Path
    session: dict[str, Any]  # TakeSession.to_dict()
    pick: int | None = None  # 0-based timeline of a file that holds several
    selection: list[str] = field(default_factory=list)
    current: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    prompts: str = ""  # reserved: the sound prompts field
    save_path: str | None = None
    pid: int = 0
    host: str = ""
    written: str = ""
    path: Path | None = None  # the file it was read from (not written)

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "timeline": str(self.timeline), "pick": self.pick, "session": self.session,
                "selection": list(self.selection), "current": self.current, "settings": dict(self.settings),
                "prompts": self.prompts, "save_path": self.save_path, "pid": self.pid, "host": self.host,
                "written": self.written}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path | None = None) -> Recovery:
        if not isinstance(data, Mapping) or data.get("version") != VERSION:
            version = data.get("version") if isinstance(data, Mapping) else None
            raise RecoveryError(f"not a recovery file of version {VERSION} (version {version!r})", path)
        try:
            return cls(timeline=Path(str(data["timeline"])), session=dict(data["session"]),
                       pick=None if data.get("pick") is None else int(data["pick"]),
                       selection=[str(s) for s in data.get("selection", [])],
                       current=None if data.get("current") is None else str(data["current"]),
                       settings=dict(data.get("settings", {})), prompts=str(data.get("prompts", "")),
                       save_path=None if data.get("save_path") is None else str(data["save_path"]),
                       pid=int(data.get("pid", 0)), host=str(data.get("host", "")),
                       written=str(data.get("written", "")), path=path)
        except (KeyError, TypeError, ValueError) as exc:
            raise RecoveryError(f"the recovery file is incomplete: {type(exc).__name__}: {exc}", path) from exc

    def take_session(self) -> TakeSession:
        """The session as it was (RecoveryError when the snapshot cannot be read)."""
        try:
            return TakeSession.from_dict(self.session)
        except (KeyError, TypeError, ValueError) as exc:
            raise RecoveryError(f"the take session cannot be restored: {exc}", self.path) from exc


def recovery_file(folder: str | Path, timeline: str | Path, pick: int | None = None) -> Path:
    """The one recovery file of ``timeline`` (timeline ``pick`` of it) in ``folder``."""
    timeline = Path(timeline).absolute()
    digest = hashlib.sha256(f"{timeline}\0{pick}".encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return Path(folder) / f"{timeline.stem[:60]}-{digest}{SUFFIX}"


def write_recovery(folder: str | Path, recovery: Recovery) -> Path:
    """Write (atomically) the recovery file of ``recovery.timeline``; returns its path."""
    recovery.pid, recovery.host = os.getpid(), socket.gethostname()
    recovery.written = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path = recovery_file(folder, recovery.timeline, recovery.pick)
    text = json.dumps(recovery.to_dict(), indent=1, sort_keys=True)
    with atomic_target(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def read_recovery(path: str | Path) -> Recovery:
    """The recovery file at ``path`` (RecoveryError when it cannot be read)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecoveryError(f"cannot read the recovery file: {exc.strerror or exc}", path) from exc
    except ValueError as exc:
        raise RecoveryError(f"the recovery file is not JSON: {exc}", path) from exc
    return Recovery.from_dict(data, path)


def remove_recovery(path: str | Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


def _alive(pid: int) -> bool:
    if pid <= 0 or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def orphaned(recovery: Recovery) -> bool:
    """Whether the writer of ``recovery`` is gone (not this process, not a live process of this host)."""
    if recovery.pid == os.getpid() and recovery.host == socket.gethostname():
        return False
    return recovery.host != socket.gethostname() or not _alive(recovery.pid)


def pending(folder: str | Path) -> list[Recovery]:
    """The recovery files of ``folder`` left by writers that are gone, newest first.

    Files that cannot be read are logged and left alone (never deleted: a person may want them).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        try:
            rec = read_recovery(path)
        except RecoveryError as exc:
            log.warning("%s", exc)
            continue
        if orphaned(rec):
            found.append(rec)
    return sorted(found, key=lambda r: r.written, reverse=True)


def vanished_takes(session: Mapping[str, Any]) -> dict[str, list[Path]]:
    """Clip id -> the WAVs of its take (current or placed) that no longer exist."""
    gone: dict[str, list[Path]] = {}
    takes: list[tuple[str, Mapping[str, Any]]] = [
        *((str(cid), e["take"]) for cid, e in dict(session.get("clips", {})).items()),
        *((str(cid), t) for cid, t in dict(session.get("placed", {})).items())]
    for cid, take in takes:
        for p in take.get("media", ()):
            if not Path(p).is_file() and Path(p) not in gone.get(cid, []):
                gone.setdefault(cid, []).append(Path(p))
    return gone


def without_vanished(session: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[Path]]]:
    """The snapshot without the takes whose WAVs are gone, and what was left out."""
    gone = vanished_takes(session)
    out = dict(session)
    out["clips"] = {cid: e for cid, e in dict(session.get("clips", {})).items() if cid not in gone}
    out["placed"] = {cid: t for cid, t in dict(session.get("placed", {})).items() if cid not in gone}
    return out, gone


def vanished_lines(gone: Mapping[str, Sequence[Path]], shown: int = 4) -> list[str]:
    lines = [f"{cid}: {', '.join(str(p) for p in paths)} is gone" for cid, paths in gone.items()]
    return lines[:shown] + ([f"… and {len(lines) - shown} more"] if len(lines) > shown else [])
