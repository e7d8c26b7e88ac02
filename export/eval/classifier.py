"""An independent audio classifier of the synthetic world's sound classes, for class accuracy and FD.

Scope item 3 asks for "class accuracy and a Frechet distance from an independent audio classifier
trained only on ground-truth audio of the world". This module is that classifier:

- trained only on ground-truth audio rendered from the world's *train* split (``split_seeds("train")``),
  never on generated audio;
- its own front end (log-mel from ``torch.stft`` at 16 kHz) and its own small CNN, trained from
  scratch; it imports nothing from ``foleyflow.export.models`` and shares no weights with the
  generator (``tests/test_classifier.py`` asserts the imports);
- robust to gain (each clip's mel power is divided by its own mean, so the input is gain invariant
  exactly) and to small time shifts (global pooling over time, and shift augmentation in training);
- class accuracy = share of generated clips whose predicted class is the clip's true label;
  Frechet distance = ``metrics.frechet_distance`` between the 128-d penultimate embeddings of the
  generated audio and of ground-truth (reference) audio.

Labels: ``world.CLASSES`` and ``world.clip_label(clip)`` (the clip's dominant sound class) when the
world defines them; otherwise the classes are ``world.MATERIALS`` and a clip's label is the material of
its strongest impact within the clip (the first of equally strong ones). A clip without a label (no
sounding event: ``clip_label`` gives "") is left out of training and of class accuracy. Training targets
are half the one-hot label and half each class's share of the clip's event weights (``clip_target``):
a clip with two sources teaches how much of each is heard, which is what the dominant-class label
compares, where a hard label teaches only which of two audible sources won.

A checkpoint records a digest of the world's audio sources; loading it under a changed world warns.

Train and measure from the shell::

    python -m foleyflow.export.eval.classifier train -o out/classifier/default.pt
    python -m foleyflow.export.eval.classifier score out/classifier/default.pt --split test --n 400
"""

from __future__ import annotations

import argparse
import hashlib
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from foleyflow.world import world

try:  # the world's per-event weights (its clip_label's dominant-class rule), where it has them
    from foleyflow.world.events import event_class as _event_class
    from foleyflow.world.events import event_weight as _event_weight
except ImportError:  # an older world: hard labels only
    _event_class = _event_weight = None
from .metrics import frechet_distance
from .onsets import to_analysis_rate

SAMPLE_RATE = 16000
"""The classifier's own rate: every input is resampled to it (band-limited, numpy) first."""
N_FFT = 512
"""STFT window: 32 ms."""
HOP = 256
"""STFT hop: 16 ms."""
N_MELS = 48
F_MIN = 30.0
F_MAX = 8000.0
FLOOR_DB = -80.0
"""Log-mel floor, dB below the clip's mean mel power: gain invariance needs a relative floor."""
MIN_SECONDS = 0.5
"""Shorter inputs are zero-padded to this length."""
EMBED_DIM = 128
CHANNELS = (16, 32, 64, 128)
CHECKPOINT_FORMAT = "foleyflow-audio-classifier/1"
LABEL_RULE_FALLBACK = "material of the strongest impact (world.MATERIALS)"


# ----------------------------------------------------------------------------------------------
# Labels
# ----------------------------------------------------------------------------------------------


def class_names() -> tuple[str, ...]:
    """The world's sound classes: ``world.CLASSES`` when it exists, else ``world.MATERIALS``."""
    classes = getattr(world, "CLASSES", None)
    return tuple(classes) if classes is not None else tuple(world.MATERIALS)


def label_rule() -> str:
    return "world.clip_label" if hasattr(world, "clip_label") else LABEL_RULE_FALLBACK


def clip_label(clip: Any) -> str:
    """The class of a rendered clip: ``world.clip_label`` when it exists, else the material of the
    clip's strongest impact inside the clip (the first one on a tie; the first object's material when
    the clip holds no event)."""
    fn = getattr(world, "clip_label", None)
    if fn is not None:
        return str(fn(clip))
    inside = [e for e in clip.events if 0.0 <= e.time < clip.duration] or list(clip.events)
    if not inside:
        if clip.objects:
            return str(clip.objects[0])
        raise ValueError(f"clip of seed {clip.seed} has no event and no object to label it by")
    best = inside[0]
    for e in inside[1:]:
        if e.strength > best.strength:
            best = e
    return str(best.material)


