"""`foleyflow bench`: the runtime's speed, memory and quality, measured side by side in one run.

Sections (each a function returning a dict; ``run_bench`` runs them all, ``format_report``
prints them, ``--json`` keeps them):

- ``velocity``  ONNX Runtime vs PyTorch eager per velocity step: same inputs, batch of 2
                (guidance), one window of tokens, same thread count; ms and the ratio.
- ``flops``     the velocity step's FLOPs (counted from the graph's matmuls and convolutions at
                the shapes it really runs) and its achieved GFLOP/s, against a large fp32 matrix
                product's GFLOP/s in the same run (numpy and a one-node ONNX Runtime MatMul).
- ``e2e``       the plugin's path for a synthetic H.264 clip (default 60 s): decode + encode +
                sample + vocode + resample + write a WAV, at the model's default settings;
                seconds, x real time, time to first segment, and where the time went.
- ``rss``       peak RSS of that path for clips of 10 s, 60 s and 600 s, each in a fresh process
                (ru_maxrss and VmHWM); the longest over the shortest (target <= 1.25).
- ``steps``     onset F1 (and AP, P, R, energy L1) against the number of steps and the solver,
                on held-out synthetic clips, beside the chance row (another clip's ground truth).
- ``seams``     onset F1 of events near a segment join (within 0.25 s) vs elsewhere, on long
                clips with several segments.
- ``snr``       the PyTorch and ONNX Runtime pipelines' audio for the same seed (fp32): SNR in dB.
- ``tuning``    session options measured per step: threads, spinning, optimisation level.
- ``variants``  int8 (and fp16) packages against fp32: step time, end-to-end time, onset F1, SNR.

The model's own settings are never changed here; the ``steps`` table is the evidence for them.
PyTorch (``--checkpoints``) is needed for ``velocity``'s eager column and for ``snr`` only.
This module imports torch lazily, so the RSS child processes (``--rss-child``) run torch-free,
as the plugin does.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import HOLD, frames_needed, generate_audio
from foleyflow.runtime.session import FoleyModel, variant_package
from foleyflow.runtime.spec import ModelSpec
from foleyflow.runtime.stream import plan_segments

log = logging.getLogger("foleyflow.benchmarks.suite")

SEAM_WINDOW_S = 0.25
MEDIA_FPS = Fraction(24000, 1001)  # the synthetic media's rate: NTSC film, as editors cut it


@dataclass
class BenchConfig:
    """What to measure and how much (``quick()`` gives the sizes the tests use)."""

    package: Path
    checkpoints: Path | None = None  # training folder of the package: enables the PyTorch columns
    threads: int = 2  # onnxruntime intra-op threads and torch threads alike
    repeats: int = 30  # timed calls per measurement (interleaved between the contenders)
    matmul_n: int = 2048
    e2e_seconds: float = 60.0
    video_size: int = 256  # synthetic media frame size (square), decoded and resized to the model's
    rss_seconds: tuple[float, ...] = (10.0, 60.0, 600.0)
    rss_steps: int | None = 4  # memory does not depend on steps; None = the model's default
    step_configs: tuple[tuple[str, str, int], ...] = (
        ("euler", "uniform", 4), ("euler", "uniform", 8), ("euler", "uniform", 16), ("euler", "uniform", 32),
        ("euler", "shifted", 8), ("midpoint", "uniform", 4), ("midpoint", "uniform", 8),
        ("heun", "uniform", 5), ("heun", "uniform", 9),
    )
    eval_clips: int = 10
    seam_clips: int = 40
    seam_seconds: float = 16.0
    snr_seconds: float = 12.0
    variants: tuple[str, ...] = ("int8",)  # fp16 is for GPUs: add it where CUDA runs
    decode_sizes: tuple[tuple[int, int], ...] = ((256, 256), (1280, 720), (1920, 1080))  # (width, height)
    decode_seconds: float = 10.0
    sections: tuple[str, ...] = ("velocity", "flops", "e2e", "rss", "decode", "steps", "seams", "snr", "tuning",
                                 "variants")
    workdir: Path | None = None  # media and WAVs (default: a temporary folder, removed afterwards)

    @classmethod
    def quick(cls, package: Path, checkpoints: Path | None = None, **kw: Any) -> BenchConfig:
        return cls(package, checkpoints, repeats=3, matmul_n=256, e2e_seconds=3.0, video_size=64,
                   rss_seconds=(2.0, 8.0), rss_steps=1, decode_sizes=((64, 64), (128, 72)), decode_seconds=2.0,
                   step_configs=(("euler", "uniform", 2), ("midpoint", "uniform", 1)),
                   eval_clips=2, seam_clips=1, seam_seconds=8.0, snr_seconds=5.0, **kw)


# -- timing helpers -----------------------------------------------------------------------------------
def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 2,
                     block: int = 5) -> dict[str, list[float]]:
    """Seconds per call of each function, ``repeats`` calls each, the contenders taking turns in
    blocks of ``block`` calls so that a change in machine load hits them alike. Each turn starts
    with one untimed call: thread pools (onnxruntime's, OpenMP's) spin for a while after their
    last call and would otherwise bill the next contender for it."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    out: dict[str, list[float]] = {k: [] for k in fns}
    while len(next(iter(out.values()))) < repeats:
        for k, f in fns.items():
            f()
            for _ in range(min(block, repeats - len(out[k]))):
                t0 = time.perf_counter()
                f()
                out[k].append(time.perf_counter() - t0)
    return out


def _ms(ts: list[float]) -> dict[str, float]:
    return {"median_ms": 1e3 * statistics.median(ts), "min_ms": 1e3 * min(ts)}


def machine_info() -> dict[str, Any]:
    import onnxruntime as ort

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "onnxruntime": ort.__version__,
            "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def _torch_model(cfg: BenchConfig) -> Any:
    if cfg.checkpoints is None:
        return None
    import torch

    from foleyflow.export.torch_backend import TorchModel

    torch.set_num_threads(cfg.threads)
    return TorchModel.load(cfg.checkpoints, cfg.package)


def _feeds(spec: ModelSpec) -> dict[str, dict[str, np.ndarray]]:
    from foleyflow.export.variants import graph_feeds

    return graph_feeds(spec)


