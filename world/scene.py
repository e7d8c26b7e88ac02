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
from .events import CLASSES, MATERIALS, Event, dominant_class, event_weight
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

    def source(self, index: int) -> SceneObject | Motor:
        for o in self.objects:
            if o.index == index:
                return o
        for m in self.motors:
            if m.index == index:
                return m
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

    def mark(self) -> tuple[int, ...]:
        return len(self.objects), len(self.strikes), len(self.motors), len(self.events), len(self.names)

    def undo(self, m: tuple[int, ...]) -> None:
        del self.objects[m[0]:], self.strikes[m[1]:], self.motors[m[2]:], self.events[m[3]:], self.names[m[4]:]

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


def _source(b: _Builder, cls: str, rng: np.random.Generator, srng: np.random.Generator, region: tuple[float, float],
            outward: float | None, main: bool) -> None:
    cfg = b.cfg
    if cls == "scrape":
        _slider(b, srng, region, outward)
    elif cls == "roll":
        _roller(b, srng, region, outward)
    elif cls == "motor":
        _motor(b, srng, region)
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


def validate(cfg: WorldConfig) -> None:
    for m in cfg.materials:
        if m not in synth.SPECS:
            raise ValueError(f"unknown material {m!r} in WorldConfig.materials; expected some of {tuple(synth.SPECS)}")
    if not 1 <= cfg.n_objects[0] <= cfg.n_objects[1]:
        raise ValueError(f"WorldConfig.n_objects must be a range of at least one object, got {cfg.n_objects}")
    if not cfg.classes or any(c not in CLASSES for c in cfg.classes):
        raise ValueError(f"WorldConfig.classes must be some of {CLASSES}, got {cfg.classes}")
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
    second = str(srng.choice(others)) if others and srng.random() < cfg.secondary_probability else None
    if second is None:
        regions: list[tuple[tuple[float, float], float | None]] = [((0.0, view_w), None)]
    else:
        split = view_w * srng.uniform(0.4, 0.6)
        left, right = ((0.0, split), -1.0), ((split, view_w), 1.0)
        regions = [left, right] if srng.random() < 0.5 else [right, left]
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
    lumas = [luma(o.colour) for o in objects if o.material != "glass"]
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
    scene.label = dominant_class(events)
    return scene
