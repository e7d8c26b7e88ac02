"""A review render of a cut: the picture as it cuts, with the Foley takes mixed in.

``foleyflow preview TIMELINE -o review.mp4`` (and the panel's "Export review…") writes
one H.264 + AAC file of exactly the timeline's length::

    V2      |      |title|            |          the picture: at each frame, the topmost
    V1  |shot A    |     |shot B      |          enabled video clip there (black in gaps)
    A1  |dialogue  ...                |  x original level (or muted)
    Foley V1 |take A   |  |take B     |  x Foley level
        ---------------------------------->  review.mp4: frames at the timeline rate,
                                              48 kHz stereo, both exactly its duration

The original audio is what the timeline's own (non-Foley) audio tracks play; a timeline
with no audio track of its own plays the sound of its video clips' media instead, as an
editing system does with sync sound. Everything streams: the picture one frame at a time,
the audio one frame's worth at a time, so a feature-length cut costs the memory of a
few frames. Time effects on audio items are not rendered (their media plays at speed);
the picture honours speed and freeze frames.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import soundfile as sf

from .clips import ClipInfo, video_clips
from .decode import FrameReader, probe
from .errors import MediaError, OutputError
from .media import MediaResolver, media_start, reference_start
from .placement import foley_track_label
from .timeline import LoadedTimeline, read_timeline
from .timing import SAMPLE_RATE, samples_for_seconds, seconds

log = logging.getLogger(__name__)

CHANNELS = 2
MAX_WIDTH = 1280  # the default picture is the first clip's size, scaled down to this width


@dataclass(frozen=True)
class ReviewOptions:
    original_db: float | None = 0.0  # level of the original audio in dB; None mutes it
    foley_db: float = 0.0  # level of the Foley takes in dB
    size: tuple[int, int] | None = None  # (width, height), even; None: from the first clip's media
    crf: int = 20


@dataclass(frozen=True)
class Placed:
    """An audio item to mix: its file, where it plays on the record axis, and where in the file it starts."""

    path: Path
    start: Fraction  # record seconds from the timeline's start
    duration: Fraction
    file_start: Fraction  # seconds into the file's audio where the item begins
    gain: float
    kind: str  # "foley" or "original"


def gain_of(db: float | None) -> float:
    return 0.0 if db is None else float(10 ** (db / 20))


def frame_count(loaded: LoadedTimeline) -> int:
    """Frames of the review: the timeline's duration at its rate."""
    return int(round(seconds(loaded.timeline.duration()) * loaded.rate))


def review_duration(loaded: LoadedTimeline) -> Fraction:
    return Fraction(frame_count(loaded)) / loaded.rate


# -- the picture --------------------------------------------------------------------------------
def picture_size(clips: Sequence[ClipInfo], resolver: MediaResolver, asked: tuple[int, int] | None) -> tuple[int, int]:
    """(width, height), both even: asked, else the first readable clip's media scaled to MAX_WIDTH."""
    if asked is not None:
        w, h = asked
        if w < 2 or h < 2:
            raise OutputError(f"the review size must be at least 2x2, got {w}x{h}")
        return w - w % 2, h - h % 2
    for c in clips:
        path = resolver.resolve_clip(c.clip).path
        if path is None:
            continue
        try:
            info = probe(path)
        except MediaError:
            continue
        if info.width and info.height:
            scale = min(1.0, MAX_WIDTH / info.width)
            w, h = max(2, int(info.width * scale)), max(2, int(info.height * scale))
            return w - w % 2, h - h % 2
    return 640, 360


def topmost_at(clips: Sequence[ClipInfo], t: Fraction) -> ClipInfo | None:
    """The enabled clip of the highest video track that covers record time ``t`` (clips in track order)."""
    best: ClipInfo | None = None
    for c in clips:
        lo = seconds(c.record_range.start_time)
        if c.enabled and lo <= t < lo + seconds(c.record_range.duration):
            if best is None or c.track_index >= best.track_index:
                best = c
    return best


