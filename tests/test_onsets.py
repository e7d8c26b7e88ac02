"""The onset detector and resampler of foleyflow.export.eval.onsets, on constructed signals."""

from __future__ import annotations

import numpy as np
import pytest

from foleyflow.export.eval.metrics import onset_scores
from foleyflow.export.eval.onsets import (
    detect_onsets,
    detect_onsets_with_strength,
    nms,
    onset_strength,
    resample,
)

SR = 16000


def damped_impact(
    rng: np.random.Generator, n: int, *, decay_s: tuple[float, float], sr: int = SR
) -> np.ndarray:
    """A modal impact: 3-6 damped sinusoids, random modes and phases, peak 1."""
    t = np.arange(n) / sr
    base = rng.uniform(200.0, 2500.0)
    y = np.zeros(n)
    for i in range(int(rng.integers(3, 7))):
        f = base * (rng.uniform(1.0, 4.5) if i else 1.0)
        y += (
            rng.uniform(0.2, 1.0)
            * np.exp(-t / rng.uniform(*decay_s))
            * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        )
    return y / np.abs(y).max()


def impact_scene(
    seed: int,
    n_events: int = 8,
    dur: float = 4.0,
    *,
    decay_s: tuple[float, float] = (0.02, 0.12),
    min_gap: float = 0.1,
    noise: float = 0.0,
    attack_s: float = 0.0,
    sr: int = SR,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_events`` impacts at random times (at least ``min_gap`` apart), amplitudes 0.3-1."""
    rng = np.random.default_rng(seed)
    while True:
        times = np.sort(rng.uniform(0.05, dur - 0.2, n_events))
        if np.all(np.diff(times) >= min_gap):
            break
    x = np.zeros(int(dur * sr))
    for t0 in times:
        start = int(round(t0 * sr))
        hit = rng.uniform(0.3, 1.0) * damped_impact(rng, x.size - start, decay_s=decay_s, sr=sr)
        if attack_s > 0:
            na = int(attack_s * sr)
            hit[:na] *= np.linspace(0.0, 1.0, na)
        x[start:] += hit
    return x + noise * rng.standard_normal(x.size), times


def test_silence_gives_no_onsets() -> None:
    for audio in (np.zeros(4 * SR), np.zeros(0), np.full(SR, 1e-9)):
        times, strengths = detect_onsets_with_strength(audio, SR)
        assert times.size == 0 and strengths.size == 0
    assert not onset_strength(np.zeros(SR), SR).any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eight_damped_impacts_found_within_20ms(seed: int) -> None:
    x, true = impact_scene(seed)
    times, strengths = detect_onsets_with_strength(x, SR)
    assert np.all(np.diff(times) > 0)
    assert np.all((strengths > 0) & (strengths <= 1))
    s = onset_scores(times, strengths, true, tol=0.02)
    assert s.f1 >= 0.95, (times, true)
    assert s.recall == 1.0


def test_gain_invariant() -> None:
    x, _ = impact_scene(3, noise=0.003)
    ref_t, ref_s = detect_onsets_with_strength(x, SR)
    assert ref_t.size >= 7
    for gain in (1e-3, 0.1, 30.0):
        t, s = detect_onsets_with_strength(gain * x, SR)
        np.testing.assert_allclose(t, ref_t, atol=1e-9)
        np.testing.assert_allclose(s, ref_s, atol=1e-9)


def test_ringing_metal_impact_gives_one_onset() -> None:
    """Slow decays (0.8-2 s) and a beating pair of modes 3 Hz apart: one onset, at the hit."""
    t = np.arange(4 * SR) / SR
    t0 = 0.5
    tt = np.clip(t - t0, 0.0, None)
    modes = [(523.0, 1.0, 2.0), (526.0, 0.9, 1.8), (1390.0, 0.6, 1.2), (2710.0, 0.4, 0.8), (4100.0, 0.3, 0.9)]
    x = sum(a * np.exp(-tt / tau) * np.sin(2 * np.pi * f * tt) for f, a, tau in modes) * (t >= t0)
    onsets = detect_onsets(x, SR)
    assert onsets.size == 1
    assert abs(onsets[0] - t0) < 0.02


def test_overlapping_metal_impacts() -> None:
    x, true = impact_scene(4, decay_s=(0.3, 1.5))
    s = onset_scores(*detect_onsets_with_strength(x, SR), true, tol=0.05)
    assert s.precision == 1.0 and s.recall >= 0.85


@pytest.mark.parametrize("level", [1e-4, 1e-2, 0.3])
def test_noise_only_gives_few_onsets(level: float) -> None:
    rng = np.random.default_rng(7)
    assert detect_onsets(level * rng.standard_normal(4 * SR), SR).size <= 1


def test_impacts_in_noise_and_smeared_attacks() -> None:
    """Generated audio has a noise floor and attacks smeared over 15 ms: still found, on time."""
    x, true = impact_scene(5, noise=0.01, attack_s=0.015)
    s = onset_scores(*detect_onsets_with_strength(x, SR), true, tol=0.03)
    assert s.f1 >= 0.9


def test_dense_impacts_60ms_apart_stay_separate() -> None:
    x, true = impact_scene(6, n_events=16, min_gap=0.06)
    s = onset_scores(*detect_onsets_with_strength(x, SR), true, tol=0.02)
    assert s.f1 >= 0.9


def test_nms_keeps_strongest_within_window() -> None:
    times, strengths = nms(np.array([1.0, 1.03, 1.2, 1.26]), np.array([0.4, 0.9, 0.5, 0.6]))
    np.testing.assert_allclose(times, [1.03, 1.2, 1.26])
    np.testing.assert_allclose(strengths, [0.9, 0.5, 0.6])


def test_stereo_is_averaged() -> None:
    x, _ = impact_scene(8)
    np.testing.assert_allclose(detect_onsets(np.stack([x, x]), SR), detect_onsets(x, SR))


def test_resample_sine_and_antialiasing() -> None:
    for sr_in in (48000, 44100, 22050):
        t = np.arange(sr_in) / sr_in
        y = resample(np.sin(2 * np.pi * 1000.0 * t), sr_in, SR)
        assert y.size == SR
        ty = np.arange(SR) / SR
        np.testing.assert_allclose(y[400:-400], np.sin(2 * np.pi * 1000.0 * ty)[400:-400], atol=2e-3)
    t = np.arange(48000) / 48000
    alias = resample(np.sin(2 * np.pi * 10000.0 * t), 48000, SR)  # would fold to 6 kHz
    assert np.sqrt(np.mean(alias[400:-400] ** 2)) < 1e-3
    up = resample(np.sin(2 * np.pi * 440.0 * np.arange(SR) / SR), SR, 48000)
    np.testing.assert_allclose(
        up[1200:-1200], np.sin(2 * np.pi * 440.0 * np.arange(48000) / 48000)[1200:-1200], atol=2e-3
    )


def test_detection_at_48k_matches_16k() -> None:
    x16, true = impact_scene(9, dur=2.0, n_events=4, sr=16000)
    x48, _ = impact_scene(9, dur=2.0, n_events=4, sr=48000)
    t16, t48 = detect_onsets(x16, 16000), detect_onsets(x48, 48000)
    assert t16.size == t48.size == 4
    np.testing.assert_allclose(t48, t16, atol=0.003)
    np.testing.assert_allclose(t48, true, atol=0.02)
