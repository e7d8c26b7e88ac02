"""Metrics of video-to-audio sync and quality, in numpy only (no torch, no scipy).

Which number follows whose definition:

- Onset AP and onset accuracy: CondFoleyGen (Du et al., "Conditional Generation of Audio from Video
  via Foley Analogies", CVPR 2023; its onset evaluation script): onsets detected on the generated audio,
  NMS window 0.05 s, match tolerance 0.1 s, AP = scikit-learn's ``average_precision_score`` over the
  matched and unmatched onsets, accuracy = share of clips whose onset counts match.
- Onset recall ("acc.") and AP at 0.3 s: MMAudio (Cheng et al., CVPR 2025), which runs
  CondFoleyGen's matching against Greatest Hits' annotated hit times with a tolerance of 0.3 s.
- Onset precision, recall and F1 at 0.1 s and F1 at 0.05 s: ours (mir_eval's onset F-measure with a
  one-to-one matching), reported beside AP because AP is blind to misses when there are no false
  onsets (see ``onset_scores``).
- Energy L1: the issue's definition (mean absolute difference of RMS envelopes, 32 ms window, 8 ms
  hop, at 16 kHz); RMS-conditioned Foley work (e.g. Video-Foley) reports a comparable energy error,
  but this is not checked against its code.
- Offset: the lag maximising the cross-correlation of the two onset-strength envelopes.
- Frechet distance: FID/FAD's (Heusel et al., 2017) between Gaussians fitted to two feature sets.
- Chance: ``mismatched_baseline`` scores each clip's true onsets against another clip's audio; with
  dense events chance is high (F1 ~ 0.35 at 0.1 s), so every table carries that row.

Ground-truth onsets are the world's event times, given exactly; only the audio under test is run
through the detector (``foleyflow.export.eval.onsets``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .onsets import (
    ANALYSIS_SR,
    HOP,
    NMS_WINDOW_S,
    detect_onsets_with_strength,
    onset_strength,
    to_analysis_rate,
    to_mono,
)

CONDFOLEYGEN_TOL_S = 0.1
"""CondFoleyGen's onset match tolerance."""
MMAUDIO_TOL_S = 0.3
"""MMAudio's onset match tolerance (its "onset acc." is the recall at this tolerance)."""
STRICT_TOL_S = 0.05
"""Our stricter tolerance: with ~8 impacts in 4 s, 0.1 s leaves chance high."""
RMS_WIN = 512
"""Energy window at 16 kHz: 32 ms."""
RMS_HOP = 128
"""Energy hop at 16 kHz: 8 ms."""

Matching = Literal["optimal", "condfoleygen"]

METRIC_LABELS = {
    "f1": "onset F1 @0.1s",
    "precision": "onset P @0.1s",
    "recall": "onset R @0.1s",
    "f1_050": "onset F1 @0.05s",
    "ap": "onset AP @0.1s (CondFoleyGen)",
    "onset_acc": "onset acc (CondFoleyGen)",
    "mmaudio_recall": "onset R @0.3s (MMAudio acc)",
    "mmaudio_ap": "onset AP @0.3s (MMAudio)",
    "energy_l1": "energy L1",
    "offset_ms": "|offset| ms",
    "offset_signed_ms": "offset ms (+ = late)",
}
"""Table labels of ``evaluate_clips``' keys, saying whose definition each one is."""


@dataclass(frozen=True)
class OnsetScores:
    """Scores of one clip's predicted onsets against its true onsets at one tolerance."""

    precision: float
    recall: float
    f1: float
    ap: float
    n_pred: int
    n_true: int
    n_matched: int


def _as_times(values: Any) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(a)):
        raise ValueError("onset times/strengths must be finite")
    return a


