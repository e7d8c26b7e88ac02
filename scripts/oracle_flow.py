"""Can the flow and vocoder put the material into the audio when the condition *knows* it?

A diagnostic, not part of the method (Foley-Flow never sees labels). It separates the two places
the material can be lost: in the video features (the condition) or in the flow that turns them
into sound. It trains a flow on the frozen aligned video features of a workdir with the last
``ORACLE_DIMS`` feature dimensions replaced by the ground truth: a one-hot of the material of
every impact, held from its contact for ``HOLD`` tokens (what an ideal encoder would say while
the struck object rings). Then it scores that flow on the same oracle features.

    # train: the oracle workdir reuses SRC's cache and checkpoints (symlinks)
    python scripts/oracle_flow.py prepare out/train/attn out/train/oracle
    foleyflow train --workdir out/train/oracle --stage flow --threads 2 --package out/train/oracle/package
    # score on 100 val clips: with the oracle, and with the oracle of another clip (shuffled)
    python scripts/oracle_flow.py score out/train/oracle/package --classifier out/classifier/impacts.pt

If the oracle flow's class accuracy is near the vocoder's ceiling, the flow and vocoder can carry
the material and the video features are what loses it; if it stays low, the flow is the bottleneck.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foleyflow.world.events import MATERIALS

ORACLE_DIMS = len(MATERIALS)
HOLD = 25  # tokens (1 s at 25 tokens/s): the longest rings decay within about that
SCALE = 3.0  # the encoder's features are layer-normalised: about unit scale per dimension


def oracle_tracks(events: list[dict], n_tokens: int, token_rate: float) -> np.ndarray:
    """[n_tokens, ORACLE_DIMS]: 1 where an impact of that material sounded in the last HOLD tokens."""
    out = np.zeros((n_tokens, ORACLE_DIMS), np.float32)
    for e in events:
        if e.get("kind", "impact") != "impact":
            continue
        k = int(np.floor(e["time"] * token_rate))
        if 0 <= k < n_tokens:
            out[k: k + HOLD, MATERIALS.index(e["material"])] = 1.0
    return out


def inject(feats: np.ndarray, tracks: np.ndarray) -> np.ndarray:
    """Features [T, D] with their last ORACLE_DIMS dimensions replaced by the scaled tracks."""
    out = feats.copy()
    n = min(len(out), len(tracks))
    out[:, -ORACLE_DIMS:] = 0.0
    out[:n, -ORACLE_DIMS:] = SCALE * tracks[:n]
    return out


def prepare(src: Path, dst: Path) -> None:
    """dst: SRC's cache and checkpoints linked, a frozen-encoder flow config, oracle features written."""
    from foleyflow.export.config import TrainConfig
    from foleyflow.export.dataset import load_set
    from foleyflow.export.train import load_video_encoder, video_features

    dst.mkdir(parents=True, exist_ok=True)
    for name in ("cache", "audio_mae.pt", "video_mae.pt", "align_masked.pt", "vocoder.pt"):
        link = dst / name
        if not link.exists():
            link.symlink_to((src / name).resolve())
    cfg_d = json.loads((src / "config.json").read_text())
    cfg_d["flow"]["finetune_video"] = False
    cfg_d["flow"]["cluster_weight"] = 0.0  # the cluster term trains the encoder, which stays frozen here
    (dst / "config.json").write_text(json.dumps(cfg_d, indent=2))
    cfg = TrainConfig.from_dict(cfg_d)
    data = load_set(dst / "cache" / "train.npz")
    name = f"feats_{cfg.align.method}.npy"
    if (src / name).exists():  # SRC's frozen features (a frozen-encoder flow run there wrote them)
        feats = np.load(src / name)
    else:
        feats = video_features(load_video_encoder(cfg, dst, cfg.align.method), data)  # [N, T, D]
    rate = cfg.data.fps
    for i, ev in enumerate(data.events):
        feats[i] = inject(feats[i], oracle_tracks(ev, feats.shape[1], rate))
    np.save(dst / name, feats)
    print(f"wrote {dst / name} {feats.shape}")


