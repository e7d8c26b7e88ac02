"""A procedural synthetic Foley world: objects that fall, bounce and get struck, seen and heard.

One seed gives one scene, simulated once and both rendered to frames and synthesized to
audio, so that the ground-truth event list is exact for both::

    side view (y up in the world, rows down in the image)

        |        (o)           <- disc of "metal", falling under gravity
        |   /                  <- stick striker coming in at an angle (sometimes)
        |  /      [#]          <- box of "wood" resting on the floor: the stick taps it
        |_______________ floor line (contact = an impact Event; micro-bounces are silent)

Physics is analytic (parabolas between contacts), so contact times are exact floats and
object positions are evaluated at the exact frame times ``k / fps``. Audio is modal
synthesis (exponentially damped sinusoids plus a short contact noise burst) placed at the
exact event times. numpy only: this module never imports torch.

The scene depends only on ``(seed, duration, config)``: the same seed rendered at another
fps, frame size or sample rate shows and sounds the same events.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

MATERIALS: tuple[str, ...] = ("wood", "metal", "glass", "rubber", "ceramic")

# Impact speed (world units / s) that maps to strength 1.
_MAX_SPEED = 6.0
# Reference half-size (world units) at which a material sounds at its nominal pitch.
_REF_SIZE = 0.13


@dataclass(frozen=True)
class Event:
    time: float  # seconds from clip start, the moment of contact
    kind: str  # "impact" for now (later "scrape", "roll", "motor" may be added)
    material: str
    strength: float  # 0..1, impact speed normalised; loudness follows it
    obj: int  # index of the object


@dataclass(frozen=True)
class WorldConfig:
    # --- objects ---
    n_objects: tuple[int, int] = (1, 3)  # inclusive range of objects per scene
    materials: tuple[str, ...] = MATERIALS  # materials an object may be made of
    disc_probability: float = 0.6  # else an axis-aligned box
    size: tuple[float, float] = (0.1, 0.18)  # half-size in world units (frame height ~ 1.6 units)
    box_aspect: tuple[float, float] = (0.7, 1.4)  # box half-width / half-height
    resting_probability: float = 0.2  # an object starts at rest on the floor (only the stick sounds it)
    # --- motion ---
    gravity: float = 10.0  # world units / s^2
    restitution_scale: tuple[float, float] = (0.92, 1.08)  # times the material's restitution
    drop_height: tuple[float, float] = (0.3, 1.6)  # centre height at release, world units
    release_time: tuple[float, float] = (-0.3, 0.5)  # release moment, as a fraction of the duration
    initial_vy: tuple[float, float] = (-1.0, 1.5)  # vertical speed at release (up is +)
    drift: float = 0.25  # max horizontal travel while bouncing, world units
    min_impact_speed: float = 0.6  # slower contacts are silent and the object comes to rest
    # --- striker (a stick that taps resting objects) ---
    striker_probability: float = 0.5  # chance that a scene has a striker at all
    strikes: tuple[int, int] = (1, 3)  # taps per scene when it has one
    striker_speed: tuple[float, float] = (1.5, 5.0)  # tip speed at contact, world units / s
    min_gap: float = 0.12  # a tap is kept at least this far (s) from every other event
    # --- camera and look ---
    floor_level: tuple[float, float] = (0.74, 0.9)  # floor line, fraction of the frame height from the top
    zoom: tuple[float, float] = (0.55, 0.7)  # pixels per world unit / frame height
    background_value: tuple[float, float] = (0.2, 0.9)  # brightness of the wall
    background_saturation: tuple[float, float] = (0.0, 0.45)
    gradient: tuple[float, float] = (0.0, 0.25)  # wall brightness change top to floor
    side_light: tuple[float, float] = (0.9, 1.1)  # brightness gain at the left and right edge
    min_contrast: float = 0.15  # wall luma differs from every opaque object's by at least this
    lighting: tuple[float, float] = (0.8, 1.15)  # global gain
    tint: float = 0.05  # per-channel lighting colour deviation
    camera_shake: tuple[float, float] = (0.0, 0.5)  # shake amplitude, pixels at 64 px
    sensor_noise: tuple[float, float] = (0.0, 0.02)  # gaussian std, in 0..1 pixel units
    # --- sound ---
    detune: float = 0.005  # per-impact random detuning of the modes (relative)
    audio_noise: tuple[float, float] = (0.0, 0.003)  # rms of faint pink background noise
    master_gain: float = 0.5  # before the peak guard (peak is scaled to <= 0.98 only if needed)


@dataclass
class Clip:
    frames: np.ndarray  # uint8 [T, H, W, 3], T = number of frames at fps covering duration
    fps: Fraction
    audio: np.ndarray  # float32 [round(duration * sample_rate)], mono, peak <= 1
    sample_rate: int
    events: list[Event]  # ground truth, sorted by time
    duration: float
    seed: int
    objects: list[str] = field(default_factory=list)  # material of each object, by Event.obj


# ----------------------------------------------------------------------------------------------
# Materials: look and sound
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Material:
    restitution: tuple[float, float]
    colour_lo: tuple[float, float, float]  # base colour is drawn between lo and hi (per channel blend)
    colour_hi: tuple[float, float, float]
    f0: tuple[float, float]  # fundamental at _REF_SIZE, Hz
    ratios: tuple[float, ...]  # mode frequency ratios
    amps: tuple[float, ...]  # mode amplitudes
    tau: tuple[float, float]  # decay time constant of the fundamental, s
    tau_exp: float  # tau_m = tau / ratio_m ** tau_exp
    inharmonic: float  # per-object random spread of the upper mode ratios
    noise_tau: float  # contact noise burst decay, s
    noise_level: float
    noise_lowpass: float  # smoothing kernel length of the burst, s (0 = white)
    gain: float


_SPECS: dict[str, _Material] = {
    # brown with grain stripes; short, low-mid knock
    "wood": _Material((0.45, 0.6), (0.42, 0.24, 0.09), (0.68, 0.46, 0.24), (180.0, 320.0),
                      (1.0, 2.57, 4.9, 7.4), (1.0, 0.55, 0.3, 0.15), (0.05, 0.1), 0.8, 0.01,
                      0.002, 0.5, 0.0004, 1.0),
    # grey with a specular highlight; long inharmonic ring
    "metal": _Material((0.4, 0.55), (0.52, 0.54, 0.58), (0.78, 0.8, 0.84), (450.0, 800.0),
                       (1.0, 2.76, 5.4, 8.93, 13.34), (1.0, 0.8, 0.6, 0.45, 0.3), (0.7, 1.4), 0.35, 0.03,
                       0.0015, 0.8, 0.0, 0.55),
    # pale bluish, semi-transparent with a bright rim; high, bright, medium ring
    "glass": _Material((0.35, 0.5), (0.68, 0.84, 0.86), (0.85, 0.95, 1.0), (1300.0, 2200.0),
                       (1.0, 2.32, 4.25, 6.63), (1.0, 0.7, 0.5, 0.35), (0.25, 0.45), 0.6, 0.01,
                       0.001, 0.7, 0.0, 0.55),
    # black to dark red, matte; dull, very short thud
    "rubber": _Material((0.68, 0.8), (0.06, 0.05, 0.05), (0.45, 0.09, 0.08), (70.0, 130.0),
                        (1.0, 1.59, 2.14), (1.0, 0.35, 0.15), (0.012, 0.025), 1.0, 0.01,
                        0.006, 0.8, 0.0012, 1.3),
    # cream with a coloured band, glossy; mid-high, short ring
    "ceramic": _Material((0.3, 0.45), (0.86, 0.83, 0.72), (0.97, 0.95, 0.9), (800.0, 1200.0),
                         (1.0, 2.09, 3.6, 5.4, 7.6), (1.0, 0.6, 0.45, 0.3, 0.2), (0.08, 0.16), 0.7, 0.02,
                         0.0015, 0.7, 0.0, 0.7),
}


@dataclass(frozen=True)
class _Modes:
    freqs: np.ndarray  # Hz [M]
    taus: np.ndarray  # s [M]
    amps: np.ndarray  # [M], sum 1
    spec: _Material


def _object_modes(material: str, size: float, rng: np.random.Generator) -> _Modes:
    spec = _SPECS[material]
    f0 = rng.uniform(*spec.f0) * (_REF_SIZE / size)
    ratios = np.asarray(spec.ratios, dtype=np.float64)
    spread = rng.uniform(-spec.inharmonic, spec.inharmonic, ratios.shape)
    spread[0] = 0.0
    ratios = ratios * (1.0 + spread)
    tau0 = rng.uniform(*spec.tau)
    taus = tau0 / ratios**spec.tau_exp
    amps = np.asarray(spec.amps, dtype=np.float64) * rng.uniform(0.8, 1.0, ratios.shape)
    return _Modes(f0 * ratios, taus, amps / amps.sum(), spec)


def _add_impact(out: np.ndarray, time: float, strength: float, modes: _Modes, sample_rate: int,
                detune: float, rng: np.random.Generator) -> None:
    """Add one impact's sound to ``out`` in place, starting exactly at ``time`` seconds.

    Sample n holds the sound at t = n / sample_rate - time; samples before ``time`` are untouched.
    """
    n = out.shape[0]
    n0 = max(0, math.ceil(time * sample_rate - 1e-9))
    if n0 >= n:
        return
    spec = modes.spec
    gain = strength * spec.gain
    # harder hits excite the upper modes more
    bright = (0.5 + 0.5 * strength) ** np.arange(len(modes.freqs))
    amps = modes.amps * bright * rng.uniform(0.7, 1.0, modes.amps.shape)
    freqs = modes.freqs * (1.0 + rng.uniform(-detune, detune, modes.freqs.shape))
    keep = freqs < 0.45 * sample_rate  # no mode above the band: no aliasing
    if np.any(keep):
        # sum_m a_m exp(-t/tau_m) sin(2 pi f_m t) = Im(sum_m a_m exp(s_m t)), s_m = -1/tau_m + 2 pi i f_m.
        # With t = (b K + k) / sr + delta (block b, offset k), exp(s t) = exp(s b K / sr) exp(s (k / sr + delta)),
        # so the whole sum is one small real matrix product: [blocks, 2M] @ [2M, K].
        rates = -1.0 / modes.taus[keep] + 2j * np.pi * freqs[keep]  # [M]
        length = min(n - n0, math.ceil(6.9 * float(modes.taus[keep].max()) * sample_rate) + 1)  # to -60 dB
        K = 256
        nb = -(-length // K)
        delta = n0 / sample_rate - time  # in [0, 1/sr): the first sample comes just after the contact
        head = np.exp(np.outer(rates, np.arange(K) / sample_rate + delta))  # [M,K]
        tail = np.exp(np.outer(np.arange(nb) * (K / sample_rate), rates)) * (gain * amps[keep])  # [nb,M]
        tail[np.abs(tail) < 1e-30] = 0.0  # no denormals in the product
        sig = tail.real @ head.imag + tail.imag @ head.real  # [nb,K] = Im(tail * head)
        out[n0:n0 + length] += sig.ravel()[:length]
    # contact noise burst: instant attack at the contact time
    klen = max(1, int(round(spec.noise_lowpass * sample_rate)))
    length = min(n - n0, math.ceil(6.9 * spec.noise_tau * sample_rate) + 1)
    noise = rng.standard_normal(length + klen - 1)
    if klen > 1:
        kernel = np.hanning(klen + 2)[1:-1]
        kernel /= np.sqrt(np.sum(kernel**2))
        noise = np.convolve(noise, kernel, mode="valid")
    t = (n0 + np.arange(length)) / sample_rate - time
    out[n0:n0 + length] += (gain * spec.noise_level * 0.5) * noise[:length] * np.exp(-t / spec.noise_tau)


def impact_sound(material: str, strength: float = 1.0, size: float = _REF_SIZE, sample_rate: int = 16000,
                 duration: float = 1.0, seed: int = 0) -> np.ndarray:
    """One impact of an object of ``material`` and half-size ``size``, at t=0: float64 [duration * sr].

    The same synthesis as :func:`render_clip` uses (before its master gain); handy for tests and
    for training a material classifier on the world's sounds.
    """
    if material not in _SPECS:
        raise ValueError(f"unknown material {material!r}; expected one of {MATERIALS}")
    rng = np.random.default_rng(seed)
    out = np.zeros(round(duration * sample_rate), dtype=np.float64)
    _add_impact(out, 0.0, strength, _object_modes(material, size, rng), sample_rate, 0.005, rng)
    return out


# ----------------------------------------------------------------------------------------------
# Scene: sampling and analytic simulation
# ----------------------------------------------------------------------------------------------


@dataclass
class _Object:
    material: str
    disc: bool
    hw: float  # half-width, world units
    hh: float  # half-height, world units
    colour: np.ndarray  # [3]
    accent: np.ndarray  # [3], second colour (ceramic band)
    alpha: float
    stripe: tuple[float, float, float]  # wood grain: period (fraction of frame), phase, wobble phase
    modes: _Modes
    # trajectory: piecewise parabolas, y(t) = y0 + v0 (t - t0) - g/2 (t - t0)^2 on [t0_i, t0_{i+1})
    seg_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seg_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seg_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seg_g: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x0: float = 0.0
    x1: float = 0.0
    t_move: tuple[float, float] = (0.0, 1.0)  # x goes linearly x0 -> x1 over this interval
    t_rest: float = -math.inf  # from here on the object lies still on the floor

    def y(self, t: np.ndarray) -> np.ndarray:
        """Centre height above the floor at times ``t`` (world units)."""
        i = np.searchsorted(self.seg_t, t, side="right") - 1
        tau = t - self.seg_t[i]
        return self.seg_y[i] + self.seg_v[i] * tau - 0.5 * self.seg_g[i] * tau**2

    def x(self, t: np.ndarray) -> np.ndarray:
        a, b = self.t_move
        frac = np.clip((t - a) / max(b - a, 1e-9), 0.0, 1.0)
        return self.x0 + (self.x1 - self.x0) * frac


@dataclass
class _Strike:
    obj: int
    time: float
    speed: float
    direction: tuple[float, float]  # unit vector from tip to handle, world (x right, y up)
    tip: tuple[float, float]  # tip position at contact, world
    accel: float  # the tip accelerates towards the contact and away after it


@dataclass
class _Scene:
    objects: list[_Object]
    strikes: list[_Strike]
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


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _first_contact(y: float, v: float, hh: float, g: float) -> float:
    """Time from a state (centre height y, vertical speed v) to touching the floor."""
    return (v + math.sqrt(v * v + 2.0 * g * max(y - hh, 0.0))) / g


def _simulate(obj: _Object, t_rel: float, y_rel: float, v_rel: float, e: float, cfg: WorldConfig,
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
            ts.append(tc), ys.append(obj.hh), vs.append(0.0), gs.append(0.0)
            obj.t_rest = tc
            break
        contacts.append((tc, speed))
        t, y, v = tc, obj.hh, e * speed
        ts.append(t), ys.append(y), vs.append(v), gs.append(g)
        if tc > duration + 1.0:
            obj.t_rest = math.inf
            break
    obj.seg_t, obj.seg_y = np.asarray(ts), np.asarray(ys)
    obj.seg_v, obj.seg_g = np.asarray(vs), np.asarray(gs)
    return contacts


def _sample_scene(seed: int, duration: float, cfg: WorldConfig) -> _Scene:
    rng = np.random.default_rng(seed)
    for m in cfg.materials:
        if m not in _SPECS:
            raise ValueError(f"unknown material {m!r} in WorldConfig.materials; expected some of {MATERIALS}")
    if not 1 <= cfg.n_objects[0] <= cfg.n_objects[1]:
        raise ValueError(f"WorldConfig.n_objects must be a range of at least one object, got {cfg.n_objects}")
    floor_level = rng.uniform(*cfg.floor_level)
    zoom = rng.uniform(*cfg.zoom)
    view_w = 1.0 / zoom  # visible width in world units (square frames)
    top = floor_level / zoom  # world height of the frame's top edge above the floor
    n = int(rng.integers(cfg.n_objects[0], cfg.n_objects[1] + 1))
    lane = view_w / n
    objects: list[_Object] = []
    contacts_all: list[tuple[float, float, int]] = []
    for i in range(n):
        material = str(rng.choice(cfg.materials))
        spec = _SPECS[material]
        disc = bool(rng.random() < cfg.disc_probability)
        s = rng.uniform(*cfg.size)
        aspect = 1.0 if disc else rng.uniform(*cfg.box_aspect)
        hw, hh = s * math.sqrt(aspect), s / math.sqrt(aspect)
        hw = min(hw, 0.5 * lane - 0.03)
        mix = rng.uniform(0.0, 1.0) if material == "rubber" else rng.uniform(0.0, 1.0, 3) * 0.5 + 0.25
        colour = np.asarray(spec.colour_lo) + (np.asarray(spec.colour_hi) - np.asarray(spec.colour_lo)) * mix
        colour = colour * rng.uniform(0.92, 1.08)
        accent = _hsv(rng.uniform(0.5, 0.72), rng.uniform(0.5, 0.8), rng.uniform(0.4, 0.7))
        alpha = rng.uniform(0.35, 0.5) if material == "glass" else 1.0
        stripe = (rng.uniform(0.045, 0.07), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
        modes = _object_modes(material, math.sqrt(hw * hh), rng)
        obj = _Object(material, disc, hw, hh, colour, accent, alpha, stripe, modes)
        lo, hi = i * lane + hw + 0.02, (i + 1) * lane - hw - 0.02
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
                y_rel = max(y_rel, top + hh + 0.05)
                v_rel = min(v_rel, 0.0)
        contacts = _simulate(obj, t_rel, y_rel, v_rel, e, cfg, duration)
        if resting:
            obj.t_rest = -math.inf
        obj.t_move = (t_rel, min(obj.t_rest, duration + 1.0))
        if resting:
            obj.x1 = obj.x0
        contacts_all += [(t, sp, i) for t, sp in contacts]
        objects.append(obj)

    # the striker taps resting objects, one tap at a time
    strikes: list[_Strike] = []
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
            if any(win[0] < b and a < win[1] for a, b in windows):
                continue
            d = (math.sin(angle), math.cos(angle))
            xc = float(obj.x(np.asarray(t_hit)))
            if obj.disc:
                tip = (xc + obj.hw * d[0], obj.hh + obj.hh * d[1])
            else:
                tip = (xc + 0.5 * obj.hw * np.sign(d[0]), 2.0 * obj.hh)
            strikes.append(_Strike(i, t_hit, speed, d, tip, accel))
            windows.append(win)
            contacts_all.append((t_hit, speed, i))
    events = [
        Event(float(t), "impact", objects[i].material, float(min(1.0, sp / _MAX_SPEED)), i)
        for t, sp, i in sorted(contacts_all)
        if 0.0 <= t < duration - 0.02  # an event in the last frame could not be heard
    ]

    # look: wall, floor, light, camera
    lumas = [_luma(o.colour) for o in objects if o.material != "glass"]
    best = -1.0
    for _ in range(30):  # a wall that every opaque object stands out from (the best of 30 tries)
        cand = (rng.uniform(0, 1), rng.uniform(*cfg.background_saturation), rng.uniform(*cfg.background_value))
        contrast = min((abs(_luma(_hsv(*cand)) - lu) for lu in lumas), default=1.0)
        if contrast > best:
            best, (hue, sat, val) = contrast, cand
        if best >= cfg.min_contrast:
            break
    wall = _hsv(hue, sat, val)
    grad = rng.uniform(*cfg.gradient) * (1 if rng.random() < 0.5 else -1)
    wall_top, wall_bottom = np.clip(wall * (1 + grad), 0, 1), np.clip(wall * (1 - grad), 0, 1)
    fval = np.clip(val + rng.uniform(0.15, 0.35) * (1 if val < 0.5 else -1), 0.05, 0.95)
    floor_colour = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.4), fval)
    column_gain = (rng.uniform(*cfg.side_light), rng.uniform(*cfg.side_light))
    light = 1.0 if rng.random() < 0.5 else -1.0
    lighting = rng.uniform(*cfg.lighting) * (1.0 + rng.uniform(-cfg.tint, cfg.tint, 3))
    shake = (rng.uniform(*cfg.camera_shake), rng.uniform(0.3, 2.5), rng.uniform(0, 2 * np.pi),
             rng.uniform(0.3, 2.5), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
    sensor_noise = rng.uniform(*cfg.sensor_noise)
    audio_noise = rng.uniform(*cfg.audio_noise)
    stick_colour = np.array([0.88, 0.84, 0.74]) * rng.uniform(0.9, 1.05)
    return _Scene(objects, strikes, events, floor_level, zoom, wall_top, wall_bottom, floor_colour,
                  column_gain, light, lighting, shake, sensor_noise, audio_noise, stick_colour)


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------


def _cov(x: np.ndarray) -> np.ndarray:
    """Analytic coverage of a pixel by an edge at signed distance x (pixels, + inside)."""
    return np.clip(x + 0.5, 0.0, 1.0)


def _object_patch(obj: _Object, cx: np.ndarray, cy: np.ndarray, scale: float, size: int, light: float,
                  P: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Colour [T,P,P,3] and alpha [T,P,P] of the object around pixel centres (cx, cy) [T]; origins [T]."""
    # origins clamped into the frame: the patch still holds every in-frame pixel of the object
    ox = np.clip(np.floor(cx - P / 2).astype(np.int64), 0, size - P)
    oy = np.clip(np.floor(cy - P / 2).astype(np.int64), 0, size - P)
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
    return col, cov, ox, oy


