"""Look B of the synthetic Foley world: the same scenes drawn another way (numpy only). Nothing is ever
trained on it: a model trained on look A (:mod:`foleyflow.world.render`) is tested on it, to see
whether its timing holds on footage that looks like nothing it saw::

    look A (render.py)                     look B (this module)
    a flat side view of sprites            a pinhole camera over a ground plane: the floor recedes to a
                                           horizon, a back wall stands at a depth, things shrink with
                                           their depth
    discs and boxes in flat colours        shaded solids: spheres, boxes turned about the vertical,
                                           upright cans; Lambert and specular light from one direction,
                                           a soft shadow cast on the floor
    procedural flat patterns               wood grain, brushed metal, brick, concrete, planks, tiles ...
                                           (or images from an optional folder)
    a pixel or so of shake                 a camera that trucks sideways (a pan), zooms and is held by
                                           hand (shake and roll), all of it in time
    sticks, hands, walkers: flat shapes    shaded tubes; a swinging lamp and a hand passing in front
                                           added as silent distractors

Only the pictures differ: the scene (its objects, their motion, the events) is the one
``scene.sample_scene`` drew, and the audio never reads this module. Every contact stays where the
scene puts it: an object is drawn standing on its bottom (which touches the floor when the scene says
so), scaled by its own factor about that point, and the tip of whatever strikes it is moved by the
same scaling, so it touches the drawn surface at the scene's time. The look's own choices (camera
path, depths, shapes, textures, light, the extra distractors) come from their own stream of the seed
(``look_rng``); only the sensor noise reads the frame stream.

Image coordinates: "camera" coordinates (u right, v down, pixels) are where the pinhole projects, before
the hand-held camera's zoom, roll and shake map them to the frame's pixels.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .render import compress
from .scene import Breakable, Clash, Door, Motor, Scene, SceneObject, Shovel, Strike, Walker
from .textures import hsv, luma

Z0 = 3.0  # depth of the scene's plane, world units
DZ = (-0.1, 0.1)  # depth offsets of objects and actors, fractions of Z0
_TILE = 64  # side of the surface pattern tiles (a power of two)
_TOP_MARGIN = 0.02  # the scene's top edge projects at least this far (frame fraction) above the frame
WALL_KINDS: tuple[str, ...] = ("brick", "plaster", "concrete", "panel", "tiles", "wallpaper")
FLOOR_KINDS: tuple[str, ...] = ("planks", "concrete", "tiles", "carpet", "stone")
# the floor of a scene walked on or dug, by its surface (scene.Look.surface)
SURFACE_FLOORS = {"wood": "planks", "stone": "stone", "gravel": "gravel", "grass": "grass", "snow": "snow",
                  "sand": "sand", "metal": "plate", "dirt": "dirt"}
_WALL_HSV = {"brick": ((0.0, 0.06), (0.45, 0.7), (0.35, 0.6)), "plaster": ((0.0, 1.0), (0.0, 0.25), (0.55, 0.9)),
             "concrete": ((0.08, 0.6), (0.0, 0.08), (0.45, 0.7)), "panel": ((0.05, 0.11), (0.35, 0.65), (0.3, 0.6)),
             "tiles": ((0.0, 1.0), (0.0, 0.3), (0.6, 0.92)), "wallpaper": ((0.0, 1.0), (0.15, 0.5), (0.45, 0.85))}
_FLOOR_HSV = {"planks": ((0.05, 0.11), (0.35, 0.7), (0.3, 0.62)), "concrete": ((0.05, 0.6), (0.0, 0.06), (0.4, 0.65)),
              "tiles": ((0.0, 1.0), (0.0, 0.2), (0.5, 0.9)), "carpet": ((0.0, 1.0), (0.2, 0.6), (0.2, 0.6)),
              "stone": ((0.05, 0.15), (0.02, 0.18), (0.4, 0.65))}
# diffuse, specular, shininess of each kind of surface
_MATS: dict[str, tuple[float, float, float]] = {
    "wood": (0.9, 0.08, 10.0), "metal": (0.55, 0.9, 28.0), "glass": (0.35, 1.1, 60.0), "rubber": (0.95, 0.04, 6.0),
    "ceramic": (0.85, 0.55, 45.0), "cloth": (0.95, 0.0, 1.0), "skin": (0.9, 0.1, 8.0), "dirt": (0.95, 0.0, 1.0),
    "paint": (0.9, 0.25, 18.0), "lamp": (0.0, 0.0, 1.0),
}


def _smooth01(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _cov(x: np.ndarray) -> np.ndarray:
    """Coverage of a pixel by an edge at signed distance x (pixels, + inside)."""
    return np.clip(x + 0.5, 0.0, 1.0)


def _hash(i: np.ndarray, j: np.ndarray | int, seed: int) -> np.ndarray:
    """A value in [0, 1) per integer cell (i, j), float32."""
    h = (np.asarray(i, np.int64) * 374761393 + np.asarray(j, np.int64) * 668265263 + seed) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    h = h ^ (h >> 16)
    return ((h & 0xFFFF).astype(np.float32)) * np.float32(1.0 / 65536.0)


def noise_tile(rng: np.random.Generator, n: int = _TILE, beta: float = 2.0, stretch: float = 1.0) -> np.ndarray:
    """Seamless (periodic) noise of zero mean and unit std, float32 [n, n]: power spectrum 1 / k^(2 beta);
    ``stretch`` > 1 draws its features out along axis 0."""
    ky = np.fft.fftfreq(n)[:, None] * n
    kx = np.fft.rfftfreq(n)[None, :] * n
    k2 = (ky * stretch) ** 2 + kx**2
    amp = np.where(k2 > 0, 1.0 / np.maximum(k2, 1e-9) ** (beta / 2), 0.0)
    spec = (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)) * amp
    t = np.fft.irfft2(spec, s=(n, n))
    t -= t.mean()
    return (t / max(float(t.std()), 1e-9)).astype(np.float32)


def _look(tile: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The periodic tile at (a, b) tile periods (a across its columns, b down its rows), nearest."""
    n = tile.shape[0]
    ia = np.floor(a * n).astype(np.int64) & (n - 1)
    ib = np.floor(b * n).astype(np.int64) & (n - 1)
    return tile[ib, ia]


def _lines(c: np.ndarray, period: float, width: float, foot: np.ndarray | float) -> np.ndarray:
    """Lines of ``width`` every ``period`` along c, anti-aliased over the pixel footprint ``foot`` (and
    fainter where they are thinner than a pixel)."""
    w = np.maximum(width, foot)
    d = np.abs((c / period + 0.5) % 1.0 - 0.5) * period
    return np.clip(1.0 - d / w, 0.0, 1.0) * np.minimum(1.0, 1.5 * width / w)


def _fade(foot: np.ndarray | float, feature: float) -> np.ndarray:
    """How much of a pattern of features of this size survives a pixel footprint (1 up close, 0 far)."""
    return np.clip(1.5 - np.asarray(foot, np.float32) / np.float32(feature), 0.0, 1.0)


# ----------------------------------------------------------------------------------------------
# Optional texture images (a folder of .npy or .png files; never required)
# ----------------------------------------------------------------------------------------------


def _png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced PNG (grey, grey+alpha, RGB or RGBA) to uint8 [h, w, c]."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if hdr is None:
        raise ValueError("PNG without a header")
    w, h, depth, ctype, _, _, interlace = hdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {ctype}, interlace {interlace})")
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * channels)
    out = np.zeros((h, w * channels), np.int32)
    prev = np.zeros(w * channels, np.int32)
    c = channels
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:  # Sub, Average, Paeth depend on the pixel to the left: byte by byte
            cur = np.zeros_like(line)
            for x in range(line.size):
                left = cur[x - c] if x >= c else 0
                up, ul = prev[x], (prev[x - c] if x >= c else 0)
                if f == 1:
                    pred = left
                elif f == 3:
                    pred = (left + up) >> 1
                else:
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, channels).astype(np.uint8)


@functools.lru_cache(maxsize=16)
def load_texture(path: str) -> np.ndarray:
    """A texture image as float32 [h, w, 3] in 0..1: a ``.npy`` array (uint8 or 0..1 floats, grey or
    colour) or a PNG."""
    p = Path(path)
    if p.suffix.lower() == ".npy":
        img = np.load(p)
    else:
        img = _png(p.read_bytes())
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[..., None]
    img = img[..., :3] if img.shape[-1] >= 3 else np.repeat(img[..., :1], 3, axis=-1)
    img = img.astype(np.float32) / (255.0 if img.dtype == np.uint8 or img.max() > 1.5 else 1.0)
    return np.ascontiguousarray(np.clip(img, 0.0, 1.0))


def texture_files(folder: str | Path | None) -> list[str]:
    """The texture images of a folder (``.npy``, ``.png``), sorted; [] without one."""
    if folder is None:
        return []
    d = Path(folder)
    if not d.is_dir():
        raise FileNotFoundError(f"texture folder {d} does not exist")
    return sorted(str(p) for p in d.iterdir() if p.suffix.lower() in (".npy", ".png"))


# ----------------------------------------------------------------------------------------------
# The look's choices for one scene
# ----------------------------------------------------------------------------------------------


@dataclass
class CameraPath:
    """Look B's camera: a level pinhole at (cx(t), cy(t), 0) looking along +z (x right, y up), then, in
    the image, a zoom about the frame centre, a roll and a hand-held shake. World units; image lengths
    as fractions of the frame side, so every frame size shows the same picture."""

    focal: float  # pixels per world unit at depth 1, / frame side
    horizon: float  # horizon row, / frame side
    eye: float  # eye height over the floor
    x0: float  # eye x at the middle of its pan
    pan: float  # it trucks from x0 - pan to x0 + pan (signed) over pan_window
    pan_window: tuple[float, float]  # fractions of the duration
    zoom: tuple[float, float]  # digital zoom at the start and at the end of zoom_window (>= 1)
    zoom_window: tuple[float, float]
    shake: float  # hand-held amplitude, / frame side
    roll: float  # hand-held roll amplitude, radians
    freqs: np.ndarray  # [8] Hz
    phases: np.ndarray  # [8]
    bob: float  # hand-held change of the eye height, world units


@dataclass
class Solid:
    """How look B draws one scene object: its shape, its size about its bottom, its depth."""

    shape: str  # "sphere" (an ellipsoid with the scene's half-width and half-height), "box" or "can"
    k: float  # size factor about the bottom point (1: the scene's size)
    z: float  # depth of its centre
    yaw: float  # boxes: turn about the vertical, radians
    half_depth: float  # boxes: half-extent along z, world units
    tile: np.ndarray  # [N, N] multiplier of its albedo (its surface pattern)
    colour: np.ndarray  # [3] albedo


@dataclass
class Lamp:
    """A silent distractor: a lamp hanging from above the frame on a cord, swinging."""

    pivot: tuple[float, float]
    length: float
    z: float
    amp: float
    omega: float
    phase: float
    radius: float
    height: float
    colour: np.ndarray
    cord: np.ndarray

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre of the shade's top (x, y) at times t."""
        phi = self.amp * np.cos(self.omega * t + self.phase)
        return self.pivot[0] + self.length * np.sin(phi), self.pivot[1] - self.length * np.cos(phi)


