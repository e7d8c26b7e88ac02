"""The panel's adapter to the plugin: what the widgets show and do, as plain data (no Qt here).

Widgets never touch OTIO time, samples or WAV data: they paint the seconds, texts
and peak arrays this module hands them, and call it to open, generate, place and
save. The work itself is the plugin's application service (the same functions the
command line runs) and the take session::

    open_document --service.open_project--> Document (rows, tracks, jobs, TakeSession)
    run_generation --service.run (the one run loop)--> RunResult (takes + waveform peaks)
    Document.place --TakeSession.place, service.place--> the working timeline with Foley tracks
    Document.save --service.save (the one save path)--> the saved timeline

What stays here is for display only: rows, spans, peaks, filters, the time-left clock.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio
import soundfile as sf

from foleyflow.plugin import service
from foleyflow.plugin.clips import ClipInfo
from foleyflow.plugin.errors import NothingToDoError
from foleyflow.plugin.events import Cancel, Event, EventKind
from foleyflow.plugin.generate import Engine, GenerateOptions, default_model_dir, wav_dir_for
from foleyflow.plugin.media import (
    DISABLED,
    FOUND,
    GENERATOR,
    MISSING,
    MediaResolver,
    MediaStatus,
    reference_path,
)
from foleyflow.plugin.output import WRITE_ADAPTERS
from foleyflow.plugin.placement import NAMESPACE, Take, foley_track_label
from foleyflow.plugin.selection import Job
from foleyflow.plugin.service import Project, RunReport
from foleyflow.plugin.takes import TakeSession
from foleyflow.plugin.timeline import RATELESS, READ_ADAPTERS, LoadedTimeline, adapter_for
from foleyflow.plugin.timing import SAMPLE_RATE, seconds, timecode, to_time
from foleyflow.runtime.errors import FoleyFlowError

log = logging.getLogger(__name__)

PEAKS_PER_SECOND = 200  # waveform resolution kept per take: [n, 2] (min, max) per 1/200 s
STATUS_TEXT: dict[str, str] = {FOUND: "found", MISSING: "missing", GENERATOR: "generator", DISABLED: "disabled"}


# -- opening a timeline ----------------------------------------------------------------
@dataclass(frozen=True)
class ClipRow:
    """One line of the clip table."""

    id: str
    name: str
    track: str
    rec_in: str  # timecode, with the timeline's start timecode
    rec_out: str
    status: MediaStatus  # found, missing, generator, disabled
    status_text: str
    detail: str  # tooltip: the media file, or what was looked for
    start: float  # record seconds from the timeline's start (for painting)
    end: float

    @property
    def runnable(self) -> bool:
        return self.status == FOUND


@dataclass(frozen=True)
class Span:
    """An item of a track, in record seconds, ready to paint."""

    start: float
    end: float
    name: str
    clip_id: str | None = None  # video clips: the plugin's id ("V1:3")
    wav: Path | None = None  # Foley clips: the WAV of the active take
    source_clip: str | None = None  # Foley clips: the video clip they belong to


@dataclass(frozen=True)
class TrackRow:
    label: str  # "V1", "A2", "Foley V1"
    kind: str  # "video", "audio" or "foley"
    spans: tuple[Span, ...]


def open_filter() -> str:
    """A file dialog filter of every format the plugin reads."""
    pats = " ".join(f"*{s}" for s in READ_ADAPTERS)
    return f"Timelines ({pats});;All files (*)"


def save_filter() -> str:
    """A file dialog filter of every format the plugin writes."""
    names = {".otio": "OpenTimelineIO", ".otioz": "OTIO zip bundle", ".otiod": "OTIO folder bundle",
             ".xml": "Final Cut Pro 7 XML (Premiere, Resolve)", ".fcpxml": "Final Cut Pro X XML", ".aaf": "AAF (Avid)",
             ".kdenlive": "Kdenlive project (MLT)", ".xges": "GStreamer Editing Services (Pitivi)"}
    return ";;".join(f"{names.get(s, s)} (*{s})" for s in WRITE_ADAPTERS)


def is_timeline_file(path: str | Path) -> bool:
    """Whether the plugin can read ``path`` (from its suffix)."""
    try:
        adapter_for(Path(path))
    except FoleyFlowError:
        return False
    return True


def needs_rate(path: str | Path) -> bool:
    """Whether the format carries no frame rate (EDL, ALE): the reader uses the rate setting."""
    try:
        return adapter_for(Path(path)) in RATELESS
    except FoleyFlowError:
        return False


class Document:
    """An open timeline: its clips with media status, its takes (a TakeSession), what is placed, how to save it."""

    def __init__(self, project: Project, session: TakeSession | None = None) -> None:
        self.project = project
        self.loaded: LoadedTimeline = project.loaded
        self.path = project.path
        self.resolver: MediaResolver = project.resolver
        self.clips: list[ClipInfo] = project.clips
        self.jobs: list[Job] = project.jobs
        self.start = project.start
        self.timeline: otio.schema.Timeline = self.loaded.timeline  # the working timeline (with placed takes)
        self._tracks: list[TrackRow] | None = None
        self._by_id = {j.info.id: j for j in self.jobs}
        self.rows = [self._row(j) for j in self.jobs]
        if session is None:
            session = TakeSession(referenced=self.foley_wavs())
        else:
            session.retain(self._by_id)
        self.session = session
        if session.placed_takes():
            self._show_placed(session.placed_takes())

    # -- what the widgets show ----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.loaded.timeline.name or self.path.stem

    @property
    def rate(self) -> Fraction:
        return self.loaded.rate

    @property
    def rate_text(self) -> str:
        r = self.loaded.rate
        return f"{float(r):.3f}".rstrip("0").rstrip(".") + " fps"

    @property
    def duration(self) -> float:
        """Record seconds to the end of the last item (at least 1)."""
        ends = [s.end for t in self.tracks() for s in t.spans]
        return max([1.0, *ends])

    @property
    def placed(self) -> dict[str, Take]:
        """Clip id -> the take on the working timeline."""
        return {t.source_clip_id: t for t in self.session.placed_takes()}

    def job(self, clip_id: str) -> Job:
        return self._by_id[clip_id]

    def clip_ids_on_track(self, label: str) -> list[str]:
        return [r.id for r in self.rows if r.track == label]

    def timecode(self, secs: float) -> str:
        """Record timecode (with the start timecode) of ``secs`` from the timeline's start."""
        t = to_time(Fraction(secs).limit_denominator(1_000_000), self.rate)
        return timecode(t, self.rate, self.start)

    def _row(self, job: Job) -> ClipRow:
        rr = job.info.record_range
        start, dur = seconds(rr.start_time), seconds(rr.duration)
        if job.status == MISSING:
            detail = missing_text(job)
        elif job.media.path is not None:
            detail = str(job.media.path)
        else:
            detail = job.media.note or STATUS_TEXT.get(job.status, job.status)
        return ClipRow(
            id=job.info.id, name=job.info.name or "(unnamed)", track=job.info.track,
            rec_in=timecode(rr.start_time, self.rate, self.start),
            rec_out=timecode(rr.end_time_exclusive(), self.rate, self.start),
            status=job.status, status_text=STATUS_TEXT.get(job.status, job.status), detail=detail,
            start=float(start), end=float(start + dur))

    def tracks(self) -> list[TrackRow]:
        """Every top-level track of the working timeline, video first (V1 first), then audio and Foley."""
        if self._tracks is None:
            self._tracks = track_rows(self.timeline, self.clips, self.resolver)
        return self._tracks

    def foley_wavs(self) -> list[Path]:
        """The WAVs of the Foley takes the timeline file already holds (a session never deletes them)."""
        return [s.wav for t in track_rows(self.loaded.timeline, self.clips, self.resolver) if t.kind == "foley"
                for s in t.spans if s.wav is not None]

    # -- placing and saving (the service and the session do the work) -------------------
    def default_output(self, folder: str | Path | None = None) -> Path:
        """Where Save writes: ``FOLDER/STEM_foley.EXT`` (the input's format where the plugin writes it)."""
        base = Path(folder) if folder else self.path.parent
        suffix = self.path.suffix.lower() if self.path.suffix.lower() in WRITE_ADAPTERS else ".otio"
        return base / f"{self.path.stem}_foley{suffix}"

    def wav_dir(self, folder: str | Path | None = None) -> Path:
        """The WAV folder, as the command line names it for the same output."""
        return wav_dir_for(self.default_output(folder))

    def place(self) -> list[Take]:
        """Place exactly the kept takes on the working timeline (what was placed and is no longer kept goes).

        Foley takes the timeline file already held stay unless a new take replaces them.
        """
        takes = self.session.place()
        self._show_placed(takes)
        return takes

    def _show_placed(self, takes: Sequence[Take]) -> None:
        self.timeline = service.place(self.loaded, takes)
        self._tracks = None

    def save(self, path: str | Path, lock_wait: float = 2.0) -> Path:
        """Write the timeline with every placed take to ``path`` (format from the suffix): the one save path.

        Another writer of ``path`` (a CLI run, another panel) is waited for up to ``lock_wait`` seconds,
        then LockHeldError names it.
        """
        saved = service.save(self.loaded, self.session.placed_takes(), Path(path), lock_wait=lock_wait)
        self.session.mark_saved()
        return saved.path

    def write_review_timeline(self, folder: str | Path) -> Path:
        """The working timeline (placed takes included) as a self-contained .otio in ``folder``, for a review.

        Every clip whose media the resolver finds (video and audio, relinked ones too) points at it by
        an absolute URL, so the file renders from anywhere.
        """
        timeline = service.place(self.loaded, self.session.placed_takes())
        for clip in timeline.find_clips():
            ref = clip.media_reference
            if not isinstance(ref, otio.schema.ExternalReference):
                continue
            found = self.resolver.resolve_clip(clip).path
            if found is not None:
                ref.target_url = Path(found).resolve().as_uri()
        out = Path(folder) / f"{self.path.stem}_review.otio"
        otio.adapters.write_to_file(timeline, str(out))
        return out


