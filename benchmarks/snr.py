"""Section ``snr``: the PyTorch and ONNX Runtime pipelines' audio for the same seed (fp32), as an SNR
in dB (target >= 30), beside each graph's largest difference on fixed inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from foleyflow.runtime.session import FoleyModel

from .backends import graph_feeds
from .config import BenchConfig
from .sampling import generate_clip, segment_count
from .seams import long_eval_clips

SNR_SEED = 3
SNR_TARGET_DB = 30.0
GRAPH_METHODS = {"velocity": "velocity", "video_encoder": "encode_video", "vocoder": "vocode"}


def graph_max_abs_diff(model: Any, other: Any) -> dict[str, float]:
    """max |model - other| per graph on the fixed inputs of :func:`backends.graph_feeds`."""
    feeds = graph_feeds(model.spec)
    return {g: float(np.abs(getattr(model, m)(**feeds[g]) - getattr(other, m)(**feeds[g])).max())
            for g, m in GRAPH_METHODS.items()}


def bench_snr(model: FoleyModel, torch_model: Any, cfg: BenchConfig) -> dict[str, Any]:
    """``model``'s take of a held-out clip against ``torch_model``'s (any Backend), same seed."""
    from foleyflow.export.variants import snr_db

    if torch_model is None:
        return {"snr_db": None, "note": "no --checkpoints: PyTorch not run"}
    clip = long_eval_clips(model.spec, 1, cfg.snr_seconds)[0]
    a_ort = generate_clip(model, clip.frames, cfg.snr_seconds, seed=SNR_SEED)
    a_pt = generate_clip(torch_model, clip.frames, cfg.snr_seconds, seed=SNR_SEED)
    return {"seconds": cfg.snr_seconds, "seed": SNR_SEED, "snr_db": snr_db(a_ort, a_pt),
            "graph_max_abs_diff": graph_max_abs_diff(model, torch_model),
            "segments": segment_count(model.spec, len(a_ort)), "target_db": SNR_TARGET_DB}
