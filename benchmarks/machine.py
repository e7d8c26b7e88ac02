"""What the run ran on: CPU, cores, library versions, load average."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np


def load_average() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def cpu_name() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def machine_info() -> dict[str, Any]:
    """The report's machine line (torch's version only where torch is installed: imported here, lazily)."""
    import onnxruntime as ort

    info: dict[str, Any] = {"cpu": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version(), "numpy": np.__version__,
                            "onnxruntime": ort.__version__, "loadavg_start": load_average()}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info
