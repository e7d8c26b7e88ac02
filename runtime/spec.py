"""The contract of a model package: ``model.json``, parsed by one frozen dataclass.

A model package is a folder::

    model.json            this contract (schema "foleyflow.model/1")
    video_encoder.onnx    frames -> per-frame aligned video features   (once per window)
    velocity.onnx         v(x_t, t, cond, ctx)                         (once per solver step)
    vocoder.onnx          normalised log-mel -> waveform               (once per segment)
    prompt_encoder.onnx   reference waveform -> prompt vector          (once per call; prompt models only)
    prompt_table.onnx     category index -> prompt vector              (once per call; prompt models only)

``export`` writes it, ``runtime`` reads it; both use :class:`ModelSpec`.

Graph contracts (B batch, T video frames == N audio tokens of the window,
P = frames_per_token * n_mels, F = N * frames_per_token mel frames):

- ``video_encoder``: ``frames`` float32 [B, T, 3, H, W] in [0, 1] -> ``features`` float32 [B, T, D]
- ``velocity``: ``x`` [B, N, P], ``t`` [B], ``cond`` [B, N, D], ``ctx`` [B, N, P],
  ``ctx_mask`` [B, N, 1] (1 where ``ctx`` is known), ``uncond`` [B] (1 drops the video
  condition, for classifier-free guidance) -> ``v`` [B, N, P]
- ``vocoder``: ``mel`` float32 [B, F, n_mels] (normalised) -> ``audio`` float32 [B, F * hop_length]

A package with sound prompts (``prompt_dim`` E > 0; ``vocabulary`` its C categories, UCS CatIDs):

- ``velocity`` has two more inputs: ``prompt`` [B, E] and ``prompt_on`` [B] (1: row b has a prompt;
  0: auto, the picture alone; ``uncond`` 1 drops the prompt too)
- ``prompt_encoder``: ``wave`` float32 [1, L] (a reference prepared by
  ``runtime.prompt.prepare_reference``: from its onset, L samples at ``sample_rate``, peak 1) -> ``prompt`` [1, E]
- ``prompt_table``: ``category`` int64 [B] (indices into ``vocabulary``) -> ``prompt`` [B, E]
- ``prompt_guidance`` (optional): the prompt's own guidance scale for prompted takes (runtime.stream:
  the picture is guided by ``guidance``, what the prompt adds to it by this); absent or null: ``guidance``

A package without (``prompt_dim`` 0, the default) has neither graph and takes no prompts.

A package with a guided few-step student (export.distill; ``student_steps`` S > 0) adds:

- ``student``: the inputs of ``velocity`` without ``uncond``, and ``scales`` [B, 3] (each row's guidance,
  prompt guidance and step size dt) -> ``v`` [B, N, P]: one row per take per step, S steps of dt = 1 / S
- ``sampler``: the default sampler, ``student`` or ``teacher`` (``velocity``, ``default_steps`` guided
  steps; the quality setting)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import ChecksumError, ModelPackageError

SCHEMA = "foleyflow.model/1"
GRAPH_NAMES = ("video_encoder", "velocity", "vocoder")
PROMPT_GRAPH_NAMES = ("prompt_encoder", "prompt_table")  # only in packages with prompt_dim > 0
STUDENT_GRAPH = "student"  # only in packages with student_steps > 0
SAMPLERS = ("teacher", "student")


@dataclass(frozen=True)
class TensorSpec:
    """One named input or output of a graph; ``shape`` uses names for dynamic axes."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"


@dataclass(frozen=True)
class GraphSpec:
    file: str
    sha256: str
    size: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


