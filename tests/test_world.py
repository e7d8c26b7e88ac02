"""The synthetic Foley world: determinism, shapes, exact event timing in frames and audio, materials, the
sound classes and their signatures, silent distractors, the first (impacts-only) world and the OOD world."""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from foleyflow.world import scene, world
from foleyflow.world.world import (
    CLASSES,
    MATERIALS,
    Clip,
    Event,
    WorldConfig,
    clip_label,
    event_class,
    impact_sound,
    impacts_config,
    impacts_ood_config,
    ood_config,
    render_clip,
    split_seeds,
)

RATES = [Fraction(24000, 1001), Fraction(25), Fraction(30), Fraction(30000, 1001), Fraction(60)]

IMPACTS = impacts_config()
# One object, no striker, a still camera, a flat wall and known geometry: the floor line is at row 48 of 64.
PLAIN = replace(IMPACTS, n_objects=(1, 1), striker_probability=0.0, resting_probability=0.0, floor_level=(0.75, 0.75),
                zoom=(0.6, 0.6), camera_shake=(0.0, 0.0), sensor_noise=(0.0, 0.0), gradient=(0.0, 0.0),
                side_light=(1.0, 1.0), lighting=(1.0, 1.0), tint=0.0, audio_noise=(0.0, 0.0))
SR = 16000


def only(kind: str, **changes) -> WorldConfig:
    """The full world with one sound class and no second source or background noise."""
    return replace(WorldConfig(), classes=(kind,), secondary_probability=0.0, audio_noise=(0.0, 0.0), **changes)


def test_same_seed_same_clip_other_seed_other_clip() -> None:
    a, b, c = render_clip(11), render_clip(11), render_clip(12)
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.audio, b.audio)
    assert a.events == b.events
    assert not np.array_equal(a.frames, c.frames)
    assert a.events != c.events


@pytest.mark.parametrize("fps", RATES)
def test_shapes_dtypes_and_lengths(fps: Fraction) -> None:
    clip = render_clip(3, duration=2.0, fps=fps, size=32, sample_rate=22050)
    assert isinstance(clip, Clip)
    assert clip.frames.dtype == np.uint8
    assert clip.frames.shape == (math.ceil(2.0 * fps), 32, 32, 3)
    assert clip.audio.dtype == np.float32 and clip.audio.shape == (round(2.0 * 22050),)
    assert float(np.max(np.abs(clip.audio))) <= 1.0
    assert clip.fps == fps and clip.sample_rate == 22050 and clip.duration == 2.0 and clip.seed == 3


def test_frame_count_covers_duration_exactly() -> None:
    assert world.frame_count(4.0, Fraction(25)) == 100
    assert world.frame_count(4.0, Fraction(24000, 1001)) == 96  # 95.9 frames
    assert world.frame_count(1001 / 24000 * 10, Fraction(24000, 1001)) == 10  # no float overshoot


def test_scene_does_not_depend_on_rate_or_size() -> None:
    a = render_clip(5, fps=Fraction(24000, 1001), size=32, sample_rate=16000)
    b = render_clip(5, fps=Fraction(60), size=64, sample_rate=48000)
    assert a.events == b.events


def test_events_are_valid_sorted_and_inside_the_clip() -> None:
    for seed in range(24):
        clip = render_clip(seed, duration=3.0, size=16, sample_rate=8000)
        times = [e.time for e in clip.events]
        assert times == sorted(times)
        assert clip.events, "every clip sounds at least once"
        assert clip_label(clip) in CLASSES
        for e in clip.events:
            assert isinstance(e, Event)
            assert 0.0 <= e.time < 3.0
            assert e.kind in world.KINDS and e.material in MATERIALS and event_class(e) in CLASSES
            assert 0.0 < e.strength <= 1.0
            assert 0 <= e.obj < len(clip.objects) and clip.objects[e.obj] == e.material
            if e.kind == "impact":
                assert e.end is None
            else:
                assert e.end is not None and e.time < e.end <= 3.0


