"""benchmarks.flops: FLOPs counted at run shapes equal a hand count, scale with the batch, and the
section's per-minute work and GFLOP/s follow from them and the step time it is given."""

import numpy as np
import onnx
import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks.backends import graph_feeds
from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.flops import bench_flops, graph_flops
from foleyflow.runtime.generate import frames_needed
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.stream import plan_segments

F32 = onnx.TensorProto.FLOAT
vi = onnx.helper.make_tensor_value_info


def _save(tmp_path, nodes, inputs, outputs, inits):
    m = onnx.helper.make_model(onnx.helper.make_graph(nodes, "g", inputs, outputs, inits),
                               opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=10)
    path = tmp_path / "g.onnx"
    onnx.save(m, str(path))
    return path


def test_matmul_and_conv_are_counted_at_the_shapes_they_run(tmp_path):
    w = onnx.numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    k = onnx.numpy_helper.from_array(np.ones((5, 4, 3), np.float32), "k")  # Conv1d 4 -> 5, kernel 3
    nodes = [onnx.helper.make_node("MatMul", ["x", "w"], ["h"]),  # [B, N, 3] @ [3, 4]
             onnx.helper.make_node("Transpose", ["h"], ["ht"], perm=[0, 2, 1]),
             onnx.helper.make_node("Conv", ["ht", "k"], ["y"], pads=[1, 1])]
    path = _save(tmp_path, nodes, [vi("x", F32, ["B", "N", 3])], [vi("y", F32, None)], [w, k])
    got = graph_flops(path, {"x": np.ones((2, 7, 3), np.float32)})
    assert got["MatMul"] == 2 * (2 * 7 * 4) * 3
    assert got["Conv"] == 2 * (2 * 5 * 7) * (4 * 3)
    assert got == {"total": got["MatMul"] + got["Conv"], "Conv": got["Conv"], "MatMul": got["MatMul"]}


def test_gemm_transposed_and_conv_transpose_by_hand_and_elementwise_not_at_all(tmp_path):
    b = onnx.numpy_helper.from_array(np.ones((4, 5), np.float32), "b")
    k = onnx.numpy_helper.from_array(np.ones((4, 2, 3), np.float32), "k")  # ConvTranspose1d 4 -> 2, kernel 3
    nodes = [onnx.helper.make_node("Gemm", ["a", "b"], ["g"], transA=1),  # A [4, 6] -> A^T [6, 4] @ [4, 5]
             onnx.helper.make_node("Relu", ["g"], ["gr"]),
             onnx.helper.make_node("ConvTranspose", ["c", "k"], ["ct"]),  # [1, 4, 7] -> [1, 2, 9]
             onnx.helper.make_node("Add", ["ct", "ct"], ["y"])]
    path = _save(tmp_path, nodes, [vi("a", F32, [4, 6]), vi("c", F32, [1, 4, 7])],
                 [vi("gr", F32, None), vi("y", F32, None)], [b, k])
    got = graph_flops(path, {"a": np.ones((4, 6), np.float32), "c": np.ones((1, 4, 7), np.float32)})
    assert got["Gemm"] == 2 * (6 * 5) * 4  # every output meets the 4 of A's columns
    assert got["ConvTranspose"] == 2 * (4 * 7) * (2 * 3)  # every input element meets Cout x kernel weights
    assert got["total"] == got["Gemm"] + got["ConvTranspose"] and set(got) == {"total", "Gemm", "ConvTranspose"}


def test_the_velocity_step_costs_twice_one_row_for_the_guidance_batch_of_two():
    pkg = exported_tiny()
    spec = FoleyModel.load(pkg, provider="cpu", threads=1).spec
    feeds = graph_feeds(spec)["velocity"]
    path = pkg / spec.graphs["velocity"].file
    two, one = graph_flops(path, feeds), graph_flops(path, {k: v[:1] for k, v in feeds.items()})
    assert two["total"] > 0 and two["total"] == pytest.approx(2 * one["total"], rel=1e-12)


def test_the_section_divides_the_counted_work_by_the_step_time_it_is_given():
    model = FoleyModel.load(exported_tiny(), provider="cpu", threads=2)
    spec = model.spec
    f = bench_flops(model, {"onnxruntime": {"median_ms": 2.0}}, BenchConfig.quick(exported_tiny()))
    feeds = graph_feeds(spec)
    step = graph_flops(model.package / spec.graphs["velocity"].file, feeds["velocity"])["total"] / 1e9
    assert f["velocity_gflop"] == pytest.approx(step) and f["velocity_gflops"] == pytest.approx(step / 0.002)
    assert sum(f["by_op_gflop"].values()) == pytest.approx(step)
    segs = len(plan_segments(frames_needed(spec, 60 * 48000), spec.segment_tokens, spec.context_tokens,
                             spec.lookahead_tokens))
    assert f["segments_per_minute"] == segs == 27  # 4 s windows, 25 tokens of context, 20 of lookahead
    assert f["per_minute_gflop"]["velocity"] == pytest.approx(segs * spec.default_steps * step)  # euler: 1 call a step
    for g in ("video_encoder", "vocoder"):
        assert f["per_minute_gflop"][g] == pytest.approx(segs * f["per_call_gflop"][g])
    best = max(f["matmul"]["numpy_gflops"], f["matmul"]["onnxruntime_gflops"])
    assert f["matmul"]["n"] == 256 and f["fraction_of_matmul"] == pytest.approx(f["velocity_gflops"] / best)
