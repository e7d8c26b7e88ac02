"""FoleyPanel: the Foley-Flow panel, a QWidget that docks into Qt hosts or runs standalone.

::

    | Open ▾  Save  Save As…   timeline name · fcp_xml · 30 fps · 7 clips      Light theme |
    |--------------------------------------------------------|---------------------------|
    | timeline view: tracks, clips, takes' waveforms under   | TAKE: waveform, variation,|
    | their clips, Foley tracks, playhead                    |   preview, keep, re-roll  |
    |--------------------------------------------------------| SETTINGS: model, provider,|
    | clip table: name, track, rec in/out, media, take        |   steps, guidance, seed,  |
    |   (a progress bar per clip while generating)            |   variations, folders     |
    |--------------------------------------------------------------------------------------|
    | [Generate 3 clips] [Cancel]  [====== overall ======] about 12 s left  [Place kept]   |
    | message: what happened, in plain words                                              |

The panel is wiring and widgets: the work is the plugin's application service
(:mod:`foleyflow.plugin.service`: the one run loop and the one save path the command
line uses) and the take state is the document's :class:`~foleyflow.plugin.takes.TakeSession`
(current take, kept, placed, re-rolled, failures, unsaved work), both reached through
:mod:`foleyflow.ui.engine`. Generation runs in a :class:`~foleyflow.ui.worker.GenerateThread`.
Hosts that destroy the panel without closing it should call :meth:`FoleyPanel.shutdown` first.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from foleyflow.plugin.events import EventKind
from foleyflow.plugin.generate import GenerateOptions
from foleyflow.plugin.media import MediaStatus
from foleyflow.plugin.prompts import AUTO, SoundChoice, SoundPlan
from foleyflow.plugin.recovery import (
    Recovery,
    RecoveryError,
    orphaned,
    pending,
    read_recovery,
    recovery_file,
    remove_recovery,
    vanished_lines,
    without_vanished,
    write_recovery,
)
from foleyflow.plugin.review import ReviewOptions, ReviewResult
from foleyflow.plugin.selection import Job
from foleyflow.plugin.takes import TakeSession
from foleyflow.runtime.errors import FoleyFlowError

from . import (
    engine,
    qtcompat,  # noqa: F401 (guards None's refcount on affected PySide6 builds)
    theme,
)
from .clip_table import ClipTable, RowState, TakeState
from .engine import Document, EngineCache, RunProgress, RunResult, RunSettings, TakeResult, take_seeds
from .preview import Player, make_player
from .settings import PanelSettings, SettingsForm, default_qsettings
from .take_view import TakeCard
from .timeline_view import TimelineView
from .worker import GenerateThread, ReviewThread

log = logging.getLogger(__name__)


def _card(title: str, body: QWidget, parent: QWidget) -> QFrame:
    frame = QFrame(parent)
    frame.setObjectName("card")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(12, 10, 12, 12)
    lay.setSpacing(8)
    head = QLabel(title.upper(), frame)
    head.setObjectName("cardTitle")
    lay.addWidget(head)
    lay.addWidget(body)
    return frame


NO_TIMELINE = ("Reads .otio, .otioz, FCP7 XML (Premiere, Resolve), FCPXML, AAF and EDL; writes the timeline "
               "with its Foley tracks as .otio, FCP7 XML, FCPXML or AAF")


def time_left_text(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    if seconds < 1:
        return "almost done"
    if seconds < 90:
        return f"about {seconds:.0f} s left"
    return f"about {seconds / 60:.0f} min left"


SAVE, DISCARD, CANCEL = "save", "discard", "cancel"  # the answers to the unsaved-work question
REVIEW_LEVELS = (("Original audio at 0 dB", 0.0), ("Original audio at -6 dB", -6.0),
                 ("Original audio at -12 dB", -12.0), ("Original audio at -20 dB", -20.0),
                 ("Original audio muted", None))


@dataclass(frozen=True)
class ReviewChoice:
    """Where to write a review and at what level the original audio plays (None: muted)."""

    path: Path
    original_db: float | None = 0.0
    foley_db: float = 0.0


def default_recovery_dir(store: QSettings) -> Path:
    """``recovery/`` beside the settings file (the user's settings folder), else the app data folder."""
    name = store.fileName()
    if name and store.format() == QSettings.Format.IniFormat:
        return Path(name).parent / "recovery"
    data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(data or Path.home() / ".foleyflow") / "recovery"


class FoleyPanel(QWidget):
    """Open a timeline, select clips, generate Foley takes, preview, keep or re-roll, place, save.

    Unsaved take work is never lost: it is written to a recovery file (:mod:`foleyflow.plugin.recovery`)
    after every change, closing or opening another timeline asks Save / Discard / Cancel
    (:attr:`confirm_unsaved`), and :meth:`check_recovery` offers the work of a panel that was killed
    (:attr:`offer_recovery`). The questions are callables so that hosts and tests can answer them.
    """

    timelineOpened = Signal(str)
    runFinished = Signal(object)  # RunResult
    saved = Signal(str)
    reviewFinished = Signal(object)  # ReviewResult, or the reason (str) nothing was written
    recovered = Signal(str)  # the timeline whose session was restored

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None,
                 engines: EngineCache | None = None, player: Player | None = None,
                 recovery_dir: str | Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FoleyPanel")
        self.setWindowTitle("Foley-Flow")
        self.setAcceptDrops(True)
        self.store = settings if settings is not None else default_qsettings()
        self.values = PanelSettings.load(self.store)
        self.sounds = SoundPlan()  # the sounds chosen per clip in the picker (auto for the others)
        self.engines = engines or EngineCache()
        self.player = player or make_player(self)
        self.doc: Document | None = None
        self.save_path: Path | None = None
        self.last_result: RunResult | None = None
        self.choose_timeline: Callable[[Sequence[str]], int | None] = self._ask_timeline
        self.confirm_unsaved: Callable[[str], str] = self._ask_unsaved  # the question -> SAVE, DISCARD or CANCEL
        self.offer_recovery: Callable[[Recovery], bool | None] = self._ask_recover  # True restore, False discard,
        # None: not now (the file stays)
        self.choose_review: Callable[[Path], ReviewChoice | None] = self._ask_review
        self.recovery_dir = Path(recovery_dir) if recovery_dir is not None else default_recovery_dir(self.store)
        self.prompts = ""  # reserved: the sound prompts field (kept in the recovery file)
        self._autosaved: Path | None = None  # this panel's recovery file
        self._autosave_text = ""
        self._discarded_text: str | None = None  # the session the editor said to discard
        self._thread: GenerateThread | None = None
        self._review: ReviewThread | None = None
        self._run_ids: list[str] = []
        self._peaks: dict[Path, np.ndarray | None] = {}  # waveforms by WAV (display only)
        self._playing: tuple[str, float] | None = None  # clip id, record start of the take playing
        self._window_filtered: QWidget | None = None
        self._build()
        self.set_theme(self.values.theme)
        self._refresh_recent()
        self._update_actions()
        self.set_message("Open a timeline to begin: Open, a recent file, or drop a timeline file here.", "info")
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # == building ===============================================================================
    def _build(self) -> None:
        # top bar
        self.open_button = QToolButton(self)
        self.open_button.setText("Open…")
        self.open_button.setToolTip("Open a timeline (Ctrl+O); the arrow lists recent files")
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.open_button.clicked.connect(self.open_dialog)
        self.recent_menu = QMenu(self)
        self.open_button.setMenu(self.recent_menu)
        self.save_button = QPushButton("Save", self)
        self.save_button.setToolTip("Write the timeline with its Foley tracks (Ctrl+S); the input is never overwritten")
        self.save_button.clicked.connect(lambda: self.save())
        self.save_as_button = QPushButton("Save As…", self)
        self.save_as_button.setToolTip("Write the timeline in another format or place (Ctrl+Shift+S)")
        self.save_as_button.clicked.connect(lambda: self.save_as())
        self.review_button = QPushButton("Export review…", self)
        self.review_button.setToolTip("Render the cut with its placed Foley takes to an .mp4 for review")
        self.review_button.clicked.connect(lambda: self.export_review())
        self.title = QLabel("No timeline", self)
        self.title.setObjectName("title")
        self.subtitle = QLabel(NO_TIMELINE, self)
        self.subtitle.setObjectName("subtitle")
        for label in (self.title, self.subtitle):  # long names are cut, never widen the panel
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.theme_button = QPushButton("", self)
        self.theme_button.setToolTip("Switch between the dark and the light theme")
        self.theme_button.clicked.connect(
            lambda: self.set_theme("light" if self.values.theme == "dark" else "dark", remember=True))
        top = QFrame(self)
        top.setObjectName("card")
        tl = QHBoxLayout(top)
        tl.setContentsMargins(10, 6, 10, 6)
        tl.setSpacing(8)
        tl.addWidget(self.open_button)
        tl.addWidget(self.save_button)
        tl.addWidget(self.save_as_button)
        tl.addWidget(self.review_button)
        tl.addSpacing(14)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        tl.addLayout(titles, 1)
        tl.addWidget(self.theme_button)

        # timeline view and clip table
        self.view = TimelineView(self)
        self.view.peaks_for = self._peaks_of
        self.view.clipClicked.connect(self._view_clicked)
        self.view.trackSelectRequested.connect(self.select_track)
        self.view.playheadMoved.connect(self._playhead_moved)
        self.table = ClipTable(self)
        self.table.selectionIds.connect(self._selection_changed)
        self.table.currentId.connect(lambda _id: self._show_current())
        self.table.doubleClicked.connect(lambda _i: self._seek_to_current())

        # side column: settings and take
        self.form = SettingsForm(self.values, self.store, self)
        self.form.changed.connect(self._update_actions)
        self.form.mediaFolderChanged.connect(lambda _f: self.reload())
        self.take_card = TakeCard(self)
        self.take_card.playRequested.connect(self.preview)
        self.take_card.stopRequested.connect(self.stop_preview)
        self.take_card.keepToggled.connect(lambda on: self.set_keep(self.take_card.clip_id, on))
        self.take_card.rerollRequested.connect(lambda: self.reroll(self.take_card.clip_id))
        self.take_card.variationChosen.connect(lambda i: self.set_variation(self.take_card.clip_id, i))
        self.take_card.seekRequested.connect(self._seek_take)
        self.take_card.sound.soundChosen.connect(lambda choice: self.set_sound(self.take_card.clip_id, choice))
        self.take_card.sound.previewRequested.connect(self.preview_reference)
        self.take_card.set_player_note("" if self.player.available else f"Preview: {self.player.reason}.")
        self.player.positionChanged.connect(self._player_position)
        self.player.playingChanged.connect(self._player_playing)
        self.player.problem.connect(lambda text: self.take_card.set_player_note(text + "."))
        side = QWidget(self)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 4, 0)
        sl.setSpacing(8)
        sl.addWidget(_card("Take", self.take_card, side))
        sl.addWidget(_card("Settings", self.form, side))
        sl.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(side)
        scroll.setMinimumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.view)
        left.addWidget(self.table)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)
        left.setSizes([420, 300])
        left.setChildrenCollapsible(False)
        main = QSplitter(Qt.Orientation.Horizontal, self)
        main.addWidget(left)
        main.addWidget(scroll)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 0)
        main.setSizes([1180, 380])
        main.setChildrenCollapsible(False)

        # action bar
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setObjectName("primary")
        self.generate_button.setToolTip("Generate Foley for the selected clips, or all clips when none is selected")
        self.generate_button.clicked.connect(lambda: self.generate())
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop after the segment being generated (Esc); nothing half-written is left")
        self.cancel_button.clicked.connect(self.cancel)
        self.overall = QProgressBar(self)
        self.overall.setRange(0, 1000)
        self.overall.setValue(0)
        self.overall.setFormat("Idle")
        self.overall.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.time_left = QLabel("", self)
        self.time_left.setObjectName("dim")
        self.time_left.setMinimumWidth(140)
        self.place_button = QPushButton("Place kept takes", self)
        self.place_button.setToolTip("Put every kept take on a Foley track, exactly under its clip")
        self.place_button.clicked.connect(lambda: self.place())
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.generate_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.overall, 1)
        bar.addWidget(self.time_left)
        bar.addWidget(self.place_button)
        self.banner = QLabel("", self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(8)
        lay.addWidget(top)
        lay.addWidget(main, 1)
        lay.addLayout(bar)
        lay.addWidget(self.banner)

        for text, keys, slot in (("Open", QKeySequence.StandardKey.Open, self.open_dialog),
                                 ("Save", QKeySequence.StandardKey.Save, lambda: self.save()),
                                 ("Save As", QKeySequence.StandardKey.SaveAs, lambda: self.save_as()),
                                 ("Cancel", QKeySequence(Qt.Key.Key_Escape), self.cancel),
                                 ("Generate", QKeySequence("Ctrl+Return"), lambda: self.generate()),
                                 ("Preview", QKeySequence(Qt.Key.Key_Space), self.toggle_preview)):
            act = QAction(text, self)
            act.setShortcut(keys)
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(slot)
            self.addAction(act)

    # == theme and messages =======================================================================
    def set_theme(self, name: str, remember: bool = False) -> None:
        name = name if name in theme.THEMES else "dark"
        self.values.theme = name
        c = theme.apply(self, name)
        self.view.set_colors(c)
        self.table.set_colors(c)
        self.take_card.set_colors(c)
        self.theme_button.setText("Light theme" if name == "dark" else "Dark theme")
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        if remember:
            self.values.save(self.store)

    def set_message(self, text: str, level: str = "info") -> None:
        """Say what happened in plain words (info, ok, warning or error) at the bottom of the panel."""
        self.banner.setText(text)
        self.banner.setProperty("level", level)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)

    def message_text(self) -> str:
        return self.banner.text()

    def message_level(self) -> str:
        return str(self.banner.property("level") or "")

    # == opening ===================================================================================
    def open_dialog(self) -> None:
        start = self.values.recent[0] if self.values.recent else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a timeline", str(Path(start).parent if start else ""),
                                              engine.open_filter())
        if path:
            self.open_timeline(path)

    def open_timeline(self, path: str | Path, pick: int | None = None) -> bool:
        """Open ``path`` (timeline ``pick`` of a file that holds several; asked for when None)."""
        if self.is_running():
            self.set_message("A run is going on: cancel it before opening another timeline.", "warning")
            return False
        path = Path(path)
        if not self.resolve_unsaved(f"open {path.name}"):
            self.set_message(f"Nothing opened: the unsaved takes of {self.doc.name if self.doc else ''} "
                             "are still here.", "info")
            return False
        rate = self.values.frame_rate() if engine.needs_rate(path) else None
        try:
            doc = engine.open_document(path, pick, rate, self.values.media_roots())
            if pick is None and len(doc.loaded.names) > 1:
                chosen = self.choose_timeline(doc.loaded.names)
                if chosen is None:
                    self.set_message(f"Nothing opened: {path.name} holds {len(doc.loaded.names)} timelines "
                                     "and none was picked.", "info")
                    return False
                if chosen != doc.loaded.index:
                    doc = engine.open_document(path, chosen, rate, self.values.media_roots())
        except FoleyFlowError as exc:
            self.set_message(f"Cannot open the timeline. {exc}", "error")
            return False
        left = recovery_file(self.recovery_dir, path, doc.loaded.index)
        if left.is_file():  # a panel that was killed left work on this timeline
            try:
                rec = read_recovery(left)
            except RecoveryError as exc:
                log.warning("%s", exc)
            else:
                answer = self.offer_recovery(rec) if orphaned(rec) else None
                if answer:
                    return self.restore(rec)
                if answer is False:
                    remove_recovery(left)
        self._set_document(doc)
        self.values.add_recent(path)
        self.values.save(self.store)
        self._refresh_recent()
        self.timelineOpened.emit(str(path))
        return True

    def reload(self) -> None:
        """Re-read the open timeline (after the media folder changed), keeping takes of the same clips."""
        if self.doc is None or self.is_running():
            return
        rate = self.values.frame_rate() if engine.needs_rate(self.doc.path) else None
        try:
            doc = engine.open_document(self.doc.path, self.doc.loaded.index, rate, self.values.media_roots(),
                                       session=self.doc.session)
        except FoleyFlowError as exc:
            self.set_message(f"Cannot re-read the timeline. {exc}", "error")
            return
        self._set_document(doc)

    def _ask_timeline(self, names: Sequence[str]) -> int | None:
        name, ok = QInputDialog.getItem(self, "Pick a timeline", "This file holds several timelines:", list(names),
                                        0, False)
        return list(names).index(name) if ok else None

    def _set_document(self, doc: Document) -> None:
        self.stop_preview()
        if self.doc is None or recovery_file(self.recovery_dir, doc.path, doc.loaded.index) != self._autosaved:
            self._autosaved, self._autosave_text, self._discarded_text = None, "", None
        self.doc = doc
        self.save_path = None
        self.table.set_rows(doc.rows)
        self.view.clear()
        self.view.set_status({r.id: r.status for r in doc.rows})
        self._refresh_tracks()
        for cid in doc.session.clip_ids():
            self._show_take_of(cid)
        n_missing = sum(1 for r in doc.rows if r.status == MediaStatus.MISSING)
        self.title.setText(doc.name)
        picked = f" · timeline {doc.loaded.index + 1} of {len(doc.loaded.names)}" if len(doc.loaded.names) > 1 else ""
        self.subtitle.setText(f"{doc.path.name} · {doc.loaded.adapter} · {doc.rate_text} · {len(doc.rows)} video "
                              f"clip{'s' if len(doc.rows) != 1 else ''}{picked}")
        if not doc.rows:
            self.set_message(f"{doc.path.name} holds no video clip: there is nothing to generate Foley for.", "warning")
        elif n_missing:
            self.set_message(f"Opened {doc.path.name}: {len(doc.rows)} clips, {n_missing} with media missing "
                             "(hover a clip to see where it was looked for; set a Media folder to relink).", "warning")
        else:
            self.set_message(f"Opened {doc.path.name}: {len(doc.rows)} clips. Select clips, then Generate.", "info")
        self._show_current()
        self._update_actions()

    def _refresh_tracks(self) -> None:
        if self.doc is not None:
            self.view.set_tracks(self.doc.tracks(), self.doc.duration, self.doc.timecode)

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.values.recent:
            act = self.recent_menu.addAction(Path(p).name)
            act.setToolTip(p)
            act.setEnabled(Path(p).exists())
            act.triggered.connect(lambda _=False, p=p: self.open_timeline(p))
        if not self.values.recent:
            self.recent_menu.addAction("No recent timelines").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = self._dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_timeline(path)

    @staticmethod
    def _dropped_path(mime: object) -> Path | None:
        urls = mime.urls() if hasattr(mime, "hasUrls") and mime.hasUrls() else []  # type: ignore[attr-defined]
        for url in urls:
            if url.isLocalFile() and engine.is_timeline_file(url.toLocalFile()):
                return Path(url.toLocalFile())
        return None

    # == selection ===================================================================================
    def select_clips(self, ids: Sequence[str]) -> None:
        self.table.select_ids(ids, current=ids[0] if ids else None)

    def select_track(self, label: str) -> None:
        ids = self.doc.clip_ids_on_track(label) if self.doc else []
        self.table.select_ids(ids, current=ids[0] if ids else None)

    def selected_ids(self) -> list[str]:
        return self.table.selected_ids()

    def _view_clicked(self, clip_id: str | None, modifiers: Qt.KeyboardModifier) -> None:
        self.table.click_id(clip_id, modifiers)

    def _selection_changed(self, ids: list[str]) -> None:
        self.view.set_selection(ids)
        self._update_actions()
        self._show_current()

    def _playhead_moved(self, secs: float) -> None:
        if self._playing is not None:
            self.stop_preview()

    def _seek_to_current(self) -> None:
        cid = self.table.current_clip()
        if cid and self.doc:
            self.view.set_playhead(self.doc.rows[self._row(cid)].start)

    # == generating ================================================================================
    def is_running(self) -> bool:
        """Whether a run or a review render is going on (the panel is busy)."""
        return self._thread is not None or self._review is not None

    def generate(self, ids: Sequence[str] | None = None) -> bool:
        """Generate takes for ``ids`` (default: the selection, or every clip when none is selected)."""
        if self.doc is None:
            self.set_message("Open a timeline first.", "warning")
            return False
        if self.is_running():
            return False
        ids = list(ids) if ids is not None else (self.selected_ids() or [r.id for r in self.doc.rows])
        return self._start([self.doc.job(i) for i in ids], self._options_for(ids))

    def reroll(self, clip_id: str | None = None) -> bool:
        """Generate ``clip_id`` again with a new seed; its take is replaced when the new one is ready."""
        cid = clip_id or self.table.current_clip()
        if self.doc is None or cid is None or self.is_running():
            return False
        seed = engine.new_seed()
        return self._start([self.doc.job(cid)], replace(self._options_for([cid]), seed=seed))

    # == sound prompts ================================================================================
    def sound_of(self, clip_id: str) -> SoundChoice:
        """What ``clip_id`` should sound like: the choice made here, else what its take was made with
        (so a re-roll keeps the take's prompt), else auto."""
        for cid, choice in self.sounds.per_clip:
            if cid == clip_id:
                return choice
        take = self.doc.session.take(clip_id) if self.doc is not None else None
        return SoundChoice.from_metadata(take.metadata.get("sound")) if take is not None else AUTO

    def set_sound(self, clip_id: str | None, choice: SoundChoice) -> None:
        """Choose the sound of ``clip_id`` (the picker's choice), for its next generate or re-roll."""
        if clip_id:
            self.sounds = self.sounds.with_clip(clip_id, choice)

    def _options_for(self, ids: Sequence[str]) -> GenerateOptions:
        plan = SoundPlan(AUTO, tuple((cid, self.sound_of(cid)) for cid in ids if self.sound_of(cid).mode != "auto"))
        return replace(self.values.options(), sounds=plan)

    def vocabulary(self) -> tuple[str, ...]:
        """The categories the settings' model takes as prompts (none: auto only)."""
        return engine.model_vocabulary(self.values.package)

    def preview_reference(self, path: str) -> None:
        self.stop_preview()
        if Path(path).is_file():
            self.player.play(Path(path))
        else:
            self.set_message(f"The reference {path} cannot be found.", "error")

    def _start(self, jobs: list[Job], options: GenerateOptions) -> bool:
        if self.doc is None:
            return False
        folder = self.values.output_folder
        if folder and not Path(folder).is_dir():
            self.set_message(f"The output folder {folder} does not exist: choose another in Settings.", "error")
            return False
        settings = RunSettings(self.values.package, self.values.provider, options, self.doc.wav_dir(folder or None))
        self._run_ids = [j.info.id for j in jobs]
        for j in jobs:
            if j.runnable:
                self.table.clips.set_take(j.info.id, TakeState(RowState.QUEUED, 0.0, "Queued"))
            else:
                self.table.clips.set_take(j.info.id, TakeState(RowState.SKIPPED, 0.0, "Skipped",
                                                               self.doc.rows[self._row(j.info.id)].detail))
        thread = GenerateThread(self.engines, settings, jobs, self)
        thread.progressed.connect(self._on_progress)
        thread.completed.connect(self._on_completed)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self.overall.setValue(0)
        self.overall.setFormat("Starting…")
        self.time_left.setText("")
        n = sum(1 for j in jobs if j.runnable)
        self.set_message(f"Generating {n} clip{'s' if n != 1 else ''}…", "info")
        self._update_actions()
        thread.start()
        return True

    def cancel(self) -> None:
        """Ask the run to stop: it ends within one segment and leaves no half-written file."""
        if self._thread is not None and not self._thread.cancel_requested:
            self._thread.cancel()
            self.overall.setFormat("Cancelling…")
            self.set_message("Cancelling after the segment being generated…", "info")
            self._update_actions()

    def _row(self, clip_id: str) -> int:
        r = self.table.clips.row_of(clip_id)
        return r if r is not None else 0

    def _on_progress(self, p: RunProgress) -> None:
        if p.kind == EventKind.LOADING:
            self.overall.setRange(0, 0)  # busy while the model loads
            self.overall.setFormat("Loading the model…")
            return
        self.overall.setRange(0, 1000)
        self.overall.setValue(int(round(p.overall * 1000)))
        if self._thread is not None and self._thread.cancel_requested:
            self.overall.setFormat("Cancelling…")
        else:
            self.overall.setFormat(f"Clip {p.index + 1} of {p.total} · {p.overall * 100:.0f}%")
        self.time_left.setText(time_left_text(p.seconds_left))
        if p.kind in (EventKind.CLIP_START, EventKind.SEGMENTS):
            self.table.clips.set_take(p.clip_id, TakeState(RowState.RUNNING, p.clip_fraction,
                                                           f"{p.clip_fraction:.0%}"))
            self.view.set_progress(p.clip_id, p.clip_fraction)
        elif p.kind == EventKind.CLIP_FAILED:
            self.table.clips.set_take(p.clip_id, TakeState(RowState.FAILED, 1.0, "Failed", p.message))
            self.view.set_progress(p.clip_id, None)
        elif p.kind == EventKind.CLIP_DONE and p.take is not None:
            self._add_take(p.take)
            if p.clip_id == self.take_card.clip_id:
                self._show_current()

    def _add_take(self, res: TakeResult) -> None:
        """A new take: the session makes it its clip's current one (re-roll: the old one's files go unless
        placed or referenced); its waveforms are kept for drawing."""
        if self.doc is None or self.doc.session.take(res.take.source_clip_id) == res.take:
            return
        for wav, peaks in zip(res.take.media, res.peaks, strict=True):
            self._peaks[Path(wav)] = peaks
        for gone in self.doc.session.add(res.take):
            self._peaks.pop(Path(gone), None)
        self._show_take_of(res.take.source_clip_id)
        self._update_actions()

    def _on_completed(self, result: RunResult) -> None:
        self.last_result = result
        for res in result.takes.values():
            self._add_take(res)
        for cid, why in result.failed.items():
            if self.doc is not None:
                self.doc.session.fail(cid, why)
            self.view.set_progress(cid, None)
        for cid in self._run_ids:
            state = self.table.clips.take(cid).state
            if state in (RowState.QUEUED, RowState.RUNNING):
                self.view.set_progress(cid, None)
                if self.doc is not None and self.doc.session.take(cid) is not None:
                    self._mark_done(cid)
                else:
                    self.table.clips.set_take(cid, TakeState(RowState.CANCELLED if result.cancelled else RowState.NONE,
                                                             0.0, "Cancelled" if result.cancelled else ""))
        self.overall.setRange(0, 1000)
        self._report(result)
        self._show_current()
        self.runFinished.emit(result)

    def _report(self, result: RunResult) -> None:
        skipped = result.skipped
        made = len(result.takes)
        if result.error:
            self.overall.setValue(0)
            self.overall.setFormat("Not started")
            self.time_left.setText("")
            extra = ("\n" + "\n".join(skipped[:4])) if skipped else ""
            self.set_message(f"Nothing was generated: {result.error}{extra}", "error")
            return
        if result.cancelled:
            self.overall.setFormat(f"Cancelled · {made} take{'s' if made != 1 else ''} kept")
            self.time_left.setText("")
            self.set_message(f"Cancelled. {made} finished take{'s' if made != 1 else ''} kept, nothing placed; "
                             "the clip in progress left no file.", "warning")
            return
        self.overall.setValue(1000)
        self.overall.setFormat(f"Done · {made} take{'s' if made != 1 else ''}")
        self.time_left.setText("")
        problems = [f"{cid}: {why}" for cid, why in result.failed.items()] + skipped
        if problems:
            head = f"{made} take{'s' if made != 1 else ''} generated; {len(problems)} clip(s) could not be: "
            shown = "\n".join(problems[:5]) + (f"\n… and {len(problems) - 5} more" if len(problems) > 5 else "")
            self.set_message(head + "\n" + shown, "warning" if made else "error")
        else:
            self.set_message(f"{made} take{'s' if made != 1 else ''} generated with {result.model}. Preview, keep "
                             "or re-roll, then Place kept takes.", "ok")

    def _on_thread_finished(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.deleteLater()
        self._update_actions()

    def _mark_done(self, cid: str) -> None:
        if self.doc is None:
            return
        take, state = self.doc.session.take(cid), self.doc.session.state(cid)
        if take is None or state is None:
            return
        seeds = take_seeds(take)
        text = f"seed {seeds[take.active]}" + (f" · {take.active + 1}/{len(seeds)}" if len(seeds) > 1 else "")
        text += f" · {state}"
        self.table.clips.set_take(cid, TakeState(RowState.DONE, 1.0, text, str(take.media[take.active])))

    def _show_take_of(self, cid: str) -> None:
        """The clip's take as the view and the table show it (its active waveform, its keep state)."""
        res = self.take_result(cid)
        self.view.set_progress(cid, None)
        if res is not None:
            self.view.set_take(cid, res.active_peaks)
        self._mark_done(cid)

    # == takes =======================================================================================
    @property
    def session(self) -> TakeSession | None:
        """The open timeline's takes (None without a timeline)."""
        return self.doc.session if self.doc is not None else None

    @property
    def dirty(self) -> bool:
        """Whether there is take work (made, kept, placed) not yet saved."""
        return self.doc is not None and self.doc.session.dirty

    def take_result(self, clip_id: str | None) -> TakeResult | None:
        """The clip's current take with its waveforms, for the widgets (None without one)."""
        take = self.doc.session.take(clip_id) if self.doc is not None and clip_id else None
        if take is None or self.doc is None:
            return None
        peaks = tuple(self._peaks_of(p) for p in take.media)
        shown = tuple(pk if pk is not None else np.zeros((0, 2), np.float32) for pk in peaks)
        return TakeResult(take, shown, self.doc.session.is_kept(take.source_clip_id))

    def current_result(self) -> TakeResult | None:
        return self.take_result(self.table.current_clip())

    def set_keep(self, clip_id: str | None, keep: bool) -> None:
        if self.doc is not None and clip_id and self.doc.session.set_kept(clip_id, keep):
            self._mark_done(clip_id)
            self._update_actions()

    def set_variation(self, clip_id: str | None, index: int) -> None:
        take = self.doc.session.take(clip_id) if self.doc is not None and clip_id else None
        if self.doc is None or clip_id is None or take is None or not 0 <= index < len(take.media):
            return
        self.stop_preview()
        self.doc.session.set_active(clip_id, index)
        self._show_take_of(clip_id)
        self._show_current()
        self.autosave()

    def _show_current(self) -> None:
        cid = self.table.current_clip()
        if cid is None and self.selected_ids():
            cid = self.selected_ids()[0]
        if self.doc is None or cid is None:
            self.take_card.show_take(None, "", None)
            return
        row = self.doc.rows[self._row(cid)]
        result = self.take_result(cid)
        failure = self.doc.session.failure(cid)
        note = ""
        if failure is not None:
            note = f"Failed: {failure}"
        elif row.status != MediaStatus.FOUND:
            note = row.detail if row.status == MediaStatus.MISSING else row.status_text
        elif result is None:
            note = "No take yet: Generate to make one."
        self.take_card.show_take(cid, f"{cid} · {row.name}", result, note,
                                 can_reroll=row.runnable and not self.is_running())
        self.take_card.sound.set_vocabulary(self.vocabulary())
        self.take_card.sound.set_choice(self.sound_of(cid))

    # == preview =======================================================================================
    def preview(self) -> None:
        res = self.current_result()
        cid = self.table.current_clip()
        if res is None or cid is None or self.doc is None:
            return
        start = next((r.start for r in self.doc.rows if r.id == cid), 0.0)
        self._playing = (cid, start)
        self.view.set_playhead(start)
        self.player.play(res.active_wav)

    def stop_preview(self) -> None:
        if self._playing is not None or self.player.playing:
            self.player.stop()
        self._playing = None
        self.take_card.set_playing(False)

    def toggle_preview(self) -> None:
        if self.player.playing:
            self.stop_preview()
        else:
            self.preview()

    def _player_position(self, secs: float) -> None:
        if self._playing is None:
            return
        cid, start = self._playing
        self.view.set_playhead(start + secs)
        take = self.doc.session.take(cid) if self.doc is not None else None
        length = engine.take_seconds(take) if take is not None else 0.0
        if cid == self.take_card.clip_id and length > 0:
            self.take_card.set_position(secs / length)

    def _player_playing(self, playing: bool) -> None:
        self.take_card.set_playing(playing)
        if not playing:
            self._playing = None

    def _seek_take(self, fraction: float) -> None:
        res = self.current_result()
        if res is not None and self._playing is not None:
            self.player.seek(fraction * engine.take_seconds(res.take))

    # == placing and saving =================================================================================
    def kept_takes(self) -> list[TakeResult]:
        if self.doc is None:
            return []
        results = (self.take_result(cid) for cid in self.doc.session.clip_ids())
        return [r for r in results if r is not None and r.kept]

    def place(self) -> int:
        """Place every kept take on the timeline (a Foley track under each video track); returns how many."""
        if self.doc is None or self.is_running():
            return 0
        session = self.doc.session
        if not session.kept_takes() and not session.placed_takes():
            self.set_message("No kept take to place: generate takes first, and keep the ones you want.", "warning")
            return 0
        try:
            kept = self.doc.place()
        except FoleyFlowError as exc:
            self.set_message(f"Cannot place the takes. {exc}", "error")
            return 0
        self._refresh_tracks()
        for cid in session.clip_ids():
            self._mark_done(cid)
        tracks = sorted({f"Foley {t.source_track}" for t in kept})
        if kept:
            self.set_message(f"Placed {len(kept)} take{'s' if len(kept) != 1 else ''} on {', '.join(tracks)}. "
                             "Save to write the timeline.", "ok")
        else:
            self.set_message("No take is kept: the generated takes were taken off the timeline. Save to write it.",
                             "ok")
        self._update_actions()
        return len(kept)

    def default_save_path(self) -> Path | None:
        if self.doc is None:
            return None
        return self.save_path or self.doc.default_output(self.values.output_folder or None)

    def save(self) -> Path | None:
        """Write to the last saved path, or beside the timeline as NAME_foley (never over the input)."""
        path = self.default_save_path()
        return self._write(path) if path is not None else None

    def save_as(self, path: str | Path | None = None) -> Path | None:
        if self.doc is None:
            return None
        if path is None:
            start = str(self.default_save_path())
            chosen, _ = QFileDialog.getSaveFileName(self, "Save the timeline with its Foley tracks", start,
                                                    engine.save_filter())
            if not chosen:
                return None
            path = chosen
        return self._write(Path(path))

    def _write(self, path: Path) -> Path | None:
        if self.doc is None:
            return None
        if self.is_running():
            self.set_message("A run is going on: wait for it or cancel it before saving.", "warning")
            return None
        try:
            written = self.doc.save(path)
        except FoleyFlowError as exc:
            self.set_message(f"Not saved. {exc}", "error")
            return None
        self.save_path = written
        n = len(self.doc.session.placed_takes())
        self.set_message(f"Saved {written} with {n} Foley take{'s' if n != 1 else ''}.", "ok")
        self.saved.emit(str(written))
        self._update_actions()
        return written

    # == state ============================================================================================
    def _peaks_of(self, path: object) -> np.ndarray | None:
        if path is None:
            return None
        p = Path(str(path))
        if p not in self._peaks:
            try:
                self._peaks[p] = engine.waveform_peaks(p) if p.is_file() else None
            except Exception:  # an unreadable WAV shows as a plain clip
                self._peaks[p] = None
        return self._peaks[p]

    def _update_actions(self) -> None:
        running = self.is_running()
        has_doc = self.doc is not None
        n_sel = len(self.selected_ids())
        n_all = len(self.doc.rows) if self.doc else 0
        self.generate_button.setEnabled(has_doc and not running and n_all > 0)
        self.generate_button.setText(f"Generate {n_sel} clip{'s' if n_sel != 1 else ''}" if n_sel
                                     else f"Generate all ({n_all})" if has_doc else "Generate")
        self.cancel_button.setEnabled(running and not (self._thread is not None and self._thread.cancel_requested))
        n_kept = len(self.doc.session.kept_takes()) if self.doc else 0
        placed = bool(self.doc.session.placed_takes()) if self.doc else False
        self.place_button.setEnabled(has_doc and not running and (n_kept > 0 or placed))
        self.place_button.setText(f"Place kept takes ({n_kept})" if n_kept else "Place kept takes")
        self.save_button.setEnabled(has_doc and not running)
        self.save_as_button.setEnabled(has_doc and not running)
        self.review_button.setEnabled(has_doc and not running)
        self.open_button.setEnabled(not running)
        self.form.setEnabled(not running)
        self.take_card.reroll.setEnabled(bool(self.take_card.clip_id) and not running
                                         and self.take_card.clip_id not in self._not_runnable())
        self.autosave()

    def _not_runnable(self) -> set[str]:
        return {r.id for r in self.doc.rows if not r.runnable} if self.doc else set()

    # == unsaved work and recovery =========================================================================
    def _snapshot_text(self) -> str:
        return json.dumps(self.doc.session.to_dict(), sort_keys=True) if self.doc is not None else ""

    def has_unsaved_work(self) -> bool:
        """Whether there is take work not saved and not discarded (what closing would lose)."""
        return self.dirty and self._snapshot_text() != self._discarded_text

    def resolve_unsaved(self, doing: str) -> bool:
        """Before ``doing`` (closing, opening another timeline): ask Save / Discard / Cancel when work is unsaved.

        True to go on (saved, discarded, or nothing to lose); False to stay (cancelled, or the save failed).
        """
        if self.doc is None or not self.has_unsaved_work():
            return True
        n = len(self.doc.session.clip_ids())
        question = (f"{self.doc.name} has unsaved Foley work ({n} take{'s' if n != 1 else ''} made, kept or "
                    f"placed). Save it before you {doing}?")
        answer = self.confirm_unsaved(question)
        if answer == SAVE:
            return self.save() is not None
        if answer == DISCARD:
            self.discard_unsaved()
            return True
        return False

    def discard_unsaved(self) -> None:
        """The editor lets the unsaved work go: its recovery file is removed (its WAVs stay on disk)."""
        self._discarded_text = self._snapshot_text()
        self._drop_autosave()

    def _ask_unsaved(self, question: str) -> str:
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        got = QMessageBox.question(self, "Unsaved Foley work", question, buttons, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(got, CANCEL)

    def _ask_recover(self, rec: Recovery) -> bool | None:
        n = len(rec.session.get("clips", {}))
        got = QMessageBox.question(
            self, "Recover unsaved work",
            f"Foley-Flow stopped with unsaved work on {rec.timeline.name} ({n} take{'s' if n != 1 else ''}, "
            f"last written {rec.written}). Restore it? No discards it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        return got == QMessageBox.StandardButton.Yes

    def recovery_snapshot(self) -> Recovery | None:
        """What the recovery file of the open timeline holds now (None without a timeline)."""
        if self.doc is None:
            return None
        settings = {k: v for k, v in asdict(self.values).items() if k != "recent"}
        return Recovery(timeline=self.doc.path.absolute(), session=self.doc.session.to_dict(),
                        pick=self.doc.loaded.index, selection=self.selected_ids(), current=self.table.current_clip(),
                        settings=settings, prompts=self.prompts,
                        save_path=str(self.save_path) if self.save_path is not None else None)

    def autosave(self) -> Path | None:
        """Write the recovery file when the session holds unsaved work (and it changed); remove it otherwise."""
        rec = self.recovery_snapshot()
        if rec is None or self.doc is None:
            return None
        if not self.has_unsaved_work():
            self._drop_autosave()
            return None
        text = json.dumps(rec.to_dict(), sort_keys=True)
        if self._autosaved is not None and text == self._autosave_text:
            return self._autosaved
        try:
            self._autosaved = write_recovery(self.recovery_dir, rec)
        except (FoleyFlowError, OSError) as exc:  # the work itself is untouched: say it, go on
            log.warning("cannot write the recovery file in %s: %s", self.recovery_dir, exc)
            return None
        self._autosave_text = text
        return self._autosaved

    def _drop_autosave(self) -> None:
        remove_recovery(self._autosaved)
        self._autosaved, self._autosave_text = None, ""

    def check_recovery(self) -> bool:
        """Offer back the work of a panel that was killed (newest first); True when one was restored.

        An offer declined (False) is discarded, its file removed; None leaves it for later. Files of
        live panels are left alone.
        """
        for rec in pending(self.recovery_dir):
            answer = self.offer_recovery(rec)
            if answer:
                return self.restore(rec)
            if answer is False:
                remove_recovery(rec.path)
        return False

    def restore(self, rec: Recovery) -> bool:
        """Re-open ``rec``'s timeline and re-apply its session: takes, selection, folders, prompts.

        Takes whose WAVs are gone are left out and reported. False (the file kept) when the timeline
        or the session cannot be read.
        """
        if self.is_running():
            self.set_message("A run is going on: cancel it before restoring.", "warning")
            return False
        if not self.resolve_unsaved(f"restore the work on {rec.timeline.name}"):
            return False
        data, gone = without_vanished(rec.session)
        try:
            session = replace(rec, session=data).take_session()
        except RecoveryError as exc:
            self.set_message(f"Cannot restore the unsaved work. {exc}", "error")
            return False
        for key, setter in (("media_folder", self.form.set_media_folder), ("output_folder", self.form.set_output_folder)):
            value = str(rec.settings.get(key, "") or "")
            if value != getattr(self.values, key) and (not value or Path(value).is_dir()):
                setter(value)
        rate = self.values.frame_rate() if engine.needs_rate(rec.timeline) else None
        try:
            doc = engine.open_document(rec.timeline, rec.pick, rate, self.values.media_roots(), session=session)
        except FoleyFlowError as exc:
            self.set_message(f"Cannot restore the unsaved work: the timeline cannot be opened. {exc} "
                             f"(the recovery file {rec.path} is kept)", "error")
            return False
        self._set_document(doc)
        self.save_path = Path(rec.save_path) if rec.save_path else None
        self.prompts = rec.prompts
        ids = [i for i in rec.selection if i in {r.id for r in doc.rows}]
        self.table.select_ids(ids, current=rec.current if rec.current in ids else (ids[0] if ids else None))
        if rec.path is not None and rec.path != self._autosaved:
            remove_recovery(rec.path)
        self.values.add_recent(rec.timeline)
        self.values.save(self.store)
        self._refresh_recent()
        self._update_actions()
        n = len(doc.session.clip_ids())
        text = f"Restored the unsaved work on {rec.timeline.name}: {n} take{'s' if n != 1 else ''}."
        if gone:
            lines = vanished_lines(gone)
            self.set_message(f"{text} {len(gone)} take{'s' if len(gone) != 1 else ''} could not be restored, "
                             "their WAVs are gone:\n" + "\n".join(lines), "warning")
        else:
            self.set_message(f"{text} Save to keep it.", "ok")
        self.timelineOpened.emit(str(rec.timeline))
        self.recovered.emit(str(rec.timeline))
        return True

    # == review ============================================================================================
    def _ask_review(self, start: Path) -> ReviewChoice | None:
        path, _ = QFileDialog.getSaveFileName(self, "Export a review", str(start), "MPEG-4 video (*.mp4)")
        if not path:
            return None
        names = [name for name, _db in REVIEW_LEVELS]
        name, ok = QInputDialog.getItem(self, "Export a review", "The timeline's own audio:", names, 0, False)
        if not ok:
            return None
        chosen = Path(path) if Path(path).suffix.lower() == ".mp4" else Path(path).with_suffix(".mp4")
        return ReviewChoice(chosen, dict(REVIEW_LEVELS)[name])

    def default_review_path(self) -> Path | None:
        if self.doc is None:
            return None
        folder = Path(self.values.output_folder) if self.values.output_folder else self.doc.path.parent
        return folder / f"{self.doc.path.stem}_review.mp4"

    def export_review(self, choice: ReviewChoice | None = None) -> bool:
        """Render the working timeline (placed takes included) to an .mp4 in a worker thread."""
        if self.doc is None or self.is_running():
            return False
        if choice is None:
            start = self.default_review_path()
            choice = self.choose_review(start) if start is not None else None
            if choice is None:
                return False
        folder = Path(tempfile.mkdtemp(prefix="foleyflow-review-"))
        try:
            timeline = self.doc.write_review_timeline(folder)
        except (FoleyFlowError, OSError, ValueError) as exc:
            self.set_message(f"Review not written. {exc}", "error")
            return False
        options = ReviewOptions(original_db=choice.original_db, foley_db=choice.foley_db)
        thread = ReviewThread(timeline, choice.path, options, self.values.media_roots(), folder, self)
        thread.completed.connect(self._on_review_done)
        thread.finished.connect(self._on_review_finished)
        self._review = thread
        self.overall.setRange(0, 0)  # busy
        self.overall.setFormat("Rendering the review…")
        self.time_left.setText("")
        self.set_message(f"Rendering the review to {choice.path}…", "info")
        self._update_actions()
        thread.start()
        return True

    def _on_review_done(self, result: object) -> None:
        self.overall.setRange(0, 1000)
        if isinstance(result, ReviewResult):
            self.overall.setValue(1000)
            self.overall.setFormat("Review written")
            self.set_message(f"Wrote the review {result.path} ({result.seconds:.1f} s, {result.foley_items} Foley "
                             f"take{'s' if result.foley_items != 1 else ''}).", "ok")
        else:
            self.overall.setValue(0)
            self.overall.setFormat("Review not written")
            self.set_message(f"Review not written. {result}", "error")
        self.reviewFinished.emit(result)

    def _on_review_finished(self) -> None:
        thread, self._review = self._review, None
        if thread is not None:
            thread.deleteLater()
        self._update_actions()

    # == lifetime ============================================================================================
    def shutdown(self) -> None:
        """Cancel a run and wait for its thread (within one segment); stop the preview. Safe to call twice."""
        thread = self._thread
        if thread is not None:
            thread.stop()
        review = self._review
        if review is not None:
            review.stop()
        self.stop_preview()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.resolve_unsaved("close the panel"):
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        win = self.window()
        if win is not self and win is not self._window_filtered:
            win.installEventFilter(self)  # docked: the host window's close ends our run too
            self._window_filtered = win

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._window_filtered and event.type() == QEvent.Type.Close:
            if not self.resolve_unsaved("close the window"):
                event.ignore()
                return True
            self.shutdown()
        return super().eventFilter(watched, event)

    def render_png(self, path: str | Path) -> Path:
        """Render the panel as it looks now to a PNG (works offscreen)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.grab().save(str(path)):
            raise OSError(f"cannot write {path}")
        return path
