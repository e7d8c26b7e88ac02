"""The timeline view: tracks and clips painted to scale, takes' waveforms under their clips, a playhead.

Layout, as in an editing system (higher video tracks on top, audio below)::

    |        | 00:00:00:00     00:00:05:00     00:00:10:00   <- ruler (click or drag: playhead)
    | V2     | [ clip ]                                       |
    | V1     | [ clip A      ][ clip B ]                      |  <- clip band
    |        | [~~~take A~~~~][~~take B~]                     |  <- take band: the waveform under its clip
    | A1     | [ audio ]                                      |
    | Foley V1 [~~~~~~~~~~~~~][~~~~~~~~]                      |  <- placed Foley takes
               ^ playhead

It paints what :class:`foleyflow.ui.engine.TrackRow` says (record seconds); a
click reports the clip id with the keyboard modifiers, and the panel keeps the
selection (shared with the clip table). Ctrl + wheel zooms around the pointer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QMenu, QWidget

from . import (
    qtcompat,  # noqa: F401 (guards None's refcount on affected PySide6 builds)
    theme,
)
from .engine import Span, TrackRow
from .waveform import paint_peaks

HEADER_W = 96
RULER_H = 28
VIDEO_H = 62  # clip band + take band
CLIP_H = 32
AUDIO_H = 30
FOLEY_H = 50
TICKS = (1 / 25, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
MAX_PPS = 600.0  # pixels per second at the closest zoom


@dataclass(frozen=True)
class _Lane:
    row: TrackRow
    top: float  # content y (before vertical scrolling)
    height: float


class TimelineView(QAbstractScrollArea):
    """Tracks and clips to scale; emits what a click means, owns no selection of its own."""

    clipClicked = Signal(object, object)  # clip id or None, Qt.KeyboardModifier
    trackSelectRequested = Signal(str)  # "V1": select every clip of that track
    playheadMoved = Signal(float)  # record seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setMinimumHeight(160)
        self.colors = theme.DARK
        self.rows: list[TrackRow] = []
        self.duration = 0.0
        self.timecode: Callable[[float], str] = lambda s: f"{s:.2f}"
        self.selected: set[str] = set()
        self.status: dict[str, str] = {}  # clip id -> found, missing, generator, disabled
        self.takes: dict[str, np.ndarray] = {}  # clip id -> active take's peaks
        self.progress: dict[str, float] = {}  # clip id -> fraction while generating
        self.peaks_for: Callable[[object], np.ndarray | None] = lambda path: None  # placed Foley WAVs
        self.playhead = 0.0
        self.empty_text = "No timeline open.\nUse Open…, pick a recent file from its arrow, or drop a timeline file here."
        self._pps = 0.0  # 0: fit to width
        self._lanes: list[_Lane] = []
        self._drag_playhead = False

    def sizeHint(self) -> QSize:
        return QSize(900, 260)

    # -- contents ----------------------------------------------------------------------------
    def set_colors(self, c: theme.Colors) -> None:
        self.colors = c
        self.viewport().update()

    def set_tracks(self, rows: Iterable[TrackRow], duration: float, timecode: Callable[[float], str]) -> None:
        rows = list(rows)
        video = [r for r in rows if r.kind == "video"][::-1]  # V1 nearest the audio, as editors show it
        self.rows = video + [r for r in rows if r.kind != "video"]
        self.duration = max(duration, 0.0)
        self.timecode = timecode
        self._layout()
        self.viewport().update()

    def clear(self) -> None:
        self.rows, self.duration = [], 0.0
        self.selected, self.status, self.takes, self.progress = set(), {}, {}, {}
        self.playhead = 0.0
        self._layout()
        self.viewport().update()

    def set_selection(self, ids: Iterable[str]) -> None:
        self.selected = set(ids)
        self.viewport().update()

    def set_status(self, status: dict[str, str]) -> None:
        self.status = dict(status)
        self.viewport().update()

    def set_take(self, clip_id: str, peaks: np.ndarray | None) -> None:
        if peaks is None:
            self.takes.pop(clip_id, None)
        else:
            self.takes[clip_id] = peaks
        self.viewport().update()

    def set_progress(self, clip_id: str, fraction: float | None) -> None:
        if fraction is None:
            self.progress.pop(clip_id, None)
        else:
            self.progress[clip_id] = fraction
        self.viewport().update()

    def set_playhead(self, secs: float) -> None:
        self.playhead = max(0.0, secs)
        self.viewport().update()

    # -- geometry ------------------------------------------------------------------------------
    def pixels_per_second(self) -> float:
        if self._pps > 0:
            return self._pps
        return self._fit_pps()

    def _fit_pps(self) -> float:
        width = max(self.viewport().width() - HEADER_W - 16, 50)
        return width / self.duration if self.duration > 0 else 50.0

    def set_zoom(self, pps: float, anchor_x: float | None = None) -> None:
        """Pixels per second (0 fits the timeline to the width), keeping ``anchor_x`` in place."""
        old = self.pixels_per_second()
        ax = anchor_x if anchor_x is not None else HEADER_W
        t = self._time_at(ax)
        self._pps = 0.0 if pps <= 0 else min(max(pps, self._fit_pps()), MAX_PPS)
        self._layout()
        if anchor_x is not None and old > 0:
            self.horizontalScrollBar().setValue(int(t * self.pixels_per_second() - (ax - HEADER_W)))
        self.viewport().update()

    def _layout(self) -> None:
        lanes, y = [], 0.0
        for row in self.rows:
            h = VIDEO_H if row.kind == "video" else FOLEY_H if row.kind == "foley" else AUDIO_H
            lanes.append(_Lane(row, y, h))
            y += h + 1
        self._lanes = lanes
        content_w = self.duration * self.pixels_per_second() + 16
        visible_w = self.viewport().width() - HEADER_W
        hs = self.horizontalScrollBar()
        hs.setRange(0, max(0, int(content_w - visible_w)))
        hs.setPageStep(max(1, visible_w))
        vs = self.verticalScrollBar()
        vs.setRange(0, max(0, int(y - (self.viewport().height() - RULER_H))))
        vs.setPageStep(max(1, self.viewport().height() - RULER_H))

    def _x(self, secs: float) -> float:
        return HEADER_W + secs * self.pixels_per_second() - self.horizontalScrollBar().value()

    def _time_at(self, x: float) -> float:
        return max(0.0, (x - HEADER_W + self.horizontalScrollBar().value()) / self.pixels_per_second())

    def _lane_y(self, lane: _Lane) -> float:
        return RULER_H + lane.top - self.verticalScrollBar().value()

    def _span_rect(self, lane: _Lane, span: Span) -> QRectF:
        y = self._lane_y(lane)
        h = CLIP_H if lane.row.kind == "video" else lane.height - 6
        x0, x1 = self._x(span.start), self._x(span.end)
        return QRectF(x0 + 0.5, y + 3, max(x1 - x0 - 1, 2), h)

    def _take_rect(self, lane: _Lane, span: Span) -> QRectF:
        r = self._span_rect(lane, span)
        return QRectF(r.left(), r.bottom() + 3, r.width(), lane.height - CLIP_H - 9)

    def clip_rect(self, clip_id: str) -> QRectF | None:
        """Where a video clip is painted (viewport coordinates), or None."""
        for lane in self._lanes:
            for span in lane.row.spans:
                if span.clip_id == clip_id:
                    return self._span_rect(lane, span)
        return None

    def header_rect(self, label: str) -> QRectF | None:
        for lane in self._lanes:
            if lane.row.label == label:
                return QRectF(0, self._lane_y(lane), HEADER_W, lane.height)
        return None

    def _hit(self, pos: QPointF) -> tuple[_Lane | None, Span | None]:
        for lane in self._lanes:
            y = self._lane_y(lane)
            if not (y <= pos.y() < y + lane.height):
                continue
            for span in lane.row.spans:
                r = self._span_rect(lane, span)
                full = r.united(self._take_rect(lane, span)) if lane.row.kind == "video" else r
                if full.contains(pos):
                    return lane, span
            return lane, None
        return None, None

    # -- painting ------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        c = self.colors
        p = QPainter(self.viewport())
        w, h = self.viewport().width(), self.viewport().height()
        p.fillRect(0, 0, w, h, c.q("window"))
        if not self.rows:
            p.setPen(c.q("text_dim"))
            p.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            p.end()
            return
        p.setClipRect(QRectF(0, RULER_H, w, h - RULER_H))
        for i, lane in enumerate(self._lanes):
            y = self._lane_y(lane)
            if y > h or y + lane.height < RULER_H:
                continue
            p.fillRect(QRectF(HEADER_W, y, w - HEADER_W, lane.height), c.q("surface" if i % 2 else "surface_alt"))
            p.setClipRect(QRectF(HEADER_W, RULER_H, w - HEADER_W, h - RULER_H))
            for span in lane.row.spans:
                self._paint_span(p, lane, span)
            p.setClipRect(QRectF(0, RULER_H, w, h - RULER_H))
            self._paint_header(p, lane, y)
            p.setPen(QPen(c.q("border"), 1))
            p.drawLine(QPointF(0, y + lane.height + 0.5), QPointF(w, y + lane.height + 0.5))
        p.setClipping(False)
        self._paint_ruler(p, w)
        x = self._x(self.playhead)
        if x >= HEADER_W:
            p.setPen(QPen(c.q("playhead"), 1.5))
            p.drawLine(QPointF(x, RULER_H - 8), QPointF(x, h))
            p.setBrush(c.q("playhead"))
            p.setPen(Qt.PenStyle.NoPen)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.drawPolygon([QPointF(x - 6, RULER_H - 12), QPointF(x + 6, RULER_H - 12), QPointF(x, RULER_H - 3)])
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.end()

    def _paint_header(self, p: QPainter, lane: _Lane, y: float) -> None:
        c = self.colors
        r = QRectF(0, y, HEADER_W, lane.height)
        p.fillRect(r, c.q("raised"))
        p.setPen(QPen(c.q("border"), 1))
        p.drawLine(QPointF(HEADER_W - 0.5, y), QPointF(HEADER_W - 0.5, y + lane.height))
        accent = {"video": "video", "foley": "foley", "audio": "audio"}[lane.row.kind]
        p.fillRect(QRectF(0, y, 3, lane.height), c.q(accent))
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        p.setPen(c.q("text"))
        label_rect = QRectF(10, y + 4, HEADER_W - 14, 16)
        p.drawText(label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   QFontMetrics(font).elidedText(lane.row.label, Qt.TextElideMode.ElideRight, int(label_rect.width())))
        font.setBold(False)
        p.setFont(font)
        if lane.row.kind == "video" and lane.height >= VIDEO_H:
            n = sum(1 for s in lane.row.spans if s.clip_id in self.selected)
            p.setPen(c.q("text_dim"))
            sub = f"{len(lane.row.spans)} clips" + (f" · {n} sel." if n else "")
            p.drawText(QRectF(10, y + 22, HEADER_W - 14, 14), Qt.AlignmentFlag.AlignLeft, sub)
            p.drawText(QRectF(10, y + CLIP_H + 10, HEADER_W - 14, 14), Qt.AlignmentFlag.AlignLeft, "takes")

    def _paint_span(self, p: QPainter, lane: _Lane, span: Span) -> None:
        c = self.colors
        r = self._span_rect(lane, span)
        if r.right() < HEADER_W or r.left() > self.viewport().width():
            return
        kind = lane.row.kind
        status = self.status.get(span.clip_id or "", "found")
        selected = span.clip_id in self.selected if span.clip_id else span.source_clip in self.selected
        fill = {"video": "video", "audio": "audio", "foley": "foley"}[kind]
        if kind == "video" and status == "missing":
            fill = "missing"
        elif kind == "video" and status in ("generator", "disabled"):
            fill = "generator"
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(c.q("selection"), 2) if selected else QPen(c.q("border"), 1))
        p.setBrush(c.q(fill, 255 if selected or kind != "video" else 225))
        p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if kind == "foley":  # the name on a strip at the top, the waveform under it
            peaks = self.peaks_for(span.wav) if span.wav is not None else None
            if peaks is not None:
                paint_peaks(p, r.adjusted(2, 16, -2, -2), peaks, c.q("waveform"))
        if r.width() > 24:
            p.setPen(c.q("video_text") if kind == "video" else c.q("text"))
            text_r = r.adjusted(6, 0, -4, 0)
            label = span.name if kind != "video" or status == "found" else f"{span.name}  ({status})"
            fm = QFontMetrics(p.font())
            align = Qt.AlignmentFlag.AlignLeft | (Qt.AlignmentFlag.AlignTop if kind == "foley"
                                                   else Qt.AlignmentFlag.AlignVCenter)
            p.drawText(text_r.adjusted(0, 2 if kind == "foley" else 0, 0, 0), align,
                       fm.elidedText(label, Qt.TextElideMode.ElideRight, int(text_r.width())))
        if kind == "video" and span.clip_id:
            self._paint_take_band(p, lane, span)

    def _paint_take_band(self, p: QPainter, lane: _Lane, span: Span) -> None:
        c = self.colors
        t = self._take_rect(lane, span)
        cid = span.clip_id or ""
        peaks = self.takes.get(cid)
        frac = self.progress.get(cid)
        if peaks is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(c.q("foley", 200))
            p.drawRoundedRect(t, 3, 3)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            paint_peaks(p, t.adjusted(1, 2, -1, -2), peaks, c.q("waveform"))
        elif frac is not None:
            p.setPen(QPen(c.q("accent"), 1))
            p.setBrush(c.q("accent", 40))
            p.drawRect(t)
            done = QRectF(t)
            done.setWidth(t.width() * min(max(frac, 0.0), 1.0))
            p.fillRect(done, c.q("accent", 150))
        elif cid in self.selected and self.status.get(cid, "found") == "found":
            p.setPen(QPen(c.q("text_dim"), 1, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(t.adjusted(0.5, 0.5, -0.5, -0.5))

    def _paint_ruler(self, p: QPainter, w: int) -> None:
        c = self.colors
        p.fillRect(QRectF(0, 0, w, RULER_H), c.q("ruler"))
        p.setPen(QPen(c.q("border"), 1))
        p.drawLine(QPointF(0, RULER_H - 0.5), QPointF(w, RULER_H - 0.5))
        pps = self.pixels_per_second()
        fm = QFontMetrics(p.font())
        label_w = fm.horizontalAdvance("00:00:00:00") + 16
        step = next((s for s in TICKS if s * pps >= label_w), TICKS[-1])
        minor = step / 5 if step * pps / 5 >= 8 else step
        t0, t1 = self._time_at(HEADER_W), self._time_at(w)
        k = math.floor(t0 / minor)
        p.setClipRect(QRectF(HEADER_W, 0, w - HEADER_W, RULER_H))
        while k * minor <= t1 + minor:
            t = k * minor
            x = self._x(t)
            major = abs(t / step - round(t / step)) < 1e-6
            p.setPen(QPen(c.q("text_dim" if major else "border"), 1))
            p.drawLine(QPointF(x + 0.5, RULER_H - (10 if major else 5)), QPointF(x + 0.5, RULER_H - 1))
            if major and t <= self.duration + step:
                p.setPen(c.q("text_dim"))
                p.drawText(QRectF(x + 4, 2, label_w, RULER_H - 12), Qt.AlignmentFlag.AlignLeft, self.timecode(t))
            k += 1
        p.setClipping(False)
        p.fillRect(QRectF(0, 0, HEADER_W, RULER_H), c.q("raised"))
        p.setPen(c.q("text"))
        p.drawText(QRectF(10, 0, HEADER_W - 12, RULER_H), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   self.timecode(self.playhead))

    # -- interaction ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if event.button() != Qt.MouseButton.LeftButton or not self.rows:
            return super().mousePressEvent(event)
        if pos.y() < RULER_H and pos.x() >= HEADER_W:
            self._drag_playhead = True
            self._move_playhead(pos.x())
            return
        lane, span = self._hit(pos)
        if lane is not None and pos.x() < HEADER_W:
            if lane.row.kind == "video":
                self.trackSelectRequested.emit(lane.row.label)
            return
        clip = None
        if span is not None:
            clip = span.clip_id or span.source_clip
        self.clipClicked.emit(clip, event.modifiers())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_playhead:
            self._move_playhead(event.position().x())
            return
        _lane, span = self._hit(event.position())
        self.viewport().setToolTip(self._tooltip(span) if span is not None else "")
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag_playhead = False
        super().mouseReleaseEvent(event)

    def _move_playhead(self, x: float) -> None:
        self.set_playhead(min(self._time_at(x), self.duration))
        self.playheadMoved.emit(self.playhead)

    def _tooltip(self, span: Span) -> str:
        head = f"{span.clip_id} · {span.name}" if span.clip_id else span.name
        return f"{head}\n{self.timecode(span.start)} – {self.timecode(span.end)}"

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.25 if delta.y() > 0 else 0.8
            self.set_zoom(self.pixels_per_second() * factor, event.position().x())
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or delta.x() or self.verticalScrollBar().maximum() == 0:
            hs = self.horizontalScrollBar()
            hs.setValue(hs.value() - (delta.x() or delta.y()))
            return
        super().wheelEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        menu = self.context_menu(QPointF(event.pos()))
        if menu is not None:
            menu.exec(event.globalPos())

    def context_menu(self, pos: QPointF) -> QMenu | None:
        lane, _span = self._hit(pos)
        labels = [r.label for r in self.rows if r.kind == "video"]
        if not labels:
            return None
        if lane is not None and lane.row.kind == "video":
            labels = [lane.row.label] + [x for x in labels if x != lane.row.label]
        menu = QMenu(self)
        for label in labels:
            act = QAction(f"Select all on {label}", menu)
            act.triggered.connect(lambda _=False, label=label: self.trackSelectRequested.emit(label))
            menu.addAction(act)
        menu.addSeparator()
        fit = QAction("Zoom to fit", menu)
        fit.triggered.connect(lambda: self.set_zoom(0))
        menu.addAction(fit)
        return menu
