"""The sound picker: what the current clip should sound like (auto, a category, or like a file)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from foleyflow.library.ucs import describe
from foleyflow.plugin.prompts import AUTO, SoundChoice

from . import qtcompat  # noqa: F401 (guards None's refcount on affected PySide6 builds)

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.aif *.aiff *.mp3);;All files (*)"
_LIKE = "like"  # the "Like a file…" item's data


def ask_reference(parent: QWidget | None) -> str | None:
    """A file dialog for a reference recording; None if the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Sound like this recording", "", AUDIO_FILTER)
    return path or None


class SoundPicker(QWidget):
    """A combo box: "Auto (from the picture)", the model's categories, a chosen reference file and
    "Like a file…"; beside it a button that previews the reference. ``soundChosen`` carries the
    :class:`SoundChoice`; ``previewRequested`` a reference's path."""

    soundChosen = Signal(object)
    previewRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ask_file: Callable[[QWidget | None], str | None] = ask_reference  # tests replace it
        self.label = QLabel("Sound", self)
        self.combo = QComboBox(self)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(14)
        self.combo.activated.connect(self._activated)
        self.listen = QPushButton("▶", self)
        self.listen.setToolTip("Preview the reference recording")
        self.listen.setFixedWidth(32)
        self.listen.clicked.connect(self._listen)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.label)
        lay.addWidget(self.combo, 1)
        lay.addWidget(self.listen)
        self._vocabulary: tuple[str, ...] = ()
        self._choice: SoundChoice = AUTO
        self.set_vocabulary(())

    # -- state ------------------------------------------------------------------------------------
    @property
    def choice(self) -> SoundChoice:
        return self._choice

    def set_vocabulary(self, categories: Sequence[str]) -> None:
        """The model's categories; with none, the model takes no prompts and only auto is offered."""
        self._vocabulary = tuple(categories)
        self.combo.setToolTip("What this clip should sound like" if self._vocabulary else
                              "This model takes no sound prompts: its takes come from the picture (auto)")
        self._rebuild()

    def set_choice(self, choice: SoundChoice) -> None:
        """Show ``choice`` (for the current clip) without emitting ``soundChosen``."""
        self._choice = choice
        self._rebuild()

    def _rebuild(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("Auto (from the picture)", None)
        for cat in self._vocabulary:
            self.combo.addItem(f"{cat} · {describe(cat)}", cat)
        ref = self._choice.reference
        if ref:
            self.combo.addItem(f"Like {Path(ref).name}", ref)
        self.combo.addItem("Like a file…", _LIKE)
        if self._choice.category and self._choice.category not in self._vocabulary:
            self.combo.insertItem(1, f"{self._choice.category} (not in this model)", self._choice.category)
        target = self._choice.category or ref
        index = self.combo.findData(target) if target else 0
        self.combo.setCurrentIndex(max(0, index))
        enabled = bool(self._vocabulary)
        self.combo.setEnabled(enabled)
        self.listen.setEnabled(enabled and bool(ref))
        self.combo.blockSignals(False)

    # -- user actions -------------------------------------------------------------------------------
    def _activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == _LIKE:
            path = self.ask_file(self)
            if not path:
                self._rebuild()  # back to what was chosen
                return
            choice = SoundChoice(reference=str(Path(path).resolve()))
        elif data is None:
            choice = AUTO
        elif data == self._choice.reference:
            choice = self._choice
        else:
            choice = SoundChoice(category=str(data))
        self.pick(choice)

    def pick(self, choice: SoundChoice) -> None:
        """Choose ``choice`` as the user would: shown, and ``soundChosen`` emitted."""
        self.set_choice(choice)
        self.soundChosen.emit(choice)

    def _listen(self) -> None:
        if self._choice.reference:
            self.previewRequested.emit(self._choice.reference)
