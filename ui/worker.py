"""Generation in a worker thread: progress and the result come back to the GUI thread as signals.

The thread runs :func:`foleyflow.ui.engine.run_generation` (the model, then the plugin's
``service.run``: the run loop the command line uses); its signals are emitted from the
worker thread and delivered queued to receivers in the GUI thread.
``cancel()`` only sets a flag (safe from any thread): the runtime checks it
between segments, so a run stops within one segment.

Lifetime: a QThread destroyed while it runs aborts the process. The owner keeps
a reference until ``finished`` and, when it closes, calls :meth:`stop` (cancel,
quit, wait) before it goes away.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from foleyflow.plugin.review import ReviewOptions, render_review
from foleyflow.plugin.selection import Job
from foleyflow.runtime.errors import FoleyFlowError

from . import qtcompat  # noqa: F401 (guards None's refcount on affected PySide6 builds)
from .engine import EngineCache, RunResult, RunSettings, run_generation

log = logging.getLogger(__name__)


class GenerateThread(QThread):
    """One run: ``progressed(RunProgress)`` while it goes, ``completed(RunResult)`` once at the end."""

    progressed = Signal(object)
    completed = Signal(object)

    def __init__(self, engines: EngineCache, settings: RunSettings, jobs: Sequence[Job],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engines = engines
        self.settings = settings
        self.jobs = list(jobs)
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the run to stop before its next segment."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:  # the worker thread
        try:
            result = run_generation(self.engines, self.settings, self.jobs, self.progressed.emit, self._cancel.is_set)
        except Exception as exc:  # never let an exception escape a thread: say it in the panel
            log.exception("generation failed")
            result = RunResult(error=f"generation stopped: {type(exc).__name__}: {exc}")
        self.completed.emit(result)

    def stop(self) -> None:
        """Cancel and wait until the thread has ended (it ends within one segment)."""
        self.cancel()
        self.quit()
        self.wait()


class ReviewThread(QThread):
    """A review render (:func:`foleyflow.plugin.review.render_review`): ``completed(ReviewResult | str)`` once.

    The result is the plugin's ReviewResult, or the reason in plain words when nothing was written.
    ``cleanup`` (a temporary folder holding the timeline to render) is removed when the render ends.
    A render cannot be cancelled: :meth:`stop` waits for it.
    """

    completed = Signal(object)

    def __init__(self, timeline: Path, output: Path, options: ReviewOptions, media_roots: Sequence[str] = (),
                 cleanup: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.output = output
        self.options = options
        self.media_roots = list(media_roots)
        self.cleanup = cleanup

    def run(self) -> None:  # the worker thread
        result: object
        try:
            result = render_review(self.timeline, self.output, self.options, self.media_roots)
        except FoleyFlowError as exc:
            result = str(exc)
        except Exception as exc:  # never let an exception escape a thread: say it in the panel
            log.exception("review render failed")
            result = f"{self.output}: the review render stopped: {type(exc).__name__}: {exc}"
        finally:
            if self.cleanup is not None:
                shutil.rmtree(self.cleanup, ignore_errors=True)
        self.completed.emit(result)

    def stop(self) -> None:
        self.quit()
        self.wait()
