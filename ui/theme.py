"""Dark and light themes: a palette, a style sheet and the colours the painted views use.

Calm, low-contrast surfaces with one accent (a muted blue) for selection and the
primary action, green for Foley, an amber playhead, red only for problems, as in
the panels of editing systems. Text keeps a contrast of at least 7:1 on its surface.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPolygonF
from PySide6.QtWidgets import QApplication, QWidget

from foleyflow.plugin.atomic import atomic_target

from . import qtcompat  # noqa: F401 (guards None's refcount on affected PySide6 builds)

THEMES = ("dark", "light")
FONT_FAMILY = "DejaVu Sans"


@dataclass(frozen=True)
class Colors:
    window: str
    surface: str  # panels, table
    surface_alt: str  # alternate rows, track lanes
    raised: str  # buttons, headers
    border: str
    text: str
    text_dim: str
    accent: str
    accent_text: str
    video: str  # video clips
    video_text: str
    audio: str  # audio clips
    foley: str  # Foley takes
    waveform: str
    generator: str
    missing: str
    error: str
    warning: str
    ok: str
    playhead: str
    ruler: str
    selection: str  # outline of selected clips
    row_selected: str  # selected table rows: calmer than the accent

    def q(self, name: str, alpha: int = 255) -> QColor:
        c = QColor(getattr(self, name))
        c.setAlpha(alpha)
        return c


DARK = Colors(
    window="#1b1d21", surface="#22252a", surface_alt="#272a30", raised="#2f333a", border="#3a3f47",
    text="#dfe2e7", text_dim="#9aa1ab", accent="#4c8dd6", accent_text="#ffffff",
    video="#36597d", video_text="#e8eef5", audio="#3d5a4a", foley="#2f6b52", waveform="#8fd3b0",
    generator="#4a4d55", missing="#7a3b3b", error="#e06c6c", warning="#d9a74a", ok="#6cc48e",
    playhead="#f0a030", ruler="#1f2125", selection="#f2f5f8", row_selected="#2e4a6b",
)
LIGHT = Colors(
    window="#eceef1", surface="#f8f9fa", surface_alt="#f0f2f4", raised="#e2e5e9", border="#c5cad1",
    text="#1c1f24", text_dim="#555c66", accent="#2f6db5", accent_text="#ffffff",
    video="#8fb1d6", video_text="#10243a", audio="#9cc3ad", foley="#7cc09f", waveform="#1d5c3f",
    generator="#c4c7cc", missing="#e3b0b0", error="#b3261e", warning="#8a5a00", ok="#1e7a45",
    playhead="#d9480f", ruler="#e4e7eb", selection="#0f3d75", row_selected="#c6d9f0",
)


def colors(name: str) -> Colors:
    return LIGHT if name == "light" else DARK


def palette(c: Colors) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, v in ((role.Window, c.window), (role.WindowText, c.text), (role.Base, c.surface),
                 (role.AlternateBase, c.surface_alt), (role.Text, c.text), (role.Button, c.raised),
                 (role.ButtonText, c.text), (role.Highlight, c.accent), (role.HighlightedText, c.accent_text),
                 (role.ToolTipBase, c.raised), (role.ToolTipText, c.text), (role.PlaceholderText, c.text_dim),
                 (role.Mid, c.border), (role.Dark, c.window), (role.Light, c.raised), (role.BrightText, c.error),
                 (role.Link, c.accent)):
        p.setColor(r, QColor(v))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(c.text_dim))
    return p


def arrow_images(c: Colors) -> dict[str, str]:
    """Small up and down arrows in the theme's dim text colour, as PNGs the style sheet can name."""
    folder = Path(tempfile.gettempdir()) / f"foleyflow-ui-{os.getuid() if hasattr(os, 'getuid') else 0}"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, points in (("up", ((1, 9), (8, 2), (15, 9))), ("down", ((1, 2), (8, 9), (15, 2)))):
        path = folder / f"{name}-{c.text_dim.lstrip('#')}.png"
        if not path.exists():
            img = QImage(16, 11, QImage.Format.Format_ARGB32)
            img.fill(Qt.GlobalColor.transparent)
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(c.text_dim))
            p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
            p.end()
            with atomic_target(path) as tmp:  # whole or absent, even with two panels starting at once
                img.save(str(tmp))  # PNG, from the suffix (which the temporary name keeps)
        out[name] = path.as_posix()
    return out


