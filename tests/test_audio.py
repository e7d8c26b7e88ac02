import numpy as np
import pytest

from foleyflow.runtime.audio import Upsampler, crossfade, edge_fade_gain, fade_curves, soft_limit


def _upsample(x: np.ndarray, chunks: list[int]) -> np.ndarray:
    u = Upsampler(3)
    out, i = [], 0
    for k in chunks:
        out.append(u.process(x[i : i + k]))
        i += k
    out.append(u.process(x[i:]))
    out.append(u.flush())
    return np.concatenate(out)


def test_upsampler_output_independent_of_chunking_and_exact_length():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4001)
    whole = _upsample(x, [])
    pieces = _upsample(x, [1, 7, 500, 3, 1000])
    assert len(whole) == 3 * len(x)
    assert np.array_equal(whole, pieces)


def test_upsampler_reproduces_a_sine_at_the_new_rate():
    t = np.arange(16000) / 16000
    y = _upsample(np.sin(2 * np.pi * 1000 * t), [])
    t3 = np.arange(48000) / 48000
    assert np.abs(y[300:-300] - np.sin(2 * np.pi * 1000 * t3[300:-300])).max() < 1e-3


def test_upsampler_does_not_image():
    # a 7 kHz tone at 16 kHz must not leave an image at 16 - 7 = 9 kHz after upsampling
    t = np.arange(16000) / 16000
    y = _upsample(np.sin(2 * np.pi * 7000 * t), [])
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / 48000)
    main = spec[np.argmin(abs(f - 7000))]
    image = spec[np.argmin(abs(f - 9000))]
    assert image < main * 1e-3


def test_fades_sum_to_one_and_crossfade_of_equal_signals_is_transparent():
    out_c, in_c = fade_curves(64)
    assert np.allclose(out_c + in_c, 1.0)
    a = np.linspace(-1, 1, 64).astype(np.float32)
    assert np.allclose(crossfade(a, a), a, atol=1e-6)


def test_soft_limit_is_identity_below_threshold_and_bounded():
    x = np.array([0.0, 0.5, -0.89, 0.95, 3.0, -10.0], np.float32)
    y = soft_limit(x)
    assert np.array_equal(y[:3], x[:3])
    assert np.all(np.abs(y) <= 1.0) and y[4] > y[3] > 0.9


@pytest.mark.parametrize("start,n", [(0, 100), (50, 100), (900, 100)])
def test_edge_fade_gain_is_consistent_across_chunks(start, n):
    whole = edge_fade_gain(1000, 0, 1000, 240)
    assert np.array_equal(edge_fade_gain(1000, start, n, 240), whole[start : start + n])
    assert whole[0] < 0.01 and whole[-1] < 0.01 and whole[500] == 1.0


def test_a_48_khz_model_is_passed_through_unfiltered_and_undelayed():
    x = np.random.default_rng(2).standard_normal(3001).astype(np.float32)
    u = Upsampler(1)
    out = np.concatenate([u.process(x[:1]), u.process(x[1:1000]), u.process(x[1000:]), u.flush()])
    np.testing.assert_array_equal(out, x)
    assert u.flush().size == 0
    with pytest.raises(ValueError, match="positive"):
        Upsampler(0)
