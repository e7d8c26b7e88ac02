"""Turn trained checkpoints into a model package (model.json + three ONNX graphs), and validate it.

Graphs are split by how often they run: the video encoder once per window, the
velocity network once per solver step, the vocoder once per segment. A flow trained
with sound prompts adds two graphs that run once per call: ``prompt_encoder`` (a
reference's waveform [1, L], log-mel front end inside, -> [1, E]) and ``prompt_table``
(category indices [B] -> [B, E]); model.json gains ``prompt_dim``, ``vocabulary`` and
``sound_sources``. Validation: ONNX checker, ONNX Runtime vs PyTorch parity on random
inputs, and checksums.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import onnxscript.optimizer
import torch

from foleyflow.runtime.spec import SCHEMA, GraphSpec, ModelSpec, TensorSpec, sha256_file, verify_package

from .config import TrainConfig
from .distill import velocity_net
from .models.encoders import VideoEncoder
from .models.flow import VelocityNet
from .models.prompt import CategoryTable, PromptEncoder
from .models.vocoder import Vocoder
from .prompts import category_table, prompt_encoder
from .train import load_checkpoint, video_encoder

log = logging.getLogger(__name__)

PARITY_TOL = 1e-4
PROMPT_PARITY_TOL = 1e-3  # the prompt encoder's long DFT convolutions round a little more than the rest
# The vocoder's and the prompt encoder's DFT matrices are not stored: their exported forwards build them
# from integer ranges (models.mel.dft_bases), which onnxruntime evaluates once, when it opens the graph.
# onnxscript's constant folding stores any folded value of up to 512 * 512 elements, which would put the
# int64 f * n product [n_fft // 2 + 1, n_fft] back into the file for n_fft up to 724 (the 16 kHz models'
# 640); these graphs are optimised with a lower limit on what a fold may add to the file.
DFT_FOLD_LIMIT = 1 << 14


@dataclass
class PromptModules:
    """A prompt flow's vocabulary, category table and reference encoder (:func:`load_prompt_models`)."""

    vocabulary: tuple[str, ...]
    table: CategoryTable
    encoder: PromptEncoder
    samples: int  # of a prepared reference
    sound_sources: list[dict]


def _export(module: torch.nn.Module, args: tuple, names_in: list[str], names_out: list[str],
            dynamic: tuple | None, path: Path, fold_limit: int | None = None) -> None:
    """torch.onnx's dynamo export, optimised by onnxscript (``fold_limit``: the most elements a folded
    constant may add to the file; None: onnxscript's default)."""
    module.eval()
    prog = torch.onnx.export(module, args, dynamo=True, input_names=names_in, output_names=names_out,
                             dynamic_shapes=dynamic, external_data=False, optimize=fold_limit is None,
                             verbose=False)
    if fold_limit is not None:  # what optimize=True runs, with the lower limit
        onnxscript.optimizer.optimize(prog.model, output_size_limit=fold_limit)
    prog.save(str(path), external_data=False)
    onnx.checker.check_model(onnx.load(str(path)))


def dft_sized_initializers(path: Path, n_fft: int) -> list[str]:
    """The initializers of an ONNX graph shaped like a DFT matrix of ``n_fft`` ([K, N], [2K, 1, N],
    [N, 1, N] and the like, K = n_fft // 2 + 1): none in an exported vocoder or prompt encoder."""
    k = n_fft // 2 + 1
    shapes = {(k, n_fft), (2 * k, n_fft), (n_fft, n_fft)}
    found = []
    for t in onnx.load(str(path), load_external_data=False).graph.initializer:
        dims = tuple(d for d in t.dims if d != 1)
        if dims in shapes or tuple(reversed(dims)) in shapes:
            found.append(f"{t.name} {list(t.dims)}")
    return found


