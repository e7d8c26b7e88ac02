"""The synthetic Foley world: determinism, shapes, exact event timing in frames and audio, materials."""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from foleyflow.export.data import world
from foleyflow.export.data.world import (
    MATERIALS,
    Clip,
    Event,
    WorldConfig,
    impact_sound,
    ood_config,
    render_clip,
    split_seeds,
)

RATES = [Fraction(24000, 1001), Fraction(25), Fraction(30), Fraction(30000, 1001), Fraction(60)]

# One object, no striker, a still camera, a flat wall and known geometry: the floor line is at row 48 of 64.
PLAIN = WorldConfig(n_objects=(1, 1), striker_probability=0.0, resting_probability=0.0, floor_level=(0.75, 0.75),
                    zoom=(0.6, 0.6), camera_shake=(0.0, 0.0), sensor_noise=(0.0, 0.0), gradient=(0.0, 0.0),
                    side_light=(1.0, 1.0), lighting=(1.0, 1.0), tint=0.0, audio_noise=(0.0, 0.0))


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
    for seed in range(20):
        clip = render_clip(seed, duration=3.0, size=32)
        times = [e.time for e in clip.events]
        assert times == sorted(times)
        assert clip.events, "every clip sounds at least once"
        for e in clip.events:
            assert isinstance(e, Event)
            assert 0.0 <= e.time < 3.0
            assert e.kind == "impact" and e.material in MATERIALS
            assert 0.0 < e.strength <= 1.0
            assert 0 <= e.obj < len(clip.objects) and clip.objects[e.obj] == e.material


def test_event_statistics_are_frequent_separable_and_varied() -> None:
    counts, gaps, firsts = [], [], []
    for seed in range(40):
        ev = render_clip(seed, size=16, sample_rate=8000).events
        counts.append(len(ev))
        gaps += list(np.diff([e.time for e in ev]))
        firsts.append(ev[0].time)
    rate = np.mean(counts) / 4.0
    assert 0.8 <= rate <= 3.5, rate
    assert np.mean(np.asarray(gaps) >= 0.1) > 0.8
    assert np.std(firsts) > 0.2, "the first event must not always come at the same time"


def test_audio_is_silent_before_the_first_event_and_sounds_right_after() -> None:
    sr = 16000
    cfg = WorldConfig(audio_noise=(0.0, 0.0))
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
        clip = render_clip(seed, size=16, sample_rate=sr, config=WorldConfig(audio_noise=(0.0, 0.0)))
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
        cfg = WorldConfig(materials=(material,), audio_noise=(0.0, 0.0))
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
    cfg = ood_config()
    assert cfg != WorldConfig()
    assert cfg.size[1] < WorldConfig().size[0]  # a range the training world never shows
    clip = render_clip(split_seeds("ood", 1)[0], duration=2.0, size=32, config=cfg)
    assert clip.frames.shape == (50, 32, 32, 3) and clip.events


def test_bad_arguments_raise() -> None:
    with pytest.raises(TypeError):
        render_clip(0, fps=29.97)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        render_clip(0, duration=0.0)
    with pytest.raises(ValueError):
        render_clip(0, config=WorldConfig(materials=("cheese",)))
    with pytest.raises(ValueError):
        impact_sound("cheese")


@pytest.mark.parametrize("name", ["world.py", "video_io.py"])
def test_no_torch(name: str) -> None:
    tree = ast.parse((Path(world.__file__).parent / name).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "torch" not in imported
