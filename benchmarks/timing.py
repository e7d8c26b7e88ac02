"""Timing contenders side by side: interleaved calls, and the figures kept of them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 2,
                     block: int = 5) -> dict[str, list[float]]:
    """Seconds per call of each function, ``repeats`` calls each, the contenders taking turns in
    blocks of ``block`` calls so that a change in machine load hits them alike. Each turn starts
    with one untimed call: thread pools (onnxruntime's, OpenMP's) spin for a while after their
    last call and would otherwise bill the next contender for it."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    out: dict[str, list[float]] = {k: [] for k in fns}
    while len(next(iter(out.values()))) < repeats:
        for k, f in fns.items():
            f()
            for _ in range(min(block, repeats - len(out[k]))):
                t0 = time.perf_counter()
                f()
                out[k].append(time.perf_counter() - t0)
    return out


def ms_summary(ts: list[float]) -> dict[str, float]:
    """The median and the fastest of call times in seconds, in milliseconds."""
    return {"median_ms": 1e3 * statistics.median(ts), "min_ms": 1e3 * min(ts)}
