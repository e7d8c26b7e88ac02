"""benchmarks.snr: a pipeline against itself is exact, against a perturbed copy finite and lower the
more it differs, and the exported PyTorch twin meets the 30 dB target."""

import math

import pytest
from tiny_training import exported_tiny, trained_tiny

from foleyflow.benchmarks.backends import load_torch_model
from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.snr import bench_snr
from foleyflow.runtime.session import FoleyModel


class ScaledVelocity:
    """The same model with its velocity scaled by 1 + eps: a copy that differs by a known amount."""

    def __init__(self, model, eps):
        self.model, self.spec, self.eps = model, model.spec, eps

    def encode_video(self, frames):
        return self.model.encode_video(frames)

    def velocity(self, *a, **kw):
        return self.model.velocity(*a, **kw) * (1.0 + self.eps)

    def vocode(self, mel):
        return self.model.vocode(mel)


@pytest.fixture(scope="module")
def model():
    return FoleyModel.load(exported_tiny(), provider="cpu", threads=2)


@pytest.fixture(scope="module")
def cfg():
    return BenchConfig.quick(exported_tiny(), snr_seconds=2.0)


def test_a_pipeline_against_itself_is_exact(model, cfg):
    r = bench_snr(model, model, cfg)
    assert r["snr_db"] == math.inf
    assert r["graph_max_abs_diff"] == {"velocity": 0.0, "video_encoder": 0.0, "vocoder": 0.0}
    assert (r["seconds"], r["seed"], r["segments"], r["target_db"]) == (2.0, 3, 1, 30.0)


def test_a_perturbed_copy_is_finite_and_lower_the_more_it_differs(model, cfg):
    small = bench_snr(model, ScaledVelocity(model, 1e-3), cfg)
    large = bench_snr(model, ScaledVelocity(model, 1e-1), cfg)
    assert math.isfinite(small["snr_db"]) and math.isfinite(large["snr_db"])
    assert small["snr_db"] > large["snr_db"] + 20  # 100x the error: about 40 dB less
    assert small["graph_max_abs_diff"]["velocity"] > 0 and small["graph_max_abs_diff"]["vocoder"] == 0.0


def test_the_pytorch_twin_meets_the_target(model, cfg):
    r = bench_snr(model, load_torch_model(trained_tiny(), exported_tiny(), 1), cfg)
    assert r["snr_db"] >= r["target_db"] == 30.0
    assert max(r["graph_max_abs_diff"].values()) < 1e-4


def test_without_pytorch_nothing_is_compared(model, cfg):
    assert bench_snr(model, None, cfg) == {"snr_db": None, "note": "no --checkpoints: PyTorch not run"}
