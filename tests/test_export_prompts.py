"""export.prompts: the vocabulary, each clip's category and the references the flow stage trains with."""

import numpy as np
import pytest
import torch
from tiny_prompts import CATIDS, library_prompt_workdir, prompt_config, prompt_workdir
from tiny_training import tiny_config, trained_tiny

from foleyflow.export.dataset import load_set, open_library
from foleyflow.export.prompts import (
    CATEGORY,
    NONE,
    REFERENCE,
    PromptData,
    build_prompt_data,
    dominant,
    prompt_samples,
    world_classes,
)
from foleyflow.export.train import load_checkpoint
from foleyflow.runtime.prompt import prepare_reference


def test_a_reference_is_a_whole_number_of_tokens():
    cfg = prompt_config()
    assert prompt_samples(cfg) == 16000  # 1 s at 16 kHz
    cfg.flow.prompt_seconds = 1.01
    assert prompt_samples(cfg) % (cfg.audio.hop_length * cfg.audio.frames_per_token) == 0


def test_without_a_library_the_vocabulary_is_the_world_classes_and_references_are_other_clips():
    data = load_set(prompt_workdir() / "cache" / "train.npz")
    p = build_prompt_data(prompt_config(), data)
    assert p.waves is None and p.sources == []
    order = world_classes()
    assert set(p.vocabulary) <= set(order) and list(p.vocabulary) == sorted(p.vocabulary, key=order.index)
    for i, events in enumerate(data.events):
        assert p.vocabulary[p.category[i]] == dominant(events)
        assert i in p.exclude[i] and i in p.references[p.category[i]]  # its class, but never itself
    wave = p.reference_waves(np.array([1]), data, 16000)
    np.testing.assert_array_equal(wave[0], prepare_reference(data.audio[1].astype(np.float32), 16000, 16000))


def test_with_a_library_the_vocabulary_is_its_categories_and_a_reference_is_another_train_recording():
    wd = library_prompt_workdir()
    cfg = prompt_config((f"data.library={wd / 'library'}",))
    data = load_set(wd / "cache" / "train.npz")
    index = open_library(cfg.data.library)
    p = build_prompt_data(cfg, data)
    assert p.vocabulary and set(p.vocabulary) <= set(CATIDS)
    assert p.waves is not None and p.waves.shape[1] == p.samples == 16000
    train = {r.path for r in index.split("train")}
    by_path = {r.path: r for r in index.recordings}
    assert sum(len(r) for r in p.references) == len(p.waves)
    for i, events in enumerate(data.events):
        own = {path for e in events for path in e.get("recordings", [])}
        assert own <= train  # the clip is sounded by train recordings
        if p.category[i] >= 0:
            cat = p.vocabulary[p.category[i]]
            sounding = {by_path[path].category for e in events for path in e.get("recordings", [])}
            assert cat in sounding
    assert p.sources == [{"source": "unknown", "license": "unknown", "recordings": p.sources[0]["recordings"]}]
    ck = load_checkpoint(wd / "flow_masked_dynamic.pt")
    assert tuple(ck["vocabulary"]) == p.vocabulary and ck["prompt_samples"] == 16000
    assert ck["sound_sources"] == p.sources


def test_a_clip_is_never_prompted_by_a_recording_that_sounds_it():
    wd = library_prompt_workdir()
    cfg = prompt_config((f"data.library={wd / 'library'}",))
    data = load_set(wd / "cache" / "train.npz")
    p = build_prompt_data(cfg, data)
    rng = np.random.default_rng(0)
    idx = np.repeat(np.arange(len(data)), 50)
    kinds, cats, refs = p.choose(rng, idx, 0.0, 1.0)
    for clip, kind, ref in zip(idx, kinds, refs, strict=True):
        if kind == REFERENCE:
            assert ref not in p.exclude[clip] and ref in p.references[p.category[clip]]
    assert (kinds == REFERENCE).any()


def test_the_draw_follows_the_shares_and_falls_back_to_the_category():
    p = PromptData(("a", "b"), np.array([0, 1, -1]), [[0, 1], [2]], [frozenset({0}), frozenset({2}), frozenset()], 4)
    rng = np.random.default_rng(1)
    idx = np.zeros(20000, np.int64)  # clip 0: category a, one other reference (1)
    kinds, cats, refs = p.choose(rng, idx, 0.35, 0.35)
    share = np.bincount(kinds, minlength=3) / len(kinds)
    np.testing.assert_allclose(share, [0.3, 0.35, 0.35], atol=0.02)
    assert set(cats[kinds != NONE]) == {0} and set(refs[kinds == REFERENCE]) == {1}
    kinds, _, _ = p.choose(rng, np.ones(2000, np.int64), 0.35, 0.35)  # clip 1: its only reference is its own
    assert set(kinds) == {NONE, CATEGORY} and (kinds == CATEGORY).mean() > 0.6
    kinds, _, _ = p.choose(rng, np.full(100, 2), 0.5, 0.5)  # clip 2: no category, no prompt
    assert set(kinds) == {NONE}


