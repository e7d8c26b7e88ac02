"""Decode a clip's frames with PyAV at the times the model asks for, one frame at a time.

For each requested file time ``t`` the reader returns the latest frame whose time
is ``<= t`` (a frame hold), resized whole (no crop) to ``size x size`` RGB with
area interpolation::

    file frames  |f0      |f1      |f2      |f3      |      (source rate, e.g. 24000/1001)
    asked        ^t0   ^t1     ^t2    ^t3  ^t4             (model rate, e.g. 25)
    returned      f0    f0      f1     f2   f3

It seeks (landing on a keyframe at or before the target) and decodes on; it keeps
two decoded frames, so a 10-minute clip costs the memory of a couple of frames.
Times run forward for plain and sped-up clips, stand still for freeze frames and
run backwards for reversed clips (each step back seeks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from .errors import MediaError
from .timing import exact_rate

log = logging.getLogger(__name__)

SEEK_AHEAD = Fraction(2)  # seconds: jump further than this ahead by seeking, not decoding
# Frames larger than this are refused before any is decoded (a header can claim any size; one
# decoded frame of 16000 x 16000 costs 384 MB). 12K camera media (12288 x 6480) fits.
MAX_FRAME_SIDE = 16384
MAX_FRAME_PIXELS = 1 << 27


def check_stream(stream: av.video.stream.VideoStream, path: Path) -> None:
    """MediaError if ``stream`` cannot be decoded here (no decoder) or claims a frame too large to decode."""
    ctx = stream.codec_context
    if ctx is None:
        raise MediaError("its video codec is not one this FFmpeg build can decode (unsupported codec)", path)
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    if width > MAX_FRAME_SIDE or height > MAX_FRAME_SIDE or width * height > MAX_FRAME_PIXELS:
        raise MediaError(f"its frames are {width}x{height}, larger than this plugin decodes "
                         f"(at most {MAX_FRAME_SIDE} a side and {MAX_FRAME_PIXELS} pixels)", path)


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, as far as placing its frames in time needs."""

    path: Path
    rate: Fraction | None  # average frame rate of the video stream (exact where NTSC)
    duration: Fraction  # seconds from the first frame to the end of the last
    width: int
    height: int
    timecode: str | None  # start timecode written in the file (stream or container metadata)
    frames: int  # frame count, 0 when the container does not say

    @property
    def is_still(self) -> bool:
        """One picture (a PNG, a one-frame file): every time shows it."""
        return self.frames == 1

    @property
    def frame_duration(self) -> Fraction:
        return 1 / self.rate if self.rate else Fraction(1, 24)


