"""Section ``flops``: the velocity step's FLOPs, counted from the graph's matmuls and convolutions at
the shapes it really runs, and its achieved GFLOP/s, against a large fp32 matrix product's GFLOP/s
in the same run (numpy and a one-node ONNX Runtime MatMul); and the work of a minute of audio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.session import FoleyModel

from .backends import graph_feeds
from .config import BenchConfig
from .sampling import nfe, segment_count
from .timing import time_interleaved

HEAVY_OPS = ("MatMul", "Gemm", "Conv", "ConvTranspose")


def graph_flops(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, float]:
    """FLOPs (2 per multiply-add) of a graph's MatMul, Gemm, Conv and ConvTranspose nodes at the shapes
    they run with for ``feeds``: every operand is exposed as a graph output, the graph run once
    unoptimised, and each node counted from its operands' actual shapes. Element-wise ops,
    softmax and normalisations are not counted (a few per cent)."""
    import onnx
    import onnxruntime as ort

    m = onnx.load(str(path))
    inits = {i.name: tuple(i.dims) for i in m.graph.initializer}
    heavy = [n for n in m.graph.node if n.op_type in HEAVY_OPS]
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
    return {"total": sum(by_op.values()), **dict(sorted(by_op.items()))}


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


def minute_of_work(model: FoleyModel, per_call_flops: dict[str, float]) -> tuple[dict[str, float], int]:
    """(GFLOP per graph, segments) for a minute of audio at the default settings: one encoder and one
    vocoder call per segment (the vocoder counted at a full window: an upper bound), NFE velocity calls."""
    spec = model.spec
    segs = segment_count(spec, 60 * OUTPUT_RATE)
    return ({"velocity": segs * nfe(spec.solver, spec.default_steps) * per_call_flops["velocity"] / 1e9,
             "video_encoder": segs * per_call_flops["video_encoder"] / 1e9,
             "vocoder": segs * per_call_flops["vocoder"] / 1e9}, segs)


def bench_flops(model: FoleyModel, velocity: dict[str, Any], cfg: BenchConfig) -> dict[str, Any]:
    """``velocity``: the velocity section's result (its onnxruntime median is the step time)."""
    spec = model.spec
    feeds = graph_feeds(spec)
    per_call = {g: graph_flops(model.package / spec.graphs[g].file, feeds[g]) for g in ("velocity", "video_encoder", "vocoder")}
    peak = matmul_gflops(cfg.matmul_n, cfg.threads)
    best = max(peak["numpy_gflops"], peak["onnxruntime_gflops"])
    ms = velocity["onnxruntime"]["median_ms"]
    achieved = per_call["velocity"]["total"] / (ms / 1e3) / 1e9
    minute, segs = minute_of_work(model, {g: v["total"] for g, v in per_call.items()})
    return {"velocity_gflop": per_call["velocity"]["total"] / 1e9,
            "by_op_gflop": {k: v / 1e9 for k, v in per_call["velocity"].items() if k != "total"},
            "per_call_gflop": {g: v["total"] / 1e9 for g, v in per_call.items()},
            "per_minute_gflop": minute, "segments_per_minute": segs,
            "velocity_gflops": achieved, "matmul": peak, "fraction_of_matmul": achieved / best}
