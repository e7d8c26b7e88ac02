"""The PyTorch eager twin of runtime.session.FoleyModel, for parity checks and benchmarks.

It implements the runtime's Backend protocol with the trained torch modules, so the
exact same streaming sampler runs on either side (sound prompts included).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from foleyflow.runtime.session import prompt_feeds
from foleyflow.runtime.spec import ModelSpec, read_spec

from .models.encoders import VideoEncoder
from .models.flow import VelocityNet
from .models.vocoder import Vocoder
from .onnx_export import (
    PromptModules,
    StudentGraph,
    load_models,
    load_prompt_models,
    load_student,
    student_graph,
)


@dataclass
class TorchModel:
    spec: ModelSpec
    video_encoder: VideoEncoder
    net: VelocityNet
    vocoder: Vocoder
    prompts: PromptModules | None = None  # the prompt modules of a flow trained with sound prompts
    student: StudentGraph | None = None  # the distill stage's student, where the package has one

    @classmethod
    def load(cls, checkpoints: str | Path, package: str | Path, flow: str | None = None) -> TorchModel:
        """Modules from `checkpoints`, constants from the package exported from them."""
        spec = read_spec(package)
        name = flow or spec.training.get("flow", "flow_masked_dynamic")
        _, venc, net, voc, _ = load_models(Path(checkpoints), name)
        st = load_student(Path(checkpoints), name) if spec.student_steps else None
        return cls(spec, venc, net, voc, load_prompt_models(Path(checkpoints), name),
                   None if st is None else student_graph(st[0]))

    @torch.no_grad()
    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        return self.video_encoder(torch.from_numpy(frames)).numpy()

    @torch.no_grad()
    def velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray, ctx_mask: np.ndarray,
                 uncond: np.ndarray, prompt: np.ndarray | None = None,
                 prompt_on: np.ndarray | None = None) -> np.ndarray:
        extra = prompt_feeds(self.spec, len(x), prompt, prompt_on)  # the runtime's defaults: zeros = auto
        args = [torch.from_numpy(a) for a in (x, t, cond, ctx, ctx_mask, uncond, *extra.values())]
        return self.net(*args).numpy()

    @torch.no_grad()
    def student_velocity(self, x: np.ndarray, t: np.ndarray, cond: np.ndarray, ctx: np.ndarray,
                         ctx_mask: np.ndarray, scales: np.ndarray, prompt: np.ndarray | None = None,
                         prompt_on: np.ndarray | None = None) -> np.ndarray:
        if self.student is None:
            raise ValueError(f"model {self.spec.name} has no student")
        extra = prompt_feeds(self.spec, len(x), prompt, prompt_on)
        args = [torch.from_numpy(a) for a in (x, t, cond, ctx, ctx_mask, *extra.values(), scales)]
        return self.student(*args).numpy()

    @torch.no_grad()
    def vocode(self, mel: np.ndarray) -> np.ndarray:
        return self.vocoder(torch.from_numpy(mel)).numpy()

    @torch.no_grad()
    def encode_reference(self, wave: np.ndarray) -> np.ndarray:
        return self._prompts().encoder(torch.from_numpy(wave)).numpy()

    @torch.no_grad()
    def encode_category(self, index: np.ndarray) -> np.ndarray:
        return self._prompts().table(torch.from_numpy(index)).numpy()

    def _prompts(self) -> PromptModules:
        if self.prompts is None:
            raise ValueError(f"model {self.spec.name} takes no sound prompts")
        return self.prompts
