"""benchmarks.decode: the reader is timed over the model's frames of each size, decoding each source frame once."""

import math

import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.decode import bench_decode
from foleyflow.benchmarks.media import MEDIA_FPS
from foleyflow.runtime.spec import read_spec
from foleyflow.world.world import frame_count


def test_each_size_decodes_every_source_frame_it_needs_once(tmp_path):
    spec = read_spec(exported_tiny())
    d = bench_decode(spec, BenchConfig.quick(exported_tiny()), tmp_path)
    assert (d["clip_seconds"], d["fps"]) == (2.0, "24000/1001") and list(d["rows"]) == ["64x64", "128x72"]
    n_model = int(2.0 * spec.video_fps)
    last = (n_model - 1) / spec.video_fps  # the last model frame's time
    needed = math.floor(last * MEDIA_FPS) + 1  # source frames up to it
    for row in d["rows"].values():
        assert row["model_frames"] == n_model == 50
        assert needed <= row["decoded_frames"] <= frame_count(2.0, MEDIA_FPS)  # no frame decoded twice
        assert row["ms_per_source_frame"] == pytest.approx(1e3 * row["seconds"] / row["decoded_frames"])
        assert row["seconds_per_minute"] == pytest.approx(row["seconds"] * 30)
    assert list(tmp_path.iterdir()) == []  # the media removed once read
