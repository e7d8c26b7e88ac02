"""The ``foleyflow`` command.

    foleyflow clips TIMELINE [--rate FPS] [--media-root DIR] [--json]
    foleyflow generate TIMELINE -o OUT [--model DIR] [--clip ID ...] [--steps N] [--seed S] ...

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
from .selection import Selection, parse_record_range
from .timing import parse_rate

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
    g.add_argument("-o", "--output", type=Path, help="output timeline; its suffix picks the format")
    g.add_argument("--model", type=Path, help="model package (default: $FOLEYFLOW_MODEL or the bundled default)")
    g.add_argument("--provider", default="auto", help="execution provider: auto, cpu, cuda, ... (default auto)")
    g.add_argument("--steps", type=_positive, help="sampler steps (default: the model's)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--guidance", type=float, help="classifier-free guidance (default: the model's)")
    g.add_argument("--variations", type=_positive, default=1, help="takes per clip (seeds S, S+1, ...)")
    g.add_argument("--dry-run", action="store_true", help="show what would be generated, and where; write nothing")
    g.add_argument("--in-place", action="store_true", help="write over the input timeline, keeping a backup")
    g.add_argument("--absolute-urls", action="store_true", help="reference WAVs by absolute file:// URLs in .otio")
    return parser


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
        if args.command == "clips":
            return cmd_clips(args)
        return cmd_generate(args)

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
    from .clips import video_clips
    from .media import MediaResolver
    from .report import clips_json, clips_table
    from .selection import plan, select
    from .timeline import read_timeline, record_start

    loaded = read_timeline(args.timeline, args.rate, args.pick)
    start = record_start(loaded)
    clips = video_clips(loaded.timeline, loaded.rate)
    sel = _with_range(_selection(args), args.time_range, loaded.rate, start)
    jobs = plan(select(clips, sel, loaded.timeline), MediaResolver(args.timeline, args.media_root))
    if args.json:
        print(json.dumps({"timeline": loaded.timeline.name, "rate": str(loaded.rate),
                          "clips": clips_json(jobs, loaded.rate, start)}, indent=2))
    else:
        print(f"{loaded.timeline.name or args.timeline.name}: {len(jobs)} video clip(s) at {loaded.rate} fps")
        if jobs:
            print(clips_table(jobs, loaded.rate, start))
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from .generate import Engine, GenerateOptions, default_model_dir
    from .pipeline import GenerateRequest, execute, missing_lines, nothing_to_do_message, plan_run
    from .progress import ProgressBar
    from .report import dry_run_table, seconds_text, summary_table
    from .timeline import read_timeline, record_start

    if args.output is None and not args.in_place:
        raise SelectionError("give the output timeline with -o OUT (or --in-place, which keeps a backup)")
    sel = _selection(args)
    if args.time_range:
        loaded = read_timeline(args.timeline, args.rate, args.pick)
        sel = _with_range(sel, args.time_range, loaded.rate, record_start(loaded))
    request = GenerateRequest(
        timeline=args.timeline, output=args.output or args.timeline, selection=sel,
        media_roots=tuple(args.media_root), rate=args.rate, pick=args.pick,
        options=GenerateOptions(seed=args.seed, steps=args.steps, guidance=args.guidance,
                                variations=args.variations),
        in_place=args.in_place, absolute_urls=args.absolute_urls,
    )
    plan_ = plan_run(request)
    rate, start = plan_.loaded.rate, record_start(plan_.loaded)
    for line in missing_lines(plan_.jobs):
        log.warning("%s", line)
    if args.dry_run:
        print(dry_run_table(plan_.jobs, [plan_.wav_paths(j) for j in plan_.jobs], rate, start))
        target = request.timeline if request.in_place else request.output
        print(f"would write {len(plan_.runnable)} take(s) under {plan_.wav_dir} and the timeline {target} "
              f"({plan_.adapter})")
        return EXIT_OK if plan_.runnable else EXIT_NOTHING_TO_DO
    if not plan_.runnable:
        raise NothingToDoError(f"nothing to do: {nothing_to_do_message(plan_)}", request.timeline)
    model_dir = args.model or default_model_dir()
    t0 = time.perf_counter()
    engine = Engine.load(model_dir, provider=args.provider)
    log.debug("model %s (%s) on %s", engine.spec.name, model_dir, engine.model.provider)
    outcome = execute(plan_, engine, on_event=ProgressBar())
    wall = time.perf_counter() - t0
    results = {r.job.info.id: r for r in outcome.report.results}
    rows = []
    for job in plan_.jobs:
        r = results.get(job.info.id)
        if r is None:
            rows.append((job, job.status, job.media.note or ("media not found" if job.status == "missing" else "")))
        elif r.ok and r.take is not None:
            rows.append((job, "generated", ", ".join(p.name for p in r.take.media)))
        else:
            rows.append((job, "failed", r.error))
    print(summary_table(rows, rate, start))
    audio = outcome.report.audio_seconds
    print(f"{len(outcome.report.takes)} take(s), {seconds_text(audio)} of audio in {seconds_text(wall)}"
          f" (real-time factor {wall / audio if audio else 0:.2f})")
    if outcome.written is not None:
        print(f"wrote {outcome.written} ({plan_.adapter}); WAVs in {plan_.wav_dir}")
    if outcome.backup is not None:
        print(f"kept the original as {outcome.backup}")
    failed = len(outcome.report.failed) + sum(1 for j in plan_.jobs if j.status == "missing")
    if failed:
        print(f"foleyflow: {failed} clip(s) failed or had no media", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
