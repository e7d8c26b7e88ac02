"""Sound prompts on the timeline side: what a clip should sound like, chosen per clip, kept in its take.

A clip's sound is one of three choices (:class:`SoundChoice`):

- **auto**: from the picture alone, as without prompts;
- **a category** of the model's vocabulary (UCS CatIDs such as ``FEETHmn``, listed in model.json);
- **a reference recording**, "sound like this file": read here (any format soundfile reads), mono, at
  the model's rate, and encoded by the model's prompt encoder.

The command line gives them as ``--sound CATEGORY`` / ``--sound-like FILE`` for every selected clip, or
per clip, ``--sound V1:3=FEETHmn`` / ``--sound-like V1:3=ref.wav``; the panel has a picker per clip. A
take records its choice in its metadata (``foleyflow.sound``), so a re-roll keeps it, and the take key
holds it (a category, or the reference's sha256), so a changed prompt regenerates the take.

:func:`resolve_prompts` checks every choice of a run against the model *before* anything is generated
or written: an unknown category or an unreadable reference is a clear error naming it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import SelectionError

if TYPE_CHECKING:
    from foleyflow.runtime.prompt import Prompt
    from foleyflow.runtime.spec import ModelSpec

    from .selection import Job

SoundMode = Literal["auto", "category", "reference"]
_PER_CLIP = re.compile(r"^(?P<clip>[VA]\d+:\d+(?:\.\d+)*)=(?P<value>.*)$")


@dataclass(frozen=True)
class SoundChoice:
    """What one clip should sound like: auto (neither field), a category, or a reference file."""

    category: str | None = None
    reference: str | None = None  # the reference recording's path, absolute

    def __post_init__(self) -> None:
        if self.category is not None and self.reference is not None:
            raise ValueError("a sound choice is a category or a reference, not both")

    @property
    def mode(self) -> SoundMode:
        return "category" if self.category else "reference" if self.reference else "auto"

    def label(self) -> str:
        """For people: ``auto``, ``FEETHmn``, ``like steps.wav``."""
        if self.category:
            return self.category
        if self.reference:
            return f"like {Path(self.reference).name}"
        return "auto"

    def key(self) -> str | None:
        """What a take key holds of it: None for auto, the category, or the reference's sha256 (so
        the same file under another name is the same prompt, and an edited file is another)."""
        if self.category:
            return f"category:{self.category}"
        if self.reference:
            try:
                return f"reference:{file_sha256(Path(self.reference))}"
            except OSError:
                return f"reference-path:{self.reference}"
        return None

    def metadata(self) -> dict[str, Any]:
        """The take's ``foleyflow.sound`` record."""
        out: dict[str, Any] = {"mode": self.mode}
        if self.category:
            out["category"] = self.category
        if self.reference:
            out["reference"] = self.reference
            try:
                out["reference_sha256"] = file_sha256(Path(self.reference))
            except OSError:
                pass
        return out

    @classmethod
    def from_metadata(cls, data: Any) -> SoundChoice:
        """A take's recorded choice (auto for anything that is not one)."""
        if not isinstance(data, Mapping):
            return cls()
        category, reference = data.get("category"), data.get("reference")
        if data.get("mode") == "category" and isinstance(category, str) and category:
            return cls(category=category)
        if data.get("mode") == "reference" and isinstance(reference, str) and reference:
            return cls(reference=reference)
        return cls()


