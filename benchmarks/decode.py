"""Section ``decode``: the plugin's FrameReader alone (decode, hold, resize to the model's frames) at
the model's rate, per source size: what the end-to-end figure pays for media larger than the
synthetic clip."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from foleyflow.runtime.spec import ModelSpec

from .config import BenchConfig
from .media import MEDIA_FPS, pattern_frames, write_frames


def bench_decode(spec: ModelSpec, cfg: BenchConfig, workdir: Path) -> dict[str, Any]:
    from foleyflow.plugin.decode import FrameReader
    from foleyflow.world.world import frame_count

    rows = {}
    n_model = int(cfg.decode_seconds * spec.video_fps)
    times = [Fraction(k) / spec.video_fps for k in range(n_model)]
    for w, h in cfg.decode_sizes:
        path = workdir / f"decode_{w}x{h}.mp4"
        write_frames(path, pattern_frames(w, h, frame_count(cfg.decode_seconds, MEDIA_FPS)), MEDIA_FPS)
        with FrameReader(path, spec.frame_size) as reader:
            t0 = time.perf_counter()
            for _ in reader.frames_at(times):
                pass
            secs = time.perf_counter() - t0
            decoded = reader.decoded
        path.unlink(missing_ok=True)
        rows[f"{w}x{h}"] = {"seconds": secs, "decoded_frames": decoded, "model_frames": n_model,
                            "ms_per_source_frame": 1e3 * secs / max(decoded, 1),
                            "seconds_per_minute": secs * 60.0 / cfg.decode_seconds}
    return {"clip_seconds": cfg.decode_seconds, "fps": str(MEDIA_FPS), "rows": rows}
