"""benchmarks.steps: each row costs clips x segments x NFE velocity calls, and the chance row
scores each clip on another clip's ground-truth audio."""

from collections import Counter

import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.sampling import nfe, segment_count
from foleyflow.benchmarks.steps import ROW_METRICS, bench_steps, eval_clips
from foleyflow.export.eval.metrics import evaluate_clips
from foleyflow.runtime.session import FoleyModel


class CountingModel:
    def __init__(self, model):
        self.model, self.spec, self.calls = model, model.spec, Counter()

    def encode_video(self, frames):
        self.calls["encode_video"] += 1
        return self.model.encode_video(frames)

    def velocity(self, *a):
        self.calls["velocity"] += 1
        return self.model.velocity(*a)

    def vocode(self, mel):
        self.calls["vocode"] += 1
        return self.model.vocode(mel)


@pytest.fixture(scope="module")
def model():
    return FoleyModel.load(exported_tiny(), provider="cpu", threads=2)


@pytest.fixture(scope="module")
def clips(model):
    return eval_clips(model.spec, 2)


@pytest.mark.parametrize("config", [("euler", "uniform", 2), ("heun", "shifted", 2)])
def test_a_row_costs_clips_x_segments_x_nfe_velocity_calls(model, clips, config):
    counting = CountingModel(model)
    s = bench_steps(counting, BenchConfig.quick(exported_tiny(), step_configs=(config,)), clips)
    segs = segment_count(model.spec, round(4.0 * 48000))
    (row,) = s["rows"]
    assert (row["solver"], row["grid"], row["steps"], row["nfe"]) == (*config, nfe(config[0], config[2]))
    n = len(clips)
    assert counting.calls == {"encode_video": n * segs, "velocity": n * segs * row["nfe"], "vocode": n * segs}
    assert all(0.0 <= row[k] <= 1.0 for k in ("f1", "f1_050", "precision", "recall", "ap"))
    assert (s["clips"], s["clip_seconds"]) == (n, 4.0) == (2, 4.0)
    assert s["default"] == {"solver": model.spec.solver, "steps": model.spec.default_steps, "grid": "uniform"}


def test_the_chance_row_scores_each_clip_on_the_other_clips_audio(model, clips):
    s = bench_steps(model, BenchConfig.quick(exported_tiny(), step_configs=()), clips)
    assert s["rows"] == []
    sr = clips[0].sample_rate
    truth, refs = [c.onsets for c in clips], [c.audio for c in clips]
    swapped = evaluate_clips([refs[1], refs[0]], truth, refs, sr, ref_sample_rate=sr)  # two clips: the one derangement
    assert s["chance"] == pytest.approx({k: swapped[k] for k in ROW_METRICS})
    own = evaluate_clips(refs, truth, refs, sr, ref_sample_rate=sr)
    assert own["f1"] > s["chance"]["f1"]  # each clip's own audio is no chance
