"""An independent classifier of a sound library's categories (UCS CatIDs), for category accuracy and FD.

The evaluation asks for "class accuracy and a Frechet distance from an independent classifier trained
only on the library's training recordings (never on generated audio), per category". This module is
that classifier:

- trained only on recordings of the library's *train* split (``index.split("train")``: the index splits
  by file, so no val or test recording is ever read here), with augmentation: a random gain, a crop
  around the recording's energy and a shift, a small pitch change, a second recording of the same
  category (a layer or a repeated hit), a quieter recording of another category mixed in as a distractor
  (-12..-20 dB), and a faint room tone; never generated audio;
- its own front end at 48 kHz (inputs at other rates are resampled, band-limited): ``torch.stft``
  (21 ms Hann, 10 ms hop) -> 96 mel bands from 30 Hz to 24 kHz -> divided by the window's mean mel
  power (gain invariance, exactly) -> dB with a relative floor, so the band above 8 kHz counts;
- its own small CNN (four conv-BN-ReLU-pool blocks; the frequency axis kept, the time axis pooled),
  trained from scratch; it imports nothing from ``foleyflow.export.models``;
- the categories are those with at least ``min_train`` train recordings (others are "other": never a
  class, but heard as distractors); the class list is in the checkpoint.

A clip (several seconds, one dominant category, perhaps quieter other sounds and room tone) is read
in 1 s windows (hop 0.5 s); the windows within 30 dB of the loudest are run and their logits and
embeddings are averaged, weighted by each window's energy. The embedding (128-d, penultimate layer) is
what the Frechet distance is computed over (``metrics.frechet_distance``).

Train and measure from the shell::

    python -m foleyflow.export.eval.sound_classifier train --library DIR -o out/classifier/sound.pt
    python -m foleyflow.export.eval.sound_classifier score out/classifier/sound.pt --library DIR --split test
"""

from __future__ import annotations

import argparse
import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from foleyflow.library.audio import band_share_db, read_mono, resample
from foleyflow.library.index import LibraryIndex, Recording, Split, index_library

from .classifier import (  # the two independent classifiers share these
    confusion,
    mel_filterbank,
    write_checkpoint,
)
from .metrics import frechet_distance

SAMPLE_RATE = 48000
"""The front end's rate: every input is resampled to it (band-limited) first."""
N_FFT = 1024
"""STFT window: 21 ms."""
HOP = 480
"""STFT hop: 10 ms."""
N_MELS = 96
F_MIN = 30.0
F_MAX = 24000.0
FLOOR_DB = -80.0
"""Log-mel floor, dB below the window's mean mel power: gain invariance needs a relative floor."""
WINDOW_S = 1.0
"""The network's input: 1 s windows (training examples and the windows a clip is read in)."""
WINDOW_HOP_S = 0.5
ENERGY_RANGE_DB = 30.0
"""A clip's windows more than this below its loudest window are not run."""
EMBED_DIM = 128
CHANNELS = (16, 32, 64, 128)
MAX_RECORDING_S = 10.0
"""Of each training recording (the library's recordings are Foley events, not ambiences)."""
CHECKPOINT_FORMAT = "foleyflow-sound-classifier/1"
OTHER = "other"
"""The prediction-free label of a category the classifier has no class for (it never predicts it)."""


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------


