"""What a run tells its front end while it goes: typed events, the run's callbacks, clip outcomes.

One run (:func:`foleyflow.plugin.service.run`) emits, per clip::

    CLIP_START --> SEGMENTS (done/segments, once per segment of all variations) ...
               --> CLIP_DONE (with its take) | CLIP_FAILED (with the message) | CLIP_CANCELLED

``LOADING`` is a front end's own (the panel loads the model in its worker thread). The
kinds are strings too (``EventKind.SEGMENTS == "segments"``): JSON and logs see the
plain value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .strenum import StrEnum

if TYPE_CHECKING:
    from .placement import Take
    from .selection import Job

Progress = Callable[[int, int], None]  # (segments done, segments in all), after each segment
Cancel = Callable[[], bool]  # asked between segments (and before each clip): True stops the run


class EventKind(StrEnum):
    LOADING = "loading"  # the model is being loaded (before any clip)
    CLIP_START = "clip-start"
    SEGMENTS = "segments"  # a segment of every variation of the clip is done
    CLIP_DONE = "clip-done"  # the clip's take is written (``Event.take``)
    CLIP_FAILED = "clip-failed"  # the clip failed (``Event.message``); the run goes on
    CLIP_CANCELLED = "clip-cancelled"  # the run was cancelled during this clip; it left no file


class ClipStatus(StrEnum):
    """How a clip of a run ended."""

    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Event:
    """Progress of a run: one clip's start, its segments, its end."""

    kind: EventKind
    index: int  # of the clip in the run
    total: int  # clips in the run
    job: Job
    done: int = 0  # segments done (kind SEGMENTS), for all variations at once
    segments: int = 0
    message: str = ""  # CLIP_FAILED: why
    take: Take | None = None  # CLIP_DONE: the take, ready to show before the run ends

    @property
    def fraction(self) -> float:
        """How much of the clip is done: 0 at its start, 1 when it ended (done, failed or cancelled)."""
        if self.kind in (EventKind.CLIP_DONE, EventKind.CLIP_FAILED, EventKind.CLIP_CANCELLED):
            return 1.0
        return self.done / self.segments if self.segments else 0.0


EventSink = Callable[[Event], None]
