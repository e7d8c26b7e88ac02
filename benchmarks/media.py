"""The bench's synthetic media: H.264 clips of any length at the editors' NTSC film rate, and the
plugin's job for a one-clip timeline that holds one of them.

Every video the bench writes goes through :func:`write_frames` (plugin.video_out.write_video).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

MEDIA_FPS = Fraction(24000, 1001)  # the synthetic media's rate: NTSC film, as editors cut it


def write_frames(path: Path, frames: Iterable[np.ndarray] | np.ndarray, fps: Fraction = MEDIA_FPS,
                 crf: int = 23, preset: str | None = "veryfast") -> int:
    """Write uint8 [H, W, 3] frames (an array, or an iterator: one frame in memory at a time) as
    H.264 at exactly ``fps``, atomically, with the plugin's one video writer; returns the frames written."""
    from foleyflow.plugin.video_out import write_video

    return write_video(path, frames, fps, crf=crf, preset=preset)


def long_video(path: Path, seconds: float, size: int, seed: int = 7, loop_seconds: float = 8.0) -> int:
    """A synthetic clip of any length, streamed: a rendered ``loop_seconds`` scene repeated."""
    from foleyflow.world.world import frame_count, render_clip

    loop = render_clip(seed, loop_seconds, MEDIA_FPS, size, 16000).frames
    total = frame_count(seconds, MEDIA_FPS)

    def gen() -> Iterator[np.ndarray]:
        for k in range(total):
            yield loop[k % len(loop)]

    return write_frames(path, gen(), MEDIA_FPS)


def pattern_frames(width: int, height: int, n: int) -> Iterator[np.ndarray]:
    """Cheap moving frames of any size (a gradient, a bouncing block, noise so the encoder has work)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([(xx * 255 // max(width - 1, 1)), (yy * 255 // max(height - 1, 1)),
                     np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    noise = rng.integers(0, 24, (height, width, 3), dtype=np.uint8)
    bw, bh = max(2, width // 8), max(2, height // 8)
    for k in range(n):
        f = base + np.roll(noise, k, axis=1)
        x = (k * 7) % max(1, width - bw)
        y = abs((k * 5) % (2 * max(1, height - bh)) - max(1, height - bh))
        f[y : y + bh, x : x + bw] = 240
        yield f


def clip_job(video: Path, n_frames: int, fps: Fraction = MEDIA_FPS) -> Any:
    """The plugin's job for a one-clip timeline that holds the whole of ``video``."""
    import opentimelineio as otio

    from foleyflow.plugin.clips import video_clips
    from foleyflow.plugin.media import MediaResolver
    from foleyflow.plugin.selection import plan
    from foleyflow.plugin.timing import otio_rate

    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    rate = otio_rate(fps)
    tl = otio.schema.Timeline(global_start_time=rt(0, rate))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    ref = otio.schema.ExternalReference(target_url=video.resolve().as_uri(),
                                        available_range=tr(rt(0, rate), rt(n_frames, rate)))
    track.append(otio.schema.Clip(name=video.stem, media_reference=ref, source_range=tr(rt(0, rate), rt(n_frames, rate))))
    return plan(video_clips(tl, fps), MediaResolver(None))[0]
