"""Audio pseudo-labels: k-means clusters of what sounds at each token, for cross-modal distillation.

The flow's MSE loss asks the video features for the material only weakly (scripts/oracle_flow.py:
given the material as 5 clean dimensions, the same flow's class accuracy goes from 0.38 to 0.70).
Clusters of the audio give the video encoder a discrete target without labels (as HuBERT and
DeepCluster do with their own features): each token is labelled with the k-means cluster of the
mean normalised log-mel spectrum of the ``span`` tokens starting at it (its sound and how it rings
on), and a linear head on the video features predicts that cluster by cross-entropy. A discrete
target lets the features say "wood or rubber" where a regression target would pull them to the
mean spectrum of the two.

With ``onset`` set, only the tokens where a sound starts are labelled (a peak of the spectral flux
above ``onset``; every other token is -1, ignored by the loss), each with the cluster of the
``span`` tokens of sound that start there. The video features are then asked what sounds only
where the video shows a contact, and never to announce a sound before it starts.

Pure numpy; seeded.
"""

from __future__ import annotations

import numpy as np


def descriptors(mel: np.ndarray, frames_per_token: int, span: int) -> np.ndarray:
    """Normalised log-mel [N, F, M] -> [N, T, M]: the mean spectrum of tokens [t, t + span) (cut at the end).

    T = F // frames_per_token tokens per clip.
    """
    n, f, m = mel.shape
    t = f // frames_per_token
    tok = mel[:, : t * frames_per_token].astype(np.float32).reshape(n, t, frames_per_token, m).mean(axis=2)
    csum = np.concatenate([np.zeros((n, 1, m), np.float32), np.cumsum(tok, axis=1)], axis=1)  # [N, T+1, M]
    start = np.arange(t)
    end = np.minimum(start + span, t)
    return (csum[:, end] - csum[:, start]) / (end - start)[None, :, None]


def onset_tokens(mel: np.ndarray, frames_per_token: int, threshold: float) -> np.ndarray:
    """Normalised log-mel [N, F, M] -> bool [N, T]: tokens where a sound starts.

    A token's flux is the largest, over its frames, of the mean positive rise of the log-mel from the
    frame before; a token is an onset where that flux is at least ``threshold`` (in the units of the
    normalised log-mel), at least the previous token's and above the next one's.
    """
    n, f, m = mel.shape
    t = f // frames_per_token
    x = mel[:, : t * frames_per_token].astype(np.float32)
    flux = np.maximum(0.0, np.diff(x, axis=1, prepend=x[:, :1])).mean(axis=2)  # [N, F]
    tf = flux.reshape(n, t, frames_per_token).max(axis=2)
    prev = np.concatenate([np.zeros((n, 1), np.float32), tf[:, :-1]], axis=1)
    nxt = np.concatenate([tf[:, 1:], np.zeros((n, 1), np.float32)], axis=1)
    return (tf >= threshold) & (tf >= prev) & (tf > nxt)


def kmeans(x: np.ndarray, k: int, iters: int = 25, seed: int = 0) -> np.ndarray:
    """Centroids [k, D] of the rows of x [S, D] (k-means++ start, Lloyd iterations)."""
    if len(x) < k:
        raise ValueError(f"k-means needs at least k={k} points, got {len(x)}")
    rng = np.random.default_rng(seed)
    x = x.astype(np.float64)
    cent = [x[rng.integers(len(x))]]
    d2 = ((x - cent[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(len(x), 1.0 / len(x))
        cent.append(x[rng.choice(len(x), p=p)])
        d2 = np.minimum(d2, ((x - cent[-1]) ** 2).sum(axis=1))
    c = np.stack(cent)
    for _ in range(iters):
        lab = assign(x, c)
        for j in range(k):
            members = x[lab == j]
            c[j] = members.mean(axis=0) if len(members) else x[rng.integers(len(x))]
    return c.astype(np.float32)


def assign(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each row of x [..., D] -> [...] int64."""
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    c = centroids.astype(np.float64)
    d = (flat**2).sum(1)[:, None] - 2 * flat @ c.T + (c**2).sum(1)[None]
    return d.argmin(axis=1).reshape(x.shape[:-1])


def audio_clusters(mel: np.ndarray, frames_per_token: int, span: int, k: int, sample: int = 50000,
                   seed: int = 0, onset: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels [N, T] of every token of the clips, and the centroids [k, M] (fit on ``sample``
    tokens drawn at random). With ``onset``, only onset tokens (``onset_tokens``) are clustered and
    labelled; the others are -1."""
    desc = descriptors(mel, frames_per_token, span)
    keep = onset_tokens(mel, frames_per_token, onset) if onset is not None else np.ones(desc.shape[:2], bool)
    flat = desc[keep]
    if onset is not None and len(flat) < k:
        raise ValueError(f"only {len(flat)} onset tokens reach the flux threshold {onset} (flow.cluster_onset); "
                         f"k={k} clusters need at least {k}: lower the threshold")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(flat), size=min(sample, len(flat)), replace=False)
    cent = kmeans(flat[pick], k, seed=seed)
    return np.where(keep, assign(desc, cent), -1), cent
