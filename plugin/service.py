"""The application service: plan, run, place, save. The CLI, the panel and the hosts all go through it.

::

    open_project(TIMELINE) ........ a timeline, its clips, their media (the panel's document)
    plan(GenerateRequest) ......... the same for a selection and a known output: output checks, format
                                    limits, name lengths and a preflight write, before any work
    run(engine, jobs, wav_dir) .... THE run loop: a take per runnable job, typed events, cancellation,
                                    one exception policy (below), takes reused by their take key
                                    (plugin/takekey.py) -> RunReport
    place(loaded, takes) .......... a copy of the timeline with the takes on Foley tracks (what a front end shows)
    save(loaded, takes, OUTPUT) ... THE save path: format check, format limits, take URLs rebased for
                                    OUTPUT's folder, placement, atomic write, a backup when in place
    execute(plan, engine) ......... run, then save what was made: ``foleyflow generate``

The exception policy of :func:`run`: a clip's failure never stops the others; it is kept with
its message (our errors as ``str(exc)``, foreign ones as ``"TypeName: message"`` with the
traceback at debug level). A clip that fails or is cancelled leaves no file of its own: the WAVs
it created are removed, never ones that existed before. A cancel stops within one segment; the
takes finished before it are kept in the report. Ctrl-C (KeyboardInterrupt) cleans up the same
way and goes on up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import opentimelineio as otio

from foleyflow.runtime.errors import CancelledError, FoleyFlowError

from . import generate, takekey
from .atomic import check_fits
from .clips import ClipInfo, video_clips
from .errors import NothingToDoError, OutputError
from .events import Cancel, ClipStatus, Event, EventKind, EventSink
from .generate import Engine, GenerateOptions, take_paths, wav_dir_for
from .media import MediaResolver, MediaStatus
from .output import check_limits, check_output, url_policy, write_timeline
from .placement import Take, file_url, place_takes, rebase_take_urls
from .prompts import check_clip_ids, resolve_prompts
from .selection import Job, Selection, select
from .selection import plan as plan_jobs
from .timeline import LoadedTimeline, read_timeline, record_start
from .timing import SAMPLE_RATE

if TYPE_CHECKING:
    from foleyflow.runtime.prompt import Prompt

log = logging.getLogger(__name__)


# == opening and planning ==============================================================================
@dataclass
class Project:
    """An open timeline: its video clips, and each clip's job (media resolved when first asked for)."""

    loaded: LoadedTimeline
    clips: list[ClipInfo]
    resolver: MediaResolver
    _jobs: dict[str, Job] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> Path:
        return self.loaded.path

    @property
    def rate(self) -> Fraction:
        return self.loaded.rate

    @property
    def timeline(self) -> otio.schema.Timeline:
        return self.loaded.timeline

    @property
    def start(self) -> otio.opentime.RationalTime:
        """The record timecode of the timeline's first frame."""
        return record_start(self.loaded)

    @property
    def jobs(self) -> list[Job]:
        """A job per clip, in timeline order."""
        return [self.job(c.id) for c in self.clips]

    def job(self, clip_id: str) -> Job:
        """The job of clip ``clip_id`` (KeyError if the timeline has no such clip)."""
        if clip_id not in self._jobs:
            info = next((c for c in self.clips if c.id == clip_id), None)
            if info is None:
                raise KeyError(clip_id)
            self._jobs[clip_id] = plan_jobs([info], self.resolver)[0]
        return self._jobs[clip_id]

    def select(self, selection: Selection) -> list[Job]:
        """The jobs of the clips ``selection`` picks, in timeline order (SelectionError for unknown ids/tracks)."""
        return [self.job(c.id) for c in select(self.clips, selection, self.loaded.timeline)]


def open_project(path: str | Path, rate: Fraction | None = None, pick: str | int | None = None,
                 media_roots: Sequence[str | Path] = ()) -> Project:
    """Read a timeline (``pick``: which one of a collection, 1-based or by name) and list its clips."""
    loaded = read_timeline(Path(path), rate, pick)
    return Project(loaded, video_clips(loaded.timeline, loaded.rate), MediaResolver(loaded.path, media_roots))


