"""The sync and quality metrics of foleyflow.export.eval.metrics, on constructed signals and onsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from foleyflow.export.eval.metrics import (
    METRIC_LABELS,
    average_precision,
    derangement,
    energy_l1,
    estimate_offset_ms,
    evaluate_clips,
    frechet_distance,
    match_onsets,
    merge_close_events,
    mismatched_baseline,
    mmaudio_onset_scores,
    onset_accuracy,
    onset_scores,
    rms_envelope,
)
from foleyflow.export.eval.onsets import detect_onsets_with_strength

SR = 16000
TRUE = np.array([0.3, 0.7, 1.1, 1.6, 2.0, 2.45, 3.0, 3.6])


def impact_scene(
    seed: int, n_events: int = 8, dur: float = 4.0, sr: int = SR
) -> tuple[np.ndarray, np.ndarray]:
    """``n_events`` damped-sinusoid impacts (3-6 modes, 20-120 ms decays) at random times >= 0.1 s apart."""
    rng = np.random.default_rng(seed)
    while True:
        times = np.sort(rng.uniform(0.05, dur - 0.2, n_events))
        if np.all(np.diff(times) >= 0.1):
            break
    x = np.zeros(int(dur * sr))
    for t0 in times:
        start = int(round(t0 * sr))
        t = np.arange(x.size - start) / sr
        base = rng.uniform(200.0, 2500.0)
        hit = np.zeros(t.size)
        for i in range(int(rng.integers(3, 7))):
            f = base * (rng.uniform(1.0, 4.5) if i else 1.0)
            hit += (
                rng.uniform(0.2, 1)
                * np.exp(-t / rng.uniform(0.02, 0.12))
                * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
            )
        x[start:] += rng.uniform(0.3, 1.0) * hit / np.abs(hit).max()
    return x, times


# ---- onset matching and scores -------------------------------------------------------------------


def test_perfect_prediction_scores_one() -> None:
    s = onset_scores(TRUE, np.linspace(1.0, 0.5, TRUE.size), TRUE)
    assert (s.precision, s.recall, s.f1, s.ap) == (1.0, 1.0, 1.0, 1.0)
    assert (s.n_pred, s.n_true, s.n_matched) == (8, 8, 8)


def test_shift_of_150ms_fails_at_100ms_but_passes_mmaudio_300ms() -> None:
    shifted = TRUE + 0.15
    s = onset_scores(shifted, None, TRUE, tol=0.1)
    assert s.f1 == 0.0 and s.precision == 0.0 and s.recall == 0.0
    assert mmaudio_onset_scores(shifted, None, TRUE).recall == 1.0


def test_half_missed_gives_recall_half_and_ap_blind() -> None:
    s = onset_scores(TRUE[::2], np.full(4, 0.8), TRUE)
    assert s.recall == 0.5 and s.precision == 1.0
    assert s.f1 == pytest.approx(2 / 3)
    assert s.ap == 1.0  # no false onsets: AP does not see the four misses


def test_ap_is_one_with_one_match_and_seven_misses() -> None:
    """CondFoleyGen's AP is blind to misses when there are no false onsets: the documented case."""
    s = onset_scores(np.array([TRUE[3] + 0.02]), np.array([0.7]), TRUE)
    assert s.ap == 1.0
    assert s.precision == 1.0 and s.recall == 0.125
    assert s.f1 == pytest.approx(2 / 9)


def test_ap_with_false_onsets_by_hand() -> None:
    # matched 0.9, false 0.8, matched 0.5 -> P = 1, 1/2, 2/3 at R = .5, .5, 1 -> AP = .5 + .5 * 2/3
    s = onset_scores(np.array([1.0, 1.5, 2.0]), np.array([0.9, 0.8, 0.5]), np.array([1.0, 2.0]))
    assert s.ap == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert s.precision == pytest.approx(2 / 3) and s.recall == 1.0
    # no onset matches: the misses enter at score 0 and AP is n_true / (n_true + n_pred), not 0
    s = onset_scores(np.array([5.0, 6.0]), np.array([0.9, 0.4]), np.array([1.0, 2.0, 3.0]))
    assert s.f1 == 0.0
    assert s.ap == pytest.approx(3 / 5)


