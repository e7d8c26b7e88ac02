import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from foleyflow.plugin import atomic
from foleyflow.plugin.atomic import (
    atomic_target,
    atomic_targets,
    backup_copy,
    check_fits,
    remove_stale_temps,
    temp_path,
    temp_writer,
)
from foleyflow.plugin.errors import OutputError


def _dead_pid() -> int:
    """The pid of a process that has run and exited (reaped): no process has it now."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_temp_path_is_hidden_beside_unique_and_keeps_suffix(tmp_path):
    a, b = temp_path(tmp_path / "cut.otio"), temp_path(tmp_path / "cut.otio")
    assert a.parent == tmp_path and a.suffix == ".otio" and a.name.startswith(".cut.foleyflow.tmp-") and a != b
    writer = temp_writer(a.name)
    assert writer is not None and writer.pid == os.getpid() and writer == temp_writer(b.name)
    assert temp_writer("cut.otio") is None and temp_writer(".cut.tmp-123.otio") is None
    assert temp_writer("cut.foleyflow-backup-20250102T030405.otio") is None
    assert temp_writer(temp_path(tmp_path / "bundle").name) is not None  # no suffix


def test_replaces_only_when_done(tmp_path):
    final = tmp_path / "cut.otio"
    final.write_text("old")
    with atomic_target(final) as tmp:
        tmp.write_text("new")
        assert final.read_text() == "old"
    assert final.read_text() == "new" and _names(tmp_path) == ["cut.otio"]


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    final = tmp_path / "cut.otio"
    final.write_text("old")
    with pytest.raises(ValueError), atomic_target(final) as tmp:
        tmp.write_text("half")
        raise ValueError("writer died")
    assert final.read_text() == "old" and _names(tmp_path) == ["cut.otio"]


def test_ctrl_c_midway_leaves_no_file_and_no_temp(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_target(tmp_path / "new" / "cut.otio") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert _names(tmp_path / "new") == []


def test_writer_that_writes_nothing(tmp_path):
    with pytest.raises(OutputError) as info, atomic_target(tmp_path / "x.otio"):
        pass
    assert type(info.value) is OutputError and "x.otio" in str(info.value) and _names(tmp_path) == []


def test_folder_is_swapped(tmp_path):
    final = tmp_path / "bundle.otiod"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with atomic_target(final) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in final.iterdir()] == ["new.txt"] and len(list(tmp_path.iterdir())) == 1


def test_a_killed_writer_s_temp_is_removed_by_the_next_write_to_its_folder(tmp_path):
    """A real crash: a child process dies (os._exit) inside atomic_target, its temp file stays; the next
    write of any file into that folder removes it."""
    code = ("import os, sys; from pathlib import Path; from foleyflow.plugin.atomic import atomic_target\n"
            "with atomic_target(Path(sys.argv[1])) as tmp:\n"
            "    tmp.write_text('half a take')\n"
            "    os._exit(9)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "take.wav")])
    assert proc.wait(timeout=120) == 9
    (left,) = tmp_path.iterdir()
    assert temp_writer(left.name) == (temp_writer(temp_path(tmp_path / "x").name).host, proc.pid)
    with atomic_target(tmp_path / "other.otio") as tmp:  # another file of the folder
        tmp.write_text("whole")
    assert _names(tmp_path) == ["other.otio"]


def test_stale_temps_only_of_dead_writers_on_this_host(tmp_path):
    host = temp_writer(temp_path(tmp_path / "x").name).host
    other_host = "0" * 6 if host != "0" * 6 else "1" * 6
    dead = _dead_pid()
    names = {
        "dead": f".a.foleyflow.tmp-{dead}.{host}-0123abcd.wav",
        "dead-folder": f".bundle.foleyflow.tmp-{dead}.{host}-0123abce.otiod",
        "mine": temp_path(tmp_path / "b.wav").name,
        "live": f".c.foleyflow.tmp-{os.getppid()}.{host}-0123abcf.wav",
        "other-host": f".d.foleyflow.tmp-{dead}.{other_host}-0123abd0.wav",
        "unrelated": f".e.tmp-{dead}.wav.swp",
        "final": "a.wav",
    }
    for key, name in names.items():
        if key == "dead-folder":
            (tmp_path / name).mkdir()
            (tmp_path / name / "inner.txt").write_text("x")
        else:
            (tmp_path / name).write_text(key)
    removed = remove_stale_temps(tmp_path)
    assert sorted(p.name for p in removed) == sorted([names["dead"], names["dead-folder"]])
    assert _names(tmp_path) == sorted(v for k, v in names.items() if k not in ("dead", "dead-folder"))


def test_temps_of_the_old_scheme_are_removed_for_their_name(tmp_path):
    dead = _dead_pid()
    (tmp_path / f".cut.tmp-{dead}.otio").write_text("old scheme, killed")
    (tmp_path / f".cut.tmp-{os.getppid()}.otio").write_text("old scheme, alive")
    with atomic_target(tmp_path / "cut.otio") as tmp:
        tmp.write_text("new")
    assert _names(tmp_path) == sorted(["cut.otio", f".cut.tmp-{os.getppid()}.otio"])


def test_several_files_appear_together(tmp_path):
    finals = [tmp_path / "a.wav", tmp_path / "sub" / "b.wav"]
    finals[0].write_text("old a")
    with atomic_targets(finals) as temps:
        for tmp, name in zip(temps, "ab", strict=True):
            tmp.write_text(f"new {name}")
        assert finals[0].read_text() == "old a" and not finals[1].exists()
    assert [f.read_text() for f in finals] == ["new a", "new b"]
    assert _names(tmp_path) == ["a.wav", "sub"] and _names(tmp_path / "sub") == ["b.wav"]


def test_several_files_a_failure_leaves_none(tmp_path):
    finals = [tmp_path / "a.wav", tmp_path / "b.wav"]
    finals[1].write_text("old b")
    with pytest.raises(RuntimeError), atomic_targets(finals) as temps:
        temps[0].write_text("new a")
        raise RuntimeError("cancelled after the first variation")
    assert _names(tmp_path) == ["b.wav"] and finals[1].read_text() == "old b"


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_several_files_a_rename_failing_midway_puts_back_the_previous_versions(tmp_path, monkeypatch, error):
    finals = [tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"]
    finals[0].write_text("old a")
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(Path(dst).name)
        if Path(dst) == finals[2]:
            raise error
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else OutputError
    with pytest.raises(expected) as info, atomic_targets(finals) as temps:
        for tmp in temps:
            tmp.write_text("new")
    monkeypatch.undo()
    assert calls[:3] == ["a.wav", "b.wav", "c.wav"]  # a and b were renamed in, then undone
    assert _names(tmp_path) == ["a.wav"] and finals[0].read_text() == "old a"
    assert type(info.value) is expected
    if expected is OutputError:
        assert "c.wav" in str(info.value) and "No space left" in str(info.value)


def test_the_same_path_twice_is_refused(tmp_path):
    with pytest.raises(ValueError), atomic_targets([tmp_path / "a.wav", tmp_path / "." / "a.wav"]):
        pass


def test_check_fits_counts_the_temporary_name(tmp_path):
    check_fits(tmp_path / ("x" * 200 + ".otio"))
    with pytest.raises(OutputError) as info:
        check_fits(tmp_path / ("x" * 240 + ".otio"))  # fits itself, its temporary name does not
    assert type(info.value) is OutputError and "longer than" in str(info.value)


def test_backup_copy(tmp_path):
    src = tmp_path / "cut.xml"
    src.write_text("editor's cut")
    when = datetime(2025, 1, 2, 3, 4, 5)
    first = backup_copy(src, when)
    second = backup_copy(src, when)
    assert first.name == "cut.foleyflow-backup-20250102T030405.xml" and first.read_text() == "editor's cut"
    assert second != first and second.read_text() == "editor's cut"