# -- (1) velocity step: ONNX Runtime vs PyTorch ----------------------------------------------------------
def bench_velocity(model: FoleyModel, torch_model: Any, cfg: BenchConfig) -> dict[str, Any]:
    """Per step at ``cfg.threads`` threads on both sides, and again at one thread on both sides: on a
    loaded machine an OpenMP pool (torch's) can stall on a descheduled thread, which one thread avoids."""
    from foleyflow.runtime.providers import create_session

    feeds = _feeds(model.spec)["velocity"]
    out: dict[str, Any] = {"batch": 2, "tokens": model.spec.segment_tokens, "threads": cfg.threads}
    one = create_session(model.package / model.spec.graphs["velocity"].file, "cpu", 1)[0] if cfg.threads != 1 else None
    for label, threads in (("", cfg.threads), ("_1thread", 1)):
        if label and one is None:
            continue
        sess = model.sessions["velocity"] if not label else one
        fns: dict[str, Callable[[], object]] = {"onnxruntime": lambda s=sess: s.run(None, feeds)}
        if torch_model is not None:
            import torch

            torch.set_num_threads(threads)
            fns["pytorch"] = lambda: torch_model.velocity(**feeds)
        ts = time_interleaved(fns, cfg.repeats)
        out[f"onnxruntime{label}"] = _ms(ts["onnxruntime"])
        out[f"pytorch{label}"] = _ms(ts["pytorch"]) if torch_model is not None else None
        out[f"speedup{label}"] = (out[f"pytorch{label}"]["median_ms"] / out[f"onnxruntime{label}"]["median_ms"]
                                  if torch_model is not None else None)  # > 1: onnxruntime is faster
    if torch_model is not None:
        import torch

        torch.set_num_threads(cfg.threads)
        out["max_abs_diff"] = float(np.abs(model.velocity(**feeds) - torch_model.velocity(**feeds)).max())
    else:
        out["note"] = "no --checkpoints: PyTorch not measured"
    return out


# -- (6) FLOPs and the machine's limit ------------------------------------------------------------------
def graph_flops(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, float]:
    """FLOPs (2 per multiply-add) of a graph's MatMul, Gemm, Conv and ConvTranspose nodes at the shapes
    they run with for ``feeds``: every operand is exposed as a graph output, the graph run once
    unoptimised, and each node counted from its operands' actual shapes. Element-wise ops,
    softmax and normalisations are not counted (a few per cent)."""
    import onnx
    import onnxruntime as ort

    m = onnx.load(str(path))
    inits = {i.name: tuple(i.dims) for i in m.graph.initializer}
    heavy = [n for n in m.graph.node if n.op_type in ("MatMul", "Gemm", "Conv", "ConvTranspose")]
    known = inits.keys() | {i.name for i in m.graph.input}
    have = {o.name for o in m.graph.output}
    want = {x for n in heavy for x in (*n.input, *n.output) if x and x not in known}
    for name in sorted(want - have):
        m.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    shapes = dict(inits)
    shapes.update({k: v.shape for k, v in feeds.items()})
    shapes.update({n: v.shape for n, v in zip(names, sess.run(names, feeds), strict=True)})
    by_op: dict[str, float] = {}
    for n in heavy:
        a, b, y = shapes[n.input[0]], shapes[n.input[1]], shapes[n.output[0]]
        attrs = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        if n.op_type == "MatMul":
            f = 2.0 * float(np.prod(y)) * a[-1]
        elif n.op_type == "Gemm":
            f = 2.0 * float(np.prod(y)) * (a[0] if attrs.get("transA", 0) else a[-1])
        elif n.op_type == "Conv":  # weight [Cout, Cin/g, k...]
            f = 2.0 * float(np.prod(y)) * float(np.prod(b[1:]))
        else:  # ConvTranspose: weight [Cin, Cout/g, k...]; every input element meets Cout/g * k weights
            f = 2.0 * float(np.prod(a)) * float(np.prod(b[1:]))
        by_op[n.op_type] = by_op.get(n.op_type, 0.0) + f
    return {"total": sum(by_op.values()), **{f"{k}": v for k, v in sorted(by_op.items())}}


def matmul_gflops(n: int, threads: int, repeats: int = 5) -> dict[str, float]:
    """A large fp32 matrix product's GFLOP/s: numpy (its BLAS, its threads) and onnxruntime (``threads``)."""
    import onnx
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n**3
    g = onnx.helper.make_graph(
        [onnx.helper.make_node("MatMul", ["a", "b"], ["y"])], "mm",
        [onnx.helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [n, n]),
         onnx.helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, [n, n])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [n, n])])
    mm = onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=10)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    sess = ort.InferenceSession(mm.SerializeToString(), so, providers=["CPUExecutionProvider"])
    ts = time_interleaved({"numpy": lambda: a @ b, "onnxruntime": lambda: sess.run(None, {"a": a, "b": b})},
                          repeats, warmup=1)
    return {"n": n, "numpy_gflops": flops / min(ts["numpy"]) / 1e9, "onnxruntime_gflops": flops / min(ts["onnxruntime"]) / 1e9}


def bench_flops(model: FoleyModel, velocity: dict[str, Any], cfg: BenchConfig) -> dict[str, Any]:
    spec = model.spec
    feeds = _feeds(spec)
    per_call = {g: graph_flops(model.package / spec.graphs[g].file, feeds[g]) for g in ("velocity", "video_encoder", "vocoder")}
    peak = matmul_gflops(cfg.matmul_n, cfg.threads)
    best = max(peak["numpy_gflops"], peak["onnxruntime_gflops"])
    ms = velocity["onnxruntime"]["median_ms"]
    achieved = per_call["velocity"]["total"] / (ms / 1e3) / 1e9
    # the work of a minute of audio at the default settings: one encoder and one vocoder call per
    # segment (the vocoder counted at a full window: an upper bound), `steps` velocity calls
    segs = len(plan_segments(frames_needed(spec, 60 * OUTPUT_RATE), spec.segment_tokens, spec.context_tokens,
                              spec.lookahead_tokens))
    minute = {"velocity": segs * nfe(spec.solver, spec.default_steps) * per_call["velocity"]["total"] / 1e9,
              "video_encoder": segs * per_call["video_encoder"]["total"] / 1e9,
              "vocoder": segs * per_call["vocoder"]["total"] / 1e9}
    return {"velocity_gflop": per_call["velocity"]["total"] / 1e9,
            "by_op_gflop": {k: v / 1e9 for k, v in per_call["velocity"].items() if k != "total"},
            "per_call_gflop": {g: v["total"] / 1e9 for g, v in per_call.items()},
            "per_minute_gflop": minute, "segments_per_minute": segs,
            "velocity_gflops": achieved, "matmul": peak, "fraction_of_matmul": achieved / best}