def style_sheet(c: Colors) -> str:
    arrows = arrow_images(c)
    return f"""
QWidget {{ color: {c.text}; font-family: "{FONT_FAMILY}"; font-size: 9pt; }}
FoleyPanel, QSplitter, QScrollArea > QWidget > QWidget {{ background: {c.window}; }}
QFrame#card {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 6px; }}
QLabel#cardTitle {{ color: {c.text_dim}; font-weight: bold; font-size: 8pt; letter-spacing: 1px; }}
QLabel#title {{ font-size: 11pt; font-weight: bold; }}
QLabel#subtitle, QLabel#dim {{ color: {c.text_dim}; }}
QToolBar {{ background: {c.surface}; border: none; border-bottom: 1px solid {c.border}; spacing: 4px; padding: 4px; }}
QPushButton, QToolButton {{ background: {c.raised}; border: 1px solid {c.border}; border-radius: 4px;
    padding: 4px 10px; min-height: 18px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {c.accent}; }}
QPushButton:pressed, QToolButton:pressed {{ background: {c.surface_alt}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {c.text_dim}; background: {c.surface}; }}
QPushButton:checked {{ background: {c.foley}; border-color: {c.foley}; }}
QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; border-color: {c.accent};
    font-weight: bold; padding: 5px 16px; }}
QPushButton#primary:disabled {{ background: {c.raised}; color: {c.text_dim}; border-color: {c.border}; }}
QToolButton::menu-button {{ border-left: 1px solid {c.border}; width: 14px; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: {c.surface_alt}; border: 1px solid {c.border};
    border-radius: 4px; padding: 3px 6px; min-height: 18px; selection-background-color: {c.accent}; }}
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{ border-color: {c.accent}; }}
QLineEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled, QComboBox:disabled {{ color: {c.text_dim}; }}
QComboBox::drop-down {{ border: none; width: 18px; }}
QAbstractSpinBox {{ padding-right: 18px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ subcontrol-origin: border; width: 16px;
    background: {c.raised}; border-left: 1px solid {c.border}; }}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 4px; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 4px;
    border-top: 1px solid {c.border}; }}
QAbstractSpinBox::up-button:hover, QAbstractSpinBox::down-button:hover {{ background: {c.surface_alt}; }}
QAbstractSpinBox::up-arrow {{ image: url({arrows["up"]}); width: 8px; height: 5px; }}
QAbstractSpinBox::down-arrow, QComboBox::down-arrow {{ image: url({arrows["down"]}); width: 8px; height: 5px; }}
QComboBox QAbstractItemView {{ background: {c.surface}; border: 1px solid {c.border};
    selection-background-color: {c.accent}; }}
TimelineView {{ border: 1px solid {c.border}; border-radius: 6px; background: {c.window}; }}
QTableView {{ background: {c.surface}; alternate-background-color: {c.surface_alt}; border: 1px solid {c.border};
    border-radius: 6px; gridline-color: transparent; selection-background-color: {c.row_selected};
    selection-color: {c.text}; outline: none; }}
QTableView::item {{ padding: 0 6px; }}
QHeaderView::section {{ background: {c.raised}; color: {c.text_dim}; border: none;
    border-bottom: 1px solid {c.border}; border-right: 1px solid {c.border}; padding: 4px 6px; font-weight: bold; }}
QProgressBar {{ background: {c.surface_alt}; border: 1px solid {c.border}; border-radius: 4px; text-align: center;
    min-height: 16px; }}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 3px; }}
QSplitter::handle {{ background: {c.window}; }}
QScrollBar:horizontal, QScrollBar:vertical {{ background: {c.surface}; border: none; margin: 0; }}
QScrollBar:horizontal {{ height: 10px; }}
QScrollBar:vertical {{ width: 10px; }}
QScrollBar::handle {{ background: {c.border}; border-radius: 4px; min-width: 24px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QLabel#banner {{ border-radius: 4px; padding: 6px 10px; }}
QLabel#banner[level="info"] {{ background: {c.surface}; color: {c.text_dim}; border: 1px solid {c.border}; }}
QLabel#banner[level="ok"] {{ background: {c.surface}; color: {c.ok}; border: 1px solid {c.ok}; }}
QLabel#banner[level="warning"] {{ background: {c.surface}; color: {c.warning}; border: 1px solid {c.warning}; }}
QLabel#banner[level="error"] {{ background: {c.surface}; color: {c.error}; border: 1px solid {c.error}; }}
QMenu {{ background: {c.surface}; border: 1px solid {c.border}; }}
QMenu::item {{ padding: 4px 18px; }}
QMenu::item:selected {{ background: {c.accent}; color: {c.accent_text}; }}
QToolTip {{ background: {c.raised}; color: {c.text}; border: 1px solid {c.border}; padding: 4px; }}
"""


def apply(widget: QWidget, name: str) -> Colors:
    """Theme ``widget`` and its children (a host application keeps its own look elsewhere)."""
    c = colors(name)
    widget.setPalette(palette(c))
    widget.setAutoFillBackground(True)
    widget.setStyleSheet(style_sheet(c))
    return c


def setup_application(app: QApplication) -> None:
    """Standalone only: the Fusion style (same look on every OS) and the panel's font."""
    app.setStyle("Fusion")
    font = QFont(FONT_FAMILY)
    font.setPointSize(9)
    app.setFont(font)
