"""The clip table: rows, selection by ids (click, ctrl, shift, track) and the Take column."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from foleyflow.plugin.media import FOUND, MISSING
from foleyflow.ui.clip_table import (
    COL_MEDIA,
    COL_NAME,
    COL_TAKE,
    ClipTable,
    ProgressRole,
    RowState,
    TakeState,
)
from foleyflow.ui.engine import ClipRow

CTRL, SHIFT, NONE = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.NoModifier


def row(cid: str, status=FOUND) -> ClipRow:
    return ClipRow(cid, f"clip {cid}", cid.split(":")[0], "00:00:00:00", "00:00:01:00", status, status,
                   f"/media/{cid}.mov", 0.0, 1.0)


@pytest.fixture
def table(qtbot):
    t = ClipTable()
    qtbot.addWidget(t)
    t.set_rows([row("V1:0"), row("V1:1"), row("V1:2", MISSING), row("V2:0")])
    t.resize(700, 300)
    t.show()
    return t


def test_rows_and_tooltips(table):
    m = table.clips
    assert m.rowCount() == 4 and m.columnCount() == 6
    assert m.data(m.index(2, COL_MEDIA)) == "missing"
    assert "/media/V1:2.mov" in m.data(m.index(2, COL_NAME), Qt.ItemDataRole.ToolTipRole)
    assert m.headerData(COL_TAKE, Qt.Orientation.Horizontal) == "Take"


def test_selection_like_an_editor(qtbot, table):
    seen = []
    table.selectionIds.connect(seen.append)
    table.click_id("V1:0", NONE)
    assert table.selected_ids() == ["V1:0"] and seen[-1] == ["V1:0"]
    table.click_id("V1:2", SHIFT)
    assert table.selected_ids() == ["V1:0", "V1:1", "V1:2"]
    table.click_id("V1:1", CTRL)
    assert table.selected_ids() == ["V1:0", "V1:2"]
    table.click_id("V2:0", CTRL)
    assert table.selected_ids() == ["V1:0", "V1:2", "V2:0"]
    table.click_id(None, NONE)
    assert table.selected_ids() == []
    table.select_track("V1")
    assert table.selected_ids() == ["V1:0", "V1:1", "V1:2"]
    # rows clicked in the table itself
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(table.clips.index(3, 0)).center())
    assert table.selected_ids() == ["V2:0"] and table.current_clip() == "V2:0"


def test_context_menu_selects_by_track(table):
    menu = table.context_menu(table.clips.index(3, 0))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == ["Select all on V2", "Select all on V1"]
    menu.actions()[1].trigger()
    assert table.selected_ids() == ["V1:0", "V1:1", "V1:2"]
    next(a for a in menu.actions() if a.text() == "Select clips with media").trigger()
    assert table.selected_ids() == ["V1:0", "V1:1", "V2:0"]


def test_take_column_shows_progress_then_the_take(table):
    m = table.clips
    m.set_take("V1:0", TakeState(RowState.RUNNING, 0.25, "25%"))
    assert m.data(m.index(0, COL_TAKE), ProgressRole) == 0.25
    assert not table.grab().isNull()  # the delegate paints the bar
    m.set_take("V1:0", TakeState(RowState.DONE, 1.0, "seed 3 · kept", "/w/a.wav"))
    assert m.data(m.index(0, COL_TAKE), ProgressRole) is None
    assert m.data(m.index(0, COL_TAKE)) == "seed 3 · kept"
    assert m.data(m.index(0, COL_TAKE), Qt.ItemDataRole.ToolTipRole) == "/w/a.wav"
    assert m.data(m.index(2, COL_TAKE)) == ""  # a clip without media has no take to show
    assert m.take("V1:2").state == RowState.NONE == "" and m.take("V1:0").state == "done"  # states are strings too
