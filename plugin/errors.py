"""The plugin's errors: narrow subclasses of :class:`FoleyFlowError`.

Each names the file it is about and says what is wrong; the CLI prints
``foleyflow: error: <message>`` and exits with the class's ``exit_code``::

    FoleyFlowError                   (runtime/errors.py, exit 2: bad input)
     +-- TimelineError               a timeline cannot be read or holds no usable timeline
     +-- MediaError                  a media file cannot be decoded or does not cover the clip
     |    +-- MediaMissingError      no media file found for a clip (what was looked for is listed)
     +-- SelectionError              a --clip/--track/--range selection matches nothing it should
     +-- OutputError                 the output cannot be written (format limits, overwrite refused)
     +-- NothingToDoError            the selection holds no clip that can be generated (exit 3)
     +-- SomeClipsFailedError        some clips failed, the rest were written (exit 4)
"""

from __future__ import annotations

from pathlib import Path

from foleyflow.runtime.errors import FoleyFlowError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_NOTHING_TO_DO",
    "EXIT_OK",
    "EXIT_SOME_FAILED",
    "FoleyFlowError",
    "MediaError",
    "MediaMissingError",
    "NothingToDoError",
    "OutputError",
    "SelectionError",
    "SomeClipsFailedError",
    "TimelineError",
]

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # FoleyFlowError's own exit code (and argparse's usage errors)
EXIT_NOTHING_TO_DO = 3
EXIT_SOME_FAILED = 4


class TimelineError(FoleyFlowError):
    """A timeline file cannot be read, or holds no timeline that can be used."""


class MediaError(FoleyFlowError):
    """A clip's media file cannot be decoded, or does not cover the clip's source range."""


class MediaMissingError(MediaError):
    """No media file was found for a clip; ``looked_for`` lists every place tried."""

    def __init__(self, message: str, path: str | Path | None = None, looked_for: tuple[str, ...] = ()) -> None:
        self.looked_for = tuple(looked_for)
        super().__init__(message, path)


class SelectionError(FoleyFlowError):
    """A clip selection names something the timeline does not hold."""


class OutputError(FoleyFlowError):
    """The output cannot be written: a format's limits, or an overwrite that was not asked for."""


class NothingToDoError(FoleyFlowError):
    """The selection holds no clip that can be generated."""

    exit_code = EXIT_NOTHING_TO_DO


class SomeClipsFailedError(FoleyFlowError):
    """Some clips failed; the others were generated and placed."""

    exit_code = EXIT_SOME_FAILED