def clip_target(clip: Any, classes: Sequence[str]) -> np.ndarray:
    """The training target of a clip, ``[len(classes)]`` summing to 1: half the one-hot label, half the
    share of each class in the clip's event weights (``events.event_weight``, the quantity the world's
    ``clip_label`` takes the largest of), so that the network learns how much of each class it hears and
    its argmax is the label; the one-hot label alone where the world has no event weights."""
    label = clip_label(clip)
    target = np.zeros(len(classes), np.float32)
    if not label:
        return target
    target[list(classes).index(label)] = 1.0
    if _event_weight is None or not hasattr(world, "clip_label"):
        return target
    share = np.zeros(len(classes), np.float64)
    for e in clip.events:
        c = _event_class(e)
        if c in classes:
            share[list(classes).index(c)] += _event_weight(e)
    if share.sum() <= 0:
        return target
    return (0.5 * target + 0.5 * share / share.sum()).astype(np.float32)


def _render(split: str, n: int, duration: float, config: Any, sample_rate: int,
            classes: Sequence[str] | None = None) -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    audios: list[np.ndarray] = []
    labels: list[str] = []
    targets: list[np.ndarray] = []
    for seed in world.split_seeds(split, n):
        clip = world.render_clip(seed, duration=duration, fps=8, size=32, sample_rate=sample_rate,
                                 config=config)
        audios.append(np.asarray(clip.audio, dtype=np.float32))
        labels.append(clip_label(clip))
        if classes is not None:
            targets.append(clip_target(clip, classes))
    return audios, labels, targets


def render_labelled(split: str, n: int, *, duration: float = 4.0, config: Any = None,
                    sample_rate: int = SAMPLE_RATE) -> tuple[list[np.ndarray], list[str]]:
    """Ground-truth audio and labels of the first ``n`` clips of ``split`` (small frames: audio is
    what counts here)."""
    audios, labels, _ = _render(split, n, duration, config, sample_rate)
    return audios, labels


_WORLD_AUDIO_SOURCES = ("world.py", "events.py", "scene.py", "synth.py", "world_config.py")


