"""How well can the video encoder's architecture see an object's material, given the labels?

A diagnostic, not part of the method (Foley-Flow never trains on labels): it trains the
VideoEncoder of a workdir's config (from scratch, or from one of its checkpoints) with a
linear head on the clip's label (the material of its first impact), by cross-entropy, on the
workdir's cached training clips, and scores held-out clips of the ``test`` split. With
``--contact`` the encoder sees only the two frames around the first impact (the contact and
the frame before it), so only appearance and that one motion step can tell the material.

If this supervised ceiling is low, the self-supervised pipeline cannot be expected to put the
material into the audio either: the visual front end is the bottleneck, not the flow.

    python scripts/material_probe.py out/train/attn --contact --steps 3000
    python scripts/material_probe.py out/train/attn --contact --steps 3000 --pool flat
    python scripts/material_probe.py out/train/attn --init align_masked.pt --freeze --contact --steps 1500

Prints the validation accuracy every 100 steps and the confusion matrix at the end.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from foleyflow.export.config import TrainConfig
from foleyflow.export.dataset import ClipSet, load_set, render_set, save_set
from foleyflow.export.models.encoders import VIDEO_POOLS
from foleyflow.export.train import load_checkpoint, video_batch, video_encoder
from foleyflow.world.events import MATERIALS
from foleyflow.world.world import split_seeds


def labels(data: ClipSet) -> np.ndarray:
    """Index into MATERIALS of each clip's first impact (-1: no impact)."""
    out = []
    for ev in data.events:
        first = next((e for e in ev if e.get("kind") == "impact"), None)
        out.append(MATERIALS.index(first["material"]) if first else -1)
    return np.asarray(out)


def contact_frames(data: ClipSet, idx: np.ndarray, fps: float) -> np.ndarray:
    """Frame index of each clip's first impact (clamped to 1..T-1, so the frame before exists)."""
    t = np.array([next(e["time"] for e in data.events[i] if e.get("kind") == "impact") for i in idx])
    return np.clip(np.round(t * fps).astype(int) + 1, 1, data.frames.shape[1] - 1)


def batch(data: ClipSet, idx: np.ndarray, fps: float | None, rng: np.random.Generator | None) -> torch.Tensor:
    """Video of the clips; with ``fps`` (the contact mode) only the two frames at the first impact."""
    x = video_batch(data, idx, rng)  # [B, T, 3, S, S]
    if fps is None:
        return x
    f = torch.from_numpy(contact_frames(data, idx, fps))
    return torch.stack([x[j, f[j] - 1: f[j] + 1] for j in range(len(idx))])  # [B, 2, 3, S, S]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workdir", type=Path, help="a training folder with config.json and cache/train.npz")
    ap.add_argument("--init", help="start from this checkpoint in the workdir (video_mae.pt, align_*.pt, flow_*.pt)")
    ap.add_argument("--pool", choices=VIDEO_POOLS, help="the video stem's pooling (default: the config's)")
    ap.add_argument("--freeze", action="store_true", help="train the linear head only (a linear probe)")
    ap.add_argument("--contact", action="store_true", help="show only the two frames at the first impact")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--n-val", type=int, default=400, help="held-out clips of the test split")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    cfg = TrainConfig.from_dict(json.loads((a.workdir / "config.json").read_text()))
    if a.pool:
        cfg.encoder.video_pool = a.pool
    train = load_set(a.workdir / "cache" / "train.npz")
    val_path = a.workdir / "cache" / f"probe_test_{a.n_val}.npz"
    if val_path.exists():
        val = load_set(val_path)
    else:
        val = render_set(cfg, split_seeds("test", a.n_val))
        save_set(val_path, val)
    ytr, yva = labels(train), labels(val)
    tr_idx, va_idx = np.nonzero(ytr >= 0)[0], np.nonzero(yva >= 0)[0]
    fps = float(cfg.data.fps) if a.contact else None
    enc = video_encoder(cfg)
    if a.init:
        model = load_checkpoint(a.workdir / a.init)["model"]
        enc.load_state_dict(model["video"] if "video" in model else model["encoder"])
    head = nn.Linear(cfg.encoder.dim, len(MATERIALS))
    params = list(head.parameters()) + ([] if a.freeze else list(enc.parameters()))
    opt = torch.optim.AdamW(params, 1e-3, weight_decay=0.01)
    rng = np.random.default_rng(a.seed)

    def predict() -> np.ndarray:
        enc.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(va_idx), 50):
                out.append(head(enc(batch(val, va_idx[i:i + 50], fps, None)).mean(1)).argmax(-1).numpy())
        enc.train(not a.freeze)
        return np.concatenate(out)

    enc.train(not a.freeze)
    t0 = time.perf_counter()
    for step in range(1, a.steps + 1):
        idx = tr_idx[rng.integers(0, len(tr_idx), 16)]
        logits = head(enc(batch(train, idx, fps, rng)).mean(1))
        loss = nn.functional.cross_entropy(logits, torch.from_numpy(ytr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == a.steps:
            acc = float((predict() == yva[va_idx]).mean())
            print(f"step {step}  loss {loss.item():.3f}  val acc {acc:.3f}  {time.perf_counter() - t0:.0f} s",
                  flush=True)
    pred = predict()
    print(f"\nconfusion on {len(va_idx)} test clips (rows: true, columns: predicted)")
    print("         " + " ".join(f"{m:>8}" for m in MATERIALS))
    for k, m in enumerate(MATERIALS):
        row = [(pred[yva[va_idx] == k] == j).sum() for j in range(len(MATERIALS))]
        print(f"{m:>8} " + " ".join(f"{n:8d}" for n in row))


if __name__ == "__main__":
    main()
