"""The world voiced with recordings: onsets on the event, the split kept, gain from speed, full band."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from foleyflow.library.audio import band_share_db
from foleyflow.library.index import index_library
from foleyflow.world import world
from foleyflow.world.voicing import Voicer, VoicingConfig
from foleyflow.world.world_config import impacts_config

PRE = 0.05  # each fixture recording starts with 50 ms of silence: the onset must be found, not assumed


def hit(path: Path, seed: int, rate: int = 44100) -> None:
    """A bright decaying hit (content up to ~20 kHz) after PRE s of silence."""
    rng = np.random.default_rng(seed)
    n = int(0.4 * rate)
    body = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.05 * rate))
    x = np.concatenate([np.zeros(int(PRE * rate)), body]) * 0.5
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, rate)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    for cat in ("WOODImpt", "METLImpt", "GLASImpt", "CERMImpt"):  # no rubber: it stays synthesized
        for i in range(10):
            hit(root / f"{cat}_Hit {i}_FF_T{i:02d}.wav", seed=hash((cat, i)) % 2**32)
    return index_library(root)


def first_impact_clip(voicer: Voicer, rate: int):
    for seed in range(200):
        clip = world.render_clip(seed, duration=2.0, fps=25, size=16, sample_rate=rate, config=impacts_config(),
                                 voicer=voicer)
        if clip.sources:
            return clip
    raise AssertionError("no voiced impact in 200 seeds")


def test_onsets_land_on_the_events(library):
    rate = 48000
    v = Voicer(library, "train", rate, config=VoicingConfig(layer_p=0.0, pitch_cents=0.0))
    clip = first_impact_clip(v, rate)
    i, (path,) = next(iter(clip.sources.items()))
    ev = clip.events[i]
    start = round(ev.time * rate)
    before = clip.audio[max(0, start - 480):start - 96]  # 10..2 ms before: at most the room tone
    after = clip.audio[start:start + 480]
    assert np.abs(after).max() > 20 * max(np.abs(before).max(), 1e-6)
    from foleyflow.world.voicing import IMPACT_CATEGORIES

    assert path.split("_")[0] in IMPACT_CATEGORIES[ev.material]  # a recording of the material struck


def test_only_recordings_of_the_split_are_used(library):
    for split in ("train", "test"):
        v = Voicer(library, split, 16000)
        allowed = {r.path for r in library.split(split)}
        for seed in range(30):
            clip = world.render_clip(seed, duration=2.0, fps=25, size=16, config=impacts_config(), voicer=v)
            for paths in clip.sources.values():
                assert set(paths) <= allowed
    assert {r.path for r in library.split("test")}.isdisjoint(r.path for r in library.split("train"))


def test_materials_the_library_lacks_stay_synthesized(library):
    from foleyflow.world.events import Event

    v = Voicer(library, "train", 16000)
    assert v.voices(Event(0.0, "impact", "wood", 1.0, 0)) and not v.voices(Event(0.0, "impact", "rubber", 1.0, 0))
    seen_rubber = False
    for seed in range(60):
        clip = world.render_clip(seed, duration=2.0, fps=25, size=16, config=impacts_config(), voicer=v)
        for i, ev in enumerate(clip.events):
            if ev.kind == "impact":
                assert (i in clip.sources) == (ev.material != "rubber")
                seen_rubber |= ev.material == "rubber"
    assert seen_rubber


def test_gain_follows_impact_speed(library):
    from foleyflow.world.events import Event

    v = Voicer(library, "train", 16000, config=VoicingConfig(layer_p=0.0, pitch_cents=0.0))
    events = [Event(0.1, "impact", "wood", 1.0, 0)]
    loud = v.voice(events, 16000, np.random.default_rng(1)).audio
    soft = v.voice([Event(0.1, "impact", "wood", 0.25, 0)], 16000, np.random.default_rng(1)).audio
    assert np.abs(loud).max() == pytest.approx(4 * np.abs(soft).max(), rel=1e-6)


def test_voiced_clips_carry_the_full_band(library):
    rate = 48000
    v = Voicer(library, "train", rate)
    voiced = first_impact_clip(v, rate)
    plain = world.render_clip(voiced.seed, duration=2.0, fps=25, size=16, sample_rate=rate, config=impacts_config())
    assert band_share_db(voiced.audio, rate) > band_share_db(plain.audio, rate) + 6


def test_without_a_voicer_the_world_is_unchanged(library):
    a = world.render_clip(7, duration=2.0, fps=25, size=16, config=impacts_config())
    b = world.render_clip(7, duration=2.0, fps=25, size=16, config=impacts_config(), voicer=None)
    assert np.array_equal(a.audio, b.audio) and a.sources == {}


def test_the_voicer_rate_must_match(library):
    with pytest.raises(ValueError, match="48000 Hz"):
        world.render_clip(1, duration=1.0, fps=25, size=16, sample_rate=16000, voicer=Voicer(library, "train", 48000))


def test_the_foley_kinds_are_voiced_by_their_categories(tmp_path):
    """recorded_config(): steps by FEETHmn recordings, strikes by WEAPSwrd; kinds the library lacks (here
    doors, breaks, digs) keep their synthesis and name no recording."""
    from foleyflow.world.world_config import recorded_config

    root = tmp_path / "lib"
    for cat in ("FEETHmn", "WEAPSwrd", "WOODImpt"):
        for i in range(6):
            hit(root / f"{cat}_Take {i}_FF_T{i}.wav", seed=i + 100 * len(cat))
    index = index_library(root)
    v = Voicer(index, "train", 16000)
    kinds_voiced, kinds_synth = set(), set()
    for seed in range(40):
        clip = world.render_clip(seed, duration=3.0, fps=25, size=16, config=recorded_config(), voicer=v)
        for i, ev in enumerate(clip.events):
            if i in clip.sources:
                kinds_voiced.add(ev.kind)
                cat = clip.sources[i][0].split("_")[0]
                assert cat == {"step": "FEETHmn", "strike": "WEAPSwrd", "impact": "WOODImpt"}[ev.kind]
            else:
                kinds_synth.add(ev.kind)
    assert {"step", "strike"} <= kinds_voiced
    assert {"door", "break", "dig"} <= kinds_synth and "step" not in kinds_synth


def test_foley_kinds_sound_without_a_library():
    from foleyflow.world.world_config import recorded_config

    for seed in range(20):
        clip = world.render_clip(seed, duration=3.0, fps=25, size=16, config=recorded_config())
        steps = [e for e in clip.events if e.kind in ("step", "door", "break", "dig", "strike")]
        if steps:
            start = int(np.ceil(steps[0].time * 16000))
            assert np.abs(clip.audio[start:start + 1600]).max() > 0
            return
    raise AssertionError("no Foley event in 20 seeds")


def test_one_hit_per_event_given_an_onset_detector(tmp_path):
    """A recording of two hits 0.3 s apart plays as one hit, cut before the second, when the Voicer has
    an onset detector (the evaluation's: export.dataset.library_voicer); whole without one."""
    from foleyflow.export.eval.onsets import detect_onsets

    rate = 48000
    rng = np.random.default_rng(5)
    n = int(0.25 * rate)
    body = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.02 * rate))
    x = np.concatenate([np.zeros(int(PRE * rate)), body, np.zeros(int(0.05 * rate)), body, np.zeros(rate // 10)])
    sf.write(tmp_path / "FEETHmn_Two Steps_FF_T00.wav", 0.5 * x, rate)
    index = index_library(tmp_path)
    rec = index.recordings[0]
    whole = Voicer(index, index.recordings[0].split, rate).sound(rec)
    one = Voicer(index, rec.split, rate, onsets=detect_onsets).sound(rec)
    second = int(0.30 * rate)  # the second hit, from the first one's onset
    assert len(whole) > second + n // 2 and np.abs(whole[second:second + 480]).max() > 0.5
    assert second - int(0.02 * rate) < len(one) <= second  # cut within 20 ms before the second hit
    assert np.abs(one[-10:]).max() < 1e-3  # faded to silence
    assert len(detect_onsets(one, rate)) <= 1
    never = Voicer(index, rec.split, rate, onsets=lambda a, r: np.zeros(0)).sound(rec)
    assert len(never) == len(whole)  # a detector that finds no second transient leaves it whole
