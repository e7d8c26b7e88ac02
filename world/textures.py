"""Procedural textures for the synthetic Foley world (numpy only): value noise and fBm, and from them
natural-looking walls (plaster, brick, wood panelling, stone, foliage, tiles), floors seen in
perspective (planks, tiles, stone, carpet, grass) and small surface patterns for objects.

Every texture is a function of a seed and of its size in pixels, so a scene rendered at another frame
size shows the same pattern; sizes are given as fractions of the frame.
"""

from __future__ import annotations

import math

import numpy as np


def _smooth(f: np.ndarray) -> np.ndarray:
    return f * f * (3.0 - 2.0 * f)


def value_noise(rng: np.random.Generator, h: int, w: int, cells_y: float, cells_x: float) -> np.ndarray:
    """Smooth value noise in [-1, 1], float32 [h, w], with about cells_y x cells_x features."""
    gy, gx = max(1, int(math.ceil(cells_y))), max(1, int(math.ceil(cells_x)))
    grid = rng.uniform(-1.0, 1.0, (gy + 1, gx + 1)).astype(np.float32)
    ys = (np.arange(h, dtype=np.float32) + 0.5) * (cells_y / h)
    xs = (np.arange(w, dtype=np.float32) + 0.5) * (cells_x / w)
    iy, ix = np.minimum(ys.astype(np.int64), gy - 1), np.minimum(xs.astype(np.int64), gx - 1)
    fy, fx = _smooth(ys - iy)[:, None], _smooth(xs - ix)[None, :]
    rows = grid[iy] * (1 - fy) + grid[iy + 1] * fy  # [h, gx+1]
    return rows[:, ix] * (1 - fx) + rows[:, ix + 1] * fx


def fbm(rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 4, gain: float = 0.5,
        aspect: float = 1.0) -> np.ndarray:
    """Fractal sum of value noise, zero mean and unit std, float32 [h, w]. ``aspect`` stretches features
    horizontally (> 1) or vertically (< 1); octaves finer than two pixels are skipped."""
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(octaves):
        c = cells * 2**o
        if c > max(h, w) / 2 and o > 0:
            break
        out += amp * value_noise(rng, h, w, c, c * w / h / aspect)
        amp *= gain
    out -= out.mean()
    return out / max(float(out.std()), 1e-6)


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """RGB in 0..1 of a hue (0..1), saturation and value."""
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _lines(coord: np.ndarray, period: float, width: float | np.ndarray) -> np.ndarray:
    """1 on thin lines every ``period`` (in the units of coord), anti-aliased over ``width`` (a scalar,
    or an array that broadcasts against coord: the floor's lines widen with distance)."""
    d = np.abs((coord / period + 0.5) % 1.0 - 0.5) * period  # distance to the nearest line
    return np.clip(1.0 - d / width, 0.0, 1.0)


# Hue ranges that make each kind look natural (hue in 0..1), and its saturation.
WALL_HUES = {"plaster": ((0.0, 1.0), (0.0, 0.35)), "brick": ((0.0, 0.07), (0.45, 0.7)),
             "panel": ((0.05, 0.11), (0.4, 0.7)), "stone": ((0.05, 0.15), (0.05, 0.25)),
             "foliage": ((0.22, 0.36), (0.45, 0.8)), "tiles": ((0.0, 1.0), (0.0, 0.3))}
FLOOR_HUES = {"planks": ((0.05, 0.11), (0.4, 0.75)), "tiles": ((0.0, 1.0), (0.0, 0.25)),
              "stone": ((0.05, 0.15), (0.0, 0.2)), "carpet": ((0.0, 1.0), (0.2, 0.6)),
              "grass": ((0.2, 0.33), (0.45, 0.8))}


