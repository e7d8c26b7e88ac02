"""Segment-by-segment sampling of mel tokens from a stream of video frames.

Windows of ``segment_tokens`` tokens; after the first, each window starts with at
least ``context_tokens`` tokens of what was already generated (masked-prefix
context), so the flow continues the previous segment::

    tokens   0 ........ 100 ........ 175 ........ 250 ...
    seg 0    [=========new=========)
    seg 1              [ctx)[=====new=====)
    seg 2                          [ctx)[=====new=====)

Noise of segment k is drawn from (seed, k), so the output depends only on the
clip, the seed and the settings, never on how the caller chunks frames or reads
the output. Memory holds one window of frames and tokens, whatever the length.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .errors import CancelledError
from .session import Backend
from .solvers import GRIDS, SOLVERS

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class Segment:
    index: int
    start: int  # first token of the window
    end: int  # one past the window's last token
    new_start: int  # tokens [start, new_start) are context, [new_start, end) are generated


def plan_segments(total: int, window: int, context: int) -> list[Segment]:
    """Windows covering `total` tokens; the first may run past `total` (its frames are padded)."""
    if total <= 0:
        return []
    segs = [Segment(0, 0, window, 0)]
    done = window
    while done < total:
        new_end = min(done + window - context, total)
        segs.append(Segment(len(segs), new_end - window, new_end, done))
        done = new_end
    return segs


@dataclass(frozen=True)
class SamplerSettings:
    seed: int = 0
    steps: int = 16
    guidance: float = 2.0
    solver: str = "euler"
    grid: str = "uniform"


def make_velocity(model: Backend, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                  guidance: float) -> Callable[[np.ndarray, float], np.ndarray]:
    """Velocity closure for one window: classifier-free guidance as a batch of two."""
    if guidance == 1.0:
        unc = np.zeros(1, np.float32)

        def velocity(x: np.ndarray, t: float) -> np.ndarray:
            return model.velocity(x, np.full(1, t, np.float32), cond, ctx, ctx_mask, unc)

        return velocity
    cond2 = np.concatenate([cond, cond])
    ctx2, mask2 = np.concatenate([ctx, ctx]), np.concatenate([ctx_mask, ctx_mask])
    unc2 = np.array([0.0, 1.0], np.float32)

    def velocity(x: np.ndarray, t: float) -> np.ndarray:
        v = model.velocity(np.concatenate([x, x]), np.full(2, t, np.float32), cond2, ctx2, mask2, unc2)
        return v[1:] + guidance * (v[:1] - v[1:])

    return velocity


def _frames_window(frames: Iterator[np.ndarray], buf: deque, buf_start: int, start: int, end: int,
                   last: list) -> tuple[np.ndarray, int]:
    """Frames [start, end) as float32 [1, T, 3, S, S]; pulls from `frames`, holds the last one past its end."""
    while buf_start + len(buf) < end:
        nxt = next(frames, None)
        if nxt is None:
            if not last:
                raise ValueError("the clip yielded no video frames")
            nxt = last[0]
        last[:] = [nxt]
        buf.append(nxt)
    while buf_start < start:
        buf.popleft()
        buf_start += 1
    window = np.stack(list(buf)[: end - start])  # [T, S, S, 3] uint8
    return np.ascontiguousarray(window.transpose(0, 3, 1, 2)[None], dtype=np.float32) / 255.0, buf_start


def generate_tokens(model: Backend, frames: Iterable[np.ndarray], total_tokens: int, settings: SamplerSettings,
                    progress: Progress | None = None, cancel: Cancel | None = None
                    ) -> Iterator[tuple[Segment, np.ndarray]]:
    """Yield (segment, new tokens [n_new, P]) per segment; tokens are normalised log-mel."""
    spec = model.spec
    segs = plan_segments(total_tokens, spec.segment_tokens, spec.context_tokens)
    solver, grid = SOLVERS[settings.solver], GRIDS[settings.grid](settings.steps)
    it = iter(frames)
    buf: deque = deque()
    buf_start, last = 0, []
    hist = np.zeros((0, spec.token_dim), np.float32)  # generated tokens [hist_start, done)
    hist_start = 0
    for seg in segs:
        if cancel is not None and cancel():
            raise CancelledError(f"cancelled before segment {seg.index + 1} of {len(segs)}")
        video, buf_start = _frames_window(it, buf, buf_start, seg.start, seg.end, last)
        cond = model.encode_video(video)  # [1, W, D]
        w = seg.end - seg.start
        n_ctx = seg.new_start - seg.start
        ctx = np.zeros((1, w, spec.token_dim), np.float32)
        ctx[0, :n_ctx] = hist[seg.start - hist_start : seg.new_start - hist_start]
        ctx_mask = (np.arange(w) < n_ctx).astype(np.float32)[None, :, None]
        noise = np.random.default_rng([settings.seed, seg.index]).standard_normal((1, w, spec.token_dim))
        x = solver(make_velocity(model, cond, ctx, ctx_mask, settings.guidance), noise.astype(np.float32), grid)
        new = x[0, n_ctx : min(w, total_tokens - seg.start)].astype(np.float32)
        hist = np.concatenate([hist, new])[-spec.segment_tokens :]
        hist_start = seg.start + n_ctx + len(new) - len(hist)
        if progress is not None:
            progress(seg.index + 1, len(segs))
        yield seg, new
