"""`foleyflow bench --quick` returns every figure with sane values; its counting pieces on constructed cases."""

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from tiny_training import exported_tiny, trained_tiny

from foleyflow.benchmarks import suite as bench
from foleyflow.benchmarks.suite import (
    BenchConfig,
    graph_flops,
    region_counts,
    run_bench,
    seam_times,
    time_interleaved,
)
from foleyflow.runtime.generate import HOLD
from foleyflow.runtime.spec import read_spec
from foleyflow.runtime.stream import plan_segments

SECTIONS = ("velocity", "flops", "e2e", "rss", "decode", "steps", "seams", "snr", "tuning", "variants")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    cfg = BenchConfig.quick(exported_tiny(), trained_tiny(), workdir=tmp_path_factory.mktemp("bench"))
    return run_bench(cfg)


def test_quick_bench_returns_every_section(result):
    for key in (*SECTIONS, "machine", "model", "config"):
        assert key in result, key
    json.dumps(result)  # --json can write it


def test_velocity_and_flops_are_positive_ratios(result):
    v = result["velocity"]
    assert v["batch"] == 2 and v["threads"] == 2
    assert v["onnxruntime"]["median_ms"] > 0 and v["pytorch"]["median_ms"] > 0 and v["speedup"] > 0
    assert v["onnxruntime_1thread"]["median_ms"] > 0 and v["speedup_1thread"] > 0
    assert v["max_abs_diff"] < 1e-3  # the same model on both sides
    f = result["flops"]
    assert f["velocity_gflop"] > 0 and f["velocity_gflops"] > 0 and f["fraction_of_matmul"] > 0
    assert f["matmul"]["numpy_gflops"] > 0 and f["matmul"]["onnxruntime_gflops"] > 0
    assert set(f["per_minute_gflop"]) == {"velocity", "video_encoder", "vocoder"}


def test_end_to_end_runs_the_plugin_path(result):
    e = result["e2e"]
    assert e["audio_seconds"] == pytest.approx(3.0, abs=0.05)
    assert e["x_real_time"] > 0 and 0 < e["first_segment_seconds"] <= e["wall_seconds"]
    assert e["calls"]["velocity"] > 0 and e["calls"]["vocode"] >= 1 and e["calls"]["encode_video"] >= 1
    assert e["provider"] == "CPUExecutionProvider"
    assert all(v >= -1e-3 for v in e["breakdown_seconds"].values())  # parts of one wall time


def test_rss_is_measured_in_fresh_torch_free_processes(result):
    r = result["rss"]
    assert list(r["rows"]) == ["2", "8"]
    for row in r["rows"].values():
        assert row["vmhwm_kb"] > 0 and row["after_load_kb"] > 0 and row["torch_loaded"] is False
        assert row["audio_seconds"] > 0
    assert r["ratio_longest_to_shortest"] > 0 and r["measure"] == "vmhwm_kb"


def test_decode_is_timed_per_source_size(result):
    d = result["decode"]
    assert list(d["rows"]) == ["64x64", "128x72"]
    for row in d["rows"].values():
        assert row["decoded_frames"] > 0 and row["model_frames"] == 50 and row["ms_per_source_frame"] > 0


def test_quality_sections_have_sane_values(result):
    s = result["steps"]
    assert [(r["solver"], r["steps"], r["nfe"]) for r in s["rows"]] == [("euler", 2, 2), ("midpoint", 1, 2)]
    for row in s["rows"]:
        assert 0.0 <= row["f1"] <= 1.0 and 0.0 <= row["ap"] <= 1.0
    assert 0.0 <= s["chance"]["f1"] <= 1.0
    seams = result["seams"]
    assert len(seams["joins_s"]["token"]) >= 1
    assert seams["ground_truth_f1_near"] >= 0.5 or math.isnan(seams["ground_truth_f1_near"])
    snr = result["snr"]["snr_db"]
    assert math.isfinite(snr) or snr == float("inf")
    assert snr > 30  # the same fp32 model through the same sampler


def test_tuning_and_variants(result):
    t = result["tuning"]
    assert all(v["median_ms"] > 0 for g in ("velocity", "vocoder") for v in t[g].values())
    assert t["e2e_spinning"]["x_real_time"] > 0
    v = result["variants"]
    assert set(v) == {"fp32", "int8"}
    for row in v.values():
        assert row["velocity_ms"] > 0 and row["e2e_x_real_time"] > 0 and row["e2e_x_real_time_half_steps"] > 0
        assert 0.0 <= row["f1"] <= 1.0 and 0.0 <= row["f1_half_steps"] <= 1.0
    assert v["int8"]["audio_snr_db_vs_fp32"] > 0