def wall(kind: str, seed: int, h: int, w: int, size: int, colour: np.ndarray, contrast: float,
         scale: float) -> np.ndarray:
    """A wall of ``kind`` around ``colour``, float32 [h, w, 3] (about 0..1); ``size`` is the frame side in
    pixels (features scale with it); ``contrast`` and ``scale`` set the pattern's strength and size."""
    rng = np.random.default_rng(seed)
    y = (np.arange(h, dtype=np.float32) + 0.5)[:, None] / size  # frame heights
    x = (np.arange(w, dtype=np.float32) + 0.5)[None, :] / size
    cells = 6.0 / scale * h / size
    base = colour.astype(np.float32)
    if kind == "plaster":
        k = 1.0 + 0.12 * contrast * fbm(rng, h, w, cells * 0.6, 5)
        return base * k[..., None]
    if kind == "brick":
        bh = 0.075 * scale
        row = np.floor(y / bh)
        off = (row % 2) * 0.5
        bx = x / (2.2 * bh) + off
        col = np.floor(bx)
        ids = (row * 131 + col * 17).astype(np.int64) % 997
        tone = (rng.uniform(-1, 1, 997).astype(np.float32))[ids]
        mortar = np.maximum(_lines(y, bh, 0.12 * bh), _lines(bx * 2.2 * bh, 2.2 * bh, 0.12 * bh))
        grit = fbm(rng, h, w, cells * 2.0, 3)
        k = 1.0 + contrast * (0.12 * tone + 0.06 * grit)
        mortar_colour = np.float32(0.75) * np.full(3, float(base.mean()) * 0.6 + 0.35, np.float32)
        img = base * k[..., None]
        return img + (mortar_colour - img) * (0.85 * mortar)[..., None]
    if kind == "panel":
        pw = 0.11 * scale
        plank = np.floor(x / pw)
        ids = (plank.astype(np.int64) * 37) % 101
        tone = rng.uniform(-1, 1, 101).astype(np.float32)[ids]
        warp = fbm(rng, h, w, cells * 0.5, 3, aspect=0.25)
        grain = np.sin(2 * np.pi * (x / (0.012 * scale) + 2.5 * warp + 3.0 * tone))
        seams = _lines(x + 0 * y, pw, 0.08 * pw)
        k = 1.0 + contrast * (0.1 * tone + 0.07 * grain) - 0.5 * seams
        return base * k[..., None]
    if kind == "stone":
        n = max(6, int(30 / (scale * scale)))
        pts = rng.uniform(0, 1, (n, 2)).astype(np.float32) * np.array([h / size, w / size], np.float32)
        d = (y[..., None] - pts[:, 0]) ** 2 + (x[..., None] - pts[:, 1]) ** 2  # [h, w, n]
        part = np.partition(d, 1, axis=-1)
        d1, d2 = np.sqrt(part[..., 0]), np.sqrt(part[..., 1])
        ids = np.argmin(d, axis=-1)
        tone = rng.uniform(-1, 1, n).astype(np.float32)[ids]
        joint = np.clip(1.0 - (d2 - d1) / (0.012 * scale + 1.0 / size), 0.0, 1.0)
        k = 1.0 + contrast * (0.16 * tone + 0.07 * fbm(rng, h, w, cells * 1.5, 4)) - 0.45 * joint
        return base * k[..., None]
    if kind == "foliage":
        img = np.empty((h, w, 3), np.float32)
        img[:] = base
        for layer in range(3):
            c = cells * (0.7 + 0.9 * layer)
            blob = fbm(rng, h, w, c, 3)
            hue = rng.uniform(0.2, 0.38)
            leaf = hsv(hue, rng.uniform(0.4, 0.85), float(base.max()) * rng.uniform(0.55, 1.25)).astype(np.float32)
            a = np.clip((blob - rng.uniform(-0.2, 0.6)) * 3.0, 0.0, 1.0) * min(1.0, 0.5 + 0.5 * contrast)
            img += (leaf - img) * a[..., None]
        gaps = np.clip((fbm(rng, h, w, cells * 0.8, 3) - 1.3) * 2.0, 0.0, 1.0) * contrast  # sky peeking through
        sky = np.array([0.75, 0.85, 0.95], np.float32) * min(1.0, float(base.max()) * 1.4)
        return img + (sky - img) * gaps[..., None]
    if kind == "tiles":
        t = 0.14 * scale
        grout = np.maximum(_lines(y, t, 0.06 * t), _lines(x, t, 0.06 * t))
        ids = (np.floor(y / t) * 53 + np.floor(x / t)).astype(np.int64) % 211
        tone = rng.uniform(-1, 1, 211).astype(np.float32)[ids]
        gloss = ((y / t) % 1.0 + (x / t) % 1.0) * 0.5
        k = 1.0 + contrast * (0.05 * tone + 0.06 * (0.5 - gloss)) - 0.35 * grout
        return base * k[..., None]
    raise ValueError(f"unknown wall texture {kind!r}")


