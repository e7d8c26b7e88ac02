"""Frames in, 48 kHz audio out: the streaming pipeline the plugin calls.

mel tokens (runtime.stream) -> vocoder per segment, with look-back and a held-back
tail cross-faded into the next segment -> polyphase upsampling to 48 kHz -> edge
fades and a soft limiter -> chunks whose total is exactly the requested length.

:func:`generate_variations` makes several takes of one clip (one per seed) as the
rows of one batch; :func:`generate_audio` is its one-seed case. Both take a sound prompt
(:mod:`runtime.prompt`; None: auto), shared by every variation of the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from .audio import OUTPUT_RATE, Upsampler, crossfade, edge_fade_gain, soft_limit
from .errors import ModelPackageError
from .prompt import Prompt, prompt_vector
from .session import Backend, fixed_batch
from .spec import SAMPLERS, ModelSpec
from .stream import Cancel, Progress, SamplerSettings, generate_token_rows
from .timebase import frames_for_samples

LOOK_BACK = 32  # mel frames of left context for the vocoder (its receptive field is +-21)
HOLD = 32  # mel frames held back at a segment's end until the next segment arrives
XFADE = 8  # mel frames cross-faded between two segments' vocodings
EDGE_FADE = 240  # 5 ms fades at the clip's ends, at 48 kHz


def upsample_factor(spec: ModelSpec) -> int:
    if OUTPUT_RATE % spec.sample_rate:
        raise ModelPackageError(f"model rate {spec.sample_rate} Hz does not divide {OUTPUT_RATE} Hz")
    return OUTPUT_RATE // spec.sample_rate


def frames_needed(spec: ModelSpec, n_samples: int) -> int:
    """Model-rate video frames (== tokens) consumed to make `n_samples` samples at 48 kHz.

    The spec ties video_fps to sample_rate / samples_per_token, so this is the one frames-for-samples
    conversion (:func:`runtime.timebase.frames_for_samples`) at the model's video rate.
    """
    upsample_factor(spec)  # a model rate that does not divide 48 kHz is refused here too
    return frames_for_samples(n_samples, spec.video_fps)


def settings_for(spec: ModelSpec, seed: int = 0, steps: int | None = None, guidance: float | None = None,
                 solver: str | None = None, grid: str = "uniform", prompt_guidance: float | None = None,
                 sampler: str | None = None) -> SamplerSettings:
    """The sampler settings of a call: each one given, else the package's default (``prompt_guidance``:
    the package's, else the call's ``guidance``; it only acts on prompted takes; ``sampler``: teacher or
    student, default the package's, and the steps default to that sampler's)."""
    sampler = sampler or spec.sampler
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    if sampler == "student" and not spec.student_steps:
        raise ValueError(f"model {spec.name} has no student sampler (its samplers: teacher)")
    g = spec.guidance if guidance is None else guidance
    if prompt_guidance is None:
        prompt_guidance = spec.prompt_guidance if spec.prompt_guidance is not None else g
    return SamplerSettings(seed=seed, steps=steps or spec.sampler_steps(sampler), guidance=g,
                           solver=solver or spec.solver, grid=grid, prompt_guidance=prompt_guidance, sampler=sampler)


def generate_audio(model: Backend, frames: Iterable[np.ndarray], n_samples: int, *, seed: int = 0,
                   steps: int | None = None, guidance: float | None = None, solver: str | None = None,
                   grid: str = "uniform", progress: Progress | None = None,
                   cancel: Cancel | None = None, prompt: Prompt = None,
                   prompt_guidance: float | None = None, sampler: str | None = None) -> Iterator[np.ndarray]:
    """Yield float32 mono chunks at 48 kHz totalling exactly `n_samples`.

    `frames` are uint8 [S, S, 3] RGB at the model's video rate from the clip's first
    source frame; the last frame is held if they run out. ``prompt``: a sound prompt
    (runtime.prompt; PromptError, before any work, if the model cannot take it), None for
    auto. This is :func:`generate_variations` with the one seed.
    """
    for chunk in generate_variations(model, frames, n_samples, (seed,), steps=steps, guidance=guidance,
                                     solver=solver, grid=grid, progress=progress, cancel=cancel, prompt=prompt,
                                     prompt_guidance=prompt_guidance, sampler=sampler):
        yield chunk[0]


def generate_variations(model: Backend, frames: Iterable[np.ndarray], n_samples: int, seeds: Sequence[int], *,
                        steps: int | None = None, guidance: float | None = None, solver: str | None = None,
                        grid: str = "uniform", progress: Progress | None = None,
                        cancel: Cancel | None = None, prompt: Prompt = None,
                        prompt_guidance: float | None = None, sampler: str | None = None) -> Iterator[np.ndarray]:
    """Yield float32 chunks [V, n] at 48 kHz, row v the take of ``seeds[v]``, each row totalling exactly `n_samples`.

    The V variations share the work that does not depend on the seed: `frames` (as for
    :func:`generate_audio`) are read once, the video encoder runs once per window, every
    solver step is one velocity call over the V rows (a batch of 2V with guidance) and
    every segment one vocoder call over the V rows. Where a package's graph has a fixed
    batch axis, that graph runs once per row instead (the encoder still once per window).

    Row v is :func:`generate_audio` with ``seed=seeds[v]`` up to float rounding (the graphs'
    kernels round differently at other batch sizes): its noise is drawn from (seeds[v], k)
    per segment k, whatever the other seeds. Progress counts segments, once per segment
    for all rows; cancellation is checked between segments.

    ``prompt`` (runtime.prompt) is checked first (PromptError) and encoded once: every row has
    it; guidance's unconditioned rows drop it with the video. None: auto, as for a model without
    prompts. ``prompt_guidance``: the prompt's own guidance scale (runtime.stream.make_velocity;
    default the package's ``prompt_guidance``, else ``guidance``). ``sampler``: teacher (the guided
    velocity graph) or student (a package's few-step student: one row per take per step); default the
    package's ``sampler``, and ``steps`` that sampler's (``ModelSpec.sampler_steps``).
    """
    spec = model.spec
    if n_samples <= 0:
        return
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("generate_variations needs at least one seed")
    vector = prompt_vector(model, prompt)  # [1, E], or None for auto; PromptError before any work
    settings = settings_for(spec, seeds[0], steps, guidance, solver, grid, prompt_guidance, sampler)
    n_rows, hop, up = len(seeds), spec.hop_length, upsample_factor(spec)
    total_tokens = frames_needed(spec, n_samples)
    resamplers = [Upsampler(up) for _ in seeds]
    vocode_rows = None if fixed_batch(spec, "vocoder") is None else 1
    out_count = 0

    def emit(model_rate: np.ndarray, final: bool) -> np.ndarray:  # [V, n] at the model's rate -> [V, m] at 48 kHz
        nonlocal out_count
        rows = [r.process(a) for r, a in zip(resamplers, model_rate, strict=True)]
        if final:
            rows = [np.concatenate([y, r.flush()]) for y, r in zip(rows, resamplers, strict=True)]
        y = np.stack(rows)[:, : n_samples - out_count]
        if final and out_count + y.shape[1] < n_samples:
            y = np.pad(y, ((0, 0), (0, n_samples - out_count - y.shape[1])))
        y = soft_limit(y * edge_fade_gain(n_samples, out_count, y.shape[1], EDGE_FADE))
        out_count += y.shape[1]
        return y

    mel_hist = np.zeros((n_rows, 0, spec.n_mels), np.float32)  # normalised mel frames [hist_start, done) per row
    hist_start, done, emitted = 0, 0, 0  # in mel frames
    tail: np.ndarray | None = None  # [V, XFADE * hop]
    n_total_frames = total_tokens * spec.frames_per_token
    for _seg, tokens in generate_token_rows(model, frames, total_tokens, settings, progress, cancel, seeds=seeds,
                                                   prompt=vector):
        mel_hist = np.concatenate([mel_hist, tokens.reshape(n_rows, -1, spec.n_mels)], axis=1)
        done += tokens.shape[1] * spec.frames_per_token
        final = done >= n_total_frames
        voc_start = max(hist_start, emitted - LOOK_BACK)
        audio = _vocode(model, mel_hist[:, voc_start - hist_start :], vocode_rows)  # [V, (done - voc_start) * hop]
        a = audio[:, (emitted - voc_start) * hop :]
        if tail is not None:
            for row, row_tail in zip(a, tail, strict=True):
                row[: len(row_tail)] = crossfade(row_tail, row[: len(row_tail)])
        if final:
            chunk = a
        else:
            upto = (done - HOLD - emitted) * hop
            chunk, tail = a[:, :upto], a[:, upto : upto + XFADE * hop].copy()
            emitted = done - HOLD
        keep = LOOK_BACK + HOLD
        hist_start = max(hist_start, done - keep)
        mel_hist = mel_hist[:, -(done - hist_start) :]
        yield emit(chunk, final)
        if final:
            return


def _vocode(model: Backend, mel: np.ndarray, rows_per_call: int | None) -> np.ndarray:
    """mel [V, F, n_mels] -> audio [V, F * hop]: one call, or calls of `rows_per_call` rows (a fixed batch axis)."""
    if rows_per_call is None:
        return model.vocode(mel)
    return np.concatenate([model.vocode(mel[a : a + rows_per_call]) for a in range(0, len(mel), rows_per_call)])