AUTO = SoundChoice()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class SoundPlan:
    """The run's choices: one for every clip, and per-clip ones that override it."""

    default: SoundChoice = AUTO
    per_clip: tuple[tuple[str, SoundChoice], ...] = ()

    def for_clip(self, clip_id: str) -> SoundChoice:
        for cid, choice in self.per_clip:
            if cid == clip_id:
                return choice
        return self.default

    def with_clip(self, clip_id: str, choice: SoundChoice) -> SoundPlan:
        rest = tuple((c, s) for c, s in self.per_clip if c != clip_id)
        return SoundPlan(self.default, rest + ((clip_id, choice),))

    @property
    def any(self) -> bool:
        return self.default.mode != "auto" or any(s.mode != "auto" for _, s in self.per_clip)

    def to_dict(self) -> dict[str, Any]:
        """For a job list: the choices as plain data (references by path)."""
        return {"default": self.default.metadata(), "per_clip": {c: s.metadata() for c, s in self.per_clip}}

    @classmethod
    def from_dict(cls, data: Any) -> SoundPlan:
        if not isinstance(data, Mapping):
            return cls()
        per = data.get("per_clip")
        items = per.items() if isinstance(per, Mapping) else ()
        return cls(SoundChoice.from_metadata(data.get("default")),
                   tuple(sorted((str(c), SoundChoice.from_metadata(m)) for c, m in items)))


def parse_sound_args(sounds: Sequence[str], likes: Sequence[str], base: Path | None = None) -> SoundPlan:
    """``--sound`` and ``--sound-like`` values as a SoundPlan. Each is ``VALUE`` (every selected clip)
    or ``CLIP=VALUE`` (clip ids as ``foleyflow clips`` prints them). SelectionError for a clip given
    twice, two defaults, or an empty value. Reference paths are made absolute against ``base``."""
    default: SoundChoice | None = None
    per: dict[str, SoundChoice] = {}
    where = Path.cwd() if base is None else base

    def put(text: str, make: str) -> None:
        nonlocal default
        m = _PER_CLIP.match(text)
        value = (m.group("value") if m else text).strip()
        if not value:
            raise SelectionError(f"--{make} {text!r}: no value")
        if make == "sound":
            choice = SoundChoice(category=value)
        else:
            path = Path(value).expanduser()
            choice = SoundChoice(reference=str(path if path.is_absolute() else (where / path).resolve()))
        if m:
            cid = m.group("clip")
            if cid in per:
                raise SelectionError(f"clip {cid} is given a sound twice ({per[cid].label()} and {choice.label()})")
            per[cid] = choice
        else:
            if default is not None:
                raise SelectionError(f"two sounds for every clip ({default.label()} and {choice.label()}); "
                                     "give one, or name the clips (CLIP=VALUE)")
            default = choice

    for text in sounds:
        put(text, "sound")
    for text in likes:
        put(text, "sound-like")
    return SoundPlan(default or AUTO, tuple(sorted(per.items())))


def check_clip_ids(plan: SoundPlan, known: Iterable[str]) -> None:
    """SelectionError naming a per-clip sound for a clip the timeline does not hold."""
    ids = set(known)
    unknown = [cid for cid, _ in plan.per_clip if cid not in ids]
    if unknown:
        raise SelectionError(f"--sound/--sound-like name clip{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)}, which the timeline does not hold (see `foleyflow clips`)")


def resolve_prompts(jobs: Sequence[Job], plan: SoundPlan, spec: ModelSpec) -> dict[str, Prompt]:
    """The runtime prompt of every job whose choice is not auto, checked against the model: PromptError
    for a category outside its vocabulary or a model with no prompts, LibraryError naming a reference
    that cannot be read. Each reference file is read once."""
    from foleyflow.library.audio import read_mono
    from foleyflow.runtime.prompt import CategoryPrompt, PromptError, ReferencePrompt, check_prompt

    out: dict[str, Prompt] = {}
    refs: dict[str, Prompt] = {}
    for job in jobs:
        choice = plan.for_clip(job.info.id)
        prompt: Prompt
        if choice.category:
            prompt = CategoryPrompt(choice.category)
        elif choice.reference:
            if choice.reference not in refs:
                refs[choice.reference] = ReferencePrompt(read_mono(choice.reference, int(spec.sample_rate)))
            prompt = refs[choice.reference]
        else:
            continue
        try:
            check_prompt(spec, prompt)
        except PromptError as exc:
            if choice.reference and exc.path is None:
                raise PromptError(f"as a sound reference: {exc.message}", choice.reference) from exc
            raise
        out[job.info.id] = prompt
    return out
