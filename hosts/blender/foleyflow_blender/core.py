"""The add-on's pure logic: no ``bpy``, standard library only (Blender's Python has no OTIO).

    Blender movie strips --build_timeline--> OTIO JSON (dicts) --foleyflow generate--> OUT.otio
    OUT.otio (JSON) --read_takes--> takes (source clip id, record range, WAVs) --> sound strips

Times. A scene's rate is ``fps / fps_base`` as an exact fraction (24 / 1.001 ->
24000/1001). Record time 0 of the written timeline is Blender frame ``origin``
(the scene's start frame, or an earlier strip's first frame), and
``global_start_time`` is that frame, so the CLI's timecodes read as Blender's
frame numbers. A strip's visible range is ``frame_final_start .. frame_final_end``
(its trims, ``frame_offset_start/end``, already applied); the file frame it shows
first is ``animation_offset_start + (frame_final_start - frame_start) * speed``.

Blender 3.4 shows one movie frame per scene frame whatever the movie's own rate, so
a 25 fps movie in a 24000/1001 scene plays slow: such a clip gets a LinearTimeWarp of
``speed * scene rate / movie rate`` so that the CLI decodes the frames Blender shows.
Each clip's media reference has an available range starting at 0: Blender ignores a
file's start timecode, and so must the CLI.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from urllib.parse import unquote, urlparse

NAMESPACE = "foleyflow"  # metadata namespace of the CLI's takes
HOST_NAMESPACE = "foleyflow_blender"  # what the add-on writes on its own clips
SAMPLE_RATE = 48000
MAX_CHANNEL = 128  # Blender 3.4's highest sequencer channel
_NTSC_BASES = (24, 30, 48, 60, 120, 240)
_ERROR_LINE = re.compile(r"^foleyflow(?: [\w-]+)?: error: ")
_PROGRESS_LINE = re.compile(r"^\[(\d+)/(\d+)\] (.*?): (done|FAILED)")


class HostError(Exception):
    """Something the user can fix, reported as one line (never a traceback)."""


# -- rates -------------------------------------------------------------------------
def exact_rate(value: float | Fraction | int) -> Fraction:
    """The rate a float stands for: 23.976.. (or Blender's float32 23.97602272) -> 24000/1001."""
    if isinstance(value, Fraction) and value > 0:
        return value
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise HostError(f"not a frame rate: {value!r}")
    for base in _NTSC_BASES:
        if abs(v - base * 1000 / 1001) < 5e-4:
            return Fraction(base * 1000, 1001)
    if abs(v - round(v)) < 1e-4:
        return Fraction(round(v))
    return Fraction(v).limit_denominator(1001)


def scene_rate(fps: int, fps_base: float) -> Fraction:
    """A scene's exact rate from ``render.fps`` and ``render.fps_base`` (a float32: 1.001 is 1.00100004)."""
    if fps <= 0 or not fps_base > 0:
        raise HostError(f"not a frame rate: fps={fps}, fps_base={fps_base}")
    return exact_rate(fps / fps_base)


def rate_text(rate: Fraction) -> str:
    """``24000/1001`` or ``25``: the form the CLI's ``--rate`` reads."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


# -- OTIO JSON, written by hand ---------------------------------------------------------
def rational_time(value: float | Fraction | int, rate: Fraction) -> dict:
    v = float(value)
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(rate), "value": v}


def time_range(start: float | Fraction | int, start_rate: Fraction, duration: float | Fraction | int,
               duration_rate: Fraction | None = None) -> dict:
    return {"OTIO_SCHEMA": "TimeRange.1",
            "duration": rational_time(duration, duration_rate or start_rate),
            "start_time": rational_time(start, start_rate)}


def _item(schema: str, name: str, source_range: dict | None, metadata: dict | None = None) -> dict:
    return {"OTIO_SCHEMA": schema, "metadata": metadata or {}, "name": name, "source_range": source_range,
            "effects": [], "markers": [], "enabled": True, "color": None}


@dataclass(frozen=True)
class MovieStrip:
    """What the add-on reads of one Blender movie strip (all frames are scene frames)."""

    name: str
    path: str  # absolute path of the movie file
    channel: int
    frame_start: float  # where the untrimmed strip starts
    frame_final_start: int  # first frame shown (after frame_offset_start)
    frame_final_end: int  # one past the last frame shown (after frame_offset_end)
    movie_frames: int  # frames in the file (Blender's frame_duration + animation offsets)
    movie_fps: float | Fraction  # the file's rate as Blender reports it
    animation_offset_start: int = 0  # file frames cut from the start ("hold offset")
    speed_factor: float = 1.0

    @property
    def duration(self) -> int:
        return self.frame_final_end - self.frame_final_start

    def first_file_frame(self) -> Fraction:
        """The file frame shown at ``frame_final_start``."""
        speed = Fraction(self.speed_factor).limit_denominator(1_000_000)
        return self.animation_offset_start + (Fraction(self.frame_final_start) - Fraction(self.frame_start)) * speed


@dataclass
class Written:
    """A timeline built for the CLI: the JSON dict, which strip each clip id stands for, and the origin frame."""

    doc: dict
    clip_strips: dict[str, str]  # "V1:0" -> strip name
    origin: int  # Blender frame of record time 0
    rate: Fraction


def build_timeline(strips: list[MovieStrip], rate: Fraction, start_frame: int, name: str = "Blender") -> Written:
    """The OTIO timeline (as dicts) of ``strips`` on a scene of ``rate`` starting at ``start_frame``.

    One video track per channel used, lowest channel first (V1); clips in time order
    with gaps between them. Clip ids are the CLI's: ``V<track>:<item index, gaps counted>``.
    """
    if not strips:
        raise HostError("no movie strips to convert")
    origin = min([int(start_frame)] + [s.frame_final_start for s in strips])
    tracks, clip_strips = [], {}
    for number, channel in enumerate(sorted({s.channel for s in strips}), start=1):
        label = f"V{number}"
        children: list[dict] = []
        at = origin
        for strip in sorted((s for s in strips if s.channel == channel), key=lambda s: s.frame_final_start):
            if strip.duration <= 0:
                raise HostError(f"strip {strip.name!r} shows no frames")
            if strip.frame_final_start < at:
                raise HostError(f"strips on channel {channel} overlap at {strip.name!r}")
            if strip.frame_final_start > at:
                children.append(_item("Gap.1", "", time_range(0, rate, strip.frame_final_start - at)))
            clip_strips[f"{label}:{len(children)}"] = strip.name
            children.append(_clip(strip, rate))
            at = strip.frame_final_end
        track = _item("Track.1", f"Channel {channel}", None, {HOST_NAMESPACE: {"channel": channel}})
        track.update(children=children, kind="Video")
        tracks.append(track)
    stack = _item("Stack.1", "tracks", None)
    stack["children"] = tracks
    doc = {"OTIO_SCHEMA": "Timeline.1", "metadata": {HOST_NAMESPACE: {"origin_frame": origin,
                                                                     "rate": rate_text(rate)}},
           "name": name, "global_start_time": rational_time(origin, rate), "tracks": stack}
    return Written(doc, clip_strips, origin, rate)


def _clip(strip: MovieStrip, rate: Fraction) -> dict:
    movie_rate = exact_rate(strip.movie_fps)
    speed = Fraction(strip.speed_factor).limit_denominator(1_000_000)
    scalar = speed * rate / movie_rate  # media seconds per record second
    first = strip.first_file_frame()
    # start in media time (file frames at the movie's rate), duration in record time (scene frames)
    if movie_rate == rate:
        source = time_range(first, rate, strip.duration)
    else:
        source = time_range(first, movie_rate, strip.duration, rate)
    clip = _item("Clip.2", strip.name, source, {HOST_NAMESPACE: {"strip": strip.name, "channel": strip.channel}})
    if scalar != 1:
        clip["effects"] = [{"OTIO_SCHEMA": "LinearTimeWarp.1", "metadata": {}, "name": "", "effect_name":
                            "LinearTimeWarp", "enabled": True, "time_scalar": float(scalar)}]
    ref = {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {}, "name": "",
           "available_range": time_range(0, movie_rate, strip.movie_frames),
           "available_image_bounds": None, "target_url": strip.path}
    clip.update(media_references={"DEFAULT_MEDIA": ref}, active_media_reference_key="DEFAULT_MEDIA")
    return clip


# -- reading the CLI's output -----------------------------------------------------------
@dataclass(frozen=True)
class TakeFile:
    path: str  # absolute path of the WAV
    key: str  # media reference key ("DEFAULT_MEDIA", "take1", ...)
    seed: int | None
    variation: int
    active: bool


@dataclass
class Take:
    """One Foley clip of the output: which video clip it is for, where it sits, its WAVs."""

    source_clip: str
    name: str
    start: Fraction  # record seconds from the timeline's start
    duration: Fraction  # seconds
    samples: int | None
    seed: int | None
    files: list[TakeFile] = field(default_factory=list)

    def frames(self, rate: Fraction, origin: int) -> tuple[Fraction, Fraction]:
        """(first frame, one past the last) in Blender frames."""
        start = origin + self.start * rate
        return start, start + self.duration * rate


def _seconds(t: dict | None) -> Fraction:
    if not t:
        return Fraction(0)
    return Fraction(t["value"]).limit_denominator(10**9) / exact_rate(t["rate"])


def url_to_path(url: str, base_dir: str) -> str | None:
    """The local path of a media URL of the output: relative (percent-encoded) or ``file://``."""
    if not url:
        return None
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        path = unquote(parsed.path)
        if re.match(r"^/[A-Za-z]:", path):  # file:///C:/...
            path = path[1:]
        if parsed.netloc and parsed.netloc != "localhost":
            path = f"//{parsed.netloc}{path}"
        return path
    if len(scheme) == 1:  # C:\... read as a scheme
        return url
    if scheme:
        return None  # http: and the like: not a local file
    import os.path

    path = unquote(url)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def read_takes(doc: dict, base_dir: str) -> list[Take]:
    """Every Foley take (a clip with ``metadata.foleyflow.source_clip``) of an output timeline."""
    takes = []
    for track in (doc.get("tracks") or {}).get("children", []):
        if not str(track.get("OTIO_SCHEMA", "")).startswith("Track."):
            continue
        at = Fraction(0)
        for item in track.get("children", []):
            schema = str(item.get("OTIO_SCHEMA", ""))
            if schema.startswith("Transition."):
                continue
            sr = item.get("source_range") or {}
            duration = _seconds(sr.get("duration"))
            meta = (item.get("metadata") or {}).get(NAMESPACE) or {}
            if schema.startswith("Clip.") and meta.get("source_clip"):
                takes.append(_take(item, meta, at, duration, base_dir))
            at += duration
    return takes


def _take(item: dict, meta: dict, at: Fraction, duration: Fraction, base_dir: str) -> Take:
    refs = item.get("media_references")
    active_key = item.get("active_media_reference_key", "DEFAULT_MEDIA")
    if refs is None:  # Clip.1: one media_reference
        refs = {"DEFAULT_MEDIA": item.get("media_reference") or {}}
        active_key = "DEFAULT_MEDIA"
    files = []
    for key, ref in refs.items():
        ref_meta = ((ref or {}).get("metadata") or {}).get(NAMESPACE) or {}
        path = url_to_path((ref or {}).get("target_url", ""), base_dir)
        if path is None:
            continue
        files.append(TakeFile(path, key, ref_meta.get("seed", meta.get("seed")), int(ref_meta.get("variation", 1)),
                              key == active_key))
    files.sort(key=lambda f: (f.variation, f.key))
    samples = meta.get("samples")
    return Take(str(meta["source_clip"]), str(item.get("name") or ""), at, duration,
                int(samples) if samples is not None else None, meta.get("seed"), files)


# -- channels -----------------------------------------------------------------------------
def free_channel(occupied: list[tuple[int, float, float]], start: float, end: float, lowest: int,
                 highest: int = MAX_CHANNEL) -> int:
    """The lowest channel >= ``lowest`` where [start, end) overlaps no (channel, start, end) of ``occupied``."""
    for channel in range(max(1, lowest), highest + 1):
        if not any(c == channel and s < end and start < e for c, s, e in occupied):
            return channel
    raise HostError(f"no free channel between {lowest} and {highest} for frames {start:g}-{end:g}")


# -- the command and what it prints ---------------------------------------------------------
@dataclass(frozen=True)
class Options:
    steps: int = 0  # 0: the model's default
    seed: int = 0
    variations: int = 1
    model: str = ""  # empty: the bundled default
    sound: str = ""  # empty: not passed (a later CLI adds --sound)


def command(exe: str, timeline: str, output: str, opts: Options) -> list[str]:
    """``foleyflow generate TL -o OUT [--steps N] [--seed S] [--variations V] [--model M] [--sound X]``."""
    cmd = [exe, "generate", timeline, "-o", output, "--seed", str(int(opts.seed))]
    if opts.steps and opts.steps > 0:
        cmd += ["--steps", str(int(opts.steps))]
    if opts.variations and opts.variations > 1:
        cmd += ["--variations", str(int(opts.variations))]
    if opts.model.strip():
        cmd += ["--model", opts.model.strip()]
    if opts.sound.strip():
        cmd += ["--sound", opts.sound.strip()]
    return cmd


def error_line(stderr: str, returncode: int) -> str:
    """The CLI's own one-line ``foleyflow: error: ...`` (the last one), else a line that says the exit code."""
    if returncode in (130, -2):  # the CLI's own exit code after SIGINT, or the signal itself
        return "foleyflow was cancelled"
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in reversed(lines):
        if _ERROR_LINE.match(line):
            return line
    tail = f": {lines[-1]}" if lines else ""
    return f"foleyflow exited with code {returncode}{tail}"


def failed_lines(stderr: str) -> list[str]:
    """Lines of clips that failed (``[2/3] V1:0 name: FAILED: why``)."""
    return [ln.strip() for ln in stderr.splitlines() if _PROGRESS_LINE.match(ln.strip())
            and _PROGRESS_LINE.match(ln.strip()).group(4) == "FAILED"]


def progress(line: str) -> tuple[int, int] | None:
    """(clips finished, clips in all) from a progress line of the CLI, else None."""
    m = _PROGRESS_LINE.match(line.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None