def label_share(events: list) -> float:
    """The share of a clip's event weight that its label's class holds (1: all one material)."""
    from foleyflow.world.events import dominant_class, event_class, event_weight

    total = sum(event_weight(e) for e in events)
    top = dominant_class(events)
    return sum(event_weight(e) for e in events if event_class(e) == top) / total if total > 0 else 1.0


@dataclass
class OracleBackend:
    """A FoleyModel whose video features carry the current clip's oracle (a whole clip is one window)."""

    inner: object
    tracks: np.ndarray | None = None

    @property
    def spec(self):  # noqa: ANN201 - the runtime's ModelSpec
        return self.inner.spec

    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        f = self.inner.encode_video(frames)
        return inject(f[0], self.tracks)[None] if self.tracks is not None else f

    def velocity(self, *args: np.ndarray) -> np.ndarray:
        return self.inner.velocity(*args)

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        return self.inner.vocode(mel)


def score(package: Path, classifier: Path, split: str, n: int, steps: int | None = None,
          guidance: float | None = None, plain: bool = False) -> dict:
    from foleyflow.export.eval.classifier import class_metrics, load_classifier
    from foleyflow.export.eval.metrics import evaluate_clips
    from foleyflow.export.evaluate import generate_for, render_eval_clips
    from foleyflow.runtime.audio import OUTPUT_RATE
    from foleyflow.runtime.session import FoleyModel

    model = OracleBackend(FoleyModel.load(package))
    handle = load_classifier(classifier)
    clips = render_eval_clips(model.spec, split, n)  # the clips `foleyflow eval` scores
    token_rate = float(model.spec.video_fps)
    tracks = [oracle_tracks([{"kind": e.kind, "time": e.time, "material": e.material} for e in c.events],
                            round(c.duration * token_rate), token_rate) for c in clips]
    labels = [c.label for c in clips]
    purity = [label_share(c.events) for c in clips]
    truth = [c.onsets for c in clips]
    refs = [c.audio for c in clips]
    sr = clips[0].sample_rate
    rows = {}
    runs = (("features as they are", None),) if plain else (
        ("oracle", np.arange(n)), ("another clip's oracle", np.roll(np.arange(n), 1)))
    for name, perm in runs:
        gen = []
        for i, c in enumerate(clips):
            model.tracks = None if perm is None else tracks[perm[i]]
            gen.append(generate_for(model, c.frames, c.duration, 0, steps, guidance))
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        res.update(class_metrics(handle, gen, OUTPUT_RATE, labels, refs, sr))
        res["per_clip"] = [{"seed": c.seed, "label": c.label, "pred": pr, "purity": round(pu, 3)}
                           for c, pr, pu in zip(clips, handle.predict(gen, OUTPUT_RATE), purity, strict=True)]
        rows[name] = res
        ok = np.array([r["pred"] == r["label"] for r in res["per_clip"]])
        pure = np.array(purity) >= 0.999
        print(f"{name}: class accuracy {ok[pure].mean():.2f} on {pure.sum()} one-material clips, "
              f"{ok[~pure].mean():.2f} on {(~pure).sum()} mixed")
        print(f"{name}: F1 {res['f1']:.3f} AP {res['ap']:.3f} class {res['class_accuracy']:.2f} "
              f"confusion {res['confusion']}")
    return rows


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("src", type=Path)
    a.add_argument("dst", type=Path)
    b = sub.add_parser("score")
    b.add_argument("package", type=Path)
    b.add_argument("--classifier", type=Path, required=True)
    b.add_argument("--split", default="val")
    b.add_argument("-n", type=int, default=100)
    b.add_argument("--steps", type=int, help="Euler steps (default: the package's)")
    b.add_argument("--guidance", type=float, help="guidance scale (default: the package's)")
    b.add_argument("--plain", action="store_true",
                   help="no oracle: score an ordinary package, with the per-clip purity breakdown")
    b.add_argument("--json", type=Path)
    args = p.parse_args()
    if args.cmd == "prepare":
        prepare(args.src, args.dst)
    else:
        rows = score(args.package, args.classifier, args.split, args.n, args.steps, args.guidance, args.plain)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