def world_digest() -> str:
    """sha256 (first 16 hex digits) of the world's sources that decide its audio and labels: a
    classifier trained on another version of the world says so on loading."""
    h = hashlib.sha256()
    folder = Path(world.__file__).parent
    for name in _WORLD_AUDIO_SOURCES:
        f = folder / name
        if f.exists():
            h.update(name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE,
                   f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """Triangular HTK-mel filters, ``[n_mels, n_fft // 2 + 1]``, each normalised to unit area."""
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges_mel = np.linspace(_hz_to_mel(np.array(f_min)), _hz_to_mel(np.array(f_max)), n_mels + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    fb = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    # filters narrower than a bin still take the nearest bin
    empty = fb.sum(axis=1) == 0
    if np.any(empty):
        fb[np.where(empty)[0], np.abs(freqs[None, :] - mid[empty]).argmin(axis=1)] = 1.0
    return (fb / fb.sum(axis=1, keepdims=True)).astype(np.float32)


class AudioClassifier(nn.Module):
    """A small CNN over a gain-normalised log-mel of 16 kHz audio.

    ``forward(wave [B, N] at 16 kHz) -> (logits [B, n_classes], embedding [B, embed_dim])``. Front end:
    ``torch.stft`` (Hann, 32 ms / 10 ms) -> power -> 64 mel bands -> divided by the clip's mean mel
    power -> dB with a floor 80 dB below that mean. Body: four conv3x3-BN-ReLU-maxpool blocks
    (16, 32, 64, 128 channels), mean over frequency, mean and max over time (any length; a shift
    moves nothing but the edges), a 128-d ReLU layer (the embedding) and a linear classifier.
    """

    def __init__(self, n_classes: int, *, n_fft: int = N_FFT, hop: int = HOP, n_mels: int = N_MELS,
                 sample_rate: int = SAMPLE_RATE, f_min: float = F_MIN, f_max: float = F_MAX,
                 floor_db: float = FLOOR_DB, channels: Sequence[int] = CHANNELS,
                 embed_dim: int = EMBED_DIM) -> None:
        super().__init__()
        self.n_fft, self.hop, self.floor_db = int(n_fft), int(hop), float(floor_db)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        fb = mel_filterbank(n_mels, n_fft, sample_rate, f_min, f_max)
        self.register_buffer("mel_fb", torch.from_numpy(fb), persistent=False)
        blocks: list[nn.Module] = []
        c_in = 1
        for c in channels:
            blocks += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2, ceil_mode=True)]
            c_in = c
        self.body = nn.Sequential(*blocks)
        self.embed_layer = nn.Linear(2 * c_in, embed_dim)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(embed_dim, n_classes)

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """``[B, N]`` 16 kHz audio -> ``[B, n_mels, frames]`` in dB relative to each clip's mean power."""
        spec = torch.stft(wave, self.n_fft, self.hop, window=self.window, center=True, return_complex=True)
        mel = torch.einsum("mf,bft->bmt", self.mel_fb, spec.real**2 + spec.imag**2)
        ref = mel.mean(dim=(1, 2), keepdim=True)
        floor = 10.0 ** (self.floor_db / 10.0)
        return 10.0 * torch.log10(mel / (ref + 1e-20) + floor)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.log_mel(wave)
        x = (x + 30.0) / 20.0  # roughly zero-mean, unit-scale
        h = self.body(x[:, None])  # [B, C, M', T']
        h = h.mean(dim=2)  # over frequency
        pooled = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
        emb = F.relu(self.embed_layer(pooled))
        return self.head(self.dropout(emb)), emb


# ----------------------------------------------------------------------------------------------
# Inference handle
# ----------------------------------------------------------------------------------------------


def _prepare(audio: np.ndarray, sample_rate: int, min_samples: int) -> np.ndarray:
    x = to_analysis_rate(np.asarray(audio), int(sample_rate))  # mono, finite, at 16 kHz (SAMPLE_RATE)
    if x.size < min_samples:
        x = np.pad(x, (0, min_samples - x.size))
    return x.astype(np.float32)


