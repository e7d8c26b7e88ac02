"""`foleyflow eval` for a model of the recorded world: timing, category and band, per sound prompt.

Clips are the recorded world's (``recorded_config()``) at the model's rate, voiced by the library's
recordings of the split (test clips: test recordings only, split by file). Each clip's true category
is the UCS category whose recordings carry most of its voiced events' energy (a clip with no voiced
event has none and is left out of the category figures). Rows, all on the same clips, in one run:

- ``real recordings`` (the ground truth) and ``real recordings through the vocoder`` (the ceiling
  for every generated row: the model's own vocoder on the truth's mel);
- ``auto``: the model from the picture alone;
- ``category prompt``: the clip's true category as a :class:`CategoryPrompt`;
- ``reference prompt``: another test recording of the true category than any that sounds the clip
  (CondFoleyGen's conditional setting; a val recording where the test split has no other), as a
  :class:`ReferencePrompt`;
- ``video shuffled across clips`` (auto): the chance baseline of the timing figures.

Beside the rows, the distractor test (issue 19): as many clips of ``distractor_config()`` (silent
things moving, a shaking camera, nothing that touches), voiced the same way; the onsets per 10 s of
the truth (its room tone: none) and of the auto takes. ``look`` draws every clip in look A (trained
on) or look B (never trained on: the cross-look figures).

Metrics: the onset figures of :func:`foleyflow.export.eval.metrics.evaluate_clips`; class accuracy
and a Fréchet distance from the independent sound classifier (:mod:`.sound_classifier`, trained only
on the library's training recordings, never on generated audio); and per category the median share
of energy above 8 kHz (dB) beside the real recordings' of the same category.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.prompt import CategoryPrompt, Prompt, ReferencePrompt
from foleyflow.runtime.session import Backend, FoleyModel

log = logging.getLogger(__name__)


@dataclass
class RecordedClip:
    seed: int
    frames: np.ndarray  # uint8 [T, S, S, 3] at the model's rate
    audio: np.ndarray  # float32, the real recordings as the world voiced them, at the model's rate
    onsets: np.ndarray
    category: str  # "" when no event was voiced
    recordings: tuple[str, ...]  # library paths that sound the clip
    duration: float


def clip_category(events: Sequence[Any], sources: dict[int, tuple[str, ...]], index: Any) -> str:
    """The category whose recordings carry most of the voiced events' energy (strength squared)."""
    by_path = {r.path: r.category for r in index.recordings}
    weight: dict[str, float] = defaultdict(float)
    for i, paths in sources.items():
        if paths and paths[0] in by_path:
            weight[by_path[paths[0]]] += float(events[i].strength) ** 2
    return max(sorted(weight), key=lambda c: weight[c]) if weight else ""


def render_recorded_clips(spec: Any, index: Any, split: str, n: int, duration: float = 4.0,
                          config: Any = None) -> list[RecordedClip]:
    """``n`` clips of ``split`` in the recorded world (``config``, default ``recorded_config()``; e.g. look B
    or ``distractor_config()``), voiced by the split's recordings, frames at the model's size."""
    from foleyflow.world.world import render_clip, split_seeds
    from foleyflow.world.world_config import recorded_config

    from ..dataset import downsample, library_voicer

    lib_split = "train" if split == "train" else "val" if split == "val" else "test"
    voicer = library_voicer(index, lib_split, int(spec.sample_rate))
    render_size = int(spec.training.get("config", {}).get("data", {}).get("render_size", 2 * spec.frame_size))
    out = []
    for seed in split_seeds(split, n):
        c = render_clip(seed, duration, Fraction(spec.video_fps), render_size, int(spec.sample_rate),
                        recorded_config() if config is None else config, voicer=voicer)
        recs = tuple(sorted({p for paths in c.sources.values() for p in paths}))
        out.append(RecordedClip(seed, downsample(c.frames, spec.frame_size), c.audio.astype(np.float32),
                                np.array([e.time for e in c.events], np.float64),
                                clip_category(c.events, c.sources, index), recs, duration))
    return out


def reference_for(clip: RecordedClip, index: Any, split: str, k: int) -> str | None:
    """A recording of the clip's category from the split, none of those that sound the clip (the k-th,
    cycling, so that references vary over clips); where the split holds no other, one of the val split
    (held out from training too); None when neither has one."""
    lib_split = "train" if split == "train" else "val" if split == "val" else "test"
    for where in dict.fromkeys((lib_split, "val")):
        pool = [r.path for r in index.of(clip.category, where) if r.path not in clip.recordings]
        if pool:
            return pool[k % len(pool)]
    return None


