"""A procedural synthetic Foley world: things that hit, bounce, slide, roll and spin, seen and heard.

One seed gives one scene, simulated once and both rendered to frames and synthesized to audio, so that
the ground-truth event list is exact for both::

    side view (y up in the world, rows down in the image)

        |   (o)      \\|/ ( x )       <- a ball falling; a fan on a stand, blades turning (motor)
        |    /        |   |           <- a stick (or a hand) coming in to tap or push
        |   /  [#]    |  _|_   (%)->  <- a box tapped or pushed along (scrape); a ball rolling away
        |____________________________ floor (contact = an impact Event; micro-bounces are silent)

Sound classes (``CLASSES``): impacts of five materials (modal synthesis, loudness following impact
speed), scraping (friction noise following the sliding speed), rolling (a rumble following the rolling
speed, a thump per revolution) and a motor (hum and blade-pass whoosh following the visible rotation).
Silent distractors (a drifting shape, a swinging pendulum, light flicker and changes), a foreground
occluder, textured walls and floors, object textures, camera shake, motion blur, sensor noise and
compression vary the look; sources may leave the frame and go on sounding as physics says.
``impacts_config()`` is the first, impacts-only world, reproduced exactly; ``WorldConfig()`` the full one;
``recorded_config()`` the Foley world a sound library voices: impacts plus a walker's steps on seven
surfaces, doors shutting, glass breaking, a shovel digging and blades striking (``FOLEY_CLASSES``), each
sounded by a recording of its category (:mod:`foleyflow.world.voicing`) or, without a library, by its
own synthesis.

Physics is analytic, so event times are exact floats and positions are evaluated at the exact frame
times ``k / fps``. Every event's sound starts sample-exactly at ``Event.time``; continuous sounds stop
at ``Event.end``. numpy only: this package never imports torch.

The scene depends only on ``(seed, duration, config)``: the same seed rendered at another fps, frame
size or sample rate shows and sounds the same events.

Two looks draw the scenes: look A (:mod:`foleyflow.world.render`, flat sprites; what every model trains
on) and look B (:mod:`foleyflow.world.look_b`: a perspective camera that pans, zooms and shakes over a
receding floor, shaded and textured solids with cast shadows, silent extra distractors), chosen by
``WorldConfig.look`` (``look_b_config()``) or ``render_clip(look=...)``. A seed's events and audio are
the same in both; look B is for testing only (``look_b_clips``: the "test" split's seeds in look B).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from foleyflow.runtime.timebase import frames_covering

from . import synth
from .events import CLASSES, FOLEY_CLASSES, FOLEY_KINDS, KINDS, MATERIALS, Event, dominant_class, event_class
from .render import render
from .scene import Motor, Scene, SceneObject, sample_scene
from .synth import impact_sound
from .world_config import (
    WorldConfig,
    distractor_config,
    impacts_config,
    impacts_ood_config,
    look_b_config,
    ood_config,
    recorded_config,
)

if TYPE_CHECKING:
    from .voicing import Voicer

__all__ = [
    "CLASSES", "FOLEY_CLASSES", "KINDS", "MATERIALS", "Clip", "Event", "WorldConfig", "clip_label", "distractor_config",
    "event_class",
    "frame_count", "frame_times", "impact_sound", "impacts_config", "impacts_ood_config", "look_b_clips",
    "look_b_config", "ood_config", "recorded_config", "render_clip", "split_seeds",
]
LOOKS: tuple[str, ...] = ("a", "b")  # look A: world.render; look B: world.look_b


@dataclass
class Clip:
    frames: np.ndarray  # uint8 [T, H, W, 3], T = number of frames at fps covering duration
    fps: Fraction
    audio: np.ndarray  # float32 [round(duration * sample_rate)], mono, peak <= 1
    sample_rate: int
    events: list[Event]  # ground truth, sorted by time
    duration: float
    seed: int
    objects: list[str] = field(default_factory=list)  # material of each sounding object, by Event.obj
    sources: dict[int, tuple[str, ...]] = field(default_factory=dict)  # event index -> the library recordings
    # that sounded it (voiced clips only; events not in it were synthesized)


def clip_label(clip: Clip) -> str:
    """The clip's dominant sound class (one of CLASSES): the class whose events weigh most, an event
    weighing its strength times its audible seconds (see ``events.event_weight``)."""
    return dominant_class(clip.events)


def frame_count(duration: float | Fraction, fps: Fraction) -> int:
    """Number of frames at ``fps`` that cover ``duration`` seconds (at least one): ceil(duration * fps),
    by :func:`foleyflow.runtime.timebase.frames_covering` (float noise never adds a frame)."""
    return max(1, frames_covering(duration, fps))


def frame_times(n: int, fps: Fraction) -> np.ndarray:
    """Exact frame times k / fps, float64 [n]."""
    return np.arange(n, dtype=np.float64) * (fps.denominator / fps.numerator)


def _synthesize(scene: Scene, n: int, sample_rate: int, cfg: WorldConfig, audio_rng: np.random.Generator,
                cont_rng: np.random.Generator, voicer: Voicer | None = None,
                sources: dict[int, tuple[str, ...]] | None = None) -> np.ndarray:
    audio = np.zeros(n, dtype=np.float64)
    if voicer is not None:  # recordings for the impacts the library has; its own stream (the rest unchanged)
        voicing = voicer.voice(scene.events, n, np.random.default_rng(audio_rng.integers(2**63)))
        audio += voicing.audio
        if sources is not None:
            sources.update(voicing.sources)
    for ev in scene.events:
        if ev.kind == "impact" and not (voicer is not None and voicer.voices(ev)):
            src = scene.source(ev.obj)
            assert isinstance(src, SceneObject) and src.modes is not None
            synth.add_impact(audio, ev.time, ev.strength, src.modes, sample_rate, cfg.detune, audio_rng)
    for ev in scene.events:
        if ev.kind == "impact":
            continue
        if ev.kind in FOLEY_KINDS:  # steps, doors, breaks, digs, strikes: a recording, else their synthesis
            if voicer is None or not voicer.voices(ev):
                synth.add_event_sound(audio, sample_rate, ev, cont_rng)
            continue
        src = scene.source(ev.obj)
        end = ev.end if ev.end is not None else ev.time
        if ev.kind == "scrape":
            assert isinstance(src, SceneObject) and src.xtrack is not None
            synth.add_scrape(audio, sample_rate, ev.time, end, src.xtrack.speed, src.xtrack, src.material,
                             src.roughness, src.grain, cont_rng)
        elif ev.kind == "roll":
            assert isinstance(src, SceneObject) and src.xtrack is not None
            synth.add_roll(audio, sample_rate, ev.time, end, src.xtrack.speed, src.xtrack, src.roll_radius,
                           src.thump, src.mark - np.pi / 2, cont_rng)
        elif ev.kind == "motor":
            assert isinstance(src, Motor)
            synth.add_motor(audio, sample_rate, ev.time, end, src.rate, src.angle, src.voice, cont_rng)
    if scene.audio_noise > 0 and n > 1:
        audio += synth.pink_noise(n, sample_rate, scene.audio_noise, audio_rng)
    audio *= cfg.master_gain
    peak = float(np.max(np.abs(audio))) if n else 0.0
    if peak > 0.98:  # never clip: scale the whole clip down
        audio *= 0.98 / peak
    return audio


def render_clip(seed: int, duration: float = 4.0, fps: Fraction = Fraction(25), size: int = 64,
                sample_rate: int = 16000, config: WorldConfig | None = None, voicer: Voicer | None = None,
                look: str | None = None, texture_dir: str | Path | None = None) -> Clip:
    """Simulate the scene of ``seed`` and render it: frames, audio and the exact event list. With a
    ``voicer`` (:class:`foleyflow.world.voicing.Voicer`), impacts are sounded by library recordings.

    ``look`` ("a" or "b"; default: ``config.look``) chooses how the frames are drawn; only the frames
    differ. ``texture_dir`` (look B only, optional) is a folder of ``.npy`` or ``.png`` images that look B
    uses for its walls and floors instead of its procedural ones."""
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
    look = cfg.look if look is None else look
    if look not in LOOKS:
        raise ValueError(f"unknown look {look!r}; expected one of {LOOKS}")
    # independent of the scene's streams; the first two are the first world's
    video_rng, audio_rng, cont_rng = np.random.default_rng(seed).spawn(3)
    scene = sample_scene(seed, duration, cfg)

    times = frame_times(frame_count(duration, fps), fps)
    if look == "a":
        frames = render(scene, times, size, video_rng, float(1 / fps))
    else:  # its own choices from their own stream of the seed; the frame stream only for the sensor noise
        from .look_b import render_b

        look_rng = np.random.default_rng([seed, 11])
        frames = render_b(scene, times, size, float(duration), look_rng, video_rng, texture_dir)
    if voicer is not None and voicer.sample_rate != sample_rate:
        raise ValueError(f"the voicer reads its recordings at {voicer.sample_rate} Hz, the clip is {sample_rate} Hz")
    sources: dict[int, tuple[str, ...]] = {}
    audio = _synthesize(scene, round(duration * sample_rate), sample_rate, cfg, audio_rng, cont_rng, voicer, sources)
    return Clip(frames, fps, audio.astype(np.float32), sample_rate, list(scene.events), float(duration), seed,
                list(scene.names), sources)


def look_b_clips(n: int, config: WorldConfig | None = None, split: str = "test", **kwargs: object,
                 ) -> Iterator[Clip]:
    """The first ``n`` seeds of ``split`` (default "test": look B is never trained on) rendered in look B,
    one clip at a time: ``config`` (default: the full world) with ``look="b"``; ``kwargs`` go to
    ``render_clip`` (duration, fps, size, sample_rate, voicer, texture_dir). The same seeds rendered with
    ``config`` in look A hold the same events and audio, so the two looks pair clip for clip."""
    if split == "train":
        raise ValueError("look B is for testing only: it is never rendered for the train split")
    cfg = look_b_config(config)
    for seed in split_seeds(split, n):
        yield render_clip(seed, config=cfg, **kwargs)  # type: ignore[arg-type]


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