def _composite(canvas: np.ndarray, col: np.ndarray, alpha: np.ndarray, ox: np.ndarray, oy: np.ndarray) -> None:
    """Blend patches [T,Ph,Pw,3] at per-frame origins (pixels, inside the frame) into canvas, in place."""
    seen = np.nonzero(alpha.reshape(alpha.shape[0], -1).max(axis=1) > 0)[0]  # frames it shows in
    if seen.size < alpha.shape[0]:
        alpha, ox, oy = alpha[seen], ox[seen], oy[seen]
        col = col[seen] if col.shape[0] > 1 else col
    else:
        seen = np.arange(alpha.shape[0])
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


def _render(scene: _Scene, times: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    T = times.shape[0]
    scale = scene.zoom * size  # pixels per world unit
    floor_row = scene.floor_level * size  # frame pixel y of the floor line
    amp, f1, p1, f2, p2, py = scene.shake
    amp *= size / 64.0
    shake_x = amp * (0.6 * np.sin(2 * np.pi * f1 * times + p1) + 0.4 * np.sin(2 * np.pi * f2 * times + p2))
    shake_y = amp * (0.6 * np.sin(2 * np.pi * f2 * times + p1 + py) + 0.4 * np.sin(2 * np.pi * f1 * times + py))

    # object patch side, pixels
    patch = [min(size, int(math.ceil(2 * max(o.hw, o.hh) * scale)) + 3) for o in scene.objects]

    # everything is drawn in 0..255 and already lit: one gain per channel
    gain = (255.0 * scene.lighting).astype(np.float32)  # [3]

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

    # soft contact shadows on the floor, darker as the object comes down
    xs = [o.x(times) * scale + shake_x for o in scene.objects]
    ys = [o.y(times) for o in scene.objects]
    for obj, cx, y, P in zip(scene.objects, xs, ys, patch, strict=True):
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

    for obj, cx, y, P in zip(scene.objects, xs, ys, patch, strict=True):
        cy = floor_row - y * scale + shake_y
        col, alpha, ox, oy = _object_patch(obj, cx, cy, scale, size, scene.light, P)
        _composite(frames, col * gain, alpha, ox, oy)

    # the stick, drawn over everything on the frames where it is in view
    width = 0.022 * size
    for st in scene.strikes:
        dt = times - st.time
        s = st.speed * np.abs(dt) * np.where(dt < 0, 1.0, 0.6) + 0.5 * st.accel * dt**2  # tip distance, world
        show = np.nonzero(s < 2.6)[0]  # one run of frames: s is convex in time
        if show.size == 0:
            continue
        f0, f1 = int(show[0]), int(show[-1]) + 1
        dxw, dyw = st.direction
        d = np.array([dxw, -dyw], dtype=np.float32)  # image direction, tip -> handle (up and sideways)
        tip_x = (st.tip[0] + dxw * s[f0:f1]) * scale + shake_x[f0:f1] + d[0] * width / 2  # [n]
        tip_y = floor_row - (st.tip[1] + dyw * s[f0:f1]) * scale + shake_y[f0:f1] + d[1] * width / 2
        top_x = tip_x + d[0] * np.maximum(tip_y, 0.0) / max(-d[1], 1e-3)  # where it leaves the top edge
        c0 = int(np.clip(np.floor(min(tip_x.min(), top_x.min()) - width - 1), 0, size))
        c1 = int(np.clip(np.ceil(max(tip_x.max(), top_x.max()) + width + 1), 0, size))
        r1 = int(np.clip(np.ceil(tip_y.max() + width + 1), 0, size))
        if c0 >= c1 or r1 == 0:
            continue
        px = (np.arange(c0, c1, dtype=np.float32) + 0.5)[None, None, :] - tip_x[:, None, None]  # [n,1,w]
        py_ = (np.arange(r1, dtype=np.float32) + 0.5)[None, :, None] - tip_y[:, None, None]  # [n,h,1]
        along = np.maximum(px * d[0] + py_ * d[1], 0.0)  # [n,h,w] pixels from the tip along the stick
        dist = np.sqrt((px - along * d[0]) ** 2 + (py_ - along * d[1]) ** 2)
        cov = _cov(width / 2 - dist).astype(np.float32)[..., None]
        colour = np.where((along < 0.05 * size)[..., None], scene.stick_colour * 0.35, scene.stick_colour) * gain
        view = frames[f0:f1, :r1, c0:c1]
        view += (colour.astype(np.float32) - view) * cov

    frames += np.float32(0.5)  # rounding, for the cast below
    if scene.sensor_noise > 0:  # gaussian noise: each frame reads a random window of a fixed noise pool
        pool, sigma, m = _noise_pool(), np.float32(255.0 * scene.sensor_noise), frames[0].size
        if m <= pool.size // 2:
            for t, o in enumerate(rng.integers(0, pool.size - m, T)):
                frames[t] += sigma * pool[o:o + m].reshape(frames.shape[1:])
        else:  # frames too large for the pool
            frames += sigma * rng.standard_normal(frames.shape, dtype=np.float32)
    np.clip(frames, 0.0, 255.0, out=frames)
    return frames.astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def frame_count(duration: float, fps: Fraction) -> int:
    """Number of frames at ``fps`` that cover ``duration`` seconds: ceil(duration * fps)."""
    return max(1, math.ceil(float(duration * fps) - 1e-9))


def frame_times(n: int, fps: Fraction) -> np.ndarray:
    """Exact frame times k / fps, float64 [n]."""
    return np.arange(n, dtype=np.float64) * (fps.denominator / fps.numerator)


def render_clip(seed: int, duration: float = 4.0, fps: Fraction = Fraction(25), size: int = 64,
                sample_rate: int = 16000, config: WorldConfig | None = None) -> Clip:
    """Simulate the scene of ``seed`` and render it: frames, audio and the exact event list."""
    if isinstance(fps, float):
        raise TypeError("fps must be a Fraction (e.g. Fraction(30000, 1001)) or an int, not a float")
    fps = Fraction(fps)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    if sample_rate < 1000:
        raise ValueError(f"sample_rate too low: {sample_rate}")
    cfg = config if config is not None else WorldConfig()
    video_rng, audio_rng = np.random.default_rng(seed).spawn(2)  # independent of the scene's stream
    scene = _sample_scene(seed, duration, cfg)

    times = frame_times(frame_count(duration, fps), fps)
    frames = _render(scene, times, size, video_rng)

    n = round(duration * sample_rate)
    audio = np.zeros(n, dtype=np.float64)
    for ev in scene.events:
        _add_impact(audio, ev.time, ev.strength, scene.objects[ev.obj].modes, sample_rate, cfg.detune,
                    audio_rng)
    if scene.audio_noise > 0 and n > 1:
        spec = np.fft.rfft(audio_rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / sample_rate)
        spec[0] = 0.0
        spec[1:] /= np.sqrt(f[1:] / 100.0)  # pink
        noise = np.fft.irfft(spec, n)
        audio += noise * (scene.audio_noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12))
    audio *= cfg.master_gain
    peak = float(np.max(np.abs(audio))) if n else 0.0
    if peak > 0.98:  # never clip: scale the whole clip down
        audio *= 0.98 / peak
    return Clip(frames, fps, audio.astype(np.float32), sample_rate, list(scene.events), float(duration), seed,
                [o.material for o in scene.objects])


