"""Sound synthesis of the synthetic Foley world (numpy only).

- impacts: modal synthesis, exponentially damped sinusoids per material plus a short contact noise burst;
- scrapes: friction noise in three bands whose level and brightness follow the sliding speed, with a
  grain from the floor's bumps passing under the object;
- rolling: a low rumble whose level follows the rolling speed, with a thump once per revolution;
- motors: a hum whose pitch follows the rotor's rotation rate, a whoosh at each blade pass, an
  imbalance at the rotation rate, and a relay click at switch-on;
- the Foley kinds (:func:`add_event_sound`, the fallback where no recorded library sounds them): a step
  (a low thump and the surface's texture: a knock on wood, a heel-toe click on stone, a clank on metal, a
  crunch of grains on gravel and snow, a swish on grass, a hiss on sand), a door shutting (a thud, the
  door's body and a latch click), glass breaking (a crack, a bright crash and scattered tinkles), a
  shovel digging (a gritty burst of dirt noise over a low thump) and a strike (two blades ringing, or
  two staffs knocking).

Every sound starts exactly at its start time: the first sample touched is ceil(time * sample_rate), so
samples before it are untouched; continuous sounds touch no sample at or after their end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .events import FOLEY_KINDS, MATERIALS, Event

# Impact speed (world units / s) that maps to strength 1.
MAX_SPEED = 6.0
# Sliding and rolling speeds (world units / s) and rotation rate (rotations / s) that map to strength 1.
MAX_SLIDE = 3.2
MAX_ROLL = 2.2
MAX_RATE = 5.0
# Foley kinds' speeds at contact (world units / s) that map to strength 1: a foot's downward speed, a
# door's closing edge, a shovel blade, a swung blade's tip (breaking glass uses MAX_SPEED).
MAX_STEP = 1.6
MAX_DOOR = 4.5
MAX_DIG = 4.5
MAX_CLASH = 10.0
# Reference half-size (world units) at which a material sounds at its nominal pitch.
REF_SIZE = 0.13

@dataclass(frozen=True)
class _Material:
    restitution: tuple[float, float]
    colour_lo: tuple[float, float, float]  # base colour is drawn between lo and hi (per channel blend)
    colour_hi: tuple[float, float, float]
    f0: tuple[float, float]  # fundamental at REF_SIZE, Hz
    ratios: tuple[float, ...]  # mode frequency ratios
    amps: tuple[float, ...]  # mode amplitudes
    tau: tuple[float, float]  # decay time constant of the fundamental, s
    tau_exp: float  # tau_m = tau / ratio_m ** tau_exp
    inharmonic: float  # per-object random spread of the upper mode ratios
    noise_tau: float  # contact noise burst decay, s
    noise_level: float
    noise_lowpass: float  # smoothing kernel length of the burst, s (0 = white)
    gain: float


SPECS: dict[str, _Material] = {
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


def object_modes(material: str, size: float, rng: np.random.Generator) -> _Modes:
    spec = SPECS[material]
    f0 = rng.uniform(*spec.f0) * (REF_SIZE / size)
    ratios = np.asarray(spec.ratios, dtype=np.float64)
    spread = rng.uniform(-spec.inharmonic, spec.inharmonic, ratios.shape)
    spread[0] = 0.0
    ratios = ratios * (1.0 + spread)
    tau0 = rng.uniform(*spec.tau)
    taus = tau0 / ratios**spec.tau_exp
    amps = np.asarray(spec.amps, dtype=np.float64) * rng.uniform(0.8, 1.0, ratios.shape)
    return _Modes(f0 * ratios, taus, amps / amps.sum(), spec)


def add_impact(out: np.ndarray, time: float, strength: float, modes: _Modes, sample_rate: int,
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


def impact_sound(material: str, strength: float = 1.0, size: float = REF_SIZE, sample_rate: int = 16000,
                 duration: float = 1.0, seed: int = 0) -> np.ndarray:
    """One impact of an object of ``material`` and half-size ``size``, at t=0: float64 [duration * sr].

    The same synthesis as :func:`render_clip` uses (before its master gain); handy for tests and
    for training a material classifier on the world's sounds.
    """
    if material not in SPECS:
        raise ValueError(f"unknown material {material!r}; expected one of {MATERIALS}")
    rng = np.random.default_rng(seed)
    out = np.zeros(round(duration * sample_rate), dtype=np.float64)
    add_impact(out, 0.0, strength, object_modes(material, size, rng), sample_rate, 0.005, rng)
    return out



# ----------------------------------------------------------------------------------------------
# Continuous sounds
# ----------------------------------------------------------------------------------------------

# Brightness of friction noise per material of the sliding object.
_SCRAPE_BRIGHT = {"wood": 0.9, "metal": 1.4, "glass": 1.3, "rubber": 0.45, "ceramic": 1.15}
SCRAPE_GAIN = 0.32
ROLL_GAIN = 0.55
MOTOR_GAIN = 0.3


def sample_span(start: float, end: float, n: int, sample_rate: int) -> tuple[int, int]:
    """Samples [n0, n1) of a sound from ``start`` up to (not including) ``end`` seconds, inside [0, n)."""
    n0 = max(0, math.ceil(start * sample_rate - 1e-9))
    n1 = min(n, max(0, math.ceil(end * sample_rate - 1e-9)))
    return n0, n1


def _box(x: np.ndarray, k: int) -> np.ndarray:
    """Moving average of width k: out[j] = mean(x[j:j+k]), length len(x) - k + 1."""
    c = np.concatenate(([0.0], np.cumsum(x)))
    return (c[k:] - c[:-k]) * (1.0 / k)


def add_scrape(out: np.ndarray, sample_rate: int, start: float, end: float,
               speed: Callable[[np.ndarray], np.ndarray], position: Callable[[np.ndarray], np.ndarray],
               material: str, roughness: float, grain: float, rng: np.random.Generator) -> None:
    """Friction noise of an object sliding from ``start`` to ``end`` at ``speed(t)``, in place.

    Three noise bands (below ~500 Hz, ~0.5-2 kHz, above ~2 kHz at 16 kHz); the level follows the speed
    and the upper bands grow faster with it, so the sound brightens as it speeds up. ``roughness`` bumps
    per world unit of travel modulate it by ``grain``."""
    n0, n1 = sample_span(start, end, out.shape[0], sample_rate)
    if n1 <= n0:
        return
    t = np.arange(n0, n1) / sample_rate
    r = np.maximum(speed(t), 0.0) / MAX_SLIDE
    x = position(t)
    k1, k2 = max(3, round(sample_rate / 1000)), max(2, round(sample_rate / 4000))
    length = n1 - n0
    w = rng.standard_normal(length + k1 - 1)
    low = _box(w, k1)  # out[j] covers w[j : j + k1], ending at w[j + k1 - 1]
    mid = _box(w[k1 - k2:], k2)
    white = w[k1 - 1:]
    bands_low = low * math.sqrt(k1)
    bands_mid = (mid - low) / math.sqrt(1.0 / k2 - 1.0 / k1)
    bands_high = (white - mid) / math.sqrt(1.0 - 1.0 / k2)
    bright = _SCRAPE_BRIGHT.get(material, 1.0)
    c_mid = 0.45 + 0.8 * r
    c_high = bright * (0.1 + 0.9 * r * r)
    bumps = 1.0 + grain * np.sin(2 * np.pi * roughness * np.abs(x - x[0]))
    level = SCRAPE_GAIN * r * bumps / math.sqrt(1.0 + 0.45**2 + (0.1 * bright) ** 2)
    out[n0:n1] += level * (bands_low + c_mid * bands_mid + c_high * bands_high)


def add_roll(out: np.ndarray, sample_rate: int, start: float, end: float,
             speed: Callable[[np.ndarray], np.ndarray], position: Callable[[np.ndarray], np.ndarray],
             radius: float, thump: float, phase: float, rng: np.random.Generator) -> None:
    """Rumble of a ball rolling from ``start`` to ``end`` at ``speed(t)``, in place: low-passed noise
    (mostly below ~300 Hz, brighter when faster) whose level follows the speed, with a thump of depth
    ``thump`` once per revolution, when the turned angle (distance / radius, as the frames show it)
    plus ``phase`` is a whole turn."""
    n0, n1 = sample_span(start, end, out.shape[0], sample_rate)
    if n1 <= n0:
        return
    t = np.arange(n0, n1) / sample_rate
    r = np.maximum(speed(t), 0.0) / MAX_ROLL
    angle = (position(t) - position(np.asarray([start]))[0]) / radius
    k1, k2 = max(3, round(sample_rate / 300)), max(2, round(sample_rate / 1200))
    length = n1 - n0
    w = rng.standard_normal(length + 2 * k1 - 2)
    low = _box(_box(w, k1), k1) * math.sqrt(3.0 * k1**3 / (2.0 * k1 * k1 + 1.0))
    mid = _box(w[2 * k1 - 1 - k2:], k2) * math.sqrt(k2)
    pulse = (0.5 + 0.5 * np.cos(angle + phase)) ** 6
    level = ROLL_GAIN * r * (0.55 + thump * pulse)
    out[n0:n1] += level * (low + (0.3 + 0.6 * r) * mid)


@dataclass(frozen=True)
class MotorVoice:
    blades: int
    gear: float  # hum fundamental / rotation rate
    harmonics: tuple[float, ...]  # hum harmonic amplitudes
    phases: tuple[float, ...]
    hum: float  # hum level
    whoosh: float  # blade-pass noise level
    imbalance: float  # depth of the once-per-rotation modulation
    mark: float  # angle of the heavy (marked) blade


def add_motor(out: np.ndarray, sample_rate: int, start: float, end: float,
              rate: Callable[[np.ndarray], np.ndarray], angle: Callable[[np.ndarray], np.ndarray],
              voice: MotorVoice, rng: np.random.Generator) -> None:
    """A motor switched on at ``start`` (a relay click), spinning at ``rate(t)`` rotations / s with rotor
    angle ``angle(t)`` (radians), silent from ``end`` on. The hum's pitch is gear * rate, a noise whoosh
    comes at every blade pass and the marked blade adds a once-per-rotation swell: the sound's envelope
    is periodic at the visible blade-pass and rotation rates."""
    n0, n1 = sample_span(start, end, out.shape[0], sample_rate)
    if n1 <= n0:
        return
    t = np.arange(n0, n1) / sample_rate
    f = np.maximum(rate(t), 0.0)
    th = angle(t)
    level = MOTOR_GAIN * f / MAX_RATE
    # hum: one period in a table, read at phase gear * angle / 2 pi
    table_n = 512
    p = np.arange(table_n + 1) / table_n
    table = np.zeros(table_n + 1)
    for h, (a, ph) in enumerate(zip(voice.harmonics, voice.phases, strict=True), start=1):
        table += a * np.sin(2 * np.pi * h * p + ph)
    table /= max(float(np.sqrt(np.mean(table[:-1] ** 2))), 1e-9)
    cyc = (voice.gear * th / (2 * np.pi)) % 1.0 * table_n
    i = np.minimum(cyc.astype(np.int64), table_n - 1)
    hum = table[i] + (table[i + 1] - table[i]) * (cyc - i)
    k = max(2, round(sample_rate / 2500))
    noise = _box(rng.standard_normal(n1 - n0 + k - 1), k) * math.sqrt(k)
    passes = (0.5 + 0.5 * np.cos(voice.blades * th)) ** 3
    swell = 1.0 + voice.imbalance * np.cos(th - voice.mark)
    sig = level * swell * (voice.hum * hum + voice.whoosh * passes * noise)
    # relay click: a 3 ms burst right at switch-on
    m = min(n1 - n0, max(1, round(0.02 * sample_rate)))
    tc = np.arange(m) / sample_rate + (n0 / sample_rate - start)
    sig[:m] += 0.35 * rng.standard_normal(m) * np.exp(-tc / 0.003)
    out[n0:n1] += sig


def pink_noise(n: int, sample_rate: int, rms: float, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spec[0] = 0.0
    spec[1:] /= np.sqrt(f[1:] / 100.0)  # pink
    noise = np.fft.irfft(spec, n)
    return noise * (rms / max(float(np.sqrt(np.mean(noise**2))), 1e-12))


# ----------------------------------------------------------------------------------------------
# Foley kinds: the synthesized fallback of each (a library's recordings sound them when there is one)
# ----------------------------------------------------------------------------------------------


def _band_noise(m: int, sample_rate: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-rms noise [m] band-limited to about lo..hi Hz (4th-order skirts)."""
    if m <= 0:
        return np.zeros(0)
    size = max(m, 64)
    spec = np.fft.rfft(rng.standard_normal(size))
    f = np.fft.rfftfreq(size, 1.0 / sample_rate)
    hi = min(hi, 0.45 * sample_rate)
    lo = min(lo, 0.5 * hi)
    with np.errstate(divide="ignore"):
        shape = 1.0 / (1.0 + (lo / np.maximum(f, 1e-9)) ** 4) / (1.0 + (f / hi) ** 4)
    x = np.fft.irfft(spec * shape, size)[:m]
    return x / max(float(np.sqrt(np.mean(x * x))), 1e-12)


