"""Execution providers, chosen explicitly, with a fallback that is checked, not assumed.

onnxruntime-gpu lists CUDA (and TensorRT) as *available* on machines without CUDA
libraries; asking for them then logs an error and silently runs on CPU. So we ask,
then read ``session.get_providers()`` to learn what actually runs.
"""

from __future__ import annotations

import logging
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


def session_options(threads: int | None = None) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # a provider that cannot start is reported by us, once
    return so


def create_session(path: Path, requested: str = "auto", threads: int | None = None) -> tuple[ort.InferenceSession, str]:
    """Open one graph; returns the session and the provider that actually runs it."""
    order = candidates(requested)
    if len(order) > 1:
        # a provider that cannot start is reported once, by us, not by onnxruntime's own logger
        ort.set_default_logger_severity(4)
    try:
        sess = ort.InferenceSession(str(path), sess_options=session_options(threads), providers=order)
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
