"""Precision variants of a model package: fp16 for GPUs, int8 (dynamic quantization) for CPUs.

Each variant is a whole package of its own, written beside the fp32 one (see
``foleyflow.runtime.session.variant_package``), with its own model.json and sha256s,
so the runtime verifies and loads it like any other::

    models/default        fp32 (the reference)
    models/default-fp16   every float op in fp16, inputs and outputs kept fp32 (keep_io_types)
    models/default-int8   MatMul/Gemm weights int8 per output channel, activations quantized per call

The graphs keep their inputs, outputs and shapes, so model.json's contract is unchanged;
its ``name`` gains the variant as a suffix and ``training.variant`` records what was done and
the parity measured against fp32 (per graph on fixed random inputs, and the audio of the whole
pipeline for one seed as an SNR). Parity beyond the tolerances below is an error: no variant
is written that is not checked.

    python -m foleyflow.export.variants models/default               # both variants
    python -m foleyflow.export.variants models/default --variant int8
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.session import FoleyModel, variant_package
from foleyflow.runtime.spec import ModelSpec, sha256_file, verify_package

log = logging.getLogger("foleyflow.export.variants")

VARIANT_KINDS = ("fp16", "int8")

# Relative RMS error of a graph's output against fp32 (||y - y32|| / ||y32||) on random inputs,
# and the least SNR of the pipeline's audio against fp32 for one seed. int8 moves outputs by
# about 1-2 % per graph (measured on the default model's graphs); fp16 by about 0.1 %.
GRAPH_TOL = {"fp16": 0.01, "int8": 0.05}
AUDIO_SNR_DB = {"fp16": 25.0, "int8": 10.0}
PARITY_SECONDS = 6.0  # audio compared per variant: two segments, so the streaming join is in it


@dataclass(frozen=True)
class VariantReport:
    variant: str
    package: Path
    graph_rel_err: dict[str, float]  # relative RMS error against fp32, per graph
    audio_snr_db: float  # pipeline audio against fp32, same seed and settings
    sizes: dict[str, int]  # bytes per graph

    def to_dict(self) -> dict:
        d = asdict(self)
        d["package"] = str(self.package)
        return d


# -- graph conversion ---------------------------------------------------------------------------------
def _clean(src: Path, dst: Path) -> None:
    """Copy a graph without its stored value_info: the exporter's intermediate shapes can conflict with
    what onnx's shape inference derives (the quantizer runs it), and they are recomputed anyway."""
    import onnx

    m = onnx.load(str(src))
    m.graph.ClearField("value_info")
    onnx.save(m, str(dst))


