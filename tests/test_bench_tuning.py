"""benchmarks.tuning: every option compared is the one its label names, measured for both graphs,
and the end-to-end row runs with spinning on."""

import onnxruntime as ort
import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks import tuning
from foleyflow.benchmarks.config import BenchConfig
from foleyflow.runtime.providers import Tuning, session_options
from foleyflow.runtime.session import FoleyModel


def test_each_label_names_the_options_it_sets():
    assert tuning.compared_options(3) == {
        "threads=3 (default)": (3, Tuning()),
        "threads=3, spinning": (3, Tuning(spinning=True)),
        "threads=1": (1, Tuning()),
        "threads=3, opt=basic": (3, Tuning(opt_level="basic")),
        "threads=3, opt=extended": (3, Tuning(opt_level="extended")),
    }


def test_tuning_options_reach_the_session():
    so = session_options(1, Tuning(opt_level="basic", spinning=False))
    assert so.intra_op_num_threads == 1
    assert so.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert so.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    default = session_options()
    assert default.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert default.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert session_options(2, Tuning(spinning=True)).get_session_config_entry("session.intra_op.allow_spinning") == "1"
    with pytest.raises(Exception, match="allow_spinning"):  # None: onnxruntime's own default, not set
        session_options(2, Tuning(spinning=None)).get_session_config_entry("session.intra_op.allow_spinning")
    with pytest.raises(ValueError, match="optimisation level"):
        Tuning(opt_level="max")


def test_both_graphs_are_timed_per_option_and_end_to_end_with_spinning(tmp_path, monkeypatch):
    seen = []

    def fake_e2e(cfg, workdir, video=None, tuning=None, **kw):
        seen.append((video, tuning))
        return {"wall_seconds": 2.0, "x_real_time": 1.5}

    monkeypatch.setattr(tuning, "bench_e2e", fake_e2e)
    model = FoleyModel.load(exported_tiny(), provider="cpu", threads=2)
    cfg = BenchConfig.quick(exported_tiny(), repeats=1)
    t = tuning.bench_tuning(model, cfg, tmp_path, e2e_video=(tmp_path / "v.mp4", 10))
    labels = list(tuning.compared_options(2))
    for graph in ("velocity", "vocoder"):
        assert list(t[graph]) == labels
        assert all(v["min_ms"] <= v["median_ms"] for v in t[graph].values())
    assert t["note"] == "100 tokens per window; vocoder on 400 mel frames"
    assert seen == [((tmp_path / "v.mp4", 10), Tuning(spinning=True))]
    assert t["e2e_spinning"] == {"wall_seconds": 2.0, "x_real_time": 1.5}
    seen.clear()
    assert "e2e_spinning" not in tuning.bench_tuning(model, cfg, tmp_path) and seen == []  # no e2e clip: no row
