"""The PyTorch eager twin of runtime.session.FoleyModel, for parity checks and benchmarks.

It implements the runtime's Backend protocol with the trained torch modules, so the
exact same streaming sampler runs on either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from foleyflow.runtime.spec import ModelSpec, read_spec

from .models.encoders import VideoEncoder
from .models.flow import VelocityNet
from .models.vocoder import Vocoder
from .onnx_export import load_models


@dataclass
class TorchModel:
    spec: ModelSpec
    video_encoder: VideoEncoder
    net: VelocityNet
    vocoder: Vocoder

    @classmethod
    def load(cls, checkpoints: str | Path, package: str | Path, flow: str | None = None) -> TorchModel:
        """Modules from `checkpoints`, constants from the package exported from them."""
        spec = read_spec(package)
        _, venc, net, voc, _ = load_models(Path(checkpoints), flow or spec.training.get("flow", "flow_masked_dynamic"))
        return cls(spec, venc, net, voc)

    @torch.no_grad()
    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        return self.video_encoder(torch.from_numpy(frames)).numpy()

    @torch.no_grad()
    def velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                 uncond: np.ndarray) -> np.ndarray:
        args = [torch.from_numpy(a) for a in (x, t, cond, ctx, ctx_mask, uncond)]
        return self.net(*args).numpy()

    @torch.no_grad()
    def vocode(self, mel: np.ndarray) -> np.ndarray:
        return self.vocoder(torch.from_numpy(mel)).numpy()
