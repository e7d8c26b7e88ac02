"""Run `foleyflow bench` from a checkout: ``python -m benchmarks.bench [options]`` or ``python benchmarks/bench.py``.

The implementation is foleyflow.export.bench (the ML side: it needs the train extra, torch, for
the PyTorch columns). The figures and the exact command of the last full run are in
docs/BENCHMARKS.md; ``benchmarks/full.sh`` is that command.
"""

from __future__ import annotations

import argparse
import sys

from foleyflow.export.bench import add_arguments, main


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description="Foley-Flow benchmarks")
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
