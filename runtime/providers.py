"""Execution providers, chosen explicitly, with a fallback that is checked, not assumed.

onnxruntime-gpu lists CUDA (and TensorRT) as *available* on machines without CUDA
libraries; asking for them then logs an error and silently runs on CPU. So we ask,
then read ``session.get_providers()`` to learn what actually runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from .errors import ModelPackageError, ProviderError

log = logging.getLogger(__name__)

# In order of preference for "auto".
AUTO_ORDER = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider", "CPUExecutionProvider")
ALIASES = {"cuda": "CUDAExecutionProvider", "coreml": "CoreMLExecutionProvider", "directml": "DmlExecutionProvider",
           "dml": "DmlExecutionProvider", "cpu": "CPUExecutionProvider"}


def provider_name(name: str) -> str:
    """'cuda' -> 'CUDAExecutionProvider'; full names pass through; 'auto' stays 'auto'."""
    if name == "auto":
        return name
    full = ALIASES.get(name.lower(), name)
    if full not in set(ALIASES.values()) and not full.endswith("ExecutionProvider"):
        raise ProviderError(f"unknown execution provider {name!r} (choose auto, {', '.join(ALIASES)})")
    return full


def candidates(requested: str = "auto") -> list[str]:
    """Providers to try, in order, always ending with CPU for 'auto'."""
    available = set(ort.get_available_providers())
    req = provider_name(requested)
    if req == "auto":
        return [p for p in AUTO_ORDER if p in available]
    if req not in available:
        raise ProviderError(f"execution provider {req} is not in this onnxruntime build "
                            f"(available: {', '.join(sorted(available))})")
    return [req] if req == "CPUExecutionProvider" else [req, "CPUExecutionProvider"]


OPT_LEVELS = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}


@dataclass(frozen=True)
class Tuning:
    """Session options beyond the thread count (``foleyflow bench`` measures each of them).

    ``spinning``: whether idle intra-op threads busy-wait for the next piece of work
    (onnxruntime's own default, ``None``, is to spin). Off by default here: a velocity step is a
    chain of small ops, and between steps and segments the same process decodes video (PyAV's
    threads) and resamples; spinning threads take the cores those need, and on a workstation
    the editing application wants them too. Measured on a 2-core machine under load, the
    60 s clip ran 2.7x faster end to end with spinning off (docs/BENCHMARKS.md).
    """

    opt_level: str = "all"  # disable, basic, extended, all (onnxruntime's graph optimisation levels)
    spinning: bool | None = False  # None: onnxruntime's default (spin)
    sequential: bool = True  # ORT_SEQUENTIAL; the graphs are chains, parallel execution only adds threads

    def __post_init__(self) -> None:
        if self.opt_level not in OPT_LEVELS:
            raise ValueError(f"unknown graph optimisation level {self.opt_level!r} (choose {', '.join(OPT_LEVELS)})")


def session_options(threads: int | None = None, tuning: Tuning | None = None) -> ort.SessionOptions:
    tuning = tuning or Tuning()
    so = ort.SessionOptions()
    so.graph_optimization_level = OPT_LEVELS[tuning.opt_level]
    if threads:
        so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL if tuning.sequential else ort.ExecutionMode.ORT_PARALLEL
    if tuning.spinning is not None:
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if tuning.spinning else "0")
    so.log_severity_level = 3  # a provider that cannot start is reported by us, once
    return so


def create_session(path: Path, requested: str = "auto", threads: int | None = None,
                   tuning: Tuning | None = None) -> tuple[ort.InferenceSession, str]:
    """Open one graph; returns the session and the provider that actually runs it."""
    order = candidates(requested)
    if len(order) > 1:
        # a provider that cannot start is reported once, by us, not by onnxruntime's own logger
        ort.set_default_logger_severity(4)
    try:
        sess = ort.InferenceSession(str(path), sess_options=session_options(threads, tuning), providers=order)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelPackageError(f"onnxruntime cannot load this graph: {exc}", path) from exc
    actual = sess.get_providers()[0]
    if actual != order[0]:
        log.info("%s is listed by onnxruntime but could not start here (missing GPU libraries?); using %s",
                 order[0], actual)
    wanted = provider_name(requested)
    if wanted not in ("auto", "CPUExecutionProvider") and actual != wanted:
        raise ProviderError(f"{wanted} was asked for but cannot run here (onnxruntime fell back to {actual}); "
                            "use --provider auto or cpu", path)
    return sess, actual