def match_onsets(
    pred_times: np.ndarray,
    true_times: np.ndarray,
    tol: float,
    *,
    pred_strengths: np.ndarray | None = None,
    matching: Matching = "optimal",
) -> list[tuple[int, int]]:
    """One-to-one pairs ``(pred_index, true_index)`` with ``|pred - true| <= tol``.

    ``"optimal"``: a maximum-cardinality matching (as mir_eval's onset evaluation). On a line with one
    tolerance for all, matching each true onset, in time order, to the earliest unmatched prediction
    not before ``true - tol`` is optimal, so no graph algorithm is needed.

    ``"condfoleygen"``: CondFoleyGen's greedy rule: each true onset, in time order, takes the unmatched
    prediction of highest strength within ``tol``. It can match fewer than ``"optimal"``.
    """
    pred = _as_times(pred_times)
    true = _as_times(true_times)
    if tol < 0:
        raise ValueError("tol must be >= 0")
    eps = 1e-9  # so that a shift of exactly tol, written in floats, counts as within tol
    pairs: list[tuple[int, int]] = []
    if matching == "optimal":
        p_order = np.argsort(pred, kind="stable")
        i = 0
        for j in np.argsort(true, kind="stable"):
            while i < p_order.size and pred[p_order[i]] < true[j] - tol - eps:
                i += 1
            if i < p_order.size and pred[p_order[i]] <= true[j] + tol + eps:
                pairs.append((int(p_order[i]), int(j)))
                i += 1
        return pairs
    if matching == "condfoleygen":
        strength = np.ones_like(pred) if pred_strengths is None else _as_times(pred_strengths)
        free = np.ones(pred.size, dtype=bool)
        for j in np.argsort(true, kind="stable"):
            cand = np.flatnonzero(free & (np.abs(pred - true[j]) <= tol + eps))
            if cand.size:
                i = int(cand[np.argmax(strength[cand])])
                free[i] = False
                pairs.append((i, int(j)))
        return pairs
    raise ValueError(f"unknown matching {matching!r}")


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """scikit-learn's ``average_precision_score``: sum over thresholds of (R_k - R_{k-1}) * P_k.

    Thresholds are the distinct scores, highest first; tied scores enter together. 0.0 when there
    are no positive labels.
    """
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.size != s.size:
        raise ValueError("labels and scores differ in length")
    if y.sum() <= 0:
        return 0.0
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # last index of each distinct score
    tps = np.cumsum(y)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def onset_scores(
    pred_times: np.ndarray,
    pred_strengths: np.ndarray | None,
    true_times: np.ndarray,
    tol: float = CONDFOLEYGEN_TOL_S,
    *,
    matching: Matching = "optimal",
) -> OnsetScores:
    """Precision, recall, F1 and AP of predicted onsets against true onsets, one-to-one within ``tol``.

    Precision = matched / predicted, recall = matched / true, F1 their harmonic mean (mir_eval's onset
    F-measure, but with ``|pred - true| <= tol``). AP follows CondFoleyGen: every matched prediction
    is a positive scored by its strength, every missed true onset a positive scored 0, every
    unmatched prediction a negative scored by its strength; AP is scikit-learn's average precision
    of those labels and scores. ``pred_strengths=None`` scores every prediction 1.

    AP is blind to misses when there are no false onsets: with no negatives every threshold has
    precision 1, so one matched onset and seven misses score AP 1.0 (precision 1, recall 0.125,
    F1 0.22). Misses only count once there are false onsets, and then they are "found" at score 0:
    a take whose onsets all miss still scores AP = n_true / (n_true + n_pred), not 0. Read AP with
    precision, recall and F1.

    Edge cases (no NaN): no true and no predicted onsets is a perfect silent take, every score 1.0;
    exactly one side empty scores 0.0 everywhere (CondFoleyGen gives acc and AP 0 when either side
    is empty).
    """
    pred = _as_times(pred_times)
    true = _as_times(true_times)
    strength = np.ones_like(pred) if pred_strengths is None else _as_times(pred_strengths)
    if strength.size != pred.size:
        raise ValueError("pred_strengths must have one value per predicted onset")
    if pred.size == 0 and true.size == 0:
        return OnsetScores(1.0, 1.0, 1.0, 1.0, 0, 0, 0)
    if pred.size == 0 or true.size == 0:
        return OnsetScores(0.0, 0.0, 0.0, 0.0, int(pred.size), int(true.size), 0)
    pairs = match_onsets(pred, true, tol, pred_strengths=strength, matching=matching)
    n_matched = len(pairs)
    precision = n_matched / pred.size
    recall = n_matched / true.size
    f1 = 2.0 * n_matched / (pred.size + true.size)
    matched_pred = np.zeros(pred.size, dtype=bool)
    matched_pred[[i for i, _ in pairs]] = True
    labels = np.r_[np.ones(n_matched), np.ones(true.size - n_matched), np.zeros(pred.size - n_matched)]
    scores = np.r_[strength[matched_pred], np.zeros(true.size - n_matched), strength[~matched_pred]]
    ap = average_precision(labels, scores)
    return OnsetScores(precision, recall, f1, ap, int(pred.size), int(true.size), n_matched)


