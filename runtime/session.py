"""A loaded model package: three ONNX Runtime sessions behind typed calls.

Checksums are verified before any graph is opened; the graphs' inputs are checked
against model.json; only JSON and ONNX are read (no pickle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from .errors import GraphShapeError
from .providers import create_session
from .spec import ModelSpec, sha256_file, verify_package

log = logging.getLogger(__name__)


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


class Backend(Protocol):
    """What the sampler needs of a model: its contract and its three graphs.

    FoleyModel runs them with ONNX Runtime; foleyflow.export.torch_backend runs the
    same modules in PyTorch eager, so both pipelines share one sampler.
    """

    spec: ModelSpec

    def encode_video(self, frames: np.ndarray) -> np.ndarray: ...

    def velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                 uncond: np.ndarray) -> np.ndarray: ...

    def vocode(self, mel: np.ndarray) -> np.ndarray: ...


@dataclass
class FoleyModel:
    package: Path
    spec: ModelSpec
    sessions: dict[str, ort.InferenceSession]
    provider: str
    checksum: str  # sha256 of model.json, which pins every graph's sha256

    @classmethod
    def load(cls, package: str | Path, provider: str = "auto", threads: int | None = None) -> FoleyModel:
        package = Path(package)
        spec = verify_package(package)
        sessions: dict[str, ort.InferenceSession] = {}
        actual = "CPUExecutionProvider"
        for name in ("velocity", "video_encoder", "vocoder"):
            path = package / spec.graphs[name].file
            # the first graph settles which provider runs; the others ask for that one only
            sess, actual_g = create_session(path, provider if name == "velocity" else actual, threads)
            _check_io(sess, name, spec, path)
            sessions[name] = sess
            if name == "velocity":
                actual = actual_g
        log.info("model %s %s runs on %s", spec.name, spec.version, actual)
        return cls(package, spec, sessions, actual, sha256_file(package / "model.json"))

    # -- the three graphs --------------------------------------------------------
    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        """float32 [B, T, 3, S, S] in [0, 1] -> features [B, T, D]."""
        return self.sessions["video_encoder"].run(None, {"frames": frames})[0]

    def velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                 uncond: np.ndarray) -> np.ndarray:
        feeds = {"x": x, "t": t, "cond": cond, "ctx": ctx, "ctx_mask": ctx_mask, "uncond": uncond}
        return self.sessions["velocity"].run(None, feeds)[0]

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        """normalised log-mel [B, F, n_mels] -> waveform [B, F * hop] at spec.sample_rate."""
        return self.sessions["vocoder"].run(None, {"mel": mel})[0]
