"""A long run, measured: one process through many short clips (not part of the test suite).

    .venv/bin/python scripts/long_run.py --clips 1000 --steps 1 [--engine real|fake] [--out out/long_run]

Generates a timeline of N clips of 0.2-0.5 s pointing at a few short media files (one clip at a
file with broken media), runs it with ``service.plan`` / ``service.execute`` (the bundled model, or
the fake engine of tests/conftest.py with ``--engine fake``) and prints, as JSON:

- RSS after 50 clips and at the end (target: end <= 1.2 x after-50),
- open file descriptors after 50 clips and at the end (target: flat),
- clips done / failed (the broken clip fails, every other one is done),
- seconds, and the written timeline's Foley clip count.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio

REPO = Path(__file__).resolve().parents[1]
FPS = Fraction(25)


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def write_media(folder: Path, n: int = 4) -> list[Path]:
    from foleyflow.plugin.video_out import write_video

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        path = folder / f"m{k}.mp4"
        if not path.exists():
            frames = np.full((50, 64, 64, 3), 30 + 40 * k, np.uint8)  # [T, H, W, 3], 2 s at 25 fps
            for i in range(50):
                y = (i * (3 + k)) % 52
                frames[i, y:y + 12, 20:32] = (220, 180, 60)
            write_video(path, frames, FPS)
        paths.append(path)
    broken = folder / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 20)
    return [*paths, broken]


def write_timeline(folder: Path, media: list[Path], n_clips: int, seed: int) -> Path:
    rng = random.Random(seed)
    rate = float(FPS)
    timeline = otio.schema.Timeline(name=f"{n_clips} short clips", global_start_time=otio.opentime.RationalTime(0, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    good, broken = media[:-1], media[-1]
    for i in range(n_clips):
        n = rng.randint(5, 12)  # 0.2-0.48 s at 25 fps
        path = broken if i == n_clips // 3 else good[i % len(good)]
        start = rng.randint(0, 50 - n)
        ref = otio.schema.ExternalReference(target_url=path.resolve().as_uri(), available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(50, rate)))
        track.append(otio.schema.Clip(name=f"c{i}", media_reference=ref, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(n, rate))))
    timeline.tracks.append(track)
    out = folder / "long.otio"
    otio.adapters.write_to_file(timeline, str(out))
    return out


def engine_of(kind: str):
    from foleyflow.plugin.generate import Engine, default_model_dir

    if kind == "real":
        return Engine.load(default_model_dir(), "cpu")
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import FakeModel, fake_frames_needed, fake_generate  # type: ignore[import-not-found]

    return Engine(FakeModel(), fake_generate, fake_frames_needed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--engine", choices=("real", "fake"), default="real")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "long_run")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from foleyflow.plugin import service
    from foleyflow.plugin.events import EventKind
    from foleyflow.plugin.generate import GenerateOptions

    args.out.mkdir(parents=True, exist_ok=True)
    media = write_media(args.out / "media")
    timeline = write_timeline(args.out, media, args.clips, args.seed)
    output = args.out / "long_foley.otio"
    engine = engine_of(args.engine)
    request = service.GenerateRequest(timeline, output, options=GenerateOptions(seed=args.seed, steps=args.steps))
    plan = service.plan(request)
    marks: dict[str, float] = {}
    counts = {"done": 0, "failed": 0}
    failures: list[str] = []

    def on_event(event) -> None:
        if event.kind in (EventKind.CLIP_DONE, EventKind.CLIP_FAILED):
            counts["done" if event.kind == EventKind.CLIP_DONE else "failed"] += 1
            if event.kind == EventKind.CLIP_FAILED:
                failures.append(f"{event.job.info.id}: {event.message}")
            if sum(counts.values()) == 50:
                marks.update(rss_50=rss_mib(), fds_50=open_fds())

    t0 = time.perf_counter()
    outcome = service.execute(plan, engine, on_event)
    secs = time.perf_counter() - t0
    marks.update(rss_end=rss_mib(), fds_end=open_fds())
    written = otio.adapters.read_from_file(str(outcome.written)) if outcome.written else None
    n_foley = sum(1 for c in written.find_clips() if "foleyflow" in c.metadata) if written else 0
    report = {
        "engine": args.engine, "steps": args.steps, "clips": args.clips, "seconds": round(secs, 1),
        "done": counts["done"], "failed": counts["failed"], "failures": failures[:3],
        "rss_mib_after_50": round(marks["rss_50"], 1), "rss_mib_end": round(marks["rss_end"], 1),
        "rss_ratio": round(marks["rss_end"] / marks["rss_50"], 3),
        "fds_after_50": marks["fds_50"], "fds_end": marks["fds_end"], "foley_clips_written": n_foley,
        "output": str(outcome.written),
    }
    print(json.dumps(report, indent=1))
    ok = (report["rss_ratio"] <= 1.2 and report["fds_end"] <= report["fds_after_50"]
          and report["done"] == args.clips - 1 and report["failed"] == 1)
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
