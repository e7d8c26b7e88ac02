"""How much work a setting costs (segments, velocity evaluations) and whole-clip generation."""

from __future__ import annotations

from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.spec import ModelSpec
from foleyflow.runtime.stream import plan_segments

_NFE = {"euler": lambda steps: steps, "midpoint": lambda steps: 2 * steps, "heun": lambda steps: 2 * steps - 1}


def nfe(solver: str, steps: int) -> int:
    """Velocity evaluations (each a batch of two with guidance) per window."""
    return _NFE[solver](steps)


def segment_count(spec: ModelSpec, n_samples: int) -> int:
    """Windows the streaming sampler runs for ``n_samples`` at 48 kHz."""
    return len(plan_segments(frames_needed(spec, n_samples), spec.segment_tokens, spec.context_tokens,
                             spec.lookahead_tokens))


def generate_clip(model: Any, frames: np.ndarray | list, seconds: float, seed: int = 0, **kw: Any) -> np.ndarray:
    """The whole take for ``frames`` (at the model's rate) of ``seconds``, at 48 kHz, as one array."""
    n = round(seconds * OUTPUT_RATE)
    return np.concatenate(list(generate_audio(model, list(frames[: frames_needed(model.spec, n)]), n, seed=seed, **kw)))