def _ring(t: np.ndarray, sample_rate: int, freqs: np.ndarray, taus: np.ndarray, amps: np.ndarray,
          phases: np.ndarray) -> np.ndarray:
    """Damped partials: sum_m amps_m exp(-t / taus_m) sin(2 pi freqs_m t + phases_m), those under the band."""
    out = np.zeros_like(t)
    for f, tau, a, ph in zip(freqs, taus, amps, phases, strict=True):
        if f < 0.45 * sample_rate:
            out += a * np.exp(-t / tau) * np.sin(2 * np.pi * f * t + ph)
    return out


def _thump(t: np.ndarray, f0: float, f1: float, tau: float) -> np.ndarray:
    """A low thump: a sine falling from f0 to f1 Hz (in ~tau / 2), decaying with tau; starts at zero."""
    tp = 0.5 * tau
    phase = 2 * np.pi * (f1 * t + (f0 - f1) * tp * (1.0 - np.exp(-t / tp)))
    return np.exp(-t / tau) * np.sin(phase)


def _burst(t: np.ndarray, sample_rate: int, lo: float, hi: float, tau: float, rng: np.random.Generator,
           attack: float = 0.0) -> np.ndarray:
    """Band noise with an instant (or ``attack`` s) rise, decaying with tau."""
    env = np.exp(-t / tau)
    if attack > 0:
        env = env * (1.0 - np.exp(-t / attack))
    return _band_noise(t.shape[0], sample_rate, lo, hi, rng) * env