def open_document(path: str | Path, pick: int | None = None, rate: Fraction | None = None,
                  media_roots: Sequence[str | Path] = (), session: TakeSession | None = None) -> Document:
    """Read a timeline (timeline ``pick`` of a collection, 0-based) and plan every clip. FoleyFlowError on bad input.

    ``session``: the takes to carry over (a re-read of the same timeline); a new session otherwise.
    """
    project = service.open_project(Path(path), rate, None if pick is None else pick + 1,
                                   [Path(r) for r in media_roots if r])
    return Document(project, session)


def track_rows(timeline: otio.schema.Timeline, clips: Sequence[ClipInfo], resolver: MediaResolver) -> list[TrackRow]:
    """Tracks to paint: video tracks from the plugin's clip list, audio items with their record seconds."""
    video: list[TrackRow] = []
    audio: list[TrackRow] = []
    by_track: dict[int, list[ClipInfo]] = {}
    for c in clips:
        by_track.setdefault(c.track_index, []).append(c)
    n_video = n_audio = 0
    for index, track in enumerate(timeline.tracks):
        if not isinstance(track, otio.schema.Track):
            continue
        if track.kind == otio.schema.TrackKind.Video:
            n_video += 1
            spans = tuple(Span(float(seconds(c.record_range.start_time)),
                               float(seconds(c.record_range.end_time_exclusive())), c.name, clip_id=c.id)
                          for c in by_track.get(index, []))
            video.append(TrackRow(f"V{n_video}", "video", spans))
            continue
        foley = foley_track_label(track)
        if foley is None:
            n_audio += 1
        label = (f"Foley {foley[0]}" + (f" ({foley[1] + 1})" if foley[1] else "")) if foley else f"A{n_audio}"
        audio.append(TrackRow(label, "foley" if foley else "audio", tuple(_audio_spans(track, resolver, foley))))
    return list(video) + audio