def test_average_precision_matches_sklearn_conventions() -> None:
    assert average_precision(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(
        0.5
    )  # ties enter together
    assert average_precision(np.array([1, 1, 0]), np.array([0.9, 0.1, 0.5])) == pytest.approx(
        0.5 + 0.5 * 2 / 3
    )
    assert average_precision(np.array([0, 0]), np.array([0.3, 0.2])) == 0.0  # no positives
    assert average_precision(np.array([0, 1]), np.array([0.9, 0.1])) == pytest.approx(0.5)


def test_edge_cases_have_no_nan() -> None:
    both = onset_scores(np.zeros(0), np.zeros(0), np.zeros(0))
    assert (both.precision, both.recall, both.f1, both.ap) == (1.0, 1.0, 1.0, 1.0)
    no_pred = onset_scores(np.zeros(0), None, TRUE)
    assert (no_pred.precision, no_pred.recall, no_pred.f1, no_pred.ap) == (0.0, 0.0, 0.0, 0.0)
    no_true = onset_scores(TRUE, None, np.zeros(0))
    assert (no_true.precision, no_true.recall, no_true.f1, no_true.ap) == (0.0, 0.0, 0.0, 0.0)
    assert no_true.n_pred == 8 and no_pred.n_true == 8


def test_tolerance_is_inclusive_and_matching_one_to_one() -> None:
    assert onset_scores(np.array([1.1]), None, np.array([1.0]), tol=0.1).f1 == 1.0
    s = onset_scores(np.array([0.98, 1.02]), None, np.array([1.0]))
    assert s.n_matched == 1 and s.precision == 0.5 and s.recall == 1.0


def test_optimal_matching_beats_condfoleygen_greedy() -> None:
    pred, strength, true = np.array([0.95, 1.09]), np.array([0.1, 0.9]), np.array([1.0, 1.18])
    assert len(match_onsets(pred, true, 0.1)) == 2
    greedy = match_onsets(pred, true, 0.1, pred_strengths=strength, matching="condfoleygen")
    assert greedy == [(1, 0)]  # the strongest in window, then the second true onset finds nothing
    assert onset_scores(pred, strength, true, matching="condfoleygen").recall == 0.5


def test_onset_accuracy_is_share_of_equal_counts() -> None:
    assert onset_accuracy([3, 2, 0], [3, 1, 0]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        onset_accuracy([], [])


def test_merge_close_events() -> None:
    np.testing.assert_allclose(
        merge_close_events(np.array([0.5, 0.0, 0.04, 0.08, 0.2])), [0.0, 0.08, 0.2, 0.5]
    )


# ---- energy, offset, Frechet ---------------------------------------------------------------------


def test_energy_l1() -> None:
    t = np.arange(2 * SR) / SR
    ref = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    assert energy_l1(ref, ref, SR) == 0.0
    rms = rms_envelope(ref, SR)
    assert rms.size == 1 + ref.size // 128
    assert np.median(rms) == pytest.approx(0.5 / math.sqrt(2), rel=1e-3)
    assert energy_l1(np.zeros_like(ref), ref, SR) == pytest.approx(float(rms.mean()))
    assert energy_l1(2 * ref, ref, SR) == pytest.approx(float(rms.mean()))
    # a shorter take counts as silence where it is missing
    assert energy_l1(ref[:SR], ref, SR) == pytest.approx(
        energy_l1(np.r_[ref[:SR], np.zeros(SR)], ref, SR), abs=2e-3
    )
    ref48 = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(2 * 48000) / 48000)
    assert energy_l1(ref, ref48, SR, ref_sample_rate=48000) < 1e-3


def test_chance_energy_l1_by_hand() -> None:
    """Two clips: 1024 samples of a constant 0.5 and 512 of silence (16 kHz). The derangement of two
    swaps them; each borrowed audio is cut or zero-padded to the other clip's length."""
    loud, quiet = np.full(1024, 0.5), np.zeros(512)

    def rms(m: int) -> float:  # a 32 ms (512-sample) window holding m samples of the constant
        return 0.5 * math.sqrt(m / 512)

    # the loud clip scored on silence: its 1 + 1024 // 128 = 9 frames, centred every 128 samples,
    # hold 256, 384, 512 x 5, 384, 256 of its samples; the silent clip scored on the loud one cut to 512:
    # 5 frames holding 256, 384, 512, 384, 256; the reference side is silence in both
    loud_on_silence = (2 * rms(256) + 2 * rms(384) + 5 * rms(512)) / 9
    silence_on_loud = (2 * rms(256) + 2 * rms(384) + rms(512)) / 5
    chance = mismatched_baseline([loud, quiet], [np.array([0.0]), np.array([0.0])], SR, seed=0)
    assert chance["energy_l1"] == pytest.approx((loud_on_silence + silence_on_loud) / 2, rel=1e-12)
    assert chance["energy_l1"] == pytest.approx(0.4335983, abs=1e-7)


@pytest.mark.parametrize("shift_ms", [73.0, -120.0, 0.0])
def test_offset_recovers_a_shift_within_one_hop(shift_ms: float) -> None:
    ref, _ = impact_scene(11)
    n = int(round(abs(shift_ms) * SR / 1000))
    gen = np.r_[np.zeros(n), ref[: ref.size - n]] if shift_ms > 0 else np.r_[ref[n:], np.zeros(n)]
    est = estimate_offset_ms(0.3 * gen, ref, SR)
    assert abs(est - shift_ms) < 10.0, est


def test_offset_of_silence_is_nan() -> None:
    ref, _ = impact_scene(12)
    assert math.isnan(estimate_offset_ms(np.zeros_like(ref), ref, SR))


def test_frechet_distance() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    d = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])
    assert frechet_distance(a, a + d) == pytest.approx(float(d @ d), rel=1e-9)
    # against the textbook form, tr sqrt(S_a S_b) = sum sqrt(eig(S_a S_b)), on unrelated sets
    b = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 6)) + 0.3
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    tr_sqrt = np.sum(np.sqrt(np.linalg.eigvals(s_a @ s_b).real.clip(0)))
    dm = a.mean(0) - b.mean(0)
    expected = dm @ dm + np.trace(s_a) + np.trace(s_b) - 2 * tr_sqrt
    assert frechet_distance(a, b) == pytest.approx(float(expected), rel=1e-6)
    # 1-D: (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2
    x = rng.standard_normal(1000)
    assert frechet_distance(x, 3.0 * x + 1.0) == pytest.approx(
        (2.0 * x.mean() + 1.0) ** 2 + (2.0 * x.std(ddof=1)) ** 2, rel=1e-9
    )
    with pytest.raises(ValueError):
        frechet_distance(a[:1], a)


