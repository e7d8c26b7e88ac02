"""Job lists for a render farm: ``foleyflow plan`` writes one, ``run-job`` runs one entry, ``place`` collects.

::

    foleyflow plan TIMELINE -o OUT.otio --jobs JOBS.json [selection, generate options]
    foleyflow run-job JOBS.json --job V1:3        (or --index N; any machine where the paths resolve)
    foleyflow place JOBS.json [--partial]         (OUT.otio through service.save)

A job list is plain JSON: the request (timeline, output, WAV folder, media roots, rate, options,
model, provider; absolute paths) and one entry per runnable clip (job id = clip id, the command line a
farm runs, the take key as planned, the WAV paths, the sidecar). A job re-plans its clip from the
timeline (deterministic: same timeline, same clip) and runs it through THE run loop
(:func:`foleyflow.plugin.service.run` with one job); it is idempotent through the take key, so a job
retried by the farm after it finished does nothing. ``place`` takes each clip's finished take from its
sidecar (checked against the key its inputs give now) and saves through :func:`service.save`.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from foleyflow.runtime.errors import FoleyFlowError

from . import service, takekey
from .atomic import atomic_target
from .errors import EXIT_SOME_FAILED, NothingToDoError, SelectionError
from .events import ClipStatus, EventSink
from .generate import Engine, GenerateOptions
from .placement import Take
from .prompts import SoundPlan
from .selection import Job, Selection
from .takes import take_from_dict, take_to_dict
from .timeline import read_timeline

log = logging.getLogger(__name__)

JOBS_FORMAT = "foleyflow-jobs"
JOBS_VERSION = 1
PROGRAM = "foleyflow"  # the command a farm's worker runs


class JobListError(FoleyFlowError):
    """A job list cannot be read, or does not hold what it should."""


class JobsMissingError(FoleyFlowError):
    """Some jobs of a job list have no finished take (exit 4); ``missing`` lists their ids."""

    exit_code = EXIT_SOME_FAILED

    def __init__(self, message: str, path: str | Path | None = None, missing: Sequence[str] = ()) -> None:
        self.missing = tuple(missing)
        super().__init__(message, path)


@dataclass(frozen=True)
class JobEntry:
    id: str  # the clip id
    index: int
    name: str
    take_key: str | None  # as planned
    wavs: tuple[str, ...]
    sidecar: str
    command: tuple[str, ...]

    @property
    def command_line(self) -> str:
        return shlex.join(self.command)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "name": self.name, "take_key": self.take_key,
                "wavs": list(self.wavs), "sidecar": self.sidecar, "command": list(self.command),
                "command_line": self.command_line}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobEntry:
        return cls(str(d["id"]), int(d["index"]), str(d.get("name", "")), d.get("take_key"),
                   tuple(str(w) for w in d["wavs"]), str(d["sidecar"]), tuple(str(c) for c in d["command"]))


@dataclass(frozen=True)
class JobList:
    """A plan written down: what a job needs to run anywhere its paths resolve."""

    timeline: Path
    output: Path
    wav_dir: Path
    model: Path
    provider: str = "auto"
    options: GenerateOptions = GenerateOptions()
    media_roots: tuple[Path, ...] = ()
    rate: Fraction | None = None
    pick: str | None = None
    in_place: bool = False
    absolute_urls: bool = False
    jobs: tuple[JobEntry, ...] = ()
    path: Path | None = field(default=None, compare=False)  # where it was read from / written to

    # -- the request and the jobs again -----------------------------------------------------------
    def request(self, ids: Sequence[str] | None = None) -> service.GenerateRequest:
        """The GenerateRequest the list was planned from (for ``ids``, default every job)."""
        return service.GenerateRequest(
            timeline=self.timeline, output=self.output, selection=Selection(ids=tuple(ids or self.ids)),
            media_roots=self.media_roots, rate=self.rate, pick=self.pick, options=self.options,
            in_place=self.in_place, absolute_urls=self.absolute_urls)

    @property
    def ids(self) -> list[str]:
        return [j.id for j in self.jobs]

    def entry(self, job_id: str | None = None, index: int | None = None) -> JobEntry:
        """The entry by clip id or by 0-based index (SelectionError naming the list and what it holds)."""
        if index is not None:
            if not 0 <= index < len(self.jobs):
                raise SelectionError(f"--index {index}: the job list holds jobs 0-{len(self.jobs) - 1}", self.path)
            return self.jobs[index]
        found = next((j for j in self.jobs if j.id == job_id), None)
        if found is None:
            shown = ", ".join(self.ids[:12]) + (" ..." if len(self.jobs) > 12 else "")
            raise SelectionError(f"no job {job_id!r} in the job list (it holds {shown or 'none'})", self.path)
        return found

    def plan_jobs(self, ids: Sequence[str]) -> list[Job]:
        """The jobs of clips ``ids``, planned again from the timeline (media resolved now)."""
        project = service.open_project(self.timeline, self.rate, self.pick, self.media_roots)
        jobs = []
        for cid in ids:
            try:
                jobs.append(project.job(cid))
            except KeyError:
                raise JobListError(f"clip {cid} of the job list is not in the timeline {self.timeline} any more "
                                   "(plan again)", self.path) from None
        return jobs

    # -- JSON --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "format": JOBS_FORMAT, "version": JOBS_VERSION,
            "request": {
                "timeline": str(self.timeline), "output": str(self.output), "wav_dir": str(self.wav_dir),
                "model": str(self.model), "provider": self.provider,
                "options": {"seed": o.seed, "steps": o.steps, "guidance": o.guidance, "variations": o.variations,
                            **({"sounds": o.sounds.to_dict()} if o.sounds.any else {}),
                            **({"sampler": o.sampler} if o.sampler else {}),
                            **({"prompt_guidance": o.prompt_guidance} if o.prompt_guidance is not None else {})},
                "media_roots": [str(r) for r in self.media_roots],
                "rate": None if self.rate is None else str(self.rate), "pick": self.pick,
                "in_place": self.in_place, "absolute_urls": self.absolute_urls,
            },
            "jobs": [j.to_dict() for j in self.jobs],
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any], path: Path | None = None) -> JobList:
        if not isinstance(doc, dict) or doc.get("format") != JOBS_FORMAT:
            raise JobListError(f"not a Foley-Flow job list (no \"format\": \"{JOBS_FORMAT}\")", path)
        if int(doc.get("version", 0)) > JOBS_VERSION:
            raise JobListError(f"job list version {doc.get('version')} is newer than this foleyflow reads "
                               f"({JOBS_VERSION})", path)
        try:
            r = doc["request"]
            o = r.get("options", {})
            return cls(
                timeline=Path(r["timeline"]), output=Path(r["output"]), wav_dir=Path(r["wav_dir"]),
                model=Path(r["model"]), provider=str(r.get("provider", "auto")),
                options=GenerateOptions(seed=int(o.get("seed", 0)), steps=o.get("steps"),
                                        guidance=o.get("guidance"), variations=int(o.get("variations", 1)),
                                        sounds=SoundPlan.from_dict(o.get("sounds")), sampler=o.get("sampler"),
                                        prompt_guidance=o.get("prompt_guidance")),
                media_roots=tuple(Path(m) for m in r.get("media_roots", ())),
                rate=None if r.get("rate") is None else Fraction(str(r["rate"])), pick=r.get("pick"),
                in_place=bool(r.get("in_place", False)), absolute_urls=bool(r.get("absolute_urls", False)),
                jobs=tuple(JobEntry.from_dict(j) for j in doc.get("jobs", ())), path=path)
        except (KeyError, TypeError, ValueError) as exc:
            raise JobListError(f"the job list is incomplete or malformed ({type(exc).__name__}: {exc})", path) from exc

    @classmethod
    def read(cls, path: str | Path) -> JobList:
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise JobListError("job list not found", path) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise JobListError(f"cannot read the job list: {exc}", path) from exc
        return cls.from_dict(doc, path)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        with atomic_target(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def _abs(p: Path) -> Path:
    return Path(p).absolute()


def job_list(plan_: service.RunPlan, model: Path, provider: str = "auto", jobs_path: Path | None = None) -> JobList:
    """The job list of a plan: its runnable clips, each with the command that runs it (``jobs_path``:
    where the list will be, for those commands)."""
    req = plan_.request
    identity = takekey.ModelIdentity.read(model)
    where = str(_abs(jobs_path)) if jobs_path is not None else "JOBS.json"
    wav_dir = _abs(plan_.wav_dir)
    entries = []
    for i, job in enumerate(plan_.runnable):
        entries.append(JobEntry(
            id=job.info.id, index=i, name=job.info.name,
            take_key=takekey.take_key(job, req.options, identity),
            wavs=tuple(str(wav_dir / p.name) for p in plan_.wav_paths(job)),
            sidecar=str(takekey.sidecar_path(wav_dir, job.info.id)),
            command=(PROGRAM, "run-job", where, "--job", job.info.id)))
    return JobList(timeline=_abs(req.timeline), output=_abs(req.target), wav_dir=wav_dir, model=_abs(model),
                   provider=provider, options=req.options, media_roots=tuple(_abs(m) for m in req.media_roots),
                   rate=req.rate, pick=req.pick, in_place=req.in_place, absolute_urls=req.absolute_urls,
                   jobs=tuple(entries), path=jobs_path)


# == one job ======================================================================================
def engine_loader(jobs: JobList) -> service.EngineLoader:
    """Loads the list's model (once, when a clip first needs it)."""
    return lambda: Engine.load(jobs.model, provider=jobs.provider)