def test_the_flow_trains_the_prompt_modules_and_keeps_the_audio_encoder_frozen():
    wd = prompt_workdir()
    ck = load_checkpoint(wd / "flow_masked_dynamic.pt")
    enc = ck["model"]["prompt_encoder"]
    audio = load_checkpoint(wd / "align_masked.pt")["model"]["audio"]
    for k, v in audio.items():  # the pretrained audio encoder, unchanged
        torch.testing.assert_close(enc[f"encoder.{k}"], v)
    assert not torch.allclose(enc["proj.weight"], torch.zeros_like(enc["proj.weight"]))
    table = ck["model"]["prompt_table"]["table.weight"]
    assert table.shape == (len(ck["vocabulary"]), 16)
    assert {"prompt_in.weight", "prompt_null"} <= set(ck["model"]["net"])


def test_the_old_recipe_trains_without_prompts():
    assert tiny_config().flow.prompts is False
    ck = load_checkpoint(trained_tiny() / "flow_masked_dynamic.pt")
    assert "prompt_table" not in ck["model"] and "vocabulary" not in ck
    assert not any(k.startswith("prompt") for k in ck["model"]["net"])


def test_prompts_need_a_category_to_train_with():
    data = load_set(prompt_workdir() / "cache" / "train.npz")
    data.events = [[] for _ in data.events]
    with pytest.raises(ValueError, match="no training clip has a category"):
        build_prompt_data(prompt_config(), data)


def test_a_batch_runs_both_prompt_modules_whatever_was_drawn():
    """Under DDP every rank must run every module at every step, even with no category or reference drawn."""
    from foleyflow.export.prompts import category_table, prompt_batch, prompt_encoder

    cfg = prompt_config()
    data = load_set(prompt_workdir() / "cache" / "train.npz")
    p = build_prompt_data(cfg, data)
    table, enc = category_table(cfg, len(p.vocabulary)), prompt_encoder(cfg, (-8.0, 2.0))
    b = 3
    for kinds in (np.full(b, NONE), np.array([CATEGORY, NONE, REFERENCE])):
        table.zero_grad(), enc.zero_grad()
        refs = np.array([-1, -1, p.references[int(p.category[0])][0]])
        vec, on = prompt_batch(p, kinds, np.zeros(b, np.int64), refs, data, table, enc, cfg)
        assert vec.shape == (b, 16) and on.tolist() == [float(k != NONE) for k in kinds]
        assert not vec[kinds == NONE].any()
        (vec.sum() + 1.0).backward()
        assert table.table.weight.grad is not None and enc.proj.weight.grad is not None
        if kinds[0] == CATEGORY:
            torch.testing.assert_close(vec[0], table(torch.tensor([0]))[0])


def test_a_clip_where_nothing_sounds_is_prompted_by_any_category():
    """A quiet training clip (no events) is prompted as often as the others, by every category in turn:
    its target stays silent, so a prompt says what a contact sounds like, never that there is one."""
    data = load_set(prompt_workdir() / "cache" / "train.npz")
    p = build_prompt_data(prompt_config(), data)
    assert p.silent is not None and not p.silent.any()  # every tiny clip has events
    p.silent = np.zeros(len(data), bool)
    p.silent[0] = True
    rng = np.random.default_rng(0)
    kinds, cats, _ = p.choose(rng, np.zeros(400, np.int64), 0.5, 0.0)
    assert 0.4 < (kinds == CATEGORY).mean() < 0.6
    assert set(cats[kinds == CATEGORY]) == set(range(len(p.vocabulary)))


def test_precomputed_reference_features_give_the_same_prompts_as_the_waves():
    """With a frozen reference encoder the flow stage encodes the library's references once
    (precompute_features); the prompt vectors are those of encoding the waves at every step."""
    from foleyflow.export.prompts import category_table, precompute_features, prompt_batch, prompt_encoder

    wd = library_prompt_workdir()
    cfg = prompt_config((f"data.library={wd / 'library'}",))
    data = load_set(wd / "cache" / "train.npz")
    p = build_prompt_data(cfg, data)
    torch.manual_seed(0)
    enc, table = prompt_encoder(cfg, (0.0, 1.0)), category_table(cfg, len(p.vocabulary))
    kinds, cats, refs = p.choose(np.random.default_rng(1), np.arange(len(data)), 0.3, 0.7)
    assert (kinds == REFERENCE).any()
    by_wave, on = prompt_batch(p, kinds, cats, refs, data, table, enc, cfg)
    precompute_features(p, enc)
    assert p.features is not None and len(p.features) == len(p.waves)
    by_feats, on2 = prompt_batch(p, kinds, cats, refs, data, table, enc, cfg)
    torch.testing.assert_close(by_feats, by_wave, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(on2, on)
    trained = prompt_config((f"data.library={wd / 'library'}", "flow.prompt_train_encoder=true"))
    q = build_prompt_data(trained, data)
    precompute_features(q, prompt_encoder(trained, (0.0, 1.0)))
    assert q.features is None  # an encoder that trains must see the waves