# ---- derangement, aggregate, chance --------------------------------------------------------------


def test_derangement() -> None:
    for n in (2, 3, 10):
        p = derangement(n, seed=5)
        assert sorted(p.tolist()) == list(range(n))
        assert np.all(p != np.arange(n))
        np.testing.assert_array_equal(p, derangement(n, seed=5))
    with pytest.raises(ValueError):
        derangement(1)


def test_detector_on_eight_impacts_through_the_metrics() -> None:
    x, true = impact_scene(21)
    times, strengths = detect_onsets_with_strength(x, SR)
    s = onset_scores(times, strengths, true, tol=0.02)
    assert s.f1 >= 0.95 and s.ap >= 0.95


def test_noise_only_scores_nothing() -> None:
    noise = 0.01 * np.random.default_rng(3).standard_normal(4 * SR)
    times, strengths = detect_onsets_with_strength(noise, SR)
    assert times.size <= 1
    assert onset_scores(times, strengths, TRUE).recall <= 0.125


def test_evaluate_clips_and_mismatched_baseline() -> None:
    clips = [impact_scene(30 + i) for i in range(6)]
    audios = [c[0] for c in clips]
    events = [c[1] for c in clips]
    gt = evaluate_clips(audios, events, audios, SR)
    assert gt["f1"] >= 0.95 and gt["f1_050"] >= 0.95
    assert gt["ap"] >= 0.95 and gt["mmaudio_recall"] >= 0.95
    assert gt["onset_acc"] >= 5 / 6
    assert gt["energy_l1"] == 0.0 and gt["offset_ms"] < 1.0 and gt["offset_defined_frac"] == 1.0
    assert gt["n_clips"] == 6.0 and abs(gt["offset_signed_ms"]) < 1.0
    assert set(METRIC_LABELS) <= set(gt)
    assert not any(math.isnan(v) for v in gt.values())

    chance = mismatched_baseline(audios, events, SR, seed=0)
    assert set(gt) <= set(chance)
    assert chance["f1"] < gt["f1"] - 0.3
    assert chance["f1_050"] < chance["f1"] + 1e-9
    perm = derangement(len(audios), 0)  # clip i scored on the audio of clip perm[i] (all 4 s long here)
    assert chance["energy_l1"] == pytest.approx(
        float(np.mean([energy_l1(audios[j], audios[i], SR) for i, j in enumerate(perm)])), rel=1e-12
    )
    assert chance["offset_ms"] > 10.0

    silent = evaluate_clips([np.zeros_like(a) for a in audios], events, audios, SR)
    assert silent["f1"] == 0.0 and silent["ap"] == 0.0
    assert math.isnan(silent["offset_ms"]) and silent["offset_defined_frac"] == 0.0