def _generate(model: Backend, clip: RecordedClip, seed: int, steps: int | None, guidance: float | None,
              prompt: Prompt = None, frames: np.ndarray | None = None,
              prompt_guidance: float | None = None) -> np.ndarray:
    n = round(clip.duration * OUTPUT_RATE)
    need = frames_needed(model.spec, n)
    src = clip.frames if frames is None else frames
    return np.concatenate(list(generate_audio(model, list(src[:need]), n, seed=seed, steps=steps,
                                              guidance=guidance, prompt=prompt, prompt_guidance=prompt_guidance)))


def evaluate_recorded(package: Path, library: Path, classifier: Path | None, split: str = "test", n: int = 100,
                      steps: int | None = None, guidance: float | None = None, seed: int = 0,
                      look: str = "a", prompt_guidance: Sequence[float | None] = (None,)) -> dict[str, Any]:
    """Every row of the module docstring on ``n`` clips of ``split`` drawn in ``look``, and the distractor
    test on ``n`` clips of ``distractor_config()`` in the same look; returns the rows, per-category figures
    and the distractor figures (JSON-able). ``prompt_guidance``: the prompt rows' guidance scales
    (runtime.stream.make_velocity; None: the package's); with more than one, each has its pair of rows,
    named "category prompt, prompt guidance G" and "reference prompt, prompt guidance G"."""
    from dataclasses import replace

    from foleyflow.library.audio import read_mono
    from foleyflow.world.world_config import distractor_config, recorded_config

    from ..dataset import open_library
    from ..evaluate import log_mel_np
    from .metrics import evaluate_clips

    model = FoleyModel.load(package)
    spec = model.spec
    index = open_library(str(library))
    clips = render_recorded_clips(spec, index, split, n, config=replace(recorded_config(), look=look))
    rate = int(spec.sample_rate)
    truth = [c.onsets for c in clips]
    refs = [c.audio for c in clips]
    labelled = [i for i, c in enumerate(clips) if c.category]
    handle = None
    if classifier is not None:
        from .sound_classifier import load_sound_classifier

        handle = load_sound_classifier(classifier)
    from .sound_classifier import band_share_by_category, category_metrics

    cats = [clips[i].category for i in labelled]
    real_band = band_share_by_category([_at48(refs[i], rate) for i in labelled], OUTPUT_RATE, cats)
    rows: dict[str, dict[str, Any]] = {}

    def score(name: str, audios: list[np.ndarray], audio_rate: int, seconds: float | None = None) -> None:
        res: dict[str, Any] = dict(evaluate_clips(audios, truth, refs, audio_rate, ref_sample_rate=rate))
        at48 = [_at48(audios[i], audio_rate) for i in labelled]
        if handle is not None and labelled:
            res.update(category_metrics(handle, at48, OUTPUT_RATE, cats,
                                        [_at48(refs[i], rate) for i in labelled], OUTPUT_RATE))
        band = band_share_by_category(at48, OUTPUT_RATE, cats)
        res["band_db"] = band
        res["band_db_diff"] = {c: band[c] - real_band[c] for c in band if c in real_band}
        res["band_db_median_abs_diff"] = float(np.median(np.abs(list(res["band_db_diff"].values())))) \
            if res["band_db_diff"] else float("nan")
        if seconds is not None:
            res["seconds_per_clip"] = seconds / len(audios)
        rows[name] = res
        log.info("%s: %s", name, {k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()
                                  if not isinstance(v, dict)})

    score("real recordings", refs, rate)
    voc = [model.vocode(log_mel_np(c.audio, spec)[None])[0] for c in clips]
    score("real recordings through the vocoder", voc, rate)
    t0 = time.perf_counter()
    score("auto", [_generate(model, c, seed, steps, guidance) for c in clips], OUTPUT_RATE, time.perf_counter() - t0)
    if spec.prompt_dim > 0:
        vocab = set(spec.vocabulary)
        scales = list(prompt_guidance) or [None]
        for pg in scales:
            suffix = "" if len(scales) == 1 else f", prompt guidance {pg if pg is not None else 'default'}"
            gen = []
            for c in clips:
                prompt = CategoryPrompt(c.category) if c.category in vocab else None
                gen.append(_generate(model, c, seed, steps, guidance, prompt, prompt_guidance=pg))
            score("category prompt" + suffix, gen, OUTPUT_RATE)
            gen, used = [], 0
            for k, c in enumerate(clips):
                path = reference_for(c, index, split, k) if c.category else None
                prompt_r: Prompt = None
                if path is not None:
                    prompt_r = ReferencePrompt(read_mono(index.root / path, rate))
                    used += 1
                gen.append(_generate(model, c, seed, steps, guidance, prompt_r, prompt_guidance=pg))
            score("reference prompt" + suffix, gen, OUTPUT_RATE)
            rows["reference prompt" + suffix]["clips_with_a_reference"] = used
    perm = np.roll(np.arange(len(clips)), 1)
    score("video shuffled across clips",
          [_generate(model, clips[i], seed, steps, guidance, frames=clips[j].frames) for i, j in enumerate(perm)],
          OUTPUT_RATE)
    quiet = render_recorded_clips(spec, index, split, n, config=replace(distractor_config(), look=look))
    distractors = {"clips": len(quiet), "seconds": float(sum(c.duration for c in quiet)),
                   "real recordings": onsets_per_10s([c.audio for c in quiet], rate),
                   "auto": onsets_per_10s([_generate(model, c, seed, steps, guidance) for c in quiet], OUTPUT_RATE)}
    log.info("distractors, no contact: %s", distractors)
    return {"split": split, "look": look, "clips": n, "labelled_clips": len(labelled),
            "steps": steps or spec.default_steps, "guidance": spec.guidance if guidance is None else guidance,
            "prompt_guidance": [spec.prompt_guidance if g is None else g for g in prompt_guidance],
            "package": str(package), "library": str(library), "categories": dict(sorted(_count(cats).items())),
            "rows": rows, "distractors": distractors}


