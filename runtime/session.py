"""A loaded model package: three ONNX Runtime sessions behind typed calls (five with sound prompts).

Checksums are verified before any graph is opened; the graphs' inputs are checked
against model.json; only JSON and ONNX are read (no pickle).

Variants: a package may have precision variants beside it, each a whole package of
its own (model.json, graphs, checksums), written by ``foleyflow.export.variants``::

    models/default          fp32, the reference
    models/default-fp16     fp16 weights and math, fp32 inputs and outputs (for GPUs)
    models/default-int8     int8 dynamically quantized matmuls (for CPUs)

``variant="auto"`` takes the one that suits the provider when it is there, else fp32.

On CUDA the velocity graph runs with I/O binding: the inputs that stay the same for
every step of a window (condition, context, mask, guidance flags) are copied to the
device once per window, not once per step. On other providers it is a plain run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from .errors import GraphShapeError, ModelPackageError
from .providers import Tuning, candidates, create_session
from .spec import PROMPT_GRAPH_NAMES, STUDENT_GRAPH, ModelSpec, sha256_file, verify_package

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "fp16", "int8")


def variant_package(package: str | Path, variant: str) -> Path:
    """The folder of a package's precision variant: fp32 is the package itself, the others sit beside it."""
    package = Path(package)
    if variant not in VARIANTS:
        raise ModelPackageError(f"unknown model variant {variant!r} (choose {', '.join(VARIANTS)} or auto)", package)
    return package if variant == "fp32" else package.parent / f"{package.name}-{variant}"


def _resolve_variant(package: Path, variant: str, provider: str) -> str:
    """'auto': fp16 where CUDA may run, int8 where only the CPU runs, when that variant exists; else fp32."""
    if variant != "auto":
        return variant
    order = candidates(provider)
    want = "fp16" if order[0] == "CUDAExecutionProvider" else "int8" if order[0] == "CPUExecutionProvider" else "fp32"
    return want if want != "fp32" and variant_package(package, want).is_dir() else "fp32"


def _check_io(sess: ort.InferenceSession, name: str, spec: ModelSpec, path: Path) -> None:
    g = spec.graphs[name]
    got_in = [(i.name, len(i.shape)) for i in sess.get_inputs()]
    want_in = [(t.name, len(t.shape)) for t in g.inputs]
    got_out = [(o.name, len(o.shape)) for o in sess.get_outputs()]
    want_out = [(t.name, len(t.shape)) for t in g.outputs]
    if got_in != want_in or got_out != want_out:
        raise GraphShapeError(f"graph {name} has inputs {got_in} and outputs {got_out}; "
                              f"model.json declares {want_in} and {want_out}", path)
    for i, t in zip(sess.get_inputs(), g.inputs, strict=True):
        for have, want in zip(i.shape, t.shape, strict=True):
            if isinstance(have, int) and isinstance(want, int) and have != want:
                raise GraphShapeError(f"graph {name} input {t.name} has shape {i.shape}, model.json says {list(t.shape)}",
                                      path)


def fixed_batch(spec: ModelSpec, graph: str) -> int | None:
    """The batch size a graph of the package is fixed to, or None where its batch axis is dynamic.

    model.json names a dynamic axis (``"B"``) and gives a fixed one as a number; the sampler
    stacks variations (and guidance) on the batch axis only where it is dynamic.
    """
    g = spec.graphs.get(graph)
    if g is None or not g.inputs or not g.inputs[0].shape:
        return None
    first = g.inputs[0].shape[0]
    return first if isinstance(first, int) else None


class Backend(Protocol):
    """What the sampler needs of a model: its contract and its graphs.

    FoleyModel runs them with ONNX Runtime; foleyflow.export.torch_backend runs the
    same modules in PyTorch eager, so both pipelines share one sampler. Every input
    and output has the batch as its leading axis, of any size where the package's
    model.json names it (see :func:`fixed_batch`): the sampler puts the variations of
    one clip there, twice over with guidance, and row b of an output depends only on
    row b of the inputs.

    ``velocity`` gets ``prompt`` [B, E] and ``prompt_on`` [B] only from a model whose spec has
    ``prompt_dim > 0`` (the sampler never passes them to one without); ``encode_reference`` and
    ``encode_category`` are called only for such a model, once per call with a prompt.
    ``student_velocity`` (the inputs of ``velocity`` less ``uncond``, plus ``scales`` [B, 3]) is called
    only for a model whose spec has ``student_steps > 0``, with the student sampler.
    """

    spec: ModelSpec

    def encode_video(self, frames: np.ndarray) -> np.ndarray: ...

    def velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                 uncond: np.ndarray, prompt: np.ndarray | None = None,
                 prompt_on: np.ndarray | None = None) -> np.ndarray: ...

    def vocode(self, mel: np.ndarray) -> np.ndarray: ...

    def student_velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray,
                         ctx_mask: np.ndarray, scales: np.ndarray, prompt: np.ndarray | None = None,
                         prompt_on: np.ndarray | None = None) -> np.ndarray: ...

    def encode_reference(self, wave: np.ndarray) -> np.ndarray: ...

    def encode_category(self, index: np.ndarray) -> np.ndarray: ...


