"""Shared fixtures: the corpus, videos whose frames say their index, a fake model engine."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import math  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
# The real-world timeline corpus, inside the repository (a fresh clone needs nothing beside it):
# timelines only, read-only, Apache-2.0 (tests/data/README.md has their origin and licence).
CORPUS = TIMELINES = DATA / "corpus"
# EDLs carry no rate: 25fps.edl reads at 25, the others at 24 (tests/data/README.md)
EDL_RATES = {"25fps.edl": Fraction(25)}


# -- videos whose frames encode their index ------------------------------------------
def index_color(i: int) -> np.ndarray:
    """RGB of frame i: R and G count in steps of 16 (robust to H.264 and downscaling)."""
    return np.array([(i % 16) * 16 + 8, ((i // 16) % 16) * 16 + 8, 128], np.uint8)


def frame_index(frame: np.ndarray) -> int:
    """The index a frame of :func:`write_indexed_video` shows (mean colour)."""
    r, g = frame.reshape(-1, 3).mean(0)[:2]
    return int(round((r - 8) / 16)) + 16 * int(round((g - 8) / 16))


def write_indexed_video(path: Path, n: int, rate: Fraction, size: int = 32, gop: int = 12,
                        timecode: str | None = None) -> Path:
    """An H.264 file of ``n`` frames at ``rate``; frame i is a flat :func:`index_color` (i < 256)."""
    from foleyflow.plugin.video_out import write_video

    frames = (np.broadcast_to(index_color(i % 256), (size, size, 3)) for i in range(n))
    write_video(path, frames, rate, crf=12, preset="ultrafast", gop=gop, timecode=timecode)
    return path


@pytest.fixture(scope="session")
def video_24(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 frames at 24000/1001, keyframe every 12."""
    return write_indexed_video(tmp_path_factory.mktemp("media") / "idx_2398.mp4", 120, Fraction(24000, 1001))


# -- a fake model: records the frames it gets, returns a deterministic signal ----------
@dataclass(frozen=True)
class FakeSpec:
    name: str = "fake"
    version: str = "0"
    video_fps_num: int = 25
    video_fps_den: int = 1
    frame_size: int = 8
    default_steps: int = 4
    guidance: float = 2.0
    training: dict = field(default_factory=lambda: {"world": "impacts"})
    sample_rate: int = 16000
    prompt_dim: int = 0  # > 0: the fake takes sound prompts of this vocabulary
    vocabulary: tuple = ()
    prompt_guidance: float | None = None  # the package's own prompt scale: none
    student_steps: int = 0  # no few-step student: one sampler, the teacher
    sampler: str = "teacher"

    def sampler_steps(self, sampler: str | None = None) -> int:
        return self.student_steps if (sampler or self.sampler) == "student" else self.default_steps

    @property
    def video_fps(self) -> Fraction:
        return Fraction(self.video_fps_num, self.video_fps_den)


@dataclass
class FakeModel:
    spec: FakeSpec = field(default_factory=FakeSpec)
    checksum: str = "0" * 64
    provider: str = "FakeExecutionProvider"
    calls: list[dict[str, Any]] = field(default_factory=list)  # one per generate call: frames seen, seed, ...


def fake_frames_needed(spec: FakeSpec, n_samples: int) -> int:
    return max(1, math.ceil(n_samples * spec.video_fps / 48000))


def fake_generate(model: FakeModel, frames: Iterable[np.ndarray], n_samples: int, *, seed: int = 0,
                  steps: int | None = None, guidance: float | None = None, progress: Any = None,
                  cancel: Any = None, prompt: Any = None, **more: Any) -> Iterator[np.ndarray]:
    """Consume exactly frames_needed frames, yield ``n_samples`` in uneven chunks (a ramp per seed); the
    keywords a run passes only when set (sampler, prompt_guidance) are recorded in ``more``."""
    need = fake_frames_needed(model.spec, n_samples)
    seen = []
    for k, frame in enumerate(frames):
        if k >= need:
            break
        assert frame.dtype == np.uint8 and frame.shape == (model.spec.frame_size, model.spec.frame_size, 3)
        seen.append(frame_index(frame))
    model.calls.append({"frames": seen, "seed": seed, "steps": steps, "guidance": guidance, "n": n_samples,
                        "prompt": prompt, **more})
    t = np.arange(n_samples, dtype=np.float32)
    signal = (0.1 * np.sin(t * (seed + 1) * 0.01)).astype(np.float32)
    bounds = list(range(0, n_samples, 7919)) + [n_samples]
    segments = len(bounds) - 1
    for s, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if cancel is not None and cancel():
            from foleyflow.runtime.errors import CancelledError

            raise CancelledError("cancelled")
        yield signal[a:b]
        if progress is not None:
            progress(s + 1, segments)


@pytest.fixture
def fake_engine() -> Any:
    from foleyflow.plugin.generate import Engine

    return Engine(FakeModel(), fake_generate, fake_frames_needed)
