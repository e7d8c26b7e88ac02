"""The take card: the current clip's take, its waveform, variations, preview, keep and re-roll."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from foleyflow.plugin.prompts import SoundChoice

from . import (
    qtcompat,  # noqa: F401 (guards None's refcount on affected PySide6 builds)
    theme,
)
from .engine import TakeResult
from .sound_picker import SoundPicker
from .waveform import WaveformWidget


class TakeCard(QWidget):
    """Shows one clip's take; every button is a request the panel carries out."""

    playRequested = Signal()
    stopRequested = Signal()
    keepToggled = Signal(bool)
    rerollRequested = Signal()
    variationChosen = Signal(int)
    seekRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clip_id: str | None = None
        self.heading = QLabel("No clip selected", self)
        self.heading.setObjectName("title")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.meta = QLabel("Select a clip to see its take.", self)
        self.meta.setObjectName("dim")
        self.meta.setWordWrap(True)
        self.meta.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.sound = SoundPicker(self)  # what this clip should sound like (the panel keeps the choices)
        self.waveform = WaveformWidget(self)
        self.waveform.seekRequested.connect(self.seekRequested)
        self.variation = QComboBox(self)
        self.variation.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.variation.setMinimumContentsLength(8)
        self.variation.setToolTip("Which variation is the take (each has its own seed)")
        self.variation.activated.connect(self.variationChosen)
        self.play = QPushButton("▶  Preview", self)
        self.play.setToolTip("Play the take (Space)")
        self.play.clicked.connect(self._play_clicked)
        self.keep = QPushButton("Keep", self)
        self.keep.setCheckable(True)
        self.keep.setToolTip("Kept takes are placed on the timeline by 'Place kept takes'")
        self.keep.toggled.connect(self._keep_toggled)
        self.reroll = QPushButton("Re-roll", self)
        self.reroll.setToolTip("Generate this clip again with a new seed (the take is replaced)")
        self.reroll.clicked.connect(self.rerollRequested)
        self.player_note = QLabel("", self)
        self.player_note.setObjectName("dim")
        self.player_note.setWordWrap(True)
        self._playing = False

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.variation, 1)
        buttons.addWidget(self.play)
        buttons.addWidget(self.keep)
        buttons.addWidget(self.reroll)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.heading)
        lay.addWidget(self.meta)
        lay.addWidget(self.sound)
        lay.addWidget(self.waveform)
        lay.addLayout(buttons)
        lay.addWidget(self.player_note)
        self.show_take(None, "", None)

    def set_colors(self, c: theme.Colors) -> None:
        self.waveform.set_colors(c)

    def show_take(self, clip_id: str | None, title: str, result: TakeResult | None, note: str = "",
                  can_reroll: bool = False) -> None:
        """Show ``result`` (None: no take yet, ``note`` says why) for the clip ``clip_id``."""
        self.clip_id = clip_id
        self.heading.setText(title or "No clip selected")
        self.variation.blockSignals(True)
        self.variation.clear()
        self.keep.blockSignals(True)
        if result is None:
            self.meta.setText(note or ("Select a clip to see its take." if clip_id is None else "No take yet."))
            self.waveform.set_peaks(None, "No take yet" if clip_id else "")
            self.variation.addItem("—")
            self.keep.setChecked(False)
        else:
            take = result.take
            m = take.metadata
            sound = m.get("sound")
            heard = f" · sound {SoundChoice.from_metadata(sound).label()}" if sound else ""
            self.meta.setText(f"{len(take.media)} variation{'s' if len(take.media) > 1 else ''} · "
                              f"{m.get('steps', '?')} steps · guidance {m.get('guidance', '?')}{heard} · "
                              f"{m.get('model', '')}" + (f"\n{note}" if note else ""))
            self.waveform.set_peaks(result.active_peaks)
            for i, seed in enumerate(result.seeds):
                self.variation.addItem(f"{i + 1} of {len(result.seeds)} · seed {seed}")
            self.variation.setCurrentIndex(take.active)
            self.keep.setChecked(result.kept)
        self.keep.setText("Kept" if self.keep.isChecked() else "Keep")
        self.keep.blockSignals(False)
        self.variation.blockSignals(False)
        has = result is not None
        self.variation.setEnabled(result is not None and len(result.take.media) > 1)
        self.play.setEnabled(has)
        self.keep.setEnabled(has)
        self.reroll.setEnabled(can_reroll)

    def set_playing(self, playing: bool) -> None:
        self._playing = playing
        self.play.setText("■  Stop" if playing else "▶  Preview")
        if not playing:
            self.waveform.set_position(None)

    def set_position(self, fraction: float | None) -> None:
        self.waveform.set_position(fraction)

    def set_player_note(self, text: str) -> None:
        self.player_note.setText(text)

    def _play_clicked(self) -> None:
        (self.stopRequested if self._playing else self.playRequested).emit()

    def _keep_toggled(self, on: bool) -> None:
        self.keep.setText("Kept" if on else "Keep")
        self.keepToggled.emit(on)