def _export_dft_graph(module: torch.nn.Module, args: tuple, names_in: list[str], names_out: list[str],
                      dynamic: tuple | None, path: Path, n_fft: int) -> None:
    """:func:`_export` for a graph that builds DFT matrices (DFT_FOLD_LIMIT), checked to store none."""
    _export(module, args, names_in, names_out, dynamic, path, fold_limit=DFT_FOLD_LIMIT)
    stored = dft_sized_initializers(path, n_fft)
    if stored:
        raise RuntimeError(f"{path.name} stores DFT-sized matrices ({', '.join(stored)}): they should be "
                           "built in the graph (models.mel.dft_bases), not folded into it")


def load_models(ckpt_dir: Path, flow: str) -> tuple[TrainConfig, VideoEncoder, VelocityNet, Vocoder, dict]:
    """Rebuild the three exported modules from a training folder's checkpoints."""
    fck = load_checkpoint(ckpt_dir / f"{flow}.pt")
    cfg = TrainConfig.from_dict(fck["config"])
    align = fck.get("align", cfg.align.method)
    a = cfg.audio
    venc = video_encoder(cfg)
    # a flow trained with finetune_video carries its own copy of the video encoder
    video_from = str(fck.get("video_from", f"align_{align}"))  # the encoder a flow with frozen features read
    video_state = fck["model"].get("video") or load_checkpoint(ckpt_dir / f"{video_from}.pt")["model"]["video"]
    venc.load_state_dict(video_state)
    net = velocity_net(cfg)
    net.load_state_dict(fck["model"]["net"])
    vck = load_checkpoint(ckpt_dir / "vocoder.pt")
    vcfg = TrainConfig.from_dict(vck["config"]).vocoder
    voc = Vocoder(a.n_mels, a.n_fft, a.hop_length, vcfg.dim, vcfg.layers)
    voc.load_state_dict(vck["model"]["vocoder"])
    meta = {"align": align, "flow": flow, "mel_stats": list(fck["mel_stats"]), "flow_steps": int(fck["step"]),
            "vocoder_mel_stats": list(vck["mel_stats"])}
    if not np.allclose(meta["mel_stats"], meta["vocoder_mel_stats"]):
        # a vocoder trained on another set than the flow (e.g. without data.quiet's clips): it is given the
        # flow's normalisation, so it maps each input back to its own
        log.info("vocoder mel stats %s, flow's %s: the vocoder restandardises its input", meta["vocoder_mel_stats"],
                 meta["mel_stats"])
        voc.restandardize(tuple(meta["mel_stats"]), tuple(meta["vocoder_mel_stats"]))
    return cfg, venc.eval(), net.eval(), voc.eval(), meta


def load_prompt_models(ckpt_dir: Path, flow: str) -> PromptModules | None:
    """The prompt modules of a flow trained with sound prompts; None for one trained without."""
    fck = load_checkpoint(Path(ckpt_dir) / f"{flow}.pt")
    cfg = TrainConfig.from_dict(fck["config"])
    if not cfg.flow.prompts:
        return None
    vocab = tuple(str(v) for v in fck["vocabulary"])
    table = category_table(cfg, len(vocab))
    table.load_state_dict(fck["model"]["prompt_table"])
    enc = prompt_encoder(cfg, tuple(fck["mel_stats"]))
    enc.load_state_dict(fck["model"]["prompt_encoder"])
    return PromptModules(vocab, table.eval(), enc.eval(), int(fck["prompt_samples"]),
                         [dict(s) for s in fck.get("sound_sources", [])])


class StudentGraph(torch.nn.Module):
    """The exported student of a flow without prompts: a student VelocityNet with ``uncond`` 0 (it is guided
    inside) and ``scales`` [B, 3] last."""

    def __init__(self, net: VelocityNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, ctx: torch.Tensor, ctx_mask: torch.Tensor,
                scales: torch.Tensor) -> torch.Tensor:
        return self.net(x, t, cond, ctx, ctx_mask, t * 0.0, None, None, None, scales)


