"""What a bench run measures and how much: :class:`BenchConfig`, and the ``foleyflow bench`` options
that build it (:func:`add_arguments`, :func:`config_from_args`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# every section, in the order they run and print (docs/BENCHMARKS.md follows it)
SECTIONS: tuple[str, ...] = ("velocity", "flops", "e2e", "rss", "decode", "steps", "samplers", "seams", "snr",
                             "tuning", "variants")


@dataclass
class BenchConfig:
    """What to measure and how much (``quick()`` gives the sizes the tests use)."""

    package: Path
    checkpoints: Path | None = None  # training folder of the package: enables the PyTorch columns
    threads: int = 2  # onnxruntime intra-op threads and torch threads alike
    repeats: int = 30  # timed calls per measurement (interleaved between the contenders)
    matmul_n: int = 2048
    e2e_seconds: float = 60.0
    video_size: int = 256  # synthetic media frame size (square), decoded and resized to the model's
    rss_seconds: tuple[float, ...] = (10.0, 60.0, 600.0)
    rss_steps: int | None = 4  # memory does not depend on steps; None = the model's default
    step_configs: tuple[tuple[str, str, int], ...] = (
        ("euler", "uniform", 4), ("euler", "uniform", 8), ("euler", "uniform", 16), ("euler", "uniform", 32),
        ("euler", "shifted", 8), ("midpoint", "uniform", 4), ("midpoint", "uniform", 8),
        ("heun", "uniform", 5), ("heun", "uniform", 9),
    )
    eval_clips: int = 10
    student_steps: tuple[int, ...] = (1, 2, 4)  # section samplers: the student's rows (with its default)
    seam_clips: int = 40
    seam_seconds: float = 16.0
    snr_seconds: float = 12.0
    variants: tuple[str, ...] = ("int8",)  # fp16 is for GPUs: add it where CUDA runs
    decode_sizes: tuple[tuple[int, int], ...] = ((256, 256), (1280, 720), (1920, 1080))  # (width, height)
    decode_seconds: float = 10.0
    sections: tuple[str, ...] = SECTIONS
    workdir: Path | None = None  # media and WAVs (default: a temporary folder, removed afterwards)

    @classmethod
    def quick(cls, package: Path, checkpoints: Path | None = None, **kw: Any) -> BenchConfig:
        """Toy sizes: every section in seconds. ``kw`` sets any field, a quick size included."""
        sizes: dict[str, Any] = dict(
            repeats=3, matmul_n=256, e2e_seconds=3.0, video_size=64, rss_seconds=(2.0, 8.0), rss_steps=1,
            decode_sizes=((64, 64), (128, 72)), decode_seconds=2.0,
            step_configs=(("euler", "uniform", 2), ("midpoint", "uniform", 1)), student_steps=(1,),
            eval_clips=2, seam_clips=1, seam_seconds=8.0, snr_seconds=5.0)
        return cls(package, checkpoints, **{**sizes, **kw})


def parse_sections(text: str) -> tuple[str, ...]:
    """``--only``'s value: comma-separated section names, each one of :data:`SECTIONS`."""
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in names if s not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(unknown) or repr(text)}; "
                                         f"choose from {', '.join(SECTIONS)}")
    return names


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--package", help="model package (default: the plugin's default model)")
    p.add_argument("--checkpoints", help="the package's training folder (for the PyTorch columns)")
    p.add_argument("--threads", type=int, default=2, help="threads for onnxruntime and torch alike (default 2)")
    p.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes): for tests")
    p.add_argument("--json", help="write every figure here as JSON")
    p.add_argument("--only", type=parse_sections,
                   help="comma-separated sections to run (default all): " + ", ".join(SECTIONS))
    p.add_argument("--e2e-seconds", type=float, help="length of the end-to-end clip (default 60)")
    p.add_argument("--clips", type=int, help="held-out clips for the steps table (default 10)")
    p.add_argument("--rss-steps", type=int, help="steps for the RSS runs (default 4; 0 = the model's default)")
    p.add_argument("--variant", action="append", choices=("int8", "fp16"), help="variants to compare (default int8)")
    p.add_argument("--workdir", help="keep media and WAVs here (default: a temporary folder)")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    if args.package:
        package = Path(args.package)
    else:
        from foleyflow.plugin.generate import default_model_dir

        package = default_model_dir()
    kw: dict[str, Any] = {"threads": args.threads}
    if args.workdir:
        kw["workdir"] = Path(args.workdir)
    if args.only:
        kw["sections"] = parse_sections(args.only) if isinstance(args.only, str) else tuple(args.only)
    if args.variant:
        kw["variants"] = tuple(args.variant)
    ck = Path(args.checkpoints) if args.checkpoints else None
    cfg = BenchConfig.quick(package, ck, **kw) if args.quick else BenchConfig(package, ck, **kw)
    if args.e2e_seconds:
        cfg.e2e_seconds = args.e2e_seconds
    if args.clips:
        cfg.eval_clips = args.clips
    if args.rss_steps is not None:
        cfg.rss_steps = args.rss_steps or None
    return cfg
