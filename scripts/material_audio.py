"""Per material: how the generated sound after the first impact compares with the truth.

A diagnostic beside ``material_probe.py``. For each of ``-n`` clips of a split it generates the
audio with a model package (the runtime, as ``foleyflow eval`` does) and measures, from the first
impact of the clip, on the truth and on the generated audio resampled to 16 kHz:

- ring: energy 0.15-0.40 s after the impact against its first 0.05 s, in dB (metal and glass ring,
  rubber and wood do not);
- flatness: spectral flatness of 0.05-0.30 s after the impact, in dB (low: tonal modes; near 0: noise);
- centroid: the spectral centroid of that window, in Hz (where the material's modes lie).

Medians per true material are printed. Another impact inside a window disturbs it, so read
differences of several dB or hundreds of Hz, not small ones.

    python scripts/material_audio.py models/default --split test
    python scripts/material_audio.py models/default --split test --steps 32 --guidance 1
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from foleyflow.export.eval.onsets import resample
from foleyflow.export.evaluate import generate_for, render_eval_clips
from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.session import FoleyModel

RATE = 16000


def measures(audio: np.ndarray, t0: float, rate: int = RATE) -> tuple[float, float, float]:
    """(ring dB, flatness dB, centroid Hz) of ``audio`` after an impact at ``t0`` seconds."""
    i = int(t0 * rate)

    def window(lo: float, hi: float) -> np.ndarray:
        return audio[i + int(lo * rate): i + int(hi * rate)]

    ring = 10 * np.log10((np.mean(window(0.15, 0.40) ** 2) + 1e-12) / (np.mean(window(0.0, 0.05) ** 2) + 1e-12))
    tail = window(0.05, 0.30)
    power = np.abs(np.fft.rfft(tail * np.hanning(len(tail)))) ** 2 + 1e-12
    flatness = 10 * np.log10(np.exp(np.mean(np.log(power))) / np.mean(power))
    centroid = float(np.sum(np.fft.rfftfreq(len(tail), 1 / rate) * power) / np.sum(power))
    return float(ring), float(flatness), centroid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", type=Path)
    ap.add_argument("--split", default="test")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--steps", type=int, help="Euler steps (default: the package's)")
    ap.add_argument("--guidance", type=float, help="guidance scale (default: the package's)")
    a = ap.parse_args()
    model = FoleyModel.load(a.package)
    rows: dict[str, dict[str, list]] = defaultdict(lambda: {"truth": [], "generated": []})
    for clip in render_eval_clips(model.spec, a.split, a.n):
        if not len(clip.onsets) or float(np.min(clip.onsets)) > clip.duration - 0.5:
            continue
        t0 = float(np.min(clip.onsets))
        gen = generate_for(model, clip.frames, clip.duration, 0, a.steps, a.guidance)
        rows[clip.label]["truth"].append(measures(resample(clip.audio, clip.sample_rate, RATE), t0))
        rows[clip.label]["generated"].append(measures(resample(gen, OUTPUT_RATE, RATE), t0))
    print(f"{'material':9s} {'n':>3s} | ring dB: truth / generated | flatness dB | centroid Hz")
    for label in sorted(rows):
        t, g = np.median(rows[label]["truth"], axis=0), np.median(rows[label]["generated"], axis=0)
        print(f"{label:9s} {len(rows[label]['truth']):3d} | {t[0]:6.1f} / {g[0]:6.1f} | {t[1]:6.1f} / {g[1]:6.1f} | "
              f"{t[2]:6.0f} / {g[2]:6.0f}")


if __name__ == "__main__":
    main()
