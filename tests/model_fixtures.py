"""Paths to the model packages tests use (the embedded default is committed in models/default),
and helpers that copy and tamper with a package without ever writing through to the original."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "default"


def copy_model(dest: Path, source: Path = DEFAULT_MODEL) -> Path:
    """A copy of a package in `dest`: graphs hard-linked where possible (never written through: see `rewrite`)."""
    dest.mkdir()
    for f in source.iterdir():
        if f.suffix == ".onnx":
            try:
                os.link(f, dest / f.name)
            except OSError:
                shutil.copy(f, dest / f.name)
        else:
            shutil.copy(f, dest / f.name)
    return dest


def rewrite(path: Path, data: bytes) -> None:
    """Replace a file by a new one (a hard link's other name keeps the old bytes)."""
    path.unlink()
    path.write_bytes(data)
