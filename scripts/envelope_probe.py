"""How well does a video-to-loudness head tell *when something touches*? Score envelope heads through one flow.

A diagnostic beside the method (docs/RESULTS.md, "where the extra onsets come from"). The flow of an
envelope model (``flow.envelope=joint|stage``, trained with the true envelope on a share of its examples,
``flow.envelope_teacher``) voices whatever loudness it is given; this script gives it, on the same test
clips, the loudness envelope that each head reads from the video (the ``envelope_masked.pt`` of each
HEAD workdir: its video encoder and loudness head), or the true one (``oracle``), and scores the takes
as ``foleyflow eval --recorded`` does: onset F1 / precision / recall at 0.1 s on look A and look B test
clips (``evaluate_clips``: per-clip means, as the eval's rows), and onsets per 10 s on distractor clips
where nothing touches (``onsets_per_10s``; the truth: none). The flow's own
video features condition every row; only the envelope differs. PyTorch sampler (the package's steps and
guidance), the package's vocoder, auto prompt.

    python scripts/envelope_probe.py --flow out/train/env2 --library ~/.cache/foleyflow/library \\
        -n 40 oracle out/train/env2 out/train/envs
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch


def sample(net: torch.nn.Module, cond: torch.Tensor, env: torch.Tensor, token_dim: int, steps: int,
           guidance: float, seed: int = 0) -> torch.Tensor:
    """Euler steps of the guided flow for one window [1, N, D] given an envelope [1, N, k]: tokens [1, N, P]."""
    n = cond.shape[1]
    x = torch.randn(1, n, token_dim, generator=torch.Generator().manual_seed(seed))
    both, uncond = torch.cat([cond, cond]), torch.tensor([0.0, 1.0])
    ctx, ctx_mask = torch.zeros(2, n, token_dim), torch.zeros(2, n, 1)
    envs = torch.cat([env, net.loudness(net.null.expand(1, n, -1))])  # the unconditioned row's own
    for i in range(steps):
        v = net(torch.cat([x, x]), torch.full((2,), i / steps), both, ctx, ctx_mask, uncond, None, None, envs)
        x = x + (v[1:] + guidance * (v[:1] - v[1:])) / steps
    return x


def main() -> None:
    from foleyflow.export.config import TrainConfig
    from foleyflow.export.dataset import open_library
    from foleyflow.export.eval.metrics import evaluate_clips
    from foleyflow.export.eval.recorded import onsets_per_10s, render_recorded_clips
    from foleyflow.export.evaluate import log_mel_np
    from foleyflow.export.models.flow import LoudnessHead, loudness_target
    from foleyflow.export.onnx_export import load_models
    from foleyflow.export.train import _encoders, envelope_name, load_checkpoint
    from foleyflow.runtime.session import FoleyModel
    from foleyflow.world.world_config import distractor_config, recorded_config

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("heads", nargs="+", help="'oracle' or workdirs holding an envelope_<align>.pt")
    p.add_argument("--flow", type=Path, required=True, help="an envelope model's workdir (its flow, package)")
    p.add_argument("--library", type=Path, required=True)
    p.add_argument("-n", type=int, default=40, help="test clips per look (half as many distractor clips)")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cfg, venc, net, _, _ = load_models(a.flow, "flow_masked_dynamic")
    if getattr(net, "env_head", None) is None:
        raise SystemExit(f"{a.flow}: its flow has no loudness envelope (flow.envelope is empty)")
    model = FoleyModel.load(a.flow / "package")
    spec, k = model.spec, cfg.audio.frames_per_token
    steps, guidance = cfg.flow.default_steps, cfg.flow.guidance
    index = open_library(a.library)
    sets = {look: render_recorded_clips(spec, index, "test", a.n, config=replace(recorded_config(), look=look))
            for look in ("a", "b")}
    sets["distractors"] = render_recorded_clips(spec, index, "test", a.n // 2, config=distractor_config())
    print(f"| envelope | look A F1 | P | R | look B F1 | P | R | distractor onsets / 10 s |  ({a.n} clips per look, "
          f"{a.n // 2} distractor clips; flow {a.flow}, {steps} steps, guidance {guidance})")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for head_spec in a.heads:
        if head_spec == "oracle":
            read = None
        else:
            ck = load_checkpoint(Path(head_spec) / f"{envelope_name(cfg.align.method)}.pt")
            hcfg = TrainConfig.from_dict(ck["config"])
            henc = _encoders(hcfg)[0]
            henc.load_state_dict(ck["model"]["video"])
            head = LoudnessHead(hcfg.encoder.dim, k)
            head.load_state_dict(ck["model"]["head"])
            henc.eval(), head.eval()

            def read(frames: torch.Tensor, henc=henc, head=head) -> torch.Tensor:
                return head(henc(frames))
        cells = []
        for name, clips in sets.items():
            audios = []
            for c in clips:
                frames = torch.from_numpy(c.frames.astype(np.float32) / 255).permute(0, 3, 1, 2)[None]
                n = frames.shape[1]
                mel = log_mel_np(c.audio, spec)[: n * k].astype(np.float32)
                with torch.no_grad():
                    true = loudness_target(torch.from_numpy(mel[None]).reshape(1, n, -1), k)
                    env = true if read is None else read(frames)
                    x = sample(net, venc(frames), env, spec.token_dim, steps, guidance)
                audios.append(model.vocode(x.reshape(1, n * k, -1).numpy())[0])
            if name == "distractors":
                cells.append(f"{onsets_per_10s(audios, int(spec.sample_rate)):.1f}")
            else:
                res = evaluate_clips(audios, [c.onsets for c in clips], None, int(spec.sample_rate))
                cells += [f"{res['f1']:.2f}", f"{res['precision']:.2f}", f"{res['recall']:.2f}"]
        print(f"| {head_spec} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
