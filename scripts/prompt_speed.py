"""In-process speed of a prompt package over 60 s of synthetic frames: auto, a category prompt in the
two-row form (prompt guidance = guidance) and with the package's prompt guidance (three rows a step),
interleaved, best of ``--repeats``; prints seconds and x real time.

    python scripts/prompt_speed.py PACKAGE [--seconds 60] [--repeats 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from foleyflow.export.variants import synthetic_frames
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.prompt import CategoryPrompt
from foleyflow.runtime.session import FoleyModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    m = FoleyModel.load(args.package, provider="cpu", threads=args.threads)
    spec = m.spec
    if not spec.prompt_dim:
        raise SystemExit(f"{args.package}: the package takes no prompts")
    n = round(args.seconds * 48000)
    frames = synthetic_frames(spec, frames_needed(spec, n))
    cat = CategoryPrompt(spec.vocabulary[0])
    modes: dict[str, dict] = {"auto (2 rows)": {}, "category, two-row form": {"prompt": cat, "prompt_guidance": spec.guidance}}
    if spec.prompt_guidance is not None and spec.prompt_guidance != spec.guidance:
        modes[f"category, prompt guidance {spec.prompt_guidance:g} (3 rows)"] = {"prompt": cat}
    runs: dict[str, list[float]] = {k: [] for k in modes}
    for _ in range(args.repeats):
        for k, kw in modes.items():
            t0 = time.perf_counter()
            np.concatenate(list(generate_audio(m, frames, n, **kw)))
            runs[k].append(time.perf_counter() - t0)
    for k, v in runs.items():
        print(f"{k}: {min(v):.2f} s = {args.seconds / min(v):.1f}x real time (runs {', '.join(f'{x:.2f}' for x in v)})")


if __name__ == "__main__":
    main()