def run_job(jobs: JobList, job_id: str, *, engine: Engine | service.EngineLoader | None = None, force: bool = False,
            on_event: EventSink | None = None) -> service.ClipResult:
    """Run one job of the list: re-plan its clip, then THE run loop with that one job.

    Idempotent: a finished take of the same key is returned as it is (``reused``), without loading
    the model. A clip whose media is not found now comes back FAILED, saying what was looked for.
    """
    entry = jobs.entry(job_id)
    (job,) = jobs.plan_jobs([entry.id])
    if not job.runnable:
        why = "; ".join(service.missing_lines([job])) or f"clip {job.info.id} {job.info.name!r}: {job.status}"
        return service.ClipResult(job, ClipStatus.FAILED, None, why)
    identity = takekey.ModelIdentity.read(jobs.model)
    key = takekey.take_key(job, jobs.options, identity)
    if entry.take_key is not None and key != entry.take_key:
        log.warning("%s %r: its inputs changed since the job list was planned (media, or model); the take is "
                    "made for what they are now", job.info.id, job.info.name)
    report = service.run(engine or engine_loader(jobs), [job], jobs.wav_dir, jobs.options, on_event,
                         force=force, model=identity)
    return report.results[0]


# == placing ======================================================================================
@dataclass
class Collected:
    takes: list[Take]
    missing: list[JobEntry]