def mmaudio_onset_scores(
    pred_times: np.ndarray, pred_strengths: np.ndarray | None, true_times: np.ndarray
) -> OnsetScores:
    """MMAudio's variant: ``onset_scores`` at a 0.3 s tolerance; MMAudio's "acc." is its ``recall``."""
    return onset_scores(pred_times, pred_strengths, true_times, MMAUDIO_TOL_S)


def onset_accuracy(pred_counts: Sequence[int], true_counts: Sequence[int]) -> float:
    """CondFoleyGen's "onset acc.": the share of clips whose number of onsets matches the truth.

    Two empty clips (0 == 0) count as a match. Raises ``ValueError`` for no clips or unequal lengths.
    """
    p = np.asarray(pred_counts, dtype=np.int64).reshape(-1)
    t = np.asarray(true_counts, dtype=np.int64).reshape(-1)
    if p.size != t.size:
        raise ValueError("pred_counts and true_counts differ in length")
    if p.size == 0:
        raise ValueError("no clips")
    return float(np.mean(p == t))


def merge_close_events(times: np.ndarray, window_s: float = NMS_WINDOW_S) -> np.ndarray:
    """Sorted event times, dropping any event within ``window_s`` after the last kept one.

    Events closer than the detector's NMS window can never be detected apart, so the truth is
    thinned the same way before scoring (a ball's last micro-bounces, say).
    """
    t = np.sort(_as_times(times))
    kept: list[float] = []
    for v in t:
        if not kept or v - kept[-1] >= window_s:
            kept.append(float(v))
    return np.asarray(kept, dtype=np.float64)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if x.size >= n else np.pad(x, (0, n - x.size))