class PromptStudentGraph(StudentGraph):
    """The same for a flow with sound prompts: ``prompt`` [B, E] and ``prompt_on`` [B] before ``scales``."""

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, ctx: torch.Tensor,  # type: ignore[override]
                ctx_mask: torch.Tensor, prompt: torch.Tensor, prompt_on: torch.Tensor,
                scales: torch.Tensor) -> torch.Tensor:
        return self.net(x, t, cond, ctx, ctx_mask, t * 0.0, prompt, prompt_on, None, scales)


def student_graph(net: VelocityNet) -> StudentGraph:
    """The module exported as graph ``student`` for a student ``net``."""
    return (PromptStudentGraph if net.prompt_dim > 0 else StudentGraph)(net).eval()


def load_student(ckpt_dir: Path, flow: str) -> tuple[VelocityNet, dict] | None:
    """The distill stage's student of ``flow`` (export.distill), with its checkpoint's metadata; None if
    the folder has none."""
    path = Path(ckpt_dir) / f"student_{flow}.pt"
    if not path.exists():
        return None
    ck = load_checkpoint(path)
    cfg = TrainConfig.from_dict(ck["config"])
    net = velocity_net(cfg, student=True)
    net.load_state_dict(ck["model"]["net"])
    meta = {"steps": int(ck["step"]), "teacher_steps": int(ck["teacher_steps"]),
            "levels": [float(x) for x in ck["levels"]], "student_steps": cfg.distill.student_steps}
    return net.eval(), meta


def _parity(path: Path, module: torch.nn.Module, feeds: dict[str, np.ndarray]) -> float:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, feeds)[0]
    with torch.no_grad():
        ref = module(*[torch.from_numpy(v) for v in feeds.values()]).numpy()
    return float(np.abs(got - ref).max())


