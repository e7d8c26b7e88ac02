"""The sound picker, and sound prompts from the panel: chosen per clip, kept by a re-roll, refused clearly."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings
from ui_fixtures import FakeCache, engines, make_timeline  # noqa: F401 (engines is a fixture)

from foleyflow.plugin.prompts import AUTO, SoundChoice, SoundPlan
from foleyflow.runtime.prompt import CategoryPrompt, ReferencePrompt
from foleyflow.ui import engine as ui_engine
from foleyflow.ui.panel import FoleyPanel
from foleyflow.ui.preview import NullPlayer
from foleyflow.ui.sound_picker import SoundPicker

VOCAB = ("FEETHmn", "DOORWood")


def test_the_picker_offers_auto_the_categories_and_a_file(qtbot, tmp_path):
    w = SoundPicker()
    qtbot.addWidget(w)
    assert not w.combo.isEnabled()  # a model without prompts: auto only
    w.set_vocabulary(VOCAB)
    items = [w.combo.itemText(i) for i in range(w.combo.count())]
    assert items == ["Auto (from the picture)", "FEETHmn · FOOTSTEPS / HUMAN", "DOORWood · DOORS / WOOD",
                     "Like a file…"]
    chosen = []
    w.soundChosen.connect(chosen.append)
    w._activated(2)
    assert chosen[-1] == SoundChoice(category="DOORWood")
    ref = tmp_path / "knock.wav"
    w.ask_file = lambda parent: str(ref)
    w._activated(w.combo.count() - 1)
    assert chosen[-1] == SoundChoice(reference=str(ref.resolve()))
    assert w.combo.currentText() == "Like knock.wav" and w.listen.isEnabled()
    previews = []
    w.previewRequested.connect(previews.append)
    w.listen.click()
    assert previews == [str(ref.resolve())]
    w.ask_file = lambda parent: None  # cancelled: the choice stays
    w._activated(w.combo.count() - 1)
    assert w.choice == SoundChoice(reference=str(ref.resolve())) and len(chosen) == 2
    w._activated(0)
    assert chosen[-1] == AUTO and not w.listen.isEnabled()


def test_a_category_the_model_lacks_is_shown_as_such(qtbot):
    w = SoundPicker()
    qtbot.addWidget(w)
    w.set_vocabulary(VOCAB)
    w.set_choice(SoundChoice(category="GLASBrk"))
    assert w.combo.currentText() == "GLASBrk (not in this model)"


@pytest.fixture
def prompt_panel(qtbot, tmp_path, engines, fake_engine, monkeypatch):  # noqa: F811
    fake_engine.model.spec = replace(fake_engine.model.spec, prompt_dim=8, vocabulary=VOCAB)
    monkeypatch.setattr(ui_engine, "model_vocabulary", lambda package: VOCAB)
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    p = FoleyPanel(settings=store, engines=FakeCache(fake_engine), player=NullPlayer())
    p.confirm_unsaved = lambda question: "discard"
    qtbot.addWidget(p)
    p.show()
    p.form.set_output_folder(str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    cut = make_timeline(tmp_path / "cut", [[("a", 2.0, True), ("b", 2.0, True)]])
    assert p.open_timeline(cut)
    return p


def run_to_end(qtbot, p: FoleyPanel, start) -> None:
    with qtbot.waitSignal(p.runFinished, timeout=60_000):
        assert start()


def test_sounds_from_the_panel_per_clip_and_a_reroll_keeps_them(qtbot, prompt_panel, fake_engine, tmp_path):
    p = prompt_panel
    ref = tmp_path / "ref.wav"
    sf.write(ref, np.sin(np.arange(4800) * 0.2) * 0.5, 48000)
    p.select_clips(["V1:0"])
    p._show_current()
    assert p.take_card.clip_id == "V1:0" and p.take_card.sound.combo.isEnabled()
    p.take_card.sound.pick(SoundChoice(category="DOORWood"))  # as the user picks it
    p.set_sound("V1:1", SoundChoice(reference=str(ref)))
    p.select_clips(["V1:0", "V1:1"])
    run_to_end(qtbot, p, p.generate)
    calls = fake_engine.model.calls
    assert calls[0]["prompt"] == CategoryPrompt("DOORWood") and isinstance(calls[1]["prompt"], ReferencePrompt)
    assert p.session.take("V1:0").metadata["sound"] == {"mode": "category", "category": "DOORWood"}
    # the panel forgets its choices (a new session would); the re-roll takes the take's own prompt
    p.sounds = SoundPlan()
    assert p.sound_of("V1:0") == SoundChoice(category="DOORWood")
    run_to_end(qtbot, p, lambda: p.reroll("V1:0"))
    assert len(fake_engine.model.calls) == 3 and fake_engine.model.calls[-1]["prompt"] == CategoryPrompt("DOORWood")


def test_a_bad_reference_fails_clearly_and_writes_nothing(qtbot, prompt_panel, fake_engine, tmp_path):
    p = prompt_panel
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(4800), 48000)
    p.set_sound("V1:0", SoundChoice(reference=str(silent)))
    p.select_clips(["V1:0"])
    run_to_end(qtbot, p, p.generate)
    assert fake_engine.model.calls == []
    assert "silent.wav" in p.banner.text() and "the sound reference is silent" in p.banner.text()
    assert not [f for f in Path(tmp_path / "out").rglob("*") if f.is_file()]
