"""Section ``tuning``: ONNX Runtime session options measured per call of the velocity and vocoder
graphs (threads, spinning, optimisation level), and end to end with spinning on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from foleyflow.runtime.providers import Tuning
from foleyflow.runtime.session import FoleyModel

from .backends import graph_feeds
from .config import BenchConfig
from .e2e import bench_e2e
from .timing import ms_summary, time_interleaved

TUNED_GRAPHS = ("velocity", "vocoder")


def compared_options(threads: int) -> dict[str, tuple[int, Tuning]]:
    """The options compared, by their report label: (intra-op threads, Tuning); the runtime's own first."""
    return {
        f"threads={threads} (default)": (threads, Tuning()),
        f"threads={threads}, spinning": (threads, Tuning(spinning=True)),
        "threads=1": (1, Tuning()),
        f"threads={threads}, opt=basic": (threads, Tuning(opt_level="basic")),
        f"threads={threads}, opt=extended": (threads, Tuning(opt_level="extended")),
    }


def bench_tuning(model: FoleyModel, cfg: BenchConfig, workdir: Path, e2e_video: tuple[Path, int] | None = None
                 ) -> dict[str, Any]:
    from foleyflow.runtime.providers import create_session

    feeds = graph_feeds(model.spec)
    options = compared_options(cfg.threads)
    out: dict[str, Any] = {}
    for graph in TUNED_GRAPHS:
        path = model.package / model.spec.graphs[graph].file
        sessions = {k: create_session(path, "cpu", th, tu)[0] for k, (th, tu) in options.items()}
        f = feeds[graph]
        ts = time_interleaved({k: (lambda s=s, f=f: s.run(None, f)) for k, s in sessions.items()}, cfg.repeats)
        out[graph] = {k: ms_summary(v) for k, v in ts.items()}
    out["note"] = (f"{model.spec.segment_tokens} tokens per window; vocoder on "
                   f"{model.spec.segment_tokens * model.spec.frames_per_token} mel frames")
    if e2e_video is not None:  # spinning is the knob that moves most with machine load: see it end to end
        e = bench_e2e(cfg, workdir, video=e2e_video, tuning=Tuning(spinning=True))
        out["e2e_spinning"] = {"wall_seconds": e["wall_seconds"], "x_real_time": e["x_real_time"]}
    return out
