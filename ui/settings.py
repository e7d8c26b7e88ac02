"""The panel's settings, remembered with QSettings, and the form that edits them.

Stored under the organisation "Foley-Flow", application "Foley-Flow Panel" (tests
pass their own QSettings file)::

    model/package   ""  = the bundled default, else a folder
    model/provider  auto, cpu, cuda, coreml, directml
    run/steps       0   = the model's default
    run/guidance    0.0 = the model's default
    run/sampler     ""  = the model's default, else student (fast) or teacher (best)
    run/seed, run/variations
    paths/output    ""  = beside the timeline
    paths/media     ""  = no relink folder
    open/rate       frame rate for EDL and ALE files (they carry none)
    recent          the last opened timelines, newest first
    ui/theme        dark or light
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from foleyflow.plugin.generate import GenerateOptions

from . import (
    engine,
    qtcompat,  # noqa: F401 (guards None's refcount on affected PySide6 builds)
)

ORGANIZATION = "Foley-Flow"
APPLICATION = "Foley-Flow Panel"
MAX_RECENT = 10
SAMPLER_CHOICES = {"": "Model default", "student": "Fast (few-step student)",
                   "teacher": "Best (guided teacher)"}  # run/sampler -> label
RATES = (("23.976", Fraction(24000, 1001)), ("24", Fraction(24)), ("25", Fraction(25)),
         ("29.97", Fraction(30000, 1001)), ("30", Fraction(30)), ("50", Fraction(50)),
         ("59.94", Fraction(60000, 1001)), ("60", Fraction(60)))


def default_qsettings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


@dataclass
class PanelSettings:
    package: str = ""
    provider: str = "auto"
    steps: int = 0
    guidance: float = 0.0
    sampler: str = ""
    seed: int = 0
    variations: int = 1
    output_folder: str = ""
    media_folder: str = ""
    rate: str = "24"
    theme: str = "dark"
    recent: list[str] = field(default_factory=list)

    _KEYS = {"package": "model/package", "provider": "model/provider", "steps": "run/steps",
             "guidance": "run/guidance", "sampler": "run/sampler", "seed": "run/seed", "variations": "run/variations",
             "output_folder": "paths/output", "media_folder": "paths/media", "rate": "open/rate",
             "theme": "ui/theme", "recent": "recent"}

    @classmethod
    def load(cls, store: QSettings) -> PanelSettings:
        out = cls()
        for f in fields(cls):
            key = cls._KEYS[f.name]
            if not store.contains(key):
                continue
            raw = store.value(key)
            default = getattr(out, f.name)
            value: object
            try:
                if isinstance(default, list):
                    value = [str(x) for x in (raw if isinstance(raw, list) else [raw] if raw else [])]
                elif isinstance(default, bool):
                    value = str(raw).lower() in ("1", "true")
                else:
                    value = type(default)(raw)
            except (TypeError, ValueError):
                continue
            setattr(out, f.name, value)
        out.variations = max(1, out.variations)
        out.sampler = out.sampler if out.sampler in SAMPLER_CHOICES else ""
        out.theme = out.theme if out.theme in ("dark", "light") else "dark"
        return out

    def save(self, store: QSettings) -> None:
        for f in fields(self):
            store.setValue(self._KEYS[f.name], getattr(self, f.name))
        store.sync()

    def options(self) -> GenerateOptions:
        return GenerateOptions(seed=self.seed, steps=self.steps or None, guidance=self.guidance or None,
                               variations=self.variations, sampler=self.sampler or None)

    def frame_rate(self) -> Fraction:
        return dict(RATES).get(self.rate, Fraction(24))

    def media_roots(self) -> tuple[str, ...]:
        return (self.media_folder,) if self.media_folder else ()

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self.recent = [p, *[r for r in self.recent if r != p]][:MAX_RECENT]


class FolderField(QWidget):
    """A read-only path with a choose button and a clear button; empty shows ``placeholder``."""

    changed = Signal(str)

    def __init__(self, placeholder: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.edit = QLineEdit(self)
        self.edit.setReadOnly(True)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setMinimumWidth(80)
        self.choose = QToolButton(self)
        self.choose.setText("…")
        self.choose.setToolTip(caption)
        self.clear = QToolButton(self)
        self.clear.setText("✕")
        self.clear.setToolTip("Back to: " + placeholder)
        self.choose.clicked.connect(self._choose)
        self.clear.clicked.connect(lambda: self.set_path("", emit=True))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.choose)
        lay.addWidget(self.clear)

    def path(self) -> str:
        return self.edit.text()

    def set_path(self, path: str, emit: bool = False) -> None:
        self.edit.setText(path)
        self.edit.setToolTip(path)
        self.clear.setEnabled(bool(path))
        if emit:
            self.changed.emit(path)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.caption, self.path() or str(Path.home()))
        if folder:
            self.set_path(folder, emit=True)


class SettingsForm(QWidget):
    """The generation settings; every change is written to the store at once (``changed``)."""

    changed = Signal()
    mediaFolderChanged = Signal(str)

    def __init__(self, values: PanelSettings, store: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = values
        self.store = store
        self.model = QComboBox(self)
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(12)
        self.model.setToolTip("The model package: the bundled default or a folder holding model.json")
        self.model.activated.connect(self._model_chosen)
        self.provider = QComboBox(self)
        self.provider.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.provider.setMinimumContentsLength(12)
        have = engine.available_providers()
        for key, label in engine.PROVIDERS:
            self.provider.addItem(label if key in have else f"{label} — not available here", key)
            items = self.provider.model()
            if key not in have and isinstance(items, QStandardItemModel):
                item = items.item(self.provider.count() - 1)
                if item is not None:
                    item.setEnabled(False)
        self.steps = QSpinBox(self)
        self.steps.setRange(0, 256)
        self.guidance = QDoubleSpinBox(self)
        self.guidance.setRange(0.0, 20.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        self.sampler = QComboBox(self)
        for key, label in SAMPLER_CHOICES.items():
            self.sampler.addItem(label, key)
        self.sampler.setToolTip("Fast: the package's few-step student; Best: the guided sampler it was "
                                "distilled from (more steps, slower)")
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 2)
        self.new_seed = QPushButton("New seed", self)
        self.new_seed.setToolTip("Pick a random seed: the same seed gives the same take")
        self.new_seed.clicked.connect(lambda: self.seed.setValue(engine.new_seed()))
        self.variations = QSpinBox(self)
        self.variations.setRange(1, 16)
        self.variations.setSuffix(" per clip")
        self.output = FolderField("Beside the timeline", "Output folder for WAVs and the saved timeline", self)
        self.media = FolderField("As the timeline says", "A folder to relink missing media from", self)
        self.rate = QComboBox(self)
        for label, _r in RATES:
            self.rate.addItem(f"{label} fps", label)
        self.rate.setToolTip("EDL and ALE files carry no frame rate: they are read at this one")

        seed_row = QWidget(self)
        sl = QHBoxLayout(seed_row)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(4)
        sl.addWidget(self.seed, 1)
        sl.addWidget(self.new_seed)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.addRow("Model", self.model)
        form.addRow("Runs on", self.provider)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Quality", self.sampler)
        form.addRow("Seed", seed_row)
        form.addRow("Variations", self.variations)
        form.addRow("Output folder", self.output)
        form.addRow("Media folder", self.media)
        form.addRow("EDL rate", self.rate)
        self._load()
        for w in (self.steps, self.seed, self.variations):
            w.valueChanged.connect(self._store)
        self.guidance.valueChanged.connect(self._store)
        self.sampler.currentIndexChanged.connect(self._store)
        self.provider.currentIndexChanged.connect(self._store)
        self.rate.currentIndexChanged.connect(self._store)
        self.output.changed.connect(self._store)
        self.media.changed.connect(self._media_changed)

    # -- values --------------------------------------------------------------------------
    def _load(self) -> None:
        v = self.values
        self._fill_models(v.package)
        i = self.provider.findData(v.provider)
        self.provider.setCurrentIndex(max(i, 0))
        self.steps.setValue(v.steps)
        self.guidance.setValue(v.guidance)
        self.sampler.setCurrentIndex(max(self.sampler.findData(v.sampler), 0))
        self.seed.setValue(v.seed)
        self.variations.setValue(v.variations)
        self.output.set_path(v.output_folder)
        self.media.set_path(v.media_folder)
        self.rate.setCurrentIndex(max(self.rate.findData(v.rate), 0))
        self._update_defaults()

    def _fill_models(self, package: str) -> None:
        self.model.blockSignals(True)
        self.model.clear()
        info = engine.model_info("")
        self.model.addItem("Bundled default", "")
        self.model.setItemData(0, f"{info.name} {info.version} ({engine.model_dir('')})", 3)  # tooltip
        if package:
            self.model.addItem(package, package)
            self.model.setItemData(1, package, 3)  # tooltip role
        self.model.addItem("Choose folder…", None)
        self.model.setCurrentIndex(1 if package else 0)
        self.model.blockSignals(False)

    def _model_chosen(self, index: int) -> None:
        data = self.model.itemData(index)
        if data is None:  # "Choose folder…"
            folder = QFileDialog.getExistingDirectory(self, "Model package folder (holding model.json)",
                                                      self.values.package or str(Path.home()))
            if not folder:
                self._fill_models(self.values.package)
                return
            self.set_model_package(folder)
            return
        self.set_model_package(str(data))

    def set_model_package(self, package: str) -> None:
        """Use ``package`` ("" for the bundled default) and remember it."""
        self.values.package = package
        self._fill_models(package)
        self._update_defaults()
        self._store()

    def set_output_folder(self, folder: str) -> None:
        self.output.set_path(folder, emit=True)

    def set_media_folder(self, folder: str) -> None:
        self.media.set_path(folder, emit=True)

    def _update_defaults(self) -> None:
        info = engine.model_info(self.values.package)
        steps = f"Model default ({info.default_steps})" if not info.error else "Model default"
        guid = f"Model default ({info.guidance:g})" if not info.error else "Model default"
        self.steps.setSpecialValueText(steps)
        self.guidance.setSpecialValueText(guid)
        self._update_samplers(info)
        self.model.setToolTip(info.error or f"{info.name} {info.version}: {engine.model_dir(self.values.package)}")

    def _update_samplers(self, info: engine.ModelInfo) -> None:
        """The quality choices the model has: the student only in a package with one (else a chosen
        student falls back to the model's default)."""
        has_student = bool(info.student_steps) and not info.error
        default = "student" if info.sampler == "student" and has_student else "teacher"
        self.sampler.setItemText(0, f"Model default ({'fast' if default == 'student' else 'best'})")
        items = self.sampler.model()
        if isinstance(items, QStandardItemModel):
            item = items.item(self.sampler.findData("student"))
            if item is not None:
                item.setEnabled(has_student)
        if not has_student and self.sampler.currentData() == "student":
            self.sampler.setCurrentIndex(0)

    def _media_changed(self, folder: str) -> None:
        self._store()
        self.mediaFolderChanged.emit(folder)

    def _store(self, *_args: object) -> None:
        v = self.values
        v.provider = str(self.provider.currentData() or "auto")
        v.steps = self.steps.value()
        v.guidance = round(self.guidance.value(), 3)
        v.sampler = str(self.sampler.currentData() or "")
        v.seed = self.seed.value()
        v.variations = self.variations.value()
        v.output_folder = self.output.path()
        v.media_folder = self.media.path()
        v.rate = str(self.rate.currentData() or "24")
        v.save(self.store)
        self.changed.emit()
