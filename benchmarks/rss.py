"""Section ``rss``: peak memory of the plugin's path for clips of 10 s, 60 s and 600 s, each in a
fresh process (VmHWM and ru_maxrss); the longest over the shortest (target <= 1.25).

The child is this module: ``python -m foleyflow.benchmarks.rss --rss-child JSON``. It imports no
torch (as the plugin does not), and prints its figures as one JSON line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from foleyflow.runtime.session import FoleyModel

from .config import BenchConfig
from .media import long_video
from .plugin_path import run_plugin_path

RSS_TARGET = 1.25  # the longest clip's peak over the shortest's
CHILD_FLAG = "--rss-child"
CHILD_MODULE = "foleyflow.benchmarks.rss"  # this module, run as the child


def vm_hwm_kb() -> int | None:
    """This process's peak resident set since exec (Linux's /proc VmHWM), in KiB; None without /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_child(video: Path, n_frames: int, package: Path, steps: int | None, threads: int, wav_dir: Path) -> dict:
    """Run in a fresh process: load, generate the whole clip through the plugin's path, report peaks."""
    import resource  # POSIX only, like the measurement

    model = FoleyModel.load(package, threads=threads)
    after_load = vm_hwm_kb() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = run_plugin_path(model, video, n_frames, wav_dir, steps=steps)
    return {"ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "vmhwm_kb": vm_hwm_kb(),
            "after_load_kb": after_load, "wall_seconds": res["wall_seconds"], "audio_seconds": res["audio_seconds"],
            "torch_loaded": "torch" in sys.modules}


def child_command(args: dict[str, Any]) -> list[str]:
    return [sys.executable, "-m", CHILD_MODULE, CHILD_FLAG, json.dumps(args)]


def run_child(args: dict[str, Any]) -> dict[str, Any]:
    """:func:`rss_child` in a fresh interpreter; its figures."""
    proc = subprocess.run(child_command(args), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"RSS child for {args.get('video')} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rss_summary(rows: dict[str, dict[str, Any]], steps: int | None) -> dict[str, Any]:
    """The section from the children's rows (keyed by clip seconds, shortest first).

    VmHWM is the process's own peak since exec; ru_maxrss can carry the forking parent's (Linux
    keeps it across exec), so it only stands in where a child had no /proc."""
    keys = list(rows)
    key = "vmhwm_kb" if all(r["vmhwm_kb"] for r in rows.values()) else "ru_maxrss_kb"
    lo, hi = rows[keys[0]], rows[keys[-1]]
    return {"steps": steps, "rows": rows, "measure": key, "ratio_longest_to_shortest": hi[key] / lo[key],
            "longest": keys[-1], "shortest": keys[0], "target": RSS_TARGET}


def bench_rss(cfg: BenchConfig, workdir: Path) -> dict[str, Any]:
    rows = {}
    for secs in cfg.rss_seconds:
        video = workdir / f"rss_{secs:g}s.mp4"
        wav_dir = workdir / f"rss_wav_{secs:g}"
        n = long_video(video, secs, cfg.video_size)
        rows[f"{secs:g}"] = run_child({"video": str(video), "n_frames": n, "package": str(cfg.package),
                                       "steps": cfg.rss_steps, "threads": cfg.threads, "wav_dir": str(wav_dir)})
        video.unlink(missing_ok=True)
        shutil.rmtree(wav_dir, ignore_errors=True)
    return rss_summary(rows, cfg.rss_steps)


def child_main(argv: Sequence[str]) -> int:
    """``--rss-child JSON``: the child's entry; prints :func:`rss_child`'s figures as one JSON line."""
    if len(argv) != 2 or argv[0] != CHILD_FLAG:
        sys.stderr.write(f"usage: python -m {CHILD_MODULE} {CHILD_FLAG} JSON\n")
        return 2
    args = json.loads(argv[1])
    out = rss_child(Path(args["video"]), int(args["n_frames"]), Path(args["package"]), args["steps"],
                    int(args["threads"]), Path(args["wav_dir"]))
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
