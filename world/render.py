"""Rendering a scene of the synthetic Foley world to frames (numpy only).

Layers, back to front: wall and floor (flat gradients, or procedural textures seen through a shaking
camera; a floor walked on or dug looks like its surface), doors and shelves on the wall, silent
distractors, contact shadows, motors, objects (surface patterns, rolling patterns, motion blur from
sub-frame renders), the Foley actors (walkers, falling glass and its shards, shovels and dirt, clashing
blades: flat shapes, blurred over the shutter), sticks and hands, a foreground occluder; then the
light's flicker and changes, sensor noise and block-DCT compression. Everything is evaluated at the
exact frame times; shapes have analytic anti-aliased edges.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import textures
from .scene import Breakable, Clash, Door, Motor, Occluder, Scene, SceneObject, Shovel, Strike, Walker

_BLUR_SAMPLES = 3  # sub-frame renders averaged for a blurred frame


def _cov(x: np.ndarray) -> np.ndarray:
    """Analytic coverage of a pixel by an edge at signed distance x (pixels, + inside)."""
    return np.clip(x + 0.5, 0.0, 1.0)


@functools.lru_cache(maxsize=64)
def _surface(seed: int) -> np.ndarray:
    return textures.surface(seed)


def object_patch(obj: SceneObject, cx: np.ndarray, cy: np.ndarray, scale: float, size: int, light: float,
                 P: int, origin: tuple[np.ndarray, np.ndarray] | None = None, angle: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Colour [T,P,P,3] and alpha [T,P,P] of the object around pixel centres (cx, cy) [T]; origins [T].

    ``origin`` places the patches (else around the centres); ``angle`` [T] turns a rolling ball."""
    if origin is None:
        # origins clamped into the frame: the patch still holds every in-frame pixel of the object
        ox = np.clip(np.floor(cx - P / 2).astype(np.int64), 0, size - P)
        oy = np.clip(np.floor(cy - P / 2).astype(np.int64), 0, size - P)
    else:
        ox, oy = origin
    ar = np.arange(P) + 0.5
    dx = (ox[:, None] + ar - cx[:, None])[:, None, :].astype(np.float32)  # [T,1,P]
    dy = (oy[:, None] + ar - cy[:, None])[:, :, None].astype(np.float32)  # [T,P,1]
    hw, hh = obj.hw * scale, obj.hh * scale  # pixels
    u, v = dx / hw, dy / hh  # object coordinates, -1..1, v down
    if obj.disc:
        edge = hw - np.sqrt(dx * dx + dy * dy)  # [T,P,P] pixels inside the boundary
        cov = _cov(edge)
    else:
        ex, ey = hw - np.abs(dx), hh - np.abs(dy)
        cov = _cov(ex) * _cov(ey)
        edge = np.minimum(ex, ey)
    rim = np.clip(1.0 - edge / (0.025 * size), 0.0, 1.0)  # 1 at the outline, 0 inside
    shade = 1.0 - 0.18 * v - 0.08 * light * u  # lit from above and one side
    base = obj.colour.astype(np.float32)
    m = obj.material
    spot = np.exp(-((u + 0.38 * light) ** 2 + (v + 0.4) ** 2) / 0.05)
    if m == "wood":
        period, ph, wob = obj.stripe
        s = np.sin(2 * np.pi * (dx + 0.06 * size * np.sin(dy / (0.08 * size) + wob)) / (period * size) + ph)
        k = (shade * (0.8 + 0.2 * s)) * (1.0 - 0.35 * rim)
        col = base * k[..., None]
    elif m == "metal":
        k = (shade + 0.15 * (-(u * light) - v) * 0.5) * (1.0 - 0.3 * rim)
        col = base * k[..., None] + (0.9 * spot)[..., None]
    elif m == "glass":
        col = base * (0.9 + 0.1 * shade)[..., None] + (0.45 * rim + 0.7 * spot)[..., None]
        cov = cov * (obj.alpha + (0.95 - obj.alpha) * np.maximum(rim, spot))
    elif m == "rubber":
        col = base * (shade * (1.0 - 0.3 * rim))[..., None]
    else:  # ceramic: glossy cream with a coloured band
        band = _cov(0.22 * hh - np.abs(dy))[..., None]
        col = base * (1 - band) + obj.accent.astype(np.float32) * band
        spot2 = np.exp(-((u + 0.38 * light) ** 2 + (v + 0.45) ** 2) / 0.02)
        col = col * (shade * (1.0 - 0.3 * rim))[..., None] + (0.8 * spot2)[..., None]
    turn = None if angle is None else angle.astype(np.float32)[:, None, None]
    if obj.sectors > 0 and turn is not None:  # a two-tone ball with a marker: its turning shows
        r = np.sqrt(dx * dx + dy * dy)
        tone = _cov(r * np.sin(obj.sectors * (np.arctan2(dy, dx) - turn)) / obj.sectors)
        accent = obj.accent.astype(np.float32) * (shade * (1.0 - 0.3 * rim))[..., None]
        col = col + (accent - col) * tone[..., None]
        mx, my = 0.6 * hw * np.cos(obj.mark + turn), 0.6 * hw * np.sin(obj.mark + turn)
        dot = _cov(0.22 * hw - np.sqrt((dx - mx) ** 2 + (dy - my) ** 2))[..., None]
        col = col * (1.0 - 0.8 * dot)
    if obj.texture_amp > 0:
        uu, vv = u, v * (hh / hw) if not obj.disc else v
        if turn is not None and obj.roll_radius > 0:
            c, s_ = np.cos(turn), np.sin(turn)
            uu, vv = c * u + s_ * v, -s_ * u + c * v
        tex = _surface(obj.texture)
        n = tex.shape[0]
        iu = np.clip(((uu + 1.0) * (0.5 * n)).astype(np.int64), 0, n - 1)
        iv = np.clip(((vv + 1.0) * (0.5 * n)).astype(np.int64), 0, n - 1)
        col = col * (1.0 + np.float32(obj.texture_amp) * tex[iv, iu])[..., None]
    return col, cov, ox, oy


def _composite(canvas: np.ndarray, col: np.ndarray, alpha: np.ndarray, ox: np.ndarray, oy: np.ndarray,
               frames: np.ndarray | None = None) -> None:
    """Blend patches [T,Ph,Pw,3] at per-frame origins (pixels, inside the frame) into canvas, in place;
    patch t goes to frame ``frames[t]`` (default t)."""
    seen = np.nonzero(alpha.reshape(alpha.shape[0], -1).max(axis=1) > 0)[0]  # frames it shows in
    if seen.size == 0:
        return
    if seen.size < alpha.shape[0]:
        alpha, ox, oy = alpha[seen], ox[seen], oy[seen]
        col = col[seen] if col.shape[0] > 1 else col
    else:
        seen = np.arange(alpha.shape[0])
    if frames is not None:
        seen = frames[seen]
    T, ph, pw = alpha.shape
    _, H, W, _ = canvas.shape
    flat = canvas.reshape(-1, 3)  # a view: canvas is contiguous
    idx = ((seen[:, None, None] * H + oy[:, None, None] + np.arange(ph)[None, :, None]) * W
           + ox[:, None, None] + np.arange(pw)[None, None, :]).ravel()  # [T*Ph*Pw] pixel numbers
    region = flat[idx]  # [T*Ph*Pw,3]
    a = alpha.reshape(-1, 1)
    flat[idx] = region + (col.reshape(-1, 3) - region) * a  # col may be one colour [1,1,1,3]


@functools.cache
def _noise_pool() -> np.ndarray:
    """A fixed pool of standard normal noise, float32 [2**20] (same in every process)."""
    return np.random.default_rng(0x5EED).standard_normal(1 << 20, dtype=np.float32)


