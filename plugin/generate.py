"""Generate one clip's take: decode -> runtime -> WAVs, every variation from one decode.

The runtime (ONNX Runtime) is imported only when a model is loaded
(:meth:`Engine.load`), so listing clips or a dry run never needs it. Tests give
:class:`Engine` a fake model and generator function.

Per clip::

    record range --timing--> n_samples, model-rate frame times --decode (once)--> frames [S, S, 3]
    frames --engine.variations--> float32 chunks [V, n] at 48 kHz --wavio.write_wavs--> NAME_seedS.wav x V

The V variations (seeds S, S+1, ...) share everything but their noise: the clip is
decoded once, the video encoder runs once per window, the seeds go through the
sampler as the rows of one batch (``runtime.generate.generate_variations``), and the
V WAVs are committed together (all or none). Running the jobs of a timeline, with its
exception policy, is :func:`foleyflow.plugin.service.run`.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .decode import FrameReader, MediaInfo, probe
from .errors import MediaError, OutputError
from .events import Cancel, Progress
from .media import VIDEO_EXTENSIONS, media_start
from .placement import Take
from .prompts import SoundPlan
from .selection import Job
from .timing import SAMPLE_RATE, TimeMap, model_frame_times, seconds, timecode
from .wavio import safe_name, write_wavs

if TYPE_CHECKING:
    from foleyflow.runtime.prompt import Prompt
    from foleyflow.runtime.session import Backend
    from foleyflow.runtime.spec import ModelSpec

    class LoadedModel(Backend, Protocol):
        """A Backend the plugin can name in a take: runtime.session.FoleyModel (or a test's fake)."""

        checksum: str  # sha256 of model.json
        provider: str  # the execution provider that runs it


log = logging.getLogger(__name__)

MODEL_ENV = "FOLEYFLOW_MODEL"
OVERRUN_LIMIT = Fraction(1)  # seconds a clip may run past its media's ends (holding the edge frame)


class GenerateFn(Protocol):
    """One seed's take: float32 mono chunks at 48 kHz totalling ``n_samples`` (``runtime.generate.generate_audio``)."""

    def __call__(self, model: Backend, frames: Iterable[np.ndarray], n_samples: int, *, seed: int = 0,
                 steps: int | None = None, guidance: float | None = None, progress: Progress | None = None,
                 cancel: Cancel | None = None, prompt: Prompt = None) -> Iterator[np.ndarray]: ...


class VariationsFn(Protocol):
    """Several seeds' takes as rows: float32 chunks [V, n] at 48 kHz, each row totalling ``n_samples``
    (``runtime.generate.generate_variations``: one read of ``frames``, one video encode per window)."""

    def __call__(self, model: Backend, frames: Iterable[np.ndarray], n_samples: int, seeds: Sequence[int], *,
                 steps: int | None = None, guidance: float | None = None, progress: Progress | None = None,
                 cancel: Cancel | None = None, prompt: Prompt = None) -> Iterator[np.ndarray]: ...


FramesNeededFn = Callable[["ModelSpec", int], int]  # (spec, samples at 48 kHz) -> model-rate frames consumed


def default_model_dir() -> Path:
    """``$FOLEYFLOW_MODEL``, else the bundled ``foleyflow.models`` package's ``default``."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    import foleyflow.models

    return Path(foleyflow.models.__file__).resolve().parent / "default"


@dataclass
class Engine:
    """A loaded model and the runtime functions that drive it (swappable in tests).

    ``generate_fn`` makes one seed's take; ``variations_fn`` several at once (rows of one batch).
    Without ``variations_fn``, several seeds run ``generate_fn`` side by side on one decode of the
    clip (:func:`interleave_seeds`).
    """

    model: LoadedModel
    generate_fn: GenerateFn
    frames_needed_fn: FramesNeededFn
    variations_fn: VariationsFn | None = None

    @classmethod
    def load(cls, package: str | Path, provider: str = "auto") -> Engine:
        """Load a model package (checksums verified by the runtime)."""
        from foleyflow.runtime.generate import frames_needed, generate_audio, generate_variations
        from foleyflow.runtime.session import FoleyModel
        from foleyflow.runtime.spec import read_spec

        read_spec(package)  # a missing folder or model.json is said as such (not as a missing variant)
        return cls(FoleyModel.load(package, provider=provider), generate_audio, frames_needed, generate_variations)

    @property
    def spec(self) -> ModelSpec:
        return self.model.spec

    @property
    def provider(self) -> str:
        return str(self.model.provider)

    def frames_needed(self, n_samples: int) -> int:
        return int(self.frames_needed_fn(self.model.spec, n_samples))

    def metadata(self) -> dict[str, Any]:
        spec = self.model.spec
        return {"model": spec.name, "model_version": spec.version, "model_checksum": self.model.checksum,
                "provider": self.model.provider}

    def variations(self, frames: Iterable[np.ndarray], n_samples: int, seeds: Sequence[int], *,
                   steps: int | None = None, guidance: float | None = None, progress: Progress | None = None,
                   cancel: Cancel | None = None, prompt: Prompt = None,
                   sampler: str | None = None, prompt_guidance: float | None = None) -> Iterator[np.ndarray]:
        """float32 chunks [V, n] at 48 kHz, row v the take of ``seeds[v]``; ``frames`` are read once.
        ``prompt`` (runtime.prompt; None: auto), ``sampler`` and ``prompt_guidance`` (None: the model's) are
        passed on only when given (a prompt guidance only with a prompt)."""
        seeds = [int(s) for s in seeds]
        extra: dict[str, Any] = {} if prompt is None else {"prompt": prompt}
        if sampler is not None:
            extra["sampler"] = sampler
        if prompt is not None and prompt_guidance is not None:
            extra["prompt_guidance"] = prompt_guidance
        if len(seeds) == 1:
            for chunk in self.generate_fn(self.model, frames, n_samples, seed=seeds[0], steps=steps,
                                          guidance=guidance, progress=progress, cancel=cancel, **extra):
                yield np.asarray(chunk, np.float32).reshape(1, -1)
        elif self.variations_fn is not None:
            yield from self.variations_fn(self.model, frames, n_samples, seeds, steps=steps, guidance=guidance,
                                          progress=progress, cancel=cancel, **extra)
        else:
            yield from interleave_seeds(self.generate_fn, self.model, frames, n_samples, seeds, steps=steps,
                                        guidance=guidance, progress=progress, cancel=cancel, **extra)


def interleave_seeds(generate_fn: GenerateFn, model: Backend, frames: Iterable[np.ndarray], n_samples: int,
                     seeds: Sequence[int], *, steps: int | None = None, guidance: float | None = None,
                     progress: Progress | None = None, cancel: Cancel | None = None,
                     **extra: Any) -> Iterator[np.ndarray]:
    """Several seeds of a one-seed generator as rows [V, n], pulling ``frames`` once.

    The generators advance in turn, a chunk each, over branches of one frame stream, so the
    frames held between the first and the last are about a window's (never the clip's).
    ``progress`` is the last seed's: it reports a segment once every seed has made it.
    """
    branches = itertools.tee(iter(frames), len(seeds))
    last = len(seeds) - 1
    gens = [generate_fn(model, branch, n_samples, seed=int(seed), steps=steps, guidance=guidance,
                        progress=progress if v == last else None, cancel=cancel, **extra)
            for v, (seed, branch) in enumerate(zip(seeds, branches, strict=True))]
    pending = [np.zeros(0, np.float32) for _ in gens]
    live = [True] * len(gens)
    try:
        while any(live):
            for v, gen in enumerate(gens):
                chunk = next(gen, None) if live[v] else None
                if chunk is None:
                    live[v] = False
                else:
                    pending[v] = np.concatenate([pending[v], np.asarray(chunk, np.float32).reshape(-1)])
            common = min(len(p) for p in pending)
            if common:
                yield np.stack([p[:common] for p in pending])  # [V, common]
                pending = [p[common:] for p in pending]
    finally:
        for gen in gens:
            close = getattr(gen, "close", None)
            if close is not None:
                close()


@dataclass(frozen=True)
class GenerateOptions:
    seed: int = 0
    steps: int | None = None  # None: the model's default
    guidance: float | None = None  # None: the model's default
    variations: int = 1  # takes per clip, seeds seed, seed+1, ...
    sampler: str | None = None  # teacher or student (a package's few-step student); None: the model's default
    prompt_guidance: float | None = None  # how closely prompted takes follow their prompt; None: the model's
    sounds: SoundPlan = SoundPlan()  # what each clip should sound like (auto: from the picture)

    def seeds(self) -> list[int]:
        return [self.seed + v for v in range(max(1, self.variations))]


def wav_dir_for(output: Path) -> Path:
    """The folder of the WAVs: beside the output timeline, ``OUT_stem + "_foley"``."""
    return output.parent / f"{output.stem}_foley"


def take_paths(job: Job, wav_dir: Path, options: GenerateOptions) -> list[Path]:
    """One WAV path per variation: ``V1_3_ClipName_seed0.wav`` (safe on every OS)."""
    name = job.info.name
    if Path(name).suffix.lower() in VIDEO_EXTENSIONS:
        name = Path(name).stem  # "shot.mov" -> "shot"
    stem = f"{safe_name(job.info.id)}_{safe_name(name)}"
    return [wav_dir / f"{stem}_seed{s}.wav" for s in options.seeds()]


def frame_times(job: Job, engine: Engine, media: MediaInfo) -> tuple[int, Iterator[Fraction], Fraction, str]:
    """(n_frames, file times of the model-rate frames, media start, where the start came from)."""
    info = job.info
    rate = media.rate or Fraction(info.source_range.start_time.rate)
    start, origin = media_start(info.media_reference if job.media.method != "clip-name" else None,
                                media.timecode, rate)
    n_frames = engine.frames_needed(job.n_samples)
    fps = Fraction(engine.spec.video_fps)
    t0 = seconds(info.record_range.start_time)
    _check_covers(job, media, info.time_map, t0, n_frames, fps, start, origin)
    return n_frames, model_frame_times(t0, n_frames, fps, info.time_map, start), start, origin


def _check_covers(job: Job, media: MediaInfo, tmap: TimeMap, t0: Fraction, n: int, fps: Fraction,
                  start: Fraction, origin: str) -> None:
    """MediaError if the clip's source range lies outside the file, or runs past its ends by more than
    OVERRUN_LIMIT (a clip longer than its media: the wrong or a shortened file); a warning for less."""
    if media.is_still or n == 0:
        return
    if media.duration <= 0:  # the container does not say: the reader holds the last frame and warns
        log.debug("%s: the file does not give its duration; the source range is not checked", media.path)
        return
    duration = seconds(job.info.record_range.duration)
    first, last = tmap(t0) - start, tmap(t0 + duration) - start
    lo, hi = min(first, last), max(first, last)
    slack = media.frame_duration
    src = job.info.source_range
    r = Fraction(src.start_time.rate)
    where = (f"clip {job.info.id} {job.info.name!r}: source {timecode(src.start_time, r)}-"
             f"{timecode(src.end_time_exclusive(), r)} maps to {float(lo):.3f}-{float(hi):.3f} s of the file, "
             f"which holds 0-{float(media.duration):.3f} s (media start from {origin})")
    if hi <= -slack or lo >= media.duration + slack:
        raise MediaError(f"{where}; is this the right file, with its start timecode?", media.path)
    overrun = max(Fraction(0), -lo) + max(Fraction(0), hi - media.duration)
    if overrun > max(slack, OVERRUN_LIMIT):
        raise MediaError(f"{where}: the clip is longer than its media by {float(overrun):.3f} s; "
                         "is this the right file, or was it shortened?", media.path)
    if lo < -slack or hi > media.duration + slack:
        log.warning("%s: %s %r: the source range runs %s the media (%.3f-%.3f s of 0-%.3f s); holding the edge "
                    "frame", media.path, job.info.id, job.info.name,
                    "before the start of" if lo < -slack else "past the end of",
                    float(lo), float(hi), float(media.duration))


def generate_take(
    engine: Engine,
    job: Job,
    wav_dir: Path,
    options: GenerateOptions,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    created: str | None = None,
    prompt: Prompt = None,
) -> Take:
    """Generate every variation of one job's take from one decode of its media and write its WAVs.

    ``progress(done, total)`` counts segments (a segment of every variation at once); ``cancel``
    is asked between segments (a CancelledError then, and none of the take's WAVs is written).
    """
    if job.media.path is None:
        raise MediaError(f"clip {job.info.id} {job.info.name!r}: no media", None)
    if job.info.record_range.start_time.value < 0:
        raise OutputError(f"clip {job.info.id} {job.info.name!r} starts before the timeline's start; "
                          "a take cannot be placed there")
    media = probe(job.media.path)
    paths = take_paths(job, wav_dir, options)
    seeds = options.seeds()
    n_frames, times, _start, origin = frame_times(job, engine, media)
    log.debug("%s: %d frames at %s fps from %s (media start from %s), %d variation(s)", job.info.id, n_frames,
              engine.spec.video_fps, job.media.path, origin, len(seeds))
    with FrameReader(job.media.path, int(engine.spec.frame_size)) as reader:
        chunks = engine.variations(reader.frames_at(times), job.n_samples, seeds, steps=options.steps,
                                   guidance=options.guidance, progress=progress, cancel=cancel, prompt=prompt,
                                   sampler=options.sampler, prompt_guidance=options.prompt_guidance)
        written = write_wavs(paths, chunks, job.n_samples)
    spec = engine.spec
    meta: dict[str, Any] = {
        **engine.metadata(),
        "seed": seeds[0],
        "steps": int(options.steps or spec.sampler_steps(options.sampler)),
        "guidance": float(spec.guidance if options.guidance is None else options.guidance),
        "samples": job.n_samples,
        "sample_rate": SAMPLE_RATE,
        "created": created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if spec.student_steps:  # a package with two samplers says which one made the take
        meta["sampler"] = options.sampler or spec.sampler
    if len(seeds) > 1:
        meta["seeds"] = seeds
    sound = options.sounds.for_clip(job.info.id)
    if sound.mode != "auto":
        meta["sound"] = sound.metadata()
        pg = options.prompt_guidance if options.prompt_guidance is not None else spec.prompt_guidance
        if pg is not None:
            meta["prompt_guidance"] = float(pg)
    return Take(
        source_clip_id=job.info.id,
        source_track=job.info.track,
        name=job.info.name,
        record_range=job.info.record_range,
        media=tuple(written),
        active=0,
        metadata=meta,
        variation_metadata=tuple({"seed": s} for s in seeds),
    )
