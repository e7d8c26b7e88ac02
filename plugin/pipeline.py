"""The main job in two steps, for the CLI, the panel and scripts.

``plan_run``: read the timeline, list and select clips, resolve media, check the
output can be written; nothing is generated or written (a dry run stops here).
``execute``: generate every runnable job, place the takes on a copy of the
timeline and write it atomically (the input is never modified)::

    request --plan_run--> RunPlan (timeline, jobs, output adapter, WAV folder)
    RunPlan + Engine --execute--> Outcome (takes, failures, written timeline)
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from .atomic import check_fits
from .clips import ClipInfo, video_clips
from .errors import NothingToDoError, OutputError
from .generate import Engine, Event, GenerateOptions, RunReport, run_jobs, take_paths, wav_dir_for
from .media import MediaResolver
from .output import check_limits, check_output, url_policy, write_timeline
from .placement import Take, place_takes, rebase_take_urls
from .selection import Job, Selection, plan, select
from .timeline import LoadedTimeline, read_timeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerateRequest:
    timeline: Path
    output: Path
    selection: Selection = Selection()
    media_roots: tuple[Path, ...] = ()
    rate: Fraction | None = None
    pick: str | None = None  # which timeline of a collection
    options: GenerateOptions = GenerateOptions()
    in_place: bool = False
    absolute_urls: bool = False


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

    def wav_paths(self, job: Job) -> list[Path]:
        return take_paths(job, self.wav_dir, self.request.options)


@dataclass
class Outcome:
    plan: RunPlan
    report: RunReport
    timeline: otio.schema.Timeline | None = None  # the written timeline (None when nothing was generated)
    written: Path | None = None
    backup: Path | None = None
    skipped: list[Job] = field(default_factory=list)  # not runnable: missing, generator, disabled


def plan_run(request: GenerateRequest) -> RunPlan:
    """Everything up to generation: clips, selection, media, output checks. Raises on bad input."""
    output = request.timeline if request.in_place else request.output
    adapter = check_output(output, request.timeline, request.in_place)
    loaded = read_timeline(request.timeline, request.rate, request.pick)
    check_limits(adapter, loaded.timeline, loaded.rate, output)
    clips = video_clips(loaded.timeline, loaded.rate)
    chosen = select(clips, request.selection, loaded.timeline)
    resolver = MediaResolver(request.timeline, request.media_roots)
    jobs = plan(chosen, resolver)
    plan_ = RunPlan(request, loaded, clips, jobs, adapter, wav_dir_for(output))
    for job in plan_.runnable:
        for wav in plan_.wav_paths(job):
            check_fits(wav)
    preflight(plan_, output)
    return plan_


def preflight(plan_: RunPlan, output: Path) -> None:
    """Write the planned result once, with placeholder takes, to a scratch folder: a format that
    cannot carry it fails here (OutputError), before minutes of generation."""
    if plan_.adapter == "otio_json" or not plan_.runnable:
        return
    takes = [Take(j.info.id, j.info.track, j.info.name, j.info.record_range, tuple(plan_.wav_paths(j)))
             for j in plan_.runnable]
    placed = place_takes(plan_.loaded.timeline, takes, plan_.loaded.rate, url_policy(plan_.adapter, output))
    with tempfile.TemporaryDirectory(prefix="foleyflow-preflight-") as scratch:
        try:
            write_timeline(placed, Path(scratch) / output.name, plan_.adapter)
        except OutputError as exc:
            raise OutputError(exc.message, output) from exc


def nothing_to_do_message(plan_: RunPlan) -> str:
    if not plan_.clips:
        return "the timeline holds no video clip"
    if not plan_.jobs:
        return "the selection matches no clip"
    counts: dict[str, int] = {}
    for j in plan_.jobs:
        counts[j.status] = counts.get(j.status, 0) + 1
    return "no selected clip can be generated (" + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")"


def execute(
    plan_: RunPlan,
    engine: Engine,
    on_event: Callable[[Event], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Outcome:
    """Generate, place and write. NothingToDoError when no selected clip can be generated."""
    request = plan_.request
    if not plan_.runnable:
        raise NothingToDoError(nothing_to_do_message(plan_), request.timeline)
    output = request.timeline if request.in_place else request.output
    fresh = not plan_.wav_dir.exists()
    try:
        report = run_jobs(engine, plan_.runnable, plan_.wav_dir, request.options, on_event, cancel)
    except BaseException:  # a cancel: leave no empty WAV folder behind
        _remove_if_empty(plan_.wav_dir, fresh)
        raise
    outcome = Outcome(plan_, report, skipped=[j for j in plan_.jobs if not j.runnable])
    if not report.takes:
        _remove_if_empty(plan_.wav_dir, fresh)
        return outcome
    url_for = url_policy(plan_.adapter, output, request.absolute_urls)
    base = rebase_take_urls(plan_.loaded.timeline, request.timeline.resolve().parent, url_for)
    placed = place_takes(base, report.takes, plan_.loaded.rate, url_for)
    outcome.backup = write_timeline(placed, output, plan_.adapter, in_place=request.in_place)
    outcome.timeline = placed
    outcome.written = output
    return outcome


def _remove_if_empty(folder: Path, created_by_us: bool) -> None:
    """Remove the WAV folder this run created if it holds nothing (every clip failed, or a cancel)."""
    if created_by_us:
        with contextlib.suppress(OSError):
            folder.rmdir()  # fails, as it should, when anything is inside


def missing_lines(jobs: Sequence[Job], limit: int = 6) -> list[str]:
    """One line per clip whose media was not found, with what was looked for."""
    lines = []
    for j in jobs:
        if j.status != "missing":
            continue
        tried = list(j.media.looked_for)
        shown = "; ".join(tried[:limit]) + (f"; ... ({len(tried) - limit} more)" if len(tried) > limit else "")
        why = f" ({j.media.note})" if j.media.note else ""
        lines.append(f"{j.info.id} {j.info.name!r}: media not found{why}; looked for: {shown or 'nothing'}")
    return lines
