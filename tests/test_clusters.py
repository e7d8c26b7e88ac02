"""export.clusters: the audio pseudo-labels the video features can be taught to predict."""

import numpy as np
import pytest

from foleyflow.export.clusters import assign, audio_clusters, descriptors, kmeans, onset_tokens


def test_a_descriptor_is_the_mean_spectrum_of_the_span_of_tokens_from_its_token_on():
    rng = np.random.default_rng(0)
    mel = rng.standard_normal((2, 41, 5)).astype(np.float16)  # 41 frames: 10 tokens of 4, one frame left over
    d = descriptors(mel, 4, 3)
    tok = mel[:, :40].astype(np.float32).reshape(2, 10, 4, 5).mean(axis=2)
    assert d.shape == (2, 10, 5)
    np.testing.assert_allclose(d[:, 2], tok[:, 2:5].mean(axis=1), atol=1e-5)
    np.testing.assert_allclose(d[:, 8], tok[:, 8:10].mean(axis=1), atol=1e-5)  # cut at the clip's end
    np.testing.assert_allclose(d[:, 9], tok[:, 9], atol=1e-5)


def test_kmeans_finds_separated_groups_and_assign_labels_by_the_nearest_centroid():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])
    x = np.concatenate([c + 0.3 * rng.standard_normal((40, 2)) for c in centres])
    cent = kmeans(x, 4, seed=3)
    lab = assign(x, cent)
    groups = lab.reshape(4, 40)
    assert all(len(set(g)) == 1 for g in groups)  # each group is one cluster
    assert len({g[0] for g in groups}) == 4  # and the four clusters differ
    np.testing.assert_allclose(np.sort(cent, axis=0), np.sort(centres, axis=0), atol=0.2)
    assert assign(np.array([[7.5, 7.9]]), cent)[0] == groups[3, 0]


def test_kmeans_is_seeded_and_refuses_fewer_points_than_clusters():
    x = np.random.default_rng(2).standard_normal((50, 3))
    np.testing.assert_array_equal(kmeans(x, 5, seed=7), kmeans(x, 5, seed=7))
    with pytest.raises(ValueError, match="at least k=5"):
        kmeans(x[:4], 5)


def test_audio_clusters_tell_two_sounds_apart_and_silence_from_both():
    """Clips of a low tone, a high tone and silence: every token of a clip falls in its clip's cluster."""
    mel = np.full((3, 40, 8), -1.0, np.float32)
    mel[0, :, 1] = 3.0  # a low band sounds throughout clip 0
    mel[1, :, 6] = 3.0  # a high band throughout clip 1; clip 2 is silent
    labels, cent = audio_clusters(mel, 4, 2, 3, seed=0)
    assert labels.shape == (3, 10) and cent.shape == (3, 8)
    assert all(len(set(row)) == 1 for row in labels)
    assert len({row[0] for row in labels}) == 3


def _struck(n_frames: int, starts: dict[int, tuple[int, float]], bins: int = 8) -> np.ndarray:
    """Normalised log-mel [F, bins] at -2: at each start frame a band ``(bin, height)`` jumps up and decays."""
    mel = np.full((n_frames, bins), -2.0, np.float32)
    for f0, (b, h) in starts.items():
        decay = h * np.exp(-np.arange(n_frames - f0) / 6.0)
        mel[f0:, b] = np.maximum(mel[f0:, b], -2.0 + decay)
    return mel


def test_onset_tokens_mark_where_a_sound_starts_not_where_it_rings():
    # 4 frames per token: strikes at frames 13 (token 3) and 30 (token 7); a faint one at frame 50 (token 12)
    mel = _struck(64, {13: (2, 16.0), 30: (5, 16.0), 50: (1, 1.0)})[None]
    on = onset_tokens(mel, 4, threshold=0.3)
    assert on.shape == (1, 16)
    assert np.flatnonzero(on[0]).tolist() == [3, 7]  # the faint rise (1/8 of a unit per bin) is below 0.3
    assert np.flatnonzero(onset_tokens(mel, 4, threshold=0.1)[0]).tolist() == [3, 7, 12]


def test_a_rise_across_a_token_boundary_is_one_onset():
    mel = _struck(40, {15: (2, 8.0), 16: (3, 16.0)})[None]  # frames 15 and 16: tokens 3 and 4
    assert np.flatnonzero(onset_tokens(mel, 4, threshold=0.3)[0]).tolist() == [4]  # the larger rise


def test_onset_clusters_label_only_onsets_by_the_sound_that_starts_there():
    """Low-band and high-band strikes in four clips: only onset tokens are labelled, the low strikes in
    one cluster and the high ones in another."""
    low, high = (1, 16.0), (6, 16.0)
    clips = [{5: low, 33: high}, {9: high, 41: low}, {21: low}, {13: high, 45: high}]
    mel = np.stack([_struck(64, c) for c in clips])
    labels, _ = audio_clusters(mel, 4, 3, 2, seed=0, onset=0.3)
    onsets = [[f // 4 for f in c] for c in clips]
    for row, toks in zip(labels, onsets, strict=True):
        assert sorted(np.flatnonzero(row >= 0).tolist()) == sorted(toks)
        assert (row[[t for t in range(16) if t not in toks]] == -1).all()
    lab = {band: {labels[i, f // 4] for i, c in enumerate(clips) for f, (b, _) in c.items() if b == band}
           for band in (1, 6)}
    assert len(lab[1]) == 1 and len(lab[6]) == 1 and lab[1] != lab[6]


def test_onset_clusters_refuse_a_threshold_that_leaves_fewer_onsets_than_clusters():
    mel = _struck(64, {13: (2, 16.0), 30: (5, 16.0)})[None]  # two onsets
    with pytest.raises(ValueError, match="only 2 onset tokens reach the flux threshold 0.3"):
        audio_clusters(mel, 4, 3, 4, onset=0.3)
