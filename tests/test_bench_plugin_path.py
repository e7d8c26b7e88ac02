"""benchmarks.plugin_path: the timed plugin path makes the whole take, calls each graph as often
as the sampler must, and splits its wall time into parts that add up to it."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from tiny_training import exported_tiny

from foleyflow.benchmarks.media import long_video
from foleyflow.benchmarks.plugin_path import TimedModel, run_plugin_path
from foleyflow.runtime.generate import frames_needed
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.stream import plan_segments


@dataclass
class CountingModel:
    """The test's own count of every graph call, under the bench's TimedModel."""

    model: Any
    calls: Counter = field(default_factory=Counter)

    @property
    def spec(self):
        return self.model.spec

    def __getattr__(self, name):
        return getattr(self.model, name)

    def encode_video(self, *a):
        self.calls["encode_video"] += 1
        return self.model.encode_video(*a)

    def velocity(self, *a):
        self.calls["velocity"] += 1
        return self.model.velocity(*a)

    def vocode(self, *a):
        self.calls["vocode"] += 1
        return self.model.vocode(*a)


def test_the_path_costs_segments_x_steps_velocity_calls(tmp_path):
    model = CountingModel(FoleyModel.load(exported_tiny(), provider="cpu", threads=2))
    spec = model.spec
    n = long_video(tmp_path / "v.mp4", 6.0, 32, loop_seconds=2.0)
    res = run_plugin_path(model, tmp_path / "v.mp4", n, tmp_path / "wav", steps=3)
    segs = plan_segments(frames_needed(spec, round(res["audio_seconds"] * 48000)), spec.segment_tokens,
                         spec.context_tokens, spec.lookahead_tokens)
    assert len(segs) == 2 and spec.solver == "euler"  # the clip spans a join
    assert res["calls"] == dict(model.calls) == {"encode_video": 2, "velocity": 2 * 3, "vocode": 2}
    info = sf.info(res["wav"])
    assert info.samplerate == 48000 and info.frames == round(res["audio_seconds"] * 48000) == 288288  # 144 frames
    parts = res["breakdown_seconds"]
    assert list(parts) == ["decode", "encode_video", "velocity", "vocode", "sampler_resample_etc", "write_probe_etc"]
    assert sum(parts.values()) == pytest.approx(res["wall_seconds"], rel=1e-9, abs=1e-12)
    assert res["first_segment_seconds"] <= res["wall_seconds"]
    assert res["x_real_time"] == pytest.approx(res["audio_seconds"] / res["wall_seconds"])


def test_timed_model_delegates_what_it_does_not_time():
    inner = CountingModel(FoleyModel.load(exported_tiny(), provider="cpu", threads=1))
    timed = TimedModel(inner)
    assert timed.spec is inner.spec and timed.provider == inner.provider and timed.checksum == inner.checksum
    mel = np.zeros((1, 8, inner.spec.n_mels), np.float32)
    assert np.array_equal(timed.vocode(mel), inner.model.vocode(mel))
    assert timed.calls == {"encode_video": 0, "velocity": 0, "vocode": 1} and inner.calls["vocode"] == 1