@dataclass
class ClassifierHandle:
    """A trained classifier in eval mode: ``predict`` labels, ``embed`` features, ``logits``."""

    model: AudioClassifier
    classes: tuple[str, ...]
    meta: dict[str, Any]
    batch_size: int = 16

    def _run(self, audios: Sequence[np.ndarray], sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        if len(audios) == 0:
            return np.zeros((0, len(self.classes)), np.float32), np.zeros((0, EMBED_DIM), np.float32)
        waves = [_prepare(a, sample_rate, int(MIN_SECONDS * SAMPLE_RATE)) for a in audios]
        logits: list[np.ndarray | None] = [None] * len(waves)
        embs: list[np.ndarray | None] = [None] * len(waves)
        by_len: dict[int, list[int]] = {}
        for i, w in enumerate(waves):  # batch equal lengths only: padding would change the pooling
            by_len.setdefault(w.size, []).append(i)
        self.model.eval()
        with torch.inference_mode():
            for idx in by_len.values():
                for s in range(0, len(idx), self.batch_size):
                    chunk = idx[s:s + self.batch_size]
                    lg, em = self.model(torch.from_numpy(np.stack([waves[i] for i in chunk])))
                    for j, i in enumerate(chunk):
                        logits[i], embs[i] = lg[j].numpy(), em[j].numpy()
        return np.stack(logits), np.stack(embs)  # type: ignore[arg-type]

    def logits(self, audios: Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
        return self._run(audios, sample_rate)[0]

    def predict(self, audios: Sequence[np.ndarray], sample_rate: int) -> list[str]:
        lg = self._run(audios, sample_rate)[0]
        return [self.classes[int(k)] for k in lg.argmax(axis=1)] if len(lg) else []

    def embed(self, audios: Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
        """Penultimate-layer features, ``[n, 128]`` float64, for the Frechet distance."""
        return self._run(audios, sample_rate)[1].astype(np.float64)

    def accuracy(self, audios: Sequence[np.ndarray], sample_rate: int, labels: Sequence[str]) -> float:
        pred = self.predict(audios, sample_rate)
        if len(pred) != len(labels):
            raise ValueError(f"{len(pred)} clips but {len(labels)} labels")
        return float(np.mean([p == t for p, t in zip(pred, labels, strict=True)])) if pred else float("nan")


def _front_end() -> dict[str, Any]:
    return {"sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "f_min": F_MIN,
            "f_max": F_MAX, "floor_db": FLOOR_DB}


def load_classifier(path: str | Path) -> ClassifierHandle:
    """Load a checkpoint written by :func:`train_classifier` (``torch.load(weights_only=True)``)."""
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not an audio-classifier checkpoint (format {ckpt.get('format')!r})")
    fe = ckpt["front_end"]
    if int(fe["sample_rate"]) != SAMPLE_RATE:
        raise ValueError(f"checkpoint front end runs at {fe['sample_rate']} Hz, this code at {SAMPLE_RATE}")
    classes = tuple(ckpt["classes"])
    model = AudioClassifier(len(classes), n_fft=fe["n_fft"], hop=fe["hop"], n_mels=fe["n_mels"],
                            sample_rate=fe["sample_rate"], f_min=fe["f_min"], f_max=fe["f_max"],
                            floor_db=fe["floor_db"], channels=tuple(ckpt["arch"]["channels"]),
                            embed_dim=int(ckpt["arch"]["embed_dim"]))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    meta = {k: v for k, v in ckpt.items() if k not in ("state_dict",)}
    trained_on = meta.get("info", {}).get("world_digest")
    if trained_on and trained_on != world_digest():
        warnings.warn(f"{path} was trained on another version of the world ({trained_on}, now "
                      f"{world_digest()}): retrain it (python -m foleyflow.export.eval.classifier train)",
                      stacklevel=2)
    return ClassifierHandle(model, classes, meta)


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


def _augment(batch: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Gain (+-12 dB), a time shift of up to ``max_shift`` samples (zero fill) and faint white noise
    (20..60 dB below the clip's RMS, or none) on ``[B, N]`` audio."""
    out = np.empty_like(batch)
    n = batch.shape[1]
    for i, x in enumerate(batch):
        s = int(rng.integers(-max_shift, max_shift + 1)) if max_shift > 0 else 0
        y = np.zeros_like(x)
        if s >= 0:
            y[s:] = x[:n - s]
        else:
            y[:s] = x[-s:]
        rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) + 1e-9
        if rng.random() < 0.7:
            y = y + rng.standard_normal(n).astype(np.float32) * (rms * 10.0 ** (-rng.uniform(20, 60) / 20.0))
        out[i] = y * (10.0 ** (rng.uniform(-12.0, 12.0) / 20.0))
    return out


def fit(model: AudioClassifier, audios: Sequence[np.ndarray], labels: Sequence[int] | np.ndarray, *,
        steps: int, batch_size: int = 32, lr: float = 3e-3, seed: int = 0, max_shift_s: float = 0.1,
        log_every: int = 0) -> list[float]:
    """Train ``model`` in place on equal-length 16 kHz clips; return the loss of every step.

    ``labels``: class indices ``[N]``, or target distributions ``[N, n_classes]`` (see ``clip_target``).
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    data = np.stack([np.asarray(a, dtype=np.float32) for a in audios])
    y_np = np.asarray(labels)
    y_all = torch.as_tensor(y_np, dtype=torch.float32 if y_np.ndim == 2 else torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, steps), pct_start=0.15)
    model.train()
    losses: list[float] = []
    t0 = time.perf_counter()
    for step in range(steps):
        idx = rng.choice(len(data), size=min(batch_size, len(data)), replace=len(data) < batch_size)
        wave = torch.from_numpy(_augment(data[idx], rng, int(max_shift_s * SAMPLE_RATE)))
        logits, _ = model(wave)
        loss = F.cross_entropy(logits, y_all[idx], label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1}/{steps} loss {np.mean(losses[-log_every:]):.4f} "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)
    model.eval()
    return losses


def write_checkpoint(model: nn.Module, classes: Sequence[str], out_path: str | Path,
                     fields: dict[str, Any]) -> Path:
    """Save a classifier (a CNN with a ``body`` of convolutions and an ``embed_layer``) with its
    classes, its architecture and ``fields`` (format, front end, ...), through a temporary file."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = model.body
    ckpt = {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "classes": [str(c) for c in classes],
        "arch": {"channels": [m.out_channels for m in body if isinstance(m, nn.Conv2d)],
                 "embed_dim": int(model.embed_layer.out_features)},
        **fields,
    }
    tmp = out.with_name(out.name + ".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(out)
    return out


def save_checkpoint(model: AudioClassifier, classes: Sequence[str], out_path: str | Path,
                    info: dict[str, Any] | None = None) -> Path:
    return write_checkpoint(model, classes, out_path, {"format": CHECKPOINT_FORMAT, "front_end": _front_end(),
                                                       "label_rule": label_rule(), "info": dict(info or {})})


def train_classifier(out_path: str | Path, n_train: int = 1200, steps: int = 700, seed: int = 0,
                     world_config: Any = None, *, duration: float = 4.0, batch_size: int = 32,
                     lr: float = 3e-3, n_val: int = 0, log_every: int = 0) -> Path:
    """Render ``n_train`` ground-truth clips of the world's train split, train the classifier on their
    audio, save a ``weights_only``-loadable checkpoint at ``out_path`` and return it.

    With ``n_val > 0`` the accuracy on the first ``n_val`` val-split clips is measured and stored in
    the checkpoint's ``info``.
    """
    t0 = time.perf_counter()
    classes = class_names()
    audios, labels, targets = _render("train", n_train, duration, world_config, SAMPLE_RATE, classes)
    keep = [i for i, lab in enumerate(labels) if lab]
    unlabelled = len(labels) - len(keep)
    audios, labels, targets = [audios[i] for i in keep], [labels[i] for i in keep], [targets[i] for i in keep]
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {classes}")
    t_render = time.perf_counter() - t0
    model = AudioClassifier(len(classes))
    losses = fit(model, audios, np.stack(targets), steps=steps, batch_size=batch_size,
                 lr=lr, seed=seed, log_every=log_every)
    info: dict[str, Any] = {
        "n_train": int(n_train), "n_unlabelled": int(unlabelled), "steps": int(steps), "seed": int(seed),
        "duration": float(duration), "world_digest": world_digest(), "label_rule": label_rule(),
        "soft_targets": bool(_event_weight is not None and hasattr(world, "clip_label")),
        "world_config": repr(world_config) if world_config is not None else "default",
        "render_s": round(t_render, 2), "train_s": round(time.perf_counter() - t0 - t_render, 2),
        "final_loss": float(np.mean(losses[-20:])) if losses else float("nan"),
        "class_counts": {c: int(labels.count(c)) for c in classes},
    }
    if n_val > 0:
        handle = ClassifierHandle(model, classes, {})
        va, vl = render_labelled("val", n_val, duration=duration, config=world_config)
        keep = [i for i, lab in enumerate(vl) if lab]
        info["val_accuracy"] = handle.accuracy([va[i] for i in keep], SAMPLE_RATE, [vl[i] for i in keep])
        info["n_val"] = int(n_val)
    return save_checkpoint(model, classes, out_path, info)


# ----------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------


def class_metrics(handle: ClassifierHandle, gen_audios: Sequence[np.ndarray], gen_rate: int,
                  labels: Sequence[str], ref_audios: Sequence[np.ndarray], ref_rate: int) -> dict[str, float]:
    """Class accuracy of the generated audio against its true labels, and the Frechet distance between
    the classifier embeddings of the generated and of the reference (ground-truth) audio.

    Clips labelled "" (no sounding event) count towards the Frechet distance but not the accuracy;
    ``n_scored`` says how many clips the accuracy is over.
    """
    if len(gen_audios) != len(labels):
        raise ValueError(f"{len(gen_audios)} generated clips but {len(labels)} labels")
    unknown = sorted(set(labels) - set(handle.classes) - {""})
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classifier's classes {handle.classes}")
    logits, gen_emb = handle._run(gen_audios, gen_rate)
    pred = [handle.classes[int(k)] for k in logits.argmax(axis=1)] if len(logits) else []
    hits = [p == t for p, t in zip(pred, labels, strict=True) if t]
    acc = float(np.mean(hits)) if hits else float("nan")
    ref_emb = handle.embed(ref_audios, ref_rate)
    fd = frechet_distance(gen_emb.astype(np.float64), ref_emb) if min(len(gen_emb), len(ref_emb)) >= 2 \
        else float("nan")
    return {"class_accuracy": acc, "frechet": fd, "n_scored": len(hits),
            "confusion": confusion(labels, pred)}


def confusion(labels: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts ``{true class: {predicted class: clips}}`` over the labelled clips (label "" is skipped);
    true classes in sorted order, each row's predictions most frequent first."""
    rows: dict[str, dict[str, int]] = {}
    for t, p in zip(labels, pred, strict=True):
        if t:
            rows.setdefault(t, {})
            rows[t][p] = rows[t].get(p, 0) + 1
    return {t: dict(sorted(rows[t].items(), key=lambda kv: (-kv[1], kv[0]))) for t in sorted(rows)}


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


WORLDS = ("default", "impacts", "ood")


def _world_config(name: str) -> Any:
    """``default``: ``WorldConfig()`` (the full world); ``impacts``: ``world.impacts_config()`` (falls back
    to the default where the world has no such thing); ``ood``: ``world.ood_config()``."""
    if name == "ood":
        return world.ood_config()
    if name == "impacts" and hasattr(world, "impacts_config"):
        return world.impacts_config()
    return None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m foleyflow.export.eval.classifier",
                                description="the independent audio classifier of the world's sound classes")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train on ground-truth audio of the world's train split")
    t.add_argument("-o", "--out", type=Path, required=True)
    t.add_argument("--n-train", type=int, default=1200)
    t.add_argument("--steps", type=int, default=700)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--world", choices=WORLDS, default="default")
    t.add_argument("--n-val", type=int, default=200, help="val clips measured after training (0: none)")
    t.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("score", help="accuracy on ground-truth audio of a split")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("--split", default="val", choices=("train", "val", "test", "ood"))
    s.add_argument("--n", type=int, default=300)
    s.add_argument("--world", choices=WORLDS, default=None, help="default: ood for --split ood, else default")
    s.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.cmd == "train":
        t0 = time.perf_counter()
        out = train_classifier(a.out, n_train=a.n_train, steps=a.steps, seed=a.seed,
                               world_config=_world_config(a.world), n_val=a.n_val, log_every=50)
        info = load_classifier(out).meta["info"]
        print(f"wrote {out} in {time.perf_counter() - t0:.0f}s (render {info['render_s']}s, "
              f"train {info['train_s']}s); val accuracy {info.get('val_accuracy', float('nan')):.4f}")
        return 0
    handle = load_classifier(a.checkpoint)
    name = a.world or ("ood" if a.split == "ood" else "default")
    audios, labels = render_labelled(a.split, a.n, config=_world_config(name))
    pred = handle.predict(audios, SAMPLE_RATE)
    scored = [i for i, y in enumerate(labels) if y]
    acc = float(np.mean([pred[i] == labels[i] for i in scored]))
    print(f"{a.split} ({name} world): accuracy {acc:.4f} on {len(scored)} labelled ground-truth clips "
          f"of {a.n} (labels: {handle.meta.get('label_rule')})")
    for c in handle.classes:
        sel = [i for i, y in enumerate(labels) if y == c]
        if sel:
            print(f"  {c:>10}: {np.mean([pred[i] == c for i in sel]):.3f} of {len(sel)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
