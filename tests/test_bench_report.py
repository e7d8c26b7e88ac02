"""benchmarks.report: the printed lines docs/BENCHMARKS.md is built from, from given figures."""

import math

from foleyflow.benchmarks.config import SECTIONS
from foleyflow.benchmarks.report import SECTION_LINES, fmt, format_report, format_section

MS = {"median_ms": 7.06, "min_ms": 6.9}
RESULT = {
    "machine": {"cpu": "AMD EPYC", "cores": 2, "onnxruntime": "1.31.1", "torch": "2.13.0+cpu", "loadavg_start": [1.1]},
    "package": "models/default", "model": {"name": "foleyflow-default"},
    # in another order than the report's: the report follows SECTIONS
    "snr": {"seconds": 12.0, "snr_db": 113.24, "graph_max_abs_diff": {"velocity": 4.3e-06}},
    "velocity": {"batch": 2, "tokens": 100, "threads": 2, "onnxruntime": MS, "pytorch": {"median_ms": 8.91},
                 "speedup": 8.91 / 7.06, "onnxruntime_1thread": {"median_ms": 10.63}, "pytorch_1thread": None,
                 "speedup_1thread": None, "max_abs_diff": 4.3e-06},
    "e2e": {"audio_seconds": 60.06, "video": "256x256 H.264 at 24000/1001", "steps": 8, "solver": "euler",
            "guidance": 4.5, "segments": 27, "provider": "CPUExecutionProvider", "wall_seconds": 2.93,
            "x_real_time": 20.5, "first_segment_seconds": 0.14, "load_seconds": 0.05,
            "breakdown_seconds": {"decode": 0.8, "velocity": 1.66}},
    "rss": {"steps": 4, "rows": {"10": {"vmhwm_kb": 159 * 1024, "after_load_kb": 88 * 1024, "ru_maxrss_kb": 1819 * 1024,
                                        "wall_seconds": 0.31},
                                 "600": {"vmhwm_kb": None, "after_load_kb": 88 * 1024, "ru_maxrss_kb": 1819 * 1024,
                                         "wall_seconds": 15.2}},
            "longest": "600", "shortest": "10", "ratio_longest_to_shortest": 1.0213, "measure": "vmhwm_kb",
            "target": 1.25},
    "steps": {"clips": 10, "clip_seconds": 4.0, "guidance": 4.5, "default": {"solver": "euler", "steps": 8},
              "rows": [{"solver": "heun", "grid": "uniform", "steps": 5, "nfe": 9, "f1": 0.806, "f1_050": 0.8061,
                        "precision": 0.821, "recall": 0.827, "ap": 0.974, "energy_l1": math.nan,
                        "seconds_per_clip": 0.09}],
              "chance": {"f1": 0.278, "f1_050": 0.134, "ap": 0.606}},
    "seams": {"clips": 40, "clip_seconds": 16.0, "window_s": 0.25, "f1_near": 0.828, "f1_elsewhere": 0.829,
              "gap": 0.001, "ground_truth_f1_near": 1.0, "ground_truth_f1_elsewhere": math.nan,
              "counts": {"near": {"tp": 1, "fp": 0, "fn": 0}}},
    "variants": {"fp32": {"velocity_ms": 7.54, "vocoder_ms": 7.65, "f1": 0.818, "f1_050": 0.818, "f1_half_steps": 0.807,
                          "f1_050_half_steps": 0.79, "audio_snr_db_vs_fp32": math.inf, "graph_rel_err": {"velocity": 0.0}},
                 "int8": {"velocity_ms": 4.43, "vocoder_ms": 6.59, "f1": 0.808, "f1_050": 0.808, "f1_half_steps": 0.818,
                          "f1_050_half_steps": 0.801, "audio_snr_db_vs_fp32": 24.8, "graph_rel_err": {"velocity": 0.024},
                          "e2e_wall_seconds": 2.31, "e2e_x_real_time": 26.0, "e2e_wall_seconds_half_steps": 1.68,
                          "e2e_x_real_time_half_steps": 35.8}},
}


