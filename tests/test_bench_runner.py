"""benchmarks.runner: the sections run in the report's order, each given what the earlier ones made,
and their figures gathered for the report and the JSON."""

import importlib
import json
from pathlib import Path

import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks import (
    decode,
    e2e,
    flops,
    rss,
    runner,
    samplers,
    seams,
    snr,
    steps,
    tuning,
    variants,
    velocity,
)
from foleyflow.benchmarks.config import SECTIONS, BenchConfig


@pytest.fixture
def fakes(monkeypatch):
    """Every section replaced by a fake that records what it was given."""
    got = {"workdirs": set()}
    clips, video = ["clip-a", "clip-b"], ("e2e.mp4", 42)

    def fake(name, result=None):
        def run(*args):
            got[name] = args
            got["workdirs"].update(str(a) for a in args if "foleyflow-bench-" in str(a))
            return dict(result or {"figure": name})
        return run

    monkeypatch.setattr(runner, "load_torch_model", lambda *a: got.setdefault("torch", "torch-model"))
    monkeypatch.setattr(velocity, "bench_velocity", fake("velocity", {"onnxruntime": {"median_ms": 1.0}}))
    monkeypatch.setattr(flops, "bench_flops", fake("flops"))
    monkeypatch.setattr(e2e, "bench_e2e", fake("e2e", {"figure": "e2e", "_video": video}))
    monkeypatch.setattr(rss, "bench_rss", fake("rss"))
    monkeypatch.setattr(decode, "bench_decode", fake("decode"))
    monkeypatch.setattr(steps, "eval_clips", lambda spec, n: got.setdefault("rendered", []).append(n) or clips)
    monkeypatch.setattr(steps, "bench_steps", fake("steps"))
    monkeypatch.setattr(samplers, "bench_samplers", fake("samplers"))
    monkeypatch.setattr(seams, "bench_seams", fake("seams"))
    monkeypatch.setattr(snr, "bench_snr", fake("snr"))
    monkeypatch.setattr(tuning, "bench_tuning", fake("tuning"))
    monkeypatch.setattr(variants, "bench_variants", fake("variants"))
    return got, clips, video


def test_sections_run_in_order_and_share_what_they_make(fakes):
    got, clips, video = fakes
    order = []
    result = runner.run_bench(BenchConfig.quick(exported_tiny(), eval_clips=3), on_section=lambda n, r: order.append(n))
    assert order == list(SECTIONS) and list(result["section_seconds"]) == list(SECTIONS)
    assert got["flops"][1] is result["velocity"]  # flops divides by the velocity section's step time
    assert result["e2e"] == {"figure": "e2e"}  # the clip is passed on, not written to the JSON
    assert got["tuning"][3] == video and got["variants"][3] == video
    assert got["rendered"] == [3] and got["steps"][2] is clips and got["variants"][4] is clips  # rendered once
    assert got["samplers"][2] is clips
    assert got["velocity"][1] == got["snr"][1] == "torch-model"
    assert result["model"]["name"] == "tiny" and result["machine"]["loadavg_end"] is not None
    json.dumps(result)  # --json can write it
    (workdir,) = got["workdirs"]
    assert not Path(workdir).exists()  # a workdir of its own is removed afterwards


def test_only_flops_brings_the_velocity_it_divides_by_and_no_torch(fakes):
    got, _, _ = fakes
    result = runner.run_bench(BenchConfig.quick(exported_tiny(), sections=("flops", "decode")))
    assert [s for s in SECTIONS if s in result] == ["velocity", "flops", "decode"]
    assert "torch" not in got and got["velocity"][1] is None  # no section with a PyTorch column
    assert "rendered" not in got


def test_a_workdir_given_is_kept(fakes, tmp_path):
    runner.run_bench(BenchConfig.quick(exported_tiny(), sections=("decode",), workdir=tmp_path / "keep"))
    assert (tmp_path / "keep").is_dir()


def test_each_section_is_a_module_of_its_name():
    for name in SECTIONS:
        module = importlib.import_module(f"foleyflow.benchmarks.{name}")
        assert callable(getattr(module, f"bench_{name}")), name
