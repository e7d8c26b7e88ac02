"""The Foley kinds of the synthetic world (step, door, break, dig, strike) in ``recorded_config()``: each
appears, is seen at its exact contact (a foot on the floor, the door shut in its frame, the glass gone
once it shatters, a blade in the ground, two blades touching), moves continuously, and sounds from its
event on; the older worlds render exactly as before."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from foleyflow.world import events as ev_mod
from foleyflow.world import scene as sc_mod
from foleyflow.world import synth
from foleyflow.world.events import (
    CLASSES,
    FOLEY_CLASSES,
    FOLEY_KINDS,
    FOLEY_MATERIALS,
    KINDS,
    MATERIALS,
    Event,
    dominant_class,
)
from foleyflow.world.render import render
from foleyflow.world.scene import Breakable, Clash, Door, Shovel, Walker, sample_scene, validate
from foleyflow.world.world import render_clip
from foleyflow.world.world_config import WorldConfig, impacts_config, ood_config, recorded_config

RECORDED = recorded_config()
# a still, clean camera: the floor line is exactly where the scene says, and frames compare exactly
STILL = replace(RECORDED, camera_shake=(0.0, 0.0), sensor_noise=(0.0, 0.0), compression_probability=0.0,
                shutter=(0.0, 0.0), occluder_probability=0.0, distractors=(0, 0), flicker_probability=0.0,
                light_change_probability=0.0, secondary_probability=0.0)
SEEDS = range(80)


@pytest.fixture(scope="module")
def scenes() -> list[sc_mod.Scene]:
    return [sample_scene(seed, 4.0, RECORDED) for seed in SEEDS]


def _first(kind: str, cfg: WorldConfig = STILL, n: int = 3) -> list[sc_mod.Scene]:
    out = []
    for seed in range(400):
        sc = sample_scene(seed, 4.0, cfg)
        if sc.label == kind:
            out.append(sc)
            if len(out) == n:
                break
    assert len(out) == n, kind
    return out


def test_classes_stay_backward_compatible_and_the_preset_is_valid() -> None:
    assert CLASSES == MATERIALS + ("scrape", "roll", "motor")
    assert FOLEY_KINDS == ("step", "door", "break", "dig", "strike")
    assert set(FOLEY_KINDS) <= set(KINDS) and FOLEY_CLASSES == CLASSES + FOLEY_KINDS
    assert WorldConfig().classes == CLASSES and "motor" not in RECORDED.classes
    assert set(RECORDED.classes) == set(MATERIALS) | set(FOLEY_KINDS)
    validate(RECORDED)
    with pytest.raises(ValueError):
        validate(replace(RECORDED, surfaces=("lava",)))
    with pytest.raises(ValueError):
        validate(replace(RECORDED, classes=("dance",)))


def test_every_foley_kind_appears_and_events_are_valid(scenes: list[sc_mod.Scene]) -> None:
    kinds, labels = set(), set()
    for sc in scenes:
        times = [e.time for e in sc.events]
        assert sc.events and times == sorted(times)
        labels.add(sc.label)
        for e in sc.events:
            assert 0.0 <= e.time < 4.0 and 0.0 < e.strength <= 1.0
            assert e.kind in KINDS and e.kind != "motor"
            assert sc.names[e.obj] == e.material
            if e.kind in FOLEY_KINDS:
                kinds.add(e.kind)
                assert e.end is None and e.material in FOLEY_MATERIALS[e.kind]
                assert sc.source(e.obj) in sc.foley  # world.py's lookup finds it
    assert kinds == set(FOLEY_KINDS)
    assert labels >= set(FOLEY_KINDS) and labels <= set(FOLEY_CLASSES)
    surfaces = {e.material for sc in scenes for e in sc.events if e.kind == "step"}
    assert len(surfaces) >= 4


def test_a_recorded_clip_renders_end_to_end() -> None:
    seed = next(s for s in range(400) if sample_scene(s, 4.0, RECORDED).label == "door")
    sc = sample_scene(seed, 4.0, RECORDED)
    clip = render_clip(seed, duration=4.0, size=32, sample_rate=8000, config=RECORDED)
    assert clip.frames.shape == (100, 32, 32, 3) and clip.frames.dtype == np.uint8
    assert clip.events == sc.events and np.all(np.isfinite(clip.audio))


def test_each_step_lands_a_foot_on_the_floor() -> None:
    checked = 0
    for sc in _first("step"):
        w = next(f for f in sc.foley if isinstance(f, Walker))
        steps = [e for e in sc.events if e.kind == "step"]
        t = np.asarray([e.time for e in steps])
        fx, fy = w.feet(t)
        _, before = w.feet(t - 0.02)
        assert np.all(np.min(fy, axis=0) == 0.0)  # a sole on the floor line at every step...
        landing = (fy == 0.0) & (before > 1e-4)  # ...the one that was in the air just before
        assert np.all(landing.sum(axis=0) == 1)
        dt = 1e-6  # strength follows the sole's downward speed as it lands
        down = np.max(w.feet(t - dt)[1], axis=0) / dt
        assert np.minimum(1.0, down / synth.MAX_STEP) == pytest.approx([e.strength for e in steps], rel=1e-3)
        # in the frame at the exact event time, the foot is drawn touching the floor line
        size = 64
        scale, floor_row = sc.zoom * size, sc.floor_level * size
        with_ = render(sc, t, size, np.random.default_rng(0))
        without = render(replace(sc, foley=[]), t, size, np.random.default_rng(0))
        for i in range(len(steps)):
            f = int(np.argmax(landing[:, i]))
            col = int(fx[f, i] * scale)
            if not 1 <= col < size - 1:
                continue
            rows = slice(int(math.floor(floor_row - 2)), int(math.floor(floor_row)))
            diff = np.abs(with_[i, rows, col - 1:col + 2].astype(int) - without[i, rows, col - 1:col + 2]).max()
            assert diff > 12, (i, diff)
            checked += 1
    assert checked >= 8


def test_the_door_is_shut_in_its_frame_from_its_event_on() -> None:
    for sc in _first("door"):
        d = next(f for f in sc.foley if isinstance(f, Door))
        for e in (e for e in sc.events if e.kind == "door"):
            assert d.open(np.asarray([e.time - 0.03]))[0] > 0.0  # still moving in just before
            after = np.linspace(e.time, e.time + 0.25, 26)
            assert np.all(d.open(after) == 0.0)
            qx, qy = d.panel(np.asarray(e.time))
            assert sorted(qx.tolist()) == pytest.approx([d.x, d.x, d.x + d.width, d.x + d.width])
            assert sorted(qy.tolist()) == pytest.approx([0.0, 0.0, d.height, d.height])
            # its closing edge moves fastest as it hits (the strength follows that speed)
            dt = 1e-5
            v = abs(float(d.open(np.asarray(e.time - dt))) - 0.0) / dt * d.width * (1 if d.slide else d.max_angle)
            assert min(1.0, v / synth.MAX_DOOR) == pytest.approx(e.strength, rel=1e-3)


def test_shattered_glass_is_gone_and_only_its_shards_remain() -> None:
    size = 64
    for sc in _first("break"):
        for g in (f for f in sc.foley if isinstance(f, Breakable)):
            t_c = g.t_contact
            assert g.present(np.asarray([t_c - 1e-6]))[0] and not g.present(np.asarray([t_c]))[0]
            assert float(g.ypath(np.asarray(t_c))) == pytest.approx(0.0, abs=1e-9)  # it lands at the contact
            if t_c > 3.8 or t_c + float(g.shard_land.max()) > 3.9:
                continue
            gone = replace(g, t_contact=-math.inf)  # never whole; its shards where they land
            other = replace(sc, foley=[gone if f is g else f for f in sc.foley])
            t = np.asarray([t_c - 0.03, t_c + float(g.shard_land.max()) + 0.02])
            a = render(sc, t, size, np.random.default_rng(0))
            b = render(other, t, size, np.random.default_rng(0))
            assert np.abs(a[0].astype(int) - b[0]).max() > 20  # falling: seen
            assert np.array_equal(a[1], b[1])  # after: exactly as if it had never been whole


def test_dig_and_strike_touch_at_their_events() -> None:
    for sc in _first("dig"):
        s = next(f for f in sc.foley if isinstance(f, Shovel))
        for e in (e for e in sc.events if e.kind == "dig"):
            _, y = s.tip(np.asarray([e.time - 0.01, e.time, e.time + 0.01]))
            assert y[0] > 0.0 and y[1] == pytest.approx(0.0, abs=1e-9) and y[2] < 0.0
            _, _, fly = s.dirt(np.asarray([e.time - 0.01, e.time + 0.02]), list(s.contacts).index(e.time))
            assert not fly[:, 0].any() and fly[:, 1].all()  # dirt flies up from the contact on
    for sc in _first("strike"):
        c = next(f for f in sc.foley if isinstance(f, Clash))
        for e in (e for e in sc.events if e.kind == "strike"):
            t = np.asarray([e.time - 0.03, e.time])
            tx, ty = c.swung(t)
            ax, ay, bx, by = c.held(t)
            gap = [_seg_point(tx[i], ty[i], ax[i], ay[i], bx[i], by[i]) for i in range(2)]
            assert gap[1] == pytest.approx(c.radius_swung + c.radius_held, abs=1e-6)  # outlines touch
            assert gap[0] > gap[1] + 0.01


def _seg_point(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    u = min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - u * dx, py - ay - u * dy)


def test_foley_motion_is_continuous(scenes: list[sc_mod.Scene]) -> None:
    t = np.arange(-0.5, 4.5, 1e-4)
    seen = set()
    for sc in scenes:
        for f in sc.foley:
            if isinstance(f, Walker):
                tracks = [*f.feet(t)[0], *f.feet(t)[1], *(v for xy in f.pose(t).values() for v in xy)]
            elif isinstance(f, Door):
                tracks = [f.open(t), *f.panel(t)[0]]
            elif isinstance(f, Breakable):
                before = t < f.t_contact
                tracks = [f.xpath(t[before]), f.ypath(t[before]), *f.shards(t[~before])[0], *f.shards(t[~before])[1]]
            elif isinstance(f, Shovel):
                tracks = [*f.tip(t)]
            else:
                tracks = [f.angle(t), *f.held(t)]
            seen.add(type(f))
            for x in tracks:
                assert x.size < 2 or np.max(np.abs(np.diff(x))) < 0.005, type(f)  # < 50 units / s: no jumps
    assert seen == {Walker, Door, Breakable, Shovel, Clash}


@pytest.mark.parametrize("kind", FOLEY_KINDS)
def test_add_event_sound_starts_at_its_event(kind: str) -> None:
    for sr in (8000, 16000, 44100):
        for material in FOLEY_MATERIALS[kind]:
            t0 = 0.123457
            out = np.zeros(sr, dtype=np.float64)
            synth.add_event_sound(out, sr, Event(t0, kind, material, 0.7, 0), np.random.default_rng(1))
            n0 = math.ceil(t0 * sr)
            assert np.all(out[:n0] == 0.0)  # no energy before the event
            assert np.nonzero(out)[0][0] == n0  # sample-exact: it sounds from the first sample at or after it
            peak = np.max(np.abs(out))
            assert np.max(np.abs(out[n0:n0 + sr // 50])) > 0.5 * peak > 0  # it attacks at once
            quiet = np.zeros(sr)
            synth.add_event_sound(quiet, sr, Event(t0, kind, material, 0.2, 0), np.random.default_rng(1))
            assert np.sum(quiet**2) < np.sum(out**2)  # louder for a harder contact
    out = np.zeros(100)
    synth.add_event_sound(out, 1000, Event(0.01, "impact", "wood", 1.0, 0), np.random.default_rng(0))
    synth.add_event_sound(out, 1000, Event(0.2, kind, FOLEY_MATERIALS[kind][0], 1.0, 0), np.random.default_rng(0))
    assert not out.any()  # other kinds, and events past the end, are left alone


def test_foley_weights_and_dominant_class() -> None:
    step = Event(0.1, "step", "gravel", 0.5, 0)
    assert ev_mod.event_weight(step) == pytest.approx(0.25 * ev_mod._EVENT_ENERGY["step"]["gravel"])
    assert dominant_class([step, Event(0.5, "impact", "wood", 0.1, 1)]) == "step"
    assert dominant_class([Event(0.5, "strike", "metal", 1.0, 0), step]) == "strike"
    # the measured energies are the synthesis' (within a factor of two over a few draws)
    for kind, by in ev_mod._EVENT_ENERGY.items():
        for material, energy in by.items():
            e = np.mean([np.sum(synth.foley_sound(kind, material, 1.0, 16000, 3.5, s) ** 2) / 16000 for s in range(4)])
            assert 0.5 < e / energy < 2.0, (kind, material, e)


# Audio and frame digests (sha256 of the float32 audio's and the uint8 frames' bytes) of older worlds'
# clips, render_clip(seed, duration=2.0, size=32, sample_rate=8000, config=...), computed by running that
# with the code as it was before the Foley kinds were added (commit f460271, world/ unvoiced): the
# Foley kinds must leave those worlds exactly as they were. (Digests of float results: regenerate them,
# with the old code, on a machine whose BLAS rounds differently.)
BEFORE = {
    ("impacts", 0): ("c531c962992cc3c53018accd0c292104e26e111f3edb4069341b1e61407deb09",
                     "31d07c94f6be432445b3e2ad2855894c74fc35be5773c88f78f2b9d05bce00c3"),
    ("impacts", 4): ("450441d858d675dc1ca35e90c876c0cd7f7ccf1f45b53aad770b9dcc39efb0a6",
                     "c12e7d0dc5bedf2f14b6a64b57a61b7a620402ea11ae05ef68eac0faf224c85f"),
    ("full", 3): ("089a7a419d320738f747836d4427ac57baeac53053d05ab9a05b62bc3a829d2d",  # motor
                  "1bf7f8d87eda7571a211355671144d2a16563c6e088ef7cb8643f02151d9b111"),
    ("full", 7): ("20d27e32305342d4e2ac639a8fa95054ac833aef7526d2e53ac7c1ffefe2b754",  # roll
                  "afca0188b2c469d353bf0868d617d513c2c5403e0b302e004eca737ace8c669e"),
    ("full", 15): ("0e100d204ccc21ef9cfd1cc2199d7bb6e5be5b11a57534e555f56b63fb25bee2",  # impacts and a scrape
                   "5aab46cc6e80b57495e5f547df383e3c4bb1ec2735f87f285b7d8a79fd1761d3"),
    ("ood", 1): ("618d1b44a38cf94a6e97acd53b4586f8c9ab3fd872bdb143df618d13999f9f60",
                 "787045028fbbbb16086741bbb8c9f9d103efbf16dddb31959d1f595f13b05094"),
}
WORLDS = {"impacts": impacts_config, "full": WorldConfig, "ood": ood_config}


@pytest.mark.parametrize("world,seed", sorted(BEFORE))
def test_older_worlds_render_exactly_as_before(world: str, seed: int) -> None:
    clip = render_clip(seed, duration=2.0, size=32, sample_rate=8000, config=WORLDS[world]())
    audio, frames = BEFORE[(world, seed)]
    assert hashlib.sha256(clip.audio.tobytes()).hexdigest() == audio
    assert hashlib.sha256(clip.frames.tobytes()).hexdigest() == frames
    assert all(e.kind not in FOLEY_KINDS for e in clip.events)


def test_scenes_without_foley_are_untouched() -> None:
    for seed in range(20):
        sc = sample_scene(seed, 4.0, WorldConfig())
        assert not sc.foley and sc.look.surface is None
    assert render_clip(0, duration=0.5, size=16, sample_rate=8000, fps=Fraction(25)).events == \
        render_clip(0, duration=0.5, size=16, sample_rate=8000, fps=Fraction(25)).events
