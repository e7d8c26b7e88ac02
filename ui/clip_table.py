"""The clip table: name, track, record in/out, media status and the take of every video clip.

Rows come from :class:`foleyflow.ui.engine.ClipRow` (timeline order); the "Take"
column shows a progress bar while its clip is generated. Selection is by rows
(click, shift-click, ctrl-click, "select all on track" in the context menu) and is
reported as clip ids, so that the timeline view can mirror it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from foleyflow.plugin.media import MediaStatus
from foleyflow.plugin.strenum import StrEnum

from . import (
    qtcompat,  # noqa: F401 (guards None's refcount on affected PySide6 builds)
    theme,
)
from .engine import ClipRow

COLUMNS = ("Clip", "Track", "Rec In", "Rec Out", "Media", "Take")
COL_NAME, COL_TRACK, COL_IN, COL_OUT, COL_MEDIA, COL_TAKE = range(6)
ProgressRole = Qt.ItemDataRole.UserRole + 1  # float 0..1 while generating, else None
IdRole = Qt.ItemDataRole.UserRole + 2


class RowState(StrEnum):
    """Where a clip's row stands in the Take column."""

    NONE = ""  # nothing generated yet
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # selected, but it cannot be generated (no media, a generator, disabled)


@dataclass
class TakeState:
    """What the Take column shows for one clip."""

    state: RowState = RowState.NONE
    fraction: float = 0.0
    text: str = ""
    detail: str = ""  # tooltip


class ClipTableModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ClipRow] = []
        self.takes: dict[str, TakeState] = {}
        self.colors = theme.DARK

    # -- contents -------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[ClipRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.takes = {}
        self.endResetModel()

    def set_take(self, clip_id: str, state: TakeState) -> None:
        self.takes[clip_id] = state
        r = self.row_of(clip_id)
        if r is not None:
            idx = self.index(r, COL_TAKE)
            self.dataChanged.emit(idx, idx)

    def take(self, clip_id: str) -> TakeState:
        return self.takes.get(clip_id, TakeState())

    def row_of(self, clip_id: str) -> int | None:
        for i, r in enumerate(self.rows):
            if r.id == clip_id:
                return i
        return None

    # -- QAbstractTableModel --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        take = self.take(row.id)
        if role == IdRole:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return row.name
            if col == COL_TRACK:
                return row.track
            if col == COL_IN:
                return row.rec_in
            if col == COL_OUT:
                return row.rec_out
            if col == COL_MEDIA:
                return row.status_text
            if col == COL_TAKE:
                return take.text or ("—" if row.runnable else "")
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_MEDIA or col == COL_NAME:
                return f"{row.id} {row.name}\n{row.detail}"
            if col == COL_TAKE:
                return take.detail or take.text or None
        if role == ProgressRole and col == COL_TAKE and take.state == RowState.RUNNING:
            return take.fraction
        if role == Qt.ItemDataRole.ForegroundRole:
            c = self.colors
            if col == COL_MEDIA:
                return QColor({MediaStatus.FOUND: c.ok, MediaStatus.MISSING: c.error}.get(row.status, c.text_dim))
            if col == COL_TAKE:
                return QColor({RowState.FAILED: c.error, RowState.DONE: c.ok, RowState.SKIPPED: c.warning,
                               RowState.CANCELLED: c.warning}.get(take.state, c.text_dim))
            if col in (COL_IN, COL_OUT, COL_TRACK):
                return QColor(c.text_dim)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_TRACK, COL_IN, COL_OUT):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class ProgressDelegate(QStyledItemDelegate):
    """Paints a slim progress bar in cells that carry a ProgressRole value."""

    def __init__(self, model: ClipTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        fraction = index.data(ProgressRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        c = self.model.colors
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the cell's background (selection, alternate rows) without its text
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        r: QRect = option.rect.adjusted(6, 6, -6, -6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(c.q("surface_alt"))
        painter.drawRoundedRect(r, 3, 3)
        done = QRect(r)
        done.setWidth(max(0, int(r.width() * min(max(float(fraction), 0.0), 1.0))))
        painter.setBrush(c.q("accent"))
        painter.drawRoundedRect(done, 3, 3)
        painter.setPen(c.q("text"))
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{float(fraction) * 100:.0f}%")
        painter.restore()


class ClipTable(QTableView):
    """The table view; ``selectionIds`` reports the selected clip ids in timeline order."""

    selectionIds = Signal(list)
    currentId = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clips = ClipTableModel(self)
        self.setModel(self.clips)
        self.setItemDelegateForColumn(COL_TAKE, ProgressDelegate(self.clips, self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(26)
        h = self.horizontalHeader()
        h.setHighlightSections(False)
        h.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_TRACK, 56), (COL_IN, 96), (COL_OUT, 96), (COL_MEDIA, 130), (COL_TAKE, 170)):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            h.resizeSection(col, width)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.selectionModel().selectionChanged.connect(self._selection_changed)
        self.selectionModel().currentRowChanged.connect(self._current_changed)

    def set_colors(self, c: theme.Colors) -> None:
        self.clips.colors = c
        self.viewport().update()

    def set_rows(self, rows: Sequence[ClipRow]) -> None:
        self.clips.set_rows(rows)

    # -- selection by ids ----------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self.clips.rows[r].id for r in rows]

    def current_clip(self) -> str | None:
        idx = self.currentIndex()
        return self.clips.rows[idx.row()].id if idx.isValid() and idx.row() < len(self.clips.rows) else None

    def select_ids(self, ids: Iterable[str], current: str | None = None) -> None:
        """Select exactly ``ids`` (one selectionChanged); ``current`` becomes the current row."""
        sel = QItemSelection()
        last = self.clips.columnCount() - 1
        for cid in ids:
            r = self.clips.row_of(cid)
            if r is not None:
                sel.select(self.clips.index(r, 0), self.clips.index(r, last))
        sm = self.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        sm.select(sel, flags)
        if current is not None and (r := self.clips.row_of(current)) is not None:
            sm.setCurrentIndex(self.clips.index(r, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scrollTo(self.clips.index(r, 0))

    def click_id(self, clip_id: str | None, modifiers: Qt.KeyboardModifier) -> None:
        """What a click on a clip elsewhere (the timeline view) does: select, ctrl toggles, shift extends."""
        if clip_id is None:
            if not modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
                self.select_ids([])
            return
        ids = self.selected_ids()
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            anchor = self.current_clip() or clip_id
            a, b = sorted((self.clips.row_of(anchor) or 0, self.clips.row_of(clip_id) or 0))
            span = [self.clips.rows[r].id for r in range(a, b + 1)]
            keep = ids if modifiers & Qt.KeyboardModifier.ControlModifier else []
            self.select_ids(list(dict.fromkeys([*keep, *span])))
            sm = self.selectionModel()
            sm.setCurrentIndex(self.clips.index(self.clips.row_of(anchor) or 0, 0),
                               QItemSelectionModel.SelectionFlag.NoUpdate)
            return
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            new = [i for i in ids if i != clip_id] if clip_id in ids else [*ids, clip_id]
            self.select_ids(new, current=clip_id)
            return
        self.select_ids([clip_id], current=clip_id)

    def select_track(self, label: str) -> None:
        self.select_ids([r.id for r in self.clips.rows if r.track == label])

    def _selection_changed(self, *_args: object) -> None:
        self.selectionIds.emit(self.selected_ids())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.currentId.emit(self.clips.rows[current.row()].id)

    def _menu(self, pos: QPoint) -> None:
        menu = self.context_menu(self.indexAt(pos))
        menu.exec(self.viewport().mapToGlobal(pos))

    def context_menu(self, index: QModelIndex) -> QMenu:
        menu = QMenu(self)
        tracks = list(dict.fromkeys(r.track for r in self.clips.rows))
        if index.isValid():
            track = self.clips.rows[index.row()].track
            tracks = [track] + [t for t in tracks if t != track]
        for t in tracks:
            act = QAction(f"Select all on {t}", menu)
            act.triggered.connect(lambda _=False, t=t: self.select_track(t))
            menu.addAction(act)
        menu.addSeparator()
        everything = QAction("Select all clips", menu)
        everything.triggered.connect(self.selectAll)
        menu.addAction(everything)
        with_media = QAction("Select clips with media", menu)
        with_media.triggered.connect(lambda: self.select_ids([r.id for r in self.clips.rows if r.runnable]))
        menu.addAction(with_media)
        return menu
