"""Stand-in media and small timelines for the panel's tests, and one loaded model for them all."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

FPS = Fraction(25)


def write_clip(path: Path, seconds: float, seed: int = 0, size: int = 64) -> Path:
    """An H.264 clip of a square bouncing on a floor (it moves, so the model has something to follow)."""
    from foleyflow.plugin.video_out import write_video

    n = int(round(seconds * FPS))
    frames = np.full((n, size, size, 3), 40, np.uint8)  # [T, H, W, 3]
    rng = np.random.default_rng(seed)
    period = int(rng.integers(8, 16))
    for i in range(n):
        phase = (i % period) / period
        y = int((size - 12) * (1 - abs(1 - 2 * phase)))
        x = (i * 2) % (size - 12)
        frames[i, y:y + 12, x:x + 12] = (220, 180, 60)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, frames, FPS)
    return path


def make_timeline(folder: Path, tracks: Sequence[Sequence[tuple[str, float, bool]]], name: str = "Test cut",
                  filename: str = "cut.otio") -> Path:
    """An .otio at ``folder`` with one video track per entry: clips (name, seconds, has media) back to back.

    Media live under ``folder/media`` (written once per name); a clip without media points at a file
    that does not exist.
    """
    rate = float(FPS)
    timeline = otio.schema.Timeline(name=name, global_start_time=otio.opentime.RationalTime(0, rate))
    for t, clips in enumerate(tracks):
        track = otio.schema.Track(name=f"V{t + 1}", kind=otio.schema.TrackKind.Video)
        for k, (clip_name, seconds, has_media) in enumerate(clips):
            path = folder / "media" / f"{clip_name}.mp4"
            if has_media and not path.exists():
                write_clip(path, seconds, seed=t * 10 + k)
            n = int(round(seconds * rate))
            ref = otio.schema.ExternalReference(
                target_url=path.resolve().as_uri(),
                available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                        otio.opentime.RationalTime(n, rate)))
            track.append(otio.schema.Clip(name=clip_name, media_reference=ref, source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(n, rate))))
        timeline.tracks.append(track)
    out = folder / filename
    otio.adapters.write_to_file(timeline, str(out))
    return out


def wav_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (WAVs and anything stray, temporary names included)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


class FakeCache:
    """An engine cache that hands out one given engine (the conftest's fake): instant, deterministic runs."""

    def __init__(self, eng) -> None:
        self.eng = eng

    def get(self, package, provider="auto"):
        return self.eng


@pytest.fixture(scope="session")
def engines():
    """One model cache for the whole session: the bundled model loads once."""
    from foleyflow.ui.engine import EngineCache

    return EngineCache()
