"""The takes of an editing session, free of Qt: what was generated, kept, placed, re-rolled, saved.

Per video clip (by its id) a :class:`TakeSession` holds::

    current take     every variation of the last take made for the clip, and the active one
    kept             whether the editor keeps it (a new take is kept until said otherwise)
    placed           the take that is on the working timeline (Place puts every kept take there)
    failure          why the last run of the clip failed

and whether there is work not yet saved (``dirty``). A re-roll (a new take for a clip that has
one) replaces the current take and deletes the old take's WAVs unless they are placed or still
referenced (by the new take, by a placed take, or by the timeline file itself), so that a saved
timeline never loses a file. :meth:`TakeSession.to_dict` is a plain-data snapshot (JSON-ready)
and :meth:`TakeSession.from_dict` restores it: an autosave or recovery file is one ``json.dump``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import opentimelineio as otio

from .events import ClipStatus
from .placement import Take
from .strenum import StrEnum

if TYPE_CHECKING:
    from .service import ClipResult

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1


class KeepState(StrEnum):
    """Where a clip's current take stands."""

    PLACED = "placed"  # on the working timeline, as it is now
    KEPT = "kept"  # kept, to be placed
    NOT_KEPT = "not kept"  # made, and left out of the next Place


@dataclass
class _Entry:
    take: Take
    kept: bool = True


class TakeSession:
    """The takes of one open timeline (see the module docstring)."""

    def __init__(self, referenced: Iterable[str | Path] = ()) -> None:
        self._entries: dict[str, _Entry] = {}
        self._placed: dict[str, Take] = {}
        self._failures: dict[str, str] = {}
        self._referenced: set[Path] = {_key(p) for p in referenced}  # WAVs the timeline file itself uses
        self._dirty = False

    # -- reading ------------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether takes were made, kept, dropped, switched or placed since the last save."""
        return self._dirty

    def clip_ids(self) -> list[str]:
        return list(self._entries)

    def take(self, clip_id: str) -> Take | None:
        """The clip's current take (all its variations; ``take.active`` is the one in use)."""
        entry = self._entries.get(clip_id)
        return entry.take if entry is not None else None

    def takes(self) -> dict[str, Take]:
        return {cid: e.take for cid, e in self._entries.items()}

    def is_kept(self, clip_id: str) -> bool:
        entry = self._entries.get(clip_id)
        return entry is not None and entry.kept

    def kept_takes(self) -> list[Take]:
        return [e.take for e in self._entries.values() if e.kept]

    def placed_take(self, clip_id: str) -> Take | None:
        """The take of the clip that is on the working timeline (maybe not its current one)."""
        return self._placed.get(clip_id)

    def placed_takes(self) -> list[Take]:
        return list(self._placed.values())

    def is_placed(self, clip_id: str) -> bool:
        """Whether the clip's current take, as it is now, is what the working timeline shows."""
        entry = self._entries.get(clip_id)
        return entry is not None and self._placed.get(clip_id) == entry.take

    def state(self, clip_id: str) -> KeepState | None:
        """PLACED, KEPT or NOT_KEPT for a clip with a take; None without one."""
        entry = self._entries.get(clip_id)
        if entry is None:
            return None
        if self.is_placed(clip_id):
            return KeepState.PLACED
        return KeepState.KEPT if entry.kept else KeepState.NOT_KEPT

    def failure(self, clip_id: str) -> str | None:
        return self._failures.get(clip_id)

    @property
    def failures(self) -> dict[str, str]:
        return dict(self._failures)

    # -- changing -----------------------------------------------------------------------------------
    def add(self, take: Take, kept: bool = True) -> list[Path]:
        """``take`` becomes its clip's current take; a take it replaces loses its WAVs unless they are
        placed or still referenced. Returns the files deleted."""
        cid = take.source_clip_id
        old = self._entries.get(cid)
        self._entries[cid] = _Entry(take, kept)
        self._failures.pop(cid, None)
        self._dirty = True
        if old is None or old.take == take:
            return []
        return self._discard(old.take)

    def fail(self, clip_id: str, message: str) -> None:
        """The clip's last run failed (its current take, if any, stays)."""
        self._failures[clip_id] = message

    def apply(self, results: Iterable[ClipResult]) -> list[Path]:
        """Take in a run's results (done: :meth:`add`, failed: :meth:`fail`; a cancelled clip changes nothing).
        Returns the files deleted by re-rolls."""
        deleted: list[Path] = []
        for r in results:
            if r.status == ClipStatus.DONE and r.take is not None:
                deleted += self.add(r.take)
            elif r.status == ClipStatus.FAILED:
                self.fail(r.job.info.id, r.error)
        return deleted

    def set_kept(self, clip_id: str, kept: bool) -> bool:
        """Keep (or drop) the clip's current take; False when the clip has none."""
        entry = self._entries.get(clip_id)
        if entry is None:
            return False
        if entry.kept != kept:
            entry.kept = kept
            self._dirty = True
        return True

    def set_active(self, clip_id: str, index: int) -> Take:
        """Make variation ``index`` the active one of the clip's take; returns the take (KeyError, IndexError)."""
        entry = self._entries[clip_id]
        if not 0 <= index < len(entry.take.media):
            raise IndexError(f"clip {clip_id}: no variation {index + 1} (it has {len(entry.take.media)})")
        if entry.take.active != index:
            entry.take = replace(entry.take, active=index)
            self._dirty = True
        return entry.take

    def place(self) -> list[Take]:
        """Put exactly the kept takes on the working timeline (a placed take no longer kept comes off)."""
        placed = {cid: e.take for cid, e in self._entries.items() if e.kept}
        if placed != self._placed:
            self._dirty = True
        self._placed = placed
        return list(placed.values())

    def retain(self, clip_ids: Iterable[str]) -> None:
        """Forget the clips not in ``clip_ids`` (a re-read timeline lost them); no file is deleted."""
        keep = set(clip_ids)
        for table in (self._entries, self._placed, self._failures):
            for cid in [c for c in table if c not in keep]:
                del table[cid]

    def mark_saved(self, referenced: Iterable[str | Path] = ()) -> None:
        """Everything placed is saved; ``referenced`` are the WAVs the saved file now points at."""
        self._referenced |= {_key(p) for p in referenced}
        for take in self._placed.values():
            self._referenced |= {_key(p) for p in take.media}
        self._dirty = False

    def _discard(self, old: Take) -> list[Path]:
        keep = set(self._referenced)
        for take in [*self._placed.values(), *(e.take for e in self._entries.values())]:
            keep |= {_key(p) for p in take.media}
        deleted = []
        for path in old.media:
            if _key(path) in keep:
                continue
            try:
                Path(path).unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("%s: cannot delete the replaced take's WAV: %s", path, exc.strerror or exc)
                continue
            deleted.append(Path(path))
        return deleted

    # -- snapshot -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, int, float, bool, None, lists, dicts): ``json.dumps`` takes it as it is."""
        return {
            "version": SNAPSHOT_VERSION,
            "clips": {cid: {"take": take_to_dict(e.take), "kept": e.kept} for cid, e in self._entries.items()},
            "placed": {cid: take_to_dict(t) for cid, t in self._placed.items()},
            "failures": dict(self._failures),
            "referenced": sorted(str(p) for p in self._referenced),
            "dirty": self._dirty,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TakeSession:
        """The session a :meth:`to_dict` snapshot describes (ValueError for another version)."""
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"a take session snapshot of version {data.get('version')!r}; "
                             f"this version reads {SNAPSHOT_VERSION}")
        session = cls(data.get("referenced", ()))
        for cid, entry in dict(data.get("clips", {})).items():
            session._entries[str(cid)] = _Entry(take_from_dict(entry["take"]), bool(entry.get("kept", True)))
        session._placed = {str(cid): take_from_dict(t) for cid, t in dict(data.get("placed", {})).items()}
        session._failures = {str(cid): str(m) for cid, m in dict(data.get("failures", {})).items()}
        session._dirty = bool(data.get("dirty", False))
        return session


