"""One writer per output: the lock file, stale take-over, and two processes saving one timeline at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import opentimelineio as otio
import pytest
from ui_fixtures import make_timeline

from foleyflow.plugin import lock
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.lock import LockHeldError, LockInfo, acquire, lock_path, output_lock, read_lock, release
from foleyflow.plugin.placement import NAMESPACE

REPO = Path(__file__).resolve().parents[1]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def _write_lock(path: Path, pid: int, host: str | None = None, program: str = "foleyflow generate") -> None:
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "program": program,
                                "time": "2025-01-02T03:04:05+00:00"}) + "\n")


def test_lock_file_says_who_holds_it_and_goes_with_the_last_release(tmp_path):
    out = tmp_path / "cut_foley.otio"
    with output_lock(out, program="test writer") as path:
        assert path == tmp_path / "cut_foley.otio.foleyflow.lock" == lock_path(out)
        held = read_lock(path)
        assert held is not None and held.pid == os.getpid() and held.program == "test writer"
        assert held.host == socket.gethostname()
        with output_lock(out):  # re-entrant in one thread: the run owner's lock, then save's
            assert path.exists()
        assert path.exists()
    assert not path.exists()


def test_a_live_holder_is_named_and_a_wait_times_out(tmp_path):
    out = tmp_path / "cut_foley.otio"
    _write_lock(lock_path(out), os.getppid())  # a live process of this host (pytest's parent)
    with pytest.raises(LockHeldError) as info:
        acquire(out)
    err = info.value
    assert isinstance(err, OutputError) and err.path == lock_path(out)
    assert f"pid {os.getppid()}" in str(err) and "foleyflow generate" in str(err) and "cut_foley.otio" in str(err)
    assert err.holder == read_lock(lock_path(out))
    with pytest.raises(LockHeldError, match="waited 0.2 s"):
        acquire(out, wait=0.2)
    assert read_lock(lock_path(out)).pid == os.getppid()  # never removed


def test_stale_locks_of_dead_pids_on_this_host_are_taken_over_other_hosts_are_not(tmp_path):
    out = tmp_path / "a.otio"
    _write_lock(lock_path(out), _dead_pid())
    with output_lock(out):
        assert read_lock(lock_path(out)).pid == os.getpid()
    assert not lock_path(out).exists()
    other = tmp_path / "b.otio"
    _write_lock(lock_path(other), _dead_pid(), host="render-node-7")  # a pid of another host means nothing here
    with pytest.raises(LockHeldError, match="render-node-7"):
        acquire(other)
    torn = tmp_path / "c.otio"
    lock_path(torn).write_text("")  # its creator died between create and write
    with pytest.raises(LockHeldError, match="not written yet"):
        acquire(torn)
    old = time.time() - lock.UNWRITTEN_GRACE_SECONDS - 5
    os.utime(lock_path(torn), (old, old))
    acquire(torn)
    release(torn)
    assert not lock_path(torn).exists()


def test_another_thread_is_refused_or_waits_for_the_holder(tmp_path):
    out = tmp_path / "cut.otio"
    seen: list[object] = []

    def other(wait: float) -> None:
        try:
            acquire(out, wait=wait)
        except LockHeldError as exc:
            seen.append(exc)
            return
        seen.append(read_lock(lock_path(out)))
        release(out)

    acquire(out)
    t = threading.Thread(target=other, args=(0.0,))
    t.start()
    t.join()
    assert isinstance(seen[0], LockHeldError) and "another thread of this process" in str(seen[0])
    t = threading.Thread(target=other, args=(60.0,))
    t.start()
    release(out)  # the waiting thread gets it now
    t.join()
    assert isinstance(seen[1], LockInfo) and seen[1].pid == os.getpid()
    assert not lock_path(out).exists()


DRIVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import opentimelineio as otio
    from foleyflow.plugin import service
    from foleyflow.plugin.placement import Take

    timeline, output, who, wait, entered = sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
    project = service.open_project(Path(timeline))
    takes = []
    for job in project.jobs:
        wav = Path(output).parent / f"{who}_{job.info.id.replace(':', '_')}.wav"
        takes.append(Take(job.info.id, job.info.track, f"{who} {job.info.name}", job.info.record_range, (wav,),
                          metadata={"writer": who}))
    real = service.write_timeline

    def slow_write(*args, **kwargs):  # a long write: the other process meets the lock
        Path(entered).write_text(who)
        time.sleep(1.5)
        return real(*args, **kwargs)

    service.write_timeline = slow_write
    try:
        service.save(project.loaded, takes, output, lock_wait=wait)
    except service.FoleyFlowError as exc:
        print(exc, file=sys.stderr)
        sys.exit(exc.exit_code)
    print("saved")
""")


def _start(cut: Path, out: Path, who: str, wait: float, entered: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(cut), str(out), who, str(wait), str(entered)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _writers(out: Path) -> list[tuple[str, str]]:
    tl = otio.adapters.read_from_file(str(out))
    return sorted((c.metadata[NAMESPACE]["source_clip"], str(c.name).split()[1])
                  for c in tl.find_clips() if NAMESPACE in c.metadata)


@pytest.fixture
def cut(tmp_path: Path) -> Path:
    return make_timeline(tmp_path, [[("a", 1.0, False), ("b", 1.0, False), ("c", 1.0, False)]])


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the first writer never started writing"
        time.sleep(0.02)


def test_two_processes_saving_one_output_refused_with_the_holder_named(cut, tmp_path):
    out = tmp_path / "out" / "cut_foley.otio"
    out.parent.mkdir()
    first = _start(cut, out, "A", 0.0, tmp_path / "A.entered")
    _wait_for(tmp_path / "A.entered", first)
    second = _start(cut, out, "B", 0.0, tmp_path / "B.entered")
    _, err_b = second.communicate(timeout=60)
    out_a, err_a = first.communicate(timeout=60)
    assert first.returncode == 0 and out_a.strip() == "saved", err_a
    assert second.returncode == OutputError.exit_code and not (tmp_path / "B.entered").exists()
    assert f"{lock_path(out)}" in err_b and f"pid {first.pid}" in err_b and socket.gethostname() in err_b
    # the result is the winner's whole: every take of A, none of B
    assert _writers(out) == [("V1:0", "A"), ("V1:1", "A"), ("V1:2", "A")]
    assert not lock_path(out).exists()


def test_two_processes_saving_one_output_the_second_waits_then_writes_whole(cut, tmp_path):
    out = tmp_path / "out" / "cut_foley.otio"
    out.parent.mkdir()
    first = _start(cut, out, "A", 0.0, tmp_path / "A.entered")
    _wait_for(tmp_path / "A.entered", first)
    second = _start(cut, out, "B", 60.0, tmp_path / "B.entered")
    out_a, err_a = first.communicate(timeout=60)
    assert first.returncode == 0, err_a
    out_b, err_b = second.communicate(timeout=60)
    assert second.returncode == 0 and out_b.strip() == "saved", err_b
    assert _writers(out) == [("V1:0", "B"), ("V1:1", "B"), ("V1:2", "B")]  # B waited, then wrote all of its own
    assert not lock_path(out).exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["cut_foley.otio"]  # no temporary or lock file left