class _View:
    """Where the world lands in the frames: scale, floor row, per-frame shake, sub-frame times."""

    def __init__(self, scene: Scene, times: np.ndarray, size: int, frame_dt: float):
        self.size, self.times = size, times
        self.scale = scene.zoom * size  # pixels per world unit
        self.floor_row = scene.floor_level * size  # frame pixel y of the floor line
        amp, f1, p1, f2, p2, py = scene.shake
        amp *= size / 64.0
        self.shake = (amp, f1, p1, f2, p2, py)
        self.shake_x, self.shake_y = self.shake_at(times)
        shutter = scene.look.shutter * frame_dt
        self.offsets = ((np.arange(_BLUR_SAMPLES) + 0.5) / _BLUR_SAMPLES - 0.5) * shutter if shutter > 0 else None

    def shake_at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        amp, f1, p1, f2, p2, py = self.shake
        sx = amp * (0.6 * np.sin(2 * np.pi * f1 * t + p1) + 0.4 * np.sin(2 * np.pi * f2 * t + p2))
        sy = amp * (0.6 * np.sin(2 * np.pi * f2 * t + p1 + py) + 0.4 * np.sin(2 * np.pi * f1 * t + py))
        return sx, sy

    def px(self, x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x * self.scale + sx, self.floor_row - y * self.scale + sy


def render(scene: Scene, times: np.ndarray, size: int, rng: np.random.Generator, frame_dt: float = 0.04,
           ) -> np.ndarray:
    T = times.shape[0]
    view = _View(scene, times, size, frame_dt)
    scale, floor_row, shake_x, shake_y = view.scale, view.floor_row, view.shake_x, view.shake_y
    look = scene.look

    # object patch side, pixels
    patch = [min(size, int(math.ceil(2 * max(o.hw, o.hh) * scale)) + 3) for o in scene.objects]

    # everything is drawn in 0..255 and already lit: one gain per channel
    gain = (255.0 * scene.lighting).astype(np.float32)  # [3]

    if look.wall_kind is None and look.floor_kind is None and look.surface is None and not scene.motors:
        # wall gradient + floor below the (shaking) floor line
        rows = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
        frac = np.clip(rows / max(floor_row, 1.0), 0.0, 1.0)[:, None]
        wall = scene.wall_top * (1 - frac) + scene.wall_bottom * frac  # [H,3]
        below = np.clip((rows - floor_row) / (size - floor_row + 1e-6), 0.0, 1.0)[:, None]
        floor = scene.floor_colour * (1.0 - 0.25 * below)  # [H,3] darker towards the camera
        cols = np.linspace(scene.column_gain[0], scene.column_gain[1], size)[None, :, None]  # [1,W,1]
        wall_img = (wall[:, None, :] * cols * gain).astype(np.float32)  # [H,W,3]
        floor_img = (floor[:, None, :] * cols * gain).astype(np.float32)
        frames = np.empty((T, size, size, 3), dtype=np.float32)
        frames[:] = wall_img
        r0 = min(size, max(0, int(math.floor(floor_row + shake_y.min())) - 1))  # rows that can show floor
        fcov = _cov(rows[None, r0:] - (floor_row + shake_y[:, None]))[:, :, None, None]  # [T,H-r0,1,1]
        frames[:, r0:] += (floor_img[r0:] - wall_img[r0:]) * fcov
    else:
        frames = _textured_background(scene, view, gain)
    back, front = _foley_shapes(scene, view) if scene.foley else ([], [])
    for shape in back:  # doors and shelves, on the wall
        _paint(frames, shape, view, gain)

    for p in scene.pendulums:
        _draw_string(frames, p.pivot, p.bob, view, p.string * gain)
    for o in scene.distractors + [p.bob for p in scene.pendulums]:
        P = min(size, int(math.ceil(2 * max(o.hw, o.hh) * scale)) + 3)
        _draw_object(frames, o, P, view, gain, scene.light)

    # soft contact shadows on the floor, darker as the object comes down
    xs = [o.x(times) * scale + shake_x for o in scene.objects]
    ys = [o.y(times) for o in scene.objects]
    for obj, cx, y, P in zip(scene.objects, xs, ys, patch, strict=True):
        if not obj.shadow:
            continue
        height = np.maximum(y - obj.hh, 0.0)  # [T] world units of air below the object
        sw = min(size, 2 * P)
        ox = np.clip(np.floor(cx - sw / 2).astype(np.int64), 0, size - sw)
        oy = np.full(T, min(int(math.floor(floor_row)) - 1, size - 6), dtype=np.int64)
        dx = (ox[:, None] + np.arange(sw) + 0.5 - cx[:, None])[:, None, :]  # [T,1,sw]
        fy = (oy[:, None] + np.arange(6) + 0.5 - floor_row - shake_y[:, None])[:, :, None]  # [T,6,1]
        width = obj.hw * scale * (1.0 + 1.5 * height)[:, None, None]
        dark = (0.5 / (1.0 + 6.0 * height))[:, None, None]
        shadow = dark * np.exp(-2.0 * (dx / width) ** 2 - 2.0 * ((fy - 1.0) / 1.5) ** 2) * _cov(fy)
        _composite(frames, np.zeros((1, 1, 1, 3), np.float32), shadow.astype(np.float32), ox, oy)

    for m in scene.motors:
        _draw_motor(frames, m, view, gain, scene.light)

    for obj, cx, y, P in zip(scene.objects, xs, ys, patch, strict=True):
        if view.offsets is None and obj.sectors == 0:
            cy = floor_row - y * scale + shake_y
            vis = _in_view(cx, cy, P / 2 + 1, size)  # the frames it may show in
            if vis.size == 0:
                continue
            col, alpha, ox, oy = object_patch(obj, cx[vis], cy[vis], scale, size, scene.light, P)
            _composite(frames, col * gain, alpha, ox, oy, vis)
        else:
            _draw_object(frames, obj, P, view, gain, scene.light)

    for shape in front:  # walkers, glass and its shards, shovels and dirt, blades
        _paint(frames, shape, view, gain)

    # sticks and hands, drawn over everything on the frames where they are in view
    for st in scene.strikes:
        _draw_strike(frames, st, scene, view, gain)

    if look.occluder is not None:
        _draw_occluder(frames, look.occluder, view, gain)
    light = look.light(times)
    if light is not None:
        frames *= light.astype(np.float32)[:, None, None, None]

    frames += np.float32(0.5)  # rounding, for the cast below
    if scene.sensor_noise > 0:  # gaussian noise: each frame reads a random window of a fixed noise pool
        pool, sigma, m = _noise_pool(), np.float32(255.0 * scene.sensor_noise), frames[0].size
        if m <= pool.size // 2:
            for t, o in enumerate(rng.integers(0, pool.size - m, T)):
                frames[t] += sigma * pool[o:o + m].reshape(frames.shape[1:])
        else:  # frames too large for the pool
            frames += sigma * rng.standard_normal(frames.shape, dtype=np.float32)
    np.clip(frames, 0.0, 255.0, out=frames)
    if look.quality is not None:
        frames = compress(frames, look.quality)
    return frames.astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Background: textures through a shaking camera
# ----------------------------------------------------------------------------------------------


def _shifted(img: np.ndarray, m: int, sx: np.ndarray, sy: np.ndarray, r0: int, r1: int, c0: int, c1: int,
             ) -> np.ndarray:
    """Frames [T, r1-r0, c1-c0, C] of a static image padded by m pixels on every side, moved by (sx, sy)
    pixels per frame (bilinear, shifts rounded to 1/8 pixel: each distinct shift is computed once), for
    frame rows r0..r1 and columns c0..c1."""
    T = sx.shape[0]
    qx, qy = np.round((m - sx) * 8) / 8, np.round((m - sy) * 8) / 8
    out = np.empty((T, r1 - r0, c1 - c0, img.shape[-1]), np.float32)
    keys = np.round(qy * 8).astype(np.int64) * 65536 + np.round(qx * 8).astype(np.int64)
    uniq, inverse = np.unique(keys, return_inverse=True)
    for k in range(uniq.size):
        sel = np.nonzero(inverse == k)[0]
        y, x = float(qy[sel[0]]), float(qx[sel[0]])
        iy, ix = int(math.floor(y)), int(math.floor(x))
        fy, fx = np.float32(y - iy), np.float32(x - ix)
        a, b = iy + r0, ix + c0
        block = img[a:a + (r1 - r0) + 1, b:b + (c1 - c0) + 1]
        xl = block[:, :-1] + (block[:, 1:] - block[:, :-1]) * fx if fx else block[:, :-1]
        out[sel] = xl[:-1] + (xl[1:] - xl[:-1]) * fy if fy else xl[:-1]
    return out


def _textured_background(scene: Scene, view: _View, gain: np.ndarray) -> np.ndarray:
    look, size = scene.look, view.size
    m = int(math.ceil(view.shake[0])) + 2
    n = size + 2 * m
    rows = np.arange(n, dtype=np.float32) + 0.5 - m  # frame rows of the padded image
    floor_row = view.floor_row
    frac = np.clip(rows / max(floor_row, 1.0), 0.0, 1.0)[:, None, None]
    if look.wall_kind is not None:
        assert look.wall_colour is not None  # scene._look draws a wall's colour with its kind
        wall = textures.wall(look.wall_kind, look.texture_seed, n, n, size, look.wall_colour, look.contrast,
                             look.scale)
        wall = wall * ((1 + look.grad) * (1 - frac) + (1 - look.grad) * frac)
    else:
        wall = np.broadcast_to(scene.wall_top * (1 - frac) + scene.wall_bottom * frac, (n, n, 3))
    f0 = max(0, int(math.floor(floor_row)) + m - 1)  # first padded row that shows floor
    frows = rows[f0:]
    below = np.clip((frows - floor_row) / (size - floor_row + 1e-6), 0.0, 1.0)[:, None, None]
    if look.surface is not None:
        assert look.surface_colour is not None  # sample_scene sets both
        floor = surface_floor(look.surface, look.texture_seed + 1, frows, n, size, look.horizon * size,
                              look.surface_colour, look.contrast, look.scale)
    elif look.floor_kind is not None:
        assert look.floor_colour is not None  # scene._look draws a floor's colour with its kind
        floor = textures.floor(look.floor_kind, look.texture_seed + 1, frows, n, size, look.horizon * size,
                               look.floor_colour, look.contrast, look.scale)
    else:
        floor = np.broadcast_to(scene.floor_colour, (frows.shape[0], n, 3))
    floor = floor * (1.0 - 0.25 * below)
    step = (scene.column_gain[1] - scene.column_gain[0]) / max(size - 1, 1)
    cols = (scene.column_gain[0] + step * (np.arange(n) - m))[None, :, None].astype(np.float32)
    img = np.array(wall, dtype=np.float32)
    fcov = _cov(frows - floor_row)[:, None, None]
    img[f0:] += (floor - img[f0:]) * fcov
    for mo in scene.motors:  # their stands and mounts stand still in the world
        _bake_motor(img, m, mo, view, scene.light)
    img *= cols * gain
    return _shifted(img, m, view.shake_x, view.shake_y, 0, size, 0, size)


# ----------------------------------------------------------------------------------------------
# Shapes: objects with blur, strings, motors, strikers, occluders
# ----------------------------------------------------------------------------------------------


def _in_view(cx: np.ndarray, cy: np.ndarray, half: float, size: int) -> np.ndarray:
    """Frames where a shape centred at (cx, cy) [T] reaching ``half`` pixels out may show."""
    return np.nonzero((cx + half > 0) & (cx - half < size) & (cy + half > 0) & (cy - half < size))[0]


def _draw_object(frames: np.ndarray, obj: SceneObject, P: int, view: _View, gain: np.ndarray, light: float,
                 ) -> None:
    """An object with sub-frame motion blur where it moves fast (or turns), onto the frames it shows in."""
    size, times = view.size, view.times
    roll = obj.roll_radius > 0
    cx, cy = view.px(obj.x(times), obj.y(times), view.shake_x, view.shake_y)
    margin = 0.0 if view.offsets is None else 0.35 * size
    vis = _in_view(cx, cy, P / 2 + margin + 1, size)
    if vis.size == 0:
        return
    if view.offsets is None:
        col, alpha, ox, oy = object_patch(obj, cx[vis], cy[vis], view.scale, size, light, P,
                                          angle=obj.angle(times[vis]) if roll else None)
        _composite(frames, col * gain, alpha, ox, oy, vis)
        return
    S = view.offsets.shape[0]
    ts = times[vis, None] + view.offsets[None, :]  # [n,S]
    sx, sy = np.repeat(view.shake_x[vis, None], S, 1), np.repeat(view.shake_y[vis, None], S, 1)
    bx, by = view.px(obj.x(ts), obj.y(ts), sx, sy)  # [n,S]
    ang = obj.angle(ts) if roll else None
    extent = np.maximum(np.ptp(bx, axis=1), np.ptp(by, axis=1))
    if ang is not None:
        extent = np.maximum(extent, np.ptp(ang, axis=1) * obj.hw * view.scale)
    blur = extent > 0.5
    sharp = np.nonzero(~blur)[0]
    if sharp.size:
        f = vis[sharp]
        # still frames repeat: one patch per distinct position (to 1/8 pixel) and turn
        qx, qy = np.round(cx[f] * 8) / 8, np.round(cy[f] * 8) / 8
        turn = None if ang is None else np.round(obj.angle(times[f]), 3)
        keys = np.stack([qx, qy] + ([] if turn is None else [turn]), axis=1)
        uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        col, alpha, ox, oy = object_patch(obj, qx[first], qy[first], view.scale, size, light, P,
                                          angle=None if turn is None else turn[first])
        _composite(frames, (col * gain)[inverse], alpha[inverse], ox[inverse], oy[inverse], f)
    fb = np.nonzero(blur)[0]
    if fb.size:
        Pb = min(size, P + int(math.ceil(float(np.max(np.minimum(extent[fb], 0.35 * size))))) + 1)
        mx, my = bx[fb].mean(1), by[fb].mean(1)
        ox = np.clip(np.floor(mx - Pb / 2).astype(np.int64), 0, size - Pb)
        oy = np.clip(np.floor(my - Pb / 2).astype(np.int64), 0, size - Pb)
        col, alpha, _, _ = object_patch(obj, bx[fb].ravel(), by[fb].ravel(), view.scale, size, light, Pb,
                                        origin=(np.repeat(ox, S), np.repeat(oy, S)),
                                        angle=None if ang is None else ang[fb].ravel())
        alpha = alpha.reshape(fb.size, S, Pb, Pb)
        col = col.reshape(fb.size, S, Pb, Pb, 3)
        a = alpha.sum(1)
        c = (col * alpha[..., None]).sum(1) / np.maximum(a, 1e-6)[..., None]
        _composite(frames, c * gain, a * (1.0 / S), ox, oy, vis[fb])


def _seg_dist(px: np.ndarray, py: np.ndarray, ax: np.ndarray | np.floating, ay: np.ndarray | np.floating,
              bx: np.ndarray | np.floating, by: np.ndarray | np.floating) -> np.ndarray:
    abx, aby = bx - ax, by - ay
    t = np.clip(((px - ax) * abx + (py - ay) * aby) / (abx * abx + aby * aby + 1e-9), 0.0, 1.0)
    return np.sqrt((px - ax - t * abx) ** 2 + (py - ay - t * aby) ** 2)


def _draw_string(frames: np.ndarray, pivot: tuple[float, float], bob: SceneObject, view: _View,
                 colour: np.ndarray) -> None:
    size, times = view.size, view.times
    ax, ay = view.px(np.full_like(times, pivot[0]), np.full_like(times, pivot[1]), view.shake_x, view.shake_y)
    bx, by = view.px(bob.x(times), bob.y(times), view.shake_x, view.shake_y)
    w = max(0.6, 0.008 * size)
    c0 = int(np.clip(np.floor(min(ax.min(), bx.min()) - w - 1), 0, size))
    c1 = int(np.clip(np.ceil(max(ax.max(), bx.max()) + w + 1), 0, size))
    r0 = int(np.clip(np.floor(min(ay.min(), by.min()) - w - 1), 0, size))
    r1 = int(np.clip(np.ceil(max(ay.max(), by.max()) + w + 1), 0, size))
    if c0 >= c1 or r0 >= r1:
        return
    px = (np.arange(c0, c1, dtype=np.float32) + 0.5)[None, None, :]
    py = (np.arange(r0, r1, dtype=np.float32) + 0.5)[None, :, None]
    e = lambda a: a.astype(np.float32)[:, None, None]  # noqa: E731
    cov = _cov(w / 2 - _seg_dist(px, py, e(ax), e(ay), e(bx), e(by)))[..., None]
    region = frames[:, r0:r1, c0:c1]
    region += (colour.astype(np.float32) - region) * cov


def _bake_motor(img: np.ndarray, m: int, mo: Motor, view: _View, light: float) -> None:
    """Draw a motor's static parts (stand or wall mount, guard ring, lamp housing) into the padded
    background image (colours 0..1, before the light), in place."""
    scale = view.scale
    R = mo.radius * scale
    hx, hy = mo.x * scale + m, view.floor_row - mo.y * scale + m
    n = img.shape[0]
    leg = mo.y * scale
    c0, c1 = max(0, int(hx - 1.3 * R - 2)), min(n, int(hx + 1.3 * R + 3))
    r0, r1 = max(0, int(hy - 1.3 * R - 2)), min(n, int(hy + (1.3 * R if mo.wall else leg + 1.0) + 3))
    if c0 >= c1 or r0 >= r1:
        return
    dx = (np.arange(c0, c1, dtype=np.float32) + 0.5 - hx)[None, :]
    dy = (np.arange(r0, r1, dtype=np.float32) + 0.5 - hy)[:, None]
    body = mo.body_colour.astype(np.float32)
    if mo.wall:
        alpha = _cov(0.55 * R - np.sqrt(dx * dx + dy * dy))
    else:
        stand = _cov(0.12 * R - np.abs(dx)) * _cov(np.minimum(dy, leg - dy))
        base = _cov(0.6 * R - np.abs(dx)) * _cov(0.07 * R + 0.5 - np.abs(dy - leg + 0.07 * R + 0.5))
        alpha = np.maximum(stand, base)
    shade = 0.8 * (1.0 - 0.1 * light * dx / max(R, 1.0))
    col = body * np.broadcast_to(shade, alpha.shape)[..., None]
    ring = _cov(0.05 * R + 0.4 - np.abs(np.sqrt(dx * dx + dy * dy) - 1.08 * R))
    col = col + (body * 0.6 - col) * ring[..., None]
    alpha = np.maximum(alpha, ring)
    region = img[r0:r1, c0:c1]
    region += (col - region) * alpha[..., None]


def _motor_lamp(mo: Motor, view: _View) -> tuple[float, float]:
    """Lamp centre relative to the hub, pixels (x right, y down)."""
    R = mo.radius * view.scale
    return (0.0, 0.75 * R) if mo.wall else (0.38 * R, mo.y * view.scale - 0.2 * R)


def _draw_motor(frames: np.ndarray, mo: Motor, view: _View, gain: np.ndarray, light: float) -> None:
    """The motor's lamp (lit while switched on) and its rotor, blurred over the exposure while it turns."""
    size, times, scale = view.size, view.times, view.scale
    T = times.shape[0]
    R = mo.radius * scale
    body = mo.body_colour.astype(np.float32)
    hx, hy = view.px(np.full(T, mo.x), np.full(T, mo.y), view.shake_x, view.shake_y)  # hub, pixels [T]
    # lamp
    lx, ly = _motor_lamp(mo, view)
    lr = max(0.12 * R, 0.7)
    P = min(size, int(math.ceil(2 * lr)) + 3)
    on = (times >= mo.t_on) & (times < mo.t_off)
    cx, cy = hx + lx, hy + ly
    ox = np.clip(np.floor(cx - P / 2).astype(np.int64), 0, size - P)
    oy = np.clip(np.floor(cy - P / 2).astype(np.int64), 0, size - P)
    ar = np.arange(P, dtype=np.float32) + 0.5
    d2 = (ox[:, None] + ar - cx[:, None])[:, None, :] ** 2 + (oy[:, None] + ar - cy[:, None])[:, :, None] ** 2
    lamp = _cov(lr - np.sqrt(d2)).astype(np.float32)
    lit = np.where(on[:, None, None, None], np.array([0.25, 1.0, 0.35], np.float32), np.float32(0.12)) * gain
    _composite(frames, np.broadcast_to(lit, lamp.shape + (3,)), lamp, ox, oy)
    # rotor
    P = min(size, int(math.ceil(2.3 * R)) + 3)
    ox = np.clip(np.floor(hx - P / 2).astype(np.int64), 0, size - P)
    oy = np.clip(np.floor(hy - P / 2).astype(np.int64), 0, size - P)
    if view.offsets is None:
        groups = [(np.arange(T), mo.angle(times)[:, None])]
    else:
        ang = mo.angle(times[:, None] + view.offsets[None, :])  # [T,S]
        moving = np.ptp(ang, axis=1) * R > 0.5
        parts = [np.nonzero(~moving)[0], np.nonzero(moving)[0]]  # still: one angle; moving: all S
        groups = [(g, ang[g] if k else ang[g][:, ang.shape[1] // 2:ang.shape[1] // 2 + 1])
                  for k, g in enumerate(parts) if g.size]
    sector = 2 * np.pi / mo.blades
    ar = np.arange(P, dtype=np.float32) + 0.5
    for g, a_g in groups:
        dx = (ox[g, None] + ar - hx[g, None]).astype(np.float32)[:, None, None, :]  # [n,1,1,P]
        dy = (oy[g, None] + ar - hy[g, None]).astype(np.float32)[:, None, :, None]
        r = np.sqrt(dx * dx + dy * dy)  # [n,1,P,P]
        rel = (np.arctan2(dy, dx) - a_g.astype(np.float32)[:, :, None, None]) % np.float32(2 * np.pi)
        k = np.floor(rel * np.float32(1 / sector) + np.float32(0.5))
        off = np.abs(rel - k * np.float32(sector))  # angle to the nearest blade
        half = (0.2 + 0.25 * r / max(R, 1e-3)) * np.float32(sector / 2)
        blade = _cov(r * (half - off)) * _cov(R - r)  # [n,S,P,P]
        a = blade.mean(1)
        am = (blade * (k % mo.blades == 0)).mean(1)  # the marked blade's share
        shade = (1.0 - 0.12 * light * dx[:, 0] / max(R, 1.0))[..., None]
        c = (mo.blade_colour.astype(np.float32) * (a - am)[..., None]
             + mo.mark_colour.astype(np.float32) * am[..., None]) / np.maximum(a, 1e-6)[..., None] * shade
        hub = _cov(0.2 * R - r[:, 0])
        c = c + (body * 0.55 - c) * hub[..., None]
        _composite(frames, c * gain, np.maximum(a, hub), ox[g], oy[g], g)


def _hand_sdf(al: np.ndarray, ac: np.ndarray, W: float, thumb: float) -> np.ndarray:
    """Signed distance (pixels, < 0 inside) to a hand (fingers, palm, thumb) in hand coordinates: ``al``
    along the arm from the fingertips, ``ac`` across it; W is the palm width in pixels."""
    rf = 0.12 * W
    d: np.ndarray | None = None
    for off, start in ((-0.34, 0.14), (-0.11, 0.0), (0.12, 0.04), (0.35, 0.18)):
        a0 = rf + start * W
        seg = np.sqrt((al - np.clip(al, a0, 0.85 * W)) ** 2 + (ac - off * W) ** 2) - rf
        d = seg if d is None else np.minimum(d, seg)
    assert d is not None  # four fingers
    qa, qc = np.abs(al - 1.15 * W) - 0.32 * W, np.abs(ac) - 0.3 * W
    palm = np.sqrt(np.maximum(qa, 0) ** 2 + np.maximum(qc, 0) ** 2) + np.minimum(np.maximum(qa, qc), 0) - 0.16 * W
    d = np.minimum(d, palm)
    thumb_d = _seg_dist(al, ac, np.float32(1.25 * W), np.float32(thumb * 0.35 * W), np.float32(0.62 * W),
                        np.float32(thumb * 0.62 * W)) - 0.13 * W
    return np.minimum(d, thumb_d)


def _limb(frames: np.ndarray, idx: np.ndarray, S: int, st: Strike, tip_x: np.ndarray, tip_y: np.ndarray,
          d: np.ndarray, scene: Scene, view: _View, gain: np.ndarray) -> None:
    """The stick (or the forearm of a hand) on frames ``idx``, its tip at (tip_x, tip_y) [len(idx) * S]
    (S sub-frame positions per frame, averaged), running from the tip along d (upwards) out of the frame.
    Only a band of pixels around its axis is visited in each row."""
    size = view.size
    width = st.width * size
    W = st.hand_size * view.scale if st.hand else 0.0
    radius, a_min = (width / 2, 0.0) if not st.hand else (0.34 * W, 1.5 * W)
    n = idx.size
    r1 = int(np.clip(np.ceil(tip_y.max() + 2 * radius + 2), 0, size))
    if r1 == 0:
        return
    slope = d[0] / min(float(d[1]), -0.2)  # columns per row going up along the axis
    rows = np.arange(r1, dtype=np.float32) + 0.5
    along = np.maximum((rows[None, :] - tip_y[:, None]) / min(float(d[1]), -0.2), a_min)  # [n*S, h]
    centre = tip_x[:, None] + along * d[0]  # axis column in each row
    centre = centre.reshape(n, S, r1)
    spread = np.ptp(centre, axis=1) if S > 1 else 0.0
    half = (radius + 1.0) * math.hypot(1.0, float(slope)) + 1.5 + spread / 2
    B = int(min(size, math.ceil(2 * float(np.max(half))) + 3))
    bo = np.clip(np.floor(centre.mean(1) - B / 2).astype(np.int64), 0, size - B)  # [n, h] band origins
    cols = bo[:, :, None] + np.arange(B)  # [n,h,B]
    flat = frames.reshape(-1, 3)
    pix = ((idx[:, None, None] * size + np.arange(r1)[None, :, None]) * size + cols).ravel()
    region = flat[pix].reshape(n, r1, B, 3)
    if S > 1:
        cols = np.repeat(cols, S, axis=0)
    px = (cols.astype(np.float32) + 0.5) - tip_x[:, None, None]  # [n*S,h,B]
    py_ = (np.arange(r1, dtype=np.float32) + 0.5)[None, :, None] - tip_y[:, None, None]  # [n*S,h,1]
    if not st.hand:
        stick_colour = scene.stick_colour if st.colour is None else st.colour
        al = np.maximum(px * d[0] + py_ * d[1], 0.0)  # pixels from the tip along the stick
        dist = np.sqrt((px - al * d[0]) ** 2 + (py_ - al * d[1]) ** 2)
        cov = _cov(width / 2 - dist).astype(np.float32)[..., None]
        colour = np.where((al < 0.05 * size)[..., None], stick_colour * 0.35, stick_colour) * gain
    else:  # forearm: skin at the wrist, then a sleeve
        assert st.skin is not None and st.sleeve is not None  # striker_look draws both with hand = True
        px, py_ = px.astype(np.float32), py_.astype(np.float32)
        al = np.maximum(px * d[0] + py_ * d[1], 1.5 * W)
        dist = np.sqrt((px - al * d[0]) ** 2 + (py_ - al * d[1]) ** 2)
        cov = _cov(0.34 * W - dist)[..., None]
        colour = np.where((al > 2.0 * W)[..., None], st.sleeve.astype(np.float32), st.skin.astype(np.float32) * 0.92)
        colour = colour * gain
    if S == 1:
        region += (colour.astype(np.float32) - region) * cov
    else:
        colour = np.broadcast_to(colour, cov.shape[:-1] + (3,)).reshape(n, S, r1, B, 3)
        cov = cov.reshape(n, S, r1, B, 1)
        a = cov.sum(1)
        c = (colour * cov).sum(1) / np.maximum(a, 1e-6)
        region += (c.astype(np.float32) - region) * (a * (1.0 / S)).astype(np.float32)
    flat[pix] = region.reshape(-1, 3)


def _hand(frames: np.ndarray, idx: np.ndarray, S: int, st: Strike, tip_x: np.ndarray, tip_y: np.ndarray,
          d: np.ndarray, view: _View, gain: np.ndarray) -> None:
    """The hand itself (fingers, palm, thumb) in a small window around it on frames ``idx``."""
    size = view.size
    W = st.hand_size * view.scale
    P = min(size, int(math.ceil(2.6 * W)) + 4)
    cx, cy = tip_x + d[0] * 0.8 * W, tip_y + d[1] * 0.8 * W  # window centres [n*S]
    mx, my = cx.reshape(-1, S).mean(1), cy.reshape(-1, S).mean(1)
    ox = np.clip(np.floor(mx - P / 2).astype(np.int64), 0, size - P)
    oy = np.clip(np.floor(my - P / 2).astype(np.int64), 0, size - P)
    ar = np.arange(P, dtype=np.float32) + 0.5
    px = (np.repeat(ox, S)[:, None] + ar - tip_x[:, None]).astype(np.float32)[:, None, :]  # [n*S,1,P]
    py_ = (np.repeat(oy, S)[:, None] + ar - tip_y[:, None]).astype(np.float32)[:, :, None]
    al = px * d[0] + py_ * d[1]
    ac = -px * d[1] + py_ * d[0]
    sd = _hand_sdf(al, ac, W, st.thumb)
    cov = _cov(-sd)
    k = 0.72 + 0.28 * np.clip(-sd / (0.2 * W), 0.0, 1.0)
    if S > 1:
        cov = cov.reshape(-1, S, P, P)
        a = cov.sum(1)
        k = (k.reshape(-1, S, P, P) * cov).sum(1) / np.maximum(a, 1e-6)
        cov = a * (1.0 / S)
    assert st.skin is not None  # striker_look draws it with hand = True
    col = (st.skin.astype(np.float32) * gain) * k[..., None]
    _composite(frames, col, cov.astype(np.float32), ox, oy, idx)


def _draw_strike(frames: np.ndarray, st: Strike, scene: Scene, view: _View, gain: np.ndarray) -> None:
    size, times, scale, floor_row = view.size, view.times, view.scale, view.floor_row
    s_all = st.distance(times)  # tip distance from its anchor, world
    show = np.nonzero(s_all < 2.6)[0]  # one run of frames: s is convex in time
    if show.size == 0:
        return
    f0, f1 = int(show[0]), int(show[-1]) + 1
    dxw, dyw = st.direction
    d = np.array([dxw, -dyw], dtype=np.float32)  # image direction, tip -> handle (up and sideways)
    width = st.width * size
    reach = width if not st.hand else 1.5 * st.hand_size * scale + 1

    def tips(t: np.ndarray, s: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wx, wy = st.tip_world(t, s, scene.objects)
        return wx * scale + sx + d[0] * width / 2, floor_row - wy * scale + sy + d[1] * width / 2

    tip_x, tip_y = tips(times[f0:f1], s_all[f0:f1], view.shake_x[f0:f1], view.shake_y[f0:f1])
    # frames where any of it is in view: it runs from the tip up and sideways out of the frame
    top_x = tip_x + d[0] * np.maximum(tip_y, 0.0) / max(-d[1], 1e-3)
    seen = ((np.maximum(tip_x, top_x) + reach + 1 > 0) & (np.minimum(tip_x, top_x) - reach - 1 < size)
            & (tip_y + reach + 1 > 0))
    vis = np.nonzero(seen)[0]
    if vis.size == 0:
        return
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    if view.offsets is None:
        parts.append((vis, 1, tip_x[vis], tip_y[vis]))
    else:
        S = view.offsets.shape[0]
        t = times[f0 + vis, None] + view.offsets[None, :]
        sx, sy = np.repeat(view.shake_x[f0 + vis, None], S, 1), np.repeat(view.shake_y[f0 + vis, None], S, 1)
        bx, by = tips(t, st.distance(t), sx, sy)  # [n,S]
        blur = np.maximum(np.ptp(bx, axis=1), np.ptp(by, axis=1)) > 0.5
        if np.any(~blur):
            parts.append((vis[~blur], 1, tip_x[vis[~blur]], tip_y[vis[~blur]]))
        if np.any(blur):
            parts.append((vis[blur], S, bx[blur].ravel(), by[blur].ravel()))
    for sel, S, tx, ty in parts:
        _limb(frames, f0 + sel, S, st, tx, ty, d, scene, view, gain)
        if st.hand:
            _hand(frames, f0 + sel, S, st, tx, ty, d, view, gain)


def _draw_occluder(frames: np.ndarray, occ: Occluder, view: _View, gain: np.ndarray) -> None:
    size = view.size
    m = int(math.ceil(view.shake[0])) + 2
    n = size + 2 * m
    rng = np.random.default_rng(occ.seed)
    xs = np.arange(n, dtype=np.float32) + 0.5 - m  # frame pixel centres of the padded grid
    col = np.zeros((n, n, 3), np.float32)
    alpha = np.zeros((n, n), np.float32)
    if occ.kind == "post":
        hw = 0.5 * occ.width * size
        dx = xs[None, :] - occ.x * size
        a = _cov(hw - np.abs(dx)) * _cov(xs[:, None] - occ.top * size)
        round_ = np.sqrt(np.clip(1.0 - (dx / max(hw, 1e-3)) ** 2, 0.0, 1.0))
        grain = textures.fbm(rng, n, n, 3.0, 3, aspect=0.15)
        k = (0.55 + 0.5 * round_) * (1.0 + 0.08 * grain)
        col = occ.colour.astype(np.float32) * k[..., None]
        alpha = np.broadcast_to(a, (n, n)).astype(np.float32)
    else:  # foliage: a cluster of leaves in the foreground
        cx, cy, rad = occ.x * size, occ.top * size, occ.width * size
        for _ in range(28):
            r_, th = rad * math.sqrt(rng.uniform(0, 1)), rng.uniform(0, 2 * np.pi)
            lx, ly = cx + r_ * math.cos(th), cy + r_ * math.sin(th)
            length, ang = rng.uniform(0.05, 0.1) * size, rng.uniform(0, np.pi)
            leaf = textures.hsv(rng.uniform(0.2, 0.4), rng.uniform(0.4, 0.9),
                                float(np.max(occ.colour)) * rng.uniform(0.6, 1.4)).astype(np.float32)
            c0, c1 = max(0, int(lx + m - length - 1)), min(n, int(lx + m + length + 2))
            r0, r1 = max(0, int(ly + m - length - 1)), min(n, int(ly + m + length + 2))
            if c0 >= c1 or r0 >= r1:
                continue
            ca, sa = math.cos(ang), math.sin(ang)
            gx, gy = xs[None, c0:c1] - lx, xs[r0:r1, None] - ly
            u = gx * ca + gy * sa
            v = -gx * sa + gy * ca
            e = 1.0 - np.sqrt((u / length) ** 2 + (v / (0.38 * length)) ** 2)
            a = _cov(e * 0.38 * length)
            shade = (0.8 + 0.2 * np.clip(u / length, -1, 1))[..., None]
            col[r0:r1, c0:c1] += (leaf * shade - col[r0:r1, c0:c1]) * a[..., None]
            alpha[r0:r1, c0:c1] = np.maximum(alpha[r0:r1, c0:c1], a)
    cols = np.nonzero(alpha.max(axis=0) > 0)[0]
    rows = np.nonzero(alpha.max(axis=1) > 0)[0]
    if cols.size == 0:
        return
    c0, c1 = max(0, int(cols[0]) - m - 1), min(size, int(cols[-1]) - m + 2)
    r0, r1 = max(0, int(rows[0]) - m - 1), min(size, int(rows[-1]) - m + 2)
    if c0 >= c1 or r0 >= r1:
        return
    layer = np.concatenate([col * alpha[..., None] * gain, alpha[..., None]], axis=-1)  # premultiplied
    moved = _shifted(layer, m, view.shake_x, view.shake_y, r0, r1, c0, c1)
    region = frames[:, r0:r1, c0:c1]
    region *= 1.0 - moved[..., 3:]
    region += moved[..., :3]


# ----------------------------------------------------------------------------------------------
# Foley actors: a walker, a door, breaking glass, a shovel, clashing blades (recorded_config)
# ----------------------------------------------------------------------------------------------


@dataclass
class _Shape:
    """One flat shape of a Foley actor at times [T, S] (S sub-frame samples, averaged: motion blur):
    a capsule (segment a-b, radius), a disc (centre, radius) or a convex polygon (its vertices), in
    world coordinates. ``present`` [T, S] says when it exists; ``ground`` hides what is under the floor
    line; ``colour`` is [3] or per frame [T, 3] (0..1, before the light)."""

    kind: str
    xs: list[np.ndarray]
    ys: list[np.ndarray]
    colour: np.ndarray
    radius: float = 0.0
    alpha: float = 1.0
    present: np.ndarray | None = None
    ground: bool = False


def _poly_sdf(px: np.ndarray, py: np.ndarray, vx: list[np.ndarray], vy: list[np.ndarray]) -> np.ndarray:
    """Signed distance (pixels, + inside) to a convex polygon of either winding, roughly (exact on edges)."""
    area = sum(vx[i] * vy[(i + 1) % len(vx)] - vx[(i + 1) % len(vx)] * vy[i] for i in range(len(vx)))
    sign = np.where(area >= 0, 1.0, -1.0).astype(np.float32)
    d: np.ndarray | None = None
    for i in range(len(vx)):
        ex, ey = vx[(i + 1) % len(vx)] - vx[i], vy[(i + 1) % len(vx)] - vy[i]
        norm = np.maximum(np.sqrt(ex * ex + ey * ey), 1e-6)
        e = ((px - vx[i]) * ey - (py - vy[i]) * ex) / norm * -sign  # + on the inner side
        d = e if d is None else np.minimum(d, e)
    assert d is not None
    return d


def _paint(frames: np.ndarray, shape: _Shape, view: _View, gain: np.ndarray) -> None:
    """Blend one shape into the frames where it shows, in place (its window: its extent over the clip)."""
    size, scale, floor_row = view.size, view.scale, view.floor_row
    sx, sy = view.shake_x[:, None], view.shake_y[:, None]
    X = [(x * scale + sx).astype(np.float32) for x in shape.xs]  # [T,S] pixels
    Y = [(floor_row - y * scale + sy).astype(np.float32) for y in shape.ys]
    T, S = X[0].shape
    pres = np.ones((T, S), bool) if shape.present is None else shape.present
    on = np.nonzero(pres.any(axis=1))[0]
    if on.size == 0:
        return
    r = shape.radius * scale
    pad = r + 1.5
    xs, ys = np.stack(X)[:, on], np.stack(Y)[:, on]
    c0, c1 = int(np.clip(np.floor(xs.min() - pad), 0, size)), int(np.clip(np.ceil(xs.max() + pad), 0, size))
    r0, r1 = int(np.clip(np.floor(ys.min() - pad), 0, size)), int(np.clip(np.ceil(ys.max() + pad), 0, size))
    if shape.ground:
        r1 = min(r1, int(np.clip(np.ceil(floor_row + float(view.shake_y.max()) + 1), 0, size)))
    if c0 >= c1 or r0 >= r1:
        return
    px = (np.arange(c0, c1, dtype=np.float32) + 0.5)[None, None, None, :]
    py = (np.arange(r0, r1, dtype=np.float32) + 0.5)[None, None, :, None]
    colour = np.asarray(shape.colour, np.float32)
    chunk = max(1, 200_000 // max(1, S * (r1 - r0) * (c1 - c0)))
    for i in range(0, on.size, chunk):
        idx = on[i:i + chunk]
        e = [v[idx][..., None, None] for v in X], [v[idx][..., None, None] for v in Y]  # [n,S,1,1]
        if shape.kind == "capsule":
            cov = _cov(r - _seg_dist(px, py, e[0][0], e[1][0], e[0][1], e[1][1]))
        elif shape.kind == "disc":
            cov = _cov(r - np.sqrt((px - e[0][0]) ** 2 + (py - e[1][0]) ** 2))
        else:
            cov = _cov(_poly_sdf(px, py, e[0], e[1]))
        cov = cov * pres[idx][..., None, None]
        if shape.ground:  # under the floor line it is in the ground
            cov = cov * _cov((floor_row + view.shake_y[idx])[:, None, None, None] - py)
        a = (cov.mean(axis=1) * np.float32(shape.alpha)).astype(np.float32)[..., None]  # [n,h,w,1]
        col = (colour[idx][:, None, None, :] if colour.ndim == 2 else colour) * gain
        region = frames[idx, r0:r1, c0:c1]
        frames[idx, r0:r1, c0:c1] = region + (col - region) * a


def _times(view: _View) -> np.ndarray:
    """Sample times [T, S] of every frame (S > 1 over a shutter: motion blur)."""
    if view.offsets is None:
        return view.times[:, None]
    return view.times[:, None] + view.offsets[None, :]


def _walker_shapes(w: Walker, ts: np.ndarray) -> list[_Shape]:
    p = w.pose(ts)

    def cap(a: str, b: str, colour: np.ndarray, radius: float) -> _Shape:
        return _Shape("capsule", [p[a][0], p[b][0]], [p[a][1], p[b][1]], colour, radius)

    out: list[_Shape] = []
    for f, k in ((1, 0.72), (0, 1.0)):  # the far arm and leg (darker) behind the body, the near ones before it
        arm = [cap("shoulder", f"elbow{f}", w.shirt * k, 0.8 * w.limb), cap(f"elbow{f}", f"hand{f}", w.shirt * k, 0.7 * w.limb),
               _Shape("disc", [p[f"hand{f}"][0]], [p[f"hand{f}"][1]], w.skin * k, 0.9 * w.limb)]
        leg = [cap("hip", f"knee{f}", w.trousers * k, w.limb), cap(f"knee{f}", f"ankle{f}", w.trousers * k, 0.9 * w.limb),
               cap(f"ankle{f}", f"heel{f}", w.shoes * k, 0.8 * w.limb), cap(f"heel{f}", f"toe{f}", w.shoes * k, 0.8 * w.limb)]
        out += arm + leg if f == 1 else [cap("hip", "shoulder", w.shirt, 2.0 * w.limb)] + leg + arm
    out.append(_Shape("disc", [p["head"][0]], [p["head"][1]], w.skin, w.head))
    return out


def _quad_at(qx: np.ndarray, qy: np.ndarray, u: float, v: float) -> tuple[np.ndarray, np.ndarray]:
    """A point of a quad (corners: hinge bottom, free bottom, free top, hinge top) at u across, v up."""
    bx, by = qx[0] + (qx[1] - qx[0]) * u, qy[0] + (qy[1] - qy[0]) * u
    tx, ty = qx[3] + (qx[2] - qx[3]) * u, qy[3] + (qy[2] - qy[3]) * u
    return bx + (tx - bx) * v, by + (ty - by) * v


def _inset(qx: np.ndarray, qy: np.ndarray, u0: float, u1: float, v0: float, v1: float,
           ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    pts = [_quad_at(qx, qy, u, v) for u, v in ((u0, v0), (u1, v0), (u1, v1), (u0, v1))]
    return [q[0] for q in pts], [q[1] for q in pts]


def _door_shapes(d: Door, ts: np.ndarray) -> list[_Shape]:
    z = np.zeros_like(ts)
    x0, x1, h = d.x, d.x + d.width, d.height
    t = 0.035  # casing
    out = [_Shape("poly", [z + x0, z + x1, z + x1, z + x0], [z, z, z + h, z + h], d.inside_colour),
           _Shape("poly", [z + x0 - t, z + x0, z + x0, z + x0 - t], [z, z, z + h + t, z + h + t], d.frame_colour),
           _Shape("poly", [z + x1, z + x1 + t, z + x1 + t, z + x1], [z, z, z + h + t, z + h + t], d.frame_colour),
           _Shape("poly", [z + x0 - t, z + x1 + t, z + x1 + t, z + x0 - t], [z + h, z + h, z + h + t, z + h + t],
                  d.frame_colour)]
    if d.slide:  # the rail it runs on
        out.append(_Shape("capsule", [z + x0 - d.width, z + x1 + d.width], [z + h + 1.6 * t, z + h + 1.6 * t],
                          d.frame_colour * 0.7, 0.012))
    qx, qy = d.panel(ts)
    shade = 0.78 + 0.22 * np.cos(d.angle(ts).mean(axis=1))[:, None]  # turned away from the light
    colour = d.colour[None, :] * shade
    panel = [qx[i] for i in range(4)], [qy[i] for i in range(4)]
    out.append(_Shape("poly", *panel, colour))
    if d.glass_colour is not None:  # frosted glass in the panel's frame
        out.append(_Shape("poly", *_inset(qx, qy, 0.14, 0.86, 0.08, 0.92), d.glass_colour[None, :] * shade, alpha=0.75))
        out.append(_Shape("poly", *_inset(qx, qy, 0.22, 0.36, 0.5, 0.86), np.ones(3), alpha=0.3))
    else:
        if d.material == "wood":
            for v0, v1 in ((0.08, 0.45), (0.55, 0.92)):
                out.append(_Shape("poly", *_inset(qx, qy, 0.18, 0.82, v0, v1), colour * 0.82))
        else:
            out.append(_Shape("poly", *_inset(qx, qy, 0.06, 0.94, 0.04, 0.16), colour * 1.15))
    hx, hy = _quad_at(qx, qy, 0.86, 0.47)
    out.append(_Shape("disc", [hx], [hy], d.handle_colour, 0.028))
    return out


def _breakable_shapes(g: Breakable, ts: np.ndarray) -> tuple[list[_Shape], list[_Shape]]:
    back: list[_Shape] = []
    z = np.zeros_like(ts)
    if g.shelf is not None:
        a, b, y = g.shelf
        back.append(_Shape("poly", [z + a, z + b, z + b, z + a], [z + y - 0.03, z + y - 0.03, z + y, z + y],
                           np.array([0.42, 0.3, 0.18])))
        back.append(_Shape("capsule", [z + 0.5 * (a + b)] * 2, [z + y - 0.03, z + y - 0.12], np.array([0.25, 0.25, 0.27]),
                           0.012))
    cx, yb = g.xpath(ts), g.ypath(ts)
    pres = g.present(ts)
    body = _Shape("poly", [cx - g.hw, cx + g.hw, cx + g.hw, cx - g.hw], [yb, yb, yb + 2 * g.hh, yb + 2 * g.hh],
                  g.colour, alpha=g.alpha, present=pres)
    shapes = [body]
    rim = g.colour * 0.5 + 0.5
    if g.pane:
        for (xa, ya), (xb, yb2) in (((-1, 0), (1, 0)), ((1, 0), (1, 2)), ((1, 2), (-1, 2)), ((-1, 2), (-1, 0))):
            shapes.append(_Shape("capsule", [cx + xa * g.hw, cx + xb * g.hw], [yb + ya * g.hh, yb + yb2 * g.hh], rim,
                                 0.01, alpha=0.8, present=pres))
        shapes.append(_Shape("capsule", [cx - 0.5 * g.hw, cx + 0.1 * g.hw], [yb + 1.6 * g.hh, yb + 0.6 * g.hh],
                             np.ones(3), 0.01, alpha=0.6, present=pres))
    else:
        top = yb + 2 * g.hh
        nw = 0.38 * g.hw
        shapes.append(_Shape("poly", [cx - g.hw, cx + g.hw, cx + nw, cx - nw],
                             [top, top, top + 0.35 * g.neck, top + 0.35 * g.neck], g.colour, alpha=g.alpha, present=pres))
        shapes.append(_Shape("poly", [cx - nw, cx + nw, cx + nw, cx - nw],
                             [top + 0.3 * g.neck, top + 0.3 * g.neck, top + g.neck, top + g.neck], g.colour,
                             alpha=g.alpha, present=pres))
        shapes.append(_Shape("capsule", [cx - 0.5 * g.hw] * 2, [yb + 0.35 * g.hh, yb + 1.6 * g.hh], rim, 0.012,
                             alpha=0.7, present=pres))
    sx, sy = g.shards(ts)
    after = ~pres
    for i in range(sx.shape[0]):
        shapes.append(_Shape("disc", [sx[i]], [sy[i] + g.shard_r[i]], rim * (0.85 + 0.3 * (i % 3) / 2),
                             float(g.shard_r[i]), alpha=0.9, present=after))
    return back, shapes


def _shovel_shapes(s: Shovel, ts: np.ndarray) -> list[_Shape]:
    tx, ty = s.tip(ts)
    ax, ay = s.axis()
    nx, ny = ay, -ax  # across the blade
    w, h = s.blade_w, s.blade_h
    out = [_Shape("capsule", [tx + ax * h, tx + ax * (h + s.handle)], [ty + ay * h, ty + ay * (h + s.handle)],
                  s.handle_colour, 0.018, ground=True),
           _Shape("poly", [tx - nx * 0.4 * w, tx + nx * 0.4 * w, tx + ax * h + nx * 0.5 * w, tx + ax * h - nx * 0.5 * w],
                  [ty - ny * 0.4 * w, ty + ny * 0.4 * w, ty + ay * h + ny * 0.5 * w, ty + ay * h - ny * 0.5 * w],
                  s.blade_colour, ground=True),
           _Shape("capsule", [tx + ax * 0.85 * h, tx + ax * 1.25 * h], [ty + ay * 0.85 * h, ty + ay * 1.25 * h],
                  s.blade_colour * 0.7, 0.026, ground=True)]
    for k in range(s.contacts.shape[0]):
        dx, dy, fly = s.dirt(ts, k)
        for i in range(dx.shape[0]):
            out.append(_Shape("disc", [dx[i]], [dy[i] + s.dirt_r[i]], s.dirt_colour * (0.8 + 0.2 * (i % 3)),
                              float(s.dirt_r[i]), present=fly[i]))
    return out


def _clash_shapes(c: Clash, ts: np.ndarray) -> list[_Shape]:
    ang = c.angle(ts)
    ux, uy = np.cos(ang), np.sin(ang)
    px, py = c.pivot
    tipx, tipy = c.swung(ts)
    ax, ay, bx, by = c.held(ts)
    wx, wy = c.held_axis()
    grip = 0.13
    metal = c.material == "metal"
    out: list[_Shape] = [
        _Shape("capsule", [ax, ax - wx * grip], [ay, ay - wy * grip], c.grip_colour, 0.9 * c.radius_held),
        _Shape("capsule", [ax, bx], [ay, by], c.colour, c.radius_held),
        _Shape("capsule", [px + 0 * ux, px - ux * grip], [py + 0 * uy, py - uy * grip], c.grip_colour, 0.9 * c.radius_swung),
        _Shape("capsule", [px + 0 * ux, tipx], [py + 0 * uy, tipy], c.colour, c.radius_swung),
    ]
    if metal:  # cross-guards, and a spark where they meet
        gx, gy = math.cos(c.angle_c), math.sin(c.angle_c)
        out.insert(1, _Shape("capsule", [ax - wy * 0.05, ax + wy * 0.05], [ay + wx * 0.05, ay - wx * 0.05],
                             c.grip_colour * 0.8, 0.6 * c.radius_held))
        out.append(_Shape("capsule", [px + uy * 0.05, px - uy * 0.05], [py - ux * 0.05, py + ux * 0.05],
                          c.grip_colour * 0.8, 0.6 * c.radius_swung))
        cx = c.pivot[0] + c.length * gx + c.radius_swung * c.push[0]  # where the outlines touch
        cy = c.pivot[1] + c.length * gy + c.radius_swung * c.push[1]
        for tc in c.contacts:
            out.append(_Shape("disc", [np.zeros_like(ts) + cx], [np.zeros_like(ts) + cy], np.array([1.0, 0.95, 0.7]),
                              0.035, alpha=0.9, present=(ts >= tc) & (ts < tc + 0.06)))
    return out


def _foley_shapes(scene: Scene, view: _View) -> tuple[list[_Shape], list[_Shape]]:
    """The Foley actors' shapes: those on the wall (doors, shelves: behind everything) and the rest."""
    ts = _times(view)
    back: list[_Shape] = []
    front: list[_Shape] = []
    for f in scene.foley:
        if isinstance(f, Walker):
            front += _walker_shapes(f, ts)
        elif isinstance(f, Door):
            back += _door_shapes(f, ts)
        elif isinstance(f, Breakable):
            b, s = _breakable_shapes(f, ts)
            back += b
            front += s
        elif isinstance(f, Shovel):
            front += _shovel_shapes(f, ts)
        else:
            front += _clash_shapes(f, ts)
    return back, front


def _ground(rows: np.ndarray, w: int, size: int, horizon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground coordinates of floor pixels as textures.floor sees them: across, depth, and ground units
    per pixel (for anti-aliasing)."""
    dist = np.maximum(rows - horizon, 0.5)[:, None] / size
    gx = ((np.arange(w, dtype=np.float32) + 0.5)[None, :] / size - 0.5) / dist * 0.25
    gz = 0.25 / dist + 0 * gx
    return gx.astype(np.float32), gz.astype(np.float32), (1.0 / (size * dist * 4.0)).astype(np.float32)


def surface_floor(kind: str, seed: int, rows: np.ndarray, w: int, size: int, horizon: float, colour: np.ndarray,
                  contrast: float, scale: float) -> np.ndarray:
    """A floor of a surface walked on (``SURFACES``) or dug ("dirt"), in perspective, float32
    [len(rows), w, 3]: wood planks, stone flags, speckled gravel, green grass, bright snow with glints,
    rippled beige sand, diamond-plate metal, clumpy dirt."""
    contrast = max(contrast, 0.5)
    if kind == "wood":
        return textures.floor("planks", seed, rows, w, size, horizon, colour, contrast, scale)
    if kind == "grass":
        return textures.floor("grass", seed, rows, w, size, horizon, colour, max(contrast, 0.8), scale)
    if kind == "stone":
        return textures.floor("tiles", seed, rows, w, size, horizon, colour, contrast, 1.4 * scale)
    rng = np.random.default_rng(seed)
    gx, gz, px = _ground(rows, w, size, horizon)
    tex = textures.fbm(rng, 64, 64, 6.0, 4)

    def look(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return tex[(v * 64).astype(np.int64) % 64, (u * 64).astype(np.int64) % 64]

    def cells(c: float, n: int = 257) -> np.ndarray:  # a random value per cell of side c
        ids = (np.floor(gx / c).astype(np.int64) * 7919 + np.floor(gz / c).astype(np.int64) * 104729) % n
        return rng.uniform(-1, 1, n).astype(np.float32)[ids]

    if kind == "gravel":
        k = 1.0 + contrast * (0.3 * cells(0.008 * scale) + 0.2 * cells(0.019 * scale) + 0.06 * look(gx, gz))
    elif kind == "snow":
        glint = np.clip(cells(0.03 * scale) * 8.0 - 7.2, 0.0, 1.0)
        k = 1.0 + contrast * (0.04 * look(gx * 0.5, gz * 0.5) + 0.02 * look(gx * 4, gz * 4)) + 0.12 * glint
    elif kind == "sand":
        ripple = np.sin(2 * np.pi * gz / (0.18 * scale) + 2.5 * look(gx * 0.3, gz * 0.3))
        k = 1.0 + contrast * (0.07 * ripple + 0.05 * look(gx * 5, gz * 5))
    elif kind == "metal":
        p = 0.12 * scale
        bump = np.abs(np.sin(np.pi * (gx + gz) / p) * np.sin(np.pi * (gx - gz) / p))
        sheen = np.exp(-((gz - 0.5) ** 2) * 4.0)
        k = 1.0 + contrast * (0.18 * (bump - 0.5) + 0.04 * look(gx, gz)) + 0.12 * sheen
    elif kind == "dirt":
        k = 1.0 + contrast * (0.16 * look(gx * 0.6, gz * 0.6) + 0.1 * look(gx * 4, gz * 4) + 0.18 * cells(0.06 * scale))
    else:
        raise ValueError(f"unknown floor surface {kind!r}")
    return colour.astype(np.float32) * np.asarray(k, np.float32)[..., None] + 0 * px[..., None]


# ----------------------------------------------------------------------------------------------
# Compression
# ----------------------------------------------------------------------------------------------

_Q50 = np.array([[16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
                 [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
                 [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
                 [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float32)


@functools.cache
def _dct64() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 block DCT as one 64x64 matrix on row-major flattened blocks: (forward^T, inverse^T)."""
    k, n = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    d = np.cos(np.pi * (2 * n + 1) * k / 16) * np.sqrt(2 / 8)
    d[0] /= np.sqrt(2)
    K = np.kron(d, d).astype(np.float32)
    return np.ascontiguousarray(K.T), np.ascontiguousarray(K)


def _matmul_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in chunks of 64 rows: small products stay on one BLAS thread, which on a busy machine is
    many times faster than a threaded one."""
    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    for i in range(0, a.shape[0], 64):
        np.matmul(a[i:i + 64], b, out=out[i:i + 64])
    return out


def _quantise(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """8x8 block DCT, quantise by table q, inverse: x [T, H, W] float32 with H, W multiples of 8."""
    T, H, W = x.shape
    fwd, inv = _dct64()
    blocks = x.reshape(T, H // 8, 8, W // 8, 8).transpose(0, 1, 3, 2, 4).reshape(-1, 64)
    c = _matmul_rows(blocks, fwd)
    qv = q.reshape(64)
    c /= qv
    np.round(c, out=c)
    c *= qv
    return _matmul_rows(c, inv).reshape(T, H // 8, W // 8, 8, 8).transpose(0, 1, 3, 2, 4).reshape(T, H, W)


def compress(frames: np.ndarray, quality: float) -> np.ndarray:
    """JPEG-like compression of float frames [T, H, W, 3] in 0..255: the luma goes through 8x8 DCT
    quantisation at ``quality`` (1..100, as JPEG's tables scale) — blocking, ringing, lost fine detail —
    and every channel moves with it."""
    T, H, W, _ = frames.shape
    scale = 5000.0 / quality if quality < 50 else 200.0 - 2.0 * quality
    ql = np.clip(np.floor((_Q50 * scale + 50) / 100), 1, 255).astype(np.float32)
    ph, pw = -H % 8, -W % 8
    y = 0.299 * frames[..., 0] + 0.587 * frames[..., 1] + 0.114 * frames[..., 2]
    yp = np.pad(y, ((0, 0), (0, ph), (0, pw)), mode="edge") if ph or pw else y
    dy = _quantise(yp, ql)[:, :H, :W] - y
    out = frames + dy[..., None]
    np.clip(out, 0.0, 255.0, out=out)
    return out
