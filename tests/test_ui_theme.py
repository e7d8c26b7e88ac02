"""Themes: readable contrast in dark and light, applied to a widget without touching the application."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from foleyflow.ui import theme


def contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        q = QColor(c)
        ch = [x / 255 for x in (q.red(), q.green(), q.blue())]
        lin = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("name", theme.THEMES)
def test_text_is_readable(name):
    c = theme.colors(name)
    for surface in (c.window, c.surface, c.surface_alt, c.raised):
        assert contrast(c.text, surface) >= 7, surface
        assert contrast(c.text_dim, surface) >= 4.5, surface
    assert contrast(c.video_text, c.video) >= 4.5
    assert contrast(c.text, c.row_selected) >= 4.5
    assert contrast(c.accent_text, c.accent) >= 3
    for status in (c.error, c.warning, c.ok):
        assert contrast(status, c.surface) >= 4.5


def test_apply_themes_one_widget(qtbot):
    before = QApplication.instance().styleSheet()
    w = QLabel("x")
    qtbot.addWidget(w)
    c = theme.apply(w, "light")
    assert c is theme.LIGHT and w.palette().color(QPalette.ColorRole.Window) == QColor(theme.LIGHT.window)
    assert QApplication.instance().styleSheet() == before
    assert theme.colors("anything") is theme.DARK


def test_arrow_images_exist(qtbot):
    arrows = theme.arrow_images(theme.DARK)
    assert all(Path(p).is_file() for p in arrows.values())
    assert arrows["up"] in theme.style_sheet(theme.DARK)
