"""`foleyflow eval --videos DIR`: score generated takes against the videos' own production sound.

For footage that has its sound: the "true" onsets of a video are those the evaluation's detector
(:func:`foleyflow.export.eval.onsets.detect_onsets`) finds in the video's own audio track, and each
model's take for the video's picture is scored against them with the synthetic splits' metrics
(:func:`foleyflow.export.eval.metrics.evaluate_clips`)::

    video.mp4  picture --decode_video (model fps, frame_size)--> frames --generate_audio--> take (48 kHz)
               sound   --decode_audio (16 kHz mono)--> audio --detect_onsets--> onsets   |
                                                         |                               v
                                                         +--------------> evaluate_clips(take | audio, onsets)

Rows per video: ``video's own audio`` (the sanity row: the sound against the onsets found in it, F1
1.0 by construction, energy L1 and offset 0: it shows that picture, sound and scoring line up) and one
per model package. The means are over the videos that
were scored, equally weighted (as ``evaluate_clips`` weights clips); with two or more of them the
means carry ``another video's own audio (chance)``, each video's onsets scored on another video's
sound (:func:`foleyflow.export.eval.metrics.mismatched_baseline`).

Decoding is the training side's (:mod:`foleyflow.export.real`), which prepares frames as the plugin
does for a clip: the frame shown at each model frame time (a hold), resized whole (no crop) to
``frame_size`` square with area interpolation. A video longer than ``max_seconds`` is scored on its
first ``max_seconds``. A file with a video suffix that cannot be read, a video without an audio track
and one whose sound has no onset (silence, steady noise) are reported with the reason and left out
of the means; other files in the folder are ignored (listed in the result). Nothing here needs torch.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.errors import FoleyFlowError
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.session import Backend, FoleyModel

from ..real import VIDEO_SUFFIXES, decode_audio, decode_video
from .metrics import evaluate_clips, mismatched_baseline
from .onsets import ANALYSIS_SR, detect_onsets

log = logging.getLogger(__name__)

SANITY_ROW = "video's own audio"
CHANCE_ROW = "another video's own audio (chance)"
DEFAULT_MAX_SECONDS = 60.0

SCORED = "scored"
NO_AUDIO = "no audio track"
SILENT = "silent audio (no onsets)"
UNREADABLE = "unreadable"

COLUMNS = (("f1", "onset F1 @0.1s"), ("precision", "P"), ("recall", "R"), ("f1_050", "F1 @0.05s"),
           ("ap", "onset AP"), ("onset_acc", "onset acc"), ("mmaudio_recall", "MMAudio R @0.3s"),
           ("energy_l1", "energy L1"), ("offset_ms", "abs offset ms"), ("mean_n_pred", "onsets found"))
"""Table columns: keys of ``evaluate_clips`` and their labels (as ``foleyflow eval``'s table)."""

_NAN_MEAN_KEYS = ("offset_ms", "offset_signed_ms")  # per video NaN where undefined: mean over the defined


class VideoEvalError(FoleyFlowError):
    """A folder of videos cannot be evaluated, or one of its videos cannot be read."""


class NoAudioTrackError(VideoEvalError):
    """A video has no audio track to take its onsets from."""


@dataclass(frozen=True)
class VideoProbe:
    """What a container says before anything is decoded."""

    duration: float | None  # seconds of picture (None: the container does not say)
    has_audio: bool


@dataclass(frozen=True)
class VideoSound:
    """The part of a video that is scored: its own sound and the onsets found in it."""

    path: Path
    duration: float | None  # the whole file's picture, s (None: unknown)
    seconds: float  # the part scored, from 0: min(duration, max_seconds)
    audio: np.ndarray  # float32 mono [seconds * ANALYSIS_SR], the video's own sound
    onsets: np.ndarray  # float64 s, ascending: detect_onsets(audio)

    @property
    def truncated(self) -> bool:
        return self.duration is None or self.seconds < self.duration - 1e-6


@dataclass
class VideoResult:
    """One video's line of the report (JSON-able through :meth:`to_dict`)."""

    file: str
    status: str  # SCORED, NO_AUDIO, SILENT or UNREADABLE
    reason: str = ""  # why it was left out, in words ("" when scored)
    duration: float | None = None  # the whole file's picture, s
    seconds: float | None = None  # the part scored, s
    truncated: bool = False  # scored on its first part only (longer than max_seconds)
    onsets: list[float] = field(default_factory=list)  # found in the video's own sound, s
    rows: dict[str, dict[str, float]] = field(default_factory=dict)  # row -> evaluate_clips' figures

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "n_onsets": len(self.onsets)}


