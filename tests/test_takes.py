"""The take session (no Qt): keep, place, re-roll, variations, failures, unsaved work, the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentimelineio.opentime import RationalTime, TimeRange

from foleyflow.plugin.placement import Take
from foleyflow.plugin.takes import KeepState, TakeSession, take_from_dict, take_to_dict

RATE = 24000 / 1001


def take(folder: Path, clip: str, seeds: tuple[int, ...], start: int = 0) -> Take:
    """A take of ``clip`` with one (real, tiny) WAV per seed."""
    media = []
    for s in seeds:
        path = folder / f"{clip.replace(':', '_')}_seed{s}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
        media.append(path)
    return Take(clip, clip.split(":")[0], f"shot {clip}", TimeRange(RationalTime(start, RATE), RationalTime(48, RATE)),
                tuple(media), 0, {"seed": seeds[0], "seeds": list(seeds), "steps": 8, "guidance": 4.5,
                                  "model": "fake", "created": "2026-12-02T18:00:00+00:00"},
                tuple({"seed": s} for s in seeds))


def test_a_new_take_is_kept_and_dirty_until_saved(tmp_path):
    session = TakeSession()
    assert not session.dirty and session.state("V1:0") is None
    a = take(tmp_path, "V1:0", (0,))
    assert session.add(a) == []
    assert session.take("V1:0") == a and session.is_kept("V1:0") and session.dirty
    assert session.state("V1:0") == KeepState.KEPT == "kept"
    session.mark_saved()
    assert not session.dirty
    assert session.set_kept("V1:0", False) and session.dirty and session.state("V1:0") == "not kept"
    assert not session.set_kept("V9:9", True)  # no take there


def test_place_puts_exactly_the_kept_takes_on_the_timeline(tmp_path):
    session = TakeSession()
    a, b = take(tmp_path, "V1:0", (0,)), take(tmp_path, "V1:1", (0,), start=48)
    session.add(a)
    session.add(b)
    session.set_kept("V1:1", False)
    session.mark_saved()
    assert session.place() == [a] and session.dirty
    assert session.is_placed("V1:0") and not session.is_placed("V1:1") and session.state("V1:0") == KeepState.PLACED
    session.mark_saved()
    assert session.place() == [a] and not session.dirty  # nothing changed: nothing to save
    session.set_kept("V1:0", False)
    assert session.place() == [] and not session.placed_takes()  # dropped: off the timeline
    assert session.dirty


def test_variations_switch_the_active_one(tmp_path):
    session = TakeSession()
    session.add(take(tmp_path, "V1:0", (5, 6)))
    session.place()
    session.mark_saved()
    assert session.set_active("V1:0", 1).active == 1 and session.dirty
    assert not session.is_placed("V1:0") and session.placed_take("V1:0").active == 0  # placed as it was
    with pytest.raises(IndexError):
        session.set_active("V1:0", 2)


def test_reroll_deletes_the_old_take_unless_placed_or_referenced(tmp_path):
    session = TakeSession()
    first = take(tmp_path / "w", "V1:0", (0, 1))
    session.add(first)
    second = take(tmp_path / "w", "V1:0", (7,))
    assert session.add(second) == list(first.media)  # never placed: its WAVs go
    assert not any(p.exists() for p in first.media) and session.take("V1:0") == second
    session.place()  # the second is on the timeline now
    third = take(tmp_path / "w", "V1:0", (9,))
    assert session.add(third) == [] and second.media[0].exists()  # placed: kept
    assert session.placed_take("V1:0") == second and session.take("V1:0") == third
    fourth = take(tmp_path / "w", "V1:0", (9, 10))  # same seed 9 again: the file is the new take's too
    assert session.add(fourth) == [] and third.media[0].exists()
    # a WAV the timeline file itself uses (an earlier session's take) is never deleted
    old = take(tmp_path / "file", "V2:0", (3,))
    with_file = TakeSession(referenced=old.media)
    with_file.add(old)
    assert with_file.add(take(tmp_path / "w", "V2:0", (4,))) == [] and old.media[0].exists()


def test_a_saved_take_keeps_its_files_after_it_comes_off_the_timeline(tmp_path):
    session = TakeSession()
    a = take(tmp_path, "V1:0", (0,))
    session.add(a)
    session.place()
    session.mark_saved()  # a file on disk now points at a's WAV
    session.set_kept("V1:0", False)
    session.place()
    assert session.add(take(tmp_path, "V1:0", (1,))) == [] and a.media[0].exists()


def test_failures_and_retain(tmp_path):
    session = TakeSession()
    session.add(take(tmp_path, "V1:0", (0,)))
    session.fail("V1:0", "no space left")
    session.fail("V1:1", "media not found")
    assert session.failure("V1:0") == "no space left" and session.take("V1:0") is not None  # the take stays
    session.add(take(tmp_path, "V1:0", (1,)))
    assert session.failure("V1:0") is None and session.failures == {"V1:1": "media not found"}
    session.retain(["V1:1"])  # the re-read timeline lost V1:0; no file is deleted
    assert session.clip_ids() == [] and session.failures == {"V1:1": "media not found"}
    assert (tmp_path / "V1_0_seed1.wav").exists()


def test_snapshot_round_trip_is_plain_json(tmp_path):
    session = TakeSession(referenced=[tmp_path / "old.wav"])
    session.add(take(tmp_path, "V1:0", (5, 6)))
    session.add(take(tmp_path, "V1:1", (2,), start=48))
    session.set_active("V1:0", 1)
    session.place()
    session.set_kept("V1:1", False)
    session.fail("V2:0", "RuntimeError: boom")
    data = json.loads(json.dumps(session.to_dict()))  # nothing but plain data
    back = TakeSession.from_dict(data)
    assert back.to_dict() == session.to_dict()
    assert back.takes() == session.takes() and back.placed_takes() == session.placed_takes()
    # V1:1 was dropped after Place: still on the working timeline until the next Place, and not kept
    assert [back.state(c) for c in ("V1:0", "V1:1")] == [KeepState.PLACED, KeepState.PLACED]
    assert back.is_kept("V1:0") and not back.is_kept("V1:1") and back.take("V1:0").active == 1
    assert back.failure("V2:0") == "RuntimeError: boom" and back.dirty
    t = session.take("V1:0")
    assert take_from_dict(json.loads(json.dumps(take_to_dict(t)))) == t
    with pytest.raises(ValueError):
        TakeSession.from_dict({**data, "version": 99})
