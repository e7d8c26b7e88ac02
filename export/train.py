"""Training stages of the Foley-Flow method, each a resumable command.

    data        render the synthetic world into a cache
    audio_mae   audio masked autoencoding (AudioMAE style)
    video_mae   video masked autoencoding (VideoMAE style, frames hidden in spans)
    align       masked audio-visual alignment (default) or the contrastive baseline
    flow        the dynamic conditional flow (or the global-only baseline), with sound prompts
                if flow.prompts (export.prompts)
    vocoder     mel -> waveform

Every stage writes ``WORKDIR/<stage>.pt`` every ``ckpt_every`` steps and resumes from
it; checkpoints hold tensors and plain types only (``torch.load(weights_only=True)``).
Run under ``torchrun --nproc_per_node N`` for DDP (gloo on CPU, NCCL on GPUs).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .augment import augment_share
from .clusters import audio_clusters
from .config import StageConfig, TrainConfig
from .dataset import ClipSet, build_cache, load_train, log_mel, mel_stats, to_tokens
from .models.encoders import (
    AudioEncoder,
    AudioMAEHead,
    ContrastiveHead,
    MaskedAlignmentHead,
    VideoEncoder,
    VideoMAEHead,
    span_mask,
)
from .models.flow import LoudnessHead, VelocityNet, loudness_target
from .models.vocoder import Vocoder
from .prompts import build_prompt_data, category_table, precompute_features, prompt_batch, prompt_encoder

log = logging.getLogger(__name__)


# -- distributed -------------------------------------------------------------------
def dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


def wrap(module: nn.Module, world: int) -> nn.Module:
    if world > 1:
        return nn.parallel.DistributedDataParallel(module, find_unused_parameters=True)
    return module


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


# -- checkpoints -------------------------------------------------------------------
def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def lr_at(step: int, sc: StageConfig) -> float:
    if step < sc.warmup:
        return sc.lr * (step + 1) / sc.warmup
    p = (step - sc.warmup) / max(1, sc.steps - sc.warmup)
    return sc.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def run_stage(
    name: str,
    modules: dict[str, nn.Module],
    loss_fn: Callable[[np.random.Generator, int], torch.Tensor],
    sc: StageConfig,
    cfg: TrainConfig,
    workdir: Path,
    extra: dict | None = None,
    lr_scale: dict[str, float] | None = None,
) -> dict:
    """Generic resumable loop: AdamW, warmup + cosine, grad clipping, atomic checkpoints."""
    rank, world = dist_info()
    path = workdir / f"{name}.pt"
    scale = lr_scale or {}
    groups = [{"params": [p for p in m.parameters() if p.requires_grad], "lr_scale": scale.get(k, 1.0)}
              for k, m in modules.items()]
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.AdamW(groups, lr=sc.lr, weight_decay=sc.weight_decay)
    step = 0
    if path.exists():
        ck = load_checkpoint(path)
        for k, m in modules.items():
            unwrap(m).load_state_dict(ck["model"][k])
        if "opt" in ck:
            opt.load_state_dict(ck["opt"])
        step = int(ck["step"])
        log.info("%s: resuming at step %d", name, step)
    rng = np.random.default_rng([cfg.seed, rank, step])
    torch.manual_seed(cfg.seed * 1000 + rank * 100 + step)

    def state(final: bool) -> dict:
        s = {"model": {k: unwrap(m).state_dict() for k, m in modules.items()}, "step": step,
             "config": cfg.to_dict(), "stage": name, **(extra or {})}
        if not final:
            s["opt"] = opt.state_dict()
        return s

    t0, ema = time.time(), None
    for m in modules.values():
        m.train()
    while step < sc.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, sc) * g.get("lr_scale", 1.0)
        loss = loss_fn(rng, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if rank == 0 and (step % sc.log_every == 0 or step == sc.steps):
            log.info("%s step %d/%d loss %.4f (%.2f steps/s)", name, step, sc.steps, ema,
                     step / max(1e-9, time.time() - t0) if step else 0)
        if rank == 0 and (step % sc.ckpt_every == 0 or step == sc.steps):
            save_checkpoint(path, state(final=False))
    if world > 1:
        torch.distributed.barrier()
    return state(final=True)


# -- batches -----------------------------------------------------------------------
def video_batch(data: ClipSet, idx: np.ndarray, rng: np.random.Generator | None = None,
                augment: float = 0.0, texture: float = 0.0) -> torch.Tensor:
    """uint8 [B, T, S, S, 3] -> float [B, T, 3, S, S] in [0, 1], with light photometric jitter (with ``rng``),
    and ``augment`` of the clips through another camera and palette (export.augment; ``texture`` its surface
    textures' strength)."""
    x = torch.from_numpy(data.frames[idx]).float().div_(255.0).permute(0, 1, 4, 2, 3)
    if rng is not None:
        b = len(idx)
        gain = torch.from_numpy(rng.uniform(0.8, 1.2, (b, 1, 1, 1, 1))).float()
        bias = torch.from_numpy(rng.uniform(-0.08, 0.08, (b, 1, 1, 1, 1))).float()
        noise = torch.from_numpy(rng.standard_normal(x.shape, dtype=np.float32) * rng.uniform(0, 0.03))
        x = augment_share((x * gain + bias + noise).clamp_(0, 1), rng, augment, texture)
    return x


def token_batch(data: ClipSet, idx: np.ndarray, stats: tuple[float, float], k: int) -> torch.Tensor:
    mel = (torch.from_numpy(data.mel[idx]).float() - stats[0]) / stats[1]
    return to_tokens(mel, k)  # [B, N, k * n_mels]


def video_encoder(cfg: TrainConfig) -> VideoEncoder:
    """The video encoder a config describes (untrained)."""
    e = cfg.encoder
    return VideoEncoder(cfg.data.frame_size, e.dim, e.video_layers, e.heads, pool=e.video_pool)


def _encoders(cfg: TrainConfig) -> tuple[VideoEncoder, AudioEncoder]:
    e, a = cfg.encoder, cfg.audio
    au = AudioEncoder(a.frames_per_token * a.n_mels, e.dim, e.audio_layers, e.heads)
    return video_encoder(cfg), au


# -- stages ------------------------------------------------------------------------
def stage_data(cfg: TrainConfig, workdir: Path) -> None:
    build_cache(cfg, workdir)


def _train_set(cfg: TrainConfig, workdir: Path) -> tuple[ClipSet, tuple[float, float]]:
    data = load_train(cfg, workdir)
    return data, mel_stats(data.mel)


def stage_audio_mae(cfg: TrainConfig, workdir: Path) -> None:
    data, stats = _train_set(cfg, workdir)
    _, world = dist_info()
    _, enc = _encoders(cfg)
    head = AudioMAEHead(cfg.encoder.dim, cfg.audio.frames_per_token * cfg.audio.n_mels)
    enc_w, sc = wrap(enc, world), cfg.audio_mae

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        idx = rng.integers(0, len(data), sc.batch_size)
        tok = token_batch(data, idx, stats, cfg.audio.frames_per_token)
        mask = span_mask(len(idx), tok.shape[1], 0.75, 1)
        return head.loss(enc_w(tok, mask), tok, mask)

    run_stage("audio_mae", {"encoder": enc_w, "head": head}, loss_fn, sc, cfg, workdir, {"mel_stats": list(stats)})


def stage_video_mae(cfg: TrainConfig, workdir: Path) -> None:
    data, _ = _train_set(cfg, workdir)
    _, world = dist_info()
    enc, _ = _encoders(cfg)
    head = VideoMAEHead(cfg.encoder.dim, cfg.data.frame_size)
    enc_w, sc = wrap(enc, world), cfg.video_mae

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        idx = rng.integers(0, len(data), sc.batch_size)
        frames = video_batch(data, idx, rng, cfg.data.augment, cfg.data.augment_texture)
        mask = span_mask(len(idx), frames.shape[1], 0.5, 2)
        return head.loss(enc_w(frames, mask), frames, mask)

    run_stage("video_mae", {"encoder": enc_w, "head": head}, loss_fn, sc, cfg, workdir)


def stage_align(cfg: TrainConfig, workdir: Path) -> None:
    """Masked AV alignment (the paper's core) or the contrastive baseline; "none" keeps the MAE encoders."""
    ac = cfg.align
    data, stats = _train_set(cfg, workdir)
    _, world = dist_info()
    venc, aenc = _encoders(cfg)
    venc.load_state_dict(load_checkpoint(workdir / "video_mae.pt")["model"]["encoder"])
    aenc.load_state_dict(load_checkpoint(workdir / "audio_mae.pt")["model"]["encoder"])
    name = f"align_{ac.method}"
    forget_features(workdir, name)
    if ac.method == "none":
        save_checkpoint(workdir / f"{name}.pt", {"model": {"video": venc.state_dict(), "audio": aenc.state_dict()},
                                                 "step": 0, "config": cfg.to_dict(), "stage": name})
        return
    dim, tdim = cfg.encoder.dim, cfg.audio.frames_per_token * cfg.audio.n_mels
    head: nn.Module = (MaskedAlignmentHead(dim, tdim, ac.decoder_layers, cfg.encoder.heads)
                       if ac.method == "masked" else ContrastiveHead(dim))
    v_w, a_w = wrap(venc, world), wrap(aenc, world)

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        idx = rng.integers(0, len(data), ac.batch_size)
        frames = video_batch(data, idx, rng, cfg.data.augment, cfg.data.augment_texture)
        tok = token_batch(data, idx, stats, cfg.audio.frames_per_token)
        vf = v_w(frames)  # [B, T, dim]
        if ac.method == "masked":
            mask = span_mask(len(idx), tok.shape[1], ac.mask_ratio, ac.span, hide_all=ac.hide_all)
            return head.loss(a_w(tok, mask), vf, tok, mask)
        return head.loss(a_w(tok), vf)

    run_stage(name, {"video": v_w, "audio": a_w, "head": head}, loss_fn, ac, cfg, workdir)


@torch.no_grad()
def video_features(venc: VideoEncoder, data: ClipSet, batch: int = 32) -> np.ndarray:
    venc.eval()
    out = [venc(video_batch(data, np.arange(i, min(i + batch, len(data))))).numpy()
           for i in range(0, len(data), batch)]
    return np.concatenate(out).astype(np.float32)  # [N, T, D]


def forget_features(workdir: Path, source: str) -> None:
    """Remove the flow stage's cached video features of ``source`` (a stage that retrains that encoder
    makes them stale; the flow computes them again)."""
    (workdir / f"feats_{source}.npy").unlink(missing_ok=True)


def load_video_encoder(cfg: TrainConfig, workdir: Path, align: str) -> VideoEncoder:
    venc, _ = _encoders(cfg)
    venc.load_state_dict(load_checkpoint(workdir / f"align_{align}.pt")["model"]["video"])
    return venc.eval()


ENVELOPES = ("", "joint", "stage")


def cluster_labels(data: ClipSet, stats: tuple[float, float], k: int, span: int, clusters: int, seed: int,
                   onset: float | None = None) -> torch.Tensor:
    """Every training token's k-means cluster of the audio [N, T] (export.clusters; -1: unlabelled)."""
    mel = (data.mel.astype(np.float32) - stats[0]) / stats[1]
    labels = audio_clusters(mel, k, span, clusters, seed=seed, onset=onset)[0]
    counts = np.bincount(labels.ravel()[labels.ravel() >= 0], minlength=clusters)
    log.info("audio clusters: %d, labelled tokens %d of %d, per cluster %s", clusters, counts.sum(), labels.size,
             counts.tolist())
    return torch.from_numpy(labels)


def cluster_loss(head: nn.Module, cond: torch.Tensor, labels: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
    """Cross-entropy of ``head`` on the video features [B, N, D] against the batch's clusters (0 where a
    batch holds no labelled token, as onset labels may)."""
    logits = head(cond)  # [B, N, K]
    target = labels[torch.from_numpy(idx)][:, : logits.shape[1]].flatten()
    if not bool((target >= 0).any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits.flatten(0, 1), target, ignore_index=-1)


def envelope_name(align: str) -> str:
    return f"envelope_{align}"


def stage_envelope(cfg: TrainConfig, workdir: Path) -> None:
    """The aligned video encoder and a loudness head learn each token's loudness from the video alone
    (flow.envelope="stage"; skipped otherwise): the when and how loud of every sound, the part of the
    audio the picture fixes. The flow stage then starts from both (export.models.flow)."""
    if cfg.flow.envelope != "stage":
        log.info("envelope: skipped (flow.envelope=%r, not 'stage')", cfg.flow.envelope)
        return
    ec, align, k = cfg.envelope, cfg.align.method, cfg.audio.frames_per_token
    forget_features(workdir, envelope_name(align))
    data, stats = _train_set(cfg, workdir)
    _, world = dist_info()
    venc = load_video_encoder(cfg, workdir, align).train()
    head = LoudnessHead(cfg.encoder.dim, k)
    modules: dict[str, nn.Module] = {"video": wrap(venc, world), "head": wrap(head, world)}
    labels = None
    if ec.cluster_weight > 0:
        labels = cluster_labels(data, stats, k, ec.cluster_span, ec.clusters, cfg.seed)
        modules["cluster_head"] = wrap(nn.Linear(cfg.encoder.dim, ec.clusters), world)

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        idx = rng.integers(0, len(data), ec.batch_size)
        cond = modules["video"](video_batch(data, idx, rng, cfg.data.augment, cfg.data.augment_texture))  # [B, N, D]
        target = loudness_target(token_batch(data, idx, stats, k), k)  # [B, N, k]
        loss = (modules["head"](cond) - target).pow(2).mean()
        if labels is not None:
            loss = loss + ec.cluster_weight * cluster_loss(modules["cluster_head"], cond, labels, idx)
        return loss

    run_stage(envelope_name(align), modules, loss_fn, ec, cfg, workdir, {"mel_stats": list(stats), "align": align})


def flow_name(align: str, dynamic: bool) -> str:
    return f"flow_{align}_{'dynamic' if dynamic else 'global'}"


def stage_flow(cfg: TrainConfig, workdir: Path) -> None:
    fc = cfg.flow
    align = cfg.align.method
    if fc.envelope not in ENVELOPES:
        raise ValueError(f"flow.envelope={fc.envelope!r}: expected one of {ENVELOPES}")
    data, stats = _train_set(cfg, workdir)
    _, world = dist_info()
    modules: dict[str, nn.Module] = {}
    # the video encoder (and the loudness head) the flow starts from: the envelope stage's, or the aligned one
    source = envelope_name(align) if fc.envelope == "stage" else f"align_{align}"
    if fc.envelope == "stage" and not (workdir / f"{source}.pt").exists():
        raise FileNotFoundError(f"{workdir / (source + '.pt')}: flow.envelope=stage needs the envelope stage first "
                                "(--stage envelope)")
    source_state = load_checkpoint(workdir / f"{source}.pt")["model"]
    venc = _encoders(cfg)[0]
    venc.load_state_dict(source_state["video"])
    if fc.finetune_video:
        # the encoder trains on with the flow: its features must say *when*, to the token
        modules["video"] = wrap(venc.train(), world)
        feats = None
    else:
        feats_path = workdir / f"feats_{source}.npy"
        feats = np.load(feats_path) if feats_path.exists() else None
        if feats is None or len(feats) != len(data):  # none yet, or of another training set (data.quiet)
            feats = video_features(venc.eval(), data)
            np.save(feats_path, feats)
    k, tdim = cfg.audio.frames_per_token, cfg.audio.frames_per_token * cfg.audio.n_mels
    net = VelocityNet(tdim, cfg.encoder.dim, fc.dim, fc.layers, fc.heads, dynamic=fc.dynamic,
                      prompt_dim=fc.prompt_dim if fc.prompts else 0, envelope=bool(fc.envelope), frames_per_token=k)
    if fc.envelope == "stage":  # the stage's head; frozen with frozen features (then it is a fixed function)
        net.env_head.load_state_dict(source_state["head"])
        net.env_head.requires_grad_(fc.finetune_video)
    net_w = wrap(net, world)
    modules["net"] = net_w
    head_learns = bool(fc.envelope) and any(p.requires_grad for p in net.env_head.parameters())
    prompts, prompt_extra = None, {}
    if fc.prompts:
        prompts = build_prompt_data(cfg, data)
        audio_state = load_checkpoint(workdir / f"align_{align}.pt")["model"]["audio"]
        modules["prompt_table"] = wrap(category_table(cfg, len(prompts.vocabulary)), world)
        reference_encoder = prompt_encoder(cfg, stats, audio_state)
        precompute_features(prompts, reference_encoder)
        modules["prompt_encoder"] = wrap(reference_encoder, world)
        prompt_extra = {"vocabulary": list(prompts.vocabulary), "sound_sources": prompts.sources,
                        "prompt_samples": prompts.samples}
    labels = None
    if fc.cluster_weight > 0:
        if not fc.finetune_video:
            raise ValueError(f"flow.cluster_weight={fc.cluster_weight} trains the video encoder: it needs "
                             "flow.finetune_video=true (or --set flow.cluster_weight=0 with frozen features)")
        onset = fc.cluster_onset if fc.cluster_onset > 0 else None
        labels = cluster_labels(data, stats, k, fc.cluster_span, fc.clusters, cfg.seed, onset)
        modules["cluster_head"] = wrap(nn.Linear(cfg.encoder.dim, fc.clusters), world)
    max_prefix = int(data.mel.shape[1] // k) - 1

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        b = fc.batch_size
        idx = rng.integers(0, len(data), b)
        x1 = token_batch(data, idx, stats, k)  # [B, N, P]
        if feats is None:
            cond = modules["video"](video_batch(data, idx, rng, cfg.data.augment, cfg.data.augment_texture))  # [B, N, D]
        else:
            cond = torch.from_numpy(feats[idx])  # [B, N, D]
        noise = torch.randn_like(x1)
        t = torch.sigmoid(torch.randn(b))  # logit-normal flow time
        xt = (1 - t[:, None, None]) * noise + t[:, None, None] * x1
        n = x1.shape[1]
        lengths = np.where(rng.random(b) < fc.prefix_prob, rng.integers(1, max(2, min(max_prefix, 3 * n // 4)), b), 0)
        ctx_mask = (torch.arange(n)[None] < torch.from_numpy(lengths)[:, None]).float()[..., None]  # [B, N, 1]
        uncond = torch.from_numpy((rng.random(b) < fc.cond_dropout).astype(np.float32))
        env, env_loss = None, None
        if fc.envelope:  # the head's estimate, or (teacher) the true loudness; never the truth where uncond
            true_env = loudness_target(x1, k)  # [B, N, k]
            pred_env = net.loudness(net.conditioned(cond, uncond))
            on_c = (1 - uncond)[:, None, None]
            if head_learns:  # a frozen head (the stage's) learns nothing here
                env_loss = ((pred_env - true_env).pow(2) * on_c).sum() / (on_c.sum() * n * k).clamp_min(1.0)
            teach = torch.from_numpy((rng.random(b) < fc.envelope_teacher).astype(np.float32))[:, None, None] * on_c
            env = true_env * teach + pred_env * (1 - teach)
        if prompts is None:
            v = net_w(xt, t, cond, x1, ctx_mask, uncond, None, None, env)
        else:  # none / category / reference per example; uncond drops the prompt with the video
            kinds, cats, refs = prompts.choose(rng, idx, fc.prompt_category, fc.prompt_reference)
            pvec, on = prompt_batch(prompts, kinds, cats, refs, data, modules["prompt_table"],
                                    modules["prompt_encoder"], cfg)
            v = net_w(xt, t, cond, x1, ctx_mask, uncond, pvec, on, env)
        w = 1 - ctx_mask
        loss = ((v - (x1 - noise)).pow(2) * w).sum() / (w.sum() * x1.shape[-1])
        if env_loss is not None:
            loss = loss + fc.envelope_weight * env_loss
        if labels is not None:
            loss = loss + fc.cluster_weight * cluster_loss(modules["cluster_head"], cond, labels, idx)
        return loss

    name = flow_name(align, fc.dynamic)
    run_stage(name, modules, loss_fn, fc, cfg, workdir, {"mel_stats": list(stats), "align": align,
                                                         "video_from": source, **prompt_extra},
              lr_scale={"video": fc.video_lr_scale})


def stft_loss(y: torch.Tensor, x: torch.Tensor, sample_rate: int = 16000) -> torch.Tensor:
    """Multi-resolution STFT loss: 16, 32 and 64 ms windows (256 / 512 / 1024 samples at 16 kHz)."""
    total = torch.zeros(())
    scale = max(1, round(sample_rate / 16000))
    for n_fft in (256 * scale, 512 * scale, 1024 * scale):
        win = torch.hann_window(n_fft)
        sy = torch.stft(y, n_fft, n_fft // 4, window=win, return_complex=True).abs()
        sx = torch.stft(x, n_fft, n_fft // 4, window=win, return_complex=True).abs()
        sc = torch.linalg.norm(sy - sx) / torch.linalg.norm(sx).clamp_min(1e-6)
        total = total + sc + F.l1_loss(torch.log(sy + 1e-5), torch.log(sx + 1e-5))
    return total / 3


def stage_vocoder(cfg: TrainConfig, workdir: Path) -> None:
    vc, a = cfg.vocoder, cfg.audio
    data, stats = _train_set(cfg, workdir)
    _, world = dist_info()
    voc = Vocoder(a.n_mels, a.n_fft, a.hop_length, vc.dim, vc.layers)
    voc_w = wrap(voc, world)
    mel_fn = log_mel(cfg)
    n_frames = data.mel.shape[1]

    def loss_fn(rng: np.random.Generator, step: int) -> torch.Tensor:
        idx = rng.integers(0, len(data), vc.batch_size)
        starts = rng.integers(0, n_frames - vc.crop_frames + 1, vc.batch_size)
        mel = np.stack([data.mel[i, s : s + vc.crop_frames] for i, s in zip(idx, starts, strict=True)])
        wav = np.stack([data.audio[i, s * a.hop_length : (s + vc.crop_frames) * a.hop_length]
                        for i, s in zip(idx, starts, strict=True)])
        mel_t = (torch.from_numpy(mel).float() - stats[0]) / stats[1]
        x = torch.from_numpy(wav).float()
        y = voc_w(mel_t)
        mel_err = F.l1_loss(mel_fn(y), mel_fn(x))
        return stft_loss(y, x, a.sample_rate) + 0.5 * mel_err

    run_stage("vocoder", {"vocoder": voc_w}, loss_fn, vc, cfg, workdir, {"mel_stats": list(stats)})


STAGES: dict[str, Callable[[TrainConfig, Path], None]] = {
    "data": stage_data,
    "audio_mae": stage_audio_mae,
    "video_mae": stage_video_mae,
    "align": stage_align,
    "envelope": stage_envelope,
    "flow": stage_flow,
    "vocoder": stage_vocoder,
}