# -- the folder and one video -------------------------------------------------------------------------
def find_videos(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """(videos, ignored): the files directly in ``folder`` with a video suffix, and the other files,
    each sorted by name; hidden files (``.name``, e.g. macOS's ``._clip.mp4``) are ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VideoEvalError("is not a folder" if folder.exists() else "no such folder", folder)
    videos, ignored = [], []
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        if not p.name.startswith(".") and p.suffix.lower() in VIDEO_SUFFIXES:
            videos.append(p)
        else:
            ignored.append(p)
    if not videos:
        raise VideoEvalError(f"holds no video file ({' '.join(VIDEO_SUFFIXES)})", folder)
    return videos, ignored


def probe_video(path: str | Path) -> VideoProbe:
    """The picture's duration and whether there is an audio track; VideoEvalError if the file is no video."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoEvalError("has no video stream", path)
            stream = container.streams.video[0]
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            return VideoProbe(duration if duration and duration > 0 else None, bool(container.streams.audio))
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoEvalError(f"cannot read as a video: {getattr(exc, 'strerror', None) or exc}", path) from exc


def read_video_sound(path: str | Path, max_seconds: float = DEFAULT_MAX_SECONDS) -> VideoSound:
    """The video's own sound over its first ``max_seconds`` (or all of it) and the onsets found in it.

    NoAudioTrackError for a video without an audio track, VideoEvalError for a file that cannot be
    read; a silent track is returned with no onsets (the caller says so).
    """
    path = Path(path)
    if not max_seconds > 0 or not math.isfinite(max_seconds):
        raise ValueError(f"max_seconds must be positive and finite, got {max_seconds!r}")
    probe = probe_video(path)
    if not probe.has_audio:
        raise NoAudioTrackError("has no audio track", path)
    seconds = max_seconds if probe.duration is None else min(probe.duration, max_seconds)
    try:
        audio = decode_audio(path, ANALYSIS_SR, 0.0, round(seconds * ANALYSIS_SR))
    except FoleyFlowError as exc:  # LayoutError: undecodable audio
        raise VideoEvalError(exc.message, path) from exc
    return VideoSound(path, probe.duration, seconds, audio, detect_onsets(audio, ANALYSIS_SR))


def model_frames(path: str | Path, fps: Fraction, size: int, seconds: float) -> np.ndarray:
    """uint8 [T, size, size, 3]: the picture's first ``seconds`` at ``fps`` as the plugin prepares a clip
    (``export.real.decode_video``: a hold, resized whole, area interpolation)."""
    try:
        return decode_video(Path(path), fps, size, 0.0, seconds)
    except FoleyFlowError as exc:  # LayoutError: no frame, undecodable picture
        raise VideoEvalError(exc.message, path) from exc


def take_for(model: Backend, frames: np.ndarray, seconds: float, seed: int = 0, steps: int | None = None,
             guidance: float | None = None) -> np.ndarray:
    """float32 [seconds * 48 kHz]: the model's take for ``frames`` (as ``foleyflow eval`` generates for a
    synthetic clip: :func:`foleyflow.runtime.generate.generate_audio` with the frames it needs)."""
    n = round(seconds * OUTPUT_RATE)
    need = frames_needed(model.spec, n)
    return np.concatenate(list(generate_audio(model, list(frames[:need]), n, seed=seed, steps=steps,
                                              guidance=guidance)))


def score_video(path: str | Path, models: Sequence[tuple[str, Backend]], *, max_seconds: float = DEFAULT_MAX_SECONDS,
                seed: int = 0, steps: int | None = None, guidance: float | None = None) -> tuple[VideoResult,
                                                                                               VideoSound | None]:
    """One video: its rows, or why it is left out. Reading errors become the result's status and reason;
    errors of the models (a package, a provider) are raised."""
    path = Path(path)
    try:
        sound = read_video_sound(path, max_seconds)
        frames: dict[tuple[Fraction, int], np.ndarray] = {}
        for _name, model in models:
            key = (model.spec.video_fps, int(model.spec.frame_size))
            if key not in frames and sound.onsets.size:
                frames[key] = model_frames(path, key[0], key[1], sound.seconds)
    except NoAudioTrackError as exc:
        return VideoResult(path.name, NO_AUDIO, exc.message), None
    except VideoEvalError as exc:
        return VideoResult(path.name, UNREADABLE, exc.message), None
    res = VideoResult(path.name, SCORED, "", sound.duration, sound.seconds, sound.truncated,
                      [float(t) for t in sound.onsets])
    if not sound.onsets.size:
        res.status, res.reason = SILENT, "its sound is silent: no onset found (silence or steady noise)"
        return res, None
    truth, ref = [sound.onsets], [sound.audio]
    res.rows[SANITY_ROW] = evaluate_clips([sound.audio], truth, ref, ANALYSIS_SR)
    for name, model in models:
        take = take_for(model, frames[(model.spec.video_fps, int(model.spec.frame_size))], sound.seconds, seed,
                        steps, guidance)
        res.rows[name] = evaluate_clips([take], truth, ref, OUTPUT_RATE, ref_sample_rate=ANALYSIS_SR)
    return res, sound


# -- the folder's report ------------------------------------------------------------------------------
def mean_rows(results: Sequence[VideoResult]) -> dict[str, dict[str, float]]:
    """Per row, the mean over the scored videos of each figure (``evaluate_clips``' means over clips: the
    offsets over the videos where they are defined; ``n_clips`` the number of videos)."""
    scored = [r for r in results if r.status == SCORED]
    out: dict[str, dict[str, float]] = {}
    for name in (scored[0].rows if scored else {}):
        per = [r.rows[name] for r in scored]
        row: dict[str, float] = {}
        for key in per[0]:
            values = np.array([p[key] for p in per], np.float64)
            if key == "n_clips":
                row[key] = float(values.sum())
            elif key in _NAN_MEAN_KEYS:
                row[key] = float(np.mean(values[np.isfinite(values)])) if np.isfinite(values).any() else math.nan
            else:
                row[key] = float(np.mean(values))
        out[name] = row
    return out


def row_names(packages: Sequence[Path], names: Sequence[str] | None = None) -> list[str]:
    """The packages' row names: ``names``, or their folder names (their paths where two share one)."""
    if names is not None:
        if len(names) != len(packages):
            raise ValueError(f"{len(names)} names for {len(packages)} packages")
        out = list(names)
    else:
        short = [p.name for p in packages]
        out = [p.name if short.count(p.name) == 1 else str(p) for p in packages]
    if len(set(out)) != len(out) or {SANITY_ROW, CHANCE_ROW} & set(out):
        raise ValueError(f"row names must differ from each other and from the fixed rows: {out}")
    return out


def evaluate_videos(packages: Sequence[str | Path], folder: str | Path, *, names: Sequence[str] | None = None,
                    max_seconds: float = DEFAULT_MAX_SECONDS, steps: int | None = None,
                    guidance: float | None = None, seed: int = 0) -> dict[str, Any]:
    """Score every video of ``folder`` (module docstring); returns the report (JSON-able)."""
    if not max_seconds > 0 or not math.isfinite(max_seconds):
        raise VideoEvalError(f"--max-seconds must be positive, got {max_seconds!r}")
    paths = [Path(p) for p in packages]
    if not paths:
        raise VideoEvalError("no model package given")
    try:
        labels = row_names(paths, names)
    except ValueError as exc:
        raise VideoEvalError(str(exc)) from exc
    videos, ignored = find_videos(folder)
    models = [(label, FoleyModel.load(p)) for label, p in zip(labels, paths, strict=True)]
    results: list[VideoResult] = []
    sounds: list[VideoSound] = []
    for path in videos:
        res, sound = score_video(path, models, max_seconds=max_seconds, seed=seed, steps=steps, guidance=guidance)
        results.append(res)
        if sound is not None:
            sounds.append(sound)
        if res.status == SCORED:
            log.info("%s: %d onsets in %.1f s; F1 %s", path.name, len(res.onsets), res.seconds,
                     {k: round(v["f1"], 3) for k, v in res.rows.items()})
        else:
            log.warning("%s: %s (left out)", path, res.reason)
    means = mean_rows(results)
    if len(sounds) >= 2:
        means[CHANCE_ROW] = mismatched_baseline([s.audio for s in sounds], [s.onsets for s in sounds], ANALYSIS_SR,
                                                seed=seed)
    spec = models[0][1].spec
    return {"folder": str(folder), "packages": [str(p) for p in paths], "names": labels,
            "max_seconds": max_seconds, "steps": steps or spec.default_steps,
            "guidance": spec.guidance if guidance is None else guidance, "seed": seed,
            "videos": [r.to_dict() for r in results], "ignored": [p.name for p in ignored],
            "means": {"videos": len(sounds), "left_out": len(results) - len(sounds), "rows": means}}


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(rows: dict[str, dict[str, float]]) -> list[str]:
    lines = ["| row | " + " | ".join(c[1] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, r in rows.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(r.get(k, "")) for k, _ in COLUMNS) + " |")
    return lines


def format_videos(result: dict[str, Any], heading: str = "") -> str:
    """A table per scored video, a line per left-out one, then the means (how many videos they rest on)."""
    lines = [f"{heading}videos in {result['folder']}: {len(result['videos'])} ({result['means']['videos']} scored), "
             f"first {result['max_seconds']:g} s at most, {result['steps']} steps, guidance {result['guidance']}"]
    for v in result["videos"]:
        if v["status"] != SCORED:
            lines += ["", f"{heading}{v['file']}: {v['reason']} (left out of the means)"]
            continue
        part = (f"scored on the first {v['seconds']:.1f} s of "
                + (f"{v['duration']:.1f} s" if v["duration"] is not None else "an unknown length")
                if v["truncated"] else f"{v['seconds']:.1f} s")
        lines += ["", f"{heading}{v['file']}: {part}, {v['n_onsets']} onsets in its sound", ""] + _table(v["rows"])
    m = result["means"]
    lines += ["", f"{heading}means over {m['videos']} video{'s' if m['videos'] != 1 else ''}"
              + (f" ({m['left_out']} left out)" if m["left_out"] else "")]
    lines += ["", *_table(m["rows"])] if m["rows"] else ["", "no video could be scored"]
    if result["ignored"]:
        lines += ["", f"ignored (not a video by its suffix): {', '.join(result['ignored'])}"]
    return "\n".join(lines)


def markdown_page(result: dict[str, Any], cmd: str) -> str:
    """The report as a Markdown page: the command, then ``format_videos``' tables under headings."""
    return ("# Videos with their own sound\n\nMeasured by `foleyflow eval --videos` (regenerate with the "
            "command below). The true onsets of each video are those the evaluation's detector finds in its "
            f"own sound; \"{SANITY_ROW}\" scores that sound against them (the sanity row).\n\n"
            f"```sh\n{cmd}\n```\n\n{format_videos(result, heading='### ')}\n")