def _grains(t: np.ndarray, sample_rate: int, count: int, spread: float, lo: float, hi: float, grain: float,
            rng: np.random.Generator, first: float = 1.0) -> np.ndarray:
    """A crunch: ``count`` tiny band-noise grains (``grain`` s long), thinning out over ``spread`` s
    (the first at t = 0, at ``first`` times the loudest of the rest)."""
    m = t.shape[0]
    imp = np.zeros(m)
    at = np.concatenate(([0.0], rng.exponential(spread / 3.0, max(0, count - 1))))
    amp = np.concatenate(([first], rng.uniform(0.3, 1.0, max(0, count - 1)) * np.exp(-at[1:] / spread)))
    idx = np.round(at * sample_rate).astype(np.int64)
    keep = idx < m
    np.add.at(imp, idx[keep], amp[keep] * rng.choice((-1.0, 1.0), int(keep.sum())))
    k = max(2, round(grain * sample_rate))
    kernel = _band_noise(k, sample_rate, lo, hi, rng) * np.exp(-np.arange(k) / (0.3 * k))
    kernel[0] = abs(kernel[0]) + 1.0  # every grain starts on its own sample
    return np.convolve(imp, kernel)[:m]


def _partials(rng: np.random.Generator, f0: float, ratios: tuple[float, ...], tau0: float, tau_exp: float,
              spread: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = np.asarray(ratios) * (1.0 + rng.uniform(-spread, spread, len(ratios)))
    r[0] = 1.0
    amps = rng.uniform(0.6, 1.0, len(ratios)) / np.arange(1, len(ratios) + 1) ** 0.7
    return f0 * r, tau0 / r**tau_exp, amps / amps.sum(), rng.uniform(0, 2 * np.pi, len(ratios))


_FOLEY_LENGTH = {"step": 0.4, "door": 2.5, "break": 1.0, "dig": 0.5, "strike": 3.0}  # s, at most (to ~-30 dB)


def _step(t: np.ndarray, sr: int, surface: str, k: float, rng: np.random.Generator) -> np.ndarray:
    soft = surface in ("grass", "sand", "snow")
    x = (0.35 if soft else 0.55) * _thump(t, rng.uniform(90, 130), rng.uniform(45, 60), rng.uniform(0.025, 0.04))
    if surface == "wood":
        f, tau, a, ph = _partials(rng, rng.uniform(170, 280), (1.0, 2.57, 4.9), rng.uniform(0.03, 0.05), 0.8)
        x += 0.5 * _ring(t, sr, f, tau, a, ph) + 0.15 * _burst(t, sr, 800, 5000, 0.003, rng)
    elif surface == "stone":  # heel, then toe
        toe = rng.uniform(0.03, 0.07)
        click = _burst(t, sr, 1500, 7000, 0.006, rng)
        late = np.zeros_like(click)
        shift = min(len(click), round(toe * sr))
        late[shift:] = click[:len(click) - shift]
        x += 0.3 * click + 0.15 * late
    elif surface == "metal":
        f, tau, a, ph = _partials(rng, rng.uniform(320, 600), (1.0, 2.76, 5.4, 8.93), rng.uniform(0.12, 0.2), 0.4)
        x += 0.35 * _ring(t, sr, f, tau, a, ph) + 0.2 * _burst(t, sr, 2000, 7000, 0.003, rng)
    elif surface == "gravel":
        x += 0.09 * _grains(t, sr, int(rng.integers(28, 46)), rng.uniform(0.08, 0.15), 1200, 6500, 0.002, rng)
    elif surface == "snow":
        x += 0.1 * _grains(t, sr, int(rng.integers(45, 75)), rng.uniform(0.12, 0.2), 600, 3200, 0.003, rng)
    elif surface == "grass":
        x += 0.22 * _burst(t, sr, 900, 5500, rng.uniform(0.05, 0.08), rng, attack=0.008)
        x += 0.04 * _grains(t, sr, int(rng.integers(6, 12)), 0.08, 1500, 6000, 0.002, rng)
    else:  # sand: a soft, low hiss
        x += 0.22 * _burst(t, sr, 300, 2800, rng.uniform(0.04, 0.07), rng, attack=0.004)
    return k * x


def _door(t: np.ndarray, sr: int, material: str, k: float, rng: np.random.Generator) -> np.ndarray:
    x = 0.6 * _thump(t, rng.uniform(80, 110), rng.uniform(40, 55), rng.uniform(0.06, 0.1))
    x += 0.15 * _burst(t, sr, 200, 3000, 0.01, rng)
    if material == "wood":
        f, tau, a, ph = _partials(rng, rng.uniform(120, 220), (1.0, 2.3, 3.9, 5.8), rng.uniform(0.07, 0.12), 0.7)
        x += 0.5 * _ring(t, sr, f, tau, a, ph)
    elif material == "metal":
        f, tau, a, ph = _partials(rng, rng.uniform(180, 350), (1.0, 2.76, 5.4, 8.93, 13.34), rng.uniform(0.4, 0.8),
                                  0.35)
        x += 0.35 * _ring(t, sr, f, tau, a, ph)
    else:  # glass: the pane rattles in its frame
        f, tau, a, ph = _partials(rng, rng.uniform(1100, 1900), (1.0, 2.32, 4.25), rng.uniform(0.12, 0.2), 0.6)
        x += 0.25 * _ring(t, sr, f, tau, a, ph)
        x += 0.05 * _grains(t, sr, int(rng.integers(6, 12)), 0.06, 2000, 7000, 0.002, rng)
    latch = rng.uniform(0.012, 0.035)  # the latch catches just after the door hits its frame
    for i, at in enumerate((latch, latch + rng.uniform(0.006, 0.015))):
        d = np.maximum(t - at, 0.0)
        x += (0.3 if i == 0 else 0.18) * np.where(t >= at, _band_noise(t.shape[0], sr, 2500, 8000, rng), 0.0) * np.exp(
            -d / 0.003)
    return k * x


def _break(t: np.ndarray, sr: int, k: float, rng: np.random.Generator) -> np.ndarray:
    x = 0.4 * _burst(t, sr, 1000, 7500, 0.012, rng)  # the crack
    x += 0.25 * _burst(t, sr, 2200, 7500, rng.uniform(0.08, 0.14), rng)  # the crash
    x += 0.2 * _thump(t, rng.uniform(160, 260), rng.uniform(90, 140), 0.02)
    n_t = int(rng.integers(25, 45))  # shards tinkling as they land and skitter
    at = rng.gamma(1.5, 0.1, n_t)
    for a_t, f, tau, amp in zip(at, rng.uniform(2500, 7500, n_t), rng.uniform(0.005, 0.03, n_t),
                                rng.uniform(0.05, 0.18, n_t) * np.exp(-at / 0.35), strict=True):
        if f < 0.45 * sr:
            d = t - a_t
            x += np.where(d >= 0, amp * np.exp(-np.maximum(d, 0.0) / tau) * np.sin(2 * np.pi * f * d), 0.0)
    return k * x


def _dig(t: np.ndarray, sr: int, k: float, rng: np.random.Generator) -> np.ndarray:
    x = 0.4 * _thump(t, rng.uniform(80, 110), rng.uniform(45, 60), 0.04)
    x += 0.35 * _burst(t, sr, 150, 2500, rng.uniform(0.05, 0.09), rng)  # the blade through soil
    x += 0.07 * _grains(t, sr, int(rng.integers(20, 40)), rng.uniform(0.08, 0.14), 500, 4000, 0.003, rng)  # grit
    f, tau, a, ph = _partials(rng, rng.uniform(1200, 2200), (1.0, 2.7), 0.03, 0.5)
    x += 0.1 * _ring(t, sr, f, tau, a, ph)  # the blade's edge on a stone
    return k * x


def _strike(t: np.ndarray, sr: int, material: str, k: float, rng: np.random.Generator) -> np.ndarray:
    if material == "wood":  # two staffs: a hollow knock
        x = 0.3 * _burst(t, sr, 1000, 5000, 0.005, rng)
        for amp in (0.7, 0.45):
            f, tau, a, ph = _partials(rng, rng.uniform(250, 450), (1.0, 2.4, 4.1), rng.uniform(0.03, 0.05), 0.8)
            x += amp * _ring(t, sr, f, tau, a, ph)
        return k * x
    x = 0.4 * _burst(t, sr, 3000, 8000, 0.003, rng)  # two blades ringing
    for amp in (0.6, 0.4):
        f, tau, a, ph = _partials(rng, rng.uniform(600, 1300), (1.0, 2.76, 5.4, 8.93, 13.34), rng.uniform(0.4, 0.9),
                                  0.5)
        x += amp * _ring(t, sr, f, tau, a * (0.6 + 0.4 * k) ** np.arange(len(a)), ph)
    return k * x


def add_event_sound(out: np.ndarray, sample_rate: int, event: Event, rng: np.random.Generator) -> None:
    """Add the synthesized sound of one Foley event (``FOLEY_KINDS``: step, door, break, dig, strike) to
    ``out`` in place; other kinds are left alone (the world sounds them itself). The sound starts at its
    contact: the first sample touched is ceil(event.time * sample_rate), the first at or after the event,
    and samples before it are untouched. Loudness follows ``event.strength``; the sound's shape follows
    the kind and ``event.material`` (a step's surface, a door's or the struck blades' material)."""
    if event.kind not in FOLEY_KINDS:
        return
    n = out.shape[0]
    n0 = max(0, math.ceil(event.time * sample_rate - 1e-9))
    if n0 >= n:
        return
    m = min(n - n0, math.ceil(_FOLEY_LENGTH[event.kind] * sample_rate))
    t = (n0 + np.arange(m)) / sample_rate - event.time  # >= 0: the first sample just after the contact
    k = float(event.strength)
    if event.kind == "step":
        x = _step(t, sample_rate, event.material, k, rng)
    elif event.kind == "door":
        x = _door(t, sample_rate, event.material, k, rng)
    elif event.kind == "break":
        x = _break(t, sample_rate, k, rng)
    elif event.kind == "dig":
        x = _dig(t, sample_rate, k, rng)
    else:
        x = _strike(t, sample_rate, event.material, k, rng)
    fade = min(m, max(1, round(0.03 * sample_rate)))  # no click where it is cut off
    x[m - fade:] *= np.linspace(1.0, 0.0, fade)
    out[n0:n0 + m] += x


def foley_sound(kind: str, material: str, strength: float = 1.0, sample_rate: int = 16000,
                duration: float = 1.0, seed: int = 0) -> np.ndarray:
    """One Foley event's synthesized sound at t=0, float64 [duration * sr] (as the world sounds it)."""
    out = np.zeros(round(duration * sample_rate), dtype=np.float64)
    add_event_sound(out, sample_rate, Event(0.0, kind, material, strength, 0), np.random.default_rng(seed))
    return out