def test_fmt_marks_missing_and_non_finite_figures():
    assert [fmt(None), fmt(math.nan), fmt(math.inf), fmt(1.005, ".1f"), fmt(3), fmt("x")] == ["-", "nan", "inf", "1.0",
                                                                                            "3.00", "x"]


def test_every_section_has_its_lines_in_the_reports_order():
    assert tuple(SECTION_LINES) == SECTIONS
    assert format_section("not-a-section", {}) == []


def test_the_velocity_lines_print_the_ratio_and_a_missing_pytorch_column():
    assert format_section("velocity", RESULT["velocity"]) == [
        "velocity step (batch 2, 100 tokens), median of the calls, same threads on both sides:",
        "  2 threads: onnxruntime 7.06 ms | pytorch eager 8.91 ms | onnxruntime is 1.26x faster",
        "  1 thread: onnxruntime 10.63 ms | pytorch eager - ms | onnxruntime is -x faster",
        "  max |onnxruntime - pytorch| 4.3e-06"]


def test_the_e2e_rss_and_steps_lines():
    assert format_section("e2e", RESULT["e2e"]) == [
        "end to end (60 s of 256x256 H.264 at 24000/1001, 8 euler steps, guidance 4.5, 27 segments, CPUExecutionProvider):",
        "  2.93 s = 20.5x real time; first segment after 0.14 s; model load 0.05 s (not counted)",
        "  where: decode 0.80 s, velocity 1.66 s"]
    assert format_section("rss", RESULT["rss"]) == [
        "peak RSS, fresh process per clip (4 steps; memory does not depend on steps):",
        "     10 s: VmHWM 159 MiB (after model load 88 MiB), ru_maxrss 1819 MiB, 0.3 s",
        "    600 s: VmHWM 0 MiB (after model load 88 MiB), ru_maxrss 1819 MiB, 15.2 s",
        "  600 s / 10 s = 1.021 by vmhwm_kb (target <= 1.25)"]
    assert format_section("steps", RESULT["steps"])[2:] == [
        "  heun     uniform      5    9   0.806   0.806    0.821  0.827  0.974  nan    0.09",
        "  chance (another clip's ground truth): F1 0.278, F1@0.05 0.134, AP 0.606"]


def test_the_seams_snr_and_variants_lines():
    assert format_section("seams", RESULT["seams"])[1] == (
        "  generated F1 near 0.828 | elsewhere 0.829 | gap 0.001  (ground truth 1.000 | nan); "
        "counts {'near': {'tp': 1, 'fp': 0, 'fn': 0}}")
    assert format_section("snr", RESULT["snr"]) == [
        "PyTorch vs onnxruntime pipelines, same seed (12 s): SNR 113.2 dB (target >= 30); "
        "graph max |diff| {'velocity': 4.3e-06}"]
    assert format_section("snr", {"snr_db": None, "note": "no --checkpoints: PyTorch not run"}) == [
        "PyTorch vs onnxruntime pipelines, same seed (- s): SNR - dB (target >= 30)"]
    assert format_section("variants", RESULT["variants"])[1:] == [
        "  fp32     7.54    7.65   0.818  0.818 | 0.807  0.790  inf dB  -",
        "  int8     4.43    6.59   0.808  0.808 | 0.818  0.801  24.8 dB  2.31 s = 26.0x | 1.68 s = 35.8x"
        "  (relative error: velocity 0.024)"]


def test_the_report_is_the_header_then_each_present_section_in_order():
    text = format_report(RESULT)
    lines = text.split("\n")
    assert lines[0] == ("Foley-Flow bench: foleyflow-default (models/default) on AMD EPYC, 2 cores, onnxruntime 1.31.1, "
                        "torch 2.13.0+cpu; load average at start [1.1]")
    present = [s for s in SECTIONS if s in RESULT]
    assert present == ["velocity", "e2e", "rss", "steps", "seams", "snr", "variants"]
    expected = lines[:2]
    for name in present:
        expected += format_section(name, RESULT[name]) + [""]
    assert lines == expected