def review_frames(loaded: LoadedTimeline, resolver: MediaResolver, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """uint8 [H, W, 3] frames at the timeline rate: the cut as it plays, black in gaps and missing media."""
    clips = video_clips(loaded.timeline, loaded.rate)
    w, h = size
    black = np.zeros((h, w, 3), np.uint8)
    readers: dict[str, tuple[FrameReader, Fraction] | None] = {}
    try:
        for k in range(frame_count(loaded)):
            t = Fraction(k) / loaded.rate
            clip = topmost_at(clips, t)
            if clip is None:
                yield black
                continue
            if clip.id not in readers:
                for old in [cid for cid in readers if cid != clip.id]:  # one decoder open at a time
                    opened = readers.pop(old)
                    if opened is not None:
                        opened[0].close()
                readers[clip.id] = _open_reader(clip, resolver, size)
            opened = readers[clip.id]
            if opened is None:
                yield black
                continue
            reader, start = opened
            yield reader.frame_at(clip.time_map(t) - start)
    finally:
        for opened in readers.values():
            if opened is not None:
                opened[0].close()


def _open_reader(clip: ClipInfo, resolver: MediaResolver, size: tuple[int, int]) -> tuple[FrameReader, Fraction] | None:
    if clip.is_generator:
        return None
    path = resolver.resolve_clip(clip.clip).path
    if path is None:
        log.warning("%s %r: media not found; the review shows black there", clip.id, clip.name)
        return None
    try:
        info = probe(path)
        start, _origin = media_start(clip.media_reference, info.timecode,
                                     info.rate or Fraction(clip.source_range.start_time.rate))
        return FrameReader(path, size[0], size[1]), start
    except MediaError as exc:
        log.warning("%s %r: %s; the review shows black there", clip.id, clip.name, exc)
        return None


# -- the sound ----------------------------------------------------------------------------------
def audio_items(loaded: LoadedTimeline, resolver: MediaResolver, options: ReviewOptions) -> list[Placed]:
    """Every audio item the review mixes, with its gain: Foley takes and the original audio."""
    foley: list[Placed] = []
    original: list[Placed] = []
    for track in loaded.timeline.tracks:
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Audio:
            continue
        is_foley = foley_track_label(track) is not None
        shift = seconds(track.trimmed_range().start_time)
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip) or not item.enabled:
                continue
            path = resolver.resolve_clip(item).path
            if path is None:
                log.warning("%s: audio clip %r has no media; it is left out of the review", track.name, item.name)
                continue
            placed = track.range_of_child_at_index(i)
            src = item.trimmed_range()
            file_start = seconds(src.start_time) - (reference_start(item.media_reference) or Fraction(0))
            entry = Placed(path, seconds(placed.start_time) - shift, seconds(placed.duration), file_start,
                           gain_of(options.foley_db) if is_foley else gain_of(options.original_db),
                           "foley" if is_foley else "original")
            (foley if is_foley else original).append(entry)
    if not original and options.original_db is not None:
        original = _sync_sound(loaded, resolver, gain_of(options.original_db))
    return foley + [o for o in original if o.gain > 0]


def _sync_sound(loaded: LoadedTimeline, resolver: MediaResolver, gain: float) -> list[Placed]:
    """The video clips' own sound (speed 1 only), for timelines without audio tracks of their own."""
    out = []
    for c in video_clips(loaded.timeline, loaded.rate):
        path = resolver.resolve_clip(c.clip).path
        if path is None or not c.enabled or c.speed != 1:
            continue
        try:
            info = probe(path)
        except MediaError:
            continue
        start, _ = media_start(c.media_reference, info.timecode, info.rate or Fraction(c.source_range.start_time.rate))
        t0 = seconds(c.record_range.start_time)
        out.append(Placed(path, t0, seconds(c.record_range.duration), c.time_map(t0) - start, gain, "original"))
    return out


