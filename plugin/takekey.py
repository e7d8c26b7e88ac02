"""Takes keyed by what made them, and the sidecar that lets a run skip a take it has already made.

A take key is the sha256 of everything that decides a take's samples::

    media file (resolved path, size, mtime_ns) + the clip's source range and time map as used
    + n_samples + model checksum + steps + guidance (as used: the model's defaults filled in)
    + seeds + variations + prompt (reserved: None today)

It is stored in the take's metadata (``take_key``) and in a small JSON sidecar beside the WAVs,
``WAV_DIR/.foleyflow/<safe clip id>.json``, written atomically after the WAVs. A take is
*reusable* when its sidecar's key is the key the job has now and every WAV it names is there
under its final name with the job's sample count; the run loop (:func:`foleyflow.plugin.service.run`)
then returns the sidecar's take instead of generating. The sidecar is removed before a take is
(re)generated, so a run killed between the WAVs and the sidecar leaves a take that is made again,
never one that is wrongly reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import soundfile as sf

from .atomic import atomic_target
from .generate import GenerateOptions, take_paths
from .placement import Take
from .selection import Job
from .takes import take_from_dict, take_to_dict
from .timing import SAMPLE_RATE
from .wavio import safe_name

if TYPE_CHECKING:
    from .generate import Engine

log = logging.getLogger(__name__)

SIDECAR_DIR = ".foleyflow"
SIDECAR_FORMAT = "foleyflow-take"
SIDECAR_VERSION = 1
KEY_VERSION = 1


@dataclass(frozen=True)
class ModelIdentity:
    """What of a model goes into a take key: its checksum, and the defaults that fill in options."""

    checksum: str  # sha256 of model.json (which pins every graph)
    default_steps: int  # the teacher's
    default_guidance: float
    student_steps: int = 0  # a package with a few-step student: its steps (0: none)
    default_sampler: str = "teacher"
    package: str = ""  # where it was read from (for errors; not part of a key)

    @classmethod
    def of_engine(cls, engine: Engine) -> ModelIdentity:
        spec = engine.spec
        return cls(str(engine.model.checksum), int(spec.default_steps), float(spec.guidance), int(spec.student_steps),
                   str(spec.sampler), str(getattr(engine.model, "package", "")))

    @classmethod
    def read(cls, package: str | Path) -> ModelIdentity:
        """From a model package on disk, without loading it (ModelPackageError if it is not one)."""
        from foleyflow.runtime.spec import read_spec, sha256_file

        package = Path(package)
        spec = read_spec(package)
        return cls(sha256_file(package / "model.json"), int(spec.default_steps), float(spec.guidance),
                   int(spec.student_steps), str(spec.sampler), str(package))

    def check_sampler(self, options: GenerateOptions) -> None:
        """ModelPackageError, before any work, when ``options`` ask for a sampler the model does not have."""
        from foleyflow.runtime.errors import ModelPackageError

        if options.sampler not in (None, "teacher", "student"):
            raise ValueError(f"sampler {options.sampler!r}: expected teacher or student")
        if options.sampler == "student" and not self.student_steps:
            raise ModelPackageError("the model has no few-step student (its sampler: teacher; a package gets one "
                                    "from `foleyflow train --stage distill`)",
                                    Path(self.package) / "model.json" if self.package else None)

    def sampler(self, options: GenerateOptions) -> str:
        return options.sampler or self.default_sampler

    def steps(self, options: GenerateOptions) -> int:
        if options.steps:
            return int(options.steps)
        return self.student_steps if self.sampler(options) == "student" else self.default_steps

    def guidance(self, options: GenerateOptions) -> float:
        return float(self.default_guidance if options.guidance is None else options.guidance)


def media_identity(path: Path) -> dict[str, Any]:
    """A media file as the key sees it: resolved path, size and mtime_ns (OSError if it cannot be read)."""
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def key_fields(job: Job, options: GenerateOptions, model: ModelIdentity, prompt: str | None = None
               ) -> dict[str, Any]:
    """The plain data a take key hashes (OSError when the job's media cannot be stat'ed)."""
    if job.media.path is None:
        raise FileNotFoundError(f"clip {job.info.id}: no media")
    src, tmap = job.info.source_range, job.info.time_map
    return {
        "key_version": KEY_VERSION,
        "media": media_identity(Path(job.media.path)),
        "media_method": job.media.method,  # a name match reads the file's own start, a reference does not
        "source_range": [str(src.start_time.value), str(src.start_time.rate),
                         str(src.duration.value), str(src.duration.rate)],
        "time_map": [str(tmap.offset), str(tmap.scale)],
        "n_samples": int(job.n_samples),
        "model_checksum": model.checksum,
        "steps": model.steps(options),
        "guidance": model.guidance(options),
        "seeds": options.seeds(),
        "variations": len(options.seeds()),
        "prompt": prompt if prompt is not None else options.sounds.for_clip(job.info.id).key(),
        # a package with two samplers: which one (keys of a package without a student are as before)
        **({"sampler": model.sampler(options)} if model.student_steps else {}),
        # a prompt guidance asked for (the model's own is in its checksum); keys without one are as before
        **({"prompt_guidance": float(options.prompt_guidance)} if options.prompt_guidance is not None else {}),
    }


def take_key(job: Job, options: GenerateOptions, model: ModelIdentity, prompt: str | None = None) -> str | None:
    """The job's take key (hex sha256), or None when its media cannot be stat'ed (it will fail anyway)."""
    try:
        fields = key_fields(job, options, model, prompt)
    except OSError:
        return None
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def sidecar_path(wav_dir: Path, clip_id: str) -> Path:
    """``WAV_DIR/.foleyflow/<safe clip id>.json``."""
    return Path(wav_dir) / SIDECAR_DIR / f"{safe_name(clip_id)}.json"


def write_sidecar(wav_dir: Path, take: Take, key: str) -> Path:
    """Record ``take`` (made under ``key``) beside its WAVs, atomically; WAVs named relative to ``wav_dir``."""
    data = take_to_dict(take)
    data["media"] = [Path(p).name for p in take.media]
    doc = {"format": SIDECAR_FORMAT, "version": SIDECAR_VERSION, "clip_id": take.source_clip_id, "key": key,
           "take": data}
    path = sidecar_path(wav_dir, take.source_clip_id)
    with atomic_target(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def forget(wav_dir: Path, clip_id: str) -> None:
    """Remove a clip's sidecar (before its take is made again)."""
    with contextlib.suppress(FileNotFoundError):
        sidecar_path(wav_dir, clip_id).unlink()


