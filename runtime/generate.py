"""Frames in, 48 kHz audio out: the streaming pipeline the plugin calls.

mel tokens (runtime.stream) -> vocoder per segment, with look-back and a held-back
tail cross-faded into the next segment -> polyphase upsampling to 48 kHz -> edge
fades and a soft limiter -> chunks whose total is exactly the requested length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .audio import OUTPUT_RATE, Upsampler, crossfade, edge_fade_gain, soft_limit
from .errors import ModelPackageError
from .session import Backend
from .spec import ModelSpec
from .stream import Cancel, Progress, SamplerSettings, generate_tokens

LOOK_BACK = 32  # mel frames of left context for the vocoder (its receptive field is +-21)
HOLD = 32  # mel frames held back at a segment's end until the next segment arrives
XFADE = 8  # mel frames cross-faded between two segments' vocodings
EDGE_FADE = 240  # 5 ms fades at the clip's ends, at 48 kHz


def upsample_factor(spec: ModelSpec) -> int:
    if OUTPUT_RATE % spec.sample_rate:
        raise ModelPackageError(f"model rate {spec.sample_rate} Hz does not divide {OUTPUT_RATE} Hz")
    return OUTPUT_RATE // spec.sample_rate


def frames_needed(spec: ModelSpec, n_samples: int) -> int:
    """Model-rate video frames (== tokens) consumed to make `n_samples` samples at 48 kHz."""
    n_model = -(-n_samples // upsample_factor(spec))
    return -(-n_model // spec.samples_per_token)


def settings_for(spec: ModelSpec, seed: int = 0, steps: int | None = None, guidance: float | None = None,
                 solver: str | None = None, grid: str = "uniform") -> SamplerSettings:
    return SamplerSettings(seed=seed, steps=steps or spec.default_steps,
                           guidance=spec.guidance if guidance is None else guidance,
                           solver=solver or spec.solver, grid=grid)


def generate_audio(model: Backend, frames: Iterable[np.ndarray], n_samples: int, *, seed: int = 0,
                   steps: int | None = None, guidance: float | None = None, solver: str | None = None,
                   grid: str = "uniform", progress: Progress | None = None,
                   cancel: Cancel | None = None) -> Iterator[np.ndarray]:
    """Yield float32 mono chunks at 48 kHz totalling exactly `n_samples`.

    `frames` are uint8 [S, S, 3] RGB at the model's video rate from the clip's first
    source frame; the last frame is held if they run out.
    """
    spec = model.spec
    if n_samples <= 0:
        return
    settings = settings_for(spec, seed, steps, guidance, solver, grid)
    hop, up = spec.hop_length, upsample_factor(spec)
    total_tokens = frames_needed(spec, n_samples)
    resampler = Upsampler(up)
    out_count = 0

    def emit(model_rate: np.ndarray, final: bool) -> np.ndarray:
        nonlocal out_count
        y = resampler.process(model_rate)
        if final:
            y = np.concatenate([y, resampler.flush()])
        y = y[: n_samples - out_count]
        if final and out_count + len(y) < n_samples:
            y = np.concatenate([y, np.zeros(n_samples - out_count - len(y), np.float32)])
        y = soft_limit(y * edge_fade_gain(n_samples, out_count, len(y), EDGE_FADE))
        out_count += len(y)
        return y

    mel_hist = np.zeros((0, spec.n_mels), np.float32)  # normalised mel frames [hist_start, done)
    hist_start, done, emitted = 0, 0, 0  # in mel frames
    tail: np.ndarray | None = None
    n_total_frames = total_tokens * spec.frames_per_token
    for _seg, tokens in generate_tokens(model, frames, total_tokens, settings, progress, cancel):
        mel_hist = np.concatenate([mel_hist, tokens.reshape(-1, spec.n_mels)])
        done += len(tokens) * spec.frames_per_token
        final = done >= n_total_frames
        voc_start = max(hist_start, emitted - LOOK_BACK)
        audio = model.vocode(mel_hist[voc_start - hist_start :][None])[0]  # [(done - voc_start) * hop]
        a = audio[(emitted - voc_start) * hop :]
        if tail is not None:
            a[: len(tail)] = crossfade(tail, a[: len(tail)])
        if final:
            chunk = a
        else:
            upto = (done - HOLD - emitted) * hop
            chunk, tail = a[:upto], a[upto : upto + XFADE * hop].copy()
            emitted = done - HOLD
        keep = LOOK_BACK + HOLD
        hist_start = max(hist_start, done - keep)
        mel_hist = mel_hist[-(done - hist_start) :]
        yield emit(chunk, final)
        if final:
            return