@dataclass(frozen=True)
class ModelSpec:
    """Every constant the runtime needs to run a package, and its graphs."""

    name: str
    version: str
    # audio
    sample_rate: int  # Hz of the model's audio (the runtime resamples to 48 kHz)
    n_fft: int
    hop_length: int  # samples per mel frame
    n_mels: int
    mel_fmin: float
    mel_fmax: float
    mel_mean: float  # log-mel normalisation: (log(mel) - mean) / std
    mel_std: float
    frames_per_token: int  # mel frames per audio token
    # video
    video_fps_num: int  # the model's video rate, exactly num/den (== token rate)
    video_fps_den: int
    frame_size: int  # frames are frame_size x frame_size RGB
    feature_dim: int  # D of the video features
    # streaming
    segment_tokens: int  # tokens per segment window
    context_tokens: int  # tokens of the previous segment given as context
    # sampler defaults
    default_steps: int
    solver: str
    guidance: float
    graphs: dict[str, GraphSpec] = field(default_factory=dict)
    lookahead_tokens: int = 20  # tokens of future video each window sees past what it keeps (runtime.stream)
    crossfade_tokens: int = 20  # a window's first tokens fade in from the previous window's lookahead
    # sound prompts (runtime.prompt): 0 = a package that takes none (auto only)
    prompt_dim: int = 0  # E of the prompt vectors
    prompt_guidance: float | None = None  # the prompt's own guidance scale (runtime.stream); None: ``guidance``
    # a guided few-step student (export.distill): 0 = none
    student_steps: int = 0  # the student's default steps
    sampler: str = "teacher"  # the default sampler: teacher (velocity, guided) or student
    vocabulary: tuple[str, ...] = ()  # the categories a CategoryPrompt may name (UCS CatIDs), index = table row
    sound_sources: tuple[dict[str, Any], ...] = ()  # provenance of the recordings it learned from (free-form:
    # source package, license, count)
    training: dict[str, Any] = field(default_factory=dict)  # provenance, free-form
    schema: str = SCHEMA

    # -- derived constants -------------------------------------------------
    @property
    def video_fps(self) -> Fraction:
        return Fraction(self.video_fps_num, self.video_fps_den)

    @property
    def token_dim(self) -> int:
        return self.frames_per_token * self.n_mels

    @property
    def samples_per_token(self) -> int:
        return self.frames_per_token * self.hop_length

    @property
    def segment_seconds(self) -> float:
        return self.segment_tokens * self.samples_per_token / self.sample_rate

    def sampler_steps(self, sampler: str | None = None) -> int:
        """The default steps of ``sampler`` (default the package's): the student's ``student_steps``, the
        teacher's ``default_steps``."""
        return self.student_steps if (sampler or self.sampler) == "student" else self.default_steps

    @property
    def prompt_samples(self) -> int:
        """Samples of a reference the prompt encoder takes (its fixed input length); 0 without prompts."""
        g = self.graphs.get("prompt_encoder")
        if self.prompt_dim <= 0 or g is None or not g.inputs or len(g.inputs[0].shape) != 2:
            return 0
        n = g.inputs[0].shape[1]
        return n if isinstance(n, int) else 0

    # -- JSON ----------------------------------------------------------------
    def to_json(self) -> str:
        data = asdict(self)
        if data["prompt_guidance"] is None:  # unset: left out, so runtimes older than the key read the package
            del data["prompt_guidance"]
        if not self.student_steps:  # no student: the same
            del data["student_steps"], data["sampler"]
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> ModelSpec:
        if not isinstance(data, dict):
            raise ModelPackageError("model.json is not a JSON object", path)
        schema = data.get("schema")
        if schema != SCHEMA:
            raise ModelPackageError(f"unknown schema version {schema!r} (this runtime reads {SCHEMA!r})", path)
        try:
            graphs = {
                name: GraphSpec(
                    file=g["file"],
                    sha256=g["sha256"],
                    size=int(g["size"]),
                    inputs=tuple(TensorSpec(t["name"], tuple(t["shape"]), t.get("dtype", "float32")) for t in g["inputs"]),
                    outputs=tuple(TensorSpec(t["name"], tuple(t["shape"]), t.get("dtype", "float32")) for t in g["outputs"]),
                )
                for name, g in data["graphs"].items()
            }
            fields = {k: v for k, v in data.items() if k not in ("graphs",)}
            if "crossfade_tokens" not in fields and "lookahead_tokens" in fields:  # packages before the fade
                fields["crossfade_tokens"] = min(cls.crossfade_tokens, int(fields["lookahead_tokens"]))
            if "vocabulary" in fields:
                vocab = fields["vocabulary"]
                if not isinstance(vocab, list | tuple) or not all(isinstance(v, str) and v for v in vocab):
                    raise ValueError("vocabulary must be a list of category names")
                fields["vocabulary"] = tuple(vocab)
            if "sound_sources" in fields:
                sources = fields["sound_sources"]
                if not isinstance(sources, list | tuple) or not all(isinstance(v, dict) for v in sources):
                    raise ValueError("sound_sources must be a list of objects")
                fields["sound_sources"] = tuple(sources)
            if not isinstance(fields.get("prompt_dim", 0), int):
                raise ValueError("prompt_dim must be an integer")
            pg = fields.get("prompt_guidance")
            if pg is not None and (isinstance(pg, bool) or not isinstance(pg, int | float)):
                raise ValueError("prompt_guidance must be a number or null")
            spec = cls(graphs=graphs, **fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelPackageError(f"model.json is malformed: {exc}", path) from exc
        missing = [n for n in GRAPH_NAMES if n not in spec.graphs]
        if missing:
            raise ModelPackageError(f"model.json names no graph for {', '.join(missing)}", path)
        if spec.video_fps != Fraction(spec.sample_rate, spec.samples_per_token):
            raise ModelPackageError(
                f"video rate {spec.video_fps} differs from the token rate "
                f"{Fraction(spec.sample_rate, spec.samples_per_token)}",
                path,
            )
        if not 0 <= spec.context_tokens < spec.segment_tokens:
            raise ModelPackageError("context_tokens must be in [0, segment_tokens)", path)
        if not 0 <= spec.lookahead_tokens < spec.segment_tokens - spec.context_tokens:
            raise ModelPackageError("lookahead_tokens must be in [0, segment_tokens - context_tokens)", path)
        if not 0 <= spec.crossfade_tokens <= spec.lookahead_tokens:
            raise ModelPackageError("crossfade_tokens must be in [0, lookahead_tokens]", path)
        _check_prompts(spec, path)
        _check_student(spec, path)
        return spec


def _check_student(spec: ModelSpec, path: Path | None) -> None:
    """A student package names its graph and its steps; the default sampler is one the package has."""
    if isinstance(spec.student_steps, bool) or not isinstance(spec.student_steps, int) or spec.student_steps < 0:
        raise ModelPackageError(f"student_steps must be 0 (no student) or a positive integer, not "
                                f"{spec.student_steps!r}", path)
    if spec.sampler not in SAMPLERS:
        raise ModelPackageError(f"sampler must be one of {', '.join(SAMPLERS)}, not {spec.sampler!r}", path)
    has_graph = STUDENT_GRAPH in spec.graphs
    if spec.student_steps and not has_graph:
        raise ModelPackageError(f"student_steps {spec.student_steps} but no graph {STUDENT_GRAPH}", path)
    if has_graph and not spec.student_steps:
        raise ModelPackageError(f"graph {STUDENT_GRAPH} but no student_steps", path)
    if spec.sampler == "student" and not spec.student_steps:
        raise ModelPackageError("sampler student, but the package has no student", path)


def _check_prompts(spec: ModelSpec, path: Path | None) -> None:
    """A prompt package names its two prompt graphs, a vocabulary without repeats and the reference length."""
    if spec.prompt_dim < 0:
        raise ModelPackageError(f"prompt_dim must be 0 (no prompts) or positive, not {spec.prompt_dim}", path)
    if spec.prompt_guidance is not None and not spec.prompt_guidance >= 0:
        raise ModelPackageError(f"prompt_guidance must be 0 or more, not {spec.prompt_guidance}", path)
    if spec.prompt_dim == 0:
        if spec.vocabulary:
            raise ModelPackageError("model.json has a vocabulary but prompt_dim 0 (a model without prompts)", path)
        return
    missing = [n for n in PROMPT_GRAPH_NAMES if n not in spec.graphs]
    if missing:
        raise ModelPackageError(f"a model with sound prompts needs the graph {' and '.join(missing)}", path)
    if not spec.vocabulary:
        raise ModelPackageError("a model with sound prompts needs a vocabulary", path)
    repeated = sorted({v for v in spec.vocabulary if spec.vocabulary.count(v) > 1})
    if repeated:
        raise ModelPackageError(f"the vocabulary names {', '.join(repeated)} more than once", path)
    if spec.prompt_samples <= 0:
        raise ModelPackageError("graph prompt_encoder must take a wave of fixed length [1, L]", path)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_spec(package: str | Path) -> ModelSpec:
    """Parse ``package/model.json`` (no checksum work)."""
    package = Path(package)
    path = package / "model.json"
    if not package.is_dir():
        raise ModelPackageError("model package folder not found", package)
    if not path.is_file():
        raise ModelPackageError("model.json is missing from the model package", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelPackageError(f"cannot read model.json: {exc}", path) from exc
    return ModelSpec.from_dict(data, path)


def verify_package(package: str | Path, spec: ModelSpec | None = None) -> ModelSpec:
    """Check that every graph file exists and matches its sha256; return the spec."""
    package = Path(package)
    spec = spec or read_spec(package)
    for name, graph in spec.graphs.items():
        f = package / graph.file
        if f.resolve().parent != package.resolve():
            raise ModelPackageError(f"graph {name} points outside the package: {graph.file!r}", package / "model.json")
        if not f.is_file():
            raise ModelPackageError(f"graph {name} is missing", f)
        digest = sha256_file(f)
        if digest != graph.sha256:
            raise ChecksumError(f"sha256 mismatch for graph {name}: expected {graph.sha256}, got {digest}", f)
    return spec
