"""The ``foleyflow`` command.

    foleyflow clips TIMELINE [--rate FPS] [--media-root DIR] [--json]
    foleyflow generate TIMELINE -o OUT [--model DIR] [--clip ID ...] [--steps N] [--seed S] ...
                       [--force] [--executor local|ray [--address ADDR] [--num-cpus N]]
    foleyflow plan TIMELINE -o OUT --jobs JOBS.json [the selection and options of generate]
    foleyflow run-job JOBS.json (--job V1:3 | --index N) [--force]
    foleyflow place JOBS.json [--partial]

The timeline side of the ``foleyflow`` command (:mod:`foleyflow.cli` dispatches here);
the panel, the demo and the ML side have their own modules.

Exit codes: 0 done, 2 bad input, 3 nothing to do, 4 some clips failed, 130 cancelled.
Errors print one line, ``foleyflow: error: <message>``, on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from opentimelineio.opentime import RationalTime

from foleyflow.runtime.errors import FoleyFlowError

from .errors import (
    EXIT_BAD_INPUT,
    EXIT_NOTHING_TO_DO,
    EXIT_OK,
    EXIT_SOME_FAILED,
    NothingToDoError,
    SelectionError,
)
from .lock import output_lock
from .media import MISSING
from .selection import Job, Selection, parse_record_range
from .timing import parse_rate

if TYPE_CHECKING:
    from .service import GenerateRequest

log = logging.getLogger("foleyflow")

EXIT_CANCELLED = 130


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"foleyflow: {record.levelname.lower()}: {msg}"
        return f"foleyflow: {msg}"


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _rate(text: str) -> Fraction:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("timeline", type=Path, help="timeline file (.otio, .otioz, .xml, .fcpxml, .edl, .aaf, ...)")
    p.add_argument("--rate", type=_rate, help="frame rate for formats that carry none, e.g. EDL (24000/1001, 25)")
    p.add_argument("--media-root", type=Path, action="append", default=[], metavar="DIR",
                   help="relink media under DIR: by relative path, basename, then clip name (repeatable)")
    p.add_argument("--timeline", dest="pick", metavar="NAME|N",
                   help="which timeline of a file that holds several (default: the first)")
    p.add_argument("--clip", action="append", default=[], metavar="ID", help="only this clip id (repeatable)")
    p.add_argument("--name", action="append", default=[], metavar="GLOB", help="only clips whose name matches")
    p.add_argument("--track", action="append", default=[], metavar="V1", help="only clips of this video track")
    p.add_argument("--range", dest="time_range", metavar="IN-OUT",
                   help="only clips overlapping this record range (timecodes or seconds)")
    p.add_argument("--marker", action="append", default=[], metavar="GLOB",
                   help="only clips under a marker whose name matches ('*': any marker)")
    p.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more detail")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foleyflow", description="Foley for the clips of an editor's timeline.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    c = sub.add_parser("clips", help="list the video clips of a timeline with their ids and media")
    _add_common(c)
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    g = sub.add_parser("generate", help="generate Foley for clips and write a timeline with Foley tracks")
    _add_common(g)
    _add_generate_options(g)
    g.add_argument("--dry-run", action="store_true", help="show what would be generated, and where; write nothing")
    g.add_argument("--force", action="store_true",
                   help="generate every take again, even one already made with the same inputs (its take key)")
    g.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="where the clips run: this process (default), or one Ray task per clip (the farm extra)")
    g.add_argument("--address", metavar="ADDR", help="with --executor ray: an existing cluster (default: a local one)")
    g.add_argument("--num-cpus", type=_positive, metavar="N",
                   help="with --executor ray: CPUs of the local cluster (default: all)")
    pl = sub.add_parser("plan", help="write a job list for a render farm (one job per clip)")
    _add_common(pl)
    _add_generate_options(pl)
    pl.add_argument("--jobs", type=Path, required=True, metavar="JOBS.json", help="the job list to write")
    rj = sub.add_parser("run-job", help="run one job of a job list (idempotent: a finished take is kept)")
    rj.add_argument("jobs", type=Path, metavar="JOBS.json")
    which = rj.add_mutually_exclusive_group(required=True)
    which.add_argument("--job", metavar="ID", help="the job's id (its clip id, e.g. V1:3)")
    which.add_argument("--index", type=int, metavar="N", help="the job's 0-based index in the list")
    rj.add_argument("--force", action="store_true", help="generate the take again even if it is finished")
    rj.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
    rj.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    pc = sub.add_parser("place", help="place the finished takes of a job list and write its output timeline")
    pc.add_argument("jobs", type=Path, metavar="JOBS.json")
    pc.add_argument("--partial", action="store_true", help="place the takes that exist; skip unfinished jobs")
    pc.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
    pc.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    pv = sub.add_parser("preview", help="render a review MP4: the cut's picture with the Foley takes mixed in")
    pv.add_argument("timeline", type=Path, help="timeline file (with its Foley tracks)")
    pv.add_argument("-o", "--output", type=Path, required=True, help="the review file (.mp4, .m4v, .mov)")
    level = pv.add_mutually_exclusive_group()
    level.add_argument("--original-db", type=float, default=0.0, metavar="DB",
                       help="level of the original audio in dB (default 0)")
    level.add_argument("--mute-original", action="store_true", help="only the Foley takes")
    pv.add_argument("--foley-db", type=float, default=0.0, metavar="DB", help="level of the Foley takes (default 0)")
    pv.add_argument("--size", type=_size, metavar="WxH", help="picture size (default: the first clip's, at most 1280 wide)")
    pv.add_argument("--rate", type=_rate, help="frame rate for formats that carry none, e.g. EDL")
    pv.add_argument("--media-root", type=Path, action="append", default=[], metavar="DIR",
                    help="relink media under DIR (repeatable)")
    pv.add_argument("--timeline", dest="pick", metavar="NAME|N", help="which timeline of a file that holds several")
    pv.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
    pv.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    return parser


def _size(text: str) -> tuple[int, int]:
    from .review import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_generate_options(g: argparse.ArgumentParser) -> None:
    g.add_argument("-o", "--output", type=Path, help="output timeline; its suffix picks the format")
    g.add_argument("--model", type=Path, help="model package (default: $FOLEYFLOW_MODEL or the bundled default)")
    g.add_argument("--provider", default="auto", help="execution provider: auto, cpu, cuda, ... (default auto)")
    g.add_argument("--steps", type=_positive, help="sampler steps (default: the model's)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--guidance", type=float, help="classifier-free guidance (default: the model's)")
    g.add_argument("--prompt-guidance", type=_scale, metavar="G",
                   help="how closely prompted clips follow their --sound/--sound-like: the prompt's own guidance "
                        "scale (default: the model's; a step then runs three rows instead of two)")
    g.add_argument("--sampler", choices=("teacher", "student"),
                   help="student: a package's few-step student (its default where it has one); teacher: the "
                        "guided sampler it was distilled from, the quality setting")
    g.add_argument("--variations", type=_positive, default=1, help="takes per clip (seeds S, S+1, ...)")
    g.add_argument("--sound", action="append", default=[], metavar="[CLIP=]CATEGORY",
                   help="what the clips should sound like: a category of the model's vocabulary (UCS CatID, "
                        "e.g. FEETHmn), for every selected clip or, as V1:3=FEETHmn, for one (repeatable)")
    g.add_argument("--sound-like", action="append", default=[], metavar="[CLIP=]FILE",
                   help="sound like this recording (a reference the model encodes), for every selected clip "
                        "or, as V1:3=ref.wav, for one (repeatable)")
    g.add_argument("--in-place", action="store_true", help="write over the input timeline, keeping a backup")
    g.add_argument("--absolute-urls", action="store_true", help="reference WAVs by absolute file:// URLs in .otio")


def run_guarded(body: Callable[[], int]) -> int:
    """Run a command's body; our errors, a cancel and refused file operations become one line and an exit code."""
    try:
        return body()
    except FoleyFlowError as exc:
        print(f"foleyflow: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("foleyflow: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except OSError as exc:  # the system refused a file operation nothing above turned into our own error
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"foleyflow: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def parse_or_exit_code(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code of --help (0) or a usage error (2) that argparse has printed."""
    try:
        return parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``foleyflow clips|generate ...`` (the subcommand first); return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        args = parse_or_exit_code(build_parser(), args_list)
        if isinstance(args, int):
            return args
        setup_logging(args.verbose - args.quiet)
        commands: dict[str, Callable[[argparse.Namespace], int]] = {
            "clips": cmd_clips, "generate": cmd_generate, "plan": cmd_plan, "run-job": cmd_run_job,
            "place": cmd_place, "preview": cmd_preview}
        return commands[args.command](args)

    return run_guarded(body)


def _selection(args: argparse.Namespace) -> Selection:
    return Selection(ids=tuple(args.clip), names=tuple(args.name), tracks=tuple(args.track),
                     markers=tuple(args.marker))


def _with_range(sel: Selection, text: str | None, rate: Fraction, start: RationalTime) -> Selection:
    if not text:
        return sel
    lo, hi = parse_record_range(text, rate, start)
    return Selection(sel.ids, sel.names, sel.tracks, (lo, hi), sel.markers)


def cmd_clips(args: argparse.Namespace) -> int:
    from .report import clips_json, clips_table
    from .service import open_project

    project = open_project(args.timeline, args.rate, args.pick, args.media_root)
    rate, start = project.rate, project.start
    jobs = project.select(_with_range(_selection(args), args.time_range, rate, start))
    if args.json:
        print(json.dumps({"timeline": project.timeline.name, "rate": str(rate),
                          "clips": clips_json(jobs, rate, start)}, indent=2))
    else:
        print(f"{project.timeline.name or args.timeline.name}: {len(jobs)} video clip(s) at {rate} fps")
        if jobs:
            print(clips_table(jobs, rate, start))
    return EXIT_OK


def _request(args: argparse.Namespace) -> GenerateRequest:
    """The GenerateRequest of generate's (and plan's) arguments."""
    from . import service
    from .generate import GenerateOptions
    from .prompts import parse_sound_args
    from .timeline import read_timeline, record_start

    if args.output is None and not args.in_place:
        raise SelectionError("give the output timeline with -o OUT (or --in-place, which keeps a backup)")
    sel = _selection(args)
    if args.time_range:
        loaded = read_timeline(args.timeline, args.rate, args.pick)
        sel = _with_range(sel, args.time_range, loaded.rate, record_start(loaded))
    return service.GenerateRequest(
        timeline=args.timeline, output=args.output or args.timeline, selection=sel,
        media_roots=tuple(args.media_root), rate=args.rate, pick=args.pick,
        options=GenerateOptions(seed=args.seed, steps=args.steps, guidance=args.guidance,
                                variations=args.variations, sampler=args.sampler,
                                prompt_guidance=args.prompt_guidance,
                                sounds=parse_sound_args(args.sound, args.sound_like)),
        in_place=args.in_place, absolute_urls=args.absolute_urls,
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from . import service
    from .generate import Engine, default_model_dir
    from .progress import ProgressBar
    from .report import dry_run_table, seconds_text, summary_table
    from .takekey import ModelIdentity
    from .timeline import record_start

    request = _request(args)
    plan_ = service.plan(request)
    rate, start = plan_.loaded.rate, record_start(plan_.loaded)
    for line in service.missing_lines(plan_.jobs):
        log.warning("%s", line)
    if args.dry_run:
        print(dry_run_table(plan_.jobs, [plan_.wav_paths(j) for j in plan_.jobs], rate, start))
        print(f"would write {len(plan_.runnable)} take(s) under {plan_.wav_dir} and the timeline {plan_.output} "
              f"({plan_.adapter})")
        return EXIT_OK if plan_.runnable else EXIT_NOTHING_TO_DO
    if not plan_.runnable:
        raise NothingToDoError(f"nothing to do: {service.nothing_to_do_message(plan_)}", request.timeline)
    model_dir = Path(args.model or default_model_dir())
    t0 = time.perf_counter()
    executor: service.Executor
    if args.executor == "ray":
        from .executors import RayExecutor

        executor = RayExecutor(model_dir, args.provider, args.address, args.num_cpus)
    else:
        from .executors import LocalExecutor

        def load() -> Engine:  # only when a clip needs generating: a resumed run may need no model at all
            engine = Engine.load(model_dir, provider=args.provider)
            log.debug("model %s (%s) on %s", engine.spec.name, model_dir, engine.provider)
            return engine

        executor = LocalExecutor(load, ModelIdentity.read(model_dir))
    with output_lock(plan_.output, wait=0.0):  # a second writer of this output is refused, naming the first
        outcome = service.execute(plan_, None, on_event=ProgressBar(), force=args.force, executor=executor)
    wall = time.perf_counter() - t0
    results = {r.job.info.id: r for r in outcome.report.results}
    rows: list[tuple[Job, str, str]] = []
    for job in plan_.jobs:
        r = results.get(job.info.id)
        if r is None:
            rows.append((job, job.status, job.media.note or ("media not found" if job.status == MISSING else "")))
        elif r.ok and r.take is not None:
            rows.append((job, "reused" if r.reused else "generated", ", ".join(p.name for p in r.take.media)))
        else:
            rows.append((job, "failed", r.error))
    print(summary_table(rows, rate, start))
    audio = outcome.report.audio_seconds
    reused = len(outcome.report.reused)
    print(f"{len(outcome.report.takes)} take(s), {seconds_text(audio)} of audio in {seconds_text(wall)}"
          f" (real-time factor {wall / audio if audio else 0:.2f})")
    print(f"{len(outcome.report.takes) - reused} take(s) generated, {reused} reused (already made with the same "
          "inputs; --force makes them again)")
    if outcome.written is not None:
        print(f"wrote {outcome.written} ({plan_.adapter}); WAVs in {plan_.wav_dir}")
    if outcome.backup is not None:
        print(f"kept the original as {outcome.backup}")
    failed = len(outcome.report.failed) + sum(1 for j in plan_.jobs if j.status == MISSING)
    if failed:
        print(f"foleyflow: {failed} clip(s) failed or had no media", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from . import farm, service
    from .generate import default_model_dir

    plan_ = service.plan(_request(args))
    for line in service.missing_lines(plan_.jobs):
        log.warning("%s", line)
    if not plan_.runnable:
        raise NothingToDoError(f"nothing to do: {service.nothing_to_do_message(plan_)}", plan_.request.timeline)
    jobs = farm.job_list(plan_, Path(args.model or default_model_dir()), args.provider, args.jobs)
    jobs.write(args.jobs)
    skipped = len(plan_.jobs) - len(plan_.runnable)
    print(f"wrote {args.jobs}: {len(jobs.jobs)} job(s)" + (f" ({skipped} clip(s) skipped: no media)" if skipped else ""))
    print(f"run each:  {jobs.jobs[0].command_line}   (or --index N, N = 0..{len(jobs.jobs) - 1})")
    print(f"then:      foleyflow place {jobs.path}")
    return EXIT_OK


def cmd_run_job(args: argparse.Namespace) -> int:
    from . import farm

    jobs = farm.JobList.read(args.jobs)
    entry = jobs.entry(args.job, args.index)
    t0 = time.perf_counter()
    result = farm.run_job(jobs, entry.id, force=args.force)
    if result.ok and result.take is not None:
        what = "reused (already made with the same inputs)" if result.reused else "generated"
        print(f"{entry.id} {entry.name!r}: {what}: {', '.join(str(p) for p in result.take.media)} "
              f"({time.perf_counter() - t0:.1f} s)")
        return EXIT_OK
    print(f"foleyflow: error: {entry.id} {entry.name!r}: {result.error or result.status}", file=sys.stderr)
    return EXIT_SOME_FAILED


def cmd_place(args: argparse.Namespace) -> int:
    from . import farm

    jobs = farm.JobList.read(args.jobs)
    saved, got = farm.place(jobs, partial=args.partial)
    print(f"placed {len(got.takes)} take(s) of {len(jobs.jobs)} job(s); wrote {saved.path} ({saved.adapter})")
    if saved.backup is not None:
        print(f"kept the original as {saved.backup}")
    if got.missing:  # --partial: asked for, so not a failure; said all the same
        log.warning("%d job(s) not placed (unfinished): %s", len(got.missing), ", ".join(e.id for e in got.missing))
    return EXIT_OK



def cmd_preview(args: argparse.Namespace) -> int:
    from .review import ReviewOptions, render_review

    options = ReviewOptions(original_db=None if args.mute_original else args.original_db, foley_db=args.foley_db,
                            size=args.size)
    res = render_review(args.timeline, args.output, options, args.media_root, args.rate, args.pick)
    print(f"wrote {res.path}: {res.frames} frames at {res.rate} fps ({res.seconds:.2f} s, {res.size[0]}x{res.size[1]}),"
          f" {res.foley_items} Foley take(s) and {res.original_items} original audio item(s) mixed")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
