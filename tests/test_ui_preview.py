"""Preview sits behind an interface; without an audio output the null player says so."""

from __future__ import annotations

import builtins
from pathlib import Path

from foleyflow.ui.preview import NO_OUTPUT, NullPlayer, Player, make_player


def test_null_player_reports_no_audio_output(qtbot):
    p = NullPlayer()
    assert isinstance(p, Player) and not p.available and p.reason == NO_OUTPUT
    with qtbot.waitSignal(p.problem) as got:
        p.play(Path("/takes/V1_0_a_seed0.wav"))
    assert got.args[0] == "Cannot preview V1_0_a_seed0.wav: no audio output"
    p.stop()
    p.seek(1.0)
    assert not p.playing


def test_make_player_falls_back_when_qtmultimedia_cannot_load(qtbot, monkeypatch):
    real_import = builtins.__import__

    def failing(name, *args, **kwargs):
        if name.startswith("PySide6.QtMultimedia"):
            raise ImportError("libpulse.so.0: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing)
    assert isinstance(make_player(), NullPlayer)


def test_make_player_never_fails(qtbot):
    player = make_player()  # real or null, depending on the machine: never assert on playback
    assert isinstance(player, Player)
    assert isinstance(make_player(allow_audio=False), NullPlayer)