def rms_envelope(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS per 32 ms window every 8 ms at 16 kHz; frame ``k`` is centred at ``k * 8`` ms (zero-padded)."""
    x = to_analysis_rate(audio, sample_rate)
    n_frames = 1 + x.size // RMS_HOP
    xp = np.pad(x, (RMS_WIN // 2, RMS_WIN // 2 + RMS_HOP))
    c = np.concatenate(([0.0], np.cumsum(xp * xp)))
    starts = np.arange(n_frames) * RMS_HOP
    return np.sqrt(np.maximum(c[starts + RMS_WIN] - c[starts], 0.0) / RMS_WIN)


def energy_l1(
    gen: np.ndarray, ref: np.ndarray, sample_rate: int, *, ref_sample_rate: int | None = None
) -> float:
    """Energy L1: mean over frames of ``|RMS_gen - RMS_ref|`` (32 ms window, 8 ms hop, 16 kHz).

    Linear RMS in full-scale units (a full-scale sine has RMS 0.707), not normalised: loudness counts.
    The shorter envelope is padded with zeros to the longer (missing audio counts as silence).
    Both inputs are resampled to 16 kHz first if needed.
    """
    a = rms_envelope(gen, sample_rate)
    b = rms_envelope(ref, sample_rate if ref_sample_rate is None else ref_sample_rate)
    n = max(a.size, b.size)
    return float(np.mean(np.abs(_fit_length(a, n) - _fit_length(b, n))))


def estimate_offset_ms(
    gen: np.ndarray,
    ref: np.ndarray,
    sample_rate: int,
    max_lag_s: float = 0.5,
    *,
    ref_sample_rate: int | None = None,
) -> float:
    """Offset of the generated audio against the reference, in ms; positive = generated is late.

    The lag within +-``max_lag_s`` that maximises the cross-correlation of the two onset-strength
    envelopes (``onsets.onset_strength``, 10 ms hop), refined below one hop by a parabola through the
    peak and its neighbours. NaN when either envelope is empty (silence, or no rise at all): there is
    no offset to measure; ``evaluate_clips`` averages over the clips where it is defined.
    """
    g = onset_strength(gen, sample_rate)
    r = onset_strength(ref, sample_rate if ref_sample_rate is None else ref_sample_rate)
    if not g.any() or not r.any():
        return float("nan")
    n = max(g.size, r.size)
    g, r = _fit_length(g, n), _fit_length(r, n)
    max_lag = min(int(round(max_lag_s * ANALYSIS_SR / HOP)), n - 1)
    lags = np.arange(-max_lag, max_lag + 1)
    # c[l] = sum_t g[t] * r[t - l]: the generated envelope is the reference delayed by l frames
    corr = np.array(
        [np.dot(g[max(0, lag) : n + min(0, lag)], r[max(0, -lag) : n - max(0, lag)]) for lag in lags]
    )
    k = int(np.argmax(corr))
    shift = float(lags[k])
    if 0 < k < corr.size - 1:
        y0, y1, y2 = corr[k - 1], corr[k], corr[k + 1]
        den = y0 - 2.0 * y1 + y2
        if den < 0:
            shift += float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5))
    return shift * HOP / ANALYSIS_SR * 1000.0


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (FID/FAD, Heusel et al. 2017).

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with unbiased covariances. The trace of
    ``(S_a S_b)^(1/2)`` is computed as that of ``(A S_b A)^(1/2)``, ``A = S_a^(1/2)``, a symmetric PSD
    matrix (same eigenvalues as ``S_a S_b``), through eigen-decompositions only. Inputs are
    ``(n_samples, dim)`` with at least two samples each.
    """
    a = np.asarray(feats_a, dtype=np.float64)
    b = np.asarray(feats_b, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (n, dim) with the same dim, got {a.shape} and {b.shape}")
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError("each feature set needs at least two samples")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrtm_psd(s_a)
    middle = root_a @ s_b @ root_a
    tr_sqrt = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None))))
    d = mu_a - mu_b
    return float(max(0.0, d @ d + np.trace(s_a) + np.trace(s_b) - 2.0 * tr_sqrt))


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A permutation of ``range(n)`` with no fixed point (Sattolo's algorithm: one random cycle)."""
    if n < 2:
        raise ValueError("a derangement needs at least two clips")
    rng = np.random.default_rng(seed)
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(0, i))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def score_clip(
    gen: np.ndarray,
    true_events: np.ndarray,
    ref: np.ndarray | None,
    sample_rate: int,
    *,
    ref_sample_rate: int | None = None,
    merge_true_s: float = NMS_WINDOW_S,
    matching: Matching = "optimal",
) -> dict[str, float]:
    """The per-clip numbers ``evaluate_clips`` averages: the same keys, except ``count_match`` (1.0 when
    the counts match; its mean is ``onset_acc``), ``n_pred``/``n_true``, and ``offset_signed_ms``
    (``estimate_offset_ms``, signed, NaN where undefined)."""
    times, strengths = detect_onsets_with_strength(gen, sample_rate)
    true = (
        merge_close_events(true_events, merge_true_s) if merge_true_s > 0 else np.sort(_as_times(true_events))
    )
    s10 = onset_scores(times, strengths, true, CONDFOLEYGEN_TOL_S, matching=matching)
    s05 = onset_scores(times, strengths, true, STRICT_TOL_S, matching=matching)
    s30 = onset_scores(times, strengths, true, MMAUDIO_TOL_S, matching=matching)
    out = {
        "precision": s10.precision,
        "recall": s10.recall,
        "f1": s10.f1,
        "f1_050": s05.f1,
        "ap": s10.ap,
        "count_match": float(times.size == true.size),
        "mmaudio_recall": s30.recall,
        "mmaudio_ap": s30.ap,
        "n_pred": float(times.size),
        "n_true": float(true.size),
        "energy_l1": float("nan"),
        "offset_signed_ms": float("nan"),
    }
    if ref is not None:
        out["energy_l1"] = energy_l1(gen, ref, sample_rate, ref_sample_rate=ref_sample_rate)
        out["offset_signed_ms"] = estimate_offset_ms(gen, ref, sample_rate, ref_sample_rate=ref_sample_rate)
    return out


