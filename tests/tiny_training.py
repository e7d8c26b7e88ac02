"""A tiny model trained for a few steps through every stage, shared by the torch-side tests."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

TINY = [
    "data.n_train=8", "data.n_val=2", "encoder.dim=32", "encoder.heads=2", "encoder.video_layers=1",
    "encoder.audio_layers=1", "audio_mae.steps=2", "audio_mae.batch_size=2", "video_mae.steps=2",
    "video_mae.batch_size=2", "align.steps=2", "align.batch_size=2", "align.decoder_layers=1", "flow.dim=32",
    "flow.layers=1", "flow.heads=2", "flow.steps=2", "flow.batch_size=2", "vocoder.dim=32", "vocoder.layers=1",
    "vocoder.steps=2", "vocoder.batch_size=2",
]


def tiny_config():
    from foleyflow.export.config import TrainConfig

    return TrainConfig().override(TINY)


@functools.cache
def trained_tiny() -> Path:
    """Run every stage for two steps in a temporary folder (once per test session)."""
    from foleyflow.export.train import STAGES

    workdir = Path(tempfile.mkdtemp(prefix="foleyflow-tiny-"))
    cfg = tiny_config()
    for stage in ("data", "audio_mae", "video_mae", "align", "flow", "vocoder"):
        STAGES[stage](cfg, workdir)
    return workdir


@functools.cache
def exported_tiny() -> Path:
    from foleyflow.export.onnx_export import export_package

    out = trained_tiny() / "package"
    export_package(trained_tiny(), out, name="tiny")
    return out
