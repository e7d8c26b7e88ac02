"""Section ``e2e``: the plugin's path for a synthetic H.264 clip (default 60 s): decode + encode +
sample + vocode + resample + write a WAV, at the model's default settings; seconds, x real time,
time to first segment, and where the time went."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.session import FoleyModel

from .config import BenchConfig
from .media import MEDIA_FPS, write_frames
from .plugin_path import run_plugin_path
from .sampling import segment_count

E2E_SEED = 11  # the world scene of the end-to-end clip
WARMUP_FRAMES = 25  # about a second of the same clip, run first and not timed (first-call allocations)


def e2e_video(cfg: BenchConfig, workdir: Path) -> tuple[Path, int]:
    """(path, frames) of the end-to-end clip: ``cfg.e2e_seconds`` of a world scene at ``cfg.video_size``."""
    from foleyflow.world.world import render_clip

    path = workdir / f"e2e_{cfg.e2e_seconds:g}s.mp4"
    clip = render_clip(E2E_SEED, cfg.e2e_seconds, MEDIA_FPS, cfg.video_size, 48000)
    return path, write_frames(path, clip.frames, MEDIA_FPS, crf=18, preset=None)  # as the bench always made it


def bench_e2e(cfg: BenchConfig, workdir: Path, variant: str = "fp32", video: tuple[Path, int] | None = None,
              tuning: Any = None, steps: int | None = None) -> dict[str, Any]:
    """The model's default settings (``steps`` overrides), the default provider, ``cfg.threads`` threads
    (``tuning``: runtime.providers.Tuning). ``video``: (path, frames) of a clip made before (default:
    made here); it comes back as ``_video``, for the sections that run it again (not for the JSON)."""
    if video is None:
        video = e2e_video(cfg, workdir)
    t0 = time.perf_counter()
    model = FoleyModel.load(cfg.package, threads=cfg.threads, variant=variant, tuning=tuning)
    load_s = time.perf_counter() - t0
    run_plugin_path(model, video[0], min(video[1], WARMUP_FRAMES), workdir / "warmup")
    res = run_plugin_path(model, video[0], video[1], workdir / f"wav_{variant}", steps=steps)
    res.update({"load_seconds": load_s, "provider": model.provider, "variant": model.variant,
                "steps": steps or model.spec.default_steps, "solver": model.spec.solver, "guidance": model.spec.guidance,
                "segments": segment_count(model.spec, round(res["audio_seconds"] * OUTPUT_RATE)),
                "video": f"{cfg.video_size}x{cfg.video_size} H.264 at {MEDIA_FPS}"})
    res["_video"] = video
    return res
