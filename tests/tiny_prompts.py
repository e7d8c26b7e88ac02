"""Tiny models with sound prompts, trained for seconds, shared by the prompt tests.

``prompt_workdir()``: the tiny model's data, encoders and vocoder (tiny_training) with a flow trained
with prompts on frozen video features (a few seconds). Without a library its vocabulary is the
world's class names and its references other training clips; ``library_prompt_workdir()`` renders
its clips with a small library of UCS-named recordings, whose CatIDs are the vocabulary.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
from tiny_training import TINY, trained_tiny

PROMPT = [
    "flow.prompts=true", "flow.prompt_dim=16", "flow.prompt_seconds=1.0", "flow.finetune_video=false",
    "flow.cluster_weight=0", "flow.steps=30", "flow.lr=3e-3", "flow.warmup=1",
]
CATIDS = ("WOODImpt", "METLImpt", "GLASImpt", "RUBRImpt", "CERMImpt")


def prompt_config(extra: tuple[str, ...] = ()):
    from foleyflow.export.config import TrainConfig

    return TrainConfig().override([*TINY, *PROMPT, *extra])


def _copy_base(workdir: Path, with_cache: bool = True) -> None:
    base = trained_tiny()
    if with_cache:
        shutil.copytree(base / "cache", workdir / "cache")
    for f in ("audio_mae.pt", "video_mae.pt", "align_masked.pt", "vocoder.pt"):
        shutil.copy(base / f, workdir / f)


@functools.cache
def prompt_workdir() -> Path:
    from foleyflow.export.train import STAGES

    workdir = Path(tempfile.mkdtemp(prefix="foleyflow-tiny-prompts-"))
    _copy_base(workdir)
    STAGES["flow"](prompt_config(), workdir)
    return workdir


@functools.cache
def prompt_package() -> Path:
    from foleyflow.export.onnx_export import export_package

    out = prompt_workdir() / "package"
    export_package(prompt_workdir(), out, name="tiny-prompts")
    return out


def write_library(root: Path, per_category: int = 10, rate: int = 16000) -> Path:
    """Decaying-noise hits named by UCS CatID: ``per_category`` recordings of each of CATIDS."""
    import soundfile as sf

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for c, cat in enumerate(CATIDS):
        for i in range(per_category):
            n = rate // 4
            tone = np.sin(2 * np.pi * (300 + 400 * c) * np.arange(n) / rate)
            x = (0.5 * rng.standard_normal(n) + tone) * np.exp(-np.arange(n) / (rate / 40)) * 0.5
            sf.write(root / f"{cat}_Hit {i}_FF_T{i}.wav", x, rate)
    return root


@functools.cache
def library_prompt_workdir() -> Path:
    """The tiny model's encoders and vocoder; its flow's clips re-rendered with a library (train split)."""
    from foleyflow.export.train import STAGES

    workdir = Path(tempfile.mkdtemp(prefix="foleyflow-tiny-library-"))
    lib = write_library(workdir / "library")
    _copy_base(workdir, with_cache=False)
    cfg = prompt_config((f"data.library={lib}",))
    STAGES["data"](cfg, workdir)
    STAGES["flow"](cfg, workdir)
    return workdir
