"""Section ``steps``: onset F1 (and AP, P, R, energy L1) against the number of steps and the solver, on
held-out synthetic clips, beside the chance row (each clip scored on another clip's ground truth)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.spec import ModelSpec

from .config import BenchConfig
from .sampling import generate_clip, nfe

ROW_METRICS = ("f1", "f1_050", "precision", "recall", "ap", "energy_l1")


def eval_clips(spec: ModelSpec, n: int) -> list:
    """``n`` held-out clips of the test split (export.evaluate's), as the steps and variants sections score them."""
    from foleyflow.export.evaluate import render_eval_clips

    return render_eval_clips(spec, "test", n)


def chance_row(clips: Sequence[Any]) -> dict[str, float]:
    """The metrics of each clip's onsets scored on another clip's ground-truth audio."""
    from foleyflow.export.eval.metrics import mismatched_baseline

    chance = mismatched_baseline([c.audio for c in clips], [c.onsets for c in clips], clips[0].sample_rate)
    return {k: chance[k] for k in ROW_METRICS if k in chance}


def bench_steps(model: Any, cfg: BenchConfig, clips: list | None = None) -> dict[str, Any]:
    """One row per ``cfg.step_configs`` entry (solver, grid, steps), in that order; ``clips``: the
    held-out clips (default: ``cfg.eval_clips`` rendered here)."""
    from foleyflow.export.eval.metrics import evaluate_clips

    clips = clips if clips is not None else eval_clips(model.spec, cfg.eval_clips)
    truth = [c.onsets for c in clips]
    refs = [c.audio for c in clips]
    sr = clips[0].sample_rate
    rows = []
    for solver, grid, steps in cfg.step_configs:
        t0 = time.perf_counter()
        gen = [generate_clip(model, c.frames, c.duration, steps=steps, solver=solver, grid=grid) for c in clips]
        secs = (time.perf_counter() - t0) / len(clips)
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        rows.append({"solver": solver, "grid": grid, "steps": steps, "nfe": nfe(solver, steps),
                     "seconds_per_clip": secs, **{k: res[k] for k in ROW_METRICS}})
    spec = model.spec
    return {"clips": len(clips), "clip_seconds": clips[0].duration, "guidance": spec.guidance,
            "default": {"solver": spec.solver, "steps": spec.default_steps, "grid": "uniform"},
            "rows": rows, "chance": chance_row(clips)}