def _key(path: str | Path) -> Path:
    """A path as the session compares it (absolute, links resolved where they can be)."""
    p = Path(path)
    with contextlib.suppress(OSError, RuntimeError):
        return p.resolve()
    return p.absolute()


def _time(t: otio.opentime.RationalTime) -> list[float]:
    return [float(t.value), float(t.rate)]


def take_to_dict(take: Take) -> dict[str, Any]:
    """A take as plain data (times as [value, rate], paths as strings)."""
    r = take.record_range
    return {
        "source_clip_id": take.source_clip_id,
        "source_track": take.source_track,
        "name": take.name,
        "record_range": {"start": _time(r.start_time), "duration": _time(r.duration)},
        "media": [str(p) for p in take.media],
        "active": take.active,
        "metadata": _plain(take.metadata),
        "variation_metadata": [_plain(m) for m in take.variation_metadata],
    }


def take_from_dict(data: Mapping[str, Any]) -> Take:
    """The take :func:`take_to_dict` describes."""
    rr = data["record_range"]
    record = otio.opentime.TimeRange(otio.opentime.RationalTime(*rr["start"]),
                                     otio.opentime.RationalTime(*rr["duration"]))
    return Take(
        source_clip_id=str(data["source_clip_id"]),
        source_track=str(data["source_track"]),
        name=str(data["name"]),
        record_range=record,
        media=tuple(Path(p) for p in data["media"]),
        active=int(data.get("active", 0)),
        metadata=dict(data.get("metadata", {})),
        variation_metadata=tuple(dict(m) for m in data.get("variation_metadata", ())),
    )


def _plain(value: Any) -> Any:
    """Metadata as JSON-ready data (OTIO's dictionaries and lists, paths, tuples made plain)."""
    if isinstance(value, Mapping) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, (str, bytes))):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, StrEnum):
        return str(value)
    return value
