"""Scenes of the synthetic Foley world: what is in a scene, sampled from a seed, and its analytic motion.

Side view: x to the right, y up from the floor line, world units (the frame is about 1.6 units tall).
A scene has one main sound source of one class, sometimes a second, quieter one beside it:

- impacts: objects dropped onto the floor (bouncing, drifting, maybe out of the frame) and resting
  objects tapped by a stick or a hand;
- scrape: a box flicked along the floor, or pushed along by a stick or a hand;
- roll: a ball flicked along the floor, turning by distance / radius (a two-tone pattern and a marker
  on it show the turning);
- motor: a fan on a stand or on the wall, switched on (a light on its base comes on) and maybe off,
  its blades (one marked) turning at the rate the hum and the blade-pass whoosh follow;
- the Foley kinds (``recorded_config`` only), each seen at its exact contact: a walker whose feet land
  in turn on a floor that looks like its surface (step), a door swinging or sliding shut into its frame
  (door), a glass bottle or pane knocked off a shelf or dropped, shattering into shards where it lands
  (break), a shovel thrust into dirt, clods flying up (dig), a blade or staff swung down onto another
  held across its path (strike);

plus silent distractors (a shape drifting or bobbing in the background, a pendulum swinging freely),
an optional foreground occluder, light flicker and changes, textures, shake, blur and noise.

All motion is analytic (piecewise quadratic paths, exponential spin-up, linear spin-down), so event
times are exact and positions are evaluated at any frame or sample time. The scene depends only on
(seed, duration, config). Draws come from separate streams (layout and impacts as the first world
drew them; other sources; strikers' looks; distractors; the look), so that turning one feature off
leaves the rest of a seed's scene as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import synth
from .events import (
    DOOR_MATERIALS,
    FOLEY_CLASSES,
    MATERIALS,
    STRIKE_MATERIALS,
    SURFACES,
    Event,
    dominant_class,
    event_weight,
)
from .textures import FLOOR_HUES, WALL_HUES, hsv, luma
from .world_config import WorldConfig

PathFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # (x, y) at times t


@dataclass
class Track:
    """One coordinate along piecewise parabolas: v(t) = y_i + v_i tau - g_i / 2 tau^2 on [t_i, t_{i+1})."""

    seg_t: np.ndarray
    seg_y: np.ndarray
    seg_v: np.ndarray
    seg_g: np.ndarray

    def __call__(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.seg_t, t, side="right") - 1
        tau = t - self.seg_t[i]
        return self.seg_y[i] + self.seg_v[i] * tau - 0.5 * self.seg_g[i] * tau**2

    def speed(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.seg_t, t, side="right") - 1
        return np.abs(self.seg_v[i] - self.seg_g[i] * (t - self.seg_t[i]))

    @staticmethod
    def moves(x0: float, t0: float, pieces: list[tuple[float, float, float]], direction: float) -> Track:
        """At rest at x0 until t0, then pieces of (duration, speed at its start, acceleration) along
        ``direction`` (+1 right, -1 left), then at rest where the last piece ends."""
        ts, ys, vs, gs = [-1e9], [x0], [0.0], [0.0]
        t, x = t0, x0
        for dur, v, a in pieces:
            ts.append(t)
            ys.append(x)
            vs.append(direction * v)
            gs.append(-direction * a)
            x += direction * (v * dur + 0.5 * a * dur * dur)
            t += dur
        ts.append(t)
        ys.append(x)
        vs.append(0.0)
        gs.append(0.0)
        return Track(np.asarray(ts), np.asarray(ys), np.asarray(vs), np.asarray(gs))


def _rest(value: float) -> Track:
    return Track(np.array([-1e9]), np.array([value]), np.zeros(1), np.zeros(1))


@dataclass
class SceneObject:
    """A shape seen in the scene: a sounding object (impacts, slider, roller) or a silent distractor."""

    material: str  # its look (and, when it sounds, its sound)
    disc: bool
    hw: float  # half-width, world units
    hh: float  # half-height, world units
    colour: np.ndarray  # [3]
    accent: np.ndarray  # [3], second colour (ceramic band, ball pattern)
    alpha: float
    stripe: tuple[float, float, float]  # wood grain: period (fraction of frame), phase, wobble phase
    modes: synth._Modes | None = None  # impacts: its modes
    index: int = -1  # in Clip.objects; -1: silent
    # y: piecewise parabolas (bouncing); x: linear x0 -> x1 over t_move, or a track
    ytrack: Track = field(default_factory=lambda: _rest(0.0))
    x0: float = 0.0
    x1: float = 0.0
    t_move: tuple[float, float] = (0.0, 1.0)
    t_rest: float = -math.inf  # from here on the object lies still on the floor
    xtrack: Track | None = None  # sliders and rollers
    path: PathFn | None = None  # distractors: (x, y) of t
    roll_radius: float = 0.0  # > 0: it rolls, turning by distance / radius
    sectors: int = 0  # two-tone sectors of a ball
    mark: float = 0.0  # image angle of the ball's marker at rest (its thump comes when it points down)
    texture: int = 0  # seed of its surface pattern
    texture_amp: float = 0.0
    shadow: bool = True
    # sound of continuous sources
    roughness: float = 0.0
    grain: float = 0.0
    thump: float = 0.0

    def y(self, t: np.ndarray) -> np.ndarray:
        """Centre height above the floor at times ``t`` (world units)."""
        if self.path is not None:
            return self.path(t)[1]
        return self.ytrack(t)

    def x(self, t: np.ndarray) -> np.ndarray:
        if self.path is not None:
            return self.path(t)[0]
        if self.xtrack is not None:
            return self.xtrack(t)
        a, b = self.t_move
        frac = np.clip((t - a) / max(b - a, 1e-9), 0.0, 1.0)
        return self.x0 + (self.x1 - self.x0) * frac

    def angle(self, t: np.ndarray) -> np.ndarray:
        """How far it has turned (radians, clockwise in the image) since rest: rollers only."""
        if self.roll_radius <= 0 or self.xtrack is None:
            return np.zeros_like(t)
        return (self.xtrack(t) - self.xtrack.seg_y[0]) / self.roll_radius


@dataclass
class Strike:
    """A stick or a hand that comes in, touches an object (a tap, a flick, or a push that rides along
    with it for ``hold`` seconds) and leaves. The tip is ``s`` world units from its anchor along
    ``motion``: s = speed |dt| (x 0.6 leaving) + accel dt^2 / 2, dt measured from the contact."""

    obj: int  # scene object touched
    time: float
    speed: float
    direction: tuple[float, float]  # unit vector from tip to handle, world (x right, y up)
    tip: tuple[float, float]  # tip position at contact, world
    accel: float
    hold: float = 0.0
    motion: tuple[float, float] | None = None  # the tip comes in against and leaves along this (None: direction)
    follow: bool = False  # during the hold the tip rides with the object
    hand: bool = False
    width: float = 0.022  # stick width, fraction of the frame
    colour: np.ndarray | None = None  # None: the scene's stick colour
    hand_size: float = 0.2  # palm width, world units
    skin: np.ndarray | None = None
    sleeve: np.ndarray | None = None
    thumb: float = 1.0  # which side the thumb is on

    def distance(self, t: np.ndarray) -> np.ndarray:
        if self.hold > 0:
            dt = np.where(t < self.time, t - self.time, np.maximum(t - (self.time + self.hold), 0.0))
        else:
            dt = t - self.time
        return self.speed * np.abs(dt) * np.where(dt < 0, 1.0, 0.6) + 0.5 * self.accel * dt**2

    def tip_world(self, t: np.ndarray, s: np.ndarray, objects: list[SceneObject]) -> tuple[np.ndarray, np.ndarray]:
        mx, my = self.motion if self.motion is not None else self.direction
        if self.follow:
            o = objects[self.obj]
            ax = o.x(np.clip(t, self.time, self.time + self.hold)) + (self.tip[0] - float(o.x(np.asarray(self.time))))
            return ax + mx * s, self.tip[1] + my * s
        return self.tip[0] + mx * s, self.tip[1] + my * s


@dataclass
class Motor:
    """A fan: a rotor of ``blades`` blades (blade 0 marked) on a stand or a wall mount. Off until t_on,
    spins up as 1 - exp(-tau / tau_up), spins down linearly over t_down from t_off."""

    index: int
    x: float
    y: float  # hub centre, world
    radius: float
    blades: int
    wall: bool
    t_on: float
    t_off: float  # inf: never switched off
    rate_max: float  # rotations / s
    tau_up: float
    t_down: float
    spin: float  # +1 clockwise in the image, -1 counter-clockwise
    angle0: float
    blade_colour: np.ndarray
    mark_colour: np.ndarray
    body_colour: np.ndarray
    voice: synth.MotorVoice

    def _up(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = np.exp(-np.maximum(tau, 0.0) / self.tau_up)
        return self.rate_max * (1 - e), 2 * np.pi * self.rate_max * (tau - self.tau_up * (1 - e))

    def rate(self, t: np.ndarray) -> np.ndarray:
        """Rotations per second."""
        t = np.asarray(t, dtype=np.float64)
        up, _ = self._up(np.minimum(t, self.t_off) - self.t_on)
        f_off = float(self._up(np.asarray(self.t_off - self.t_on))[0]) if math.isfinite(self.t_off) else 0.0
        down = f_off * np.clip(1.0 - (t - self.t_off) / self.t_down, 0.0, 1.0)
        return np.where(t < self.t_on, 0.0, np.where(t < self.t_off, up, down))

    def angle(self, t: np.ndarray) -> np.ndarray:
        """Image angle of blade 0 (radians, clockwise positive with y down)."""
        t = np.asarray(t, dtype=np.float64)
        _, th_up = self._up(np.minimum(t, self.t_off) - self.t_on)
        if math.isfinite(self.t_off):
            f_off, th_off = (float(v) for v in self._up(np.asarray(self.t_off - self.t_on)))
            tau = np.clip(t - self.t_off, 0.0, self.t_down)
            th_down = th_off + 2 * np.pi * f_off * (tau - tau * tau / (2 * self.t_down))
            th = np.where(t < self.t_off, th_up, th_down)
        else:
            th = th_up
        return self.angle0 + self.spin * np.where(t < self.t_on, 0.0, th)

    @property
    def end(self) -> float:
        return self.t_off + self.t_down


@dataclass
class Pendulum:
    pivot: tuple[float, float]
    length: float
    bob: SceneObject
    string: np.ndarray  # colour


@dataclass
class Occluder:
    kind: str  # "post" | "foliage"
    x: float  # centre, fraction of the frame width
    width: float  # fraction of the frame
    top: float  # post: top end, fraction of the frame height; foliage: centre height
    colour: np.ndarray
    seed: int


@dataclass
class Look:
    wall_kind: str | None = None
    wall_colour: np.ndarray | None = None
    floor_kind: str | None = None
    floor_colour: np.ndarray | None = None
    texture_seed: int = 0
    contrast: float = 0.0
    scale: float = 1.0
    horizon: float = 0.0  # eye level, fraction of the frame height from the top
    grad: float = 0.0
    shutter: float = 0.0  # exposure, fraction of the frame interval
    quality: float | None = None  # compression
    flicker: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # amplitudes, frequencies, phases
    change: tuple[float, float, float] | None = None  # time, ramp (s), factor
    occluder: Occluder | None = None
    surface: str | None = None  # the floor is this surface (SURFACES or "dirt"), walked on or dug
    surface_colour: np.ndarray | None = None

    def light(self, t: np.ndarray) -> np.ndarray | None:
        """Light gain at times t, or None when the light is steady."""
        if self.flicker is None and self.change is None:
            return None
        g = np.ones_like(t)
        if self.flicker is not None:
            a, f, p = self.flicker
            g = g + (a[:, None] * np.sin(2 * np.pi * f[:, None] * t[None, :] + p[:, None])).sum(axis=0)
        if self.change is not None:
            tc, ramp, factor = self.change
            g = g * (1.0 + (factor - 1.0) * _smoothstep((t - tc) / ramp))
        return g


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


# ----------------------------------------------------------------------------------------------
# Foley actors (recorded_config): a walker, a door, breaking glass, a shovel, clashing blades
# ----------------------------------------------------------------------------------------------


@dataclass
class Piecewise:
    """One value along pieces from t0[i] on: kind 0, s0 + v0 tau + acc tau^2 / 2 (p = s0, v0, acc); kind 1,
    s0 -> s1 along a smoothstep over ``dur`` (p = s0, s1, dur); tau = t - t0[i]. Before the first piece,
    the value it starts from."""

    t0: np.ndarray
    kind: np.ndarray
    p0: np.ndarray
    p1: np.ndarray
    p2: np.ndarray

    @staticmethod
    def build(pieces: list[tuple[float, int, float, float, float]]) -> Piecewise:
        first = pieces[0]
        start = first[2]  # both kinds start from p0
        rows = [(-1e9, 0, start, 0.0, 0.0)] + pieces
        return Piecewise(*(np.asarray(c, dtype=np.float64) for c in zip(*rows, strict=True)))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        i = np.searchsorted(self.t0, t, side="right") - 1
        i = np.maximum(i, 0)
        tau = t - self.t0[i]
        p0, p1, p2 = self.p0[i], self.p1[i], self.p2[i]
        quad = p0 + p1 * tau + 0.5 * p2 * tau * tau
        smooth = p0 + (p1 - p0) * _smoothstep(tau / np.maximum(p2, 1e-9))
        return np.where(self.kind[i] == 0, quad, smooth)


class _Pieces:
    """Builds a Piecewise in time order."""

    def __init__(self, t: float, value: float):
        self.t, self.value = t, value
        self.rows: list[tuple[float, int, float, float, float]] = []

    def hold(self, dur: float) -> None:
        self.rows.append((self.t, 0, self.value, 0.0, 0.0))
        self.t += dur

    def quad(self, dur: float, v0: float, acc: float) -> None:
        self.rows.append((self.t, 0, self.value, v0, acc))
        self.value += v0 * dur + 0.5 * acc * dur * dur
        self.t += dur

    def smooth(self, dur: float, to: float) -> None:
        self.rows.append((self.t, 1, self.value, to, dur))
        self.value, self.t = to, self.t + dur

    def done(self) -> Piecewise:
        self.hold(0.0)
        return Piecewise.build(self.rows)


def _rot(angle: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return np.cos(angle), np.sin(angle)


@dataclass
class Walker:
    """A stick figure walking across (or marking time), its feet landing in turn on the floor. Step k is
    taken by foot ``foot[k]``: it leaves the floor at ``lift[k]`` and lands at ``land[k]`` at ``land_x[k]``
    (a parabola of height ``lift_h[k]``: the sole comes down at 4 lift_h / (land - lift) world units / s);
    it stays there until the foot's next step lifts it. Foot 0 is the near one."""

    index: int
    surface: str  # the floor's
    surface_colour: np.ndarray
    x0: float  # hip x at t = 0
    direction: float  # +1 walking right, -1 left
    speed: float  # world units / s (0: in place)
    reach: float  # the heel lands this far ahead of the hip
    hip: float  # hip height over the sole with both feet down
    bob: float  # the hip rises bob times the swinging foot's height
    thigh: float
    shin: float
    ankle: float  # ankle height over the sole
    foot_len: float
    torso: float
    head: float  # radius
    limb: float  # leg radius
    land: np.ndarray
    lift: np.ndarray
    land_x: np.ndarray
    lift_h: np.ndarray
    foot: np.ndarray  # int, 0 or 1
    shirt: np.ndarray
    trousers: np.ndarray
    skin: np.ndarray
    shoes: np.ndarray

    def hip_x(self, t: np.ndarray) -> np.ndarray:
        return self.x0 + self.direction * self.speed * np.asarray(t, dtype=np.float64)

    def feet(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x and height of each foot's sole (its lowest point) at times t: two arrays [2, *t.shape]; the
        height is 0 exactly while the foot is on the floor and at every landing."""
        t = np.asarray(t, dtype=np.float64)
        xs, ys = [], []
        for f in (0, 1):
            sel = np.nonzero(self.foot == f)[0]
            tl, tf, xl, hl = self.land[sel], self.lift[sel], self.land_x[sel], self.lift_h[sel]
            j = np.searchsorted(tl, t, side="right")  # steps of this foot landed by t
            jn, jp = np.clip(j, 0, len(sel) - 1), np.clip(j - 1, 0, len(sel) - 1)
            swing = (j >= 1) & (j < len(sel)) & (t >= tf[jn])
            tau = np.clip((t - tf[jn]) / np.maximum(tl[jn] - tf[jn], 1e-9), 0.0, 1.0)
            xs.append(np.where(swing, xl[jp] + (xl[jn] - xl[jp]) * _smoothstep(tau), xl[jp]))
            ys.append(np.where(swing, 4.0 * hl[jn] * tau * (1.0 - tau), 0.0))
        return np.stack(xs), np.stack(ys)

    def pose(self, t: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Joint positions (x, y) at times t: hip, shoulder, head, and per foot f: knee{f}, ankle{f},
        heel{f}, toe{f} (the sole's ends), elbow{f}, hand{f}."""
        fx, fy = self.feet(t)
        d = self.direction
        hx = self.hip_x(t)
        hy = self.hip + self.bob * (fy[0] + fy[1])
        leg = self.thigh + self.shin
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {"hip": (hx, hy)}
        sx, sy = hx + d * 0.06 * self.torso, hy + self.torso
        out["shoulder"] = (sx, sy)
        out["head"] = (sx + d * 0.03 * self.torso, sy + 0.12 * self.torso + self.head)
        r = self.limb * 0.8  # sole thickness: the foot's radius
        hmax = max(float(np.max(self.lift_h)), 1e-6)
        for f in (0, 1):
            ax, ay = fx[f], fy[f] + self.ankle
            dx, dy = ax - hx, ay - hy
            dist = np.clip(np.hypot(dx, dy), 1e-6, leg * 0.9999)
            bend = np.arccos(np.clip((self.thigh**2 + dist**2 - self.shin**2) / (2 * self.thigh * dist), -1.0, 1.0))
            c, s = _rot(np.arctan2(dy, dx) + d * bend)  # the knee points the way it walks
            out[f"knee{f}"] = (hx + self.thigh * c, hy + self.thigh * s)
            out[f"ankle{f}"] = (ax, ay)
            out[f"heel{f}"] = (fx[f] - d * (0.25 * self.foot_len - r), fy[f] + r)
            out[f"toe{f}"] = (fx[f] + d * (0.75 * self.foot_len - r), fy[f] + r)
            other = 1 - f  # an arm swings with the opposite leg
            if self.speed > 0:
                sig = np.clip((fx[other] - hx) * d / max(self.reach, 1e-3), -1.0, 1.0)
            else:
                sig = (fy[other] - fy[f]) / hmax
            psi = 0.45 * sig
            upper, fore = 0.45 * leg, 0.42 * leg
            ex, ey = sx + d * upper * np.sin(psi), sy - upper * np.cos(psi)
            out[f"elbow{f}"] = (ex, ey)
            out[f"hand{f}"] = (ex + d * fore * np.sin(psi + 0.35), ey - fore * np.cos(psi + 0.35))
        return out


@dataclass
class Door:
    """A door in the wall: a doorway [x, x + width] x [0, height] and a panel that swings on hinges at
    its left edge (``side`` +1) or its right edge (-1), its free edge coming towards the camera as it
    opens, or slides (opening towards -side along a rail). ``open(t)`` is 0 shut (the panel fills the
    doorway exactly) to 1 wide open; each close ends at speed, the panel hitting its frame."""

    index: int
    material: str
    x: float
    width: float
    height: float
    side: float  # +1: hinged on the left (or slides open to the left), closing edge on the right
    slide: bool
    max_angle: float  # swing at open(t) = 1, radians
    opening: Piecewise
    colour: np.ndarray
    frame_colour: np.ndarray
    inside_colour: np.ndarray  # the dark room behind it
    handle_colour: np.ndarray
    glass_colour: np.ndarray | None = None  # a glass door: its pane (``colour`` is the pane's frame)

    def open(self, t: np.ndarray) -> np.ndarray:
        return np.clip(self.opening(t), 0.0, 1.0)

    def angle(self, t: np.ndarray) -> np.ndarray:
        return np.zeros_like(np.asarray(t, dtype=np.float64)) if self.slide else self.max_angle * self.open(t)

    def panel(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The panel's four corners as seen (x [4, ...], y [4, ...]): hinge bottom, free bottom, free top,
        hinge top. Swinging, its free edge comes towards the camera (narrower, taller)."""
        t = np.asarray(t, dtype=np.float64)
        s, w, h = self.side, self.width, self.height
        xh = self.x if s > 0 else self.x + w
        if self.slide:
            dx = -s * self.open(t) * w
            xa, xb = xh + dx, xh + s * w + dx
            z = np.zeros_like(t)
            return np.stack([xa, xb, xb, xa]), np.stack([z, z, z + h, z + h])
        th = self.angle(t)
        xf = xh + s * w * np.cos(th)
        e = 0.22 * w * np.sin(th)
        z = np.zeros_like(t)
        return np.stack([z + xh, xf, xf, z + xh]), np.stack([z, -0.3 * e, h + 0.7 * e, z + h])


@dataclass
class Breakable:
    """A glass bottle (or pane) knocked off a shelf or dropped from above the frame: it falls and
    shatters where it lands at ``t_contact``; from then on only its shards are there, flying out and
    lying where they land."""

    index: int
    pane: bool
    hw: float  # half-width of the body (a pane: of the pane)
    hh: float  # half-height of the body
    neck: float  # neck length (bottles), world units
    xpath: Piecewise  # centre x
    ypath: Piecewise  # height of its bottom
    t_contact: float
    shelf: tuple[float, float, float] | None  # (x from, x to, height) of the board it stood on
    colour: np.ndarray
    alpha: float
    shard_x0: np.ndarray  # [M] where each shard starts (at t_contact)
    shard_y0: np.ndarray
    shard_vx: np.ndarray
    shard_vy: np.ndarray
    shard_land: np.ndarray  # [M] seconds after t_contact it lands (and lies still)
    shard_r: np.ndarray  # [M] radius
    gravity: float

    def present(self, t: np.ndarray) -> np.ndarray:
        """Where the glass is whole (drawn): before the contact."""
        return np.asarray(t) < self.t_contact

    def shards(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centres of the shards' lowest points, x and y [M, *t.shape] (meaningful from t_contact)."""
        t = np.asarray(t, dtype=np.float64)
        tau = np.clip(t[None] - self.t_contact, 0.0, None)
        tau = np.minimum(tau, self.shard_land.reshape((-1,) + (1,) * t.ndim))
        e = (-1,) + (1,) * t.ndim
        x = self.shard_x0.reshape(e) + self.shard_vx.reshape(e) * tau
        y = self.shard_y0.reshape(e) + self.shard_vy.reshape(e) * tau - 0.5 * self.gravity * tau * tau
        return x, np.maximum(y, 0.0)


@dataclass
class Shovel:
    """A shovel thrust into the ground again and again: its blade tip moves along the handle's axis,
    ``depth(t)`` world units from the contact point (x, 0) (< 0: in the ground), and enters the ground
    at each ``contacts`` time, dirt flying up."""

    index: int
    x: float
    lean: float  # the handle's angle from the vertical (+: its top to the right)
    blade_w: float
    blade_h: float
    handle: float  # length, world units
    depth: Piecewise
    contacts: np.ndarray  # [K]
    dirt_x0: np.ndarray  # [K, M]
    dirt_vx: np.ndarray
    dirt_vy: np.ndarray
    dirt_r: np.ndarray  # [M]
    gravity: float
    blade_colour: np.ndarray
    handle_colour: np.ndarray
    dirt_colour: np.ndarray
    surface_colour: np.ndarray
    surface: str = "dirt"

    def axis(self) -> tuple[float, float]:
        """Unit vector from the blade tip up the handle."""
        return math.sin(self.lean), math.cos(self.lean)

    def tip(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.depth(t)
        ax, ay = self.axis()
        return self.x + ax * s, ay * s

    def dirt(self, t: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The clods of thrust k: x, y [M, *t.shape] and whether each is in the air (flying)."""
        t = np.asarray(t, dtype=np.float64)
        e = (-1,) + (1,) * t.ndim
        tau = t[None] - self.contacts[k]
        x = self.dirt_x0[k].reshape(e) + self.dirt_vx[k].reshape(e) * tau
        y = self.dirt_vy[k].reshape(e) * tau - 0.5 * self.gravity * tau * tau
        return x, y, (tau >= 0) & (y >= 0)


@dataclass
class Clash:
    """A blade (or staff) swung about its grip ``pivot`` into another held still across its path: its
    axis at angle ``angle(t)`` (radians, world, counter-clockwise from +x), its tip's outline touching the
    held blade's at ``angle_c``. The held one crosses the swing's path at an angle, ahead of it and
    beyond the tip's reach, so nothing else of the two ever meets. It gives a little at each hit, along
    ``push`` (its normal, away from the blow)."""

    index: int
    material: str
    pivot: tuple[float, float]
    length: float  # pivot to the swung tip, world units
    angle_c: float
    angle: Piecewise
    held_a: tuple[float, float]  # the held blade's axis, grip end to tip, at rest
    held_b: tuple[float, float]
    push: tuple[float, float]
    radius_swung: float
    radius_held: float
    contacts: np.ndarray  # [K]
    jolt: np.ndarray  # [K] how far each hit pushes the held blade, world units
    colour: np.ndarray
    grip_colour: np.ndarray

    def swung(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The swung blade's tip (x, y) at times t."""
        c, s = _rot(self.angle(t))
        return self.pivot[0] + self.length * c, self.pivot[1] + self.length * s

    def give(self, t: np.ndarray) -> np.ndarray:
        """How far the held blade is pushed (along the swung one at contact) at times t."""
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros_like(t)
        for tc, a in zip(self.contacts, self.jolt, strict=True):
            u = np.maximum(t - tc, 0.0) / 0.035
            out += a * u * np.exp(1.0 - u)
        return out

    def held(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        g = self.give(t)
        c, s = self.push
        return (self.held_a[0] + c * g, self.held_a[1] + s * g, self.held_b[0] + c * g, self.held_b[1] + s * g)

    def held_axis(self) -> tuple[float, float]:
        """The held blade's unit axis, grip end to tip (it moves without turning: ``held``)."""
        wx, wy = self.held_b[0] - self.held_a[0], self.held_b[1] - self.held_a[1]
        n = math.hypot(wx, wy)
        return wx / n, wy / n


FoleyActor = Walker | Door | Breakable | Shovel | Clash


@dataclass
class Scene:
    objects: list[SceneObject]  # shapes that sound (impact objects, sliders, rollers)
    strikes: list[Strike]
    events: list[Event]
    floor_level: float
    zoom: float
    wall_top: np.ndarray
    wall_bottom: np.ndarray
    floor_colour: np.ndarray
    column_gain: tuple[float, float]  # left/right brightness of the wall (a soft horizontal gradient)
    light: float  # +1 light from the left, -1 from the right
    lighting: np.ndarray  # [3] gain per channel
    shake: tuple[float, ...]  # amplitude (px at 64), f1, p1, f2, p2, phase offset for y
    sensor_noise: float
    audio_noise: float
    stick_colour: np.ndarray
    names: list[str] = field(default_factory=list)  # material of each source, by Event.obj
    motors: list[Motor] = field(default_factory=list)
    distractors: list[SceneObject] = field(default_factory=list)
    pendulums: list[Pendulum] = field(default_factory=list)
    look: Look = field(default_factory=Look)
    label: str = ""
    foley: list[FoleyActor] = field(default_factory=list)  # walkers, doors, glass, shovels, clashing blades

    def source(self, index: int) -> SceneObject | Motor | FoleyActor:
        for o in self.objects:
            if o.index == index:
                return o
        for m in self.motors:
            if m.index == index:
                return m
        for f in self.foley:
            if f.index == index:
                return f
        raise KeyError(index)


def _first_contact(y: float, v: float, hh: float, g: float) -> float:
    """Time from a state (centre height y, vertical speed v) to touching the floor."""
    return (v + math.sqrt(v * v + 2.0 * g * max(y - hh, 0.0))) / g


def _simulate(obj: SceneObject, t_rel: float, y_rel: float, v_rel: float, e: float, cfg: WorldConfig,
              duration: float) -> list[tuple[float, float]]:
    """Fill the object's trajectory; return its contacts (time, impact speed) above the threshold."""
    g = cfg.gravity
    ts, ys, vs, gs = [-1e9, t_rel], [y_rel, y_rel], [0.0, v_rel], [0.0, g]
    contacts: list[tuple[float, float]] = []
    t, y, v = t_rel, y_rel, v_rel
    while True:
        tau = _first_contact(y, v, obj.hh, g)
        tc, speed = t + tau, g * tau - v
        if speed < cfg.min_impact_speed:  # silent micro-bounces: it comes to rest here
            ts.append(tc)
            ys.append(obj.hh)
            vs.append(0.0)
            gs.append(0.0)
            obj.t_rest = tc
            break
        contacts.append((tc, speed))
        t, y, v = tc, obj.hh, e * speed
        ts.append(t)
        ys.append(y)
        vs.append(v)
        gs.append(g)
        if tc > duration + 1.0:
            obj.t_rest = math.inf
            break
    obj.ytrack = Track(np.asarray(ts), np.asarray(ys), np.asarray(vs), np.asarray(gs))
    return contacts


def _appearance(material: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float,
                                                                   tuple[float, float, float]]:
    """Colour, accent, alpha and wood stripes of an object of ``material`` (the first world's draws)."""
    spec = synth.SPECS[material]
    mix = rng.uniform(0.0, 1.0) if material == "rubber" else rng.uniform(0.0, 1.0, 3) * 0.5 + 0.25
    colour = np.asarray(spec.colour_lo) + (np.asarray(spec.colour_hi) - np.asarray(spec.colour_lo)) * mix
    colour = colour * rng.uniform(0.92, 1.08)
    accent = hsv(rng.uniform(0.5, 0.72), rng.uniform(0.5, 0.8), rng.uniform(0.4, 0.7))
    alpha = rng.uniform(0.35, 0.5) if material == "glass" else 1.0
    stripe = (rng.uniform(0.045, 0.07), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
    return colour, accent, alpha, stripe


class _Builder:
    """Collects a scene's sources as they are sampled."""

    def __init__(self, cfg: WorldConfig, duration: float, view_w: float, top: float, hrng: np.random.Generator):
        self.cfg, self.duration, self.view_w, self.top, self.hrng = cfg, duration, view_w, top, hrng
        self.objects: list[SceneObject] = []
        self.strikes: list[Strike] = []
        self.motors: list[Motor] = []
        self.events: list[Event] = []
        self.names: list[str] = []
        self.foley: list[FoleyActor] = []

    def mark(self) -> tuple[int, ...]:
        return (len(self.objects), len(self.strikes), len(self.motors), len(self.events), len(self.names),
                len(self.foley))

    def undo(self, m: tuple[int, ...]) -> None:
        del self.objects[m[0]:], self.strikes[m[1]:], self.motors[m[2]:], self.events[m[3]:], self.names[m[4]:]
        del self.foley[m[5]:]

    def name(self, material: str) -> int:
        self.names.append(material)
        return len(self.names) - 1

    def striker_look(self, st: Strike) -> Strike:
        """Stick or hand, and how it looks (its own stream: the first world's sticks draw nothing)."""
        cfg, r = self.cfg, self.hrng
        if cfg.hand_probability > 0 and r.random() < cfg.hand_probability:
            st.hand = True
            st.hand_size = r.uniform(*cfg.hand_size)
            st.skin = hsv(r.uniform(0.02, 0.09), r.uniform(0.25, 0.6), r.uniform(0.3, 0.95))
            st.sleeve = hsv(r.uniform(0, 1), r.uniform(0.0, 0.7), r.uniform(0.1, 0.8))
            st.thumb = 1.0 if r.random() < 0.5 else -1.0
        if cfg.stick_width[1] > cfg.stick_width[0]:
            st.width = r.uniform(*cfg.stick_width)
        if cfg.stick_palette > 0 and r.random() < cfg.stick_palette:
            kind = r.integers(3)
            if kind == 0:  # painted
                st.colour = hsv(r.uniform(0, 1), r.uniform(0.5, 0.9), r.uniform(0.4, 0.9))
            elif kind == 1:  # dark wood
                st.colour = hsv(r.uniform(0.04, 0.1), r.uniform(0.4, 0.7), r.uniform(0.2, 0.45))
            else:  # metal rod
                st.colour = np.full(3, r.uniform(0.55, 0.8)) * np.array([0.97, 0.99, 1.03])
        return st


def _impacts(b: _Builder, rng: np.random.Generator, region: tuple[float, float], n_range: tuple[int, int],
             plan: Callable[[int], str | None], exit_rng: np.random.Generator | None) -> None:
    """Objects dropped, bouncing and tapped in ``region``: the first world's scene, drawn as it drew it."""
    cfg, duration = b.cfg, b.duration
    a, right = region
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    lane = (right - a) / n
    first = len(b.objects)
    objects: list[SceneObject] = []
    contacts_all: list[tuple[float, float, int]] = []
    for i in range(n):
        material = str(rng.choice(cfg.materials))
        material = plan(i) or material
        spec = synth.SPECS[material]
        disc = bool(rng.random() < cfg.disc_probability)
        s = rng.uniform(*cfg.size)
        aspect = 1.0 if disc else rng.uniform(*cfg.box_aspect)
        hw, hh = s * math.sqrt(aspect), s / math.sqrt(aspect)
        hw = min(hw, 0.5 * lane - 0.03)
        colour, accent, alpha, stripe = _appearance(material, rng)
        modes = synth.object_modes(material, math.sqrt(hw * hh), rng)
        obj = SceneObject(material, disc, hw, hh, colour, accent, alpha, stripe, modes)
        lo, hi = a + i * lane + hw + 0.02, a + (i + 1) * lane - hw - 0.02
        obj.x0 = rng.uniform(lo, hi)
        obj.x1 = float(np.clip(obj.x0 + rng.uniform(-cfg.drift, cfg.drift), lo, hi))
        e = min(0.9, rng.uniform(*spec.restitution) * rng.uniform(*cfg.restitution_scale))
        resting = rng.random() < cfg.resting_probability
        t_rel = rng.uniform(*cfg.release_time) * duration
        y_rel = rng.uniform(*cfg.drop_height) + hh
        v_rel = rng.uniform(*cfg.initial_vy)
        shift = rng.uniform(0.05, 0.35)
        if resting:
            t_rel, y_rel, v_rel = -1e8, hh, 0.0
        else:
            tc = t_rel + _first_contact(y_rel, v_rel, hh, cfg.gravity)
            if tc < 0.05:  # no contact before the clip starts: its sound would be missing
                t_rel += shift - tc
            if t_rel > 0.0:  # held before release: keep it out of sight above the frame
                y_rel = max(y_rel, b.top + hh + 0.05)
                v_rel = min(v_rel, 0.0)
        contacts = _simulate(obj, t_rel, y_rel, v_rel, e, cfg, duration)
        if resting:
            obj.t_rest = -math.inf
        obj.t_move = (t_rel, min(obj.t_rest, duration + 1.0))
        if resting:
            obj.x1 = obj.x0
        elif (exit_rng is not None and cfg.exit_probability > 0 and contacts
              and exit_rng.random() < cfg.exit_probability):
            # its first bounce sends it sideways out of the frame; its later bounces are heard, not seen
            side = -1.0 if obj.x0 < 0.5 * b.view_w else 1.0
            t_c = contacts[0][0]
            until = min(obj.t_rest, duration + 1.0)
            obj.xtrack = Track.moves(obj.x0, t_c, [(max(until - t_c, 1e-3), exit_rng.uniform(0.4, 1.0), 0.0)], side)
        obj.index = b.name(material)
        contacts_all += [(t, sp, i) for t, sp in contacts]
        objects.append(obj)

    # the striker taps resting objects, one tap at a time
    strikes: list[Strike] = []
    silent = not any(0.0 <= t < duration for t, _, _ in contacts_all)
    if rng.random() < cfg.striker_probability or silent:
        want = int(rng.integers(cfg.strikes[0], cfg.strikes[1] + 1))
        windows: list[tuple[float, float]] = []
        for _ in range(8 * want):
            if len(strikes) == want:
                break
            i = int(rng.integers(n))
            obj = objects[i]
            lo = max(obj.t_rest + 0.1, 0.15)
            hi = duration - 0.1
            speed = rng.uniform(*cfg.striker_speed)
            angle = rng.uniform(0.26, 1.05) * (1 if rng.random() < 0.5 else -1)
            accel = rng.uniform(20.0, 40.0)
            if lo >= hi:
                continue
            t_hit = rng.uniform(lo, hi)
            # time for the tip to travel ~2.5 units (out of view) before and after the tap
            reach = (-speed + math.sqrt(speed * speed + 2 * accel * 2.5)) / accel
            win = (t_hit - reach, t_hit + reach)
            if any(abs(t_hit - t) < cfg.min_gap for t, _, _ in contacts_all):
                continue
            if any(win[0] < b_ and a_ < win[1] for a_, b_ in windows):
                continue
            d = (math.sin(angle), math.cos(angle))
            xc = float(obj.x(np.asarray(t_hit)))
            if not obj.hw <= xc <= b.view_w - obj.hw:  # only what is in view gets tapped
                continue
            if obj.disc:
                tip = (xc + obj.hw * d[0], obj.hh + obj.hh * d[1])
            else:
                tip = (xc + 0.5 * obj.hw * np.sign(d[0]), 2.0 * obj.hh)
            strikes.append(b.striker_look(Strike(first + i, t_hit, speed, d, tip, accel)))
            windows.append(win)
            contacts_all.append((t_hit, speed, i))
    b.objects += objects
    b.strikes += strikes
    b.events += [
        Event(float(t), "impact", objects[i].material, float(min(1.0, sp / synth.MAX_SPEED)), objects[i].index)
        for t, sp, i in sorted(contacts_all)
        if 0.0 <= t < duration - 0.02  # an event in the last frame could not be heard
    ]


def _start_x(r: np.random.Generator, region: tuple[float, float], direction: float, half: float) -> float:
    """Where a mover starts: in its region, nearer the end it moves away from."""
    a, b = region
    room = max(0.0, (b - a) - 2 * half - 0.1)
    back = a + half + 0.05 if direction > 0 else b - half - 0.05
    return back + direction * r.uniform(0.0, 0.45) * room


def _pusher(b: _Builder, r: np.random.Generator, obj_i: int, t: float, contact: tuple[float, float],
            direction: float, speed: float, hold: float) -> None:
    angle = r.uniform(0.35, 1.1)
    d = (-direction * math.sin(angle), math.cos(angle))  # handle up and behind
    st = Strike(obj_i, t, speed, d, contact, r.uniform(10.0, 25.0), hold=hold, motion=(-direction, 0.0),
                follow=hold > 0)
    b.strikes.append(b.striker_look(st))


def _slider(b: _Builder, r: np.random.Generator, region: tuple[float, float], outward: float | None) -> None:
    cfg, duration = b.cfg, b.duration
    material = str(r.choice(cfg.materials))
    s = r.uniform(*cfg.size)
    hh = s * r.uniform(0.6, 0.9)
    hw = min(s * r.uniform(1.1, 1.6), 0.3 * (region[1] - region[0]))
    direction = outward if outward is not None else (1.0 if r.random() < 0.5 else -1.0)
    t_s = r.uniform(0.1, 0.55) * duration
    if r.random() < cfg.push_probability:  # pushed along: breaks away, speeds up, slows to a stop
        peak = r.uniform(*cfg.slide_speed)
        push = r.uniform(*cfg.push_time)
        t1 = 0.3 * push
        pieces = [(t1, 0.6 * peak, 0.4 * peak / t1), (push - t1, peak, -peak / (push - t1))]
        hold = push
    else:  # flicked: slides and slows under friction
        peak = r.uniform(*cfg.slide_speed)
        dec = r.uniform(*cfg.slide_friction)
        pieces = [(peak / dec, peak, -dec)]
        hold = 0.0
    stop = t_s + sum(p[0] for p in pieces)
    x_s = _start_x(r, region, direction, hw)
    colour, accent, alpha, stripe = _appearance(material, r)
    obj = SceneObject(material, False, hw, hh, colour, accent, alpha, stripe, index=b.name(material),
                      ytrack=_rest(hh), xtrack=Track.moves(x_s, t_s, pieces, direction),
                      roughness=r.uniform(*cfg.roughness), grain=r.uniform(0.2, 0.6))
    b.objects.append(obj)
    contact = (x_s - direction * hw, hh * r.uniform(0.5, 1.2))
    speed = peak * r.uniform(1.05, 1.4) if hold == 0 else 0.6 * peak
    _pusher(b, r, len(b.objects) - 1, t_s, contact, direction, speed, hold)
    b.events.append(Event(float(t_s), "scrape", material, float(min(1.0, peak / synth.MAX_SLIDE)), obj.index,
                          float(min(stop, duration))))


def _roller(b: _Builder, r: np.random.Generator, region: tuple[float, float], outward: float | None) -> None:
    cfg, duration = b.cfg, b.duration
    material = str(r.choice(cfg.materials))
    rad = r.uniform(*cfg.roll_size)
    direction = outward if outward is not None else (1.0 if r.random() < 0.5 else -1.0)
    t_s = r.uniform(0.1, 0.55) * duration
    v0 = r.uniform(*cfg.roll_speed)
    dec = r.uniform(*cfg.roll_decel)
    stop = t_s + v0 / dec
    x_s = _start_x(r, region, direction, rad)
    colour, accent, alpha, stripe = _appearance(material, r)
    obj = SceneObject(material, True, rad, rad, colour, accent, max(alpha, 0.8), stripe, index=b.name(material),
                      ytrack=_rest(rad), xtrack=Track.moves(x_s, t_s, [(v0 / dec, v0, -dec)], direction),
                      roll_radius=rad, sectors=int(r.integers(1, 4)), mark=r.uniform(0, 2 * np.pi),
                      thump=r.uniform(0.3, 0.9))
    b.objects.append(obj)
    lift = rad * r.uniform(-0.3, 0.5)  # touches the ball on its back, about mid-height
    contact = (x_s - direction * math.sqrt(rad * rad - lift * lift), rad + lift)
    _pusher(b, r, len(b.objects) - 1, t_s, contact, direction, v0 * r.uniform(1.05, 1.4), 0.0)
    b.events.append(Event(float(t_s), "roll", material, float(min(1.0, v0 / synth.MAX_ROLL)), obj.index,
                          float(min(stop, duration))))


def _motor(b: _Builder, r: np.random.Generator, region: tuple[float, float]) -> None:
    cfg, duration = b.cfg, b.duration
    rad = r.uniform(*cfg.motor_size)
    blades = int(r.integers(cfg.motor_blades[0], cfg.motor_blades[1] + 1))
    rate = min(r.uniform(*cfg.motor_rate), 10.0 / blades)  # blade passes stay visible at 23.976 fps
    wall = bool(r.random() < 0.4)
    a, right = region
    lo, hi = a + rad + 0.05, right - rad - 0.05
    x = r.uniform(lo, hi) if lo < hi else 0.5 * (a + right)
    if wall:
        y = r.uniform(rad + 0.35, max(rad + 0.35, b.top - rad - 0.1))
    else:
        y = rad + r.uniform(0.12, 0.45)
    t_on = r.uniform(*cfg.motor_on) * duration
    t_off = t_on + r.uniform(*cfg.motor_run) * duration
    if t_off >= duration:
        t_off = math.inf
    n_h = 6
    voice = synth.MotorVoice(
        blades=blades, gear=r.uniform(*cfg.motor_gear),
        harmonics=tuple(float(v) for v in r.uniform(0.3, 1.0, n_h) / np.arange(1, n_h + 1) ** r.uniform(0.5, 1.2)),
        phases=tuple(float(v) for v in r.uniform(0, 2 * np.pi, n_h)), hum=r.uniform(0.4, 0.9),
        whoosh=r.uniform(0.5, 1.0), imbalance=r.uniform(0.15, 0.4), mark=r.uniform(0, 2 * np.pi))
    body = hsv(r.uniform(0, 1), r.uniform(0.0, 0.5), r.uniform(0.2, 0.8))
    blade = hsv(r.uniform(0, 1), r.uniform(0.0, 0.6), r.uniform(0.5, 0.95))
    mark = hsv(r.uniform(0, 1), r.uniform(0.7, 1.0), r.uniform(0.6, 1.0))
    if abs(luma(mark) - luma(blade)) < 0.2:
        mark = np.clip(1.15 - blade, 0, 1)
    m = Motor(b.name("metal"), x, y, rad, blades, wall, t_on, t_off, rate, r.uniform(0.08, 0.2),
              r.uniform(0.3, 0.9), 1.0 if r.random() < 0.5 else -1.0, r.uniform(0, 2 * np.pi), blade, mark, body,
              voice)
    b.motors.append(m)
    end = min(m.end, duration)
    b.events.append(Event(float(t_on), "motor", "metal", float(min(1.0, rate / synth.MAX_RATE)), m.index,
                          float(end)))


# ----------------------------------------------------------------------------------------------
# Foley sources (recorded_config): each seen at its contact, in its region
# ----------------------------------------------------------------------------------------------

# Floor looks of the surfaces walked on (and dug): hue, saturation and value ranges.
SURFACE_HUES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "wood": ((0.05, 0.11), (0.4, 0.7), (0.35, 0.62)), "stone": ((0.05, 0.15), (0.0, 0.12), (0.38, 0.6)),
    "gravel": ((0.06, 0.12), (0.05, 0.22), (0.42, 0.62)), "grass": ((0.22, 0.32), (0.5, 0.8), (0.3, 0.55)),
    "snow": ((0.55, 0.62), (0.0, 0.07), (0.88, 0.97)), "sand": ((0.1, 0.13), (0.3, 0.45), (0.7, 0.85)),
    "metal": ((0.55, 0.6), (0.02, 0.1), (0.45, 0.65)), "dirt": ((0.05, 0.09), (0.45, 0.7), (0.2, 0.36)),
}


def _surface_colour(surface: str, r: np.random.Generator) -> np.ndarray:
    (h0, h1), (s0, s1), (v0, v1) = SURFACE_HUES[surface]
    return hsv(r.uniform(h0, h1), r.uniform(s0, s1), r.uniform(v0, v1))


def _cloth(r: np.random.Generator) -> np.ndarray:
    return hsv(r.uniform(0, 1), r.uniform(0.2, 0.8), r.uniform(0.2, 0.85))


def _walker(b: _Builder, r: np.random.Generator, region: tuple[float, float], outward: float | None) -> None:
    cfg, duration = b.cfg, b.duration
    a, right = region
    surface = str(r.choice(cfg.surfaces))
    leg_len = min(r.uniform(*cfg.leg_length), (b.top - 0.08) / 2.35)  # hip to sole; the head stays in view
    ankle = 0.1 * leg_len
    leg = leg_len - ankle  # hip to ankle, straight
    period = r.uniform(*cfg.step_period)
    half = 0.5 * period
    support = r.uniform(0.08, 0.14) * period  # both feet down after each landing
    direction = outward if outward is not None else (1.0 if r.random() < 0.5 else -1.0)
    margin = 0.08 + 0.35 * leg_len
    room = max(0.0, (right - a) - 2 * margin)
    in_place = r.random() < cfg.in_place_probability
    speed = 0.0 if in_place else min(r.uniform(*cfg.walk_speed), room / duration, 0.7 * leg / (half + support))
    reach = 0.5 * speed * (half + support)  # the heel lands reach ahead of the hip and lifts reach behind
    travel = speed * duration
    lo, hi = a + margin + (travel if direction < 0 else 0.0), right - margin - (travel if direction > 0 else 0.0)
    x0 = r.uniform(lo, hi) if lo < hi else 0.5 * (a + right) - direction * 0.5 * travel
    scale = leg_len / 0.4
    lift_range = (cfg.step_lift[0] * scale, cfg.step_lift[1] * scale)
    hip = ankle + math.sqrt(max((0.97 * leg) ** 2 - reach**2, (0.8 * leg) ** 2))
    bob = min(0.3, max(0.0, 0.995 * leg - (hip - ankle)) / max(lift_range[1], 1e-6))
    # steps from well before the clip to well after it, alternating feet, each a little early or late
    phase = r.uniform(0.0, half)
    k0 = -int(math.ceil((period + 1.0) / half)) - 1
    k1 = int(math.ceil((duration + period + 1.0) / half)) + 1
    ks = np.arange(k0, k1 + 1)
    land = phase + ks * half + r.uniform(-0.04, 0.04, ks.size) * period
    lift = np.empty_like(land)
    lift[1:] = land[:-1] + support * r.uniform(0.8, 1.2, ks.size - 1)
    lift[0] = land[0] - (half - support)
    lift = np.minimum(lift, land - 0.5 * (half - support))  # every swing lasts a while
    first = int(r.integers(2))
    foot = (np.arange(ks.size) + first) % 2
    wobble = np.where(foot == 0, 1.0, -1.0) * (0.02 * leg_len if in_place else 0.0)
    land_x = x0 + direction * (speed * land + reach + wobble)
    lift_h = r.uniform(*lift_range, ks.size)
    skin = hsv(r.uniform(0.02, 0.09), r.uniform(0.25, 0.6), r.uniform(0.3, 0.95))
    shirt, trousers = _cloth(r), _cloth(r) * 0.8
    shoes = hsv(r.uniform(0, 1), r.uniform(0.0, 0.5), r.uniform(0.05, 0.3))
    w = Walker(b.name(surface), surface, _surface_colour(surface, r), float(x0), direction, float(speed),
               float(reach), float(hip), float(bob), 0.5 * leg, 0.5 * leg, ankle, 0.32 * leg_len, 0.8 * leg_len,
               0.2 * leg_len, 0.075 * leg_len, land, lift, land_x, lift_h, foot, shirt, trousers, skin, shoes)
    b.foley.append(w)
    down = 4.0 * lift_h / (land - lift)  # the sole's speed as it lands
    b.events += [Event(float(t), "step", surface, float(min(1.0, v / synth.MAX_STEP)), w.index)
                 for t, v in zip(land, down, strict=True) if 0.0 <= t < duration - 0.02]


def _door(b: _Builder, r: np.random.Generator, region: tuple[float, float]) -> None:
    cfg, duration = b.cfg, b.duration
    a, right = region
    material = str(r.choice(cfg.door_materials))
    height = min(r.uniform(0.85, 1.15), b.top - 0.12)
    slide = bool(r.random() < cfg.door_slide_probability)
    width = min(r.uniform(0.36, 0.55), 0.55 * height, ((right - a) - 0.1) / (2.0 if slide else 1.0))
    side = 1.0 if r.random() < 0.5 else -1.0
    # the doorway (and, sliding, the panel pushed aside) inside the region
    lo, hi = a + 0.05 + (width if slide and side > 0 else 0.0), right - 0.05 - width - (width if slide and side < 0 else 0.0)
    x = r.uniform(lo, hi) if lo < hi else 0.5 * (a + right - width)
    max_angle = r.uniform(1.2, 1.4)
    travel = width * (1.0 if slide else max_angle)  # how far the closing edge moves, per unit of open(t)
    n = int(r.integers(cfg.door_closes[0], cfg.door_closes[1] + 1))

    def closing(amount: float) -> tuple[float, float]:  # its duration and the edge's speed as it shuts
        dur = max(0.2, 2.0 * amount * travel / r.uniform(*cfg.door_speed))  # open = amount (1 - u^2)
        return dur, 2.0 * amount * travel / dur

    amount = r.uniform(0.5, 1.0)
    dur, speed = closing(amount)
    t_close = r.uniform(0.12, 0.5) * duration
    pieces = _Pieces(t_close - dur, amount)  # open at first, or already swinging shut
    events: list[Event] = []
    for k in range(n):
        pieces.quad(dur, 0.0, -2.0 * amount / (dur * dur))  # faster and faster, until it hits the frame
        pieces.value = 0.0  # shut, exactly
        events.append(Event(float(t_close), "door", material, float(min(1.0, speed / synth.MAX_DOOR)), -1))
        if k == n - 1:
            break
        pieces.hold(r.uniform(0.3, 0.8))
        amount = r.uniform(0.5, 1.0)
        pieces.smooth(r.uniform(0.5, 1.0), amount)  # opened again (silently)
        pieces.hold(r.uniform(0.15, 0.5))
        dur, speed = closing(amount)
        t_close = pieces.t + dur
        if t_close >= duration - 0.05:  # it would shut after the clip: it stays open
            break
    if material == "wood":
        colour = hsv(r.uniform(0.05, 0.1), r.uniform(0.4, 0.75), r.uniform(0.3, 0.65))
    elif material == "metal":
        colour = hsv(r.uniform(0, 1), r.uniform(0.0, 0.35), r.uniform(0.45, 0.8))
    else:  # a glass pane in a light (aluminium) or dark frame
        colour = hsv(r.uniform(0.55, 0.6), r.uniform(0.0, 0.1), r.uniform(0.6, 0.85) if r.random() < 0.6
                     else r.uniform(0.12, 0.3))
    glass = np.asarray(synth.SPECS["glass"].colour_hi) * r.uniform(0.85, 1.0) if material == "glass" else None
    frame_colour = hsv(r.uniform(0, 1), r.uniform(0.0, 0.3), r.uniform(0.15, 0.9))
    inside = hsv(r.uniform(0, 1), r.uniform(0.0, 0.3), r.uniform(0.03, 0.14))
    handle = hsv(r.uniform(0.1, 0.15), r.uniform(0.0, 0.6), r.uniform(0.55, 0.9))
    if abs(luma(handle) - luma(colour)) < 0.2:
        handle = np.clip(1.05 - colour, 0.0, 1.0)
    d = Door(b.name(material), material, float(x), float(width), float(height), side, slide, float(max_angle),
             pieces.done(), colour, frame_colour, inside, handle, glass)
    b.foley.append(d)
    b.events += [Event(e.time, e.kind, e.material, e.strength, d.index) for e in events if e.time < duration - 0.02]


def _breakables(b: _Builder, r: np.random.Generator, region: tuple[float, float], outward: float | None) -> None:
    cfg, duration, g = b.cfg, b.duration, b.cfg.gravity
    a, right = region
    n = int(r.integers(cfg.breakables[0], cfg.breakables[1] + 1))
    lane = (right - a) / n
    times: list[float] = []
    for i in range(n):
        pane = bool(r.random() < cfg.pane_probability)
        if pane:
            hw, hh, neck = r.uniform(0.09, 0.15), r.uniform(0.11, 0.18), 0.0
        else:
            hw, hh = r.uniform(0.04, 0.065), r.uniform(0.08, 0.13)
            neck = hh * r.uniform(0.6, 0.9)
        hw = min(hw, 0.4 * lane)
        tall = 2 * hh + neck
        t_c = r.uniform(0.2, 0.85) * duration
        for _ in range(10):  # apart from the others
            if all(abs(t_c - u) >= max(cfg.min_gap, 0.15) for u in times):
                break
            t_c = r.uniform(0.2, 0.85) * duration
        else:
            continue
        x_c = r.uniform(a + i * lane + hw + 0.03, a + (i + 1) * lane - hw - 0.03) if lane > 2 * hw + 0.06 \
            else a + (i + 0.5) * lane
        shelf = None
        if not pane and r.random() < cfg.shelf_probability:  # pushed along a shelf and off its edge
            y_s = r.uniform(0.35, max(0.36, min(0.9, b.top - tall - 0.1)))
            t_f = math.sqrt(2 * y_s / g)
            vx = r.uniform(0.3, 0.8)
            direction = outward if outward is not None else (1.0 if x_c > 0.5 * (a + right) else -1.0)
            edge = x_c - direction * vx * t_f
            slide_len = r.uniform(0.1, 0.3)
            t_edge = t_c - t_f
            t_go = t_edge - slide_len / vx
            xp = _Pieces(t_go, edge - direction * slide_len)
            xp.quad(slide_len / vx + t_f + 1.0, direction * vx, 0.0)
            yp = _Pieces(t_edge, y_s)
            yp.quad(t_f, 0.0, -g)
            board = r.uniform(0.3, 0.5)
            shelf = (min(edge, edge - direction * board), max(edge, edge - direction * board), y_s)
            speed = g * t_f
        else:  # dropped (or thrown down) from above the frame
            y0 = b.top + r.uniform(0.02, 0.5)
            v0 = -r.uniform(0.0, 1.0)
            t_f = (v0 + math.sqrt(v0 * v0 + 2 * g * y0)) / g
            xp = _Pieces(t_c - t_f, x_c)
            xp.hold(1.0)
            yp = _Pieces(t_c - t_f, y0)
            yp.quad(t_f, v0, -g)
            speed = -v0 + g * t_f
        strength = float(min(1.0, speed / synth.MAX_SPEED))
        m = int(r.integers(cfg.shards[0], cfg.shards[1] + 1))
        sx0 = x_c + r.uniform(-hw, hw, m)  # the shards fly out from where it lands
        sy0 = r.uniform(0.0, 0.03, m)
        svx = r.uniform(-1.0, 1.0, m) * (0.4 + 1.4 * strength)
        svy = r.uniform(0.3, 1.8, m) * (0.4 + 0.8 * strength)
        land = (svy + np.sqrt(svy * svy + 2 * g * sy0)) / g
        radius = r.uniform(0.016, 0.032, m)
        if pane:
            colour, alpha = np.asarray(synth.SPECS["glass"].colour_hi) * r.uniform(0.85, 1.0), r.uniform(0.45, 0.6)
        else:
            tint = int(r.integers(3))
            colour = (hsv(r.uniform(0.28, 0.4), r.uniform(0.5, 0.9), r.uniform(0.3, 0.6)) if tint == 0 else
                      hsv(r.uniform(0.06, 0.1), r.uniform(0.6, 0.9), r.uniform(0.25, 0.5)) if tint == 1 else
                      np.asarray(synth.SPECS["glass"].colour_lo) * r.uniform(0.9, 1.05))
            alpha = r.uniform(0.7, 0.85)
        obj = Breakable(b.name("glass"), pane, hw, hh, neck, xp.done(), yp.done(), float(t_c), shelf, colour,
                        float(alpha), sx0, sy0, svx, svy, land, radius, g)
        b.foley.append(obj)
        times.append(t_c)
        if t_c < duration - 0.02:
            b.events.append(Event(float(t_c), "break", "glass", strength, obj.index))


def _shovel(b: _Builder, r: np.random.Generator, region: tuple[float, float]) -> None:
    cfg, duration, g = b.cfg, b.duration, b.cfg.gravity
    a, right = region
    lean = r.uniform(0.12, 0.45) * (1.0 if r.random() < 0.5 else -1.0)
    blade_w, blade_h = r.uniform(0.1, 0.14), r.uniform(0.13, 0.18)
    x = r.uniform(a + 0.2, right - 0.2) if right - a > 0.4 else 0.5 * (a + right)
    n = int(r.integers(cfg.digs[0], cfg.digs[1] + 1))
    t = r.uniform(0.15, 0.5) * duration
    rest = r.uniform(0.25, 0.5)
    speed = r.uniform(*cfg.dig_speed)
    pieces = _Pieces(t - 2 * rest / speed, rest)
    contacts: list[float] = []
    speeds: list[float] = []
    for k in range(n):
        if k > 0 and t >= duration - 0.05:
            break
        pieces.quad(2 * rest / speed, 0.0, -speed * speed / (2 * rest))  # from rest, faster and faster down
        pieces.value = 0.0  # in at the contact, exactly
        contacts.append(t)
        speeds.append(speed)
        deep = r.uniform(0.06, 0.7 * blade_h)
        pieces.quad(2 * deep / speed, -speed, speed * speed / (2 * deep))  # stopped by the ground
        pieces.value = -deep
        pieces.hold(r.uniform(0.08, 0.2))
        rest = r.uniform(0.25, 0.5)
        pieces.smooth(r.uniform(0.3, 0.6), rest)  # pulled out and lifted
        pieces.hold(r.uniform(0.1, 0.45))
        nxt = r.uniform(*cfg.dig_speed)
        t = pieces.t + 2 * rest / nxt
        speed = nxt
    m = int(r.integers(10, 18))
    kk = len(contacts)
    side = np.where(r.random((kk, m)) < 0.7, -np.sign(lean), np.sign(lean))  # mostly thrown away from the handle
    st = np.minimum(1.0, np.asarray(speeds) / synth.MAX_DIG)[:, None]
    dirt_x0 = x + r.uniform(-0.45, 0.45, (kk, m)) * blade_w
    dirt_vx = side * r.uniform(0.1, 0.8, (kk, m)) * (0.4 + 0.8 * st)
    dirt_vy = r.uniform(0.5, 1.6, (kk, m)) * (0.4 + 0.8 * st)
    surface_colour = _surface_colour("dirt", r)
    blade = np.full(3, r.uniform(0.45, 0.75)) * np.array([0.97, 0.99, 1.03])
    handle = hsv(r.uniform(0.05, 0.1), r.uniform(0.35, 0.7), r.uniform(0.3, 0.7))
    sh = Shovel(b.name("dirt"), float(x), float(lean), float(blade_w), float(blade_h), b.top + 1.0, pieces.done(),
                np.asarray(contacts), dirt_x0, dirt_vx, dirt_vy, r.uniform(0.014, 0.028, m), g, blade, handle,
                surface_colour * r.uniform(0.75, 0.95), surface_colour)
    b.foley.append(sh)
    b.events += [Event(float(tc), "dig", "dirt", float(min(1.0, v / synth.MAX_DIG)), sh.index)
                 for tc, v in zip(contacts, speeds, strict=True) if 0.0 <= tc < duration - 0.02]


def _clash(b: _Builder, r: np.random.Generator, region: tuple[float, float]) -> None:
    cfg, duration = b.cfg, b.duration
    a, right = region
    mats = cfg.strike_materials
    material = ("wood" if "wood" in mats and (len(mats) == 1 or r.random() < cfg.staff_probability)
                else str(r.choice([m for m in mats if m != "wood"])))
    rs = 0.022 if material == "metal" else 0.03
    rt = rs
    side = 1.0 if r.random() < 0.5 else -1.0  # +1: swung from the left
    length = min(r.uniform(0.45, 0.7), 0.6 * (right - a))
    held_len = min(r.uniform(0.5, 0.75), 0.7 * b.top)
    tilt = r.uniform(-0.3, 0.3)
    angle_c = tilt if side > 0 else math.pi - tilt
    rho = -side  # the swing's sense at contact: coming down from above
    ux, uy = math.cos(angle_c), math.sin(angle_c)
    mx, my = -rho * uy, rho * ux  # where the tip is going at contact
    cross = r.uniform(0.5, 1.1)  # the held blade's angle to that motion's normal (0: square across it)
    wx, wy = math.cos(cross) * mx - math.sin(cross) * ux, math.cos(cross) * my - math.sin(cross) * uy  # to its grip
    nx, ny = math.sin(cross) * mx + math.cos(cross) * ux, math.sin(cross) * my + math.cos(cross) * uy  # its normal
    frac = r.uniform(0.3, 0.6)  # where along the held blade (from its tip) it is hit
    grip = 0.13
    y_lo = 0.06 - (frac * held_len + grip) * wy  # wy < 0: the grip is below
    y_hi = max(y_lo, b.top - 0.05 + (1 - frac) * held_len * wy)
    cy = r.uniform(y_lo, y_hi)
    back_x = (rs + rt) * nx + length * ux  # from the pivot to the point hit
    if side > 0:
        lo, hi = max(a + back_x - 0.08, a + 0.25), right - 0.12
    else:
        lo, hi = a + 0.12, min(right + back_x + 0.08, right - 0.25)  # back_x < 0 here
    cx = r.uniform(lo, hi) if lo < hi else 0.5 * (a + right)
    pivot = (cx - back_x, cy - (rs + rt) * ny - length * uy)
    held_a = (cx + frac * held_len * wx, cy + frac * held_len * wy)
    held_b = (cx - (1 - frac) * held_len * wx, cy - (1 - frac) * held_len * wy)
    n = int(r.integers(cfg.clashes[0], cfg.clashes[1] + 1))
    t = r.uniform(0.15, 0.5) * duration
    raised = r.uniform(0.8, 1.5)
    speed = r.uniform(*cfg.clash_speed)
    omega = speed / length
    pieces = _Pieces(t - 2 * raised / omega, angle_c - rho * raised)
    contacts: list[float] = []
    speeds: list[float] = []
    for k in range(n):
        if k > 0 and t >= duration - 0.05:
            break
        pieces.quad(2 * raised / omega, 0.0, rho * omega * omega / (2 * raised))
        pieces.value = angle_c  # touching, exactly
        contacts.append(t)
        speeds.append(speed)
        back = r.uniform(0.15, 0.4)  # it bounces back off the held blade
        e = r.uniform(0.2, 0.4) * omega
        pieces.quad(2 * back / e, -rho * e, rho * e * e / (2 * back))
        raised = r.uniform(0.8, 1.5)
        pieces.smooth(r.uniform(0.3, 0.6), angle_c - rho * raised)
        pieces.hold(r.uniform(0.05, 0.4))
        speed = r.uniform(*cfg.clash_speed)
        omega = speed / length
        t = pieces.t + 2 * raised / omega
    st = np.minimum(1.0, np.asarray(speeds) / synth.MAX_CLASH)
    if material == "metal":
        colour = np.full(3, r.uniform(0.6, 0.9)) * np.array([0.96, 0.99, 1.04])
        grip_colour = hsv(r.uniform(0, 1), r.uniform(0.2, 0.7), r.uniform(0.1, 0.4))
    else:
        colour = hsv(r.uniform(0.05, 0.1), r.uniform(0.4, 0.75), r.uniform(0.3, 0.65))
        grip_colour = colour * 0.7
    c = Clash(b.name(material), material, pivot, float(length), float(angle_c), pieces.done(), held_a, held_b, (nx, ny),
              rs, rt,
              np.asarray(contacts), 0.015 + 0.035 * st, colour, grip_colour)
    b.foley.append(c)
    b.events += [Event(float(tc), "strike", material, float(min(1.0, v / synth.MAX_CLASH)), c.index)
                 for tc, v in zip(contacts, speeds, strict=True) if 0.0 <= tc < duration - 0.02]


def _foley_lumas(actors: list[FoleyActor]) -> list[float]:
    """Lumas of the Foley actors' opaque parts, for a wall they stand out from."""
    out: list[float] = []
    for f in actors:
        if isinstance(f, Walker):
            out += [luma(f.shirt), luma(f.trousers), luma(f.surface_colour)]
        elif isinstance(f, Door):
            out += [luma(f.frame_colour), luma(f.colour)]
        elif isinstance(f, Breakable):
            out += [luma(f.colour)]
        elif isinstance(f, Shovel):
            out += [luma(f.blade_colour), luma(f.surface_colour)]
        elif isinstance(f, Clash):
            out += [luma(f.colour)]
    return out


def _source(b: _Builder, cls: str, rng: np.random.Generator, srng: np.random.Generator, region: tuple[float, float],
            outward: float | None, main: bool) -> None:
    cfg = b.cfg
    if cls == "scrape":
        _slider(b, srng, region, outward)
    elif cls == "roll":
        _roller(b, srng, region, outward)
    elif cls == "motor":
        _motor(b, srng, region)
    elif cls == "step":
        _walker(b, srng, region, outward)
    elif cls == "door":
        _door(b, srng, region)
    elif cls == "break":
        _breakables(b, srng, region, outward)
    elif cls == "dig":
        _shovel(b, srng, region)
    elif cls == "strike":
        _clash(b, srng, region)
    else:
        same = cfg.same_material  # WorldConfig is frozen: the same value when plan runs
        if same is None:
            plan: Callable[[int], str | None] = lambda i: None  # noqa: E731
        else:
            def plan(i: int) -> str | None:
                if i == 0 or srng.random() < same:
                    return cls
                return str(srng.choice(cfg.materials))
        n_range = cfg.n_objects if main else (1, 1)
        _impacts(b, rng if main else srng, region, n_range, plan, srng)


def _distractors(cfg: WorldConfig, r: np.random.Generator, view_w: float, top: float, duration: float,
                 ) -> tuple[list[SceneObject], list[Pendulum]]:
    drifters: list[SceneObject] = []
    pendulums: list[Pendulum] = []
    if cfg.distractors[1] <= 0 or not cfg.distractor_kinds:
        return drifters, pendulums
    for _ in range(int(r.integers(cfg.distractors[0], cfg.distractors[1] + 1))):
        kind = str(r.choice(cfg.distractor_kinds))
        material = str(r.choice(cfg.materials))
        s = r.uniform(*cfg.size) * r.uniform(0.6, 1.2)
        disc = bool(r.random() < 0.6)
        colour, accent, alpha, stripe = _appearance(material, r)
        if kind == "drifter":  # floats or flies across the back, bobbing, never touching anything
            xc, tc = r.uniform(0, view_w), r.uniform(0, duration)
            vx = r.uniform(0.15, 1.0) * (1 if r.random() < 0.5 else -1)
            yc = r.uniform(s + 0.3, max(s + 0.3, top + 0.1))
            amp = min(r.uniform(0.0, 0.2), yc - s - 0.15)
            f, ph = r.uniform(0.2, 1.5), r.uniform(0, 2 * np.pi)

            def drift(t: np.ndarray, xc=xc, tc=tc, vx=vx, yc=yc, amp=amp, f=f, ph=ph):
                return xc + vx * (t - tc), yc + amp * np.sin(2 * np.pi * f * t + ph)

            o = SceneObject(material, disc, s, s * (1.0 if disc else r.uniform(0.6, 1.4)), colour, accent, alpha,
                            stripe, path=drift, shadow=False)
            drifters.append(o)
        elif kind == "pendulum":  # swings from above the frame; the bob never comes near the floor
            px, py = r.uniform(0.1, 0.9) * view_w, top + r.uniform(0.0, 0.3)
            rad = s * 0.8
            length = r.uniform(0.3, 1.0) * max(0.2, py - rad - 0.25)
            amp, ph = r.uniform(0.15, 0.7), r.uniform(0, 2 * np.pi)
            w = math.sqrt(cfg.gravity / length)

            def swing(t: np.ndarray, px=px, py=py, length=length, amp=amp, w=w, ph=ph):
                phi = amp * np.cos(w * t + ph)
                return px + length * np.sin(phi), py - length * np.cos(phi)

            bob = SceneObject(material, True, rad, rad, colour, accent, 1.0, stripe, path=swing, shadow=False)
            pendulums.append(Pendulum((px, py), length, bob, hsv(0, 0, r.uniform(0.05, 0.4))))
        else:
            raise ValueError(f"unknown distractor kind {kind!r}")
    return drifters, pendulums


def _look(cfg: WorldConfig, r: np.random.Generator, duration: float, floor_level: float, val: float,
          lumas: list[float]) -> Look:
    look = Look(texture_seed=int(r.integers(1 << 31)))
    if cfg.wall_textures and r.random() < cfg.texture_probability:
        look.wall_kind = str(r.choice(cfg.wall_textures))
        (h0, h1), (s0, s1) = WALL_HUES[look.wall_kind]
        best = -1.0
        for _ in range(30):  # a wall that every opaque object stands out from
            cand = hsv(r.uniform(h0, h1), r.uniform(s0, s1), r.uniform(*cfg.background_value))
            contrast = min((abs(luma(cand) - lu) for lu in lumas), default=1.0)
            if contrast > best:
                best, look.wall_colour = contrast, cand
            if best >= cfg.min_contrast:
                break
        assert look.wall_colour is not None  # the first candidate always beats best = -1 (contrast >= 0)
        val = float(np.max(look.wall_colour))
    if cfg.floor_textures and r.random() < cfg.texture_probability:
        look.floor_kind = str(r.choice(cfg.floor_textures))
        (h0, h1), (s0, s1) = FLOOR_HUES[look.floor_kind]
        fval = float(np.clip(val + r.uniform(0.15, 0.35) * (1 if val < 0.5 else -1), 0.08, 0.95))
        look.floor_colour = hsv(r.uniform(h0, h1), r.uniform(s0, s1), fval)
    look.contrast = r.uniform(*cfg.texture_contrast)
    look.scale = r.uniform(*cfg.texture_scale)
    look.horizon = floor_level - r.uniform(0.3, 1.0)
    look.shutter = r.uniform(*cfg.shutter) if cfg.shutter[1] > 0 else 0.0
    if cfg.compression_probability > 0 and r.random() < cfg.compression_probability:
        look.quality = r.uniform(*cfg.compression_quality)
    if cfg.flicker_probability > 0 and r.random() < cfg.flicker_probability:
        k = 3
        look.flicker = (r.uniform(0.01, 0.05, k), r.uniform(1.0, 12.0, k), r.uniform(0, 2 * np.pi, k))
    if cfg.light_change_probability > 0 and r.random() < cfg.light_change_probability:
        look.change = (r.uniform(0.05, 0.9) * duration, r.uniform(0.05, 0.6), r.uniform(0.65, 1.35))
    if cfg.occluder_probability > 0 and cfg.occluder_kinds and r.random() < cfg.occluder_probability:
        kind = str(r.choice(cfg.occluder_kinds))
        if kind == "post":
            colour = hsv(r.uniform(0, 1), r.uniform(0, 0.6), r.uniform(0.1, 0.8))
            occ = Occluder(kind, r.uniform(0.05, 0.95), r.uniform(0.05, 0.12), r.uniform(-0.2, 0.5), colour,
                           int(r.integers(1 << 31)))
        elif kind == "foliage":
            colour = hsv(r.uniform(0.2, 0.38), r.uniform(0.4, 0.85), r.uniform(0.15, 0.6))
            occ = Occluder(kind, r.uniform(0.0, 1.0), r.uniform(0.15, 0.3),
                           r.uniform(0.8, 1.05) if r.random() < 0.7 else r.uniform(-0.05, 0.15), colour,
                           int(r.integers(1 << 31)))
        else:
            raise ValueError(f"unknown occluder kind {kind!r}")
        look.occluder = occ
    return look


_GROUNDS = ("step", "dig")  # Foley classes that set the floor's surface


def validate(cfg: WorldConfig) -> None:
    for m in cfg.materials:
        if m not in synth.SPECS:
            raise ValueError(f"unknown material {m!r} in WorldConfig.materials; expected some of {tuple(synth.SPECS)}")
    if not 1 <= cfg.n_objects[0] <= cfg.n_objects[1]:
        raise ValueError(f"WorldConfig.n_objects must be a range of at least one object, got {cfg.n_objects}")
    if not cfg.classes or any(c not in FOLEY_CLASSES for c in cfg.classes):
        raise ValueError(f"WorldConfig.classes must be some of {FOLEY_CLASSES}, got {cfg.classes}")
    for cls, name, have, allowed in (("step", "surfaces", cfg.surfaces, SURFACES),
                                     ("door", "door_materials", cfg.door_materials, DOOR_MATERIALS),
                                     ("strike", "strike_materials", cfg.strike_materials, STRIKE_MATERIALS)):
        if cls in cfg.classes and (not have or any(m not in allowed for m in have)):
            raise ValueError(f"WorldConfig.{name} must be some of {allowed}, got {have}")
    if not cfg.materials:
        raise ValueError("WorldConfig.materials is empty")
    if all(c in MATERIALS and c not in cfg.materials for c in cfg.classes):
        raise ValueError(f"no class of WorldConfig.classes {cfg.classes} can sound with materials {cfg.materials}")


def sample_scene(seed: int, duration: float, cfg: WorldConfig) -> Scene:
    validate(cfg)
    rng = np.random.default_rng(seed)  # layout, the main impacts and the first world's look, in its order
    srng, hrng, drng, lrng = (np.random.default_rng([seed, k]) for k in (1, 2, 3, 4))
    floor_level = rng.uniform(*cfg.floor_level)
    zoom = rng.uniform(*cfg.zoom)
    view_w = 1.0 / zoom  # visible width in world units (square frames)
    top = floor_level / zoom  # world height of the frame's top edge above the floor
    b = _Builder(cfg, duration, view_w, top, hrng)

    classes = [c for c in cfg.classes if c not in MATERIALS or c in cfg.materials]
    main = str(srng.choice(classes))
    others = [c for c in classes if c != main]
    if main in _GROUNDS:  # one floor surface: a walker and a shovel never share a scene
        others = [c for c in others if c not in _GROUNDS]
    second = str(srng.choice(others)) if others and srng.random() < cfg.secondary_probability else None
    if second is None:
        regions: list[tuple[tuple[float, float], float | None]] = [((0.0, view_w), None)]
    else:
        split = view_w * srng.uniform(0.4, 0.6)
        left, right = ((0.0, split), -1.0), ((split, view_w), 1.0)
        regions = [left, right] if srng.random() < 0.5 else [right, left]
    if not cfg.sources:  # the distractor test: nothing that sounds (world_config.distractor_config)
        second = None
    else:
        _source(b, main, rng, srng, regions[0][0], regions[0][1], True)
    if second is not None:
        before = b.mark()
        main_events = list(b.events)
        _source(b, second, rng, srng, regions[1][0], regions[1][1], False)
        extra = b.events[before[3]:]
        weak = sum(event_weight(e) for e in extra) <= cfg.secondary_ratio * sum(event_weight(e) for e in main_events)
        apart = all(abs(e.time - f.time) >= cfg.min_gap for e in extra for f in main_events)
        if not (extra and weak and apart):
            b.undo(before)

    # look: wall, floor, light, camera (the first world's draws)
    objects = b.objects
    lumas = [luma(o.colour) for o in objects if o.material != "glass"] + _foley_lumas(b.foley)
    best = -1.0
    for _ in range(30):  # a wall that every opaque object stands out from (the best of 30 tries)
        cand = (rng.uniform(0, 1), rng.uniform(*cfg.background_saturation), rng.uniform(*cfg.background_value))
        contrast = min((abs(luma(hsv(*cand)) - lu) for lu in lumas), default=1.0)
        if contrast > best:
            best, (hue, sat, val) = contrast, cand
        if best >= cfg.min_contrast:
            break
    wall = hsv(hue, sat, val)
    grad = rng.uniform(*cfg.gradient) * (1 if rng.random() < 0.5 else -1)
    wall_top, wall_bottom = np.clip(wall * (1 + grad), 0, 1), np.clip(wall * (1 - grad), 0, 1)
    fval = np.clip(val + rng.uniform(0.15, 0.35) * (1 if val < 0.5 else -1), 0.05, 0.95)
    floor_colour = hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.4), fval)
    column_gain = (rng.uniform(*cfg.side_light), rng.uniform(*cfg.side_light))
    light = 1.0 if rng.random() < 0.5 else -1.0
    lighting = rng.uniform(*cfg.lighting) * (1.0 + rng.uniform(-cfg.tint, cfg.tint, 3))
    shake = (rng.uniform(*cfg.camera_shake), rng.uniform(0.3, 2.5), rng.uniform(0, 2 * np.pi),
             rng.uniform(0.3, 2.5), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
    sensor_noise = rng.uniform(*cfg.sensor_noise)
    audio_noise = rng.uniform(*cfg.audio_noise)
    stick_colour = np.array([0.88, 0.84, 0.74]) * rng.uniform(0.9, 1.05)

    look = _look(cfg, lrng, duration, floor_level, float(val), lumas + [luma(m.body_colour) for m in b.motors])
    look.grad = float(grad)
    ground = next((f for f in b.foley if isinstance(f, Walker | Shovel)), None)
    if ground is not None:  # the floor walked on or dug looks like its surface
        look.surface, look.surface_colour, look.floor_kind = ground.surface, ground.surface_colour, None
    if cfg.object_texture[1] > 0:
        for o in objects:
            o.texture, o.texture_amp = int(lrng.integers(1 << 31)), lrng.uniform(*cfg.object_texture)
    drifters, pendulums = _distractors(cfg, drng, view_w, top, duration)
    for o in drifters + [p.bob for p in pendulums]:
        if cfg.object_texture[1] > 0:
            o.texture, o.texture_amp = int(drng.integers(1 << 31)), drng.uniform(*cfg.object_texture)

    events = sorted(b.events, key=lambda e: e.time)
    scene = Scene(objects, b.strikes, events, floor_level, zoom, wall_top, wall_bottom, floor_colour,
                  column_gain, light, lighting, shake, sensor_noise, audio_noise, stick_colour, b.names, b.motors,
                  drifters, pendulums, look)
    scene.foley = list(b.foley)
    scene.label = dominant_class(events)
    return scene
