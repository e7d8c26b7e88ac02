"""Generate Foley takes for planned jobs: decode -> runtime -> WAV, one clip at a time.

The runtime (ONNX Runtime) is imported only when a model is loaded
(:meth:`Engine.load`), so listing clips or a dry run never needs it. Tests give
:class:`Engine` a fake model and generator function.

Per clip::

    record range --timing--> n_samples, model-rate frame times --decode--> frames [S, S, 3]
    frames --engine.generate--> float32 chunks at 48 kHz --wavio--> NAME_seedS.wav (atomic)

A clip that fails (media missing or too short, a decode error) is reported and
the others go on; a cancel stops the whole run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from foleyflow.runtime.errors import CancelledError, FoleyFlowError

from .decode import FrameReader, MediaInfo, probe
from .errors import MediaError, OutputError
from .media import VIDEO_EXTENSIONS, media_start
from .placement import Take
from .selection import Job
from .timing import SAMPLE_RATE, TimeMap, model_frame_times, seconds, timecode
from .wavio import safe_name, write_wav

log = logging.getLogger(__name__)

MODEL_ENV = "FOLEYFLOW_MODEL"
OVERRUN_LIMIT = Fraction(1)  # seconds a clip may run past its media's ends (holding the edge frame)


def default_model_dir() -> Path:
    """``$FOLEYFLOW_MODEL``, else the bundled ``foleyflow.models`` package's ``default``."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    import foleyflow.models

    return Path(foleyflow.models.__file__).resolve().parent / "default"


@dataclass
class Engine:
    """A loaded model and the runtime functions that drive it (swappable in tests)."""

    model: Any  # foleyflow.runtime.session.FoleyModel (spec, checksum, provider)
    generate_fn: Callable[..., Iterator[np.ndarray]]
    frames_needed_fn: Callable[[Any, int], int]

    @classmethod
    def load(cls, package: str | Path, provider: str = "auto") -> Engine:
        """Load a model package (checksums verified by the runtime)."""
        from foleyflow.runtime.generate import frames_needed, generate_audio
        from foleyflow.runtime.session import FoleyModel
        from foleyflow.runtime.spec import read_spec

        read_spec(package)  # a missing folder or model.json is said as such (not as a missing variant)
        return cls(FoleyModel.load(package, provider=provider), generate_audio, frames_needed)

    @property
    def spec(self) -> Any:
        return self.model.spec

    def frames_needed(self, n_samples: int) -> int:
        return int(self.frames_needed_fn(self.model.spec, n_samples))

    def metadata(self) -> dict[str, Any]:
        spec = self.model.spec
        return {"model": spec.name, "model_version": spec.version, "model_checksum": self.model.checksum,
                "provider": self.model.provider}


@dataclass(frozen=True)
class GenerateOptions:
    seed: int = 0
    steps: int | None = None  # None: the model's default
    guidance: float | None = None  # None: the model's default
    variations: int = 1  # takes per clip, seeds seed, seed+1, ...

    def seeds(self) -> list[int]:
        return [self.seed + v for v in range(max(1, self.variations))]


@dataclass(frozen=True)
class Event:
    """Progress of a run: ``kind`` is clip-start, segments, clip-done or clip-failed."""

    kind: str
    index: int  # of the clip in the run
    total: int  # clips in the run
    job: Job
    done: int = 0  # segments done (kind "segments"), over all variations
    segments: int = 0
    message: str = ""


@dataclass
class ClipResult:
    job: Job
    take: Take | None = None
    error: str = ""
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.take is not None


@dataclass
class RunReport:
    results: list[ClipResult] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def takes(self) -> list[Take]:
        return [r.take for r in self.results if r.take is not None]

    @property
    def failed(self) -> list[ClipResult]:
        return [r for r in self.results if not r.ok]

    @property
    def audio_seconds(self) -> float:
        return sum(r.job.n_samples for r in self.results if r.ok) / SAMPLE_RATE


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
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    created: str | None = None,
) -> Take:
    """Generate every variation of one job's take and write its WAVs."""
    if job.media.path is None:
        raise MediaError(f"clip {job.info.id} {job.info.name!r}: no media", None)
    if job.info.record_range.start_time.value < 0:
        raise OutputError(f"clip {job.info.id} {job.info.name!r} starts before the timeline's start; "
                          "a take cannot be placed there")
    media = probe(job.media.path)
    paths = take_paths(job, wav_dir, options)
    seeds = options.seeds()
    size = int(engine.spec.frame_size)
    written: list[Path] = []
    n_var = len(seeds)
    for v, (seed, path) in enumerate(zip(seeds, paths, strict=True)):
        n_frames, times, _start, origin = frame_times(job, engine, media)
        log.debug("%s: %d frames at %s fps from %s (media start from %s)", job.info.id, n_frames,
                  engine.spec.video_fps, job.media.path, origin)

        def on_progress(done: int, total: int, v: int = v) -> None:
            if progress is not None:
                progress(v * total + done, n_var * total)

        with FrameReader(job.media.path, size) as reader:
            chunks = engine.generate_fn(engine.model, reader.frames_at(times), job.n_samples, seed=seed,
                                        steps=options.steps, guidance=options.guidance,
                                        progress=on_progress, cancel=cancel)
            written.append(write_wav(path, chunks, job.n_samples))
    spec = engine.spec
    meta = {
        **engine.metadata(),
        "seed": seeds[0],
        "steps": int(options.steps or spec.default_steps),
        "guidance": float(spec.guidance if options.guidance is None else options.guidance),
        "samples": job.n_samples,
        "sample_rate": SAMPLE_RATE,
        "created": created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if n_var > 1:
        meta["seeds"] = seeds
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


def run_jobs(
    engine: Engine,
    jobs: Sequence[Job],
    wav_dir: Path,
    options: GenerateOptions,
    on_event: Callable[[Event], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RunReport:
    """Generate every runnable job; failures are kept per clip, a cancel stops the run."""
    report = RunReport()
    started = time.perf_counter()
    runnable = [j for j in jobs if j.runnable]
    emit = on_event or (lambda e: None)
    for i, job in enumerate(runnable):
        emit(Event("clip-start", i, len(runnable), job))
        t = time.perf_counter()

        def progress(done: int, total: int, i: int = i, job: Job = job) -> None:
            emit(Event("segments", i, len(runnable), job, done, total))

        try:
            take = generate_take(engine, job, wav_dir, options, progress, cancel)
        except (CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # one clip's failure never stops the others
            if isinstance(exc, FoleyFlowError):
                message = str(exc)
            else:  # not ours (a codec, ONNX Runtime): keep its kind, and the traceback at debug level
                message = f"{type(exc).__name__}: {exc}"
                log.debug("clip %s failed", job.info.id, exc_info=True)
            report.results.append(ClipResult(job, None, message, time.perf_counter() - t))
            emit(Event("clip-failed", i, len(runnable), job, message=message))
            continue
        report.results.append(ClipResult(job, take, "", time.perf_counter() - t))
        emit(Event("clip-done", i, len(runnable), job))
    report.wall_s = time.perf_counter() - started
    return report
