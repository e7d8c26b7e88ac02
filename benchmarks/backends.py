"""The two sides the bench sets against each other: the PyTorch eager twin of a package (torch
imported here only, lazily) and the fixed inputs every graph is timed on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from foleyflow.runtime.spec import ModelSpec


def load_torch_model(checkpoints: Path | None, package: Path, threads: int) -> Any:
    """``export.torch_backend.TorchModel`` of ``package`` from its training folder, or None without one."""
    if checkpoints is None:
        return None
    import torch

    from foleyflow.export.torch_backend import TorchModel

    torch.set_num_threads(threads)
    return TorchModel.load(checkpoints, package)


def set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def graph_feeds(spec: ModelSpec) -> dict[str, dict[str, np.ndarray]]:
    """Fixed random inputs per graph at the shapes the sampler runs (a window; guidance as a batch of 2)."""
    from foleyflow.export.variants import graph_feeds as feeds

    return feeds(spec)
