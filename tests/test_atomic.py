from datetime import datetime

import pytest

from foleyflow.plugin.atomic import atomic_target, backup_copy, temp_path
from foleyflow.plugin.errors import OutputError


def test_temp_path_is_beside_and_keeps_suffix(tmp_path):
    tmp = temp_path(tmp_path / "cut.otio")
    assert tmp.parent == tmp_path and tmp.suffix == ".otio" and tmp.name.startswith(".")


def test_replaces_only_when_done(tmp_path):
    final = tmp_path / "cut.otio"
    final.write_text("old")
    with atomic_target(final) as tmp:
        tmp.write_text("new")
        assert final.read_text() == "old"
    assert final.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["cut.otio"]


def test_failure_keeps_the_old_file(tmp_path):
    final = tmp_path / "cut.otio"
    final.write_text("old")
    with pytest.raises(ValueError), atomic_target(final) as tmp:
        tmp.write_text("half")
        raise ValueError("writer died")
    assert final.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["cut.otio"]


def test_writer_that_writes_nothing(tmp_path):
    with pytest.raises(OutputError), atomic_target(tmp_path / "x.otio"):
        pass


def test_folder_is_swapped(tmp_path):
    final = tmp_path / "bundle.otiod"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with atomic_target(final) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in final.iterdir()] == ["new.txt"] and len(list(tmp_path.iterdir())) == 1


def test_backup_copy(tmp_path):
    src = tmp_path / "cut.xml"
    src.write_text("editor's cut")
    when = datetime(2025, 1, 2, 3, 4, 5)
    first = backup_copy(src, when)
    second = backup_copy(src, when)
    assert first.name == "cut.foleyflow-backup-20250102T030405.xml" and first.read_text() == "editor's cut"
    assert second != first and second.read_text() == "editor's cut"