def convert_fp16(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean.onnx"
        _clean(src, clean)
        m16 = convert_float_to_float16(onnx.load(str(clean)), keep_io_types=True)
    onnx.save(m16, str(dst))


FIXED_BASES = ("istft", "melfb")  # weights of the vocoder's inverse DFT and the prompt front end's mel filters


def int8_excluded_nodes(path: Path) -> list[str]:
    """MatMuls kept in fp32: those against fixed bases (the vocoder's inverse DFT, istft.*, and the
    prompt encoder's mel filterbank, front.melfb), whose precision sets a noise floor and whose
    weights are not learned."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    return [n.name for n in m.graph.node
            if n.op_type in ("MatMul", "Gemm") and any(b in i for i in n.input for b in FIXED_BASES)]


def convert_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean.onnx"
        _clean(src, clean)
        # QInt8 weights per output channel: on AVX-512 VNNI CPUs this is the fast signed path of
        # onnxruntime's MLAS kernels (QUInt8 weights were slower here); Conv stays fp32 (ConvInteger is slow).
        quantize_dynamic(str(clean), str(dst), op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8,
                         per_channel=True, nodes_to_exclude=int8_excluded_nodes(clean),
                         extra_options={"MatMulConstBOnly": True})


CONVERTERS = {"fp16": convert_fp16, "int8": convert_int8}


# -- parity -------------------------------------------------------------------------------------------
def graph_feeds(spec: ModelSpec, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Fixed random inputs per graph at the shapes the sampler uses (a window, guidance as a batch of 2)."""
    rng = np.random.default_rng(seed)
    n, p, d, s = spec.segment_tokens, spec.token_dim, spec.feature_dim, spec.frame_size
    mask = (np.arange(n) < spec.context_tokens).astype(np.float32)[None, :, None]
    feeds = {
        "velocity": {"x": rng.standard_normal((2, n, p), dtype=np.float32), "t": np.array([0.4, 0.4], np.float32),
                     "cond": rng.standard_normal((2, n, d), dtype=np.float32),
                     "ctx": rng.standard_normal((2, n, p), dtype=np.float32) * np.concatenate([mask, mask]),
                     "ctx_mask": np.concatenate([mask, mask]), "uncond": np.array([0.0, 1.0], np.float32)},
        "video_encoder": {"frames": rng.random((1, n, 3, s, s), dtype=np.float32)},
        "vocoder": {"mel": rng.standard_normal((1, n * spec.frames_per_token, spec.n_mels), dtype=np.float32)},
    }
    if spec.prompt_dim > 0:  # a model with sound prompts: a prompted row and an unconditioned one
        feeds["velocity"]["prompt"] = rng.standard_normal((2, spec.prompt_dim), dtype=np.float32)
        feeds["velocity"]["prompt_on"] = np.array([1.0, 0.0], np.float32)
        t = np.arange(spec.prompt_samples) / spec.sample_rate
        wave = rng.standard_normal(spec.prompt_samples) * np.exp(-t / 0.15)
        feeds["prompt_encoder"] = {"wave": (wave / np.abs(wave).max()).astype(np.float32)[None]}
        feeds["prompt_table"] = {"category": np.arange(len(spec.vocabulary), dtype=np.int64)}
    if spec.student_steps:  # a student: the velocity's rows without uncond, with their scales (g, g_p, dt)
        feeds["student"] = {k: v for k, v in feeds["velocity"].items() if k != "uncond"}
        feeds["student"]["scales"] = np.array([[4.5, 4.5, 1.0 / spec.student_steps]] * 2, np.float32)
    return feeds


def rel_err(y: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm((y - ref).ravel()) / max(float(np.linalg.norm(ref.ravel())), 1e-12))


def snr_db(y: np.ndarray, ref: np.ndarray) -> float:
    """10 log10(signal / error) of ``y`` against ``ref``; inf when equal."""
    err = float(np.sum((np.asarray(y, np.float64) - ref) ** 2))
    sig = float(np.sum(np.asarray(ref, np.float64) ** 2))
    return float("inf") if err == 0 else 10.0 * float(np.log10(max(sig, 1e-30) / err))


def synthetic_frames(spec: ModelSpec, n: int, seed: int = 0) -> list[np.ndarray]:
    """Frames of a moving bright square on a dark ground: structured enough to condition on."""
    s = spec.frame_size
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        f = np.full((s, s, 3), 30, np.uint8)
        y = int(abs((k * 3) % (2 * (s - 8)) - (s - 8)))
        x = int(rng.integers(0, s - 8))
        f[y : y + 8, x : x + 8] = 220
        frames.append(f)
    return frames


def pipeline_audio(model: FoleyModel, seconds: float = PARITY_SECONDS, seed: int = 0, steps: int | None = None,
                   frames: list[np.ndarray] | None = None) -> np.ndarray:
    n = round(seconds * 48000)
    if frames is None:
        frames = synthetic_frames(model.spec, frames_needed(model.spec, n))
    return np.concatenate(list(generate_audio(model, frames, n, seed=seed, steps=steps)))


def parity(reference: FoleyModel, variant: FoleyModel, seconds: float = PARITY_SECONDS,
           steps: int | None = None) -> tuple[dict[str, float], float]:
    """(relative error per graph, audio SNR in dB) of ``variant`` against ``reference``."""
    errs = {}
    for name, feeds in graph_feeds(reference.spec).items():
        ref = reference.sessions[name].run(None, feeds)[0]
        got = variant.sessions[name].run(None, feeds)[0]
        errs[name] = rel_err(got, ref)
    a_ref = pipeline_audio(reference, seconds, steps=steps)
    a_var = pipeline_audio(variant, seconds, steps=steps)
    return errs, snr_db(a_var, a_ref)


# -- packages -----------------------------------------------------------------------------------------
def make_variant(package: str | Path, variant: str, out: str | Path | None = None, *, check: bool = True,
                 parity_seconds: float = PARITY_SECONDS, parity_steps: int | None = None) -> VariantReport:
    """Write ``variant`` of ``package`` (default: beside it, as the runtime expects) and check it."""
    if variant not in CONVERTERS:
        raise ValueError(f"unknown variant {variant!r} (choose {', '.join(CONVERTERS)})")
    package = Path(package)
    spec = verify_package(package)
    out = Path(out) if out is not None else variant_package(package, variant)
    staging = Path(tempfile.mkdtemp(prefix=f".{variant}-", dir=out.parent if out.parent.exists() else None))
    try:
        graphs = {}
        for name, g in spec.graphs.items():
            dst = staging / g.file
            CONVERTERS[variant](package / g.file, dst)
            graphs[name] = replace(g, sha256=sha256_file(dst), size=dst.stat().st_size)
        source = {"package": package.name, "model_json_sha256": sha256_file(package / "model.json")}
        vspec = replace(spec, name=f"{spec.name}-{variant}", graphs=graphs,
                        training={**spec.training, "variant": {"kind": variant, "source": source}})
        (staging / "model.json").write_text(vspec.to_json(), encoding="utf-8")
        verify_package(staging)
        errs, snr = {}, float("nan")
        if check:
            ref = FoleyModel.load(package, provider="cpu")
            var = FoleyModel.load(staging, provider="cpu")
            errs, snr = parity(ref, var, parity_seconds, parity_steps)
            bad = {k: v for k, v in errs.items() if not v <= GRAPH_TOL[variant]}
            if bad or not snr >= AUDIO_SNR_DB[variant]:
                raise RuntimeError(f"{variant} variant of {package} fails parity: graph errors {errs} "
                                   f"(tolerance {GRAPH_TOL[variant]}), audio SNR {snr:.1f} dB "
                                   f"(needs {AUDIO_SNR_DB[variant]} dB)")
            vspec = replace(vspec, training={**vspec.training, "variant": {
                **vspec.training["variant"], "parity": {"graph_rel_err": errs, "audio_snr_db": snr,
                                                        "tolerance": GRAPH_TOL[variant],
                                                        "min_audio_snr_db": AUDIO_SNR_DB[variant]}}})
            (staging / "model.json").write_text(vspec.to_json(), encoding="utf-8")
            verify_package(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.replace(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    log.info("%s variant written to %s: graph errors %s, audio SNR %.1f dB", variant, out, errs, snr)
    return VariantReport(variant, out, errs, snr, {n: g.size for n, g in graphs.items()})


def make_variants(package: str | Path, variants: tuple[str, ...] = VARIANT_KINDS, **kwargs) -> list[VariantReport]:
    return [make_variant(package, v, **kwargs) for v in variants]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m foleyflow.export.variants", description=__doc__.split("\n")[0])
    p.add_argument("package", help="the fp32 model package")
    p.add_argument("--variant", action="append", choices=VARIANT_KINDS, help="which (default: all)")
    p.add_argument("--out", help="output folder (one variant only; default: beside the package)")
    args = p.parse_args(argv)
    # onnxruntime's quantizer logs a line per tensor on the root logger: keep ours only
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("foleyflow").setLevel(logging.INFO)
    variants = tuple(args.variant or VARIANT_KINDS)
    if args.out and len(variants) != 1:
        p.error("--out takes one --variant")
    reports = [make_variant(args.package, v, args.out) for v in variants]
    print(json.dumps([r.to_dict() for r in reports], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
