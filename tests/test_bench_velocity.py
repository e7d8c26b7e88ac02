"""benchmarks.velocity: the ratio is PyTorch's median over ONNX Runtime's, on inputs both sides agree on."""

import numpy as np
import pytest
from tiny_training import exported_tiny, trained_tiny

from foleyflow.benchmarks.backends import graph_feeds, load_torch_model
from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.velocity import bench_velocity
from foleyflow.runtime.session import FoleyModel


@pytest.fixture(scope="module")
def model():
    return FoleyModel.load(exported_tiny(), provider="cpu", threads=2)


def test_speedup_is_pytorch_over_onnxruntime_at_both_thread_counts(model):
    torch_model = load_torch_model(trained_tiny(), exported_tiny(), 2)
    v = bench_velocity(model, torch_model, BenchConfig.quick(exported_tiny()))
    feeds = graph_feeds(model.spec)["velocity"]
    assert (v["batch"], v["tokens"], v["threads"]) == (feeds["x"].shape[0], feeds["x"].shape[1], 2) == (2, 100, 2)
    for label in ("", "_1thread"):
        ort_ms, pt_ms = v[f"onnxruntime{label}"], v[f"pytorch{label}"]
        assert v[f"speedup{label}"] == pt_ms["median_ms"] / ort_ms["median_ms"]
        assert ort_ms["min_ms"] <= ort_ms["median_ms"] and pt_ms["min_ms"] <= pt_ms["median_ms"]
    # the timed calls computed the same thing on both sides: the same model, exported
    again = float(np.abs(model.velocity(**feeds) - torch_model.velocity(**feeds)).max())
    assert v["max_abs_diff"] < 1e-4 and again < 1e-4


def test_without_checkpoints_only_onnxruntime_is_timed(model):
    v = bench_velocity(model, None, BenchConfig.quick(exported_tiny(), threads=1))
    assert v["pytorch"] is None and v["speedup"] is None and "max_abs_diff" not in v
    assert v["note"] == "no --checkpoints: PyTorch not measured"
    assert not any(k.endswith("_1thread") for k in v)  # one thread is already the one-thread row
