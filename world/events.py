"""Ground truth of the synthetic Foley world: events, sound classes, and a clip's dominant class.

numpy-free and torch-free: a reader of cached events needs nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MATERIALS: tuple[str, ...] = ("wood", "metal", "glass", "rubber", "ceramic")
KINDS: tuple[str, ...] = ("impact", "scrape", "roll", "motor")
# The sound classes: an impact is classed by the material struck, every other kind by itself.
CLASSES: tuple[str, ...] = MATERIALS + ("scrape", "roll", "motor")


@dataclass(frozen=True)
class Event:
    time: float  # seconds from clip start: the contact, or the start of a continuous sound
    kind: str  # "impact" | "scrape" (sliding) | "roll" | "motor" (on: a rotor spins up)
    material: str  # the sounding object's material (a motor: its housing, "metal")
    strength: float  # 0..1: impact speed, initial/peak sliding or rolling speed, motor rate; loudness follows
    obj: int  # index of the sounding object in Clip.objects
    end: float | None = None  # continuous kinds: when the sound stops (at most the clip's duration); impacts: None


def event_class(event: Event) -> str:
    """The sound class of one event: the material for an impact, else the kind."""
    return event.material if event.kind == "impact" else event.kind


# Audio energy (sum of squares / sample rate, before the master gain) of one impact at strength 1, per
# material, and of one second of each continuous kind at strength 1: measured on the world's synthesis.
_IMPACT_ENERGY = {"wood": 0.0046, "metal": 0.0107, "glass": 0.0044, "rubber": 0.0035, "ceramic": 0.0023}
_KIND_ENERGY = {"scrape": 0.053, "roll": 0.070, "motor": 0.041}


def event_weight(event: Event) -> float:
    """How much an event counts towards its clip's class: its expected audio energy (loudness follows
    strength, so strength squared, times the energy of its kind; continuous sounds per second)."""
    if event.kind == "impact":
        return event.strength**2 * _IMPACT_ENERGY.get(event.material, 0.005)
    span = max(0.0, (event.end if event.end is not None else event.time) - event.time)
    return event.strength**2 * span * _KIND_ENERGY.get(event.kind, 0.05)


def dominant_class(events: Iterable[Event]) -> str:
    """The class whose events weigh most (ties: the first in CLASSES); "" when there are no events."""
    score = dict.fromkeys(CLASSES, 0.0)
    seen = False
    for e in events:
        score[event_class(e)] = score.get(event_class(e), 0.0) + event_weight(e)
        seen = True
    if not seen:
        return ""
    return max(score, key=lambda c: (score[c], -CLASSES.index(c) if c in CLASSES else -len(CLASSES)))
