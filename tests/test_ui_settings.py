"""Settings: remembered with QSettings, edited in the form, turned into generation options."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import QSettings

from foleyflow.ui import engine
from foleyflow.ui.settings import MAX_RECENT, PanelSettings, SettingsForm


def store(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)


def test_round_trip_and_defaults(tmp_path):
    assert PanelSettings.load(store(tmp_path)) == PanelSettings()
    v = PanelSettings(package="/models/x", provider="cpu", steps=8, guidance=2.5, seed=9, variations=3,
                      output_folder="/out", media_folder="/media", rate="25", theme="light", recent=["/a.otio"])
    v.save(store(tmp_path))
    assert PanelSettings.load(store(tmp_path)) == v


def test_bad_values_fall_back(tmp_path):
    s = store(tmp_path)
    s.setValue("run/steps", "many")
    s.setValue("run/variations", 0)
    s.setValue("ui/theme", "neon")
    s.sync()
    v = PanelSettings.load(store(tmp_path))
    assert (v.steps, v.variations, v.theme) == (0, 1, "dark")


def test_options_rate_and_recent():
    v = PanelSettings(steps=0, guidance=0.0, seed=4, variations=2, rate="29.97")
    o = v.options()
    assert (o.steps, o.guidance, o.seed, o.variations) == (None, None, 4, 2)  # 0: the model's default
    assert v.frame_rate() == Fraction(30000, 1001)
    for i in range(MAX_RECENT + 3):
        v.add_recent(f"/t/{i}.otio")
    v.add_recent("/t/5.otio")
    assert len(v.recent) == MAX_RECENT and v.recent[0].endswith("5.otio") and v.recent.count(v.recent[0]) == 1


def test_form_writes_every_change(qtbot, tmp_path, monkeypatch):
    values = PanelSettings()
    form = SettingsForm(values, store(tmp_path))
    qtbot.addWidget(form)
    with qtbot.waitSignal(form.changed):
        form.steps.setValue(12)
    form.variations.setValue(2)
    form.set_output_folder(str(tmp_path))
    with qtbot.waitSignal(form.mediaFolderChanged):
        form.set_media_folder(str(tmp_path))
    assert form.steps.specialValueText().startswith("Model default (")
    again = PanelSettings.load(store(tmp_path))
    assert (again.steps, again.variations, again.output_folder, again.media_folder) == (
        12, 2, str(tmp_path), str(tmp_path))
    form.set_model_package(str(tmp_path))  # not a model package: the form says so in its tooltip
    assert str(tmp_path) in form.model.toolTip() and form.model.currentData() == str(tmp_path)
    assert PanelSettings.load(store(tmp_path)).package == str(tmp_path)
    form.set_model_package("")
    assert form.model.currentText() == "Bundled default"
    monkeypatch.setattr(engine, "new_seed", lambda: 424242)
    form.new_seed.click()
    assert form.seed.value() == 424242 and PanelSettings.load(store(tmp_path)).seed == 424242
    items = form.provider.model()
    assert items.item(form.provider.findData("auto")).isEnabled()
    assert items.item(form.provider.findData("cpu")).isEnabled()


def test_the_quality_choice_is_remembered_and_offers_the_student_only_where_there_is_one(qtbot, tmp_path,
                                                                                         monkeypatch):
    s = store(tmp_path)
    s.setValue("run/sampler", "warp")
    s.sync()
    assert PanelSettings.load(store(tmp_path)).sampler == ""  # unknown: the model's default
    assert PanelSettings(sampler="teacher").options().sampler == "teacher"
    assert PanelSettings().options().sampler is None
    with_student = engine.ModelInfo("m", "1", 8, 4.5, student_steps=2, sampler="student")
    monkeypatch.setattr(engine, "model_info", lambda package: with_student)
    values = PanelSettings()
    form = SettingsForm(values, store(tmp_path))
    qtbot.addWidget(form)
    items = form.sampler.model()
    assert items.item(form.sampler.findData("student")).isEnabled()
    assert form.sampler.itemText(0) == "Model default (fast)"
    form.sampler.setCurrentIndex(form.sampler.findData("student"))
    assert PanelSettings.load(store(tmp_path)).sampler == "student" and values.options().sampler == "student"
    monkeypatch.setattr(engine, "model_info", lambda package: engine.ModelInfo("m", "1", 8, 4.5))
    form.set_model_package(str(tmp_path))  # a package without a student: the choice falls back to its default
    assert not items.item(form.sampler.findData("student")).isEnabled()
    assert form.sampler.currentData() == "" and form.sampler.itemText(0) == "Model default (best)"
    assert PanelSettings.load(store(tmp_path)).sampler == ""
