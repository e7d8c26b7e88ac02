from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foleyflow.runtime.audio import OUTPUT_RATE
from foleyflow.runtime.timebase import frames_covering, frames_for_samples

NTSC = Fraction(24000, 1001)


@pytest.mark.parametrize(("seconds", "fps", "frames"), [
    (Fraction(4), Fraction(25), 100),
    (4, NTSC, 96),  # 95.9 frames: the 96th covers the end
    (Fraction(10 * 1001, 24000), NTSC, 10),  # exactly 10 frames
    (Fraction(10 * 1001, 24000) + Fraction(1, 10**12), NTSC, 11),  # exact input: no tolerance
    (1001 / 24000 * 10, NTSC, 10),  # 10.000000000000002 frames as floats: float noise adds none
    (0.0, Fraction(25), 0),
    (Fraction(1, 48000), Fraction(30000, 1001), 1),
])
def test_frames_covering(seconds, fps, frames):
    assert frames_covering(seconds, fps) == frames
    assert Fraction(frames) / fps >= Fraction(seconds) - Fraction(1, 10**9)  # they cover it
    assert frames == 0 or Fraction(frames - 1) / fps < Fraction(seconds)  # and one fewer would not


def test_frames_covering_refuses_what_is_not_a_duration_or_a_rate():
    with pytest.raises(TypeError):
        frames_covering(1.0, 29.97)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        frames_covering(-1, Fraction(25))
    with pytest.raises(ValueError):
        frames_covering(float("nan"), Fraction(25))
    with pytest.raises(ValueError):
        frames_covering(1, Fraction(0))
    with pytest.raises(TypeError):
        frames_for_samples(2.5, Fraction(25))  # type: ignore[arg-type]


def _tokens_needed(n_samples: int, sample_rate: int, samples_per_token: int) -> int:
    """runtime.generate.frames_needed's own arithmetic: model samples, then tokens (== model-rate frames)."""
    n_model = -(-n_samples // (OUTPUT_RATE // sample_rate))
    return -(-n_model // samples_per_token)


@settings(max_examples=300, derandomize=True)
@given(n_samples=st.integers(0, 10 * 60 * OUTPUT_RATE), sample_rate=st.sampled_from([8000, 16000, 24000, 48000]),
       samples_per_token=st.sampled_from([160, 256, 320, 441, 512, 640, 1001]))
def test_frames_for_samples_is_the_model_s_token_count(n_samples, sample_rate, samples_per_token):
    """At the model's video rate (== its token rate, sample_rate / samples_per_token, as ModelSpec checks)
    it gives the frames a take of n_samples at 48 kHz consumes, as runtime.generate counts them."""
    fps = Fraction(sample_rate, samples_per_token)
    assert frames_for_samples(n_samples, fps) == _tokens_needed(n_samples, sample_rate, samples_per_token)


def test_frames_for_samples_takes_numpy_integers():
    assert frames_for_samples(np.int64(48000 * 4), Fraction(25)) == 100
    assert frames_for_samples(1, Fraction(25)) == 1 and frames_for_samples(0, Fraction(25)) == 0
    assert frames_for_samples(44100, Fraction(30000, 1001), 44100) == 30  # 29.97 frames in a second
