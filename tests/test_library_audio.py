"""Recordings read as the world and the prompts need them: mono, one rate, band-limited, onset found."""

import numpy as np
import pytest
import soundfile as sf

from foleyflow.library import audio
from foleyflow.library.errors import LibraryError


def peak_hz(x, rate):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spec))]


def test_resample_keeps_a_tone_and_the_length():
    t = np.arange(44100) / 44100
    y = audio.resample(np.sin(2 * np.pi * 1000 * t), 48000)
    assert len(y) == 48000 and abs(peak_hz(y, 48000) - 1000) < 2
    assert np.sqrt(np.mean(y[4800:-4800] ** 2)) == pytest.approx(np.sqrt(0.5), rel=0.01)


def test_resample_down_removes_what_the_new_rate_cannot_hold():
    t = np.arange(48000) / 48000
    y = audio.resample(np.sin(2 * np.pi * 10000 * t), 16000)  # 10 kHz is above 8 kHz Nyquist: gone, no alias
    assert np.sqrt(np.mean(y[1600:-1600] ** 2)) < 0.01


def test_read_mono_averages_channels_and_resamples(tmp_path):
    t = np.arange(22050) / 44100
    st = np.stack([np.sin(2 * np.pi * 500 * t), np.sin(2 * np.pi * 500 * t)], axis=1) * 0.5
    sf.write(tmp_path / "a.wav", st, 44100)
    x = audio.read_mono(tmp_path / "a.wav", 48000)
    assert x.dtype == np.float32 and len(x) == 24000 and abs(peak_hz(x, 48000) - 500) < 3


def test_read_mono_cuts_long_recordings(tmp_path):
    sf.write(tmp_path / "long.wav", np.zeros(48000 * 3), 48000)
    assert len(audio.read_mono(tmp_path / "long.wav", 48000, max_seconds=1.0)) == 48000


@pytest.mark.parametrize("content, why", [(b"RIFF0000WAVEjunk", "cannot read as audio"), (None, "cannot read")])
def test_read_mono_errors_name_the_file(tmp_path, content, why):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LibraryError, match=why) as err:
        audio.read_mono(path, 48000)
    assert err.value.path == path


def test_onset_index_finds_the_attack():
    x = np.zeros(48000, dtype=np.float32)
    x[4800:] = np.exp(-np.arange(43200) / 2000.0) * np.random.default_rng(0).standard_normal(43200)
    i = audio.onset_index(x, 48000)
    assert 4800 - 96 - 5 <= i <= 4800 - 96 + 5  # 2 ms pre-roll
    assert audio.onset_index(np.zeros(10), 48000) == 0


def test_band_share_db():
    rate = 48000
    t = np.arange(rate) / rate
    low = np.sin(2 * np.pi * 1000 * t)
    assert audio.band_share_db(low, rate) < -60
    both = low + np.sin(2 * np.pi * 12000 * t)
    assert audio.band_share_db(both, rate) == pytest.approx(-3.01, abs=0.1)
    assert audio.band_share_db(np.zeros(100), rate) == float("-inf")
