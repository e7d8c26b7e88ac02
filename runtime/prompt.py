"""Sound prompts: what a take should sound like, beside the picture that says when.

A prompt, per call (every variation of one call shares it), is one of::

    None                    auto: the picture decides (every model)
    CategoryPrompt("WOODImpt")  a category of the model's vocabulary (UCS CatIDs, model.json)
    ReferencePrompt(wave)   "sound like this": a mono recording at the model's rate, any length

A model takes prompts when its model.json says ``prompt_dim > 0``; it was trained with each kind
and with condition dropout, so guidance works as without a prompt: the conditioned half of the
guidance batch has the video and the prompt, the unconditioned half neither.

A reference is prepared as in training (:func:`prepare_reference`): from its onset (the first
sample within 30 dB of its peak, less 2 ms), cut or zero-padded to the prompt encoder's length,
peak-normalised (a prompt says what, not how loud). The log-mel front end is inside the
``prompt_encoder`` graph, so the runtime feeds it the waveform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import PromptError
from .spec import ModelSpec

if TYPE_CHECKING:
    from .session import Backend

__all__ = ["CategoryPrompt", "Prompt", "PromptError", "ReferencePrompt", "check_prompt", "prepare_reference",
           "prompt_vector"]

SILENCE_PEAK = 1e-4  # a reference whose peak is below this (-80 dBFS) is silent
ONSET_DB = -30.0  # a reference starts at its first sample within this of its peak
PREROLL_S = 0.002  # ... less this, so the attack's rise is kept


@dataclass(frozen=True)
class CategoryPrompt:
    """A category of the model's vocabulary (``spec.vocabulary``), by name."""

    name: str


@dataclass(frozen=True, eq=False)
class ReferencePrompt:
    """A reference recording: mono float32 at ``spec.sample_rate``, any length (cut or padded inside)."""

    wave: np.ndarray


Prompt = CategoryPrompt | ReferencePrompt | None  # None = auto


def check_prompt(spec: ModelSpec, prompt: Prompt) -> None:
    """PromptError if ``spec``'s model cannot take ``prompt``: a model without prompts given one, a
    category outside its vocabulary, or a reference that is not a mono recording with sound in it."""
    if prompt is None:
        return
    if not isinstance(prompt, CategoryPrompt | ReferencePrompt):
        raise PromptError(f"not a sound prompt: {prompt!r} (a CategoryPrompt, a ReferencePrompt or None)")
    if spec.prompt_dim <= 0:
        raise PromptError(f"model {spec.name} takes no sound prompts (auto only)")
    if isinstance(prompt, CategoryPrompt):
        if prompt.name not in spec.vocabulary:
            near = [v for v in spec.vocabulary if isinstance(prompt.name, str) and v.lower() == prompt.name.lower()]
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise PromptError(f"unknown sound category {prompt.name!r} for model {spec.name}{hint}; "
                              f"its vocabulary: {', '.join(spec.vocabulary)}")
        return
    _reference_wave(prompt.wave)


def _reference_wave(wave: object) -> np.ndarray:
    """The reference as float32 [n]; PromptError for one that is not mono, empty, not finite or silent."""
    try:
        x = np.asarray(wave, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise PromptError(f"the sound reference is not an array of samples ({exc})") from exc
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise PromptError(f"the sound reference must be mono (one channel), not of shape {list(x.shape)}")
    if x.size == 0:
        raise PromptError("the sound reference is empty (0 samples)")
    if not np.all(np.isfinite(x)):
        raise PromptError("the sound reference holds samples that are not finite numbers")
    if float(np.max(np.abs(x))) < SILENCE_PEAK:
        raise PromptError("the sound reference is silent (its peak is below -80 dBFS)")
    return x


def onset_index(x: np.ndarray, sample_rate: int) -> int:
    """Where a reference's sound starts: its first sample within ONSET_DB of its peak, less PREROLL_S."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    peak = float(a.max()) if a.size else 0.0
    if peak <= 0.0:
        return 0
    first = int(np.argmax(a >= peak * 10 ** (ONSET_DB / 20)))
    return max(0, first - int(PREROLL_S * sample_rate))


def prepare_reference(wave: np.ndarray, n_samples: int, sample_rate: int) -> np.ndarray:
    """A reference as the prompt encoder takes it (training prepares its references the same way):
    float32 [n_samples], from its onset on, cut or zero-padded, peak 1 (silence stays zeros)."""
    x = np.asarray(wave, dtype=np.float32).reshape(-1)
    x = x[onset_index(x, sample_rate):][:n_samples]
    out = np.zeros(n_samples, np.float32)
    out[: len(x)] = x
    peak = float(np.max(np.abs(out))) if n_samples else 0.0
    if peak > 0.0:
        out /= peak
    return out


def prompt_vector(model: Backend, prompt: Prompt) -> np.ndarray | None:
    """The prompt as the velocity graph takes it, float32 [1, E]; None for auto. Checks it first
    (:func:`check_prompt`)."""
    spec = model.spec
    check_prompt(spec, prompt)
    if prompt is None:
        return None
    if isinstance(prompt, CategoryPrompt):
        index = np.array([spec.vocabulary.index(prompt.name)], np.int64)
        vec = model.encode_category(index)
    else:
        wave = prepare_reference(_reference_wave(prompt.wave), spec.prompt_samples, spec.sample_rate)
        vec = model.encode_reference(wave[None])
    return np.ascontiguousarray(vec, dtype=np.float32).reshape(1, spec.prompt_dim)