_SPLIT_BASE = {"train": 0, "val": 1_000_000_000, "test": 2_000_000_000, "ood": 3_000_000_000}
_SPLIT_SIZE = 1_000_000_000


def split_seeds(split: str, n: int) -> list[int]:
    """The first ``n`` seeds of ``split``: disjoint ranges for "train", "val", "test" and "ood"."""
    if split not in _SPLIT_BASE:
        raise ValueError(f"unknown split {split!r}; expected one of {tuple(_SPLIT_BASE)}")
    if not 0 <= n <= _SPLIT_SIZE:
        raise ValueError(f"n must be in 0..{_SPLIT_SIZE}, got {n}")
    base = _SPLIT_BASE[split]
    return list(range(base, base + n))


def ood_config() -> WorldConfig:
    """The out-of-distribution world: heavier gravity, bouncier, smaller objects, darker rooms, more
    objects and taps, a shakier and noisier camera, noisier audio."""
    return replace(
        WorldConfig(),
        n_objects=(2, 4),
        size=(0.06, 0.09),
        gravity=14.0,
        restitution_scale=(1.08, 1.2),
        drop_height=(1.0, 2.0),
        striker_probability=0.9,
        striker_speed=(3.0, 6.0),
        background_value=(0.15, 0.45),
        background_saturation=(0.4, 0.8),
        camera_shake=(0.5, 1.2),
        sensor_noise=(0.02, 0.04),
        audio_noise=(0.003, 0.008),
        lighting=(0.65, 0.85),
    )
