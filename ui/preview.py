"""Preview playback behind a small interface: QtMultimedia where it works, a null player elsewhere.

QtMultimedia needs an audio stack (PulseAudio, CoreAudio, WASAPI); headless
machines and some workstations have none, and importing it can even fail. The
panel only talks to :class:`Player`; :func:`make_player` returns the real one when
an audio output exists and a :class:`NullPlayer` that says "no audio output"
otherwise, so that everything else in the panel works the same.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal

from . import qtcompat  # noqa: F401 (guards None's refcount on affected PySide6 builds)

log = logging.getLogger(__name__)

NO_OUTPUT = "no audio output"


class Player(QObject):
    """What the panel needs of a player. Positions are seconds from the start of the WAV."""

    positionChanged = Signal(float)
    playingChanged = Signal(bool)
    problem = Signal(str)

    available = False
    reason = NO_OUTPUT

    def play(self, path: Path, start: float = 0.0) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def seek(self, seconds: float) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def playing(self) -> bool:
        return False


class NullPlayer(Player):
    """A player for machines without audio output: it plays nothing and says why."""

    def __init__(self, reason: str = NO_OUTPUT, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reason = reason

    def play(self, path: Path, start: float = 0.0) -> None:
        self.problem.emit(f"Cannot preview {Path(path).name}: {self.reason}")

    def stop(self) -> None:
        pass

    def seek(self, seconds: float) -> None:
        pass


class QtPlayer(Player):
    """QMediaPlayer with a QAudioOutput."""

    available = True
    reason = ""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

        self._output = QAudioOutput(self)
        self._player = QMediaPlayer(self)
        self._player.setAudioOutput(self._output)
        self._player.positionChanged.connect(lambda ms: self.positionChanged.emit(ms / 1000.0))
        self._player.playbackStateChanged.connect(
            lambda s: self.playingChanged.emit(s == QMediaPlayer.PlaybackState.PlayingState))
        self._player.errorOccurred.connect(lambda _e, text: self.problem.emit(f"Cannot preview: {text}"))
        self._start = 0.0

    def play(self, path: Path, start: float = 0.0) -> None:
        self._player.setSource(QUrl.fromLocalFile(str(path)))
        self._player.setPosition(int(start * 1000))
        self._player.play()

    def stop(self) -> None:
        self._player.stop()

    def seek(self, seconds: float) -> None:
        self._player.setPosition(int(seconds * 1000))

    @property
    def playing(self) -> bool:
        from PySide6.QtMultimedia import QMediaPlayer

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState


def make_player(parent: QObject | None = None, allow_audio: bool = True) -> Player:
    """The real player when QtMultimedia imports and finds an audio output, else a NullPlayer."""
    if not allow_audio:
        return NullPlayer(NO_OUTPUT, parent)
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:  # e.g. libpulse missing
        log.info("preview disabled: QtMultimedia cannot load (%s)", exc)
        return NullPlayer(NO_OUTPUT, parent)
    try:
        if not QMediaDevices.audioOutputs():
            return NullPlayer(NO_OUTPUT, parent)
        return QtPlayer(parent)
    except Exception as exc:  # a backend that fails to start
        log.info("preview disabled: %s", exc)
        return NullPlayer(NO_OUTPUT, parent)
