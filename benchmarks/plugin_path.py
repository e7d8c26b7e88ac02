"""The plugin's path for one clip (probe, decode, runtime, WAV), run exactly as the plugin runs it,
with the time split by where it went: :func:`run_plugin_path`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.spec import ModelSpec

from .media import clip_job

GRAPH_CALLS = ("encode_video", "velocity", "vocode")


@dataclass
class TimedModel:
    """A Backend that times and counts each graph call of the model it wraps (and delegates everything else)."""

    model: Any
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(GRAPH_CALLS, 0.0))
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRAPH_CALLS, 0))

    @property
    def spec(self) -> ModelSpec:
        return self.model.spec

    def __getattr__(self, name: str) -> Any:  # checksum, provider, ...
        return getattr(self.model, name)

    def _timed(self, name: str, *args: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        y = getattr(self.model, name)(*args)
        self.seconds[name] += time.perf_counter() - t0
        self.calls[name] += 1
        return y

    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        return self._timed("encode_video", frames)

    def velocity(self, *args: np.ndarray) -> np.ndarray:
        return self._timed("velocity", *args)

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        return self._timed("vocode", mel)


@dataclass
class PathTimer:
    """Wraps the runtime's generator as the plugin's Engine calls it: times decode (pulling frames),
    the generator's own work, and the first chunk."""

    decode: float = 0.0
    inside: float = 0.0
    first_chunk_at: float | None = None
    started: float = 0.0

    def frames(self, it: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        it = iter(it)
        while True:
            t0 = time.perf_counter()
            f = next(it, None)
            self.decode += time.perf_counter() - t0
            if f is None:
                return
            yield f

    def generate(self, model: Any, frames: Iterable[np.ndarray], n_samples: int, **kw: Any) -> Iterator[np.ndarray]:
        gen = generate_audio(model, self.frames(frames), n_samples, **kw)
        while True:
            t0 = time.perf_counter()
            chunk = next(gen, None)
            self.inside += time.perf_counter() - t0
            if chunk is None:
                return
            if self.first_chunk_at is None:
                self.first_chunk_at = time.perf_counter() - self.started
            yield chunk


def run_plugin_path(model: Any, video: Path, n_frames: int, wav_dir: Path, steps: int | None = None) -> dict[str, Any]:
    """Generate a take for ``video`` exactly as the plugin does (probe, decode, runtime, WAV) and time it.

    ``breakdown_seconds`` splits the wall time: its parts add up to ``wall_seconds``."""
    from foleyflow.plugin.generate import Engine, GenerateOptions, generate_take

    job = clip_job(video, n_frames)
    timed = TimedModel(model)
    timer = PathTimer()
    engine = Engine(timed, timer.generate, frames_needed)
    timer.started = t0 = time.perf_counter()
    take = generate_take(engine, job, wav_dir, GenerateOptions(seed=0, steps=steps))
    wall = time.perf_counter() - t0
    audio_s = job.n_samples / OUTPUT_RATE
    graphs = sum(timed.seconds.values())
    return {
        "audio_seconds": audio_s, "wall_seconds": wall, "x_real_time": audio_s / wall,
        "first_segment_seconds": timer.first_chunk_at,
        "breakdown_seconds": {"decode": timer.decode, **timed.seconds,
                              "sampler_resample_etc": timer.inside - timer.decode - graphs,
                              "write_probe_etc": wall - timer.inside},
        "calls": dict(timed.calls), "wav": str(take.media[0]),
    }