@dataclass(frozen=True)
class GenerateRequest:
    """What ``foleyflow generate`` (or a host) asks for."""

    timeline: Path
    output: Path
    selection: Selection = Selection()
    media_roots: tuple[Path, ...] = ()
    rate: Fraction | None = None
    pick: str | None = None  # which timeline of a collection
    options: GenerateOptions = GenerateOptions()
    in_place: bool = False
    absolute_urls: bool = False

    @property
    def target(self) -> Path:
        """The timeline file that is written: the output, or the input itself in place."""
        return self.timeline if self.in_place else self.output


@dataclass
class RunPlan:
    request: GenerateRequest
    loaded: LoadedTimeline
    clips: list[ClipInfo]  # every clip of the timeline
    jobs: list[Job]  # the selected ones, with media and status
    adapter: str  # output writer
    wav_dir: Path

    @property
    def runnable(self) -> list[Job]:
        return [j for j in self.jobs if j.runnable]

    @property
    def output(self) -> Path:
        return self.request.target

    def wav_paths(self, job: Job) -> list[Path]:
        return take_paths(job, self.wav_dir, self.request.options)


def plan(request: GenerateRequest) -> RunPlan:
    """Everything up to generation: output checks, clips, selection, media, limits, a preflight.

    Nothing is generated or written (a dry run stops here); bad input raises its FoleyFlowError.
    """
    output = request.target
    adapter = check_output(output, request.timeline, request.in_place)
    loaded = read_timeline(request.timeline, request.rate, request.pick)
    check_limits(adapter, loaded.timeline, loaded.rate, output)
    clips = video_clips(loaded.timeline, loaded.rate)
    chosen = select(clips, request.selection, loaded.timeline)
    check_clip_ids(request.options.sounds, (c.id for c in clips))
    jobs = plan_jobs(chosen, MediaResolver(request.timeline, request.media_roots))
    plan_ = RunPlan(request, loaded, clips, jobs, adapter, wav_dir_for(output))
    for job in plan_.runnable:
        for wav in plan_.wav_paths(job):
            check_fits(wav)
    preflight(plan_)
    return plan_


def preflight(plan_: RunPlan) -> None:
    """Write the planned result once, with placeholder takes, to a scratch folder: a format that
    cannot carry it fails here (OutputError), before minutes of generation."""
    output = plan_.output
    if plan_.adapter == "otio_json" or not plan_.runnable:
        return
    takes = [Take(j.info.id, j.info.track, j.info.name, j.info.record_range, tuple(plan_.wav_paths(j)))
             for j in plan_.runnable]
    placed = place_takes(plan_.loaded.timeline, takes, plan_.loaded.rate, url_policy(plan_.adapter, output))
    with tempfile.TemporaryDirectory(prefix="foleyflow-preflight-") as scratch:
        try:
            write_timeline(placed, Path(scratch) / output.name, plan_.adapter, rate=plan_.loaded.rate,
                           media_base=plan_.loaded.path.resolve().parent)
        except OutputError as exc:
            raise OutputError(exc.message, output) from exc


def nothing_to_do_message(plan_: RunPlan) -> str:
    if not plan_.clips:
        return "the timeline holds no video clip"
    if not plan_.jobs:
        return "the selection matches no clip"
    counts: dict[str, int] = {}
    for j in plan_.jobs:
        counts[str(j.status)] = counts.get(str(j.status), 0) + 1
    return "no selected clip can be generated (" + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")"


def missing_lines(jobs: Sequence[Job], limit: int = 6) -> list[str]:
    """One line per clip whose media was not found, with what was looked for."""
    lines = []
    for j in jobs:
        if j.status != MediaStatus.MISSING:
            continue
        tried = list(j.media.looked_for)
        shown = "; ".join(tried[:limit]) + (f"; ... ({len(tried) - limit} more)" if len(tried) > limit else "")
        why = f" ({j.media.note})" if j.media.note else ""
        lines.append(f"{j.info.id} {j.info.name!r}: media not found{why}; looked for: {shown or 'nothing'}")
    return lines