@dataclass
class PassingHand:
    """A silent distractor: a hand and forearm passing in front of the scene (near the camera), touching
    nothing."""

    t0: float
    t1: float
    x_from: float
    x_to: float
    y: float
    z: float
    wave: float
    size: float
    direction: tuple[float, float]  # unit, from the fingertips to the elbow (world x, y)
    skin: np.ndarray
    sleeve: np.ndarray

    def tip(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = np.clip((t - self.t0) / max(self.t1 - self.t0, 1e-6), 0.0, 1.0)
        return self.x_from + (self.x_to - self.x_from) * u, self.y + self.wave * np.sin(2 * np.pi * u)


@dataclass
class LookB:
    camera: CameraPath
    wall_depth: float
    light: np.ndarray  # [3] unit, towards the light
    light_colour: np.ndarray  # [3]
    ambient: float
    exposure: float
    vignette: float
    wall_kind: str
    wall_colour: np.ndarray
    floor_kind: str
    floor_colour: np.ndarray
    second_colour: np.ndarray  # mortar, grout, seams
    skirt: float  # skirting board height (0: none)
    skirt_colour: np.ndarray
    scale: float  # pattern size factor
    seed: int  # of the wall and floor patterns
    pool: tuple[float, float, float, float]  # light pool on the floor: x, z, radius, strength
    solids: list[Solid]  # per scene.objects
    distractor_z: list[float]  # per scene.distractors, then per scene.pendulums
    actor_z: list[float]  # per scene.foley
    motor_z: list[float]  # per scene.motors
    occluder: tuple[float, float]  # depth (fraction of Z0) and colour jitter of the scene's occluder
    lamp: Lamp | None = None
    hand: PassingHand | None = None
    wall_image: str | None = None
    floor_image: str | None = None
    tiles: dict[str, np.ndarray] = field(default_factory=dict)


def _contrasting(r: np.random.Generator, ranges: tuple[tuple[float, float], ...], lumas: list[float],
                 tries: int = 8) -> np.ndarray:
    """Of ``tries`` colours drawn in the hsv ranges, the one whose luma is farthest from all of ``lumas``."""
    best, out = -1.0, np.zeros(3)
    for _ in range(tries):
        cand = hsv(*(r.uniform(lo, hi) for lo, hi in ranges))
        c = min((abs(luma(cand) - lu) for lu in lumas), default=1.0)
        if c > best:
            best, out = c, cand
    return out


def _object_tile(material: str, r: np.random.Generator) -> np.ndarray:
    """A surface pattern (albedo multiplier, about 1) of a material, [N, N]."""
    n = _TILE
    if material == "wood":
        warp = noise_tile(r, n, 2.2)
        streak = noise_tile(r, n, 1.4, stretch=8.0)
        b = (np.arange(n, dtype=np.float32) / n)[None, :] + np.zeros((n, 1), np.float32)
        rings = np.sin(2 * np.pi * (r.integers(3, 7) * b + 0.35 * warp))
        return (1.0 + 0.14 * rings + 0.08 * streak).astype(np.float32)
    if material == "metal":
        return (1.0 + 0.1 * noise_tile(r, n, 1.2, stretch=12.0)).astype(np.float32)
    if material == "rubber":
        return (1.0 + 0.06 * noise_tile(r, n, 0.8)).astype(np.float32)
    if material == "ceramic":
        return (1.0 + 0.03 * noise_tile(r, n, 1.5)).astype(np.float32)
    return np.ones((n, n), np.float32)


def sample_look(scene: Scene, rng: np.random.Generator, duration: float, texture_dir: str | Path | None = None,
                ) -> LookB:
    """Look B's choices for ``scene``, drawn from ``rng`` in a fixed order (the same whatever the frame
    rate, the frame size or the texture folder)."""
    r = rng
    view_w = 1.0 / scene.zoom
    top = scene.floor_level / scene.zoom  # the scene's top edge over the floor
    # camera: the scene's plane at Z0 spans the frame width / a_w; the scene's top projects above the frame
    a_w = r.uniform(0.9, 1.08)
    focal = a_w * scene.zoom * Z0
    horizon = r.uniform(0.1, 0.4)
    height = top * focal / Z0  # projected height of the scene's top at Z0, / frame side
    floor_row = min(0.84, height + horizon - (horizon + _TOP_MARGIN) * (1.0 + DZ[1]))
    eye = (floor_row - horizon) * Z0 / focal
    pan = r.uniform(0.03, 0.12) * view_w * (1 if r.random() < 0.5 else -1)
    p0 = r.uniform(0.0, 0.4)
    pan_window = (p0, p0 + r.uniform(0.4, 1.0 - p0))
    zf = r.uniform(1.05, 1.22)
    zoom = (1.0, zf) if r.random() < 0.5 else (zf, 1.0)
    z0 = r.uniform(0.0, 0.5)
    zoom_window = (z0, z0 + r.uniform(0.3, 1.0 - z0))
    camera = CameraPath(focal, horizon, eye, view_w / 2 + r.uniform(-0.05, 0.05) * view_w, pan, pan_window, zoom,
                        zoom_window, r.uniform(0.004, 0.016), r.uniform(0.003, 0.015), r.uniform(0.3, 3.0, 8),
                        r.uniform(0, 2 * np.pi, 8), r.uniform(0.0, 0.004))
    wall_depth = Z0 * (1.0 + DZ[1] + r.uniform(0.3, 1.0))
    # light
    az, el = r.uniform(0.5, 2.0), r.uniform(0.5, 0.95)  # from the side, in front or behind: shadows show
    light = np.array([-scene.light * math.sin(az) * math.cos(el), math.sin(el), -math.cos(az) * math.cos(el)])
    warm = r.uniform(-0.08, 0.08)
    light_colour = np.array([1.0 + warm, 1.0, 1.0 - warm])
    ambient, exposure, vignette = r.uniform(0.25, 0.45), r.uniform(0.95, 1.2), r.uniform(0.1, 0.35)
    # room
    lumas = [luma(o.colour) for o in scene.objects]
    wall_kind = str(r.choice(WALL_KINDS))
    wall_colour = _contrasting(r, _WALL_HSV[wall_kind], lumas)
    if scene.look.surface is not None and scene.look.surface_colour is not None:
        floor_kind = SURFACE_FLOORS[scene.look.surface]
        _contrasting(r, _FLOOR_HSV["planks"], lumas)  # the same draws as any other floor
        floor_colour = np.asarray(scene.look.surface_colour, np.float64)
    else:
        floor_kind = str(r.choice(FLOOR_KINDS))
        floor_colour = _contrasting(r, _FLOOR_HSV[floor_kind], lumas + [luma(wall_colour)])
    second = hsv(r.uniform(0, 1), r.uniform(0.0, 0.15), r.uniform(0.15, 0.9))
    skirt = r.uniform(0.03, 0.07) if r.random() < 0.6 else 0.0
    skirt_colour = hsv(r.uniform(0, 1), r.uniform(0.0, 0.3), r.uniform(0.1, 0.95))
    scale, seed = r.uniform(0.7, 1.4), int(r.integers(1 << 31))
    pool = (view_w / 2 + r.uniform(-0.3, 0.3) * view_w, Z0 * r.uniform(0.9, 1.3), r.uniform(0.5, 1.4),
            r.uniform(0.1, 0.35))
    files = texture_files(texture_dir)
    pick_wall, pick_floor = r.random(), r.random()
    wall_image = files[int(pick_wall * len(files))] if files else None
    floor_image = files[int(pick_floor * len(files))] if files and scene.look.surface is None else None
    # objects: shapes, sizes, depths, patterns
    struck = {st.obj for st in scene.strikes}
    solids = []
    for i, o in enumerate(scene.objects):
        u_shape, k, dz, yaw, depth, tseed = (r.random(), r.uniform(0.75, 1.3), r.uniform(*DZ),
                                            r.uniform(0.15, 0.6) * (1 if r.random() < 0.5 else -1),
                                            r.uniform(0.6, 1.1), int(r.integers(1 << 31)))
        jitter = r.uniform(0.9, 1.1, 3)
        rolls = o.roll_radius > 0
        slides = o.xtrack is not None and o.ytrack.seg_t.size == 1 and not o.disc
        if o.disc:
            shape = "sphere" if rolls or i in struck or u_shape < 0.65 else "can"
        else:
            shape = "can" if i not in struck and not slides and u_shape < 0.25 else "box"
        if rolls:
            k = 1.0  # its turning is distance / radius: the drawn ball keeps the scene's radius
        if slides:
            yaw = 0.0  # pushed on a face square to its motion
        colour = np.clip(np.asarray(o.colour) * jitter, 0.0, 1.0)
        solids.append(Solid(shape, float(k), Z0 * (1.0 + dz), float(yaw), float(depth),
                            _object_tile(o.material, np.random.default_rng(tseed)), colour))
    distractor_z = [Z0 * (1.0 + r.uniform(*DZ)) for _ in scene.distractors + scene.pendulums]
    actor_z = [Z0 * (1.0 + r.uniform(*DZ)) for _ in scene.foley]
    motor_z = [Z0 * (1.0 + r.uniform(*DZ)) for _ in scene.motors]
    occluder = (r.uniform(0.35, 0.55), r.uniform(0.85, 1.15))
    # extra silent distractors: a lamp swinging, a hand passing in front (always the same draws)
    has_lamp, has_hand = r.random() < 0.35, r.random() < 0.3
    lz = Z0 * r.uniform(1.0 + DZ[1], 1.25)
    f_top = camera.eye + (camera.horizon + 0.06) * lz / focal  # world height of a row above the frame
    length = r.uniform(0.3, 0.6) * max(0.2, f_top - 0.55)
    lamp_colour = hsv(r.uniform(0, 1), r.uniform(0.2, 0.8), r.uniform(0.3, 0.9))
    lamp = Lamp((r.uniform(0.15, 0.85) * view_w, f_top), float(length), lz, r.uniform(0.15, 0.5),
                math.sqrt(10.0 / max(length, 0.05)), r.uniform(0, 2 * np.pi), r.uniform(0.07, 0.12),
                r.uniform(0.06, 0.1), lamp_colour, hsv(0, 0, r.uniform(0.05, 0.3)))
    hz = Z0 * r.uniform(0.45, 0.65)
    reach = 0.5 * hz / focal + 0.5  # half the visible width at that depth, and some
    t_len = r.uniform(0.8, 2.0)
    t0 = r.uniform(0.0, max(duration - t_len, 0.0))
    go = 1.0 if r.random() < 0.5 else -1.0
    row = r.uniform(0.1, 0.45)
    hy = camera.eye - (row - horizon) * hz / focal
    tilt = r.uniform(0.3, 1.0)
    hand = PassingHand(t0, t0 + t_len, camera.x0 - go * reach, camera.x0 + go * reach, float(hy), hz,
                       r.uniform(0.0, 0.08), r.uniform(0.16, 0.24),
                       (-go * math.cos(tilt), math.sin(tilt)),
                       hsv(r.uniform(0.02, 0.09), r.uniform(0.25, 0.6), r.uniform(0.3, 0.95)),
                       hsv(r.uniform(0, 1), r.uniform(0.0, 0.7), r.uniform(0.1, 0.8)))
    tr = np.random.default_rng(seed)
    tiles = {"a": noise_tile(tr, _TILE, 1.8), "b": noise_tile(tr, _TILE, 1.0), "grain": noise_tile(tr, _TILE, 1.3, 10.0),
             "fine": noise_tile(tr, _TILE, 0.6)}
    return LookB(camera, wall_depth, light, light_colour, ambient, exposure, vignette, wall_kind, wall_colour,
                 floor_kind, floor_colour, second, skirt, skirt_colour, scale, seed, pool, solids, distractor_z,
                 actor_z, motor_z, occluder, lamp if has_lamp else None, hand if has_hand else None, wall_image,
                 floor_image, tiles)


# ----------------------------------------------------------------------------------------------
# The camera, per frame
# ----------------------------------------------------------------------------------------------


class _Cam:
    """The camera at every frame time: where world points land (camera coordinates) and how those map
    to the frame's pixels (zoom s, roll, shake)."""

    def __init__(self, p: CameraPath, times: np.ndarray, duration: float, size: int):
        self.size, self.T = size, times.shape[0]
        self.C = size / 2.0
        self.f = p.focal * size
        self.vp = p.horizon * size
        u = times / duration
        a, b = p.pan_window
        self.cx = p.x0 + p.pan * (2.0 * _smooth01((u - a) / max(b - a, 1e-6)) - 1.0)
        a, b = p.zoom_window
        self.s = p.zoom[0] + (p.zoom[1] - p.zoom[0]) * _smooth01((u - a) / max(b - a, 1e-6))
        f, ph = p.freqs, p.phases

        def wob(i: int) -> np.ndarray:
            return 0.6 * np.sin(2 * np.pi * f[i] * times + ph[i]) + 0.4 * np.sin(2 * np.pi * f[i + 4] * times + ph[i + 4])

        self.cy = p.eye + p.bob * wob(3)
        self.du, self.dv = p.shake * size * wob(0), p.shake * size * wob(1)
        roll = p.roll * wob(2)
        self.cos, self.sin = np.cos(roll), np.sin(roll)

    def project(self, x: np.ndarray, y: np.ndarray, z: float | np.ndarray, j: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
        """Camera coordinates of world points at frames j (arrays shaped like x)."""
        return self.C + self.f * (x - self.cx[j]) / z, self.vp + self.f * (self.cy[j] - y) / z

    def floor_row(self, z: float | np.ndarray, j: np.ndarray) -> np.ndarray:
        """Camera row of the floor at depth z."""
        return self.vp + self.f * self.cy[j] / z

    def to_pixel(self, u: np.ndarray, v: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, s = u - self.C, v - self.C, self.s[j]
        return (self.C + s * (self.cos[j] * a - self.sin[j] * b) + self.du[j],
                self.C + s * (self.sin[j] * a + self.cos[j] * b) + self.dv[j])

    def to_camera(self, px: np.ndarray, py: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera coordinates of pixel centres: px [n, 1, w] and py [n, h, 1] at frames j [n] -> [n, h, w]."""
        e = lambda a: a[j].astype(np.float32)[:, None, None]  # noqa: E731
        a, b = px - e(self.du) - np.float32(self.C), py - e(self.dv) - np.float32(self.C)
        c, s, k = e(self.cos), e(self.sin), 1.0 / e(self.s)
        return np.float32(self.C) + (c * a + s * b) * k, np.float32(self.C) + (c * b - s * a) * k


# ----------------------------------------------------------------------------------------------
# Light, splats
# ----------------------------------------------------------------------------------------------


@dataclass
class _Light:
    L: np.ndarray
    H: np.ndarray  # half vector between the light and the view (0, 0, -1)
    colour: np.ndarray
    ambient: float

    def shade(self, albedo: np.ndarray, nx: np.ndarray, ny: np.ndarray, nz: np.ndarray, kd: float | np.ndarray,
              ks: float | np.ndarray, p: float | np.ndarray) -> np.ndarray:
        """Lambert and Blinn-Phong light on unit normals [..] (x right, y up, z away from the camera)."""
        L, H = self.L.astype(np.float32), self.H.astype(np.float32)
        lam = np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0.0, 1.0)
        spec = np.clip(nx * H[0] + ny * H[1] + nz * H[2], 0.0, 1.0) ** p * ks
        amb = np.float32(self.ambient) * (0.8 + 0.2 * ny)
        c = self.colour.astype(np.float32)
        return albedo * (amb + np.float32(1.0 - self.ambient) * kd * lam)[..., None] * c + spec[..., None] * c


def _composite(frames: np.ndarray, col: np.ndarray, alpha: np.ndarray, ox: np.ndarray, oy: np.ndarray,
               idx: np.ndarray) -> None:
    n, h, w = alpha.shape
    T, H, W, _ = frames.shape
    flat = frames.reshape(-1, 3)
    pix = ((idx[:, None, None] * H + oy[:, None, None] + np.arange(h)[None, :, None]) * W
           + ox[:, None, None] + np.arange(w)[None, None, :]).ravel()
    region = flat[pix]
    a = alpha.reshape(-1, 1).astype(np.float32)
    flat[pix] = region + (np.broadcast_to(col, (n, h, w, 3)).reshape(-1, 3) - region) * a


Shade = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _splat(frames: np.ndarray, cam: _Cam, idx: np.ndarray, box: tuple[np.ndarray, ...], shade: Shade) -> None:
    """Paint a shape onto frames ``idx`` within its camera-coordinate bounds ``box`` (u0, u1, v0, v1 per
    frame): ``shade(u, v, j)`` gets the camera coordinates [n, h, w] of a patch's pixels and the positions
    j of those frames in ``idx``, and returns colour [n, h, w, 3] and coverage [n, h, w]."""
    size = cam.size
    u0, u1, v0, v1 = box
    xs, ys = zip(*(cam.to_pixel(a, b, idx) for a, b in ((u0, v0), (u1, v0), (u0, v1), (u1, v1))), strict=True)
    c0 = np.clip(np.floor(np.minimum.reduce(xs)) - 1, 0, size)
    c1 = np.clip(np.ceil(np.maximum.reduce(xs)) + 1, 0, size)
    r0 = np.clip(np.floor(np.minimum.reduce(ys)) - 1, 0, size)
    r1 = np.clip(np.ceil(np.maximum.reduce(ys)) + 1, 0, size)
    keep = np.nonzero((c1 > c0) & (r1 > r0) & np.isfinite(c0 + c1 + r0 + r1))[0]
    if keep.size == 0:
        return
    w = int(min(size, np.max(c1[keep] - c0[keep])))
    h = int(min(size, np.max(r1[keep] - r0[keep])))
    ox = np.clip(c0[keep], 0, size - w).astype(np.int64)
    oy = np.clip(r0[keep], 0, size - h).astype(np.int64)
    f = idx[keep]
    px = (ox[:, None] + np.arange(w) + 0.5).astype(np.float32)[:, None, :]
    py = (oy[:, None] + np.arange(h) + 0.5).astype(np.float32)[:, :, None]
    u, v = cam.to_camera(px, py, f)
    col, alpha = shade(u, v, keep)
    _composite(frames, col, alpha, ox, oy, f)


# ----------------------------------------------------------------------------------------------
# Tubes: capsules and spheres at one depth (walkers, sticks, hands, handles, blades, shards ...)
# ----------------------------------------------------------------------------------------------


@dataclass
class _Tubes:
    ax: np.ndarray  # [K, T] world, one end
    ay: np.ndarray
    bx: np.ndarray  # [K, T] the other end (= a: a sphere)
    by: np.ndarray
    r: np.ndarray  # [K] radius, world
    colour: np.ndarray  # [K, 3]
    mats: list[str]  # [K]
    z: float
    alpha: float = 1.0
    present: np.ndarray | None = None  # [K, T]
    ground: bool = False  # hidden under the floor
    glass: bool = False  # see-through, brighter at the rim


Coord = float | np.ndarray  # a world coordinate: one value, or one per frame [T]
Segment = tuple[Coord, Coord, Coord, Coord]  # ax, ay, bx, by


def _tube(segs: Sequence[Segment], radii: Sequence[float],
          colours: Sequence[np.ndarray], mats: list[str], z: float, T: int, alpha: float = 1.0,
          present: np.ndarray | None = None, ground: bool = False, glass: bool = False) -> _Tubes:
    """Tubes from segments (ax, ay, bx, by: scalars or [T] arrays, world) of the given radii."""
    def rows(i: int) -> np.ndarray:
        return np.stack([np.broadcast_to(np.asarray(s[i], np.float64), (T,)) for s in segs])

    return _Tubes(rows(0), rows(1), rows(2), rows(3), np.asarray(radii, np.float64),
                  np.stack([np.asarray(c, np.float64) for c in colours]), mats, z, alpha,
                  None if present is None else np.broadcast_to(present, (len(segs), T)), ground, glass)


def _paint_tubes(frames: np.ndarray, cam: _Cam, lt: _Light, tb: _Tubes) -> None:
    K, T = tb.ax.shape
    pres = np.ones((K, T), bool) if tb.present is None else tb.present
    idx = np.nonzero(pres.any(axis=0))[0]
    if idx.size == 0:
        return
    Ua, Va = cam.project(tb.ax[:, idx], tb.ay[:, idx], tb.z, idx)
    Ub, Vb = cam.project(tb.bx[:, idx], tb.by[:, idx], tb.z, idx)
    R = (cam.f * tb.r / tb.z)[:, None]  # [K,1] camera pixels
    p = pres[:, idx]
    big = np.float64(1e9)
    u0 = np.where(p, np.minimum(Ua, Ub) - R, big).min(0)
    u1 = np.where(p, np.maximum(Ua, Ub) + R, -big).max(0)
    v0 = np.where(p, np.minimum(Va, Vb) - R, big).min(0)
    v1 = np.where(p, np.maximum(Va, Vb) + R, -big).max(0)
    # clip tubes running far out of the frame to its bounds (and some)
    lim = (-0.5 * cam.size, 1.5 * cam.size)
    u0, u1, v0, v1 = (np.clip(a, *lim) for a in (u0, u1, v0, v1))
    kd = np.array([_MATS[m][0] for m in tb.mats], np.float32)
    ks = np.array([_MATS[m][1] for m in tb.mats], np.float32)
    sh = np.array([_MATS[m][2] for m in tb.mats], np.float32)
    colours = tb.colour.astype(np.float32)

    def shade(u: np.ndarray, v: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        best = np.full(u.shape, -1e9, np.float32)
        ox_ = np.zeros(u.shape, np.float32)
        oy_ = np.zeros(u.shape, np.float32)
        rad = np.ones(u.shape, np.float32)
        which = np.zeros(u.shape, np.int64)
        for k in range(K):
            ax, ay, bx, by = (a[k, j].astype(np.float32)[:, None, None] for a in (Ua, Va, Ub, Vb))
            ex, ey = bx - ax, by - ay
            t = np.clip(((u - ax) * ex + (v - ay) * ey) / (ex * ex + ey * ey + 1e-9), 0.0, 1.0)
            dx, dy = u - ax - t * ex, v - ay - t * ey
            score = np.float32(R[k, 0]) - np.sqrt(dx * dx + dy * dy)
            score = np.where(p[k, j][:, None, None], score, -1e9)
            better = score > best
            best = np.where(better, score, best)
            ox_ = np.where(better, dx, ox_)
            oy_ = np.where(better, dy, oy_)
            rad = np.where(better, np.float32(R[k, 0]), rad)
            which = np.where(better, k, which)
        s = cam.s[idx[j]].astype(np.float32)[:, None, None]
        cov = _cov(best * s)
        q = np.maximum(np.sqrt(ox_ * ox_ + oy_ * oy_), rad)  # outside a tube: its rim's normal
        nx, ny = ox_ / q, -oy_ / q
        nz = -np.sqrt(np.maximum(1.0 - nx * nx - ny * ny, 0.0))
        col = lt.shade(colours[which], nx, ny, nz, kd[which], ks[which], sh[which])
        emissive = np.array([m == "lamp" for m in tb.mats])
        if emissive.any():
            col = np.where(emissive[which][..., None], colours[which] * 1.3, col)
        if tb.glass:
            cov = cov * (tb.alpha + (0.95 - tb.alpha) * (1.0 + nz) ** 2)
        else:
            cov = cov * np.float32(tb.alpha)
        if tb.ground:
            cov = cov * _cov((cam.floor_row(tb.z, idx[j]).astype(np.float32)[:, None, None] - v) * s)
        return col, cov

    _splat(frames, cam, idx, (u0, u1, v0, v1), shade)


# ----------------------------------------------------------------------------------------------
# Flat faces (door panels, blades, box faces)
# ----------------------------------------------------------------------------------------------


def _face_cov(u: np.ndarray, v: np.ndarray, qu: list[np.ndarray], qv: list[np.ndarray], s: np.ndarray,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage of a convex quad (corners qu, qv [n, 1, 1] in order) and affine coordinates (a, b) of each
    pixel along its first and last edges (0..1 across the face)."""
    area = sum(qu[i] * qv[(i + 1) % 4] - qu[(i + 1) % 4] * qv[i] for i in range(4))
    sign = np.where(area >= 0, 1.0, -1.0).astype(np.float32)
    d: np.ndarray | None = None
    for i in range(4):
        ex, ey = qu[(i + 1) % 4] - qu[i], qv[(i + 1) % 4] - qv[i]
        norm = np.maximum(np.sqrt(ex * ex + ey * ey), 1e-6)
        e = ((u - qu[i]) * ey - (v - qv[i]) * ex) / norm * -sign
        d = e if d is None else np.minimum(d, e)
    assert d is not None
    e1u, e1v, e2u, e2v = qu[1] - qu[0], qv[1] - qv[0], qu[3] - qu[0], qv[3] - qv[0]
    det = e1u * e2v - e1v * e2u
    det = np.where(np.abs(det) < 1e-6, 1e-6, det)
    pu, pv = u - qu[0], v - qv[0]
    return _cov(d * s), (pu * e2v - pv * e2u) / det, (e1u * pv - e1v * pu) / det


@dataclass
class _Face:
    xs: np.ndarray  # [4, T] world corners, in order around the face
    ys: np.ndarray
    zs: np.ndarray
    normal: np.ndarray  # [3, T] facing the camera
    colour: np.ndarray  # [3]
    mat: str
    tile: np.ndarray | None = None
    extent: tuple[float, float] = (1.0, 1.0)  # tile periods across (a, b)
    alpha: float = 1.0
    present: np.ndarray | None = None  # [T]
    ground: bool = False
    glass: bool = False


def _paint_faces(frames: np.ndarray, cam: _Cam, lt: _Light, faces: list[_Face], visible: list[np.ndarray] | None = None,
                 ) -> None:
    """Faces of one solid (they never overlap) in one splat; ``visible`` [T] per face (default: present)."""
    T = cam.T
    vis = [np.ones(T, bool) if f.present is None else f.present for f in faces] if visible is None else visible
    idx = np.nonzero(np.any(vis, axis=0))[0]
    if idx.size == 0:
        return
    proj = [cam.project(f.xs[:, idx], f.ys[:, idx], f.zs[:, idx], idx) for f in faces]
    big = np.float64(1e9)
    u0 = np.min([np.where(m[idx], U.min(0), big) for (U, _), m in zip(proj, vis, strict=True)], axis=0)
    u1 = np.max([np.where(m[idx], U.max(0), -big) for (U, _), m in zip(proj, vis, strict=True)], axis=0)
    v0 = np.min([np.where(m[idx], V.min(0), big) for (_, V), m in zip(proj, vis, strict=True)], axis=0)
    v1 = np.max([np.where(m[idx], V.max(0), -big) for (_, V), m in zip(proj, vis, strict=True)], axis=0)
    lim = (-0.5 * cam.size, 1.5 * cam.size)
    u0, u1, v0, v1 = (np.clip(a, *lim) for a in (u0, u1, v0, v1))

    def shade(u: np.ndarray, v: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = cam.s[idx[j]].astype(np.float32)[:, None, None]
        acc_c = np.zeros(u.shape + (3,), np.float32)
        acc_a = np.zeros(u.shape, np.float32)
        for f, (U, V), m in zip(faces, proj, vis, strict=True):
            on = m[idx[j]]
            if not on.any():
                continue
            qu = [U[i, j].astype(np.float32)[:, None, None] for i in range(4)]
            qv = [V[i, j].astype(np.float32)[:, None, None] for i in range(4)]
            cov, a, b = _face_cov(u, v, qu, qv, s)
            cov = cov * on[:, None, None]
            n = [f.normal[i, idx[j]].astype(np.float32)[:, None, None] for i in range(3)]
            kd, ks, p = _MATS[f.mat]
            albedo = np.broadcast_to(f.colour.astype(np.float32), u.shape + (3,))
            if f.tile is not None:
                albedo = albedo * _look(f.tile, a * f.extent[0], b * f.extent[1])[..., None]
            edge = np.minimum(np.minimum(a, 1 - a) * f.extent[0], np.minimum(b, 1 - b) * f.extent[1])
            albedo = albedo * (0.82 + 0.18 * np.clip(edge * 12.0, 0.0, 1.0))[..., None]  # darker at its edges
            col = lt.shade(albedo, n[0] + 0 * u, n[1] + 0 * u, n[2] + 0 * u, kd, ks, p)
            if f.glass:
                col = col + np.float32(0.25) * (1.0 - b)[..., None]  # a sheen
            if f.ground:
                cov = cov * _cov((cam.floor_row(float(f.zs[0, 0]), idx[j]).astype(np.float32)[:, None, None] - v) * s)
            cov = cov * np.float32(f.alpha)
            acc_c += col * cov[..., None]
            acc_a += cov
        a_ = np.minimum(acc_a, 1.0)
        return acc_c / np.maximum(acc_a, 1e-6)[..., None], a_

    _splat(frames, cam, idx, (u0, u1, v0, v1), shade)


def _box_faces(cx: np.ndarray, yb: np.ndarray, cz: float, hx: float, hy: float, hz: float, yaw: float,
               colour: np.ndarray, mat: str, tile: np.ndarray | None, period: float, eye_x: np.ndarray,
               eye_y: np.ndarray, alpha: float = 1.0, glass: bool = False, present: np.ndarray | None = None,
               ) -> tuple[list[_Face], list[np.ndarray]]:
    """The six faces of a box standing on yb [T] (its centre x cx [T], depth cz; half-extents hx, hy, hz;
    turned by yaw about the vertical) and which of them the eye sees in each frame."""
    T = cx.shape[0]
    c, s = math.cos(yaw), math.sin(yaw)
    ex, ez = np.array([c, s]), np.array([-s, c])  # its x and z axes in (x, z)
    yc = yb + hy
    faces, vis = [], []
    # (normal axis, sign): each face's corners around it
    for axis, sign in (("x", 1), ("x", -1), ("z", 1), ("z", -1), ("y", 1), ("y", -1)):
        if axis == "y":
            corners = [(sx, sign, sz) for sx, sz in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            n3 = np.array([0.0, sign, 0.0])
            ext = (2 * hx / period, 2 * hz / period)
        elif axis == "x":
            corners = [(sign, sy, sz) for sz, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            n3 = np.array([sign * ex[0], 0.0, sign * ex[1]])
            ext = (2 * hz / period, 2 * hy / period)
        else:
            corners = [(sx, sy, sign) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            n3 = np.array([sign * ez[0], 0.0, sign * ez[1]])
            ext = (2 * hx / period, 2 * hy / period)
        xs = np.stack([cx + a * hx * ex[0] + b_ * hz * ez[0] for a, _, b_ in corners])
        zs = np.stack([np.full(T, cz + a * hx * ex[1] + b_ * hz * ez[1]) for a, _, b_ in corners])
        ys = np.stack([yc + sy * hy for _, sy, _ in corners])
        fc = (xs.mean(0), ys.mean(0), zs.mean(0))
        seen = (fc[0] - eye_x) * n3[0] + (fc[1] - eye_y) * n3[1] + fc[2] * n3[2] < 0
        if present is not None:
            seen = seen & present
        normal = np.broadcast_to(n3[:, None], (3, T))
        faces.append(_Face(xs, ys, zs, normal, colour, mat, tile, ext, alpha, None, False, glass))
        vis.append(seen)
    return faces, vis


# ----------------------------------------------------------------------------------------------
# Scene objects: ellipsoids, boxes, cans
# ----------------------------------------------------------------------------------------------


def _held_hidden(o: SceneObject, times: np.ndarray, top: float) -> np.ndarray:
    """Frames where the object still hangs where the scene holds it above the frame (not drawn)."""
    tr = o.ytrack
    if o.path is not None or tr.seg_t.size < 2 or tr.seg_y[0] - o.hh < top:
        return np.zeros(times.shape, bool)
    return times < tr.seg_t[1]


def _draw_solid(frames: np.ndarray, cam: _Cam, lt: _Light, o: SceneObject, sol: Solid, times: np.ndarray,
                show: np.ndarray) -> None:
    idx = np.nonzero(show)[0]
    if idx.size == 0:
        return
    t = times[idx]
    x, yb = o.x(t), o.y(t) - o.hh
    k, z = sol.k, sol.z
    kd, ks, p = _MATS[o.material]
    glass = o.material == "glass"
    if sol.shape == "box":
        hx, hy, hz = k * o.hw, k * o.hh, k * o.hw * sol.half_depth
        X = np.zeros(cam.T)
        Y = np.zeros(cam.T)
        X[idx], Y[idx] = x, yb
        faces, vis = _box_faces(X, Y, z, hx, hy, hz, sol.yaw, sol.colour, o.material, sol.tile, 0.3, cam.cx, cam.cy,
                                o.alpha if glass else 1.0, glass, show)
        _paint_faces(frames, cam, lt, faces, vis)
        return
    if sol.shape == "can":
        _draw_can(frames, cam, lt, idx, x, yb, z, k * o.hw, k * o.hh, sol, o)
        return
    rx, ry = k * o.hw, k * o.hh
    U, V = cam.project(x, yb + ry, z, idx)
    Rx, Ry = cam.f * rx / z, cam.f * ry / z
    turn = o.angle(t) if o.roll_radius > 0 else None
    accent = np.asarray(o.accent, np.float32)
    colour = sol.colour.astype(np.float32)

    def shade(u: np.ndarray, v: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = cam.s[idx[j]].astype(np.float32)[:, None, None]
        qx = (u - U[j].astype(np.float32)[:, None, None]) / np.float32(Rx)
        qy = (v - V[j].astype(np.float32)[:, None, None]) / np.float32(Ry)
        rr = np.sqrt(qx * qx + qy * qy)
        cov = _cov((1.0 - rr) * np.float32(min(Rx, Ry)) * s)
        w = np.sqrt(np.maximum(1.0 - rr * rr, 0.0))
        nx, ny, nz = qx / rx, -qy / ry, -w / max(rx, ry)
        norm = np.sqrt(nx * nx + ny * ny + nz * nz) + 1e-9
        nx, ny, nz = nx / norm, ny / norm, nz / norm
        if turn is not None:
            c, s_ = np.cos(turn[j])[:, None, None], np.sin(turn[j])[:, None, None]
            tx, ty = c * qx + s_ * qy, -s_ * qx + c * qy  # the ball's own image axes
        else:
            tx, ty = qx, qy
        a = np.arcsin(np.clip(tx, -1.0, 1.0)) * np.float32(1 / np.pi)
        b = np.arcsin(np.clip(ty, -1.0, 1.0)) * np.float32(1 / np.pi)
        albedo = colour * _look(sol.tile, a * 2.0, b * 2.0)[..., None]
        if o.material == "ceramic":
            band = _cov((0.22 - np.abs(ty)) * np.float32(Ry) * s)[..., None]
            albedo = albedo + (accent - albedo) * band
        if turn is not None and o.sectors > 0:  # two tones and a marker: its turning shows (as in look A)
            ang = np.arctan2(qy, qx) - turn[j][:, None, None]
            tone = _cov(rr * np.sin(o.sectors * ang) / o.sectors * np.float32(Rx) * s)[..., None]
            albedo = albedo + (accent - albedo) * tone
            mk = o.mark + turn[j][:, None, None]
            dot = _cov((0.22 - np.sqrt((qx - 0.6 * np.cos(mk)) ** 2 + (qy - 0.6 * np.sin(mk)) ** 2)) * np.float32(Rx) * s)
            albedo = albedo * (1.0 - 0.8 * dot)[..., None]
        if o.material == "metal":
            albedo = albedo * (0.75 + 0.35 * ny)[..., None]  # it mirrors the light room above, the floor below
        col = lt.shade(albedo, nx, ny, nz, kd, ks, p)
        if glass:
            cov = cov * (o.alpha + (0.95 - o.alpha) * (1.0 - w) ** 2)
        return col, cov

    _splat(frames, cam, idx, (U - Rx, U + Rx, V - Ry, V + Ry), shade)


def _draw_can(frames: np.ndarray, cam: _Cam, lt: _Light, idx: np.ndarray, x: np.ndarray, yb: np.ndarray, z: float,
              rad: float, hh: float, sol: Solid, o: SceneObject) -> None:
    """An upright cylinder of radius rad and half-height hh standing on yb [n] at x [n], depth z."""
    Ub, Vb = cam.project(x, yb, z, idx)
    _, Vt = cam.project(x, yb + 2 * hh, z, idx)
    R = cam.f * rad / z
    cy = cam.cy[idx]
    Eb, Et = R * (cy - yb) / z, R * (cy - yb - 2 * hh) / z  # rims' half-heights (+: seen from above)
    kd, ks, p = _MATS[o.material]
    colour = sol.colour.astype(np.float32)
    accent = np.asarray(o.accent, np.float32)
    glass = o.material == "glass"

    def shade(u: np.ndarray, v: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = cam.s[idx[j]].astype(np.float32)[:, None, None]
        e = lambda a: a[j].astype(np.float32)[:, None, None]  # noqa: E731
        q = (u - e(Ub)) / np.float32(R)
        w = np.sqrt(np.maximum(1.0 - q * q, 0.0))
        top, bot = e(Vt) + e(Et) * w, e(Vb) + e(Eb) * w
        side = _cov((1.0 - np.abs(q)) * np.float32(R) * s) * _cov((v - top) * s) * _cov((bot - v) * s)
        b = (v - e(Vt)) / np.maximum(e(Vb) - e(Vt), 1e-3)
        a = np.arcsin(np.clip(q, -1.0, 1.0)) * np.float32(1 / np.pi)
        albedo = colour * _look(sol.tile, a * 2.0, b * (hh / max(rad, 1e-3)))[..., None]
        if o.material == "ceramic":
            band = _cov((0.12 - np.abs(b - 0.5)) * (e(Vb) - e(Vt)) * s)[..., None]
            albedo = albedo + (accent - albedo) * band
        col = lt.shade(albedo, q, 0 * q, -w, kd, ks, p)
        cov = side
        # the cap the eye sees: the top from above, the bottom from below
        for V_, E_, up in ((Vt, Et, 1.0), (Vb, Eb, -1.0)):
            En = e(E_) * np.float32(up)
            if not (En > 0).any():
                continue
            rr = np.sqrt(q * q + ((v - e(V_)) / np.maximum(np.abs(e(E_)), 0.3)) ** 2)
            cap = _cov((1.0 - rr) * np.minimum(np.abs(e(E_)), np.float32(R)) * s) * (En > 0)
            flat = np.zeros_like(q)
            cc = lt.shade(np.broadcast_to(colour, q.shape + (3,)), flat, flat + np.float32(up), flat, kd, ks, p)
            col = col + (cc - col) * cap[..., None]
            cov = np.maximum(cov, cap)
        if glass:
            cov = cov * (o.alpha + (0.95 - o.alpha) * (1.0 - w) ** 2)
        return col, cov

    lo_v = np.minimum(Vt - np.abs(Et), Vb - np.abs(Eb))
    hi_v = np.maximum(Vt + np.abs(Et), Vb + np.abs(Eb))
    _splat(frames, cam, idx, (Ub - R, Ub + R, lo_v, hi_v), shade)


# ----------------------------------------------------------------------------------------------
# Strikers, hands, actors
# ----------------------------------------------------------------------------------------------


def _hand_tubes(tx: np.ndarray, ty: np.ndarray, d: tuple[float, float], W: float, thumb: float, skin: np.ndarray,
                sleeve: np.ndarray, z: float, T: int, present: np.ndarray | None = None, arm: float = 3.0) -> _Tubes:
    """A hand (four fingers, palm, thumb) and forearm, fingertips at (tx, ty) [T], the arm along d."""
    cx, cyy = -d[1], d[0]  # across

    def at(al: float, ac: float) -> tuple[np.ndarray, np.ndarray]:
        return tx + al * d[0] + ac * cx, ty + al * d[1] + ac * cyy

    segs, radii, cols, mats = [], [], [], []
    rf = 0.12 * W
    for off, start in ((-0.34, 0.14), (-0.11, 0.0), (0.12, 0.04), (0.35, 0.18)):
        segs.append((*at(rf + start * W, off * W), *at(0.85 * W, off * W)))
        radii.append(rf)
    for ac in (-0.16, 0.16):
        segs.append((*at(0.95 * W, ac * W), *at(1.35 * W, ac * W)))
        radii.append(0.2 * W)
    segs.append((*at(1.25 * W, thumb * 0.35 * W), *at(0.62 * W, thumb * 0.62 * W)))
    radii.append(0.13 * W)
    segs.append((*at(1.4 * W, 0.0), *at(2.1 * W, 0.0)))
    radii.append(0.3 * W)
    cols += [skin] * 8
    mats += ["skin"] * 8
    segs.append((*at(2.1 * W, 0.0), *at(2.1 * W + arm, 0.0)))
    radii.append(0.36 * W)
    cols.append(sleeve)
    mats.append("cloth")
    pres = None if present is None else np.broadcast_to(present, (len(segs), T))
    return _tube(segs, radii, cols, mats, z, T, present=pres)


def _strike_tubes(st: Strike, scene: Scene, lb: LookB, times: np.ndarray) -> _Tubes | None:
    s_all = st.distance(times)
    show = s_all < 2.6
    if not show.any():
        return None
    T = times.shape[0]
    wx, wy = st.tip_world(times, s_all, scene.objects)
    o, sol = scene.objects[st.obj], lb.solids[st.obj]
    tc = np.clip(times, st.time, st.time + st.hold)  # the object it touches, where it touches it
    bx, by = o.x(tc), o.y(tc) - o.hh
    tx, ty = bx + sol.k * (wx - bx), by + sol.k * (wy - by)
    d = st.direction
    z = sol.z
    if st.hand:
        assert st.skin is not None and st.sleeve is not None
        return _hand_tubes(tx, ty, d, st.hand_size, st.thumb, st.skin, st.sleeve, z, T, show)
    r = 0.5 * st.width / scene.zoom
    colour = scene.stick_colour if st.colour is None else st.colour
    mat = "metal" if float(np.ptp(colour)) < 0.08 and st.colour is not None else "wood"
    tip_len = 0.05 / scene.zoom
    segs = [(tx + d[0] * r, ty + d[1] * r, tx + d[0] * tip_len, ty + d[1] * tip_len),
            (tx + d[0] * tip_len, ty + d[1] * tip_len, tx + d[0] * 3.5, ty + d[1] * 3.5)]
    return _tube(segs, [r, r], [np.asarray(colour) * 0.35, colour], ["rubber", mat], z, T,
                 present=np.broadcast_to(show, (2, T)))


def _walker_tubes(w: Walker, times: np.ndarray, z: float) -> list[_Tubes]:
    T = times.shape[0]
    p = w.pose(times)

    def seg(a: str, b: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (*p[a], *p[b])

    groups = []
    for f, dz in ((1, 0.04), (0, -0.04)):  # the far limbs behind the body, the near ones in front
        segs = [seg("shoulder", f"elbow{f}"), seg(f"elbow{f}", f"hand{f}"), (*p[f"hand{f}"], *p[f"hand{f}"]),
                seg("hip", f"knee{f}"), seg(f"knee{f}", f"ankle{f}"), seg(f"ankle{f}", f"heel{f}"),
                seg(f"heel{f}", f"toe{f}")]
        radii = [0.8 * w.limb, 0.7 * w.limb, 0.9 * w.limb, w.limb, 0.9 * w.limb, 0.8 * w.limb, 0.8 * w.limb]
        k = 0.85 if f == 1 else 1.0
        cols = [w.shirt * k, w.shirt * k, w.skin * k, w.trousers * k, w.trousers * k, w.shoes * k, w.shoes * k]
        mats = ["cloth", "cloth", "skin", "cloth", "cloth", "rubber", "rubber"]
        groups.append((z + dz, _tube(segs, radii, cols, mats, z + dz, T)))
    body = _tube([seg("hip", "shoulder"), (*p["head"], *p["head"])], [1.6 * w.limb, w.head], [w.shirt, w.skin],
                 ["cloth", "skin"], z, T)
    return [groups[0][1], body, groups[1][1]]


def _door_parts(d: Door, times: np.ndarray, lb: LookB, cam: _Cam,
                ) -> tuple[list[tuple[list[_Face], list[np.ndarray] | None]], list[_Tubes]]:
    """A door in the back wall (its size kept as the scene shows it: scaled by the wall's depth)."""
    T = times.shape[0]
    zw = lb.wall_depth - 0.002
    c = 0.8 * lb.wall_depth / Z0
    ax = lb.camera.x0

    def X(x: float) -> float:
        return ax + (x - ax) * c

    z1 = np.zeros(T)
    x0, x1, h = X(d.x), X(d.x + d.width), d.height * c
    t = 0.035 * c
    inside = _Face(np.stack([z1 + x0, z1 + x1, z1 + x1, z1 + x0]), np.stack([z1, z1, z1 + h, z1 + h]),
                   np.full((4, T), zw), np.broadcast_to(np.array([0.0, 0.0, -1.0])[:, None], (3, T)),
                   np.asarray(d.inside_colour), "cloth")
    groups: list[tuple[list[_Face], list[np.ndarray] | None]] = [([inside], None)]
    for (a0, a1, b0, b1) in ((x0 - t, x0, 0.0, h + t), (x1, x1 + t, 0.0, h + t), (x0 - t, x1 + t, h, h + t)):
        groups.append(_box_faces(z1 + 0.5 * (a0 + a1), z1 + b0, zw - 0.6 * t, 0.5 * (a1 - a0), 0.5 * (b1 - b0),
                                 0.6 * t, 0.0, np.asarray(d.frame_colour), "paint", None, 1.0, cam.cx, cam.cy))
    s, w = d.side, d.width * c
    xh = X(d.x if s > 0 else d.x + d.width)
    if d.slide:
        dx = -s * d.open(times) * w
        hx, fx = xh + dx, xh + s * w + dx
        hz = fz = np.full(T, zw - 1.2 * t)
    else:
        th = d.angle(times)
        hx, fx = z1 + xh, xh + s * w * np.cos(th)
        hz, fz = np.full(T, zw - 0.01), zw - 0.01 - w * np.sin(th)
    nx, nz = fz - hz, -(fx - hx)
    norm = np.sqrt(nx * nx + nz * nz) + 1e-9
    flip = np.where(nz > 0, -1.0, 1.0)
    normal = np.stack([nx / norm * flip, z1, nz / norm * flip])
    tile = _object_tile("wood" if d.material == "wood" else "metal", np.random.default_rng(lb.seed + 7))
    panel_colour = np.asarray(d.colour)
    panel = _Face(np.stack([hx, fx, fx, hx]), np.stack([z1, z1, z1 + h, z1 + h]), np.stack([hz, fz, fz, hz]), normal,
                  panel_colour, "wood" if d.material == "wood" else "metal", tile, (w / 0.4, h / 0.8))
    groups.append(([panel], None))
    if d.glass_colour is not None:
        def lerp(a: np.ndarray, b: np.ndarray, u: float) -> np.ndarray:
            return a + (b - a) * u

        px = [lerp(hx, fx, u) for u in (0.14, 0.86, 0.86, 0.14)]
        pz = [lerp(hz, fz, u) - 0.003 for u in (0.14, 0.86, 0.86, 0.14)]
        py = [z1 + h * v for v in (0.08, 0.08, 0.92, 0.92)]
        groups.append(([_Face(np.stack(px), np.stack(py), np.stack(pz), normal, np.asarray(d.glass_colour), "glass",
                                alpha=0.7, glass=True)], None))
    hxx, hzz = hx + (fx - hx) * 0.86, hz + (fz - hz) * 0.86 - 0.02
    handle = _Tubes(hxx[None], (z1 + 0.47 * h)[None], hxx[None], (z1 + 0.47 * h)[None], np.array([0.03 * c]),
                    np.asarray(d.handle_colour)[None], ["metal"], float(np.mean(hzz)))
    return groups, [handle]


def _breakable_parts(g: Breakable, times: np.ndarray, z: float, cam: _Cam) -> tuple[list[list[_Face]], list[np.ndarray],
                                                                                       list[_Tubes]]:
    T = times.shape[0]
    solids: list[list[_Face]] = []
    vis: list[np.ndarray] = []
    tubes: list[_Tubes] = []
    z1 = np.zeros(T)
    if g.shelf is not None:  # a small table: a board on a leg
        a, b, y = g.shelf
        wood = _object_tile("wood", np.random.default_rng(int(1e6 * a) & 0xFFFF))
        f, v = _box_faces(z1 + 0.5 * (a + b), z1 + y - 0.03, z, 0.5 * (b - a), 0.015, 0.12, 0.0,
                          np.array([0.42, 0.3, 0.18]), "wood", wood, 0.3, cam.cx, cam.cy)
        solids.append(f)
        vis.append(np.stack(v))
        tubes.append(_tube([(0.5 * (a + b), y - 0.03, 0.5 * (a + b), 0.0)], [0.014], [np.array([0.25, 0.25, 0.27])],
                           ["metal"], z, T))
    cx, yb = g.xpath(times), g.ypath(times)
    pres = g.present(times)
    rim = g.colour * 0.5 + 0.5
    if g.pane:
        f, v = _box_faces(cx, yb, z, g.hw, g.hh, 0.008, 0.0, np.asarray(g.colour), "glass", None, 1.0, cam.cx, cam.cy,
                          g.alpha, True, pres)
        solids.append(f)
        vis.append(np.stack(v))
    else:
        top = yb + 2 * g.hh
        segs = [(cx, yb + g.hw, cx, top - 0.5 * g.hw), (cx, top - 0.5 * g.hw, cx, top + 0.3 * g.neck),
                (cx, top + 0.3 * g.neck, cx, top + g.neck)]
        tubes.append(_tube(segs, [g.hw, 0.6 * g.hw, 0.38 * g.hw], [g.colour] * 3, ["glass"] * 3, z, T, alpha=g.alpha,
                           glass=True, present=np.broadcast_to(pres, (3, T))))
    sx, sy = g.shards(times)
    after = ~pres
    segs = [(sx[i], sy[i] + g.shard_r[i], sx[i], sy[i] + g.shard_r[i]) for i in range(sx.shape[0])]
    tubes.append(_tube(segs, list(g.shard_r), [rim] * len(segs), ["glass"] * len(segs), z, T, alpha=0.9,
                       present=np.broadcast_to(after, (len(segs), T))))
    return solids, vis, tubes


def _shovel_parts(sv: Shovel, times: np.ndarray, z: float) -> tuple[_Face, list[_Tubes]]:
    T = times.shape[0]
    tx, ty = sv.tip(times)
    ax, ay = sv.axis()
    nx, ny = ay, -ax
    w, h = sv.blade_w, sv.blade_h
    handle = _tube([(tx + ax * h, ty + ay * h, tx + ax * (h + sv.handle), ty + ay * (h + sv.handle)),
                    (tx + ax * 0.85 * h, ty + ay * 0.85 * h, tx + ax * 1.25 * h, ty + ay * 1.25 * h)],
                   [0.018, 0.026], [sv.handle_colour, sv.blade_colour * 0.7], ["wood", "metal"], z - 0.01, T, ground=True)
    xs = np.stack([tx - nx * 0.4 * w, tx + nx * 0.4 * w, tx + ax * h + nx * 0.5 * w, tx + ax * h - nx * 0.5 * w])
    ys = np.stack([ty - ny * 0.4 * w, ty + ny * 0.4 * w, ty + ay * h + ny * 0.5 * w, ty + ay * h - ny * 0.5 * w])
    n3 = np.array([0.0, 0.35, -1.0]) / math.hypot(0.35, 1.0)
    blade = _Face(xs, ys, np.full((4, T), z), np.broadcast_to(n3[:, None], (3, T)), np.asarray(sv.blade_colour),
                  "metal", _object_tile("metal", np.random.default_rng(3)), (1.0, 1.0), ground=True)
    tubes = [handle]
    for k in range(sv.contacts.shape[0]):
        dx, dy, fly = sv.dirt(times, k)
        segs = [(dx[i], dy[i] + sv.dirt_r[i], dx[i], dy[i] + sv.dirt_r[i]) for i in range(dx.shape[0])]
        cols = [sv.dirt_colour * (0.8 + 0.2 * (i % 3)) for i in range(dx.shape[0])]
        tubes.append(_tube(segs, list(sv.dirt_r), cols, ["dirt"] * len(segs), z - 0.02, T, present=fly))
    return blade, tubes


def _clash_tubes(c: Clash, times: np.ndarray, z: float) -> list[_Tubes]:
    T = times.shape[0]
    ang = c.angle(times)
    ux, uy = np.cos(ang), np.sin(ang)
    px, py = c.pivot
    tipx, tipy = c.swung(times)
    ax, ay, bx, by = c.held(times)
    wx, wy = c.held_axis()
    grip = 0.13
    mat = "metal" if c.material == "metal" else "wood"
    segs = [(ax, ay, ax - wx * grip, ay - wy * grip), (ax, ay, bx, by),
            (px + 0 * ux, py + 0 * uy, px - ux * grip, py - uy * grip), (px + 0 * ux, py + 0 * uy, tipx, tipy)]
    radii = [0.9 * c.radius_held, c.radius_held, 0.9 * c.radius_swung, c.radius_swung]
    cols = [c.grip_colour, c.colour, c.grip_colour, c.colour]
    out = [_tube(segs[:2], radii[:2], cols[:2], ["rubber", mat], z + 0.01, T),
           _tube(segs[2:], radii[2:], cols[2:], ["rubber", mat], z - 0.01, T)]
    if c.material == "metal":
        gx, gy = math.cos(c.angle_c), math.sin(c.angle_c)
        cx = c.pivot[0] + c.length * gx + c.radius_swung * c.push[0]
        cy = c.pivot[1] + c.length * gy + c.radius_swung * c.push[1]
        pres = np.zeros((1, T), bool)
        for tc in c.contacts:
            pres[0] |= (times >= tc) & (times < tc + 0.06)
        out.append(_tube([(cx, cy, cx, cy)], [0.03], [np.array([1.0, 0.95, 0.7])], ["lamp"], z - 0.03, T, present=pres,
                         alpha=0.9))
    return out


def _draw_motor(frames: np.ndarray, cam: _Cam, lt: _Light, mo: Motor, z: float, times: np.ndarray, top: float,
                ) -> None:
    T = times.shape[0]
    body = np.asarray(mo.body_colour)
    if mo.wall:  # hung from above on a rod
        stand = _tube([(mo.x, mo.y, mo.x, top + 1.0)], [0.1 * mo.radius], [body * 0.8], ["metal"], z + 0.02, T)
    else:
        stand = _tube([(mo.x, mo.y, mo.x, 0.03), (mo.x - 0.45 * mo.radius, 0.02, mo.x + 0.45 * mo.radius, 0.02)],
                      [0.12 * mo.radius, 0.02 + 0.05 * mo.radius], [body, body * 0.8], ["paint", "paint"], z + 0.02, T)
    _paint_tubes(frames, cam, lt, stand)
    lx, ly = (mo.x, mo.y - 0.75 * mo.radius) if mo.wall else (mo.x + 0.38 * mo.radius, 0.2 * mo.radius + 0.03)
    on = (times >= mo.t_on) & (times < mo.t_off)
    for lit, colour, mat in ((on, np.array([0.25, 1.0, 0.35]), "lamp"), (~on, np.full(3, 0.12), "rubber")):
        _paint_tubes(frames, cam, lt, _tube([(lx, ly, lx, ly)], [max(0.12 * mo.radius, 0.012)], [colour], [mat], z - 0.05,
                                            T, present=lit[None]))
    idx = np.arange(T)
    U, V = cam.project(np.full(T, mo.x), np.full(T, mo.y), z - 0.03, idx)
    R = cam.f * mo.radius / (z - 0.03)
    ang = mo.angle(times)
    sector = 2 * np.pi / mo.blades
    blade_c, mark_c = np.asarray(mo.blade_colour, np.float32), np.asarray(mo.mark_colour, np.float32)
    pitch = 0.5

    def shade(u: np.ndarray, v: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = cam.s[j].astype(np.float32)[:, None, None]
        dx, dy = u - U[j].astype(np.float32)[:, None, None], v - V[j].astype(np.float32)[:, None, None]
        r = np.sqrt(dx * dx + dy * dy)
        a_j = ang[j].astype(np.float32)[:, None, None]
        rel = (np.arctan2(dy, dx) - a_j) % np.float32(2 * np.pi)
        kk = np.floor(rel * np.float32(1 / sector) + 0.5)
        off = np.abs(rel - kk * np.float32(sector))
        half = (0.2 + 0.25 * r / R) * np.float32(sector / 2)
        blade = _cov(r * (half - off) * s) * _cov((R - r) * s)
        th = a_j + kk * np.float32(sector)  # each blade's image angle: it is pitched, lit by its angle
        nx, ny, nz = math.sin(pitch) * np.sin(th), math.sin(pitch) * np.cos(th), -math.cos(pitch) + 0 * th
        facing = np.where(nx * lt.L[0] + ny * lt.L[1] + nz * lt.L[2] < 0, -1.0, 1.0)  # thin blades: lit on either side
        albedo = np.where((kk % mo.blades == 0)[..., None], mark_c, blade_c)
        col = lt.shade(albedo, nx * facing, ny * facing, nz * facing, 0.8, 0.3, 20.0)
        hub_r = 0.2 * R
        hub = _cov((hub_r - r) * s)
        hq = np.minimum(r / hub_r, 1.0) / (r + 1e-6)
        hz = -np.sqrt(np.maximum(1 - (r / hub_r) ** 2, 0.0))
        hub_col = lt.shade(np.broadcast_to(body * 0.55, dx.shape + (3,)).astype(np.float32), dx * hq, -dy * hq,
                           hz, 0.7, 0.6, 25.0)
        ring_w = 0.05 * R + 0.4
        tr = np.clip((r - 1.08 * R) / ring_w, -1.0, 1.0)
        ring = _cov((1.0 - np.abs((r - 1.08 * R) / ring_w)) * ring_w * s)
        rz = -np.sqrt(np.maximum(1 - tr * tr, 0.0))
        ring_col = lt.shade(np.broadcast_to(body * 0.6, dx.shape + (3,)).astype(np.float32), tr * dx / (r + 1e-6),
                            -tr * dy / (r + 1e-6), rz, 0.7, 0.6, 25.0)
        col = ring_col + (col - ring_col) * blade[..., None]
        col = col + (hub_col - col) * hub[..., None]
        return col, np.maximum(np.maximum(blade, ring), hub)

    ext = 1.2 * R
    _splat(frames, cam, idx, (U - ext, U + ext, V - ext, V + ext), shade)


# ----------------------------------------------------------------------------------------------
# Background: floor and wall through the camera, with cast shadows
# ----------------------------------------------------------------------------------------------


def _texels(img: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """An image tiled over surface coordinates (one tile per unit of ``u`` across, ``v`` down), a
    little darker than the image (the procedural textures' range)."""
    h, w, _ = img.shape
    iy = np.floor(v * h).astype(np.int64) % h
    ix = np.floor(u * w).astype(np.int64) % w
    return img[iy, ix] * np.float32(0.9)


def _floor_albedo(lb: LookB, gx: np.ndarray, gz: np.ndarray, foot: np.ndarray) -> np.ndarray:
    tl = lb.tiles
    sc, seed, kind = lb.scale, lb.seed, lb.floor_kind
    c1 = lb.floor_colour.astype(np.float32)
    c2 = lb.second_colour.astype(np.float32)
    mix = None
    if lb.floor_image is not None:
        return _texels(load_texture(lb.floor_image), gx / sc, gz / sc)
    if kind == "planks":
        pw, pl = 0.16 * sc, 1.2 * sc
        i = np.floor(gx / pw)
        off = _hash(i, 1, seed) * pl
        jz = np.floor((gz + off) / pl)
        shade = 0.8 + 0.35 * _hash(i, jz, seed)
        grain = _look(tl["grain"], gx / pw, (gz + off) / (2 * pl))
        seam = np.maximum(_lines(gx, pw, 0.006, foot), _lines(gz + off, pl, 0.006, foot))
        k = shade * (1.0 + 0.2 * grain * _fade(foot, 0.02)) * (1.0 - 0.6 * seam)
    elif kind == "tiles":
        ts = 0.35 * sc
        i, jz = np.floor(gx / ts), np.floor(gz / ts)
        shade = 0.92 + 0.16 * _hash(i, jz, seed)
        mix = np.maximum(_lines(gx, ts, 0.012, foot), _lines(gz, ts, 0.012, foot))
        k = shade * (1.0 + 0.05 * _look(tl["a"], gx / ts, gz / ts) * _fade(foot, 0.05))
    elif kind == "concrete":
        k = (1.0 + 0.12 * _look(tl["a"], gx / (1.5 * sc), gz / (1.5 * sc))
             + 0.06 * _look(tl["fine"], gx / (0.4 * sc), gz / (0.4 * sc)) * _fade(foot, 0.01))
        k = k * (1.0 - 0.5 * np.maximum(_lines(gx, 2.2 * sc, 0.01, foot), _lines(gz, 2.2 * sc, 0.01, foot)))
    elif kind == "carpet":
        k = (1.0 + 0.1 * _look(tl["a"], gx / (1.2 * sc), gz / (1.2 * sc))
             + 0.12 * _look(tl["fine"], gx / (0.15 * sc), gz / (0.15 * sc)) * _fade(foot, 0.004))
    elif kind == "stone":
        sh = 0.3 * sc
        i = np.floor(gz / sh)
        off = _hash(i, 3, seed) * sh * 1.7
        jx = np.floor((gx + off) / (1.4 * sh))
        shade = 0.8 + 0.35 * _hash(i, jx, seed)
        mix = np.maximum(_lines(gz, sh, 0.012, foot), _lines(gx + off, 1.4 * sh, 0.012, foot))
        k = shade * (1.0 + 0.12 * _look(tl["a"], gx / sh, gz / sh) * _fade(foot, 0.03))
        c2 = c1 * 0.55
    elif kind == "gravel":
        c = 0.012 * sc
        cell = _hash(np.floor(gx / c), np.floor(gz / c), seed)
        k = 0.75 + (0.5 * cell - 0.25) * _fade(foot, c) + 0.25 + 0.08 * _look(tl["a"], gx / 0.5, gz / 0.5)
    elif kind == "grass":
        k = 1.0 + 0.25 * _look(tl["fine"], gx / (0.1 * sc), gz / (0.3 * sc)) * _fade(foot, 0.005)
        mix = np.clip(0.5 + 0.4 * _look(tl["a"], gx / (1.5 * sc), gz / (1.5 * sc)), 0.0, 1.0) * 0.5
        c2 = c1 * np.array([1.1, 1.0, 0.5], np.float32)
    elif kind == "snow":
        glint = np.clip(_hash(np.floor(gx / 0.02), np.floor(gz / 0.02), seed) * 12 - 11, 0, 1) * _fade(foot, 0.02)
        k = 1.0 + 0.05 * _look(tl["a"], gx, gz) + 0.15 * glint
    elif kind == "sand":
        ripple = np.sin(2 * np.pi * gz / (0.15 * sc) + 2.5 * _look(tl["a"], gx / 2, gz / 2))
        k = 1.0 + (0.07 * ripple * _fade(foot, 0.04) + 0.05 * _look(tl["fine"], gx / 0.2, gz / 0.2) * _fade(foot, 0.004))
    elif kind == "plate":
        p = 0.1 * sc
        bump = np.abs(np.sin(np.pi * (gx + gz) / p) * np.sin(np.pi * (gx - gz) / p))
        k = 1.0 + 0.2 * (bump - 0.5) * _fade(foot, p / 4) + 0.05 * _look(tl["grain"], gx, gz)
    else:  # dirt
        k = 1.0 + 0.2 * _look(tl["a"], gx / (0.8 * sc), gz / (0.8 * sc)) + 0.15 * _look(
            tl["fine"], gx / (0.2 * sc), gz / (0.2 * sc)) * _fade(foot, 0.006)
    out = c1 * np.asarray(k, np.float32)[..., None]
    if mix is not None:
        out = out + (c2 - out) * mix[..., None]
    return out


def _wall_albedo(lb: LookB, wx: np.ndarray, wy: np.ndarray, foot: float) -> np.ndarray:
    tl = lb.tiles
    sc, seed, kind = lb.scale, lb.seed + 17, lb.wall_kind
    c1 = lb.wall_colour.astype(np.float32)
    c2 = lb.second_colour.astype(np.float32)
    mix = None
    if lb.wall_image is not None:
        out = _texels(load_texture(lb.wall_image), wx / (1.5 * sc), -wy / (1.5 * sc))
    else:
        if kind == "brick":
            bh = 0.085 * sc
            row = np.floor(wy / bh)
            off = (row % 2) * 0.5 * 2.3 * bh
            col = np.floor((wx + off) / (2.3 * bh))
            k = (0.8 + 0.35 * _hash(row, col, seed)) * (1.0 + 0.1 * _look(tl["fine"], wx / 0.3, wy / 0.3))
            mix = np.maximum(_lines(wy, bh, 0.008, foot), _lines(wx + off, 2.3 * bh, 0.008, foot)) * 0.85
            c2 = np.full(3, float(c1.mean()) * 0.5 + 0.35, np.float32)
        elif kind == "plaster":
            k = 1.0 + 0.07 * _look(tl["a"], wx / (2 * sc), wy / (2 * sc)) + 0.03 * _look(tl["fine"], wx / 0.3, wy / 0.3)
        elif kind == "concrete":
            p = 0.6 * sc
            hole = np.exp(-(((wx / p) % 1 - 0.5) ** 2 + ((wy / p) % 1 - 0.5) ** 2) / 0.002)
            k = (1.0 + 0.1 * _look(tl["a"], wx / (1.2 * sc), wy / (1.2 * sc))
                 + 0.05 * _look(tl["fine"], wx / 0.4, wy / 0.4)) * (1.0 - 0.5 * hole) * (
                1.0 - 0.3 * np.maximum(_lines(wx, 2 * p, 0.006, foot), _lines(wy, p * 2, 0.006, foot)))
        elif kind == "panel":
            bw = 0.2 * sc
            i = np.floor(wx / bw)
            k = (0.85 + 0.25 * _hash(i, 5, seed)) * (1.0 + 0.15 * _look(tl["grain"], wx / bw, wy / 2.0)) * (
                1.0 - 0.55 * _lines(wx, bw, 0.008, foot))
        elif kind == "tiles":
            ts = 0.15 * sc
            k = (0.93 + 0.12 * _hash(np.floor(wx / ts), np.floor(wy / ts), seed)) + 0 * wx
            mix = np.maximum(_lines(wx, ts, 0.006, foot), _lines(wy, ts, 0.006, foot)) * 0.8
        else:  # wallpaper
            lam = 0.12 * sc
            stripe = np.where((wx / lam) % 1.0 < 0.5, 1.0, 0.0)
            k = 1.0 + 0.08 * stripe + 0.06 * _look(tl["b"], wx / lam, wy / (2 * lam))
        out = c1 * np.asarray(k, np.float32)[..., None]
        if mix is not None:
            out = out + (c2 - out) * mix[..., None]
    if lb.skirt > 0:
        sk = _cov((np.float32(lb.skirt) - wy) / np.float32(foot))[..., None]
        out = out + (lb.skirt_colour.astype(np.float32) - out) * sk
    return out


@dataclass
class _Caster:
    x: np.ndarray  # [T] over the floor
    z: float
    h: np.ndarray  # [T] height of its bottom over the floor
    r: float  # its half-width
    up: float  # half-height (where the light sees it)


def _background(frames: np.ndarray, cam: _Cam, lt: _Light, lb: LookB, casters: list[_Caster]) -> None:
    """The floor (rows that show it) and the wall (rows that show it) of every frame, lit, with the
    casters' shadows on the floor."""
    size, T = cam.size, cam.T
    ar = (np.arange(size, dtype=np.float32) + 0.5)
    u, v = cam.to_camera(np.broadcast_to(ar[None, None, :], (T, 1, size)),
                         np.broadcast_to(ar[None, :, None], (T, size, 1)), np.arange(T))
    f, vp, zw = np.float32(cam.f), np.float32(cam.vp), np.float32(lb.wall_depth)
    e = lambda a: a.astype(np.float32)[:, None, None]  # noqa: E731
    cy, cx, s = e(cam.cy), e(cam.cx), e(cam.s)
    C = np.float32(cam.C)
    seam = vp + f * cy / zw
    wf = np.clip((v - seam) * s + 0.5, 0.0, 1.0)  # how much of each pixel is floor
    rows = wf.max(axis=(0, 2))
    floor_rows = np.nonzero(rows > 0)[0]
    wall_rows = np.nonzero(wf.min(axis=(0, 2)) < 1)[0]
    L = lt.L
    light_c = lt.colour.astype(np.float32)
    px, pz, pr, pa = lb.pool
    if wall_rows.size:
        r1 = int(wall_rows[-1]) + 1
        uw, dvw = u[:, :r1], v[:, :r1] - vp
        wy = cy - dvw * zw / f
        wx = cx + (uw - C) * zw / f
        wall = _wall_albedo(lb, wx, wy, float(lb.wall_depth / (cam.f * float(cam.s.mean()))))
        wpool = 1.0 + 0.6 * pa * np.exp(-((wx - px) ** 2 + (wy - 0.8) ** 2) / (1.5 * pr * pr))
        wk = (np.float32(lt.ambient + (1.0 - lt.ambient) * (0.8 * max(-L[2], 0.0) + 0.25)) * wpool
              * (1.0 - 0.3 * np.exp(-np.maximum(wy, 0) / 0.1)))
        frames[:, :r1] = wall * (wk[..., None] * light_c)
    if floor_rows.size:
        r0 = int(floor_rows[0])
        uf, dv, sf = u[:, r0:], v[:, r0:] - vp, s
        zf = np.minimum(f * cy / np.maximum(dv, 1e-3), 4 * zw)
        gx = cx + (uf - C) * zf / f
        foot = zf / (f * sf)
        floor = _floor_albedo(lb, gx, zf, foot)
        light_f = np.float32(lt.ambient + (1.0 - lt.ambient) * 0.95 * max(L[1], 0.0))
        pool = 1.0 + pa * np.exp(-((gx - px) ** 2 + (zf - pz) ** 2) / (pr * pr))
        ao = 1.0 - 0.3 * np.exp(-np.maximum(zw - zf, 0.0) / 0.12)
        k = light_f * pool * ao
        ly = max(L[1], 0.2)
        for c in casters:  # soft shadows cast along the light, and a dark contact patch under each
            dark_t = 0.7 / (1.0 + 1.5 * c.h / max(c.up, 1e-3))
            if float(np.max(dark_t)) < 0.02:
                continue
            hc = c.h + c.up
            sx = e(c.x - hc * L[0] / ly)
            sz = np.float32(c.z) - e(hc * L[2] / ly)
            sig = e(c.r * (0.8 + 0.8 * c.h / (c.h + 2 * c.up + 1e-3)))
            d2 = ((gx - sx) ** 2 + ((zf - sz) * max(L[1], 0.3)) ** 2) / (sig * sig)
            contact = e(0.6 * np.exp(-c.h / (0.4 * max(c.up, 1e-3))))
            dc = ((gx - e(c.x)) ** 2 + (zf - np.float32(c.z)) ** 2) / np.float32((0.8 * c.r) ** 2)
            k = k * (1.0 - e(dark_t) * np.exp(-0.5 * d2)) * (1.0 - contact * np.exp(-dc))
        floor = floor * (k[..., None] * light_c)
        r1 = int(wall_rows[-1]) + 1 if wall_rows.size else r0
        if r1 > r0:  # rows of both: blend along the seam
            region = frames[:, r0:r1]
            frames[:, r0:r1] = region + (floor[:, :r1 - r0] - region) * wf[:, r0:r1, :, None]
        frames[:, max(r1, r0):] = floor[:, max(r1, r0) - r0:]


def _casters(scene: Scene, lb: LookB, times: np.ndarray, show: list[np.ndarray]) -> list[_Caster]:
    out: list[_Caster] = []
    for o, sol, sh in zip(scene.objects, lb.solids, show, strict=True):
        h = np.where(sh, o.y(times) - o.hh, 1e3)
        out.append(_Caster(o.x(times), sol.z, h, sol.k * o.hw, sol.k * o.hh))
    for f, z in zip(scene.foley, lb.actor_z, strict=True):
        if isinstance(f, Walker):
            fx, fy = f.feet(times)
            for i in (0, 1):
                out.append(_Caster(fx[i], z, fy[i], 0.5 * f.foot_len, 0.3 * f.limb))
            out.append(_Caster(f.hip_x(times), z, np.full(times.shape, 0.3 * f.hip), 0.25 * f.hip, f.hip))
        elif isinstance(f, Breakable):
            out.append(_Caster(f.xpath(times), z, np.where(f.present(times), f.ypath(times), 1e3), f.hw, f.hh))
        elif isinstance(f, Shovel):
            tx, ty = f.tip(times)
            out.append(_Caster(tx, z, np.maximum(ty, 0.0), 0.5 * f.blade_w, 0.5 * f.blade_h))
    for m, z in zip(scene.motors, lb.motor_z, strict=True):
        if not m.wall:
            out.append(_Caster(np.full(times.shape, m.x), z, np.zeros(times.shape), 0.5 * m.radius, 0.5 * m.y))
    return out


# ----------------------------------------------------------------------------------------------
# The whole frame
# ----------------------------------------------------------------------------------------------


def render_b(scene: Scene, times: np.ndarray, size: int, duration: float, look_rng: np.random.Generator,
             noise_rng: np.random.Generator, texture_dir: str | Path | None = None) -> np.ndarray:
    """Frames uint8 [T, size, size, 3] of ``scene`` at ``times`` in look B. The look's choices come from
    ``look_rng`` (:func:`sample_look`), the sensor noise from ``noise_rng``; ``texture_dir`` (optional)
    holds ``.npy`` or ``.png`` images that replace the procedural wall and floor."""
    return paint(scene, sample_look(scene, look_rng, duration, texture_dir), times, size, duration, noise_rng)


def paint(scene: Scene, lb: LookB, times: np.ndarray, size: int, duration: float, noise_rng: np.random.Generator,
          ) -> np.ndarray:
    """Frames uint8 [T, size, size, 3] of ``scene`` at ``times`` drawn with look B's choices ``lb``.
    Layers, far to near: the wall and the floor (shadows on it), then every solid, actor, striker and
    distractor by its depth; then the light's changes, exposure, vignette, a soft shoulder, sensor noise
    and (where the scene has it) block-DCT compression."""
    T = times.shape[0]
    cam = _Cam(lb.camera, times, duration, size)
    L = lb.light / np.linalg.norm(lb.light)
    H = L + np.array([0.0, 0.0, -1.0])
    lt = _Light(L, H / np.linalg.norm(H), lb.light_colour, lb.ambient)
    top = scene.floor_level / scene.zoom
    show = [~_held_hidden(o, times, top) for o in scene.objects]
    frames = np.empty((T, size, size, 3), np.float32)
    _background(frames, cam, lt, lb, _casters(scene, lb, times, show))

    items: list[tuple[float, int, Callable[[], None]]] = []

    def add(z: float, fn: Callable[[], None]) -> None:
        items.append((z, len(items), fn))

    def tubes(tb: _Tubes) -> Callable[[], None]:
        return lambda: _paint_tubes(frames, cam, lt, tb)

    def faces(fs: list[_Face], vis: list[np.ndarray] | None = None) -> Callable[[], None]:
        return lambda: _paint_faces(frames, cam, lt, fs, vis)

    for f, z in zip(scene.foley, lb.actor_z, strict=True):
        if isinstance(f, Walker):
            for k, tb in enumerate(_walker_tubes(f, times, z)):
                add(z + 0.04 * (1 - k), tubes(tb))
        elif isinstance(f, Door):
            groups, hs = _door_parts(f, times, lb, cam)
            for i, (fs, vis_) in enumerate(groups):
                add(lb.wall_depth - 0.001 * i, faces(fs, vis_))
            for tb in hs:
                add(tb.z, tubes(tb))
        elif isinstance(f, Breakable):
            sol_faces, vis, tbs = _breakable_parts(f, times, z, cam)
            for fs, vv in zip(sol_faces, vis, strict=True):
                add(z + 0.01, faces(fs, list(vv)))
            for tb in tbs:
                add(z, tubes(tb))
        elif isinstance(f, Shovel):
            blade, tbs = _shovel_parts(f, times, z)
            add(z, faces([blade]))
            for tb in tbs:
                add(tb.z, tubes(tb))
        else:
            for tb in _clash_tubes(f, times, z):
                add(tb.z, tubes(tb))
    for m, z in zip(scene.motors, lb.motor_z, strict=True):
        add(z, functools.partial(_draw_motor, frames, cam, lt, m, z, times, top))
    for o, sol, sh in zip(scene.objects, lb.solids, show, strict=True):
        add(sol.z, functools.partial(_draw_solid, frames, cam, lt, o, sol, times, sh))
    for st in scene.strikes:
        tb_ = _strike_tubes(st, scene, lb, times)
        if tb_ is not None:
            add(tb_.z - 0.001, tubes(tb_))
    # silent distractors of the scene: drifters, pendulums (string and bob)
    zs = iter(lb.distractor_z)
    dist_r = np.random.default_rng(lb.seed + 99)
    for o in scene.distractors:
        z = next(zs)
        sol = Solid("sphere" if o.disc else "box", 1.0, z, float(dist_r.uniform(-0.6, 0.6)), 0.8,
                    _object_tile(o.material, dist_r), np.asarray(o.colour))
        add(z, functools.partial(_draw_solid, frames, cam, lt, o, sol, times, np.ones(T, bool)))
    for pd in scene.pendulums:
        z = next(zs)
        bob = pd.bob
        bx, by = bob.x(times), bob.y(times)
        add(z + 0.001, tubes(_tube([(pd.pivot[0], pd.pivot[1], bx, by)], [0.004], [pd.string], ["cloth"], z, T)))
        sol = Solid("sphere", 1.0, z, 0.0, 1.0, _object_tile(bob.material, dist_r), np.asarray(bob.colour))
        add(z, functools.partial(_draw_solid, frames, cam, lt, bob, sol, times, np.ones(T, bool)))
    # look B's own silent distractors
    if lb.lamp is not None:
        lp = lb.lamp
        lx, ly = lp.at(times)
        add(lp.z + 0.002, tubes(_tube([(lp.pivot[0], lp.pivot[1], lx, ly)], [0.005], [lp.cord], ["cloth"], lp.z, T)))
        def hung(t: np.ndarray, lp: Lamp = lp) -> tuple[np.ndarray, np.ndarray]:  # the shade's centre
            x_, y_ = lp.at(t)
            return x_, y_ - 0.5 * lp.height

        shade_obj = SceneObject("metal", True, lp.radius, 0.5 * lp.height, lp.colour, lp.colour, 1.0, (0.05, 0.0, 0.0),
                                path=hung)
        sol = Solid("can", 1.0, lp.z, 0.0, 1.0, np.ones((_TILE, _TILE), np.float32), np.asarray(lp.colour))
        add(lp.z, functools.partial(_draw_solid, frames, cam, lt, shade_obj, sol, times, np.ones(T, bool)))
        add(lp.z - 0.001, tubes(_tube([(lx, ly - lp.height - 0.02, lx, ly - lp.height - 0.02)], [0.03],
                                      [np.array([1.0, 0.92, 0.7])], ["lamp"], lp.z, T)))
    if lb.hand is not None:
        hd = lb.hand
        on = (times >= hd.t0) & (times <= hd.t1)
        tx, ty = hd.tip(times)
        add(hd.z, tubes(_hand_tubes(tx, ty, hd.direction, hd.size, 1.0, hd.skin, hd.sleeve, hd.z, T, on)))
    occ = scene.look.occluder
    if occ is not None:
        zo = Z0 * lb.occluder[0]
        x = lb.camera.x0 + (occ.x * size - cam.C) * zo / cam.f
        y_top = lb.camera.eye - (occ.top * size - cam.vp) * zo / cam.f
        colour = np.clip(occ.colour * lb.occluder[1], 0, 1)
        if occ.kind == "post":
            r = 0.5 * occ.width * size * zo / cam.f
            add(zo, tubes(_tube([(x, y_top, x, -1.0)], [r], [colour], ["paint"], zo, T)))
        else:  # a plant in front: a cluster of leaves (shaded balls)
            pr = np.random.default_rng(occ.seed)
            rad = occ.width * size * zo / cam.f
            segs, radii, cols = [], [], []
            for _ in range(14):
                rr, th = rad * math.sqrt(pr.uniform()), pr.uniform(0, 2 * np.pi)
                px, py = x + rr * math.cos(th), y_top + rr * math.sin(th)
                segs.append((px, py, px + pr.uniform(-0.3, 0.3) * rad, py + pr.uniform(-0.3, 0.3) * rad))
                radii.append(pr.uniform(0.15, 0.3) * rad)
                cols.append(hsv(pr.uniform(0.2, 0.4), pr.uniform(0.4, 0.9), float(np.max(colour)) * pr.uniform(0.6, 1.3)))
            add(zo, tubes(_tube(segs, radii, cols, ["cloth"] * len(segs), zo, T)))

    for _, _, fn in sorted(items, key=lambda it: (-it[0], it[1])):
        fn()

    # the sensor: light changes, exposure, white balance, vignette, a soft shoulder, noise, compression
    gain = (255.0 * lb.exposure * np.asarray(scene.lighting)).astype(np.float32)
    light = scene.look.light(times)
    if light is not None:
        frames *= light.astype(np.float32)[:, None, None, None]
    ar = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    vig = 1.0 - np.float32(lb.vignette) * 2.0 * (ar[:, None] ** 2 + ar[None, :] ** 2)
    frames *= vig[None, :, :, None]
    knee = np.float32(0.7)  # a soft shoulder: highlights roll off instead of clipping
    over = np.maximum(frames - knee, 0.0)
    frames -= over
    frames += np.float32(0.35) * (1.0 - np.exp(-over / np.float32(0.35)))
    frames *= gain
    sigma = np.float32(255.0 * max(float(scene.sensor_noise), 0.006))  # mostly luma noise, some chroma
    frames += sigma * noise_rng.standard_normal((T, size, size, 1), dtype=np.float32)
    frames += (0.4 * sigma) * noise_rng.standard_normal((T, size, size, 3), dtype=np.float32)
    frames += np.float32(0.5)
    np.clip(frames, 0.0, 255.0, out=frames)
    if scene.look.quality is not None:
        frames = compress(frames, scene.look.quality)
    return frames.astype(np.uint8)
