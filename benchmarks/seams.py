"""Section ``seams``: onset F1 of events near a segment join (within 0.25 s) against elsewhere, on
long clips with several segments; the clips' ground-truth audio scored the same way beside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import HOLD, frames_needed
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.spec import ModelSpec
from foleyflow.runtime.stream import plan_segments

from .config import BenchConfig
from .sampling import generate_clip

SEAM_WINDOW_S = 0.25
REGIONS = ("near", "elsewhere")
Counts = dict[str, dict[str, int]]  # region -> {"tp", "fp", "fn"}


def seam_times(spec: ModelSpec, n_samples: int) -> dict[str, list[float]]:
    """Where segments join, in seconds: the token boundary (where a segment's new tokens start) and the
    centre of the vocoder's cross-fade (HOLD mel frames before it; runtime.generate)."""
    total = frames_needed(spec, n_samples)
    segs = plan_segments(total, spec.segment_tokens, spec.context_tokens, spec.lookahead_tokens)
    tok_s = spec.samples_per_token / spec.sample_rate
    tokens = [s.new_start * tok_s for s in segs[1:]]
    vocoder = [t - HOLD * spec.hop_length / spec.sample_rate for t in tokens]
    return {"token": tokens, "vocoder": vocoder}


def near_joins(joins: np.ndarray, window_s: float = SEAM_WINDOW_S) -> Callable[[np.ndarray], np.ndarray]:
    """A mask function: which of some times (s) lie within ``window_s`` of any of ``joins`` (s)."""
    joins = np.asarray(joins, np.float64)

    def near(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, np.float64)
        if len(joins) == 0 or len(t) == 0:
            return np.zeros(len(t), bool)
        return np.min(np.abs(t[:, None] - joins[None]), axis=1) <= window_s

    return near


def long_eval_clips(spec: ModelSpec, n: int, seconds: float) -> list:
    """Held-out clips of ``seconds`` with events all along (a striker taps throughout; at 4 s the
    world's scenes go quiet after their first drops)."""
    from foleyflow.export.dataset import downsample
    from foleyflow.export.evaluate import EvalClip, world_config_for
    from foleyflow.world.world import WorldConfig, render_clip, split_seeds

    base = world_config_for("test", spec) or WorldConfig()
    wcfg = replace(base, striker_probability=1.0, strikes=(max(1, int(seconds * 0.5)), max(2, int(seconds * 0.75))),
                   release_time=(-0.3, 0.85))
    render = int(spec.training.get("config", {}).get("data", {}).get("render_size", 2 * spec.frame_size))
    out = []
    for seed in split_seeds("test", n):
        c = render_clip(seed, seconds, Fraction(spec.video_fps), render, spec.sample_rate, wcfg)
        onsets = np.array([e.time for e in c.events if e.kind == "impact"], dtype=np.float64)
        out.append(EvalClip(seed, downsample(c.frames, spec.frame_size), c.audio, c.sample_rate, onsets, "long", seconds))
    return out


def region_counts(pred: np.ndarray, true: np.ndarray, near: Callable[[np.ndarray], np.ndarray],
                  tol: float = 0.1) -> Counts:
    """TP/FP/FN split by region: a true onset by its own time, an unmatched prediction by its own."""
    from foleyflow.export.eval.metrics import match_onsets

    pairs = match_onsets(pred, true, tol)
    mp = np.zeros(len(pred), bool)
    mt = np.zeros(len(true), bool)
    for i, j in pairs:
        mp[i], mt[j] = True, True
    nt, npd = near(true), near(pred)
    out = {}
    for name, sel_t, sel_p in (("near", nt, npd), ("elsewhere", ~nt, ~npd)):
        out[name] = {"tp": int((mt & sel_t).sum()), "fn": int((~mt & sel_t).sum()), "fp": int((~mp & sel_p).sum())}
    return out


def f1_of(c: dict[str, int]) -> float:
    """F1 = 2 TP / (2 TP + FP + FN); NaN where there was nothing to find or to miss."""
    d = 2 * c["tp"] + c["fp"] + c["fn"]
    return 2 * c["tp"] / d if d else float("nan")


def empty_counts() -> Counts:
    return {r: {"tp": 0, "fp": 0, "fn": 0} for r in REGIONS}


def add_counts(acc: Counts, more: Counts) -> None:
    for region, counts in more.items():
        for k, v in counts.items():
            acc[region][k] += v


def bench_seams(model: FoleyModel, cfg: BenchConfig) -> dict[str, Any]:
    from foleyflow.export.eval.metrics import merge_close_events
    from foleyflow.export.eval.onsets import detect_onsets_with_strength

    clips = long_eval_clips(model.spec, cfg.seam_clips, cfg.seam_seconds)
    joins = seam_times(model.spec, round(cfg.seam_seconds * OUTPUT_RATE))
    near = near_joins(np.array(joins["token"] + joins["vocoder"]))
    tot, truth_tot = empty_counts(), empty_counts()
    for c in clips:
        true = merge_close_events(c.onsets)
        for audio, rate, acc in ((generate_clip(model, c.frames, c.duration), OUTPUT_RATE, tot),
                                 (c.audio, c.sample_rate, truth_tot)):
            pred, _ = detect_onsets_with_strength(audio, rate)
            add_counts(acc, region_counts(pred, true, near))
    return {"clips": len(clips), "clip_seconds": cfg.seam_seconds, "window_s": SEAM_WINDOW_S, "joins_s": joins,
            "f1_near": f1_of(tot["near"]), "f1_elsewhere": f1_of(tot["elsewhere"]),
            "gap": f1_of(tot["elsewhere"]) - f1_of(tot["near"]), "counts": tot,
            "ground_truth_f1_near": f1_of(truth_tot["near"]), "ground_truth_f1_elsewhere": f1_of(truth_tot["elsewhere"])}
