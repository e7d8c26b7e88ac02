"""benchmarks.e2e: the end-to-end section runs the model's default settings over a clip it makes,
and its segment count is the one the sampler's calls show."""

import pytest
import soundfile as sf
from tiny_training import exported_tiny

from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.e2e import bench_e2e
from foleyflow.benchmarks.media import MEDIA_FPS
from foleyflow.benchmarks.sampling import nfe
from foleyflow.runtime.generate import frames_needed
from foleyflow.runtime.spec import read_spec
from foleyflow.runtime.stream import plan_segments
from foleyflow.world.world import frame_count


@pytest.mark.slow  # trains and exports the tiny model when it runs first
def test_e2e_calls_the_graphs_segments_x_steps_times_and_writes_the_take(tmp_path):
    spec = read_spec(exported_tiny())
    cfg = BenchConfig.quick(exported_tiny(), e2e_seconds=6.0)
    e = bench_e2e(cfg, tmp_path)
    path, n_frames = e.pop("_video")
    assert path.is_file() and n_frames == frame_count(6.0, MEDIA_FPS)
    n_samples = round(n_frames / MEDIA_FPS * 48000)
    assert round(e["audio_seconds"] * 48000) == n_samples
    segs = len(plan_segments(frames_needed(spec, n_samples), spec.segment_tokens, spec.context_tokens,
                             spec.lookahead_tokens))
    assert e["segments"] == segs == 2
    assert (e["steps"], e["solver"], e["guidance"]) == (spec.default_steps, spec.solver, spec.guidance)
    assert e["calls"] == {"encode_video": segs, "velocity": segs * nfe(spec.solver, spec.default_steps), "vocode": segs}
    assert sf.info(e["wav"]).frames == n_samples
    assert e["provider"] == "CPUExecutionProvider" and e["variant"] == "fp32"
    assert e["video"] == f"64x64 H.264 at {MEDIA_FPS}"

    # the same clip again at other steps: the velocity calls follow the steps, the rest do not move
    again = bench_e2e(cfg, tmp_path, video=(path, n_frames), steps=1)
    assert again["_video"] == (path, n_frames) and again["steps"] == 1
    assert again["calls"] == {"encode_video": segs, "velocity": segs * 1, "vocode": segs}
