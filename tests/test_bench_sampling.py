"""benchmarks.sampling: NFE is what the runtime's solvers call, segments are the sampler's plan,
and a whole take has exactly its length and depends on its seed alone."""

import numpy as np
import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks.sampling import generate_clip, nfe, segment_count
from foleyflow.export.variants import synthetic_frames
from foleyflow.runtime.generate import frames_needed
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.solvers import GRIDS, SOLVERS
from foleyflow.runtime.spec import read_spec
from foleyflow.runtime.stream import plan_segments


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("steps", [1, 4])
def test_nfe_is_what_the_solver_calls(solver, steps):
    calls = []

    def velocity(x, t):
        calls.append(t)
        return -x

    SOLVERS[solver](velocity, np.ones((1, 2, 3), np.float32), GRIDS["uniform"](steps))
    assert len(calls) == nfe(solver, steps)


def test_segment_count_is_the_samplers_plan():
    spec = read_spec(exported_tiny())
    for seconds, expected in ((1.0, 1), (4.0, 1), (6.0, 2), (60.0, 27)):
        n = round(seconds * 48000)
        plan = plan_segments(frames_needed(spec, n), spec.segment_tokens, spec.context_tokens, spec.lookahead_tokens)
        assert segment_count(spec, n) == len(plan) == expected, seconds


def test_a_take_has_its_exact_length_and_follows_its_seed():
    model = FoleyModel.load(exported_tiny(), provider="cpu", threads=2)
    frames = synthetic_frames(model.spec, 40)
    a, b, c = (generate_clip(model, frames, 1.01, seed=s, steps=2) for s in (0, 0, 1))
    assert a.shape == (round(1.01 * 48000),) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