def onsets_per_10s(audios: Sequence[np.ndarray], rate: int) -> float:
    """Onsets the evaluation's detector finds per 10 s of audio, over all ``audios`` (at ``rate``)."""
    from .onsets import detect_onsets

    found = sum(len(detect_onsets(a, rate)) for a in audios)
    return 10.0 * found * rate / max(sum(len(a) for a in audios), 1)


def _at48(audio: np.ndarray, rate: int) -> np.ndarray:
    from foleyflow.library.audio import resample

    return audio if rate == OUTPUT_RATE else resample(audio, round(len(audio) * OUTPUT_RATE / rate))


def _count(items: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for x in items:
        out[x] += 1
    return dict(out)


def format_recorded(result: dict[str, Any]) -> str:
    cols = [("f1", "onset F1 @0.1s"), ("ap", "onset AP"), ("f1_050", "F1 @0.05s"), ("offset_ms", "|offset| ms"),
            ("accuracy", "class acc"), ("frechet", "Fréchet"), ("band_db_median_abs_diff", "|band - real| dB")]
    lines = [f"split {result['split']}, {result['clips']} clips ({result['labelled_clips']} with a category), "
             f"{result['steps']} steps, guidance {result['guidance']}"
             + (f", prompt guidance {', '.join(str(g) for g in result['prompt_guidance'])}"
                if any(g is not None for g in result.get("prompt_guidance", ())) else ""), "",
             "| row | " + " | ".join(c[1] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in result["rows"].items():
        cells = [f"{r[k]:.3f}" if isinstance(r.get(k), float) else str(r.get(k, "")) for k, _ in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    d = result.get("distractors")
    if d:
        lines += ["", f"Distractors, no contact (look {result.get('look', 'a')}, {d['clips']} clips, "
                  f"{d['seconds']:.0f} s): onsets per 10 s, real recordings {d['real recordings']:.2f}, "
                  f"auto {d['auto']:.2f}"]
    real = result["rows"].get("real recordings", {}).get("band_db", {})
    if real:
        names = [n for n in result["rows"] if n != "real recordings"]
        lines += ["", "Median share of energy above 8 kHz per category, dB (clips):", "",
                  "| category | real | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
        for cat, db in real.items():
            cells = [f"{result['rows'][n].get('band_db', {}).get(cat, float('nan')):.1f}" for n in names]
            lines.append(f"| {cat} ({result['categories'].get(cat, 0)}) | {db:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
