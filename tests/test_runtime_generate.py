import numpy as np
import pytest
from model_fixtures import DEFAULT_MODEL

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.session import FoleyModel


@pytest.fixture(scope="module")
def model() -> FoleyModel:
    return FoleyModel.load(DEFAULT_MODEL, provider="cpu")


def _frames(n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("n_samples", [1, 1919, 1920, 48000, 200_001, 480_000])
def test_output_length_is_exact(model, n_samples):
    frames = _frames(frames_needed(model.spec, n_samples))
    chunks = list(generate_audio(model, frames, n_samples, steps=2))
    y = np.concatenate(chunks)
    assert len(y) == n_samples and y.dtype == np.float32
    assert np.all(np.abs(y) <= 1.0) and np.isfinite(y).all()


def test_frames_needed_matches_token_rate(model):
    spec = model.spec
    assert frames_needed(spec, OUTPUT_RATE * 4) == 4 * spec.video_fps
    assert frames_needed(spec, 1) == 1


def test_same_seed_gives_identical_audio_and_streams_in_segments(model):
    n = OUTPUT_RATE * 9
    frames = _frames(frames_needed(model.spec, n))
    a = list(generate_audio(model, iter(frames), n, seed=11, steps=3))
    b = list(generate_audio(model, (f for f in frames), n, seed=11, steps=3))
    assert len(a) > 1  # one chunk per segment, not one array at the end
    assert np.array_equal(np.concatenate(a), np.concatenate(b))
    c = np.concatenate(list(generate_audio(model, iter(frames), n, seed=12, steps=3)))
    assert not np.allclose(np.concatenate(a), c)


def test_clip_edges_are_faded(model):
    n = OUTPUT_RATE * 2
    y = np.concatenate(list(generate_audio(model, _frames(frames_needed(model.spec, n)), n, steps=2)))
    assert abs(y[0]) < 1e-3 and abs(y[-1]) < 1e-3


def test_zero_samples_yields_nothing(model):
    assert list(generate_audio(model, _frames(1), 0)) == []
