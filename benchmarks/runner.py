"""The whole run: the sections in their order, each given what the earlier ones made (the
end-to-end clip, the held-out clips), their figures gathered into one JSON-ready dict."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from foleyflow.runtime.session import FoleyModel

from . import decode, e2e, flops, rss, samplers, seams, snr, steps, tuning, variants, velocity
from .backends import load_torch_model
from .config import BenchConfig
from .machine import load_average, machine_info

log = logging.getLogger(__name__)

OnSection = Callable[[str, dict[str, Any]], None]
TORCH_SECTIONS = frozenset({"velocity", "snr"})  # the sections with a PyTorch column


def model_info(model: FoleyModel) -> dict[str, Any]:
    s = model.spec
    return {"name": s.name, "steps": s.default_steps, "solver": s.solver, "guidance": s.guidance,
            "segment_tokens": s.segment_tokens, "context_tokens": s.context_tokens, "segment_seconds": s.segment_seconds}


def run_bench(cfg: BenchConfig, on_section: OnSection | None = None) -> dict[str, Any]:
    """Every section of ``cfg.sections`` (``flops`` brings ``velocity``: it divides by its step time),
    in the order of config.SECTIONS; ``on_section(name, figures)`` as each one ends."""
    own_workdir = cfg.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="foleyflow-bench-")) if own_workdir else Path(cfg.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"machine": machine_info(), "package": str(cfg.package),
                              "checkpoints": None if cfg.checkpoints is None else str(cfg.checkpoints),
                              "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}}
    try:
        model = FoleyModel.load(cfg.package, provider="cpu", threads=cfg.threads)
        secs = set(cfg.sections)
        torch_model = load_torch_model(cfg.checkpoints, cfg.package, cfg.threads) if TORCH_SECTIONS & secs else None
        result["model"] = model_info(model)
        result["section_seconds"] = {}
        clock = [time.perf_counter()]

        def done(name: str, value: dict[str, Any]) -> None:
            result[name] = value
            result["section_seconds"][name] = time.perf_counter() - clock[0]
            clock[0] = time.perf_counter()
            log.info("section %s done in %.1f s", name, result["section_seconds"][name])
            if on_section is not None:
                on_section(name, value)

        if "velocity" in secs or "flops" in secs:
            done("velocity", velocity.bench_velocity(model, torch_model, cfg))
        if "flops" in secs:
            done("flops", flops.bench_flops(model, result["velocity"], cfg))
        e2e_video = None
        if "e2e" in secs:
            figures = e2e.bench_e2e(cfg, workdir)
            e2e_video = figures.pop("_video")
            done("e2e", figures)
        if "rss" in secs:
            done("rss", rss.bench_rss(cfg, workdir))
        if "decode" in secs:
            done("decode", decode.bench_decode(model.spec, cfg, workdir))
        clips = steps.eval_clips(model.spec, cfg.eval_clips) if {"steps", "samplers", "variants"} & secs else None
        if "steps" in secs:
            done("steps", steps.bench_steps(model, cfg, clips))
        if "samplers" in secs:
            done("samplers", samplers.bench_samplers(model, cfg, clips))
        if "seams" in secs:
            done("seams", seams.bench_seams(model, cfg))
        if "snr" in secs:
            done("snr", snr.bench_snr(model, torch_model, cfg))
        if "tuning" in secs:
            done("tuning", tuning.bench_tuning(model, cfg, workdir, e2e_video))
        if "variants" in secs:
            done("variants", variants.bench_variants(model, cfg, workdir, e2e_video, clips))
        result["machine"]["loadavg_end"] = load_average()
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def write_json(path: Path, result: dict[str, Any]) -> None:
    """``--json``: every figure, written atomically."""
    from foleyflow.plugin.atomic import atomic_target

    with atomic_target(Path(path)) as tmp:
        tmp.write_text(json.dumps(result, indent=2, default=str))