def test_report_prints_every_section(result):
    text = bench.format_report(result)
    for needle in ("onnxruntime is", "GFLOP/s", "x real time", "first segment", "VmHWM", "decode alone", "onset F1 against steps",
                   "seams", "SNR", "session options", "variants"):
        assert needle in text, needle


# -- pieces --------------------------------------------------------------------------------------
def _graph(nodes, inputs, outputs, inits):
    g = onnx.helper.make_graph(nodes, "g", inputs, outputs, inits)
    return onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=10)


def test_graph_flops_counts_matmul_and_conv_at_run_shapes(tmp_path):
    f32 = onnx.TensorProto.FLOAT
    w = onnx.numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    k = onnx.numpy_helper.from_array(np.ones((5, 4, 3), np.float32), "k")  # Conv1d 4 -> 5, kernel 3
    nodes = [onnx.helper.make_node("MatMul", ["x", "w"], ["h"]),  # [B, N, 3] @ [3, 4]
             onnx.helper.make_node("Transpose", ["h"], ["ht"], perm=[0, 2, 1]),
             onnx.helper.make_node("Conv", ["ht", "k"], ["y"], pads=[1, 1])]
    m = _graph(nodes, [onnx.helper.make_tensor_value_info("x", f32, ["B", "N", 3])],
               [onnx.helper.make_tensor_value_info("y", f32, None)], [w, k])
    path = tmp_path / "g.onnx"
    onnx.save(m, str(path))
    got = graph_flops(path, {"x": np.ones((2, 7, 3), np.float32)})
    assert got["MatMul"] == 2 * (2 * 7 * 4) * 3
    assert got["Conv"] == 2 * (2 * 5 * 7) * (4 * 3)
    assert got["total"] == got["MatMul"] + got["Conv"]


def test_region_counts_split_hits_misses_and_false_onsets():
    true = np.array([1.0, 2.0, 5.0, 9.0])
    pred = np.array([1.02, 5.5, 9.05, 2.3])  # 1.0 hit, 2.0 missed (2.3 false), 5.0 missed (5.5 false), 9.0 hit

    def near(t):
        return np.abs(np.asarray(t) - 2.0) <= 0.5  # a join at 2 s

    c = region_counts(pred, true, near)
    assert c["near"] == {"tp": 0, "fn": 1, "fp": 1}
    assert c["elsewhere"] == {"tp": 2, "fn": 1, "fp": 1}


def test_seam_times_follow_the_segment_plan():
    spec = read_spec(exported_tiny())
    n = 48000 * 10
    joins = seam_times(spec, n)
    tok = spec.samples_per_token / spec.sample_rate
    total = -(-n // (48000 // spec.sample_rate) // spec.samples_per_token)
    segs = plan_segments(total, spec.segment_tokens, spec.context_tokens, spec.lookahead_tokens)
    assert joins["token"] == [s.new_start * tok for s in segs[1:]]
    assert joins["vocoder"] == pytest.approx([t - HOLD * spec.hop_length / spec.sample_rate for t in joins["token"]])


def test_time_interleaved_times_every_contender_repeats_times():
    calls = []
    out = time_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=7, warmup=1,
                           block=3)
    assert [len(v) for v in out.values()] == [7, 7]
    assert calls[:2] == ["a", "b"] and calls.count("a") == calls.count("b")


def test_cli_has_bench():
    from foleyflow.benchmarks.cli import build_parser

    args = build_parser().parse_args(["--quick", "--package", str(exported_tiny()), "--json", "x.json",
                                      "--only", "velocity,e2e"])
    cfg = bench.config_from_args(args)
    assert cfg.sections == ("velocity", "e2e") and cfg.e2e_seconds == 3.0 and isinstance(cfg.package, Path)


def test_tuning_options_reach_the_session():
    import onnxruntime as ort

    from foleyflow.runtime.providers import Tuning, session_options

    so = session_options(1, Tuning(opt_level="basic", spinning=False))
    assert so.intra_op_num_threads == 1
    assert so.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert so.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    default = session_options()
    assert default.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert default.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    with pytest.raises(Exception, match="allow_spinning"):  # None: onnxruntime's own default, not set
        session_options(2, Tuning(spinning=None)).get_session_config_entry("session.intra_op.allow_spinning")
    with pytest.raises(ValueError, match="optimisation level"):
        Tuning(opt_level="max")
