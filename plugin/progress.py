"""A text progress bar on stderr (no dependency): redrawn in place on a terminal, lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .events import Event, EventKind


class ProgressBar:
    """Renders generation events: one bar per clip, segments filling it."""

    def __init__(self, stream: TextIO | None = None, width: int = 28) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._started = time.perf_counter()

    def __call__(self, event: Event) -> None:
        head = f"[{event.index + 1}/{event.total}] {event.job.info.id} {event.job.info.name}"
        if event.kind == EventKind.SEGMENTS and self.tty:
            frac = event.done / event.segments if event.segments else 0.0
            fill = int(round(frac * self.width))
            bar = "#" * fill + "-" * (self.width - fill)
            self.stream.write(f"\r{head[:48]:48} [{bar}] {frac * 100:3.0f}%")
            self.stream.flush()
        elif event.kind == EventKind.CLIP_DONE:
            self._end_line(f"{head}: done ({time.perf_counter() - self._started:.1f} s elapsed)")
        elif event.kind == EventKind.CLIP_FAILED:
            self._end_line(f"{head}: FAILED: {event.message}")
        elif event.kind == EventKind.CLIP_CANCELLED:
            self._end_line(f"{head}: cancelled")

    def _end_line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 90 + "\r")
        self.stream.write(text + "\n")
        self.stream.flush()
