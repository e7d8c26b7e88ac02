"""Section ``velocity``: ONNX Runtime vs PyTorch eager per velocity step, same inputs (a window of
tokens, guidance as a batch of two), same thread count on both sides; ms and the ratio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from foleyflow.runtime.session import FoleyModel

from .backends import graph_feeds, set_torch_threads
from .config import BenchConfig
from .timing import ms_summary, time_interleaved


def bench_velocity(model: FoleyModel, torch_model: Any, cfg: BenchConfig) -> dict[str, Any]:
    """Per step at ``cfg.threads`` threads on both sides, and again at one thread on both sides: on a
    loaded machine an OpenMP pool (torch's) can stall on a descheduled thread, which one thread avoids.

    ``speedup`` > 1: onnxruntime is faster (PyTorch's median over onnxruntime's)."""
    from foleyflow.runtime.providers import create_session

    feeds = graph_feeds(model.spec)["velocity"]
    out: dict[str, Any] = {"batch": 2, "tokens": model.spec.segment_tokens, "threads": cfg.threads}
    one = create_session(model.package / model.spec.graphs["velocity"].file, "cpu", 1)[0] if cfg.threads != 1 else None
    for label, threads in (("", cfg.threads), ("_1thread", 1)):
        if label and one is None:
            continue
        sess = model.sessions["velocity"] if not label else one
        fns: dict[str, Callable[[], object]] = {"onnxruntime": lambda s=sess: s.run(None, feeds)}
        if torch_model is not None:
            set_torch_threads(threads)
            fns["pytorch"] = lambda: torch_model.velocity(**feeds)
        ts = time_interleaved(fns, cfg.repeats)
        out[f"onnxruntime{label}"] = ms_summary(ts["onnxruntime"])
        out[f"pytorch{label}"] = ms_summary(ts["pytorch"]) if torch_model is not None else None
        out[f"speedup{label}"] = (out[f"pytorch{label}"]["median_ms"] / out[f"onnxruntime{label}"]["median_ms"]
                                  if torch_model is not None else None)
    if torch_model is not None:
        set_torch_threads(cfg.threads)
        out["max_abs_diff"] = float(np.abs(model.velocity(**feeds) - torch_model.velocity(**feeds)).max())
    else:
        out["note"] = "no --checkpoints: PyTorch not measured"
    return out
