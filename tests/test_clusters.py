"""export.clusters: the audio pseudo-labels the video features can be taught to predict."""

import numpy as np
import pytest

from foleyflow.export.clusters import assign, audio_clusters, descriptors, kmeans


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