def _reference_example(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """A reference-like wave [1, n] for export and parity: decaying noise from its start, peak 1."""
    t = np.arange(n) / rate
    x = rng.standard_normal(n) * np.exp(-t / 0.15)
    return (x / np.abs(x).max()).astype(np.float32)[None]


def export_package(ckpt_dir: str | Path, out: str | Path, flow: str = "flow_masked_dynamic",
                   name: str = "foleyflow-default", version: str = "0.1.0", steps: int | None = None,
                   guidance: float | None = None, prompt_guidance: float | None = None,
                   student: bool = True, sampler: str | None = None, student_steps: int | None = None) -> ModelSpec:
    """Export checkpoints to a package; `steps`/`guidance`/`prompt_guidance` override the sampler defaults of
    the config (``prompt_guidance`` only in a package with sound prompts). ``student``: with the distill
    stage's student where the folder has one (graph ``student``; ``student_steps`` its default steps, default
    the distill config's); ``sampler`` the package's default (default: the student where there is one)."""
    ckpt_dir, out = Path(ckpt_dir), Path(out)
    cfg, venc, net, voc, meta = load_models(ckpt_dir, flow)
    pm = load_prompt_models(ckpt_dir, flow)
    st = load_student(ckpt_dir, flow) if student else None
    if sampler == "student" and st is None:
        raise FileNotFoundError(f"{Path(ckpt_dir) / ('student_' + flow + '.pt')}: sampler student needs the distill "
                                "stage's student (foleyflow train --stage distill)")
    a, d, fc = cfg.audio, cfg.data, cfg.flow
    n_tok = int(round(d.duration * cfg.token_rate()))
    p, dim, s = a.frames_per_token * a.n_mels, cfg.encoder.dim, d.frame_size
    rng = np.random.default_rng(0)
    B, N, T, Fr = torch.export.Dim("batch", min=1, max=64), torch.export.Dim("n", min=2, max=128), \
        torch.export.Dim("t", min=2, max=256), torch.export.Dim("f", min=8, max=4096)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent if out.parent.exists() else None))
    try:
        frames = rng.random((2, n_tok, 3, s, s), dtype=np.float32)
        _export(venc, (torch.from_numpy(frames),), ["frames"], ["features"], ({0: B, 1: T},),
                staging / "video_encoder.onnx")
        vel_feeds = {"x": rng.standard_normal((2, n_tok, p), dtype=np.float32),
                     "t": np.array([0.3, 0.7], np.float32),
                     "cond": rng.standard_normal((2, n_tok, dim), dtype=np.float32),
                     "ctx": rng.standard_normal((2, n_tok, p), dtype=np.float32),
                     "ctx_mask": (np.arange(n_tok)[None, :, None] < 10).repeat(2, 0).astype(np.float32),
                     "uncond": np.array([0.0, 1.0], np.float32)}
        vel_dyn: tuple = ({0: B, 1: N}, {0: B}, {0: B, 1: N}, {0: B, 1: N}, {0: B, 1: N}, {0: B})
        if pm is not None:
            vel_feeds["prompt"] = rng.standard_normal((2, fc.prompt_dim), dtype=np.float32)
            vel_feeds["prompt_on"] = np.array([1.0, 1.0], np.float32)  # row 1 is uncond: it drops the prompt
            vel_dyn = (*vel_dyn, {0: B}, {0: B})
        _export(net, tuple(torch.from_numpy(v) for v in vel_feeds.values()), list(vel_feeds), ["v"], vel_dyn,
                staging / "velocity.onnx")
        if st is not None:
            stu_graph = student_graph(st[0])
            stu_feeds = {k: v for k, v in vel_feeds.items() if k != "uncond"}
            stu_feeds["scales"] = np.array([[4.5, 9.0, 0.25], [1.0, 1.0, 1.0]], np.float32)
            stu_dyn = tuple(d for k, d in zip(vel_feeds, vel_dyn, strict=True) if k != "uncond") + ({0: B},)
            _export(stu_graph, tuple(torch.from_numpy(v) for v in stu_feeds.values()), list(stu_feeds), ["v"],
                    stu_dyn, staging / "student.onnx")
        mel = rng.standard_normal((2, 4 * n_tok, a.n_mels), dtype=np.float32)
        _export_dft_graph(voc, (torch.from_numpy(mel),), ["mel"], ["audio"], ({0: B, 1: Fr},),
                          staging / "vocoder.onnx", a.n_fft)

        if pm is not None:
            wave = _reference_example(rng, pm.samples, a.sample_rate)
            _export_dft_graph(pm.encoder, (torch.from_numpy(wave),), ["wave"], ["prompt"], None,
                              staging / "prompt_encoder.onnx", a.n_fft)
            n_cat = len(pm.vocabulary)  # an example batch of at least 2: a batch of 1 would be fixed at 1
            index = (np.arange(max(2, n_cat), dtype=np.int64)[::-1] % n_cat).copy()
            _export(pm.table, (torch.from_numpy(index),), ["category"], ["prompt"], ({0: B},),
                    staging / "prompt_table.onnx")

        parity = {
            "video_encoder": _parity(staging / "video_encoder.onnx", venc, {"frames": frames}),
            "velocity": _parity(staging / "velocity.onnx", net, vel_feeds),
            "vocoder": _parity(staging / "vocoder.onnx", voc, {"mel": mel}),
        }
        if st is not None:
            parity["student"] = _parity(staging / "student.onnx", stu_graph, stu_feeds)
        if pm is not None:
            parity["prompt_encoder"] = _parity(staging / "prompt_encoder.onnx", pm.encoder, {"wave": wave})
            parity["prompt_table"] = _parity(staging / "prompt_table.onnx", pm.table, {"category": index})
        log.info("parity (max abs diff vs PyTorch): %s", parity)
        for g in ("velocity", "student"):
            if parity.get(g, 0.0) > PARITY_TOL:
                raise RuntimeError(f"{g} graph differs from PyTorch by {parity[g]:.2e} > {PARITY_TOL}")
        for g in ("prompt_encoder", "prompt_table"):
            if parity.get(g, 0.0) > PROMPT_PARITY_TOL:
                raise RuntimeError(f"{g} graph differs from PyTorch by {parity[g]:.2e} > {PROMPT_PARITY_TOL}")

        def gspec(file: str, ins: list[tuple], outs: list[tuple]) -> GraphSpec:  # (name, shape[, dtype])
            f = staging / file
            return GraphSpec(file, sha256_file(f), f.stat().st_size,
                             tuple(TensorSpec(*t) for t in ins), tuple(TensorSpec(*t) for t in outs))

        vel_in: list[tuple] = [("x", ("B", "N", p)), ("t", ("B",)), ("cond", ("B", "N", dim)),
                               ("ctx", ("B", "N", p)), ("ctx_mask", ("B", "N", 1)), ("uncond", ("B",))]
        if pm is not None:
            vel_in += [("prompt", ("B", fc.prompt_dim)), ("prompt_on", ("B",))]
        graphs = {
            "video_encoder": gspec("video_encoder.onnx", [("frames", ("B", "T", 3, s, s))], [("features", ("B", "T", dim))]),
            "velocity": gspec("velocity.onnx", vel_in, [("v", ("B", "N", p))]),
            "vocoder": gspec("vocoder.onnx", [("mel", ("B", "F", a.n_mels))], [("audio", ("B", "F*hop"))]),
        }
        student_fields: dict = {}
        if st is not None:
            stu_in = [t for t in vel_in if t[0] != "uncond"] + [("scales", ("B", 3))]
            graphs["student"] = gspec("student.onnx", stu_in, [("v", ("B", "N", p))])
            s_steps = student_steps or st[1]["student_steps"]
            if not 1 <= s_steps <= st[1]["teacher_steps"]:
                raise ValueError(f"student_steps {s_steps}: 1 to the teacher's {st[1]['teacher_steps']}")
            student_fields = {"student_steps": s_steps, "sampler": sampler or "student"}
            meta["student"] = st[1]
        prompt_fields: dict = {}
        if pm is not None:
            graphs["prompt_encoder"] = gspec("prompt_encoder.onnx", [("wave", (1, pm.samples))],
                                             [("prompt", (1, fc.prompt_dim))])
            graphs["prompt_table"] = gspec("prompt_table.onnx", [("category", ("B",), "int64")],
                                           [("prompt", ("B", fc.prompt_dim))])
            prompt_fields = {"prompt_dim": fc.prompt_dim, "vocabulary": pm.vocabulary,
                             "sound_sources": tuple(pm.sound_sources),
                             "prompt_guidance": fc.prompt_guidance if prompt_guidance is None else prompt_guidance}
            meta["prompts"] = {"category": fc.prompt_category, "reference": fc.prompt_reference,
                               "seconds": pm.samples / a.sample_rate, "train_encoder": fc.prompt_train_encoder}
        mean, std = meta["mel_stats"]
        spec = ModelSpec(
            name=name, version=version, sample_rate=a.sample_rate, n_fft=a.n_fft, hop_length=a.hop_length,
            n_mels=a.n_mels, mel_fmin=a.fmin, mel_fmax=a.fmax, mel_mean=mean, mel_std=std,
            frames_per_token=a.frames_per_token, video_fps_num=d.fps, video_fps_den=1, frame_size=s,
            feature_dim=dim, segment_tokens=n_tok, context_tokens=fc.context_tokens,
            default_steps=steps or fc.default_steps, solver="euler",
            guidance=fc.guidance if guidance is None else guidance, graphs=graphs, **prompt_fields, **student_fields,
            training={**meta, "world": cfg.data.world, "parity_max_abs_diff": parity, "config": cfg.to_dict()}, schema=SCHEMA,
        )
        (staging / "model.json").write_text(spec.to_json(), encoding="utf-8")
        verify_package(staging, ModelSpec.from_dict(json.loads((staging / "model.json").read_text())))
        if out.exists():
            shutil.rmtree(out)
        staging.chmod(0o755)  # mkdtemp makes it private
        staging.replace(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return spec