# == running =====================================================================================
@dataclass
class ClipResult:
    job: Job
    status: ClipStatus
    take: Take | None = None
    error: str = ""  # FAILED: why (CANCELLED: where the cancel stopped it)
    wall_s: float = 0.0
    reused: bool = False  # DONE without generating: its take key matched a finished take

    @property
    def ok(self) -> bool:
        return self.status == ClipStatus.DONE and self.take is not None


@dataclass
class RunReport:
    """What a run made: one result per clip it started, in order; whether it was cancelled."""

    results: list[ClipResult] = field(default_factory=list)
    wall_s: float = 0.0
    cancelled: bool = False
    cancel_message: str = ""
    segments_after_cancel: int = 0  # segments finished after the cancel was asked for (at most 1)

    @property
    def takes(self) -> list[Take]:
        return [r.take for r in self.results if r.ok and r.take is not None]

    @property
    def failed(self) -> list[ClipResult]:
        return [r for r in self.results if r.status == ClipStatus.FAILED]

    @property
    def reused(self) -> list[ClipResult]:
        """The clips whose finished take was found by its key, not generated."""
        return [r for r in self.results if r.ok and r.reused]

    @property
    def audio_seconds(self) -> float:
        return sum(r.job.n_samples for r in self.results if r.ok) / SAMPLE_RATE