def test_event_statistics_are_frequent_separable_and_varied() -> None:
    counts, gaps, firsts = [], [], []
    for seed in range(40):
        ev = render_clip(seed, size=16, sample_rate=8000, config=IMPACTS).events
        counts.append(len(ev))
        gaps += list(np.diff([e.time for e in ev]))
        firsts.append(ev[0].time)
    rate = np.mean(counts) / 4.0
    assert 0.8 <= rate <= 3.5, rate
    assert np.mean(np.asarray(gaps) >= 0.1) > 0.8
    assert np.std(firsts) > 0.2, "the first event must not always come at the same time"


def test_audio_is_silent_before_the_first_event_and_sounds_right_after() -> None:
    sr = 16000
    cfg = replace(IMPACTS, audio_noise=(0.0, 0.0))
    for seed in range(10):
        clip = render_clip(seed, size=16, sample_rate=sr, config=cfg)
        n0 = math.ceil(clip.events[0].time * sr)  # first sample at or after the contact
        assert np.all(clip.audio[:n0] == 0.0)
        early = np.max(np.abs(clip.audio[n0:n0 + 3 * sr // 1000]))  # first 3 ms
        assert early > 0.3 * np.max(np.abs(clip.audio[n0:n0 + sr // 10]))


def test_audio_energy_rises_right_after_each_event() -> None:
    sr, w = 16000, 32  # 2 ms windows
    rises = []
    for seed in range(20):
        clip = render_clip(seed, size=16, sample_rate=sr, config=replace(IMPACTS, audio_noise=(0.0, 0.0)))
        x = clip.audio.astype(np.float64)
        for e in clip.events:
            n0 = math.ceil(e.time * sr)
            if n0 >= w:
                rises.append(np.mean(x[n0:n0 + w] ** 2) > 1.5 * np.mean(x[n0 - w:n0] ** 2))
    assert len(rises) > 50 and np.mean(rises) > 0.9  # a weak tap on a loudly ringing bell may not


def _bottom_gap(frame: np.ndarray, floor_row: int = 48) -> float:
    """Pixels between the floor line and the lowest object pixel above it (inf if none in view)."""
    above = frame[:floor_row].astype(np.int16)
    wall = np.median(above.reshape(-1, 3), axis=0)
    rows = np.nonzero(np.any(np.abs(above - wall).max(axis=-1) > 8, axis=1))[0]
    return math.inf if rows.size == 0 else float(floor_row - 1 - rows.max())


def test_object_touches_the_floor_in_the_frames_of_its_impacts() -> None:
    fps, size, scale, checked = Fraction(25), 64, 0.6 * 64, 0
    for seed in range(8):
        clip = render_clip(seed, fps=fps, size=size, config=PLAIN)
        for i, e in enumerate(clip.events):
            k = round(e.time * fps)
            if k >= len(clip.frames):
                continue
            dt = abs(k / fps - e.time)
            speed = 7.0 if e.strength >= 1.0 else e.strength * 6.0  # world units / s
            gap = _bottom_gap(clip.frames[k])
            assert gap <= speed * dt * scale + 1.5, (seed, e, gap)
            if i + 1 < len(clip.events):  # in the air half-way to the next bounce
                mid = round((e.time + clip.events[i + 1].time) / 2 * fps)
                if clip.events[i + 1].time - e.time > 0.2 and mid < len(clip.frames):
                    assert _bottom_gap(clip.frames[mid]) > gap + 1.0
            checked += 1
    assert checked >= 15


def _centroid_and_decay(x: np.ndarray, sr: int) -> tuple[float, float]:
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    tail = np.cumsum(x[::-1] ** 2)[::-1]  # energy from t on
    return float((p * f).sum() / p.sum()), float(np.argmax(tail < 1e-3 * tail[0]) / sr)


def test_materials_sound_measurably_different() -> None:
    sr = 16000
    stats = {}
    for m in MATERIALS:
        pairs = [_centroid_and_decay(impact_sound(m, 0.8, sample_rate=sr, duration=3.0, seed=s), sr)
                 for s in range(4)]
        stats[m] = np.mean(pairs, axis=0)
    centroid = {m: s[0] for m, s in stats.items()}
    decay = {m: s[1] for m, s in stats.items()}
    assert centroid["rubber"] < centroid["wood"] < centroid["metal"] < centroid["glass"]
    assert centroid["wood"] < centroid["ceramic"] < centroid["glass"]
    assert decay["rubber"] < decay["wood"] < decay["ceramic"] < decay["glass"] < decay["metal"]
    assert decay["metal"] > 1.0 and decay["rubber"] < 0.1


def test_clip_audio_follows_the_material() -> None:
    def centroid(material: str) -> float:
        cfg = replace(IMPACTS, materials=(material,), audio_noise=(0.0, 0.0))
        return float(np.mean([_centroid_and_decay(render_clip(s, size=16, config=cfg).audio, 16000)[0]
                              for s in range(3)]))

    assert centroid("rubber") < centroid("wood") < centroid("glass")


def test_louder_for_harder_impacts() -> None:
    soft = impact_sound("wood", 0.2, seed=1)
    hard = impact_sound("wood", 0.9, seed=1)
    assert np.sqrt(np.mean(hard**2)) > 3.0 * np.sqrt(np.mean(soft**2))


def _object_colour(material: str) -> np.ndarray:
    cols = []
    for seed in range(3):
        cfg = replace(PLAIN, materials=(material,), disc_probability=1.0)
        clip = render_clip(seed, fps=Fraction(25), size=64, config=cfg)
        k = round(clip.events[0].time * 25)
        above = clip.frames[k, :48].astype(np.float64)
        wall = np.median(above.reshape(-1, 3), axis=0)
        mask = np.abs(above - wall).max(axis=-1) > 40
        cols.append(above[mask].mean(axis=0))
    return np.mean(cols, axis=0)


def test_materials_look_different() -> None:
    c = {m: _object_colour(m) for m in ("wood", "metal", "rubber", "ceramic")}
    luma = {m: float(v @ [0.299, 0.587, 0.114]) for m, v in c.items()}
    assert luma["rubber"] < luma["wood"] < luma["metal"] < luma["ceramic"]
    assert c["wood"][0] - c["wood"][2] > 60  # brown
    assert abs(c["metal"][0] - c["metal"][2]) < 30  # grey


def test_split_seeds_are_deterministic_and_disjoint() -> None:
    splits = {s: split_seeds(s, 1000) for s in ("train", "val", "test", "ood")}
    assert splits["train"] == split_seeds("train", 1000)
    assert all(len(set(v)) == 1000 for v in splits.values())
    union = set().union(*splits.values())
    assert len(union) == 4000
    assert split_seeds("val", 3) == split_seeds("val", 10)[:3]
    with pytest.raises(ValueError):
        split_seeds("dev", 3)


def test_ood_world_differs_and_renders() -> None:
    cfg, base = ood_config(), WorldConfig()
    assert cfg != base
    assert cfg.size[1] < base.size[0]  # ranges the training world never shows
    assert cfg.slide_speed[0] >= base.slide_speed[1] and cfg.roll_size[1] < base.roll_size[0]
    assert cfg.motor_size[0] >= base.motor_size[1] and cfg.shutter[0] >= base.shutter[1]
    assert cfg.classes == CLASSES
    clip = render_clip(split_seeds("ood", 1)[0], duration=2.0, size=32, config=cfg)
    assert clip.frames.shape == (50, 32, 32, 3) and clip.events
    labels = {scene.sample_scene(s, 4.0, cfg).label for s in split_seeds("ood", 80)}
    assert labels == set(CLASSES)


def test_impacts_ood_world_keeps_the_impact_classes_and_the_ood_ranges() -> None:
    cfg, ood = impacts_ood_config(), ood_config()
    assert cfg.classes == MATERIALS and cfg.secondary_probability == 0.0
    assert (cfg.size, cfg.gravity, cfg.shutter, cfg.distractors) == (ood.size, ood.gravity, ood.shutter, ood.distractors)
    labels = {scene.sample_scene(s, 4.0, cfg).label for s in split_seeds("ood", 40)}
    assert labels <= set(MATERIALS) and len(labels) >= 4


def test_bad_arguments_raise() -> None:
    with pytest.raises(TypeError):
        render_clip(0, fps=29.97)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        render_clip(0, duration=0.0)
    with pytest.raises(ValueError):
        render_clip(0, config=WorldConfig(materials=("cheese",)))
    with pytest.raises(ValueError):
        impact_sound("cheese")


@pytest.mark.parametrize("name", sorted(p.name for p in Path(world.__file__).parent.glob("*.py")))
def test_no_torch(name: str) -> None:
    tree = ast.parse((Path(world.__file__).parent / name).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "torch" not in imported


# ----------------------------------------------------------------------------------------------
# The first world, kept
# ----------------------------------------------------------------------------------------------

# Events of the first world (before sliding, rolling and motors existed), seeds 0 and 7 at 25 fps.
FIRST_WORLD = {
    0: ([(1.484119107, "wood", 0.912192404, 0), (2.157155086, "wood", 0.560863316, 0),
         (2.570972598, "wood", 0.344847927, 0), (2.825409119, "wood", 0.212030434, 0),
         (2.98184992, "wood", 0.130367335, 0)], 0.014654143, (136.775, 157.604, 133.149)),
    7: ([(0.838177523, "rubber", 0.910530403, 0), (1.241560723, "metal", 0.842301184, 1),
         (1.531306024, "rubber", 0.577607085, 0), (1.738771052, "metal", 0.414341941, 1),
         (1.971001318, "rubber", 0.366412745, 0), (1.983357071, "metal", 0.203821682, 1),
         (2.103672995, "metal", 0.10026327, 1), (2.249927882, "rubber", 0.232438804, 0),
         (2.426868662, "rubber", 0.14745065, 0), (2.6335457, "metal", 0.616602803, 1),
         (3.486133092, "rubber", 0.484790674, 0)], 0.035005920, (88.754, 95.53, 80.307)),
}


@pytest.mark.parametrize("seed", sorted(FIRST_WORLD))
def test_impacts_config_reproduces_the_first_world(seed: int) -> None:
    events, rms, means = FIRST_WORLD[seed]
    clip = render_clip(seed, config=impacts_config())
    got = [(round(e.time, 9), e.material, round(e.strength, 9), e.obj) for e in clip.events]
    assert got == events
    assert all(e.kind == "impact" and e.end is None for e in clip.events)
    assert float(np.sqrt(np.mean(clip.audio.astype(np.float64) ** 2))) == pytest.approx(rms, rel=1e-4)
    assert clip.frames.reshape(-1, 3).mean(axis=0) == pytest.approx(means, abs=0.01)


def test_impacts_config_yields_only_impacts_on_a_plain_stage() -> None:
    cfg = impacts_config()
    for seed in range(40):
        sc = scene.sample_scene(seed, 4.0, cfg)
        assert sc.events and all(e.kind == "impact" for e in sc.events)
        assert not sc.motors and not sc.distractors and not sc.pendulums
        assert not any(st.hand for st in sc.strikes)
        look = sc.look
        assert look.wall_kind is None and look.floor_kind is None and look.occluder is None
        assert look.shutter == 0 and look.quality is None and look.light(np.zeros(3)) is None


# ----------------------------------------------------------------------------------------------
# Sound classes of the full world
# ----------------------------------------------------------------------------------------------


def test_every_class_appears_and_labels_are_balanced() -> None:
    labels = [scene.sample_scene(seed, 4.0, WorldConfig()).label for seed in range(240)]
    counts = {c: labels.count(c) for c in CLASSES}
    assert len(CLASSES) >= 6 and set(CLASSES) >= set(MATERIALS) | {"scrape", "roll", "motor"}
    assert min(counts.values()) >= 240 / len(CLASSES) / 2, counts
    for seed in range(6):  # the rendered clip's label is the scene's
        clip = render_clip(seed, duration=4.0, size=16, sample_rate=8000)
        assert clip_label(clip) == scene.sample_scene(seed, 4.0, WorldConfig()).label


def test_clip_label_is_the_heaviest_class() -> None:
    clip = Clip(np.zeros((1, 8, 8, 3), np.uint8), Fraction(25), np.zeros(8, np.float32), 16000,
                [Event(0.1, "impact", "wood", 0.5, 0), Event(0.5, "scrape", "wood", 0.5, 0, 2.5)], 3.0, 0, ["wood"])
    assert clip_label(clip) == "scrape"
    clip.events = [Event(0.1, "impact", "metal", 0.9, 0), Event(0.5, "impact", "wood", 0.3, 1)]
    assert clip_label(clip) == "metal"


def _rms(x: np.ndarray, w: int) -> np.ndarray:
    n = len(x) // w
    return np.sqrt(np.mean(x[: n * w].reshape(n, w).astype(np.float64) ** 2, axis=1))


def _spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x)))) ** 2
    return np.fft.rfftfreq(len(x), 1.0 / sr), p


def _centroid(x: np.ndarray, sr: int) -> float:
    f, p = _spectrum(x, sr)
    return float((f * p).sum() / p.sum())


@pytest.mark.parametrize("kind", ["scrape", "roll", "motor"])
def test_continuous_sounds_start_and_stop_sample_exactly(kind: str) -> None:
    stopped = 0
    for seed in range(6):
        clip = render_clip(seed, duration=3.0, size=16, sample_rate=SR, config=only(kind))
        (e,) = clip.events
        assert e.kind == kind and e.end is not None and 0.0 < e.time < e.end <= 3.0
        n0, n1 = math.ceil(e.time * SR), math.ceil(e.end * SR)
        assert np.all(clip.audio[:n0] == 0.0) and clip.audio[n0] != 0.0
        assert np.mean(clip.audio[n0:n0 + 32].astype(np.float64) ** 2) > 0
        assert np.all(clip.audio[n1:] == 0.0)
        stopped += e.end < 3.0
    assert stopped, "some continuous sound stops inside its clip"


def test_scrape_is_broadband_noise_whose_level_and_brightness_follow_the_speed() -> None:
    cfg = only("scrape")
    level, bright = [], []
    for seed in range(6):
        clip = render_clip(seed, duration=4.0, size=16, sample_rate=SR, config=cfg)
        (e,) = clip.events
        track = scene.sample_scene(seed, 4.0, cfg).source(e.obj).xtrack
        w = 320  # 20 ms
        rms = _rms(clip.audio, w)
        tc = (np.arange(rms.size) + 0.5) * w / SR
        inside = (tc > e.time + 0.03) & (tc < e.end - 0.03)
        speed = track.speed(tc)
        level.append(np.corrcoef(rms[inside], speed[inside])[0, 1])
        cents = [_centroid(clip.audio[round(t * SR) - w // 2: round(t * SR) + w // 2], SR) for t in tc[inside]]
        bright.append(np.corrcoef(cents, speed[inside])[0, 1])
        f, p = _spectrum(clip.audio[math.ceil(e.time * SR): math.ceil(e.end * SR)], SR)
        band = (f > 100) & (f < 6000)
        share_high = p[f > 2000].sum() / p.sum()
        assert share_high > 0.05  # broadband: real energy above 2 kHz
        assert np.exp(np.mean(np.log(p[band] + 1e-20))) / np.mean(p[band]) > 0.05  # flat-ish: noise, not tones
    assert np.median(level) > 0.8 and min(level) > 0.6, level
    assert np.median(bright) > 0.3, bright


def test_roll_is_a_low_rumble_whose_level_follows_the_speed() -> None:
    cfg = only("roll")
    level, cents = [], []
    for seed in range(6):
        clip = render_clip(seed, duration=4.0, size=16, sample_rate=SR, config=cfg)
        (e,) = clip.events
        track = scene.sample_scene(seed, 4.0, cfg).source(e.obj).xtrack
        w = 800  # 50 ms
        rms = _rms(clip.audio, w)
        tc = (np.arange(rms.size) + 0.5) * w / SR
        inside = (tc > e.time + 0.05) & (tc < e.end - 0.05)
        if inside.sum() >= 6:
            level.append(np.corrcoef(rms[inside], track.speed(tc)[inside])[0, 1])
        cents.append(_centroid(clip.audio[math.ceil(e.time * SR): math.ceil(e.end * SR)], SR))
    assert max(cents) < 400, cents  # a rumble, far below a scrape's friction noise
    assert len(level) >= 3 and np.median(level) > 0.6, level


def test_motor_envelope_is_periodic_at_its_visible_rotation() -> None:
    """The motor's sound swells at the rotation rate or the blade-pass rate, and the frames of its rotor
    change at one of those same rates."""
    still = dict(camera_shake=(0.0, 0.0), sensor_noise=(0.0, 0.0), flicker_probability=0.0,
                 light_change_probability=0.0, compression_probability=0.0, distractors=(0, 0),
                 occluder_probability=0.0, shutter=(0.0, 0.0))
    cfg = only("motor", **still)
    checked = 0
    for seed in range(6):
        clip = render_clip(seed, duration=4.0, fps=Fraction(25), size=64, sample_rate=SR, config=cfg)
        sc = scene.sample_scene(seed, 4.0, cfg)
        (m,) = sc.motors
        t0, t1 = m.t_on + 5 * m.tau_up, min(m.t_off, 4.0)
        if t1 - t0 < 0.7:
            continue
        rates = np.array([m.rate_max, m.rate_max * m.blades])
        # audio: envelope in 5 ms steps
        env = _rms(clip.audio[math.ceil(t0 * SR): int(t1 * SR)], 80)
        env -= env.mean()
        n = 1 << 15
        spec = np.abs(np.fft.rfft(env * np.hanning(env.size), n)) ** 2
        f = np.fft.rfftfreq(n, 80 / SR)
        band = (f > 0.5) & (f < 20)
        heard = f[band][np.argmax(spec[band])]
        assert np.min(np.abs(rates - heard) / rates) < 0.08, (seed, heard, rates)
        # frames: pixel changes over the rotor
        R, hx = m.radius * sc.zoom * 64, m.x * sc.zoom * 64
        hy = sc.floor_level * 64 - m.y * sc.zoom * 64
        k0, k1 = math.ceil(t0 * 25), int(t1 * 25)
        rotor = clip.frames[k0:k1, int(hy - R):int(hy + R), int(hx - R):int(hx + R)].astype(np.float64)
        rotor = rotor.reshape(k1 - k0, -1) - rotor.reshape(k1 - k0, -1).mean(axis=0)
        pv = (np.abs(np.fft.rfft(rotor * np.hanning(k1 - k0)[:, None], n=1024, axis=0)) ** 2).sum(axis=1)
        fv = np.fft.rfftfreq(1024, 1 / 25)
        seen = fv[fv > 0.5][np.argmax(pv[fv > 0.5])]
        assert np.min(np.abs(rates - seen)) < 0.35, (seed, seen, rates)
        checked += 1
    assert checked >= 3


def test_impact_sounds_start_at_their_events_in_the_full_world() -> None:
    """Impacts in full-world scenes (with textures, blur, distractors...) still sound sample-exactly."""
    cfg = replace(WorldConfig(), classes=MATERIALS, audio_noise=(0.0, 0.0))
    for seed in range(6):
        clip = render_clip(seed, size=16, sample_rate=SR, config=cfg)
        n0 = math.ceil(clip.events[0].time * SR)
        assert np.all(clip.audio[:n0] == 0.0) and clip.audio[n0] != 0.0


def test_the_same_seed_gives_the_same_full_clip() -> None:
    for seed in (3, 21):  # a motor; a hand pushing a box
        a, b = render_clip(seed, size=32), render_clip(seed, size=32)
        assert np.array_equal(a.frames, b.frames) and np.array_equal(a.audio, b.audio) and a.events == b.events


# ----------------------------------------------------------------------------------------------
# Silent distractors, looks, sources leaving the frame
# ----------------------------------------------------------------------------------------------


def test_distractors_and_looks_make_no_sound() -> None:
    quiet = replace(WorldConfig(), distractors=(0, 0), flicker_probability=0.0, light_change_probability=0.0,
                    occluder_probability=0.0)
    busy = replace(WorldConfig(), distractors=(3, 3), flicker_probability=1.0, light_change_probability=1.0,
                   occluder_probability=1.0)
    for seed in range(4):
        a = render_clip(seed, duration=2.0, size=32, config=quiet)
        b = render_clip(seed, duration=2.0, size=32, config=busy)
        assert a.events == b.events and np.array_equal(a.audio, b.audio)
        assert not np.array_equal(a.frames, b.frames)
        sc = scene.sample_scene(seed, 2.0, busy)
        assert len(sc.distractors) + len(sc.pendulums) == 3 and sc.look.occluder is not None
        assert all(o.index == -1 for o in sc.distractors)


def test_distractors_never_touch_the_floor() -> None:
    t = np.linspace(0.0, 4.0, 401)
    for seed in range(30):
        sc = scene.sample_scene(seed, 4.0, replace(WorldConfig(), distractors=(2, 2)))
        for o in sc.distractors + [p.bob for p in sc.pendulums]:
            assert np.min(o.y(t) - o.hh) > 0.05


def test_the_world_has_hands_textures_blur_and_occluders() -> None:
    scenes = [scene.sample_scene(seed, 4.0, WorldConfig()) for seed in range(60)]
    assert sum(st.hand for sc in scenes for st in sc.strikes) >= 5
    assert len({sc.look.wall_kind for sc in scenes}) >= 5 and len({sc.look.floor_kind for sc in scenes}) >= 4
    assert sum(sc.look.shutter > 0.1 for sc in scenes) >= 20
    assert sum(sc.look.occluder is not None for sc in scenes) >= 8
    assert sum(sc.look.quality is not None for sc in scenes) >= 8
    # a textured wall is busier than a flat one
    flat = render_clip(0, duration=0.2, size=64, config=replace(WorldConfig(), texture_probability=0.0))
    rich = render_clip(0, duration=0.2, size=64, config=replace(WorldConfig(), texture_probability=1.0))
    wall = slice(4, 30)
    busy = lambda c: float(np.abs(np.diff(c.frames[0, wall].astype(np.float64), axis=1)).mean())  # noqa: E731
    assert busy(rich) > busy(flat)


def test_sources_leave_the_frame_and_go_on_sounding() -> None:
    """A slid or rolled object may leave the frame; its sound lasts while it moves, seen or not."""
    left = 0
    for seed in range(60):
        sc = scene.sample_scene(seed, 4.0, WorldConfig())
        view_w = 1.0 / sc.zoom
        for e in sc.events:
            if e.kind in ("scrape", "roll"):
                o = sc.source(e.obj)
                t = np.linspace(e.time, e.end, 200)
                x = o.x(t)
                assert np.all(o.xtrack.speed(t[:-1]) > 0)  # sounding while moving...
                if e.end < 4.0:
                    assert o.xtrack.speed(np.asarray([e.end + 1e-6]))[0] == 0.0  # ...and silent once still
                left += bool(np.any((x + o.hw < 0) | (x - o.hw > view_w)))
    assert left >= 2


def test_the_distractor_world_moves_silently_and_touches_nothing():
    """distractor_config(): no sounding source, one to three silent distractors, the recorded world's look
    and camera; no events, and its audio (the room tone) has no onsets in either look."""
    from foleyflow.export.eval.onsets import detect_onsets
    from foleyflow.world.world_config import distractor_config

    cfg = distractor_config()
    assert not cfg.sources and cfg.distractors == (1, 3)
    for seed in world.split_seeds("test", 4):
        sc = scene.sample_scene(seed, 4.0, cfg)
        assert not sc.events and not sc.objects and not sc.foley
        assert 1 <= len(sc.distractors) + len(sc.pendulums) <= 3
        for look in ("a", "b"):
            clip = world.render_clip(seed, 4.0, Fraction(25), 32, 16000, cfg, look=look)
            assert clip.events == [] and detect_onsets(clip.audio, 16000).size == 0
            assert float(np.abs(np.diff(clip.frames.astype(np.float32), axis=0)).mean()) > 0  # something moves
