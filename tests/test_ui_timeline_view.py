"""The timeline view: tracks painted to scale, clicks reported as clip ids, playhead, zoom."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from foleyflow.ui.engine import Span, TrackRow
from foleyflow.ui.timeline_view import HEADER_W, RULER_H, TimelineView

ROWS = [
    TrackRow("V1", "video", (Span(0.0, 2.0, "a", clip_id="V1:0"), Span(2.0, 5.0, "b", clip_id="V1:1"))),
    TrackRow("V2", "video", (Span(1.0, 3.0, "c", clip_id="V2:0"),)),
    TrackRow("A1", "audio", (Span(0.0, 5.0, "music"),)),
    TrackRow("Foley V1", "foley", (Span(0.0, 2.0, "Foley a", wav=None, source_clip="V1:0"),)),
]


@pytest.fixture
def view(qtbot):
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.show()
    v.set_tracks(ROWS, 5.0, lambda s: f"{s:.1f}")
    return v


def test_tracks_are_laid_out_to_scale_and_in_editing_order(view):
    assert [r.label for r in view.rows] == ["V2", "V1", "A1", "Foley V1"]
    a, b, c = view.clip_rect("V1:0"), view.clip_rect("V1:1"), view.clip_rect("V2:0")
    assert c.top() < a.top()  # higher video tracks on top
    assert b.width() / a.width() == pytest.approx(1.5, rel=0.02)  # 3 s against 2 s
    assert a.left() == pytest.approx(HEADER_W, abs=1)
    assert view.clip_rect("nope") is None


def test_clicks_report_clip_ids_with_modifiers(qtbot, view):
    with qtbot.waitSignal(view.clipClicked) as got:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                         view.clip_rect("V1:1").center().toPoint())
    assert got.args[0] == "V1:1" and got.args[1] & Qt.KeyboardModifier.ControlModifier
    with qtbot.waitSignal(view.clipClicked) as got:  # the take band under a clip belongs to it
        r = view.clip_rect("V1:0")
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(r.center().x()),
                                                                               int(r.bottom() + 8)))
    assert got.args[0] == "V1:0"
    with qtbot.waitSignal(view.clipClicked) as got:  # a Foley take selects its video clip
        foley = view.header_rect("Foley V1")
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(HEADER_W + 20,
                                                                               int(foley.center().y())))
    assert got.args[0] == "V1:0"
    with qtbot.waitSignal(view.clipClicked) as got:  # empty lane: nothing
        r = view.header_rect("V2")
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(view.width() - 40, int(r.top() + 10)))
    assert got.args[0] is None


def test_track_headers_and_menu_select_a_track(qtbot, view):
    with qtbot.waitSignal(view.trackSelectRequested) as got:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.header_rect("V2").center().toPoint())
    assert got.args == ["V2"]
    menu = view.context_menu(view.clip_rect("V1:0").center())
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == ["Select all on V1", "Select all on V2"] and "Zoom to fit" in texts
    with qtbot.waitSignal(view.trackSelectRequested) as got:
        menu.actions()[0].trigger()
    assert got.args == ["V1"]


def test_playhead_from_the_ruler_and_zoom(qtbot, view):
    x = view.clip_rect("V1:1").left()
    with qtbot.waitSignal(view.playheadMoved) as got:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(x), RULER_H // 2))
    assert got.args[0] == pytest.approx(2.0, abs=0.05) and view.playhead == got.args[0]
    fit = view.pixels_per_second()
    anchor = view.clip_rect("V1:1").left()
    view.set_zoom(fit * 2, anchor)
    assert view.pixels_per_second() == pytest.approx(fit * 2)
    assert view.clip_rect("V1:1").left() == pytest.approx(anchor, abs=2)  # zoom keeps the pointer's time
    assert view.horizontalScrollBar().maximum() > 0
    view.set_zoom(0)
    assert view.pixels_per_second() == pytest.approx(fit)


def test_paints_selection_progress_takes_and_the_empty_state(qtbot, view):
    view.set_selection(["V1:0"])
    view.set_status({"V1:1": "missing"})
    view.set_progress("V2:0", 0.5)
    view.set_take("V1:0", np.tile(np.array([[-0.5, 0.5]], np.float32), (400, 1)))
    view.peaks_for = lambda path: None
    assert not view.grab().isNull()
    img = view.grab().toImage()
    r = view.clip_rect("V1:0")
    band = img.pixelColor(QPointF(r.center().x(), r.bottom() + 12).toPoint())
    assert band != img.pixelColor(QPointF(r.center().x(), r.bottom() + 40).toPoint())
    view.clear()
    assert view.rows == [] and not view.grab().isNull()