def failure_message(exc: BaseException) -> str:
    """A failed clip's message: ours as they are, anyone else's (a codec, ONNX Runtime) with its kind."""
    if isinstance(exc, FoleyFlowError):
        return str(exc)
    log.debug("a clip failed", exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


EngineLoader = Callable[[], Engine]  # loads the model when a clip first needs it (none when all are reused)

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"  # set: every take's "created" is this time (reproducible results)


def run(
    engine: Engine | EngineLoader,
    jobs: Sequence[Job],
    wav_dir: Path,
    options: GenerateOptions,
    on_event: EventSink | None = None,
    cancel: Cancel | None = None,
    *,
    force: bool = False,
    model: takekey.ModelIdentity | None = None,
) -> RunReport:
    """Generate a take for every runnable job in ``jobs``, one clip at a time, in the calling thread.

    A job whose take key (:mod:`foleyflow.plugin.takekey`) matches a finished take under ``wav_dir``
    is not generated: its take comes from the sidecar (``ClipResult.reused``) unless ``force``.
    ``engine`` may be a loader, called once when the first clip needs generating; ``model`` then
    names the model for the keys (its checksum and defaults, :meth:`ModelIdentity.read`).

    Never raises for a clip (see the module's exception policy) nor for a cancel (the report says
    ``cancelled``); a WAV folder this run created and left empty is removed.
    """
    emit: EventSink = on_event or _ignore
    asked: Cancel = cancel or _never
    runnable = [j for j in jobs if j.runnable]
    total = len(runnable)
    report = RunReport()
    started = time.perf_counter()
    fresh = not _exists(wav_dir)
    after = [0]  # segments finished while a cancel was pending
    loaded: list[Engine] = [engine] if isinstance(engine, Engine) else []
    if model is None:
        if not loaded:
            raise ValueError("run: give the model's identity with an engine loader")
        model = takekey.ModelIdentity.of_engine(loaded[0])
    model.check_sampler(options)  # a sampler the model lacks stops the run before anything is written
    created = _created()
    prompts: dict[str, Prompt] | None = None
    if loaded and options.sounds.any:  # bad prompts stop the run before anything is written
        prompts = resolve_prompts(runnable, options.sounds, loaded[0].spec)
    try:
        for i, job in enumerate(runnable):
            if asked():
                report.cancelled = True
                report.cancel_message = f"cancelled before clip {i + 1} of {total}"
                break
            emit(Event(EventKind.CLIP_START, i, total, job))
            t = time.perf_counter()
            key = takekey.take_key(job, options, model)
            old = None if force else takekey.reusable_take(job, wav_dir, options, key)
            if old is not None:
                log.debug("%s %r: reusing its take (key %s...)", job.info.id, job.info.name, (key or "")[:12])
                report.results.append(ClipResult(job, ClipStatus.DONE, old, "", time.perf_counter() - t, True))
                emit(Event(EventKind.CLIP_DONE, i, total, job, take=old))
                continue
            paths = take_paths(job, wav_dir, options)
            existed = {p for p in paths if _exists(p)}

            def progress(done: int, segments: int, i: int = i, job: Job = job) -> None:
                if asked():
                    after[0] += 1
                emit(Event(EventKind.SEGMENTS, i, total, job, done, segments))

            if not loaded:  # a model that cannot be loaded stops the run (it is not one clip's failure)
                loaded.append(engine())  # type: ignore[operator]
            if prompts is None:  # so do prompts the model cannot take, checked before its first take
                prompts = resolve_prompts(runnable, options.sounds, loaded[0].spec) if options.sounds.any else {}
            try:
                takekey.forget(wav_dir, job.info.id)  # the WAVs change below: the old record goes first
                take = generate.generate_take(loaded[0], job, wav_dir, options, progress, asked, created,
                                              prompts.get(job.info.id))
                take = _record(take, wav_dir, key)
            except CancelledError as exc:
                _remove_new(paths, existed)
                report.results.append(ClipResult(job, ClipStatus.CANCELLED, None, str(exc), time.perf_counter() - t))
                report.cancelled, report.cancel_message = True, str(exc)
                emit(Event(EventKind.CLIP_CANCELLED, i, total, job, message=str(exc)))
                break
            except Exception as exc:  # one clip's failure never stops the others
                _remove_new(paths, existed)
                message = failure_message(exc)
                report.results.append(ClipResult(job, ClipStatus.FAILED, None, message, time.perf_counter() - t))
                emit(Event(EventKind.CLIP_FAILED, i, total, job, message=message))
                continue
            except BaseException:  # Ctrl-C: this clip leaves no file either, and the interrupt goes on
                _remove_new(paths, existed)
                raise
            report.results.append(ClipResult(job, ClipStatus.DONE, take, "", time.perf_counter() - t))
            emit(Event(EventKind.CLIP_DONE, i, total, job, take=take))
    finally:
        report.segments_after_cancel = after[0]
        report.wall_s = time.perf_counter() - started
        if fresh:
            _remove_sidecar_dir_if_empty(wav_dir)
            _remove_if_empty(wav_dir)
    return report


def _created() -> str | None:
    """The takes' "created" time: ``$SOURCE_DATE_EPOCH`` when set (reproducible), else None (now)."""
    epoch = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    if not epoch.isdigit():
        return None
    return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat(timespec="seconds")


def _record(take: Take, wav_dir: Path, key: str | None) -> Take:
    """The take with its key in its metadata, and its sidecar written (a failure to write it is a warning:
    the take is whole, a later run just makes it again)."""
    if key is None:
        return take
    take = replace(take, metadata={**take.metadata, "take_key": key})
    try:
        takekey.write_sidecar(wav_dir, take, key)
    except (OSError, FoleyFlowError) as exc:
        log.warning("%s: cannot record the take of %s for reuse (%s)", wav_dir, take.source_clip_id, exc)
    return take


def _remove_sidecar_dir_if_empty(wav_dir: Path) -> None:
    with contextlib.suppress(OSError):
        (wav_dir / takekey.SIDECAR_DIR).rmdir()


class Executor(Protocol):
    """Runs a plan's runnable jobs somewhere (this process, a Ray cluster: plugin/executors.py)."""

    def run(self, plan_: RunPlan, on_event: EventSink | None, cancel: Cancel | None, force: bool) -> RunReport: ...


def _ignore(_event: Event) -> None:
    return None


def _never() -> bool:
    return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system: nothing can be there
        return False


def _remove_new(paths: Iterable[Path], existed: set[Path]) -> None:
    """Remove the WAVs of ``paths`` that a failed or cancelled clip created (never ones there before)."""
    for p in paths:
        if p not in existed:
            with contextlib.suppress(OSError):
                p.unlink()


def _remove_if_empty(folder: Path) -> None:
    """Remove the WAV folder a run created if it holds nothing (every clip failed, or a cancel)."""
    with contextlib.suppress(OSError):
        folder.rmdir()  # fails, as it should, when anything is inside


# == placing and saving ===========================================================================
def place(loaded: LoadedTimeline, takes: Sequence[Take], url_for: Callable[[Path], str] = file_url
          ) -> otio.schema.Timeline:
    """A copy of the timeline with ``takes`` on Foley tracks, replacing earlier takes of the same clips."""
    return place_takes(loaded.timeline, list(takes), loaded.rate, url_for)


@dataclass(frozen=True)
class Saved:
    path: Path
    adapter: str
    timeline: otio.schema.Timeline  # what was written (before the format's own fitting)
    backup: Path | None = None  # the input's copy, when written in place


def save(loaded: LoadedTimeline, takes: Sequence[Take], output: str | Path, *, in_place: bool = False,
         absolute_urls: bool = False, lock_wait: float = 10.0) -> Saved:
    """Write ``loaded``'s timeline with ``takes`` placed to ``output`` (format from its suffix).

    The one save path: the format is checked and its limits (OutputError before anything is written),
    take URLs already in the timeline are re-made for ``output``'s folder (relative URLs in an .otio
    resolve from the saved file's folder; elsewhere they are absolute), the write is atomic, and the
    input is never overwritten unless ``in_place``, which keeps a backup first. The write holds
    ``OUTPUT.foleyflow.lock`` (:mod:`foleyflow.plugin.lock`): another writer of the same output makes
    this one wait up to ``lock_wait`` seconds, then LockHeldError names the holder.
    """
    from .lock import output_lock

    output = Path(output)
    adapter = check_output(output, loaded.path, in_place)
    check_limits(adapter, loaded.timeline, loaded.rate, output)
    url_for = url_policy(adapter, output, absolute_urls)
    base = rebase_take_urls(loaded.timeline, loaded.path.resolve().parent, url_for)
    placed = place_takes(base, list(takes), loaded.rate, url_for)
    with output_lock(output, wait=lock_wait):
        backup = write_timeline(placed, output, adapter, in_place=in_place, rate=loaded.rate,
                                media_base=loaded.path.resolve().parent)
    return Saved(output, adapter, placed, backup)


# == the main job in one call =====================================================================
@dataclass
class Outcome:
    plan: RunPlan
    report: RunReport
    timeline: otio.schema.Timeline | None = None  # the written timeline (None when nothing was generated)
    written: Path | None = None
    backup: Path | None = None
    skipped: list[Job] = field(default_factory=list)  # not runnable: missing, generator, disabled


def execute(
    plan_: RunPlan,
    engine: Engine | None,
    on_event: EventSink | None = None,
    cancel: Cancel | None = None,
    *,
    force: bool = False,
    executor: Executor | None = None,
) -> Outcome:
    """Run the plan's jobs and save the timeline with every take made (nothing when none was).

    ``executor`` runs the jobs elsewhere (a Ray cluster); without one, :func:`run` does, on ``engine``.
    ``force`` makes takes whose key matches a finished take again.

    NothingToDoError when no selected clip can be generated; CancelledError after a cancel (nothing
    is placed or written; the WAVs of takes finished before it stay whole).
    """
    request = plan_.request
    if not plan_.runnable:
        raise NothingToDoError(nothing_to_do_message(plan_), request.timeline)
    if executor is not None:
        report = executor.run(plan_, on_event, cancel, force)
    elif engine is not None:
        report = run(engine, plan_.runnable, plan_.wav_dir, request.options, on_event, cancel, force=force)
    else:
        raise ValueError("execute: give an engine or an executor")
    if report.cancelled:
        raise CancelledError(report.cancel_message or "cancelled")
    outcome = Outcome(plan_, report, skipped=[j for j in plan_.jobs if not j.runnable])
    if not report.takes:
        return outcome
    saved = save(plan_.loaded, report.takes, plan_.output, in_place=request.in_place,
                 absolute_urls=request.absolute_urls)
    outcome.timeline, outcome.written, outcome.backup = saved.timeline, saved.path, saved.backup
    return outcome