def prompt_feeds(spec: ModelSpec, batch: int, prompt: np.ndarray | None,
                 prompt_on: np.ndarray | None) -> dict[str, np.ndarray]:
    """The velocity graph's prompt inputs: none for a model without prompts (a prompt given to one is
    a ValueError), else ``prompt`` [B, E] and ``prompt_on`` [B], zeros (auto) where not given."""
    if spec.prompt_dim <= 0:
        if prompt is not None or prompt_on is not None:
            raise ValueError(f"model {spec.name} takes no sound prompts")
        return {}
    if prompt is None:
        prompt = np.zeros((batch, spec.prompt_dim), np.float32)
    if prompt_on is None:
        prompt_on = np.zeros(batch, np.float32)
    return {"prompt": prompt, "prompt_on": prompt_on}


@dataclass
class FoleyModel:
    package: Path
    spec: ModelSpec
    sessions: dict[str, ort.InferenceSession]
    provider: str
    checksum: str  # sha256 of model.json, which pins every graph's sha256
    variant: str = "fp32"
    io_binding: bool = False  # run the velocity graph through I/O binding (on by default on CUDA only)
    _bound: dict[str, tuple[np.ndarray, ort.OrtValue]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, package: str | Path, provider: str = "auto", threads: int | None = None, *,
             variant: str = "fp32", tuning: Tuning | None = None, io_binding: bool | None = None) -> FoleyModel:
        """Open a package (checksums first).

        ``variant``: fp32 (the package itself), fp16, int8, or auto: the fp16 variant where CUDA runs
        and the int8 one where only the CPU does, when they exist beside the package, else fp32.
        ``io_binding``: None binds the velocity graph's inputs on CUDA only.
        """
        package = Path(package)
        chosen = _resolve_variant(package, variant, provider)
        folder = variant_package(package, chosen)
        if not folder.is_dir():
            raise ModelPackageError(f"this package has no {chosen} variant (make one with "
                                    f"`python -m foleyflow.export.variants {package}`)", folder)
        model = cls._open(folder, provider, threads, chosen, tuning, io_binding)
        if variant == "auto" and chosen == "fp16" and model.provider != "CUDAExecutionProvider":
            fallback = "int8" if variant_package(package, "int8").is_dir() else "fp32"
            log.info("CUDA could not start; using the %s graphs rather than the fp16 ones on %s", fallback,
                     model.provider)
            model = cls._open(variant_package(package, fallback), provider, threads, fallback, tuning, io_binding)
        return model

    @classmethod
    def _open(cls, package: Path, provider: str, threads: int | None, variant: str, tuning: Tuning | None,
              io_binding: bool | None) -> FoleyModel:
        spec = verify_package(package)
        variant = str(spec.training.get("variant", {}).get("kind", variant))  # a variant package loaded directly
        sessions: dict[str, ort.InferenceSession] = {}
        actual = "CPUExecutionProvider"
        names = ("velocity", "video_encoder", "vocoder") + (PROMPT_GRAPH_NAMES if spec.prompt_dim > 0 else ()) \
            + ((STUDENT_GRAPH,) if spec.student_steps else ())
        for name in names:
            path = package / spec.graphs[name].file
            # the first graph settles which provider runs; the others ask for that one only
            sess, actual_g = create_session(path, provider if name == "velocity" else actual, threads, tuning)
            _check_io(sess, name, spec, path)
            sessions[name] = sess
            if name == "velocity":
                actual = actual_g
        bind = actual == "CUDAExecutionProvider" if io_binding is None else io_binding
        log.info("model %s %s (%s) runs on %s%s", spec.name, spec.version, variant, actual,
                 " with I/O binding" if bind else "")
        return cls(package, spec, sessions, actual, sha256_file(package / "model.json"), variant, bind)

    # -- the graphs --------------------------------------------------------------
    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        """float32 [B, T, 3, S, S] in [0, 1] -> features [B, T, D]."""
        features: np.ndarray = self.sessions["video_encoder"].run(None, {"frames": frames})[0]
        return features

    def velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                 uncond: np.ndarray, prompt: np.ndarray | None = None,
                 prompt_on: np.ndarray | None = None) -> np.ndarray:
        """v [B, N, P]; ``prompt`` [B, E] and ``prompt_on`` [B] for a model with prompts (zeros: auto)."""
        feeds = {"x": x, "t": t, "cond": cond, "ctx": ctx, "ctx_mask": ctx_mask, "uncond": uncond,
                 **prompt_feeds(self.spec, len(x), prompt, prompt_on)}
        if self.io_binding:
            return self._run_bound("velocity", feeds)
        v: np.ndarray = self.sessions["velocity"].run(None, feeds)[0]
        return v

    def student_velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray,
                         ctx_mask: np.ndarray, scales: np.ndarray, prompt: np.ndarray | None = None,
                         prompt_on: np.ndarray | None = None) -> np.ndarray:
        """The student's v [B, N, P] (a package with one): ``scales`` [B, 3] each row's guidance, prompt
        guidance and step size."""
        if STUDENT_GRAPH not in self.sessions:
            raise ValueError(f"model {self.spec.name} has no student")
        feeds = {"x": x, "t": t, "cond": cond, "ctx": ctx, "ctx_mask": ctx_mask,
                 **prompt_feeds(self.spec, len(x), prompt, prompt_on), "scales": scales}
        if self.io_binding:
            return self._run_bound(STUDENT_GRAPH, feeds)
        v: np.ndarray = self.sessions[STUDENT_GRAPH].run(None, feeds)[0]
        return v

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        """normalised log-mel [B, F, n_mels] -> waveform [B, F * hop] at spec.sample_rate."""
        audio: np.ndarray = self.sessions["vocoder"].run(None, {"mel": mel})[0]
        return audio

    def encode_reference(self, wave: np.ndarray) -> np.ndarray:
        """A prepared reference float32 [1, L] (runtime.prompt.prepare_reference) -> prompt [1, E]."""
        vec: np.ndarray = self._prompt_session("prompt_encoder").run(None, {"wave": wave})[0]
        return vec

    def encode_category(self, index: np.ndarray) -> np.ndarray:
        """Category indices int64 [B] (into spec.vocabulary) -> prompts [B, E]."""
        vec: np.ndarray = self._prompt_session("prompt_table").run(None, {"category": index})[0]
        return vec

    def _prompt_session(self, name: str) -> ort.InferenceSession:
        if name not in self.sessions:
            raise ValueError(f"model {self.spec.name} takes no sound prompts")
        return self.sessions[name]

    # -- I/O binding -------------------------------------------------------------
    @property
    def device(self) -> str:
        """Where bound inputs live: 'cuda' on CUDA, else 'cpu'."""
        return "cuda" if self.provider == "CUDAExecutionProvider" else "cpu"

    def _run_bound(self, name: str, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """Run with inputs on the device; an input equal to the one of the previous call is not copied again.

        Within a window the sampler passes the same condition, context, mask and flags at every step,
        so they cross to the device once per window; ``x`` and ``t`` cross at every step. The
        cache holds a private copy of each input, so a caller that changes an array in place
        between calls still gets its new values.
        """
        sess = self.sessions[name]
        binding = sess.io_binding()
        for key, value in feeds.items():
            slot = f"{name}/{key}"
            hit = self._bound.get(slot)
            if hit is None or hit[0].shape != value.shape or not np.array_equal(hit[0], value):
                host = np.array(value, dtype=np.float32, order="C", copy=True)
                hit = (host, ort.OrtValue.ortvalue_from_numpy(host, self.device, 0))
                self._bound[slot] = hit
            binding.bind_ortvalue_input(key, hit[1])
        binding.bind_output(sess.get_outputs()[0].name, self.device)
        sess.run_with_iobinding(binding)
        out: np.ndarray = binding.copy_outputs_to_cpu()[0]
        return out
