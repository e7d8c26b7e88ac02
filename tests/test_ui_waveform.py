"""Waveform painting and the take's waveform widget."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from foleyflow.ui.waveform import WaveformWidget, paint_peaks


def test_paint_peaks_fills_only_where_there_is_sound():
    img = QImage(200, 40, QImage.Format.Format_ARGB32)
    img.fill(QColor("black"))
    peaks = np.zeros((100, 2), np.float32)
    peaks[50:, 0], peaks[50:, 1] = -0.4, 0.4  # sound in the second half only
    p = QPainter(img)
    paint_peaks(p, QRectF(0, 0, 200, 40), peaks, QColor("white"))
    p.end()
    assert img.pixelColor(150, 4).lightness() > 200  # loud: drawn near the top (normalised)
    assert img.pixelColor(50, 4).lightness() < 50  # silent: only a hairline at the centre


def test_widget_shows_a_take_and_seeks(qtbot):
    w = WaveformWidget()
    qtbot.addWidget(w)
    w.resize(300, 80)
    w.show()
    assert not w.has_waveform()
    w.set_peaks(np.tile(np.array([[-0.2, 0.3]], np.float32), (500, 1)))
    assert w.has_waveform()
    w.set_position(0.5)
    assert not w.grab().isNull()
    with qtbot.waitSignal(w.seekRequested) as got:
        qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(150, 40))
    assert 0.45 < got.args[0] < 0.55