def _audio_spans(track: otio.schema.Track, resolver: MediaResolver, foley: tuple[str, int] | None) -> list[Span]:
    shift = seconds(track.trimmed_range().start_time)  # a top-level track's trimmed start shifts its content
    out = []
    for i, item in enumerate(track):
        if not isinstance(item, otio.schema.Clip):
            continue
        placed = track.range_of_child_at_index(i)
        start = seconds(placed.start_time) - shift
        wav, source = None, None
        if foley is not None:
            meta: Any = item.metadata.get(NAMESPACE) if item.metadata else None
            if meta is not None and hasattr(meta, "get"):  # a dict (OTIO's AnyDictionary is no Mapping)
                source = str(meta.get("source_clip", "")) or None
            wav = resolver.resolve_clip(item).path
        out.append(Span(float(start), float(start + seconds(placed.duration)), item.name or "", wav=wav,
                        source_clip=source))
    return out


# -- model packages and providers ----------------------------------------------------------
def model_dir(package: str | Path | None) -> Path:
    """The folder of a model package setting: empty means the bundled default."""
    return Path(package) if package else default_model_dir()


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    default_steps: int  # the teacher's
    guidance: float
    error: str = ""  # why the package cannot be read (then the other fields are placeholders)
    student_steps: int = 0  # a package with a few-step student: its steps (0: none)
    sampler: str = "teacher"  # the package's default sampler


