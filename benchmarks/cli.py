"""``foleyflow bench [options]`` (from the ``foleyflow`` dispatcher), or ``python -m foleyflow.benchmarks.cli``.

The figures and the exact command of the last full run are in docs/BENCHMARKS.md;
``benchmarks/full.sh`` is that command.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from .suite import add_arguments

    parser = argparse.ArgumentParser(prog="foleyflow bench",
                                     description="speed, memory and quality of the runtime, side by side in one run")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["bench"]:
        args_list = args_list[1:]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    from .suite import main as suite_main

    return int(suite_main(build_parser().parse_args(args_list)) or 0)


if __name__ == "__main__":
    sys.exit(main())