# -- synthetic media ------------------------------------------------------------------------------------
def write_video_stream(path: Path, frames: Iterable[np.ndarray], fps: Fraction, crf: int = 23) -> int:
    """Write uint8 [S, S, 3] frames from an iterator as H.264 (one frame in memory at a time); atomic."""
    import av

    tmp = path.with_name(f".{path.name}.part")
    n = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            vs, vtb = None, Fraction(fps.denominator, fps.numerator)
            for f in frames:
                if vs is None:
                    vs = container.add_stream("libx264", rate=fps)
                    vs.height, vs.width = f.shape[:2]
                    vs.pix_fmt = "yuv420p"
                    vs.time_base = vtb
                    vs.options = {"crf": str(crf), "preset": "veryfast"}
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
                # frames carry 1/fps: the muxer may change the stream's time base once the header is out
                frame.pts, frame.time_base = n, vtb
                container.mux(vs.encode(frame))
                n += 1
            if vs is not None:
                container.mux(vs.encode(None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def long_video(path: Path, seconds: float, size: int, seed: int = 7, loop_seconds: float = 8.0) -> int:
    """A synthetic clip of any length, streamed: a rendered ``loop_seconds`` scene repeated."""
    from foleyflow.world.world import frame_count, render_clip

    loop = render_clip(seed, loop_seconds, MEDIA_FPS, size, 16000).frames
    total = frame_count(seconds, MEDIA_FPS)

    def gen() -> Iterator[np.ndarray]:
        for k in range(total):
            yield loop[k % len(loop)]

    return write_video_stream(path, gen(), MEDIA_FPS)


def clip_job(video: Path, n_frames: int, fps: Fraction = MEDIA_FPS) -> Any:
    """The plugin's job for a one-clip timeline that holds the whole of ``video``."""
    import opentimelineio as otio

    from foleyflow.plugin.clips import video_clips
    from foleyflow.plugin.media import MediaResolver
    from foleyflow.plugin.selection import plan
    from foleyflow.plugin.timing import otio_rate

    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    rate = otio_rate(fps)
    tl = otio.schema.Timeline(global_start_time=rt(0, rate))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    ref = otio.schema.ExternalReference(target_url=video.resolve().as_uri(),
                                        available_range=tr(rt(0, rate), rt(n_frames, rate)))
    track.append(otio.schema.Clip(name=video.stem, media_reference=ref, source_range=tr(rt(0, rate), rt(n_frames, rate))))
    return plan(video_clips(tl, fps), MediaResolver(None))[0]


# -- (2, 3) end to end through the plugin's path -------------------------------------------------------------
@dataclass
class TimedModel:
    """A Backend that times each graph of the model it wraps (and delegates everything else)."""

    model: Any
    seconds: dict[str, float] = field(default_factory=lambda: {"encode_video": 0.0, "velocity": 0.0, "vocode": 0.0})
    calls: dict[str, int] = field(default_factory=lambda: {"encode_video": 0, "velocity": 0, "vocode": 0})

    @property
    def spec(self) -> ModelSpec:
        return self.model.spec

    def __getattr__(self, name: str) -> Any:  # checksum, provider, ...
        return getattr(self.model, name)

    def _timed(self, name: str, *args: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        y = getattr(self.model, name)(*args)
        self.seconds[name] += time.perf_counter() - t0
        self.calls[name] += 1
        return y

    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        return self._timed("encode_video", frames)

    def velocity(self, *args: np.ndarray) -> np.ndarray:
        return self._timed("velocity", *args)

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        return self._timed("vocode", mel)


@dataclass
class PathTimer:
    """Wraps the runtime's generator as the plugin's Engine calls it: times decode (pulling frames),
    the generator's own work, and the first chunk."""

    decode: float = 0.0
    inside: float = 0.0
    first_chunk_at: float | None = None
    started: float = 0.0

    def frames(self, it: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        it = iter(it)
        while True:
            t0 = time.perf_counter()
            f = next(it, None)
            self.decode += time.perf_counter() - t0
            if f is None:
                return
            yield f

    def generate(self, model: Any, frames: Iterable[np.ndarray], n_samples: int, **kw: Any) -> Iterator[np.ndarray]:
        gen = generate_audio(model, self.frames(frames), n_samples, **kw)
        while True:
            t0 = time.perf_counter()
            chunk = next(gen, None)
            self.inside += time.perf_counter() - t0
            if chunk is None:
                return
            if self.first_chunk_at is None:
                self.first_chunk_at = time.perf_counter() - self.started
            yield chunk


def run_plugin_path(model: Any, video: Path, n_frames: int, wav_dir: Path, steps: int | None = None) -> dict[str, Any]:
    """Generate a take for ``video`` exactly as the plugin does (probe, decode, runtime, WAV) and time it."""
    from foleyflow.plugin.generate import Engine, GenerateOptions, generate_take

    job = clip_job(video, n_frames)
    timed = TimedModel(model)
    timer = PathTimer()
    engine = Engine(timed, timer.generate, frames_needed)
    timer.started = t0 = time.perf_counter()
    take = generate_take(engine, job, wav_dir, GenerateOptions(seed=0, steps=steps))
    wall = time.perf_counter() - t0
    audio_s = job.n_samples / OUTPUT_RATE
    graphs = sum(timed.seconds.values())
    return {
        "audio_seconds": audio_s, "wall_seconds": wall, "x_real_time": audio_s / wall,
        "first_segment_seconds": timer.first_chunk_at,
        "breakdown_seconds": {"decode": timer.decode, **timed.seconds,
                              "sampler_resample_etc": timer.inside - timer.decode - graphs,
                              "write_probe_etc": wall - timer.inside},
        "calls": dict(timed.calls), "wav": str(take.media[0]),
    }


def bench_e2e(cfg: BenchConfig, workdir: Path, variant: str = "fp32", video: tuple[Path, int] | None = None,
              tuning: Any = None, steps: int | None = None) -> dict[str, Any]:
    """The model's default settings (``steps`` overrides), the default provider, ``cfg.threads`` threads
    (``tuning``: runtime.providers.Tuning)."""
    from foleyflow.plugin.video_out import write_video
    from foleyflow.world.world import render_clip

    if video is None:
        path = workdir / f"e2e_{cfg.e2e_seconds:g}s.mp4"
        clip = render_clip(11, cfg.e2e_seconds, MEDIA_FPS, cfg.video_size, 48000)
        write_video(path, clip.frames, MEDIA_FPS)
        video = (path, len(clip.frames))
        del clip
    t0 = time.perf_counter()
    model = FoleyModel.load(cfg.package, threads=cfg.threads, variant=variant, tuning=tuning)
    load_s = time.perf_counter() - t0
    # warm-up on a second of the same clip (first-call allocations), not timed
    run_plugin_path(model, video[0], min(video[1], 25), workdir / "warmup")
    res = run_plugin_path(model, video[0], video[1], workdir / f"wav_{variant}", steps=steps)
    res.update({"load_seconds": load_s, "provider": model.provider, "variant": model.variant,
                "steps": steps or model.spec.default_steps, "solver": model.spec.solver, "guidance": model.spec.guidance,
                "segments": len(plan_segments(frames_needed(model.spec, round(res["audio_seconds"] * OUTPUT_RATE)),
                                              model.spec.segment_tokens, model.spec.context_tokens,
                                              model.spec.lookahead_tokens)),
                "video": f"{cfg.video_size}x{cfg.video_size} H.264 at {MEDIA_FPS}"})
    res["_video"] = video
    return res


# -- (4) peak RSS in fresh processes ------------------------------------------------------------------------
def _vm_hwm_kb() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_child(video: Path, n_frames: int, package: Path, steps: int | None, threads: int, wav_dir: Path) -> dict:
    """Run in a fresh process: load, generate the whole clip through the plugin's path, report peaks."""
    import resource  # POSIX only, like the measurement

    model = FoleyModel.load(package, threads=threads)
    after_load = _vm_hwm_kb() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = run_plugin_path(model, video, n_frames, wav_dir, steps=steps)
    return {"ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "vmhwm_kb": _vm_hwm_kb(),
            "after_load_kb": after_load, "wall_seconds": res["wall_seconds"], "audio_seconds": res["audio_seconds"],
            "torch_loaded": "torch" in sys.modules}


def bench_rss(cfg: BenchConfig, workdir: Path) -> dict[str, Any]:
    rows = {}
    for secs in cfg.rss_seconds:
        video = workdir / f"rss_{secs:g}s.mp4"
        n = long_video(video, secs, cfg.video_size)
        args = {"video": str(video), "n_frames": n, "package": str(cfg.package), "steps": cfg.rss_steps,
                "threads": cfg.threads, "wav_dir": str(workdir / f"rss_wav_{secs:g}")}
        proc = subprocess.run([sys.executable, "-m", "foleyflow.benchmarks.suite", "--rss-child", json.dumps(args)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"RSS child for {secs:g} s failed: {proc.stderr[-2000:]}")
        rows[f"{secs:g}"] = json.loads(proc.stdout.strip().splitlines()[-1])
        video.unlink(missing_ok=True)
        shutil.rmtree(workdir / f"rss_wav_{secs:g}", ignore_errors=True)
    keys = list(rows)
    # VmHWM is the process's own peak since exec; ru_maxrss can carry the forking parent's (Linux keeps it
    # across exec), so it only stands in where /proc is missing
    key = "vmhwm_kb" if all(r["vmhwm_kb"] for r in rows.values()) else "ru_maxrss_kb"
    lo, hi = rows[keys[0]], rows[keys[-1]]
    return {"steps": cfg.rss_steps, "rows": rows, "measure": key, "ratio_longest_to_shortest": hi[key] / lo[key],
            "longest": keys[-1], "shortest": keys[0], "target": 1.25}


# -- decode alone, at editorial sizes -------------------------------------------------------------------
def pattern_frames(width: int, height: int, n: int) -> Iterator[np.ndarray]:
    """Cheap moving frames of any size (a gradient, a bouncing block, noise so the encoder has work)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([(xx * 255 // max(width - 1, 1)), (yy * 255 // max(height - 1, 1)),
                     np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    noise = rng.integers(0, 24, (height, width, 3), dtype=np.uint8)
    bw, bh = max(2, width // 8), max(2, height // 8)
    for k in range(n):
        f = base + np.roll(noise, k, axis=1)
        x = (k * 7) % max(1, width - bw)
        y = abs((k * 5) % (2 * max(1, height - bh)) - max(1, height - bh))
        f[y : y + bh, x : x + bw] = 240
        yield f


def bench_decode(spec: ModelSpec, cfg: BenchConfig, workdir: Path) -> dict[str, Any]:
    """The plugin's FrameReader alone (decode, hold, resize to the model's frames) at the model's rate,
    per source size: what the end-to-end figure pays for media larger than the synthetic clip."""
    from foleyflow.plugin.decode import FrameReader

    from foleyflow.world.world import frame_count

    rows = {}
    n_model = int(cfg.decode_seconds * spec.video_fps)
    times = [Fraction(k) / spec.video_fps for k in range(n_model)]
    for w, h in cfg.decode_sizes:
        path = workdir / f"decode_{w}x{h}.mp4"
        write_video_stream(path, pattern_frames(w, h, frame_count(cfg.decode_seconds, MEDIA_FPS)), MEDIA_FPS)
        with FrameReader(path, spec.frame_size) as reader:
            t0 = time.perf_counter()
            for _ in reader.frames_at(times):
                pass
            secs = time.perf_counter() - t0
            decoded = reader.decoded
        path.unlink(missing_ok=True)
        rows[f"{w}x{h}"] = {"seconds": secs, "decoded_frames": decoded, "model_frames": n_model,
                            "ms_per_source_frame": 1e3 * secs / max(decoded, 1),
                            "seconds_per_minute": secs * 60.0 / cfg.decode_seconds}
    return {"clip_seconds": cfg.decode_seconds, "fps": str(MEDIA_FPS), "rows": rows}


# -- (5) onset F1 against steps ---------------------------------------------------------------------------
def nfe(solver: str, steps: int) -> int:
    """Velocity evaluations (each a batch of two with guidance) per window."""
    return {"euler": steps, "midpoint": 2 * steps, "heun": 2 * steps - 1}[solver]


def _generate(model: Any, frames: np.ndarray | list, seconds: float, seed: int = 0, **kw: Any) -> np.ndarray:
    n = round(seconds * OUTPUT_RATE)
    return np.concatenate(list(generate_audio(model, list(frames[: frames_needed(model.spec, n)]), n, seed=seed, **kw)))


def bench_steps(model: FoleyModel, cfg: BenchConfig, clips: list | None = None) -> dict[str, Any]:
    from foleyflow.export.eval.metrics import evaluate_clips, mismatched_baseline
    from foleyflow.export.evaluate import render_eval_clips

    clips = clips if clips is not None else render_eval_clips(model.spec, "test", cfg.eval_clips)
    truth = [c.onsets for c in clips]
    refs = [c.audio for c in clips]
    sr = clips[0].sample_rate
    keep = ("f1", "f1_050", "precision", "recall", "ap", "energy_l1")
    rows = []
    for solver, grid, steps in cfg.step_configs:
        t0 = time.perf_counter()
        gen = [_generate(model, c.frames, c.duration, steps=steps, solver=solver, grid=grid) for c in clips]
        secs = (time.perf_counter() - t0) / len(clips)
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        rows.append({"solver": solver, "grid": grid, "steps": steps, "nfe": nfe(solver, steps),
                     "seconds_per_clip": secs, **{k: res[k] for k in keep}})
    chance = mismatched_baseline(refs, truth, sr)
    spec = model.spec
    return {"clips": len(clips), "clip_seconds": clips[0].duration, "guidance": spec.guidance,
            "default": {"solver": spec.solver, "steps": spec.default_steps, "grid": "uniform"},
            "rows": rows, "chance": {k: chance[k] for k in keep if k in chance}}


# -- (7) seams ------------------------------------------------------------------------------------------
def seam_times(spec: ModelSpec, n_samples: int) -> dict[str, list[float]]:
    """Where segments join, in seconds: the token boundary (where a segment's new tokens start) and the
    centre of the vocoder's cross-fade (HOLD mel frames before it; runtime.generate)."""
    total = frames_needed(spec, n_samples)
    segs = plan_segments(total, spec.segment_tokens, spec.context_tokens, spec.lookahead_tokens)
    tok_s = spec.samples_per_token / spec.sample_rate
    tokens = [s.new_start * tok_s for s in segs[1:]]
    vocoder = [t - HOLD * spec.hop_length / spec.sample_rate for t in tokens]
    return {"token": tokens, "vocoder": vocoder}


def long_eval_clips(spec: ModelSpec, n: int, seconds: float) -> list:
    """Held-out clips of ``seconds`` with events all along (a striker taps throughout; at 4 s the
    world's scenes go quiet after their first drops)."""
    from dataclasses import replace

    from foleyflow.world.world import WorldConfig, render_clip, split_seeds
    from foleyflow.export.dataset import downsample
    from foleyflow.export.evaluate import EvalClip, world_config_for

    base = world_config_for("test", spec) or WorldConfig()
    wcfg = replace(base, striker_probability=1.0, strikes=(max(1, int(seconds * 0.5)), max(2, int(seconds * 0.75))),
                   release_time=(-0.3, 0.85))
    render = int(spec.training.get("config", {}).get("data", {}).get("render_size", 2 * spec.frame_size))
    out = []
    for seed in split_seeds("test", n):
        c = render_clip(seed, seconds, Fraction(spec.video_fps), render, spec.sample_rate, wcfg)
        onsets = np.array([e.time for e in c.events if e.kind == "impact"], dtype=np.float64)
        out.append(EvalClip(seed, downsample(c.frames, spec.frame_size), c.audio, c.sample_rate, onsets, "long", seconds))
    return out


def region_counts(pred: np.ndarray, true: np.ndarray, near: Callable[[np.ndarray], np.ndarray],
                  tol: float = 0.1) -> dict[str, dict[str, int]]:
    """TP/FP/FN split by region: a true onset by its own time, an unmatched prediction by its own."""
    from foleyflow.export.eval.metrics import match_onsets

    pairs = match_onsets(pred, true, tol)
    mp = np.zeros(len(pred), bool)
    mt = np.zeros(len(true), bool)
    for i, j in pairs:
        mp[i], mt[j] = True, True
    nt, npd = near(true), near(pred)
    out = {}
    for name, sel_t, sel_p in (("near", nt, npd), ("elsewhere", ~nt, ~npd)):
        out[name] = {"tp": int((mt & sel_t).sum()), "fn": int((~mt & sel_t).sum()), "fp": int((~mp & sel_p).sum())}
    return out


def _f1(c: dict[str, int]) -> float:
    d = 2 * c["tp"] + c["fp"] + c["fn"]
    return 2 * c["tp"] / d if d else float("nan")


def bench_seams(model: FoleyModel, cfg: BenchConfig) -> dict[str, Any]:
    from foleyflow.export.eval.metrics import merge_close_events
    from foleyflow.export.eval.onsets import detect_onsets_with_strength

    clips = long_eval_clips(model.spec, cfg.seam_clips, cfg.seam_seconds)
    n = round(cfg.seam_seconds * OUTPUT_RATE)
    joins = seam_times(model.spec, n)
    all_joins = np.array(joins["token"] + joins["vocoder"])

    def near(t: np.ndarray) -> np.ndarray:
        if len(all_joins) == 0 or len(t) == 0:
            return np.zeros(len(t), bool)
        return np.min(np.abs(np.asarray(t)[:, None] - all_joins[None]), axis=1) <= SEAM_WINDOW_S

    tot = {"near": {"tp": 0, "fp": 0, "fn": 0}, "elsewhere": {"tp": 0, "fp": 0, "fn": 0}}
    truth_tot = {"near": {"tp": 0, "fp": 0, "fn": 0}, "elsewhere": {"tp": 0, "fp": 0, "fn": 0}}
    for c in clips:
        true = merge_close_events(c.onsets)
        for audio, rate, acc in ((_generate(model, c.frames, c.duration), OUTPUT_RATE, tot), (c.audio, c.sample_rate, truth_tot)):
            pred, _ = detect_onsets_with_strength(audio, rate)
            for region, counts in region_counts(pred, true, near).items():
                for k, v in counts.items():
                    acc[region][k] += v
    return {"clips": len(clips), "clip_seconds": cfg.seam_seconds, "window_s": SEAM_WINDOW_S, "joins_s": joins,
            "f1_near": _f1(tot["near"]), "f1_elsewhere": _f1(tot["elsewhere"]),
            "gap": _f1(tot["elsewhere"]) - _f1(tot["near"]), "counts": tot,
            "ground_truth_f1_near": _f1(truth_tot["near"]), "ground_truth_f1_elsewhere": _f1(truth_tot["elsewhere"])}


# -- (8) PyTorch vs ONNX Runtime audio -------------------------------------------------------------------
def bench_snr(model: FoleyModel, torch_model: Any, cfg: BenchConfig) -> dict[str, Any]:
    from foleyflow.export.variants import snr_db

    if torch_model is None:
        return {"snr_db": None, "note": "no --checkpoints: PyTorch not run"}
    clip = long_eval_clips(model.spec, 1, cfg.snr_seconds)[0]
    a_ort = _generate(model, clip.frames, cfg.snr_seconds, seed=3)
    a_pt = _generate(torch_model, clip.frames, cfg.snr_seconds, seed=3)
    feeds = _feeds(model.spec)
    diffs = {"velocity": float(np.abs(model.velocity(**feeds["velocity"]) - torch_model.velocity(**feeds["velocity"])).max()),
             "video_encoder": float(np.abs(model.encode_video(**feeds["video_encoder"])
                                           - torch_model.encode_video(**feeds["video_encoder"])).max()),
             "vocoder": float(np.abs(model.vocode(**feeds["vocoder"]) - torch_model.vocode(**feeds["vocoder"])).max())}
    return {"seconds": cfg.snr_seconds, "seed": 3, "snr_db": snr_db(a_ort, a_pt), "graph_max_abs_diff": diffs,
            "segments": len(seam_times(model.spec, len(a_ort))["token"]) + 1, "target_db": 30.0}


# -- (9) session options ----------------------------------------------------------------------------------
def bench_tuning(model: FoleyModel, cfg: BenchConfig, workdir: Path, e2e_video: tuple[Path, int] | None = None
                 ) -> dict[str, Any]:
    from foleyflow.runtime.providers import Tuning, create_session

    feeds = _feeds(model.spec)
    options = {
        f"threads={cfg.threads} (default)": (cfg.threads, Tuning()),
        f"threads={cfg.threads}, spinning": (cfg.threads, Tuning(spinning=True)),
        "threads=1": (1, Tuning()),
        f"threads={cfg.threads}, opt=basic": (cfg.threads, Tuning(opt_level="basic")),
        f"threads={cfg.threads}, opt=extended": (cfg.threads, Tuning(opt_level="extended")),
    }
    out: dict[str, Any] = {}
    for graph in ("velocity", "vocoder"):
        path = model.package / model.spec.graphs[graph].file
        sessions = {k: create_session(path, "cpu", th, tu)[0] for k, (th, tu) in options.items()}
        f = feeds[graph]
        ts = time_interleaved({k: (lambda s=s, f=f: s.run(None, f)) for k, s in sessions.items()}, cfg.repeats)
        out[graph] = {k: _ms(v) for k, v in ts.items()}
    out["note"] = f"{model.spec.segment_tokens} tokens per window; vocoder on {model.spec.segment_tokens * model.spec.frames_per_token} mel frames"
    if e2e_video is not None:  # spinning is the knob that moves most with machine load: see it end to end
        e = bench_e2e(cfg, workdir, video=e2e_video, tuning=Tuning(spinning=True))
        out["e2e_spinning"] = {"wall_seconds": e["wall_seconds"], "x_real_time": e["x_real_time"]}
    return out


# -- (10) variants ----------------------------------------------------------------------------------------
def bench_variants(model: FoleyModel, cfg: BenchConfig, workdir: Path, e2e_video: tuple[Path, int] | None,
                   clips: list | None) -> dict[str, Any]:
    from foleyflow.export.eval.metrics import evaluate_clips
    from foleyflow.export.evaluate import render_eval_clips
    from foleyflow.export.variants import make_variant, pipeline_audio, rel_err, snr_db

    out: dict[str, Any] = {}
    feeds = _feeds(model.spec)
    ref_audio = pipeline_audio(model, seconds=min(cfg.snr_seconds, 8.0))
    clips = clips if clips is not None else render_eval_clips(model.spec, "test", cfg.eval_clips)
    truth, refs, sr = [c.onsets for c in clips], [c.audio for c in clips], clips[0].sample_rate
    for variant in ("fp32", *cfg.variants):
        pkg = cfg.package if variant == "fp32" else variant_package(cfg.package, variant)
        built = False
        if not pkg.is_dir():
            pkg = workdir / f"{cfg.package.name}-{variant}"
            make_variant(cfg.package, variant, pkg, check=False)  # measured below, reported not enforced
            built = True
        vm = model if variant == "fp32" else FoleyModel.load(pkg, provider="cpu", threads=cfg.threads)
        row: dict[str, Any] = {"package": str(pkg), "built_for_this_run": built}
        for graph in ("velocity", "vocoder"):
            f = feeds[graph]
            ts = time_interleaved({"x": (lambda g=graph, f=f, vm=vm: vm.sessions[g].run(None, f))}, cfg.repeats)
            row[f"{graph}_ms"] = _ms(ts["x"])["median_ms"]
        row["graph_rel_err"] = {g: rel_err(vm.sessions[g].run(None, f)[0], model.sessions[g].run(None, f)[0])
                                for g, f in feeds.items()}
        gen = [_generate(vm, c.frames, c.duration) for c in clips]
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        row.update({"f1": res["f1"], "f1_050": res["f1_050"], "ap": res["ap"], "energy_l1": res["energy_l1"]})
        half = max(1, model.spec.default_steps // 2)  # the cheaper setting the steps table may argue for
        gen = [_generate(vm, c.frames, c.duration, steps=half) for c in clips]
        res = evaluate_clips(gen, truth, refs, OUTPUT_RATE, ref_sample_rate=sr)
        row.update({"half_steps": half, "f1_half_steps": res["f1"], "f1_050_half_steps": res["f1_050"]})
        row["audio_snr_db_vs_fp32"] = snr_db(pipeline_audio(vm, seconds=min(cfg.snr_seconds, 8.0)), ref_audio)
        if e2e_video is not None:  # side by side in this section: default steps and half of them
            sub = BenchConfig(**{**asdict(cfg), "package": pkg})
            e = bench_e2e(sub, workdir, "fp32", e2e_video)
            row["e2e_x_real_time"], row["e2e_wall_seconds"] = e["x_real_time"], e["wall_seconds"]
            e = bench_e2e(sub, workdir, "fp32", e2e_video, steps=half)
            row["e2e_x_real_time_half_steps"], row["e2e_wall_seconds_half_steps"] = e["x_real_time"], e["wall_seconds"]
        out[variant] = row
    return out


# -- the whole run -----------------------------------------------------------------------------------------
def run_bench(cfg: BenchConfig, on_section: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    own_workdir = cfg.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="foleyflow-bench-")) if own_workdir else Path(cfg.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"machine": machine_info(), "package": str(cfg.package),
                              "checkpoints": None if cfg.checkpoints is None else str(cfg.checkpoints),
                              "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}}
    try:
        model = FoleyModel.load(cfg.package, provider="cpu", threads=cfg.threads)
        torch_model = _torch_model(cfg) if {"velocity", "snr"} & set(cfg.sections) else None
        result["model"] = {"name": model.spec.name, "steps": model.spec.default_steps, "solver": model.spec.solver,
                           "guidance": model.spec.guidance, "segment_tokens": model.spec.segment_tokens,
                           "context_tokens": model.spec.context_tokens, "segment_seconds": model.spec.segment_seconds}

        clock = [time.perf_counter()]
        result["section_seconds"] = {}

        def done(name: str, value: dict) -> None:
            result[name] = value
            result["section_seconds"][name] = time.perf_counter() - clock[0]
            clock[0] = time.perf_counter()
            if on_section is not None:
                on_section(name, value)

        secs = set(cfg.sections)
        if "velocity" in secs or "flops" in secs:
            done("velocity", bench_velocity(model, torch_model, cfg))
        if "flops" in secs:
            done("flops", bench_flops(model, result["velocity"], cfg))
        e2e_video = None
        if "e2e" in secs:
            e2e = bench_e2e(cfg, workdir)
            e2e_video = e2e.pop("_video")
            done("e2e", e2e)
        if "rss" in secs:
            done("rss", bench_rss(cfg, workdir))
        if "decode" in secs:
            done("decode", bench_decode(model.spec, cfg, workdir))
        clips = None
        if "steps" in secs or "variants" in secs:
            from foleyflow.export.evaluate import render_eval_clips

            clips = render_eval_clips(model.spec, "test", cfg.eval_clips)
        if "steps" in secs:
            done("steps", bench_steps(model, cfg, clips))
        if "seams" in secs:
            done("seams", bench_seams(model, cfg))
        if "snr" in secs:
            done("snr", bench_snr(model, torch_model, cfg))
        if "tuning" in secs:
            done("tuning", bench_tuning(model, cfg, workdir, e2e_video))
        if "variants" in secs:
            done("variants", bench_variants(model, cfg, workdir, e2e_video, clips))
        result["machine"]["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


# -- the report ------------------------------------------------------------------------------------------
def _f(x: Any, fmt: str = ".2f") -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not np.isfinite(x):
        return "nan" if np.isnan(x) else "inf"
    return format(x, fmt) if isinstance(x, (int, float)) else str(x)


def format_section(name: str, r: dict[str, Any]) -> list[str]:
    L: list[str] = []
    if name == "velocity":
        L.append(f"velocity step (batch {r['batch']}, {r['tokens']} tokens), median of the calls, same threads on both sides:")
        for label, th in (("", r["threads"]), ("_1thread", 1)):
            if f"onnxruntime{label}" not in r:
                continue
            pt = r[f"pytorch{label}"]["median_ms"] if r[f"pytorch{label}"] else None
            L.append(f"  {th} thread{'s' if th > 1 else ''}: onnxruntime {_f(r[f'onnxruntime{label}']['median_ms'])} ms | "
                     f"pytorch eager {_f(pt)} ms | onnxruntime is {_f(r[f'speedup{label}'])}x faster")
        if "max_abs_diff" in r:
            L.append(f"  max |onnxruntime - pytorch| {r['max_abs_diff']:.1e}")
    elif name == "flops":
        L += [f"velocity step: {_f(r['velocity_gflop'], '.3f')} GFLOP -> {_f(r['velocity_gflops'], '.1f')} GFLOP/s; "
              f"{r['matmul']['n']}^2 fp32 matmul: numpy {_f(r['matmul']['numpy_gflops'], '.1f')}, onnxruntime "
              f"{_f(r['matmul']['onnxruntime_gflops'], '.1f')} GFLOP/s; the step reaches {_f(100 * r['fraction_of_matmul'], '.0f')} %",
              "  work per minute of audio at the default settings (GFLOP): "
              + ", ".join(f"{k} {v:.0f}" for k, v in r["per_minute_gflop"].items())
              + f" ({r['segments_per_minute']} segments)"]
    elif name == "e2e":
        b = r["breakdown_seconds"]
        L += [f"end to end ({r['audio_seconds']:.0f} s of {r['video']}, {r['steps']} {r['solver']} steps, guidance "
              f"{r['guidance']}, {r['segments']} segments, {r['provider']}):",
              f"  {_f(r['wall_seconds'])} s = {_f(r['x_real_time'], '.1f')}x real time; first segment after "
              f"{_f(r['first_segment_seconds'])} s; model load {_f(r['load_seconds'])} s (not counted)",
              "  where: " + ", ".join(f"{k} {v:.2f} s" for k, v in b.items())]
    elif name == "rss":
        L.append(f"peak RSS, fresh process per clip ({r['steps'] or 'default'} steps; memory does not depend on steps):")
        for k, v in r["rows"].items():
            L.append(f"  {k:>5} s: VmHWM {_f((v['vmhwm_kb'] or 0) / 1024, '.0f')} MiB (after model load "
                     f"{v['after_load_kb'] / 1024:.0f} MiB), ru_maxrss {v['ru_maxrss_kb'] / 1024:.0f} MiB, "
                     f"{v['wall_seconds']:.1f} s")
        L.append(f"  {r['longest']} s / {r['shortest']} s = {r['ratio_longest_to_shortest']:.3f} by {r['measure']} "
                 f"(target <= {r['target']})")
    elif name == "decode":
        L.append(f"decode alone (the plugin's FrameReader, {r['clip_seconds']:g} s at {r['fps']} -> model frames):")
        for k, v in r["rows"].items():
            L.append(f"  {k:>9}: {v['ms_per_source_frame']:.2f} ms per source frame = {v['seconds_per_minute']:.2f} s "
                     "per minute of video")
    elif name == "steps":
        L.append(f"onset F1 against steps ({r['clips']} held-out clips of {r['clip_seconds']:g} s, guidance {r['guidance']}; "
                 f"default {r['default']['solver']} {r['default']['steps']}):")
        L.append("  solver   grid     steps  NFE   F1@0.1  F1@0.05  P      R      AP     energyL1  s/clip")
        for row in r["rows"]:
            L.append(f"  {row['solver']:<8} {row['grid']:<8} {row['steps']:>5} {row['nfe']:>4}   {row['f1']:.3f}   "
                     f"{row['f1_050']:.3f}    {row['precision']:.3f}  {row['recall']:.3f}  {row['ap']:.3f}  "
                     f"{_f(row['energy_l1'], '.4f')}    {row['seconds_per_clip']:.2f}")
        c = r["chance"]
        L.append(f"  chance (another clip's ground truth): F1 {c['f1']:.3f}, F1@0.05 {c['f1_050']:.3f}, AP {c['ap']:.3f}")
    elif name == "seams":
        L += [f"seams ({r['clips']} clips of {r['clip_seconds']:g} s; within {r['window_s']} s of a join vs elsewhere):",
              f"  generated F1 near {_f(r['f1_near'], '.3f')} | elsewhere {_f(r['f1_elsewhere'], '.3f')} | "
              f"gap {_f(r['gap'], '.3f')}  (ground truth {_f(r['ground_truth_f1_near'], '.3f')} | "
              f"{_f(r['ground_truth_f1_elsewhere'], '.3f')}); counts {r['counts']}"]
    elif name == "snr":
        L.append(f"PyTorch vs onnxruntime pipelines, same seed ({_f(r.get('seconds'), 'g')} s): SNR {_f(r['snr_db'], '.1f')} dB "
                 f"(target >= 30)" + (f"; graph max |diff| {r['graph_max_abs_diff']}" if r.get("graph_max_abs_diff") else ""))
    elif name == "tuning":
        L.append(f"session options, median ms per call ({r['note']}):")
        for graph in ("velocity", "vocoder"):
            L.append(f"  {graph:<9} " + " | ".join(f"{k}: {v['median_ms']:.2f}" for k, v in r[graph].items()))
        if "e2e_spinning" in r:
            e = r["e2e_spinning"]
            L.append(f"  end to end with spinning on (onnxruntime's default): {e['wall_seconds']:.2f} s = "
                     f"{e['x_real_time']:.1f}x real time")
    elif name == "variants":
        L.append("variants (CPU): velocity ms, vocoder ms, F1@0.1, F1@0.05 (default steps | half), audio SNR vs fp32, "
                 "end to end (default steps | half)")
        for k, v in r.items():
            e2e = (f"{v['e2e_wall_seconds']:.2f} s = {v['e2e_x_real_time']:.1f}x | {v['e2e_wall_seconds_half_steps']:.2f} s "
                   f"= {v['e2e_x_real_time_half_steps']:.1f}x" if "e2e_wall_seconds" in v else "-")
            errs = ", ".join(f"{g} {e:.3f}" for g, e in v["graph_rel_err"].items()) if k != "fp32" else ""
            L.append(f"  {k:<5} {v['velocity_ms']:7.2f} {v['vocoder_ms']:7.2f}   {v['f1']:.3f}  {v['f1_050']:.3f} | "
                     f"{v['f1_half_steps']:.3f}  {v['f1_050_half_steps']:.3f}  "
                     f"{_f(v['audio_snr_db_vs_fp32'], '.1f')} dB  {e2e}" + (f"  (relative error: {errs})" if errs else ""))
    return L


def format_report(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"Foley-Flow bench: {result['model']['name']} ({result['package']}) on {m['cpu']}, {m['cores']} cores, "
             f"onnxruntime {m['onnxruntime']}, torch {m['torch']}; load average at start {m['loadavg_start']}", ""]
    for name in BenchConfig.sections:
        if name in result:
            lines += format_section(name, result[name]) + [""]
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--package", help="model package (default: the plugin's default model)")
    p.add_argument("--checkpoints", help="the package's training folder (for the PyTorch columns)")
    p.add_argument("--threads", type=int, default=2, help="threads for onnxruntime and torch alike (default 2)")
    p.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes): for tests")
    p.add_argument("--json", help="write every figure here as JSON")
    p.add_argument("--only", help="comma-separated sections to run (default all): " + ", ".join(BenchConfig.sections))
    p.add_argument("--e2e-seconds", type=float, help="length of the end-to-end clip (default 60)")
    p.add_argument("--clips", type=int, help="held-out clips for the steps table (default 10)")
    p.add_argument("--rss-steps", type=int, help="steps for the RSS runs (default 4; 0 = the model's default)")
    p.add_argument("--variant", action="append", choices=("int8", "fp16"), help="variants to compare (default int8)")
    p.add_argument("--workdir", help="keep media and WAVs here (default: a temporary folder)")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    if args.package:
        package = Path(args.package)
    else:
        from foleyflow.plugin.generate import default_model_dir

        package = default_model_dir()
    kw: dict[str, Any] = {"threads": args.threads}
    if args.workdir:
        kw["workdir"] = Path(args.workdir)
    if args.only:
        kw["sections"] = tuple(s.strip() for s in args.only.split(",") if s.strip())
    if args.variant:
        kw["variants"] = tuple(args.variant)
    ck = Path(args.checkpoints) if args.checkpoints else None
    cfg = BenchConfig.quick(package, ck, **kw) if args.quick else BenchConfig(package, ck, **kw)
    if args.e2e_seconds:
        cfg.e2e_seconds = args.e2e_seconds
    if args.clips:
        cfg.eval_clips = args.clips
    if args.rss_steps is not None:
        cfg.rss_steps = args.rss_steps or None
    return cfg


def main(args: argparse.Namespace) -> int:
    """``foleyflow bench`` (argparse namespace from export.cli)."""
    cfg = config_from_args(args)
    logging.getLogger("foleyflow").setLevel(logging.WARNING)
    result = run_bench(cfg, on_section=lambda n, r: print("\n".join(format_section(n, r)) + "\n", flush=True))
    print(format_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


def _child_main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    out = rss_child(Path(args["video"]), int(args["n_frames"]), Path(args["package"]), args["steps"],
                    int(args["threads"]), Path(args["wav_dir"]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--rss-child":
        sys.exit(_child_main(sys.argv[1:]))
    parser = argparse.ArgumentParser(prog="python -m foleyflow.benchmarks.suite", description="Foley-Flow benchmarks")
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
