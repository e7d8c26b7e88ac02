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


def test_a_library_voices_the_training_clips_with_the_recordings_of_their_split(tmp_path):
    """DataConfig.library: train clips are sounded by the library's train recordings only, and each voiced
    event names its recording; the val clips by val recordings."""
    import soundfile as sf

    from foleyflow.export.dataset import render_set
    from foleyflow.library.index import index_library
    from foleyflow.world.world import split_seeds

    lib = tmp_path / "lib"
    lib.mkdir()
    rng = np.random.default_rng(0)
    for cat in ("WOODImpt", "METLImpt", "GLASImpt", "RUBRImpt", "CERMImpt"):
        for i in range(10):
            sf.write(lib / f"{cat}_Hit {i}_FF_T{i}.wav", rng.standard_normal(4000) * np.exp(-np.arange(4000) / 400),
                     16000)
    cfg = TrainConfig()
    cfg.data.library = str(lib)
    cfg.data.duration, cfg.data.render_size, cfg.data.frame_size = 2.0, 16, 8
    index = index_library(lib)
    for split in ("train", "val"):
        s = render_set(cfg, split_seeds(split, 6), split=split)
        allowed = {r.path for r in index.split(split)}
        used = [p for clip in s.events for e in clip for p in e.get("recordings", [])]
        impacts = [e for clip in s.events for e in clip if e["kind"] == "impact"]
        assert impacts and len([e for clip in s.events for e in clip if "recordings" in e]) == len(impacts)
        assert used and set(used) <= allowed


def test_the_recorded_world_by_name_and_its_fallback(monkeypatch, caplog):
    from foleyflow.export.dataset import world_config
    from foleyflow.world import world
    from foleyflow.world import world_config as presets

    if hasattr(presets, "recorded_config"):
        assert world_config("recorded") == presets.recorded_config()
        monkeypatch.delattr(presets, "recorded_config")
    monkeypatch.delattr(world, "recorded_config", raising=False)
    assert world_config("recorded") == world.impacts_config()  # until the preset exists
    assert "recorded_config is not there yet" in caplog.text


def test_a_world_named_with_look_b_is_that_world_drawn_in_look_b():
    from foleyflow.export.dataset import world_config

    a, b = world_config("recorded"), world_config("recorded_look_b")
    assert (a.look, b.look) == ("a", "b")
    assert {**vars(a), "look": "b"} == vars(b)  # the same ranges: only the drawing differs


def test_quiet_training_clips_are_rendered_beside_the_train_set_and_join_it(tmp_path):
    """DataConfig.quiet: that share of n_train more training clips where nothing sounds (no events, the
    room tone only: quiet audio), on seeds after the train set's; every stage's training set is both."""
    import pytest

    from foleyflow.export.dataset import build_cache, load_set, load_train

    cfg = TrainConfig().override(["data.n_train=4", "data.n_val=1", "data.quiet=0.5"])
    paths = build_cache(cfg, tmp_path)
    quiet, train = load_set(paths["quiet"]), load_set(paths["train"])
    assert len(quiet) == 2 and len(train) == 4
    assert quiet.events == [[], []] and all(train.events)  # nothing sounds in a quiet clip
    assert set(quiet.seeds).isdisjoint(train.seeds)
    assert float(np.abs(quiet.audio.astype(np.float32)).max()) < float(np.abs(train.audio.astype(np.float32)).max())
    assert (np.diff(quiet.frames.astype(np.int16), axis=1) != 0).any()  # ... but something moves
    both = load_train(cfg, tmp_path)
    assert len(both) == 6 and both.seeds == train.seeds + quiet.seeds
    np.testing.assert_array_equal(both.mel[4:], quiet.mel)
    stamp = paths["quiet"].stat().st_mtime_ns
    build_cache(cfg, tmp_path)
    assert paths["quiet"].stat().st_mtime_ns == stamp  # reused
    cfg.data.quiet = 0.25  # another share: rendered again, to the size asked for
    assert len(load_set(build_cache(cfg, tmp_path)["quiet"])) == 1
    cfg.data.quiet = 0.0
    assert "quiet" not in build_cache(cfg, tmp_path) and len(load_train(cfg, tmp_path)) == 4
    cfg.data.quiet = 1.5
    with pytest.raises(ValueError, match="data.quiet"):
        build_cache(cfg, tmp_path)