def evaluate_clips(
    gen_audios: Sequence[np.ndarray],
    true_events_list: Sequence[np.ndarray],
    ref_audios: Sequence[np.ndarray] | None,
    sample_rate: int,
    *,
    ref_sample_rate: int | None = None,
    merge_true_s: float = NMS_WINDOW_S,
    matching: Matching = "optimal",
) -> dict[str, float]:
    """Means over clips of the sync and quality metrics; true onsets are the world's event times.

    Keys (means over clips unless said; ``METRIC_LABELS`` gives each one's table label):

    - ``precision``, ``recall``, ``f1``: ours, one-to-one matching within 0.1 s; ``f1_050``: the
      same F1 within 0.05 s.
    - ``ap``: CondFoleyGen's onset AP at 0.1 s (blind to misses without false onsets).
    - ``onset_acc``: CondFoleyGen's onset acc., the share of clips whose onset counts match.
    - ``mmaudio_recall`` (MMAudio's "onset acc.") and ``mmaudio_ap``: at 0.3 s.
    - ``energy_l1``: against ``ref_audios``; NaN when ``ref_audios`` is None.
    - ``offset_ms``: mean ``|offset|`` (ms) over the clips where it is defined, ``offset_signed_ms``
      the mean signed offset (a systematic latency shows here), ``offset_defined_frac`` their
      share. NaN when defined for no clip or when ``ref_audios`` is None.
    - ``mean_n_pred``, ``mean_n_true``, ``n_clips``.

    True event times closer than the 0.05 s NMS window are merged first (``merge_close_events``);
    ``merge_true_s=0`` keeps them all. Everything runs at 16 kHz; ``sample_rate`` is that of the
    generated audio and ``ref_sample_rate`` (default: the same) that of the reference audio.
    """
    n = len(gen_audios)
    if n == 0:
        raise ValueError("no clips")
    if len(true_events_list) != n or (ref_audios is not None and len(ref_audios) != n):
        raise ValueError("gen_audios, true_events_list and ref_audios must have one entry per clip")
    rows = [
        score_clip(
            gen_audios[i],
            true_events_list[i],
            None if ref_audios is None else ref_audios[i],
            sample_rate,
            ref_sample_rate=ref_sample_rate,
            merge_true_s=merge_true_s,
            matching=matching,
        )
        for i in range(n)
    ]

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in rows]))

    offsets = np.array([r["offset_signed_ms"] for r in rows])
    defined = np.isfinite(offsets)
    return {
        "precision": mean("precision"),
        "recall": mean("recall"),
        "f1": mean("f1"),
        "f1_050": mean("f1_050"),
        "ap": mean("ap"),
        "onset_acc": mean("count_match"),
        "mmaudio_recall": mean("mmaudio_recall"),
        "mmaudio_ap": mean("mmaudio_ap"),
        "energy_l1": mean("energy_l1"),
        "offset_ms": float(np.mean(np.abs(offsets[defined]))) if defined.any() else math.nan,
        "offset_signed_ms": float(np.mean(offsets[defined])) if defined.any() else math.nan,
        "offset_defined_frac": float(defined.mean()) if ref_audios is not None else math.nan,
        "mean_n_pred": mean("n_pred"),
        "mean_n_true": mean("n_true"),
        "n_clips": float(n),
    }


def mismatched_baseline(
    audios: Sequence[np.ndarray],
    true_events_list: Sequence[np.ndarray],
    sample_rate: int,
    *,
    ref_audios: Sequence[np.ndarray] | None = None,
    ref_sample_rate: int | None = None,
    seed: int = 0,
    merge_true_s: float = NMS_WINDOW_S,
) -> dict[str, float]:
    """The chance row: ``evaluate_clips`` with clip ``i`` scored on the audio of clip ``perm[i]``.

    ``perm = derangement(len(audios), seed)``, so no clip keeps its own audio. The borrowed audio is
    cut or zero-padded to the length of clip ``i``'s reference (``ref_audios[i]``, by default
    ``audios[i]``, converted to ``sample_rate``'s duration). Pass the ground-truth audio as ``audios``
    for the table's chance row; any audio set (a model's takes) works the same way.
    """
    n = len(audios)
    if len(true_events_list) != n or (ref_audios is not None and len(ref_audios) != n):
        raise ValueError("audios, true_events_list and ref_audios must have one entry per clip")
    perm = derangement(n, seed)
    refs = audios if ref_audios is None else ref_audios
    rsr = sample_rate if ref_audios is None or ref_sample_rate is None else ref_sample_rate
    borrowed = []
    for i in range(n):
        length = int(round(np.shape(refs[i])[-1] * sample_rate / rsr))
        borrowed.append(_fit_length(to_mono(audios[perm[i]]), length))
    out = evaluate_clips(
        borrowed, true_events_list, refs, sample_rate, ref_sample_rate=rsr, merge_true_s=merge_true_s
    )
    out["seed"] = float(seed)
    return out
