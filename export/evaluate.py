"""`foleyflow eval`: generate for held-out synthetic clips and score against the ground truth.

Rows: the ground truth itself, the ground truth through the first package's vocoder,
each model package (first = the full model), and the first package with the video
shuffled across clips (the chance baseline every table carries). Metrics come from
foleyflow.export.eval.metrics (numpy, unit-tested on constructed signals).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.session import Backend, FoleyModel
from foleyflow.runtime.spec import ModelSpec

from .dataset import downsample, world_config
from .eval.metrics import evaluate_clips
from .models.mel import mel_filterbank

log = logging.getLogger(__name__)


@dataclass
class EvalClip:
    seed: int
    frames: np.ndarray  # uint8 [T, S, S, 3] at the model's rate
    audio: np.ndarray  # float32 ground truth at its own rate
    sample_rate: int
    onsets: np.ndarray  # ground-truth event times (s)
    label: str
    duration: float
    events: tuple = ()  # the world's ground-truth Events of the clip, where it has them


def world_config_for(split: str, spec: ModelSpec):
    """The world a package was trained on (its OOD ranges over the same sound classes for the "ood" split)."""
    world = spec.training.get("world", "impacts")
    if split == "ood":
        return world_config("impacts_ood" if world == "impacts" else "ood")
    return world_config(world)


def render_eval_clips(spec: ModelSpec, split: str, n: int, duration: float = 4.0) -> list[EvalClip]:
    from foleyflow.world.world import render_clip, split_seeds

    cfg = world_config_for(split, spec)
    render_size = int(spec.training.get("config", {}).get("data", {}).get("render_size", 2 * spec.frame_size))
    clips = []
    for seed in split_seeds(split, n):
        c = render_clip(seed, duration, Fraction(spec.video_fps), render_size, spec.sample_rate, cfg)
        label = world_label(c)
        onsets = np.array([e.time for e in c.events], dtype=np.float64)  # every event starts a sound
        clips.append(EvalClip(seed, downsample(c.frames, spec.frame_size), c.audio.astype(np.float32),
                              c.sample_rate, onsets, label, duration, tuple(c.events)))
    return clips


def world_label(clip) -> str:
    from foleyflow.world import world

    if hasattr(world, "clip_label"):
        return world.clip_label(clip)
    return clip.events[0].material if clip.events else "silence"


def generate_for(model: Backend, frames: np.ndarray, duration: float, seed: int, steps: int | None,
                 guidance: float | None) -> np.ndarray:
    n = round(duration * OUTPUT_RATE)
    need = frames_needed(model.spec, n)
    return np.concatenate(list(generate_audio(model, list(frames[:need]), n, seed=seed, steps=steps,
                                              guidance=guidance)))


def log_mel_np(audio: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """numpy twin of export.models.mel.LogMel, normalised as the model expects: [F, n_mels]."""
    n_fft, hop = spec.n_fft, spec.hop_length
    n_frames = len(audio) // hop
    x = np.pad(audio.astype(np.float64), n_fft // 2, mode="reflect")
    win = np.hanning(n_fft + 1)[:-1]
    idx = np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None]
    power = np.abs(np.fft.rfft(x[idx] * win, axis=1)) ** 2
    fb = mel_filterbank(spec.sample_rate, n_fft, spec.n_mels, spec.mel_fmin, spec.mel_fmax)
    mel = np.log(np.maximum(power @ fb.T, 1e-5))
    return ((mel - spec.mel_mean) / spec.mel_std).astype(np.float32)


def evaluate(packages: list[Path], split: str = "test", n: int = 20, steps: int | None = None,
             guidance: float | None = None, seed: int = 0, names: list[str] | None = None,
             classifier: Path | None = None) -> dict:
    """Score ground truth, the vocoder, each package and the baselines on `n` clips of `split`.

    With `classifier` (a checkpoint of export.eval.classifier, trained only on ground-truth
    audio), each row also gets class accuracy and a Frechet distance to the ground truth.
    """
    models = [FoleyModel.load(p) for p in packages]
    handle = None
    if classifier is not None:
        from .eval.classifier import class_metrics, load_classifier

        handle = load_classifier(classifier)
    first = models[0]
    clips = render_eval_clips(first.spec, split, n)
    truth = [c.onsets for c in clips]
    refs = [c.audio for c in clips]
    sr = clips[0].sample_rate
    rows: dict[str, dict] = {}

    def score(name: str, audios: list[np.ndarray], rate: int, seconds: float | None = None) -> None:
        res = evaluate_clips(audios, truth, refs, rate, ref_sample_rate=sr)
        if handle is not None:
            res.update(class_metrics(handle, audios, rate, [c.label for c in clips], refs, sr))
        if seconds is not None:
            res["seconds_per_clip"] = seconds / len(audios)
        rows[name] = res
        log.info("%s: %s", name, {k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()})

    score("ground truth", refs, sr)
    perm_gt = np.roll(np.arange(len(clips)), 1)
    score("another clip's ground truth (chance)", [refs[j] for j in perm_gt], sr)
    voc = [first.vocode(log_mel_np(c.audio, first.spec)[None])[0] for c in clips]
    score("ground truth through the vocoder", voc, first.spec.sample_rate)
    names = names or [p.name for p in packages]
    for name, model in zip(names, models, strict=True):
        t0 = time.perf_counter()
        gen = [generate_for(model, c.frames, c.duration, seed, steps, guidance) for c in clips]
        score(name, gen, OUTPUT_RATE, time.perf_counter() - t0)
    perm = np.roll(np.arange(len(clips)), 1)
    shuffled = [generate_for(first, clips[j].frames, clips[i].duration, seed, steps, guidance)
                for i, j in enumerate(perm)]
    score("video shuffled across clips", shuffled, OUTPUT_RATE)
    return {"split": split, "clips": n, "steps": steps or first.spec.default_steps,
            "guidance": first.spec.guidance if guidance is None else guidance,
            "packages": [str(p) for p in packages], "rows": rows}


def format_table(result: dict) -> str:
    cols = [("f1", "onset F1 @0.1s"), ("precision", "P"), ("recall", "R"), ("f1_050", "F1 @0.05s"),
            ("ap", "onset AP"), ("onset_acc", "onset acc"), ("mmaudio_recall", "MMAudio R @0.3s"),
            ("energy_l1", "energy L1"), ("offset_ms", "|offset| ms"), ("class_accuracy", "class acc"),
            ("frechet", "Frechet")]
    lines = [f"split {result['split']}, {result['clips']} clips, {result['steps']} steps, "
             f"guidance {result['guidance']}", "",
             "| row | " + " | ".join(c[1] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in result["rows"].items():
        cells = [f"{r[k]:.3f}" if isinstance(r.get(k), float) else str(r.get(k, "")) for k, _ in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_class_table(result: dict) -> str:
    """Per true class: the share of clips each row's audio is classified as that class, and what the
    rest were heard as (from the classifier's confusion counts); "" when no row has them."""
    rows = {name: r["confusion"] for name, r in result["rows"].items() if r.get("confusion")}
    if not rows:
        return ""
    classes = sorted({c for conf in rows.values() for c in conf})
    lines = ["Class accuracy per true class (clips of that class; what the misses were heard as):", "",
             "| row | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    for name, conf in rows.items():
        cells = []
        for c in classes:
            counts = conf.get(c, {})
            n = sum(counts.values())
            if n == 0:
                cells.append("")
                continue
            misses = ", ".join(f"{p} {k}" for p, k in counts.items() if p != c)
            cells.append(f"{counts.get(c, 0) / n:.2f} of {n}" + (f" ({misses})" if misses else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


NOTES_MARK = "<!-- notes: kept as written when foleyflow eval rewrites this file -->"


def write_markdown(path: Path, cmd: str, results: list[dict], tables: list[str]) -> None:
    """The results page: tables per split and the command; notes below NOTES_MARK in the old file are kept."""
    notes = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if NOTES_MARK in old:
            notes = "\n" + old[old.index(NOTES_MARK):]
    body = "\n\n".join(f"## Split: {r['split']}\n\n{t}" for r, t in zip(results, tables, strict=True))
    path.write_text(
        "# Results\n\nMeasured by `foleyflow eval` (regenerate with the command below). Onset metrics: "
        "CondFoleyGen's AP and accuracy at 0.1 s, precision/recall/F1 at 0.1 s and F1 at 0.05 s, "
        "MMAudio's recall at 0.3 s; energy L1 on RMS envelopes (32 ms / 8 ms at 16 kHz); |offset| from "
        "onset-envelope cross-correlation. \"another clip's ground truth\" is the chance baseline.\n\n"
        f"```sh\n{cmd}\n```\n\n{body}\n{notes}", encoding="utf-8")


def main(args: argparse.Namespace) -> int:
    packages = [Path(p) for p in args.packages]
    names = args.names.split(",") if args.names else None
    if names is not None and len(names) != len(packages):
        raise SystemExit("foleyflow eval: --names needs one name per package")
    clf = Path(args.classifier) if args.classifier else None
    results = [evaluate(packages, split, args.clips, args.steps, args.guidance, names=names, classifier=clf)
               for split in args.split.split(",")]
    tables = [format_table(r) + ("\n\n" + c if (c := format_class_table(r)) else "") for r in results]
    print("\n\n".join(tables))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.markdown:
        import shlex
        import sys

        cmd = "foleyflow eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        write_markdown(Path(args.markdown), cmd, results, tables)
    return 0
