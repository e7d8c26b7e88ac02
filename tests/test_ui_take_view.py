"""The take card: a take's waveform, variations, preview, keep and re-roll."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from opentimelineio.opentime import RationalTime, TimeRange

from foleyflow.plugin.placement import Take
from foleyflow.ui.engine import TakeResult
from foleyflow.ui.take_view import TakeCard


def result() -> TakeResult:
    take = Take("V1:0", "V1", "a", TimeRange(RationalTime(0, 25), RationalTime(50, 25)),
                (Path("/w/a_seed3.wav"), Path("/w/a_seed4.wav")), 0,
                {"steps": 8, "guidance": 2.0, "model": "m", "seed": 3, "samples": 96000},
                ({"seed": 3}, {"seed": 4}))
    peaks = np.tile(np.array([[-0.3, 0.3]], np.float32), (400, 1))
    return TakeResult(take, (peaks, peaks * 0.5))


def test_no_take_then_a_take(qtbot):
    card = TakeCard()
    qtbot.addWidget(card)
    assert card.heading.text() == "No clip selected" and not card.play.isEnabled()
    card.show_take("V1:0", "V1:0 · a", None, "No take yet: Generate to make one.", can_reroll=True)
    assert card.meta.text().startswith("No take yet") and card.reroll.isEnabled() and not card.keep.isEnabled()
    card.show_take("V1:0", "V1:0 · a", result(), can_reroll=True)
    assert card.waveform.has_waveform() and card.play.isEnabled()
    assert [card.variation.itemText(i) for i in range(2)] == ["1 of 2 · seed 3", "2 of 2 · seed 4"]
    assert card.keep.isChecked() and card.keep.text() == "Kept"
    assert "8 steps" in card.meta.text()


def test_requests(qtbot):
    card = TakeCard()
    qtbot.addWidget(card)
    card.show_take("V1:0", "V1:0 · a", result(), can_reroll=True)
    with qtbot.waitSignal(card.keepToggled) as got:
        card.keep.click()
    assert got.args == [False] and card.keep.text() == "Keep"
    with qtbot.waitSignal(card.rerollRequested):
        card.reroll.click()
    with qtbot.waitSignal(card.playRequested):
        card.play.click()
    card.set_playing(True)
    with qtbot.waitSignal(card.stopRequested):
        card.play.click()
    card.set_playing(False)
    assert card.play.text().endswith("Preview")
    with qtbot.waitSignal(card.variationChosen) as got:
        card.variation.activated.emit(1)
    assert got.args == [1]