def model_info(package: str | Path | None) -> ModelInfo:
    """What a package's model.json says (no checksum check: that happens when it is loaded)."""
    from foleyflow.runtime.spec import read_spec

    try:
        spec = read_spec(model_dir(package))
    except FoleyFlowError as exc:
        return ModelInfo("?", "?", 0, 0.0, str(exc))
    except Exception as exc:  # e.g. an install without the bundled models package
        return ModelInfo("?", "?", 0, 0.0, f"the model package cannot be found: {type(exc).__name__}: {exc}")
    return ModelInfo(spec.name, spec.version, int(spec.default_steps), float(spec.guidance),
                     student_steps=int(spec.student_steps), sampler=str(spec.sampler))


PROVIDERS = (("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "CUDA (NVIDIA)"), ("coreml", "Core ML (Apple)"),
             ("directml", "DirectML (Windows)"))


def available_providers() -> set[str]:
    """The provider choices this onnxruntime build offers ("auto" and "cpu" always)."""
    from foleyflow.runtime.providers import ALIASES

    try:
        import onnxruntime as ort

        have = set(ort.get_available_providers())
    except Exception:  # pragma: no cover - an onnxruntime that cannot say
        have = {"CPUExecutionProvider"}
    return {"auto", "cpu"} | {k for k, v in ALIASES.items() if v in have}


def new_seed() -> int:
    return random.randrange(0, 2**31 - 1)


def model_vocabulary(package: str | Path | None) -> tuple[str, ...]:
    """The sound categories a model package takes as prompts (model.json's vocabulary; none for a model
    without prompts, or a package that cannot be read: the run says why)."""
    from foleyflow.runtime.spec import read_spec

    try:
        return tuple(getattr(read_spec(model_dir(package)), "vocabulary", ()) or ())
    except FoleyFlowError:
        return ()


class EngineCache:
    """Loaded models by (package, provider); loading happens in the worker thread, once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[tuple[str, str], Engine] = {}

    def get(self, package: str | Path | None, provider: str = "auto") -> Engine:
        key = (str(model_dir(package).resolve()), provider)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = Engine.load(model_dir(package), provider=provider)
            return self._engines[key]


# -- waveforms -----------------------------------------------------------------------------
def waveform_peaks(path: str | Path, per_second: int = PEAKS_PER_SECOND) -> np.ndarray:
    """float32 [n, 2]: (min, max) of each 1/``per_second`` s of a WAV, read block by block."""
    with sf.SoundFile(str(path)) as f:
        hop = max(1, f.samplerate // per_second)
        parts = []
        for block in f.blocks(blocksize=hop * 2048, dtype="float32", always_2d=True):
            x = block.mean(axis=1)  # [n] mono
            n = -(-len(x) // hop)
            padded = np.pad(x, (0, n * hop - len(x)), mode="edge").reshape(n, hop)  # [n, hop]
            parts.append(np.stack([padded.min(axis=1), padded.max(axis=1)], axis=1))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 2), np.float32)


def peaks_span(peaks: np.ndarray, columns: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """float32 [columns, 2]: the part [lo, hi) (fractions) of ``peaks`` reduced to ``columns`` columns."""
    n = len(peaks)
    if n == 0 or columns <= 0:
        return np.zeros((max(columns, 0), 2), np.float32)
    a, b = int(np.clip(lo, 0, 1) * n), max(int(np.clip(hi, 0, 1) * n), int(np.clip(lo, 0, 1) * n) + 1)
    part = peaks[a:min(b, n)]
    if len(part) == 0:
        return np.zeros((columns, 2), np.float32)
    edges = np.minimum((np.arange(columns) * len(part)) // columns, len(part) - 1)
    out = np.empty((columns, 2), np.float32)
    out[:, 0] = np.minimum.reduceat(part[:, 0], edges)
    out[:, 1] = np.maximum.reduceat(part[:, 1], edges)
    return out


def display_gain(peaks: np.ndarray, target: float = 0.9, most: float = 16.0) -> float:
    """How much to scale a waveform's drawing so that its loudest peak reaches ``target`` (at most 24 dB up)."""
    top = float(np.abs(peaks).max()) if len(peaks) else 0.0
    return min(target / top, most) if top > 0 else 1.0


# -- generating --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSettings:
    package: str  # "" for the bundled default
    provider: str
    options: GenerateOptions
    wav_dir: Path


@dataclass(frozen=True)
class RunProgress:
    """What the panel shows while a run goes on."""

    kind: EventKind  # LOADING, then the service's events
    clip_id: str = ""
    index: int = 0  # of the clip in the run
    total: int = 0  # clips in the run
    clip_fraction: float = 0.0
    overall: float = 0.0
    seconds_left: float | None = None
    message: str = ""
    take: TakeResult | None = None  # CLIP_DONE: the take, ready to show before the run ends


@dataclass
class TakeResult:
    """A take as the panel shows it: the take, its waveform peaks (one per variation), whether it is kept."""

    take: Take
    peaks: tuple[np.ndarray, ...]
    kept: bool = True

    @property
    def active_peaks(self) -> np.ndarray:
        return self.peaks[self.take.active]

    @property
    def active_wav(self) -> Path:
        return self.take.media[self.take.active]

    @property
    def seeds(self) -> list[int]:
        return take_seeds(self.take)

    def with_active(self, index: int) -> TakeResult:
        return TakeResult(replace(self.take, active=index), self.peaks, self.kept)


def take_seeds(take: Take) -> list[int]:
    """The seed of each variation of a take."""
    return [int(m.get("seed", 0)) for m in take.variation_metadata] or [int(take.metadata.get("seed", 0))]


@dataclass
class RunResult:
    takes: dict[str, TakeResult] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # clip id -> why
    skipped: list[str] = field(default_factory=list)  # one line per selected clip that cannot be generated
    cancelled: bool = False
    error: str = ""  # the run could not start (model problem, nothing to do)
    model: str = ""  # "foleyflow-default 0.1.0 on CPUExecutionProvider"
    segments_after_cancel: int = 0  # segments finished after the cancel was asked for (at most 1)
    report: RunReport | None = None  # the service's report (None when the run could not start)


class RunClock:
    """Overall fraction and time left of a run, clips weighted by their samples."""

    def __init__(self, weights: Sequence[int], clock: Callable[[], float] = time.monotonic) -> None:
        self.weights = [max(1, int(w)) for w in weights]
        self.total = sum(self.weights) or 1
        self.clock = clock
        self.started = clock()

    def update(self, index: int, clip_fraction: float) -> tuple[float, float | None]:
        done = sum(self.weights[:index]) + min(max(clip_fraction, 0.0), 1.0) * self.weights[index]
        overall = done / self.total
        elapsed = self.clock() - self.started
        left = elapsed * (1 - overall) / overall if overall > 0 else None
        return overall, left


def missing_text(job: Job, shown: int = 3) -> str:
    """Why a clip has no media, in the panel's words: the file the timeline names and where else it looked."""
    named = reference_path(job.info.media_reference)
    what = f"the timeline names {named}" if named else (job.media.note or "the clip names no file")
    others = [t for t in job.media.looked_for if t != named]
    also = ""
    if others:
        also = "; also looked for " + ", ".join(others[:shown]) + (f" and {len(others) - shown} more"
                                                                   if len(others) > shown else "")
    hint = "" if job.media.looked_for and any("**" in t for t in job.media.looked_for) else \
        ". Set a Media folder in Settings to relink"
    return f"{job.info.id} {job.info.name!r}: media not found ({what}{also}){hint}."


def skipped_lines(jobs: Sequence[Job]) -> list[str]:
    """Why each job that cannot run is left out, in plain words."""
    lines = [missing_text(j) for j in jobs if j.status == MISSING]
    for j in jobs:
        if j.status not in (FOUND, MISSING):
            lines.append(f"{j.info.id} {j.info.name!r}: {STATUS_TEXT.get(j.status, j.status)}, nothing to generate")
    return lines


def run_generation(
    engines: EngineCache,
    settings: RunSettings,
    jobs: Sequence[Job],
    on_progress: Callable[[RunProgress], None] | None = None,
    cancel: Cancel | None = None,
) -> RunResult:
    """Load the model (once per package), then :func:`foleyflow.plugin.service.run` the jobs, in the calling thread.

    The service's policy holds: a cancel stops within one segment and the clip being generated
    leaves no file, finished clips keep their takes, one clip's failure never stops the others.
    Never raises for bad input: the result carries the reason. Each take's waveform peaks are
    read here (in the worker thread), before the panel hears of it.
    """
    emit = on_progress or _ignore
    result = RunResult(skipped=skipped_lines(jobs))
    runnable = [j for j in jobs if j.runnable]
    if not runnable:
        result.error = str(NothingToDoError("no selected clip can be generated" if jobs else "no clip is selected"))
        return result
    emit(RunProgress(EventKind.LOADING, total=len(runnable), message="loading the model"))
    try:
        engine = engines.get(settings.package, settings.provider)
    except FoleyFlowError as exc:
        result.error = f"the model cannot be loaded: {exc}"
        return result
    except Exception as exc:  # onnxruntime and friends raise their own untyped errors
        log.debug("model load failed", exc_info=True)
        result.error = f"the model cannot be loaded: {type(exc).__name__}: {exc}"
        return result
    result.model = f"{engine.spec.name} {engine.spec.version} on {engine.provider}"
    clock = RunClock([j.n_samples * max(1, settings.options.variations) for j in runnable])

    def on_event(event: Event) -> None:
        overall, left = clock.update(event.index, event.fraction)
        shown = None
        if event.kind == EventKind.CLIP_DONE and event.take is not None:
            shown = result.takes[event.job.info.id] = TakeResult(event.take, take_peaks(event.take))
        emit(RunProgress(event.kind, event.job.info.id, event.index, event.total, event.fraction, overall, left,
                         event.message, shown))

    try:
        report = service.run(engine, runnable, settings.wav_dir, settings.options, on_event, cancel)
    except FoleyFlowError as exc:  # bad input for the whole run (a prompt the model cannot take): nothing made
        result.error = str(exc)
        return result
    result.report = report
    result.failed = {r.job.info.id: r.error for r in report.failed}
    result.cancelled = report.cancelled
    result.segments_after_cancel = report.segments_after_cancel
    return result


def _ignore(_progress: RunProgress) -> None:
    return None


def take_peaks(take: Take) -> tuple[np.ndarray, ...]:
    """The waveform peaks of each variation (an unreadable WAV shows as silence)."""
    out = []
    for path in take.media:
        try:
            out.append(waveform_peaks(path))
        except Exception as exc:  # display only: never fail a finished take over its drawing
            log.warning("%s: cannot read the waveform: %s", path, exc)
            out.append(np.zeros((0, 2), np.float32))
    return tuple(out)


def take_seconds(take: Take) -> float:
    return float(take.metadata.get("samples", 0)) / SAMPLE_RATE