def floor(kind: str, seed: int, rows: np.ndarray, w: int, size: int, horizon: float, colour: np.ndarray,
          contrast: float, scale: float) -> np.ndarray:
    """A floor of ``kind`` seen in perspective, float32 [len(rows), w, 3]: ``rows`` are pixel-centre rows
    at or below the floor line, ``horizon`` the eye-level row above it; ground coordinates are
    (x - centre) / (row - horizon) across and 1 / (row - horizon) in depth, in frame units."""
    rng = np.random.default_rng(seed)
    dist = np.maximum(rows - horizon, 0.5)[:, None] / size  # [r, 1]
    gx = ((np.arange(w, dtype=np.float32) + 0.5)[None, :] / size - 0.5) / dist * 0.25  # across
    gz = 0.25 / dist + 0 * gx  # depth
    base = colour.astype(np.float32)
    tex = fbm(rng, 64, 64, 6.0, 4)

    def look(u: np.ndarray, v: np.ndarray) -> np.ndarray:  # tileable lookup of the noise tile
        return tex[(v * 64).astype(np.int64) % 64, (u * 64).astype(np.int64) % 64]

    px = 1.0 / (size * dist * 4.0)  # ground units per pixel, for anti-aliasing lines
    if kind == "planks":
        bw = 0.16 * scale
        board = np.floor(gz / bw)
        ids = (board.astype(np.int64) * 29) % 97
        tone = rng.uniform(-1, 1, 97).astype(np.float32)[ids]
        joint = np.floor(gx / (1.3 * scale) + 0.37 * ids)
        seam = np.maximum(_lines(gz, bw, px * 0.8), _lines(gx + 0.37 * ids * 1.3 * scale, 1.3 * scale, px * 0.8))
        grain = look(gx * 0.4, gz * 4.0 / scale) + 0 * joint
        k = 1.0 + contrast * (0.12 * tone + 0.08 * grain) - 0.45 * seam
    elif kind == "tiles":
        t = 0.35 * scale
        checker = ((np.floor(gx / t) + np.floor(gz / t)) % 2) * 2 - 1
        grout = np.maximum(_lines(gx, t, px), _lines(gz, t, px))
        k = 1.0 + contrast * (0.12 * checker + 0.03 * look(gx, gz)) - 0.3 * grout
    elif kind == "stone":
        k = 1.0 + contrast * (0.12 * look(gx * 0.8 / scale, gz * 0.8 / scale) + 0.06 * look(gx * 3, gz * 3))
    elif kind == "carpet":
        k = 1.0 + contrast * (0.05 * look(gx * 0.5, gz * 0.5) + 0.08 * look(gx * 6 / scale, gz * 6 / scale))
    elif kind == "grass":
        k = 1.0 + contrast * (0.1 * look(gx * 0.7 / scale, gz * 0.7 / scale) + 0.12 * look(gx * 9, gz * 2))
    else:
        raise ValueError(f"unknown floor texture {kind!r}")
    return base * k[..., None]


def surface(seed: int, n: int = 32) -> np.ndarray:
    """A small tileable pattern for an object's surface, float32 [n, n], zero mean, unit std."""
    rng = np.random.default_rng(seed)
    t = fbm(rng, n, n, 4.0, 3)
    return t
