"""Look B (world.look_b): the same scenes drawn another way. Events and audio are the look's business
never; the pictures differ clearly (perspective, shaded solids, a moving camera); look A is unchanged;
contacts stay where the scene puts them; and everything is deterministic."""

from __future__ import annotations

import copy
import struct
import zlib
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from foleyflow.world import look_b, world
from foleyflow.world.scene import sample_scene
from foleyflow.world.world import frame_count, frame_times, render_clip
from foleyflow.world.world_config import (
    WorldConfig,
    impacts_config,
    look_b_config,
    recorded_config,
)

SHORT = {"duration": 2.0, "size": 32}


def luma(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


@pytest.mark.parametrize("config", [WorldConfig(), recorded_config()], ids=["full", "recorded"])
def test_same_seed_same_events_and_audio_in_both_looks(config: WorldConfig) -> None:
    for seed in world.split_seeds("test", 4):
        a = render_clip(seed, config=config, **SHORT)
        b = render_clip(seed, config=config, look="b", **SHORT)
        assert a.events == b.events
        assert a.audio.tobytes() == b.audio.tobytes()
        assert a.objects == b.objects and a.sources == b.sources
        assert b.frames.shape == a.frames.shape and b.frames.dtype == np.uint8


def test_look_b_config_selects_look_b_and_keeps_everything_else() -> None:
    cfg = look_b_config()
    assert cfg.look == "b" and replace(cfg, look="a") == WorldConfig()
    assert look_b_config(recorded_config()) == replace(recorded_config(), look="b")
    by_config = render_clip(5, config=cfg, **SHORT)
    by_argument = render_clip(5, look="b", **SHORT)
    assert np.array_equal(by_config.frames, by_argument.frames)
    # the argument wins over the config
    assert np.array_equal(render_clip(5, config=cfg, look="a", **SHORT).frames, render_clip(5, **SHORT).frames)


def test_look_a_is_unchanged_by_the_new_argument() -> None:
    for cfg in (None, impacts_config(), recorded_config()):
        for seed in (0, 7):
            plain = render_clip(seed, config=cfg, **SHORT)
            explicit = render_clip(seed, config=cfg, look="a", **SHORT)
            assert plain.frames.tobytes() == explicit.frames.tobytes()
            assert plain.audio.tobytes() == explicit.audio.tobytes()


def test_unknown_look_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown look 'c'"):
        render_clip(1, look="c", **SHORT)


def test_look_b_is_deterministic() -> None:
    for seed in (3, 21):
        one = render_clip(seed, config=recorded_config(), look="b", **SHORT)
        two = render_clip(seed, config=recorded_config(), look="b", **SHORT)
        assert one.frames.tobytes() == two.frames.tobytes()
    assert not np.array_equal(render_clip(3, look="b", **SHORT).frames, render_clip(4, look="b", **SHORT).frames)


def test_look_b_frames_differ_substantially_from_look_a() -> None:
    diffs = []
    for seed in world.split_seeds("test", 6):
        a = render_clip(seed, **SHORT).frames.astype(np.int16)
        b = render_clip(seed, look="b", **SHORT).frames.astype(np.int16)
        diffs.append(float(np.abs(a - b).mean()))
    assert min(diffs) > 12.0, diffs  # of 255: whole different pictures, not noise


def _scene_and_look(seed: int, cfg: WorldConfig, duration: float = 2.0):
    scene = sample_scene(seed, duration, cfg)
    lb = look_b.sample_look(scene, np.random.default_rng([seed, 11]), duration)
    return scene, lb


def test_objects_are_shaded_solids_not_flat_colours() -> None:
    """An object's own pixels (found by repainting it in another colour) span a range of brightness well
    beyond the sensor noise: light and shade across a solid."""
    cfg = replace(impacts_config(), materials=("rubber",), classes=("rubber",), n_objects=(1, 1),
                  resting_probability=1.0, striker_probability=0.0)
    size, duration = 64, 1.0
    times = frame_times(frame_count(duration, Fraction(25)), Fraction(25))
    spreads = []
    for seed in range(4):
        scene, lb = _scene_and_look(seed, cfg, duration)
        first = look_b.paint(scene, lb, times, size, duration, np.random.default_rng(0))
        other = copy.deepcopy(lb)
        other.solids[0].colour = 1.0 - other.solids[0].colour
        second = look_b.paint(scene, other, times, size, duration, np.random.default_rng(0))
        mask = np.abs(first.astype(np.int16) - second.astype(np.int16)).max(axis=-1) > 40  # the object's pixels
        assert mask[0].sum() > 20
        y = luma(first[0])[mask[0]]
        spreads.append((np.percentile(y, 95) - np.percentile(y, 5)) / max(np.median(y), 1.0))
    assert min(spreads) > 0.3, spreads  # of its median brightness; sensor noise alone spans about 6 of 255


def _background_only(seed: int, still: bool) -> np.ndarray:
    scene, lb = _scene_and_look(seed, WorldConfig())
    scene.objects, scene.strikes, scene.motors, scene.foley = [], [], [], []
    scene.distractors, scene.pendulums = [], []
    scene.look.occluder, scene.look.flicker, scene.look.change, scene.look.quality = None, None, None, None
    scene.sensor_noise = 0.0  # look B keeps a little of its own
    lb.solids, lb.actor_z, lb.motor_z, lb.distractor_z, lb.lamp, lb.hand = [], [], [], [], None, None
    if still:
        lb.camera = replace(lb.camera, pan=0.0, zoom=(1.0, 1.0), shake=0.0, roll=0.0, bob=0.0)
    times = frame_times(50, Fraction(25))
    return look_b.paint(scene, lb, times, 64, 2.0, np.random.default_rng(1)).astype(np.int16)


def test_the_camera_moves_the_background() -> None:
    """With nothing in the room, a still camera's frames differ by sensor noise only; look B's camera
    (pan, zoom, hand-held shake) moves the wall and the floor."""
    for seed in range(6):
        still, moving = _background_only(seed, True), _background_only(seed, False)
        noise = float(np.abs(still[-1] - still[0]).mean())
        moved = float(np.abs(moving[-1] - moving[0]).mean())
        shaken = float(np.abs(moving[1] - moving[0]).mean())  # hand-held: even one frame apart
        assert noise < 2.5
        assert moved > noise + 3.0, (noise, moved)
        assert shaken > float(np.abs(still[1] - still[0]).mean()) + 0.1, (noise, shaken)


def test_strikers_touch_the_drawn_surface_at_the_strike_time() -> None:
    """A stick's tip is where the scaled solid's surface is, when the scene says it touches it."""
    checked = 0
    for seed in range(60):
        scene, lb = _scene_and_look(seed, impacts_config(), 4.0)
        for st in scene.strikes:
            if st.hand:
                continue
            o, sol = scene.objects[st.obj], lb.solids[st.obj]
            tb = look_b._strike_tubes(st, scene, lb, np.array([st.time]))
            assert tb is not None
            r = tb.r[0]
            tx, ty = tb.ax[0, 0] - st.direction[0] * r, tb.ay[0, 0] - st.direction[1] * r
            x = float(o.x(np.asarray(st.time)))
            if sol.shape == "sphere":
                q = ((tx - x) / (sol.k * o.hw)) ** 2 + ((ty - sol.k * o.hh) / (sol.k * o.hh)) ** 2
                assert q == pytest.approx(1.0, abs=1e-6)
            else:
                assert sol.shape == "box"
                assert ty == pytest.approx(2 * sol.k * o.hh, abs=1e-9)
                assert abs(tx - x) <= sol.k * o.hw
            checked += 1
    assert checked >= 10


def test_held_objects_are_above_the_frame_and_not_drawn() -> None:
    """Objects the scene holds above its top edge before their release never show in look B."""
    for seed in range(40):
        scene, lb = _scene_and_look(seed, impacts_config(), 4.0)
        top = scene.floor_level / scene.zoom
        cam = look_b._Cam(lb.camera, np.array([0.0]), 4.0, 64)
        for o, sol in zip(scene.objects, lb.solids, strict=True):
            if o.ytrack.seg_y[0] - o.hh >= top:  # held above the frame at first
                assert look_b._held_hidden(o, np.array([o.ytrack.seg_t[1] - 0.01]), top)[0]
            # the scene's top edge projects above the frame at every depth objects stand at
            _, v = cam.project(np.array([0.0]), np.array([top]), sol.z, np.array([0]))
            assert cam.to_pixel(np.array([32.0]), v, np.array([0]))[1][0] < 0.5


def test_silent_distractors_of_look_b_add_no_events() -> None:
    lamps = hands = 0
    for seed in range(40):
        scene, lb = _scene_and_look(seed, WorldConfig())
        lamps += lb.lamp is not None
        hands += lb.hand is not None
    assert lamps > 5 and hands > 5
    seed = next(s for s in range(40) if _scene_and_look(s, WorldConfig())[1].hand is not None)
    assert render_clip(seed, look="b", **SHORT).events == render_clip(seed, **SHORT).events


def test_look_b_clips_are_the_test_split_in_look_b() -> None:
    clips = list(world.look_b_clips(2, duration=1.0, size=16))
    assert [c.seed for c in clips] == world.split_seeds("test", 2)
    again = render_clip(clips[1].seed, duration=1.0, size=16, look="b")
    assert np.array_equal(clips[1].frames, again.frames)
    with pytest.raises(ValueError, match="testing only"):
        next(world.look_b_clips(1, split="train"))


def _png(path: Path, img: np.ndarray) -> None:
    h, w, _ = img.shape
    rows = [b"\x00" + img[0].tobytes()] + [b"\x02" + ((img[y].astype(np.int16) - img[y - 1]) % 256).astype(
        np.uint8).tobytes() for y in range(1, h)]  # filter None, then Up

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def test_texture_images_from_an_optional_folder(tmp_path: Path) -> None:
    img = np.random.default_rng(0).integers(0, 256, (8, 12, 3), dtype=np.uint8)
    _png(tmp_path / "a.png", img)
    assert np.array_equal((look_b.load_texture(str(tmp_path / "a.png")) * 255).round().astype(np.uint8), img)
    np.save(tmp_path / "b.npy", np.full((4, 4, 3), 0.5, np.float32))
    assert look_b.texture_files(tmp_path) == [str(tmp_path / "a.png"), str(tmp_path / "b.npy")]
    plain = render_clip(2, look="b", **SHORT)
    textured = render_clip(2, look="b", texture_dir=tmp_path, **SHORT)
    assert textured.events == plain.events and textured.audio.tobytes() == plain.audio.tobytes()
    assert not np.array_equal(plain.frames, textured.frames)
    with pytest.raises(FileNotFoundError):
        render_clip(2, look="b", texture_dir=tmp_path / "missing", **SHORT)
