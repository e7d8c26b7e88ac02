"""The ``foleyflow`` command: a thin dispatcher to the side that owns each subcommand.

Nothing here imports a side until its subcommand runs, so ``foleyflow generate`` never
loads Qt or torch, ``foleyflow panel`` never loads torch, and no side imports another just
to offer its subcommands::

    foleyflow clips | generate | plan | run-job | place
                                       -> foleyflow.plugin.cli     (timelines; numpy, OTIO, onnxruntime)
    foleyflow library index | fetch    -> foleyflow.plugin.library_cli (sound libraries; soundfile)
    foleyflow panel                    -> foleyflow.ui.app         (Qt)
    foleyflow train | export | eval    -> foleyflow.export.cli     (torch)
    foleyflow bench                    -> foleyflow.benchmarks.cli (the others; torch for some columns)
    foleyflow demo                     -> foleyflow.demo           (the synthetic world + the plugin)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module, help); each module has ``main(argv) -> int`` taking the whole argv
# (the subcommand name first), except where its entry below says otherwise.
COMMANDS: dict[str, tuple[str, str]] = {
    "clips": ("foleyflow.plugin.cli", "list the video clips of a timeline with their ids and media"),
    "generate": ("foleyflow.plugin.cli", "generate Foley for clips and write a timeline with Foley tracks"),
    "plan": ("foleyflow.plugin.cli", "write a job list for a render farm: one job per clip"),
    "run-job": ("foleyflow.plugin.cli", "run one job of a job list (idempotent by its take key)"),
    "place": ("foleyflow.plugin.cli", "place a job list's finished takes and write its output timeline"),
    "preview": ("foleyflow.plugin.cli", "render a review MP4 of the cut with the Foley takes mixed in"),
    "library": ("foleyflow.plugin.library_cli", "index a sound library (UCS names or a CSV); fetch the default one"),
    "demo": ("foleyflow.demo", "render synthetic media, build a demo timeline and generate its Foley"),
    "panel": ("foleyflow.ui.app", "open the Qt panel"),
    "train": ("foleyflow.export.cli", "train a model (needs the 'train' extra: torch)"),
    "export": ("foleyflow.export.cli", "export checkpoints as a model package (needs torch)"),
    "eval": ("foleyflow.export.cli", "evaluate model packages on held-out clips (needs torch)"),
    "bench": ("foleyflow.benchmarks.cli", "speed, memory and quality, side by side in one run"),
}


def usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: foleyflow COMMAND [options]   (foleyflow COMMAND --help for its options)", "",
             "Foley for the clips of an editor's timeline.", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_m, help_) in COMMANDS.items()]
    lines += ["", "Exit codes: 0 done, 2 bad input, 3 nothing to do, 4 some clips failed, 130 cancelled."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``foleyflow ARGV``; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] == "--version":
        from foleyflow import __version__

        print(f"foleyflow {__version__}")
        return 0
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(usage(), file=sys.stderr)
        print(f"\nfoleyflow: error: unknown command {args[0]!r}", file=sys.stderr)
        return 2
    module = importlib.import_module(entry[0])
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
