"""``foleyflow bench [options]`` (from the ``foleyflow`` dispatcher), or ``python -m foleyflow.benchmarks.cli``.

The figures and the exact command of the last full run are in docs/BENCHMARKS.md;
``benchmarks/full.sh`` is that command. Each section's lines print as it ends, the whole report
at the end; ``--json`` keeps every figure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    from .config import add_arguments

    parser = argparse.ArgumentParser(prog="foleyflow bench",
                                     description="speed, memory and quality of the runtime, side by side in one run")
    add_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """The command for parsed options: run, print, keep the JSON."""
    from .config import config_from_args
    from .report import format_report, format_section
    from .runner import run_bench, write_json

    cfg = config_from_args(args)
    quiet = logging.getLogger("foleyflow")  # the plugin's per-clip lines would bury the figures
    before = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        result = run_bench(cfg, on_section=lambda n, r: print("\n".join(format_section(n, r)) + "\n", flush=True))
    finally:
        quiet.setLevel(before)
    print(format_report(result))
    if args.json:
        write_json(Path(args.json), result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["bench"]:
        args_list = args_list[1:]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    return run(build_parser().parse_args(args_list))


if __name__ == "__main__":
    sys.exit(main())