class _AudioSource:
    """Reads one item's samples forward, 48 kHz, [n, 2] float32: WAV/AIFF with soundfile, else PyAV."""

    def __init__(self, item: Placed) -> None:
        self.item = item
        self._sf: sf.SoundFile | None = None
        self._av: Iterator[np.ndarray] | None = None
        self._buf = np.zeros((0, CHANNELS), np.float32)
        self._container: av.container.InputContainer | None = None
        try:
            f = sf.SoundFile(str(item.path))
            if f.samplerate == SAMPLE_RATE:
                self._sf = f
                f.seek(max(0, min(f.frames, samples_for_seconds(max(item.file_start, Fraction(0))))))
                return
            f.close()
        except (sf.LibsndfileError, RuntimeError, OSError):
            pass
        self._av = self._decode()

    def _decode(self) -> Iterator[np.ndarray]:
        try:
            self._container = av.open(str(self.item.path))
        except (av.error.FFmpegError, OSError) as exc:
            log.warning("%s: cannot open its audio (%s); it is left out of the review", self.item.path, exc)
            return
        if not self._container.streams.audio:
            return
        stream = self._container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
        skip = samples_for_seconds(max(self.item.file_start, Fraction(0)))
        try:
            for frame in self._container.decode(stream):
                for out in resampler.resample(frame):
                    x = out.to_ndarray().reshape(-1, CHANNELS)  # packed flt: [1, 2n] -> [n, 2]
                    if skip >= len(x):
                        skip -= len(x)
                        continue
                    yield x[skip:]
                    skip = 0
        except av.error.FFmpegError as exc:
            log.warning("%s: audio decode stopped (%s); silence from there", self.item.path, exc)

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples [n, 2] (silence past the file's end)."""
        if self._sf is not None:
            x = self._sf.read(n, dtype="float32", always_2d=True)
            x = np.repeat(x, CHANNELS, axis=1) if x.shape[1] == 1 else x[:, :CHANNELS]
        else:
            while len(self._buf) < n and self._av is not None:
                try:
                    self._buf = np.concatenate([self._buf, next(self._av)])
                except StopIteration:
                    self._av = None
            x, self._buf = self._buf[:n], self._buf[n:]
        if len(x) < n:
            x = np.concatenate([x, np.zeros((n - len(x), CHANNELS), np.float32)])
        return x

    def close(self) -> None:
        if self._sf is not None:
            self._sf.close()
        if self._container is not None:
            self._container.close()


def review_audio(items: Sequence[Placed], n_samples: int, block: int = SAMPLE_RATE // 10) -> Iterator[np.ndarray]:
    """float32 [n, 2] chunks at 48 kHz totalling ``n_samples``: every item summed at its place and gain,
    then limited to [-1, 1] (a tanh knee above -1 dBFS, so a loud mix is not clipped hard)."""
    spans = [(samples_for_seconds(it.start), samples_for_seconds(it.start + it.duration), it) for it in items]
    open_: dict[int, _AudioSource] = {}
    try:
        for lo in range(0, n_samples, block):
            hi = min(n_samples, lo + block)
            mix = np.zeros((hi - lo, CHANNELS), np.float32)
            for idx, (a, b, it) in enumerate(spans):
                if b <= lo or a >= hi:
                    if idx in open_ and b <= lo:
                        open_.pop(idx).close()
                    continue
                src = open_.get(idx)
                if src is None:
                    src = open_[idx] = _AudioSource(it)
                s, e = max(a, lo), min(b, hi)
                mix[s - lo:e - lo] += it.gain * src.read(e - s)
            yield _limit(mix)
    finally:
        for src in open_.values():
            src.close()


def _limit(x: np.ndarray, knee: float = 0.891) -> np.ndarray:
    over = np.abs(x) > knee
    if over.any():
        y = x.copy()
        head = 1.0 - knee
        y[over] = np.sign(x[over]) * (knee + head * np.tanh((np.abs(x[over]) - knee) / head))
        return y
    return x


# -- the whole render ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewResult:
    path: Path
    frames: int
    samples: int
    size: tuple[int, int]
    rate: Fraction
    foley_items: int
    original_items: int

    @property
    def seconds(self) -> float:
        return self.frames / float(self.rate)


def render_review(timeline: str | Path, output: str | Path, options: ReviewOptions = ReviewOptions(),
                  media_roots: Sequence[str | Path] = (), rate: Fraction | None = None,
                  pick: str | int | None = None) -> ReviewResult:
    """Render ``timeline``'s review to ``output`` (.mp4, .m4v, .mov), atomically."""
    from .video_out import write_video

    output = Path(output)
    if output.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        raise OutputError("a review is written as .mp4, .m4v or .mov (H.264 with AAC)", output)
    loaded = read_timeline(timeline, rate, pick)
    n_frames = frame_count(loaded)
    if n_frames == 0:
        raise OutputError("the timeline is empty: there is nothing to review", loaded.path)
    resolver = MediaResolver(loaded.path, [Path(r) for r in media_roots])
    size = picture_size(video_clips(loaded.timeline, loaded.rate), resolver, options.size)
    n_samples = samples_for_seconds(review_duration(loaded))
    items = audio_items(loaded, resolver, options)
    log.info("review of %s: %d frames at %s fps (%dx%d), %d Foley and %d original audio item(s)", loaded.path,
             n_frames, loaded.rate, size[0], size[1], sum(i.kind == "foley" for i in items),
             sum(i.kind == "original" for i in items))
    output.parent.mkdir(parents=True, exist_ok=True)
    write_video(output, review_frames(loaded, resolver, size), loaded.rate,
                audio=review_audio(items, n_samples), sample_rate=SAMPLE_RATE, audio_samples=n_samples,
                crf=options.crf)
    return ReviewResult(output, n_frames, n_samples, size, loaded.rate, sum(i.kind == "foley" for i in items),
                        sum(i.kind == "original" for i in items))


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); ValueError otherwise."""
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"a size is WxH, e.g. 1280x720, not {text!r}") from None
    if w < 2 or h < 2 or w > 8192 or h > 8192 or not math.isfinite(w * h):
        raise ValueError(f"a size between 2x2 and 8192x8192, not {text!r}")
    return w, h
