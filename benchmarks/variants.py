"""Section ``variants``: int8 (and fp16) packages against fp32: per-call time of the velocity and
vocoder graphs, onset F1 at the default steps and at half of them, audio SNR against fp32, and end
to end at both step counts."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.session import FoleyModel, variant_package

from .backends import graph_feeds
from .config import BenchConfig
from .e2e import bench_e2e
from .sampling import generate_clip
from .steps import eval_clips
from .timing import ms_summary, time_interleaved

REFERENCE = "fp32"
SNR_SECONDS_MAX = 8.0  # the SNR clip: cfg.snr_seconds, at most this


def half_steps(model: FoleyModel) -> int:
    """The cheaper setting the steps table may argue for: half the default steps (at least one)."""
    return max(1, model.spec.default_steps // 2)


def variant_model(model: FoleyModel, cfg: BenchConfig, variant: str, workdir: Path) -> tuple[FoleyModel, Path, bool]:
    """(loaded model, package, built for this run) of ``variant``: the package beside the fp32 one where
    it exists, else built into ``workdir`` (measured here, reported, not enforced)."""
    from foleyflow.export.variants import make_variant

    if variant == REFERENCE:
        return model, cfg.package, False
    pkg, built = variant_package(cfg.package, variant), False
    if not pkg.is_dir():
        pkg = workdir / f"{cfg.package.name}-{variant}"
        make_variant(cfg.package, variant, pkg, check=False)
        built = True
    return FoleyModel.load(pkg, provider="cpu", threads=cfg.threads), pkg, built


def bench_variants(model: FoleyModel, cfg: BenchConfig, workdir: Path, e2e_video: tuple[Path, int] | None,
                   clips: list | None) -> dict[str, Any]:
    """One row per variant, fp32 first; ``e2e_video`` (from the e2e section) adds the end-to-end
    columns; ``clips``: the held-out clips (default: ``cfg.eval_clips`` rendered here)."""
    from foleyflow.export.eval.metrics import evaluate_clips
    from foleyflow.export.variants import pipeline_audio, rel_err, snr_db

    out: dict[str, Any] = {}
    feeds = graph_feeds(model.spec)
    snr_seconds = min(cfg.snr_seconds, SNR_SECONDS_MAX)
    ref_audio = pipeline_audio(model, seconds=snr_seconds)
    clips = clips if clips is not None else eval_clips(model.spec, cfg.eval_clips)
    truth, refs, sr = [c.onsets for c in clips], [c.audio for c in clips], clips[0].sample_rate
    half = half_steps(model)
    for variant in (REFERENCE, *cfg.variants):
        vm, pkg, built = variant_model(model, cfg, variant, workdir)
        row: dict[str, Any] = {"package": str(pkg), "built_for_this_run": built}
        for graph in ("velocity", "vocoder"):
            f = feeds[graph]
            ts = time_interleaved({"x": (lambda g=graph, f=f, vm=vm: vm.sessions[g].run(None, f))}, cfg.repeats)
            row[f"{graph}_ms"] = ms_summary(ts["x"])["median_ms"]
        row["graph_rel_err"] = {g: rel_err(vm.sessions[g].run(None, f)[0], model.sessions[g].run(None, f)[0])
                                for g, f in feeds.items()}
        gen = [generate_clip(vm, c.frames, c.duration) for c in clips]
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        row.update({"f1": res["f1"], "f1_050": res["f1_050"], "ap": res["ap"], "energy_l1": res["energy_l1"]})
        gen = [generate_clip(vm, c.frames, c.duration, steps=half) for c in clips]
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        row.update({"half_steps": half, "f1_half_steps": res["f1"], "f1_050_half_steps": res["f1_050"]})
        row["audio_snr_db_vs_fp32"] = snr_db(pipeline_audio(vm, seconds=snr_seconds), ref_audio)
        if e2e_video is not None:  # side by side in this section: default steps and half of them
            sub = BenchConfig(**{**asdict(cfg), "package": pkg})
            e = bench_e2e(sub, workdir, REFERENCE, e2e_video)
            row["e2e_x_real_time"], row["e2e_wall_seconds"] = e["x_real_time"], e["wall_seconds"]
            e = bench_e2e(sub, workdir, REFERENCE, e2e_video, steps=half)
            row["e2e_x_real_time_half_steps"], row["e2e_wall_seconds_half_steps"] = e["x_real_time"], e["wall_seconds"]
        out[variant] = row
    return out