def collect(jobs: JobList) -> Collected:
    """The finished take of every job (from its sidecar, checked against the key its inputs give now)."""
    identity = takekey.ModelIdentity.read(jobs.model)
    planned = jobs.plan_jobs(jobs.ids)
    takes, missing = [], []
    for entry, job in zip(jobs.jobs, planned, strict=True):
        take = None
        if job.runnable:
            take = takekey.reusable_take(job, jobs.wav_dir, jobs.options, takekey.take_key(job, jobs.options, identity))
        if take is None:
            missing.append(entry)
        else:
            takes.append(take)
    return Collected(takes, missing)


def place(jobs: JobList, *, partial: bool = False) -> tuple[service.Saved, Collected]:
    """Write the list's output timeline with every finished take, through :func:`service.save`.

    Jobs without a finished take: JobsMissingError (exit 4) listing them, unless ``partial``, which
    places what exists (NothingToDoError when nothing does).
    """
    got = collect(jobs)
    if got.missing and not partial:
        shown = ", ".join(e.id for e in got.missing[:20]) + (" ..." if len(got.missing) > 20 else "")
        raise JobsMissingError(f"{len(got.missing)} of {len(jobs.jobs)} job(s) have no finished take: {shown} "
                               "(run them, e.g. `" + got.missing[0].command_line + "`, or place what exists "
                               "with --partial)", jobs.path, [e.id for e in got.missing])
    if not got.takes:
        raise NothingToDoError("no job of the list has a finished take yet", jobs.path)
    loaded = read_timeline(jobs.timeline, jobs.rate, jobs.pick)
    saved = service.save(loaded, got.takes, jobs.output, in_place=jobs.in_place, absolute_urls=jobs.absolute_urls)
    return saved, got


# == results as plain data (what a Ray task sends back) ===========================================
def result_to_dict(result: service.ClipResult) -> dict[str, Any]:
    return {"id": result.job.info.id, "status": str(result.status), "error": result.error,
            "wall_s": result.wall_s, "reused": result.reused,
            "take": None if result.take is None else take_to_dict(result.take)}


def result_from_dict(job: Job, data: dict[str, Any]) -> service.ClipResult:
    take = None if data.get("take") is None else take_from_dict(data["take"])
    return service.ClipResult(job, ClipStatus(str(data["status"])), take, str(data.get("error", "")),
                              float(data.get("wall_s", 0.0)), bool(data.get("reused", False)))