def probe(path: str | Path) -> MediaInfo:
    """Read what ``path`` holds without decoding it; MediaError if it has no video."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError("holds no video stream", path)
            stream = container.streams.video[0]
            check_stream(stream, path)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            rate = exact_rate(Fraction(rate)) if rate else None
            tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, av.time_base)
            if stream.duration is not None:
                duration = stream.duration * tb
            elif container.duration is not None:
                duration = Fraction(container.duration, av.time_base)
            else:
                duration = Fraction(0)
            timecode = _timecode_of(container)
            frames = int(stream.frames or 0)
            if frames == 0 and container.format.name in ("image2", "png_pipe", "jpeg_pipe", "exr_pipe"):
                frames = 1
            if frames == 1 and duration == 0:
                duration = 1 / rate if rate else Fraction(1, 25)
            return MediaInfo(path, rate, Fraction(duration), stream.codec_context.width,
                             stream.codec_context.height, timecode, frames)
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"cannot open as video: {exc}", path) from exc


def _timecode_of(container: av.container.InputContainer) -> str | None:
    for stream in container.streams:
        tc = stream.metadata.get("timecode")
        if tc:
            return tc
    return container.metadata.get("timecode") or None


class FrameReader:
    """Frames of one file at requested times; use as a context manager.

    Frames come resized whole to ``size x size`` (the model's square input), or to
    ``size x height`` when ``height`` is given (a review render's picture).
    """

    def __init__(self, path: str | Path, size: int, height: int | None = None) -> None:
        self.path = Path(path)
        self.size = int(size)
        self.height = int(height) if height is not None else self.size
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"cannot open as video: {exc}", self.path) from exc
        try:
            if not self._container.streams.video:
                raise MediaError("holds no video stream", self.path)
            self._stream = self._container.streams.video[0]
            check_stream(self._stream, self.path)
        except MediaError:
            self._container.close()
            raise
        self._stream.thread_type = "AUTO"
        tb = self._stream.time_base  # None where the stream states none: then as probe reads it
        self._tb = Fraction(tb) if tb else Fraction(1, av.time_base)
        self._start = self._stream.start_time or 0
        rate = self._stream.average_rate or self._stream.guessed_rate
        period = 1 / Fraction(rate) if rate else Fraction(1, 24)
        # a frame stamped up to half a time-base tick late still counts as on time
        self._eps = min(self._tb / 2, period / 8)
        self._period = period
        self._decoder: Iterator[av.VideoFrame] | None = None
        self._cur: tuple[Fraction, av.VideoFrame] | None = None
        self._next: tuple[Fraction, av.VideoFrame] | None = None
        self._eof = False
        self._cache: tuple[Fraction, np.ndarray] | None = None
        self._warned_end = False
        self._reformatter = VideoReformatter()  # keeps its scaler context: ~25x faster than frame.reformat
        self.decoded = 0  # frames decoded so far (for tests and progress)
        self.seeks = 0

    # -- context manager -------------------------------------------------------
    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    # -- public ------------------------------------------------------------------
    def frames_at(self, times: Iterable[Fraction]) -> Iterator[np.ndarray]:
        """For each file time (seconds from the first frame), the held frame, uint8 [S, S, 3]."""
        for t in times:
            yield self.frame_at(t)

    def frame_at(self, t: Fraction) -> np.ndarray:
        """The latest frame at or before file time ``t``, resized to [S, S, 3] RGB."""
        time, frame = self._locate(Fraction(t))
        if self._cache is None or self._cache[0] != time:
            self._cache = (time, self._convert(frame))
        return self._cache[1]

    def frame_time_at(self, t: Fraction) -> Fraction:
        """The time of the frame :meth:`frame_at` returns for ``t`` (for tests)."""
        return self._locate(Fraction(t))[0]

    # -- internals -----------------------------------------------------------------
    def _locate(self, t: Fraction) -> tuple[Fraction, av.VideoFrame]:
        if self._cur is None or t < self._cur[0] - self._eps:
            self._seek(t)
        elif t - self._cur[0] > SEEK_AHEAD and self._next is not None and t > self._next[0]:
            self._seek(t)
        while self._next is not None and self._next[0] <= t + self._eps:
            self._advance()
        if self._cur is None:
            raise MediaError("no frame could be decoded", self.path)
        if self._next is None and not self._warned_end and t > self._cur[0] + 2 * self._period:
            log.warning("%s: asked for %.3f s, the last frame is at %.3f s; holding it",
                        self.path, float(t), float(self._cur[0]))
            self._warned_end = True
        return self._cur

    def _seek(self, t: Fraction) -> None:
        target = self._start + max(0, int(t / self._tb))
        self.seeks += 1
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError:
            self._container.seek(self._start, stream=self._stream, backward=True, any_frame=False)
        self._restart()
        if self._cur is not None and self._cur[0] > t + self._eps and target > self._start:
            # the demuxer landed after the target: decode from the very start
            self._container.seek(self._start, stream=self._stream, backward=True, any_frame=False)
            self._restart()

    def _restart(self) -> None:
        self._decoder = self._container.decode(self._stream)
        self._eof = False
        self._cur = self._pull()
        self._next = self._pull()

    def _advance(self) -> None:
        self._cur = self._next
        self._next = self._pull()

    def _pull(self) -> tuple[Fraction, av.VideoFrame] | None:
        if self._eof or self._decoder is None:
            return None
        try:
            frame = next(self._decoder)
        except StopIteration:
            self._eof = True
            return None
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot decode: {exc}", self.path) from exc
        self.decoded += 1
        pts = frame.pts if frame.pts is not None else self._start
        return Fraction(pts - self._start) * self._tb, frame

    def _convert(self, frame: av.VideoFrame) -> np.ndarray:
        out = self._reformatter.reformat(frame, width=self.size, height=self.height, format="rgb24",
                                         interpolation=Interpolation.AREA)
        return out.to_ndarray()  # uint8 [H, W, 3] ([S, S, 3] for the model)
