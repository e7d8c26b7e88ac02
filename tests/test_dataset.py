"""The training cache: clip sets built from rendered or decoded clips."""

import numpy as np

from foleyflow.export.config import TrainConfig
from foleyflow.export.dataset import make_set


def test_the_log_mel_computed_in_chunks_equals_the_whole_set_at_once():
    """A large set (8000 clips) computes its log-mel in bounded chunks; the chunking must not change it,
    including a last, shorter chunk."""
    cfg = TrainConfig()
    rng = np.random.default_rng(0)
    n_samples = int(cfg.data.duration * cfg.audio.sample_rate)
    audio = [rng.standard_normal(n_samples).astype(np.float32) * 0.1 * (i + 1) for i in range(5)]
    frames = [np.zeros((4, 8, 8, 3), np.uint8) for _ in audio]
    events = [[] for _ in audio]
    whole = make_set(cfg, frames, audio, events, list(range(5)), chunk=100)
    chunked = make_set(cfg, frames, audio, events, list(range(5)), chunk=2)
    assert whole.mel.dtype == chunked.mel.dtype == np.float16
    assert whole.mel.shape == chunked.mel.shape == (5, n_samples // cfg.audio.hop_length, cfg.audio.n_mels)
    np.testing.assert_allclose(chunked.mel.astype(np.float32), whole.mel.astype(np.float32), atol=1e-2)
    assert not np.allclose(whole.mel[0], whole.mel[4])  # louder clips: the rows are each clip's own
