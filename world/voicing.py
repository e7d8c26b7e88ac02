"""Voicing the world's events with recordings from a sound library, as a Foley artist layers them.

Each impact is sounded by a recording of its category (the material struck -> a UCS CatID, e.g.
wood -> ``WOODImpt``), each Foley event likewise (a step -> ``FEETHmn``, a wooden door -> ``DOORWood``,
a glass break -> ``GLASBrk``, a dig -> ``DIRTImpt``, a blade strike -> ``WEAPSwrd``), drawn from one split of the library (train, val or test: recordings are split
by file, so a test clip is never sounded by a recording heard in training):

- its onset (:func:`foleyflow.library.audio.onset_index`) lands sample-exactly on ``Event.time``;
- one hit per event, as an editor cuts a hit from a library recording: given an onset detector
  (``Voicer(onsets=...)``; export passes the evaluation's, so the truth's transients are the events),
  a recording is cut just before its next transient (a footstep recording's second step, a sword's
  second clash, a debris bounce), with a short fade; without one it plays whole (up to
  ``max_seconds``);
- gain follows the impact speed (``strength``; 0 dB at strength 1, as the synthesis' loudness does);
- a small pitch variation (a resampling by up to ``pitch_cents``) and, for the layer under it, a small
  timing variation: with probability ``layer_p`` a second recording of the same category sits
  ``layer_db`` below, up to ``layer_ms`` later, the way a Foley artist sweetens a hit;
- the scene's room tone is added by the world as before (its pink noise floor).

Continuous kinds (scrape, roll, motor) and categories the library lacks keep the world's synthesis; a
voiced clip says which recording sounded each event (:attr:`Voicing.sources`), so ground truth names
the category *and* the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from foleyflow.library.audio import onset_index, read_mono, resample
from foleyflow.library.index import LibraryIndex, Recording, Split

from .events import Event

log = logging.getLogger(__name__)

# The world's impact materials -> the UCS CatIDs that sound them (the recordings of all of them form
# the material's pool).
IMPACT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "wood": ("WOODImpt",),
    "metal": ("METLImpt",),
    "glass": ("GLASImpt", "GLASBrk"),
    "rubber": ("RUBRImpt", "PLASImpt"),
    "ceramic": ("CERMImpt", "ROCKImpt"),
}
# The Foley kinds (world/events.py FOLEY_KINDS) -> by material ("*": any) the CatIDs that sound them.
KIND_CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "step": {"*": ("FEETHmn",)},  # UCS files footsteps by who walks; the surface is in the FXName
    "door": {"wood": ("DOORWood", "DOORGate"), "metal": ("DOORMetl",), "glass": ("DOORGlas",)},
    "break": {"*": ("GLASBrk",)},
    "dig": {"*": ("DIRTImpt", "DIRTMvmt")},
    "strike": {"metal": ("WEAPSwrd",), "wood": ("WEAPPole", "WEAPBlnt")},
}


def event_categories(kind: str, material: str,
                     impacts: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """The CatIDs whose recordings may sound an event of ``kind`` on ``material`` (none: synthesized)."""
    if kind == "impact":
        return tuple((IMPACT_CATEGORIES if impacts is None else impacts).get(material, ()))
    by_material = KIND_CATEGORIES.get(kind, {})
    return tuple(by_material.get(material, by_material.get("*", ())))


@dataclass(frozen=True)
class VoicingConfig:
    pitch_cents: float = 60.0  # each recording is played up to this much higher or lower
    layer_p: float = 0.35  # the chance of a second, quieter layer under a hit
    layer_db: float = -12.0
    layer_ms: float = 6.0  # the layer starts 0..this much after the hit
    max_seconds: float = 3.0  # of each recording (the tail beyond is faded out)
    hit_gap_s: float = 0.05  # with an onset detector: a transient this long after the onset or later ends the hit
    hit_fade_s: float = 0.008  # the fade that ends a hit, just before its next transient


OnsetDetector = Callable[[np.ndarray, int], np.ndarray]
"""(audio, sample rate) -> onset times (s, ascending): what cuts a recording to one hit."""

@dataclass
class Voicing:
    """One clip voiced: its audio (before the world's master gain) and, per event index, the
    library paths of the recordings that sounded it (empty where the world's synthesis did)."""

    audio: np.ndarray
    sources: dict[int, tuple[str, ...]] = field(default_factory=dict)


class Voicer:
    """Recordings of a library split, read once (mono, at the world's rate) and kept in memory."""

    def __init__(self, index: LibraryIndex, split: Split, sample_rate: int,
                 categories: Mapping[str, Sequence[str]] | None = None,
                 config: VoicingConfig | None = None, onsets: OnsetDetector | None = None) -> None:
        self.index = index
        self.onsets = onsets
        self.split: Split = split
        self.sample_rate = sample_rate
        self.config = config or VoicingConfig()
        self._cache: dict[str, np.ndarray] = {}
        self.impacts = dict(categories) if categories is not None else dict(IMPACT_CATEGORIES)
        self._pools: dict[tuple[str, ...], list[Recording]] = {}

    def pool(self, kind: str, material: str) -> list[Recording]:
        """The recordings of the split that may sound this event (empty: the world synthesizes it)."""
        catids = event_categories(kind, material, self.impacts)
        if catids not in self._pools:
            self._pools[catids] = [r for c in catids for r in self.index.of(c, self.split)]
            if catids and not self._pools[catids]:
                log.info("library %s has no %s recordings of %s: %s %s events are synthesized", self.index.root,
                         self.split, "/".join(catids), material, kind)
        return self._pools[catids]

    def voices(self, event: Event) -> bool:
        """Whether the library sounds ``event`` (else the world's synthesis does)."""
        return bool(self.pool(event.kind, event.material))

    def sound(self, rec: Recording) -> np.ndarray:
        """The recording from its onset on: one hit (cut before its next transient, given an onset
        detector), at most ``max_seconds``, peak 1, with a short fade at its end."""
        if rec.path not in self._cache:
            cfg = self.config
            x = read_mono(self.index.file(rec), self.sample_rate, max_seconds=cfg.max_seconds + 1.0)
            x = x[onset_index(x, self.sample_rate):][: int(cfg.max_seconds * self.sample_rate)]
            fade_s = 0.01
            end = self.hit_end(x)
            if end < len(x):
                x, fade_s = x[:end], cfg.hit_fade_s
            peak = float(np.max(np.abs(x))) if len(x) else 0.0
            x = x / peak if peak > 0 else x  # peak-normalised: the event's strength sets the level
            fade = min(len(x), int(fade_s * self.sample_rate))
            if fade:
                x[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
            self._cache[rec.path] = x.astype(np.float32)
        return self._cache[rec.path]

    def hit_end(self, x: np.ndarray) -> int:
        """Where the first hit of ``x`` (starting at its onset) ends: just before the first transient
        ``hit_gap_s`` or more after the start (``len(x)`` without a detector or a second transient).
        The detector hears ``x`` after 0.1 s of silence, so that the hit's own onset is one too."""
        if self.onsets is None or len(x) == 0:
            return len(x)
        pre = int(0.1 * self.sample_rate)
        times = np.asarray(self.onsets(np.concatenate([np.zeros(pre, np.float32), x]), self.sample_rate)) - 0.1
        later = times[times >= self.config.hit_gap_s]
        if later.size == 0:
            return len(x)
        return max(1, int(later[0] * self.sample_rate) - int(0.002 * self.sample_rate))

    def voice(self, events: Sequence[Event], n: int, rng: np.random.Generator) -> Voicing:
        """The impacts of ``events`` whose material the library has, voiced into ``n`` samples."""
        out = np.zeros(n, dtype=np.float64)
        sources: dict[int, tuple[str, ...]] = {}
        cfg = self.config
        for i, ev in enumerate(events):
            pool = self.pool(ev.kind, ev.material)
            if not pool:
                continue
            main = pool[int(rng.integers(len(pool)))]
            used = [main.path]
            self._add(out, main, ev.time, ev.strength, rng)
            if len(pool) > 1 and rng.random() < cfg.layer_p:
                layer = pool[int(rng.integers(len(pool)))]
                if layer.path != main.path:
                    delay = float(rng.uniform(0.0, cfg.layer_ms / 1000.0))
                    self._add(out, layer, ev.time + delay, ev.strength * 10 ** (cfg.layer_db / 20), rng)
                    used.append(layer.path)
            sources[i] = tuple(used)
        return Voicing(out, sources)

    def _add(self, out: np.ndarray, rec: Recording, time: float, gain: float, rng: np.random.Generator) -> None:
        x = self.sound(rec)
        ratio = 2.0 ** (float(rng.uniform(-1.0, 1.0)) * self.config.pitch_cents / 1200.0)
        if abs(ratio - 1.0) > 1e-6 and len(x) > 1:  # higher pitch = shorter; the onset stays at sample 0
            x = resample(x, max(1, round(len(x) / ratio)))
        start = round(time * self.sample_rate)
        if start >= len(out):
            return
        seg = x[: len(out) - start] if start >= 0 else x[-start:][: len(out)]
        lo = max(start, 0)
        out[lo:lo + len(seg)] += gain * seg
