"""Waveforms: painting per-column peaks, and a widget that shows one take with a playhead.

The peaks come from :mod:`foleyflow.ui.engine` (read from the WAV once, in the
worker thread); this module only paints what ``engine.peaks_span`` gives it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from . import (
    engine,
    qtcompat,  # noqa: F401 (guards None's refcount on affected PySide6 builds)
    theme,
)


def paint_peaks(painter: QPainter, rect: QRectF, peaks: np.ndarray, color: QColor,
                lo: float = 0.0, hi: float = 1.0) -> None:
    """Fill the part [lo, hi) of ``peaks`` into ``rect``: one column per pixel, centred, min to max.

    Drawn normalised (the loudest peak near the edges, at most 24 dB up), as editors show quiet takes.
    """
    columns = max(1, int(rect.width()))
    cols = engine.peaks_span(peaks, columns, lo, hi)
    if len(cols) == 0:
        return
    mid, half = rect.center().y(), (rect.height() / 2 - 1) * engine.display_gain(peaks)
    xs = rect.left() + np.arange(columns) + 0.5
    limit = rect.height() / 2 - 1
    top = mid - np.clip(cols[:, 1] * half, -limit, limit)
    bottom = mid - np.clip(cols[:, 0] * half, -limit, limit)
    bottom = np.maximum(bottom, top + 1)  # silence still shows a hairline
    # plain Python floats: numpy scalars handed to QPointF by the thousand upset PySide's refcounts
    outline = [QPointF(x, y) for x, y in zip(xs.tolist(), top.tolist(), strict=True)]
    outline += [QPointF(x, y) for x, y in zip(xs[::-1].tolist(), bottom[::-1].tolist(), strict=True)]
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(QPolygonF(outline))
    painter.restore()


class WaveformWidget(QWidget):
    """One take's waveform, a playhead, and a click to seek (``seekRequested`` with a 0..1 fraction)."""

    seekRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._peaks: np.ndarray | None = None
        self._position: float | None = None  # 0..1
        self._colors = theme.DARK
        self._placeholder = "No take yet"
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(320, 72)

    def set_colors(self, c: theme.Colors) -> None:
        self._colors = c
        self.update()

    def set_peaks(self, peaks: np.ndarray | None, placeholder: str = "No take yet") -> None:
        self._peaks = peaks
        self._placeholder = placeholder
        self._position = None
        self.update()

    def has_waveform(self) -> bool:
        return self._peaks is not None and len(self._peaks) > 0

    def set_position(self, fraction: float | None) -> None:
        self._position = fraction
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        c = self._colors
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(c.q("border"), 1))
        p.setBrush(c.q("surface_alt"))
        p.drawRoundedRect(r, 4, 4)
        inner = r.adjusted(6, 6, -6, -6)
        p.setPen(QPen(c.q("border"), 1, Qt.PenStyle.DotLine))
        p.drawLine(QPointF(inner.left(), inner.center().y()), QPointF(inner.right(), inner.center().y()))
        peaks = self._peaks if self.has_waveform() else None
        if peaks is not None:
            paint_peaks(p, inner, peaks, c.q("waveform"))
        else:
            p.setPen(c.q("text_dim"))
            p.drawText(inner, Qt.AlignmentFlag.AlignCenter, self._placeholder)
        if self._position is not None:
            x = inner.left() + min(max(self._position, 0.0), 1.0) * inner.width()
            p.setPen(QPen(c.q("playhead"), 2))
            p.drawLine(QPointF(x, r.top() + 2), QPointF(x, r.bottom() - 2))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.has_waveform() and event.button() == Qt.MouseButton.LeftButton:
            inner = QRectF(self.rect()).adjusted(6, 6, -6, -6)
            self.seekRequested.emit(min(max((event.position().x() - inner.left()) / max(inner.width(), 1), 0), 1))
        super().mousePressEvent(event)