class SoundCNN(nn.Module):
    """``forward(wave [B, N] at 48 kHz) -> (logits [B, n_classes], embedding [B, embed_dim])``.

    Front end: ``torch.stft`` -> power -> mel (30 Hz..24 kHz) -> divided by each window's mean mel power
    -> dB with a floor ``floor_db`` below it. Body: conv3x3-BN-ReLU-maxpool blocks; then, per channel and
    pooled frequency band, the mean and the max over time (so where in frequency a sound lies is kept),
    a ReLU layer (the embedding) and a linear classifier.
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
        c_in, bands = 1, int(n_mels)
        for c in channels:
            blocks += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2, ceil_mode=True)]
            c_in, bands = c, math.ceil(bands / 2)
        self.body = nn.Sequential(*blocks)
        self.embed_layer = nn.Linear(2 * c_in * bands, embed_dim)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(embed_dim, n_classes)

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """``[B, N]`` -> ``[B, n_mels, frames]`` in dB relative to each window's mean mel power."""
        # unit RMS first: the same result (the mel power is relative), and no subnormal numbers (slow on CPUs)
        wave = wave / (wave.square().mean(dim=1, keepdim=True).sqrt() + 1e-20)
        spec = torch.stft(wave, self.n_fft, self.hop, window=self.window, center=True, return_complex=True)
        mel = torch.einsum("mf,bft->bmt", self.mel_fb, spec.real**2 + spec.imag**2)
        ref = mel.mean(dim=(1, 2), keepdim=True)
        floor = 10.0 ** (self.floor_db / 10.0)
        return 10.0 * torch.log10(mel / (ref + 1e-30) + floor)

    def from_log_mel(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(((x + 30.0) / 20.0)[:, None])  # [B, C, M', T']
        pooled = torch.cat([h.mean(dim=3).flatten(1), h.amax(dim=3).flatten(1)], dim=1)
        emb = F.relu(self.embed_layer(pooled))
        return self.head(self.dropout(emb)), emb

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.from_log_mel(self.log_mel(wave))


# ----------------------------------------------------------------------------------------------
# Windows of a clip
# ----------------------------------------------------------------------------------------------


def _window_len() -> int:
    return int(round(WINDOW_S * SAMPLE_RATE))


def to_front_end_rate(audio: np.ndarray, rate: int) -> np.ndarray:
    """Mono (channels averaged, last axis or first, whichever is shorter), finite, float32 at 48 kHz."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] < x.shape[1] else 1)
    elif x.ndim != 1:
        raise ValueError(f"audio must be 1-D or 2-D, got shape {x.shape}")
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    if int(rate) != SAMPLE_RATE:
        x = resample(x, round(len(x) * SAMPLE_RATE / int(rate)))
    return x.astype(np.float32)


def clip_windows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 48 kHz clip -> its windows ``[k, W]`` within ``ENERGY_RANGE_DB`` of the loudest, and their
    weights ``[k]`` (each window's share of their energy; equal for silence). A clip shorter than a
    window is centred in one."""
    w, hop = _window_len(), int(round(WINDOW_HOP_S * SAMPLE_RATE))
    n = len(x)
    if n <= w:
        pad = w - n
        wins = np.pad(x, (pad // 2, pad - pad // 2))[None]
    else:
        starts = list(range(0, n - w + 1, hop))
        if starts[-1] != n - w:
            starts.append(n - w)
        wins = np.stack([x[s:s + w] for s in starts])
    energy = np.mean(wins.astype(np.float64) ** 2, axis=1)
    top = float(energy.max())
    if top <= 0.0:
        return wins, np.full(len(wins), 1.0 / len(wins))
    keep = energy >= top * 10.0 ** (-ENERGY_RANGE_DB / 10.0)
    e = energy[keep]
    return wins[keep], e / e.sum()


# ----------------------------------------------------------------------------------------------
# Inference handle
# ----------------------------------------------------------------------------------------------


@dataclass
class SoundClassifierHandle:
    """A trained classifier in eval mode: ``predict`` categories, ``embed`` features, ``logits``."""

    model: SoundCNN
    classes: tuple[str, ...]
    meta: dict[str, Any]
    batch_size: int = 64

    def _run(self, audios: Sequence[np.ndarray], rate: int) -> tuple[np.ndarray, np.ndarray]:
        """Energy-weighted window means of the logits ``[n, classes]`` and embeddings ``[n, D]``."""
        d = int(self.model.embed_layer.out_features)
        if len(audios) == 0:
            return np.zeros((0, len(self.classes))), np.zeros((0, d))
        wins, weights, owner = [], [], []
        for i, a in enumerate(audios):
            w, wt = clip_windows(to_front_end_rate(a, rate))
            wins.append(w)
            weights.append(wt)
            owner += [i] * len(w)
        all_w = np.concatenate(wins)
        lg = np.zeros((len(all_w), len(self.classes)))
        em = np.zeros((len(all_w), d))
        self.model.eval()
        with torch.inference_mode():
            for s in range(0, len(all_w), self.batch_size):
                out_l, out_e = self.model(torch.from_numpy(np.ascontiguousarray(all_w[s:s + self.batch_size])))
                lg[s:s + len(out_l)], em[s:s + len(out_l)] = out_l.double().numpy(), out_e.double().numpy()
        wt = np.concatenate(weights)
        idx = np.asarray(owner)
        logits = np.zeros((len(audios), len(self.classes)))
        embs = np.zeros((len(audios), d))
        np.add.at(logits, idx, lg * wt[:, None])
        np.add.at(embs, idx, em * wt[:, None])
        return logits, embs

    def logits(self, audios: Sequence[np.ndarray], rate: int) -> np.ndarray:
        return self._run(audios, rate)[0]

    def predict(self, audios: Sequence[np.ndarray], rate: int) -> list[str]:
        lg = self._run(audios, rate)[0]
        return [self.classes[int(k)] for k in lg.argmax(axis=1)] if len(lg) else []

    def embed(self, audios: Sequence[np.ndarray], rate: int) -> np.ndarray:
        """Penultimate-layer features, ``[n, 128]`` float64, for the Frechet distance."""
        return self._run(audios, rate)[1]


def _front_end() -> dict[str, Any]:
    return {"sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "f_min": F_MIN,
            "f_max": F_MAX, "floor_db": FLOOR_DB, "window_s": WINDOW_S, "window_hop_s": WINDOW_HOP_S,
            "energy_range_db": ENERGY_RANGE_DB}


def load_sound_classifier(path: str | Path) -> SoundClassifierHandle:
    """Load a checkpoint written by :func:`train_sound_classifier` (``torch.load(weights_only=True)``)."""
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a sound-classifier checkpoint (format {ckpt.get('format')!r})")
    fe = ckpt["front_end"]
    if int(fe["sample_rate"]) != SAMPLE_RATE or float(fe["window_s"]) != WINDOW_S:
        raise ValueError(f"{path}: front end at {fe['sample_rate']} Hz, {fe['window_s']} s windows; this code "
                         f"runs at {SAMPLE_RATE} Hz, {WINDOW_S} s")
    classes = tuple(ckpt["classes"])
    model = SoundCNN(len(classes), n_fft=fe["n_fft"], hop=fe["hop"], n_mels=fe["n_mels"],
                     sample_rate=fe["sample_rate"], f_min=fe["f_min"], f_max=fe["f_max"],
                     floor_db=fe["floor_db"], channels=tuple(ckpt["arch"]["channels"]),
                     embed_dim=int(ckpt["arch"]["embed_dim"]))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return SoundClassifierHandle(model, classes, {k: v for k, v in ckpt.items() if k != "state_dict"})


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


def trainable_categories(index: LibraryIndex, min_train: int = 5) -> list[str]:
    """The categories with at least ``min_train`` train recordings, sorted: the classifier's classes."""
    counts: dict[str, int] = {}
    for r in index.split("train"):
        counts[r.category] = counts.get(r.category, 0) + 1
    return sorted(c for c, n in counts.items() if n >= min_train)


def _pink_bank(rng: np.random.Generator, n: int, count: int = 16) -> np.ndarray:
    """``count`` unit-RMS noises of ``n`` samples, from white to brown (1/f^0..2 power)."""
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    freqs[0] = freqs[1]
    out = np.empty((count, n), np.float32)
    for i in range(count):
        slope = rng.uniform(0.0, 2.0)
        spec = (rng.standard_normal(len(freqs)) + 1j * rng.standard_normal(len(freqs))) / freqs ** (slope / 2)
        spec[freqs < 20.0] = 0.0
        y = np.fft.irfft(spec, n)
        out[i] = y / (np.sqrt(np.mean(y**2)) + 1e-12)
    return out


@dataclass
class _Sound:
    audio: np.ndarray  # float32 at 48 kHz, peak 1
    frame_energy: np.ndarray  # 10 ms frame energies' cumulative share, for energy-weighted crops
    label: int  # class index, -1 for "other"


def _load(index: LibraryIndex, recs: Sequence[Recording], classes: Sequence[str]) -> list[_Sound]:
    sounds: list[_Sound] = []
    for r in recs:
        if r.split != "train":  # the one rule of this module: nothing but train recordings
            raise AssertionError(f"{r.path} is of the {r.split} split")
        x = read_mono(index.file(r), SAMPLE_RATE, max_seconds=MAX_RECORDING_S)
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        if peak <= 0.0:
            continue
        x = (x / peak).astype(np.float32)
        f = HOP
        e = np.add.reduceat(x.astype(np.float64) ** 2, np.arange(0, len(x), f))
        cum = np.cumsum(e) / e.sum()
        sounds.append(_Sound(x, cum, classes.index(r.category) if r.category in classes else -1))
    return sounds


def _place(dst: np.ndarray, snd: _Sound, rng: np.random.Generator, gain: float, pitch_cents: float) -> None:
    """Add ``snd`` into ``dst``: a crop centred near an energy-weighted frame, at a random position, a
    little higher or lower in pitch (linear resampling: a fraction of a semitone aliases nothing that
    counts)."""
    x = snd.audio
    w = len(dst)
    if pitch_cents:
        ratio = 2.0 ** (rng.uniform(-1.0, 1.0) * pitch_cents / 1200.0)
        m = max(2, round(len(x) / ratio))
        x = np.interp(np.linspace(0.0, len(x) - 1.0, m), np.arange(len(x)), x).astype(np.float32)
        scale = m / len(snd.audio)
    else:
        scale = 1.0
    if len(x) <= w:
        off = int(rng.integers(-len(x) // 4, w - len(x) + 1))  # may start before the window (a tail)
        seg, at = (x[-off:], 0) if off < 0 else (x, off)
    else:
        # the frame holding a random share of the energy sits at a random place in the window
        k = int(np.searchsorted(snd.frame_energy, rng.random()))
        centre = min(len(x) - 1, int(k * HOP * scale))
        start = int(np.clip(centre - int(rng.integers(0, w)), 0, len(x) - w))
        seg, at = x[start:start + w], 0
    seg = seg[: w - at]
    dst[at:at + len(seg)] += gain * seg


def _example(sounds: list[_Sound], by_class: list[list[int]], others: np.ndarray, rng: np.random.Generator,
             noise: np.ndarray, cls: int) -> np.ndarray:
    w = _window_len()
    y = np.zeros(w, np.float32)
    pool = by_class[cls]
    _place(y, sounds[pool[int(rng.integers(len(pool)))]], rng, 1.0, 100.0)
    if rng.random() < 0.3:  # a layer or a second hit of the same category
        _place(y, sounds[pool[int(rng.integers(len(pool)))]], rng, 10 ** (-rng.uniform(0, 12) / 20), 100.0)
    e_main = float(np.mean(y.astype(np.float64) ** 2))
    if e_main <= 0.0:
        return y
    cand = others[cls]
    if len(cand) and rng.random() < 0.5:  # a quieter sound of another category, -12..-20 dB
        d = np.zeros(w, np.float32)
        _place(d, sounds[int(cand[int(rng.integers(len(cand)))])], rng, 1.0, 0.0)
        e_d = float(np.mean(d.astype(np.float64) ** 2))
        if e_d > 0:
            y += d * np.float32(math.sqrt(e_main / e_d) * 10 ** (-rng.uniform(12, 20) / 20))
    if rng.random() < 0.8:  # room tone, 35..70 dB below the sound
        nz = noise[int(rng.integers(len(noise)))]
        y += np.roll(nz, int(rng.integers(w))) * np.float32(math.sqrt(e_main) * 10 ** (-rng.uniform(35, 70) / 20))
    if rng.random() < 0.5:
        y = -y
    return y * np.float32(10 ** (rng.uniform(-20, 6) / 20))


def _spec_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One time mask (up to 10 frames) and one frequency mask (up to 8 bands) per example, set to the
    example's floor."""
    b, m, t = x.shape
    out = x.clone()
    lo = x.amin(dim=(1, 2))
    for i in range(b):
        ft = int(torch.randint(0, 11, (1,), generator=gen))
        if ft:
            s = int(torch.randint(0, max(1, t - ft), (1,), generator=gen))
            out[i, :, s:s + ft] = lo[i]
        fm = int(torch.randint(0, 9, (1,), generator=gen))
        if fm:
            s = int(torch.randint(0, max(1, m - fm), (1,), generator=gen))
            out[i, s:s + fm, :] = lo[i]
    return out


def save_checkpoint(model: SoundCNN, classes: Sequence[str], out_path: str | Path,
                    info: dict[str, Any] | None = None) -> Path:
    return write_checkpoint(model, classes, out_path, {"format": CHECKPOINT_FORMAT, "front_end": _front_end(),
                                                       "info": dict(info or {})})


def train_sound_classifier(index: LibraryIndex, out_path: Path, *, steps: int = 1500, seed: int = 0,
                           min_train: int = 5, sample_rate: int = 48000, batch_size: int = 32,
                           lr: float = 3e-3, channels: Sequence[int] = CHANNELS, embed_dim: int = EMBED_DIM,
                           log_every: int = 0) -> Path:
    """Train on the recordings of ``index``'s train split only, save a ``weights_only``-loadable
    checkpoint at ``out_path`` and return it.

    Classes: the categories with at least ``min_train`` train recordings; the train recordings of the
    other categories are heard only as distractors. Each step draws ``batch_size`` 1 s examples, a class
    drawn with probability proportional to the square root of its train count. ``sample_rate`` is the
    front end's (only 48000 is supported: it keeps the band up to 24 kHz).
    """
    if int(sample_rate) != SAMPLE_RATE:
        raise ValueError(f"the front end runs at {SAMPLE_RATE} Hz (the band up to 24 kHz), not {sample_rate}")
    t0 = time.perf_counter()
    classes = trainable_categories(index, min_train)
    if len(classes) < 2:
        raise ValueError(f"{index.root}: {len(classes)} categories with at least {min_train} train recordings; "
                         "a classifier needs two")
    train = sorted(index.split("train"), key=lambda r: r.path)
    sounds = _load(index, train, classes)
    by_class = [[i for i, s in enumerate(sounds) if s.label == c] for c in range(len(classes))]
    others = np.empty(len(classes), dtype=object)
    for c in range(len(classes)):
        others[c] = np.array([i for i, s in enumerate(sounds) if s.label != c])
    t_load = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    noise = _pink_bank(rng, _window_len())
    counts = np.array([len(p) for p in by_class], np.float64)
    p_class = np.sqrt(counts) / np.sqrt(counts).sum()
    model = SoundCNN(len(classes), channels=channels, embed_dim=embed_dim)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, steps), pct_start=0.15)
    model.train()
    losses: list[float] = []
    for step in range(steps):
        cls = rng.choice(len(classes), size=batch_size, p=p_class)
        wave = np.stack([_example(sounds, by_class, others, rng, noise, int(c)) for c in cls])
        x = _spec_augment(model.log_mel(torch.from_numpy(wave)), gen)
        logits, _ = model.from_log_mel(x)
        loss = F.cross_entropy(logits, torch.from_numpy(cls.astype(np.int64)), label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1}/{steps} loss {np.mean(losses[-log_every:]):.4f} "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)
    model.eval()
    digest = hashlib.sha256("\n".join(r.path for r in train).encode()).hexdigest()[:16]
    info: dict[str, Any] = {
        "library": str(index.root), "train_recordings": len(train), "train_paths_sha256": digest,
        "min_train": int(min_train), "steps": int(steps), "seed": int(seed), "batch_size": int(batch_size),
        "lr": float(lr), "load_s": round(t_load, 2), "train_s": round(time.perf_counter() - t0 - t_load, 2),
        "final_loss": float(np.mean(losses[-20:])) if losses else float("nan"),
        "class_counts": {c: int(n) for c, n in zip(classes, counts, strict=True)},
        "other_categories": sorted({r.category for r in train} - set(classes)),
    }
    return save_checkpoint(model, classes, out_path, info)


# ----------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------


def category_metrics(handle: SoundClassifierHandle, gen_audios: Sequence[np.ndarray], gen_rate: int,
                     true_categories: Sequence[str], ref_audios: Sequence[np.ndarray] | None = None,
                     ref_rate: int | None = None, ref_categories: Sequence[str] | None = None) -> dict[str, Any]:
    """Category accuracy of ``gen_audios`` against their true categories, and the Frechet distance of
    their embeddings to those of ``ref_audios`` (real recordings), overall and per category.

    - ``accuracy`` / ``n_scored``: over the clips whose true category is one of the classifier's classes
      (a clip of another category can never be right: ``n_other`` counts those, left out);
      ``accuracy_by_category`` / ``n_by_category`` per true category (classes only);
    - ``frechet``: all generated clips against all reference clips (NaN without references or with
      fewer than two on a side); ``frechet_by_category``: per category with at least two generated and
      two reference clips, the references' categories being ``ref_categories`` (by default
      ``true_categories`` when ``ref_audios`` is as long, i.e. paired references);
    - ``confusion``: ``{true: {predicted: n}}`` over all clips; ``predictions``: per clip.
    """
    if len(gen_audios) != len(true_categories):
        raise ValueError(f"{len(gen_audios)} generated clips but {len(true_categories)} categories")
    logits, gen_emb = handle._run(gen_audios, gen_rate)
    pred = [handle.classes[int(k)] for k in logits.argmax(axis=1)] if len(logits) else []
    known = set(handle.classes)
    truth = [str(c) for c in true_categories]
    scored = [i for i, t in enumerate(truth) if t in known]
    acc = float(np.mean([pred[i] == truth[i] for i in scored])) if scored else float("nan")
    by_cat: dict[str, list[int]] = {}
    for i in scored:
        by_cat.setdefault(truth[i], []).append(i)
    out: dict[str, Any] = {
        "accuracy": acc, "n_scored": len(scored), "n_other": len(truth) - len(scored),
        "accuracy_by_category": {c: float(np.mean([pred[i] == c for i in idx])) for c, idx in sorted(by_cat.items())},
        "n_by_category": {c: len(idx) for c, idx in sorted(by_cat.items())},
        "frechet": float("nan"), "frechet_by_category": {},
        "confusion": confusion(truth, pred), "predictions": pred,
    }
    if ref_audios is None:
        return out
    if ref_rate is None:
        raise ValueError("ref_audios without ref_rate")
    ref_emb = handle.embed(ref_audios, ref_rate)
    if ref_categories is None and len(ref_audios) == len(truth):
        ref_categories = truth
    if min(len(gen_emb), len(ref_emb)) >= 2:
        out["frechet"] = frechet_distance(gen_emb, ref_emb)
    if ref_categories is not None:
        if len(ref_categories) != len(ref_audios):
            raise ValueError(f"{len(ref_audios)} reference clips but {len(ref_categories)} categories")
        refs = [str(c) for c in ref_categories]
        fd: dict[str, float] = {}
        for c in sorted(set(truth) & set(refs)):
            g = [i for i, t in enumerate(truth) if t == c]
            r = [i for i, t in enumerate(refs) if t == c]
            if len(g) >= 2 and len(r) >= 2:
                fd[c] = frechet_distance(gen_emb[g], ref_emb[r])
        out["frechet_by_category"] = fd
    return out


def band_share_by_category(audios: Sequence[np.ndarray], rate: int, categories: Sequence[str],
                           above_hz: float = 8000.0) -> dict[str, float]:
    """Per category, the median over its clips of the share of energy above ``above_hz`` (8 kHz), in dB
    (``library.audio.band_share_db``; -inf for a clip with none). Categories sorted."""
    if len(audios) != len(categories):
        raise ValueError(f"{len(audios)} clips but {len(categories)} categories")
    by: dict[str, list[float]] = {}
    for a, c in zip(audios, categories, strict=True):
        x = np.asarray(a, dtype=np.float64)
        if x.ndim == 2:
            x = x.mean(axis=0 if x.shape[0] < x.shape[1] else 1)
        by.setdefault(str(c), []).append(band_share_db(x, int(rate), above_hz))
    return {c: float(np.median(v)) for c, v in sorted(by.items())}


def band_share_gap(gen_audios: Sequence[np.ndarray], gen_rate: int, gen_categories: Sequence[str],
                   real_audios: Sequence[np.ndarray], real_rate: int, real_categories: Sequence[str],
                   above_hz: float = 8000.0) -> dict[str, dict[str, float]]:
    """Per category both sets hold: ``{"gen": dB, "real": dB, "delta": gen - real}`` of
    :func:`band_share_by_category` (delta NaN where either is -inf)."""
    g = band_share_by_category(gen_audios, gen_rate, gen_categories, above_hz)
    r = band_share_by_category(real_audios, real_rate, real_categories, above_hz)
    out: dict[str, dict[str, float]] = {}
    for c in sorted(set(g) & set(r)):
        d = g[c] - r[c] if math.isfinite(g[c]) and math.isfinite(r[c]) else float("nan")
        out[c] = {"gen": g[c], "real": r[c], "delta": d}
    return out


# ----------------------------------------------------------------------------------------------
# Library and world clips to score on
# ----------------------------------------------------------------------------------------------


def library_audios(index: LibraryIndex, split: Split, rate: int = SAMPLE_RATE,
                   categories: Sequence[str] | None = None,
                   max_seconds: float = MAX_RECORDING_S) -> tuple[list[np.ndarray], list[str], list[str]]:
    """The recordings of ``split`` (of ``categories``, or all), path order: audio (mono at ``rate``),
    category, path."""
    keep = set(categories) if categories is not None else None
    recs = sorted((r for r in index.split(split) if keep is None or r.category in keep), key=lambda r: r.path)
    return ([read_mono(index.file(r), rate, max_seconds=max_seconds) for r in recs],
            [r.category for r in recs], [r.path for r in recs])


def voiced_clip_category(clip: Any, index: LibraryIndex) -> str:
    """The category of a voiced world clip: that of the recording (the first, main one) that sounds
    its dominant voiced event, the voiced event of the largest strength (the first on a tie); "" when
    no event was voiced."""
    by_path = {r.path: r.category for r in index.recordings}
    best, best_s = None, -math.inf
    for i, paths in sorted(clip.sources.items()):
        if paths and clip.events[i].strength > best_s:
            best, best_s = paths[0], clip.events[i].strength
    return by_path.get(best, "") if best is not None else ""


def render_voiced(index: LibraryIndex, split: Split, n: int, *, duration: float = 4.0,
                  sample_rate: int = SAMPLE_RATE) -> tuple[list[np.ndarray], list[str]]:
    """The first ``n`` clips of the world's ``split`` seeds in the impacts world, voiced with the
    library's ``split`` recordings: audio and :func:`voiced_clip_category` (clips without a voiced
    event are left out)."""
    from foleyflow.world import world
    from foleyflow.world.world_config import impacts_config

    from ..dataset import library_voicer

    voicer = library_voicer(index, split, sample_rate)
    audios, cats = [], []
    for seed in world.split_seeds(split, n):
        clip = world.render_clip(seed, duration, 25, 32, sample_rate, config=impacts_config(), voicer=voicer)
        cat = voiced_clip_category(clip, index)
        if cat:
            audios.append(np.asarray(clip.audio, np.float32))
            cats.append(cat)
    return audios, cats


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def _print_scores(title: str, m: dict[str, Any]) -> None:
    print(f"{title}: accuracy {m['accuracy']:.4f} on {m['n_scored']} clips "
          f"({m['n_other']} of categories without a class left out)")
    for c, a in m["accuracy_by_category"].items():
        wrong = {p: k for p, k in m["confusion"][c].items() if p != c}
        print(f"  {c:<12} {a:.3f} of {m['n_by_category'][c]:3d}" + (f"   confused with {wrong}" if wrong else ""))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m foleyflow.export.eval.sound_classifier",
                                description="the independent classifier of a sound library's categories")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train on the library's train recordings")
    t.add_argument("--library", type=Path, required=True)
    t.add_argument("-o", "--out", type=Path, required=True)
    t.add_argument("--steps", type=int, default=1500)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--min-train", type=int, default=5)
    t.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on shared cores)")
    s = sub.add_parser("score", help="accuracy on the library's recordings of a split, per category")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("--library", type=Path, required=True)
    s.add_argument("--split", default="test", choices=("train", "val", "test"))
    s.add_argument("--world-clips", type=int, default=0,
                   help="also score this many impacts-world clips voiced with the split's recordings")
    s.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    index = index_library(a.library)
    if a.cmd == "train":
        t0 = time.perf_counter()
        out = train_sound_classifier(index, a.out, steps=a.steps, seed=a.seed, min_train=a.min_train,
                                     batch_size=a.batch_size, log_every=50)
        info = load_sound_classifier(out).meta["info"]
        print(f"wrote {out} in {time.perf_counter() - t0:.0f}s (load {info['load_s']}s, train {info['train_s']}s): "
              f"{len(info['class_counts'])} classes from {info['train_recordings']} train recordings")
        return 0
    handle = load_sound_classifier(a.checkpoint)
    audios, cats, _ = library_audios(index, a.split)
    _print_scores(f"{a.split} recordings", category_metrics(handle, audios, SAMPLE_RATE, cats))
    if a.world_clips:
        wa, wc = render_voiced(index, a.split, a.world_clips)
        _print_scores(f"{len(wa)} world clips voiced with {a.split} recordings",
                      category_metrics(handle, wa, SAMPLE_RATE, wc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