def read_sidecar(wav_dir: Path, clip_id: str) -> dict[str, Any] | None:
    """A clip's sidecar, or None when there is none or it does not read as one (said at debug level)."""
    path = sidecar_path(wav_dir, clip_id)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.debug("%s: not a take sidecar (%s); the take is made again", path, exc)
        return None
    if not isinstance(doc, dict) or doc.get("format") != SIDECAR_FORMAT or doc.get("clip_id") != clip_id:
        log.debug("%s: not this clip's take sidecar; the take is made again", path)
        return None
    return doc


def _whole(path: Path, n_samples: int) -> bool:
    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - missing or unreadable: not a finished take
        return False
    return int(info.frames) == n_samples and int(info.samplerate) == SAMPLE_RATE


def reusable_take(job: Job, wav_dir: Path, options: GenerateOptions, key: str | None) -> Take | None:
    """The take this job already has under ``wav_dir`` made under ``key``, or None.

    Reusable: the sidecar's key is ``key``, it names exactly the job's WAV paths, and each is there with
    ``n_samples`` frames at 48 kHz. The take comes back with the job's current clip (id, track, name,
    record range) and the WAV paths as ``wav_dir`` gives them now.
    """
    if key is None:
        return None
    doc = read_sidecar(wav_dir, job.info.id)
    if doc is None or doc.get("key") != key:
        return None
    paths = take_paths(job, wav_dir, options)
    try:
        take = take_from_dict(doc["take"])
    except (KeyError, TypeError, ValueError) as exc:
        log.debug("%s: unreadable take (%s)", sidecar_path(wav_dir, job.info.id), exc)
        return None
    if [p.name for p in take.media] != [p.name for p in paths]:
        return None
    if not all(_whole(p, job.n_samples) for p in paths):
        return None
    return replace(take, source_clip_id=job.info.id, source_track=job.info.track, name=job.info.name,
                   record_range=job.info.record_range, media=tuple(paths))
