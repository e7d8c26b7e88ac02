"""Section ``samplers``: the guided teacher against a package's few-step student (issue 20), side by side.

Each contender (the teacher at the package's ``default_steps``, guided, a batch of two rows; the student
at each of ``cfg.student_steps`` that it has learned, one row) makes the take of every held-out clip in
turn (clip by clip, the contenders interleaved, so a slower machine moment falls on all of them), and is
scored with the same metrics: seconds per second of audio, per step and per window, onset F1, and the
speed-up over the teacher. A package without a student gets the teacher's row and says why there is no
other.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE

from .config import BenchConfig
from .sampling import generate_clip, segment_count
from .steps import ROW_METRICS, eval_clips


def contenders(spec: Any, student_steps: tuple[int, ...]) -> list[tuple[str, int]]:
    """(sampler, steps) rows: the teacher at its default steps, then the student at each of ``student_steps``
    up to the teacher's (a student learns dt from 1 / default_steps to 1)."""
    rows = [("teacher", int(spec.default_steps))]
    if spec.student_steps:
        rows += [("student", s) for s in sorted(set(student_steps) | {int(spec.student_steps)})
                 if 1 <= s <= spec.default_steps]
    return rows


def bench_samplers(model: Any, cfg: BenchConfig, clips: list | None = None) -> dict[str, Any]:
    from foleyflow.export.eval.metrics import evaluate_clips

    spec = model.spec
    clips = clips if clips is not None else eval_clips(spec, cfg.eval_clips)
    rows = contenders(spec, cfg.student_steps)
    takes: list[list[np.ndarray]] = [[] for _ in rows]
    seconds = [0.0 for _ in rows]
    for c in clips:
        for i, (sampler, steps) in enumerate(rows):
            t0 = time.perf_counter()
            takes[i].append(generate_clip(model, c.frames, c.duration, steps=steps, sampler=sampler))
            seconds[i] += time.perf_counter() - t0
    audio_s = float(sum(c.duration for c in clips))
    windows = sum(segment_count(spec, round(c.duration * OUTPUT_RATE)) for c in clips)
    truth, refs, sr = [c.onsets for c in clips], [c.audio for c in clips], clips[0].sample_rate
    out = []
    for (sampler, steps), gen, secs in zip(rows, takes, seconds, strict=True):
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        rows_per_step = 1 if sampler == "student" else 2
        out.append({"sampler": sampler, "steps": steps, "rows_per_step": rows_per_step,
                    "seconds_per_audio_second": secs / audio_s, "seconds_per_window": secs / windows,
                    "ms_per_step": 1000 * secs / (windows * steps), **{k: res[k] for k in ROW_METRICS}})
    teacher = out[0]["seconds_per_audio_second"]
    for r in out:
        r["speedup"] = teacher / r["seconds_per_audio_second"] if r["seconds_per_audio_second"] > 0 else float("nan")
    result: dict[str, Any] = {"clips": len(clips), "audio_seconds": audio_s, "windows": windows,
                              "guidance": spec.guidance, "default_sampler": spec.sampler, "rows": out}
    if not spec.student_steps:
        result["note"] = "the package has no few-step student (foleyflow train --stage distill, then export)"
    return result
