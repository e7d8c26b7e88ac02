"""Ground truth of the synthetic Foley world: events, sound classes, and a clip's dominant class.

numpy-free and torch-free: a reader of cached events needs nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MATERIALS: tuple[str, ...] = ("wood", "metal", "glass", "rubber", "ceramic")
# Foley kinds a recorded sound library has: feet landing, a door shutting, glass shattering, a shovel
# thrust into the ground, blades or staffs clashing. Each is one instant (a contact), seen on screen.
FOLEY_KINDS: tuple[str, ...] = ("step", "door", "break", "dig", "strike")
KINDS: tuple[str, ...] = ("impact", "scrape", "roll", "motor") + FOLEY_KINDS
# The sound classes of the first and the full world (unchanged): an impact is classed by the material
# struck, every other kind by itself.
CLASSES: tuple[str, ...] = MATERIALS + ("scrape", "roll", "motor")
# Every sound class of any world: CLASSES, then the Foley kinds (each a class of its own, whatever its
# material). Only ``recorded_config()`` uses the Foley classes.
FOLEY_CLASSES: tuple[str, ...] = CLASSES + FOLEY_KINDS

# What Event.material holds for each Foley kind: the floor surface walked on, the door's, "glass" for a
# shattering bottle or pane, "dirt" for digging, the clashing blades' (metal) or staffs' (wood).
SURFACES: tuple[str, ...] = ("wood", "stone", "gravel", "grass", "snow", "sand", "metal")
DOOR_MATERIALS: tuple[str, ...] = ("wood", "metal", "glass")
STRIKE_MATERIALS: tuple[str, ...] = ("metal", "wood")
FOLEY_MATERIALS: dict[str, tuple[str, ...]] = {
    "step": SURFACES, "door": DOOR_MATERIALS, "break": ("glass",), "dig": ("dirt",), "strike": STRIKE_MATERIALS,
}


@dataclass(frozen=True)
class Event:
    time: float  # seconds from clip start: the contact, or the start of a continuous sound
    kind: str  # "impact" | "scrape" (sliding) | "roll" | "motor" (on: a rotor spins up) | a Foley kind:
    # "step" (a foot lands) | "door" (it hits its frame, shut) | "break" (glass shatters on the floor) |
    # "dig" (a shovel's blade enters the ground) | "strike" (a swung blade hits another)
    material: str  # the sounding object's material (a motor: its housing, "metal"; a step: the floor's
    # surface; see FOLEY_MATERIALS)
    strength: float  # 0..1: impact speed, initial/peak sliding or rolling speed, motor rate, the foot's
    # downward speed, the door's closing speed, the glass's or the blade's speed at contact; loudness follows
    obj: int  # index of the sounding object in Clip.objects
    end: float | None = None  # continuous kinds: when the sound stops (at most the clip's duration);
    # impacts and Foley kinds: None


def event_class(event: Event) -> str:
    """The sound class of one event: the material for an impact, else the kind."""
    return event.material if event.kind == "impact" else event.kind


# Audio energy (sum of squares / sample rate, before the master gain) of one impact at strength 1, per
# material, of one second of each continuous kind at strength 1, and of one Foley event at strength 1, per
# kind and material (synth.add_event_sound, the mean of 40 draws): measured on the world's synthesis.
_IMPACT_ENERGY = {"wood": 0.0046, "metal": 0.0107, "glass": 0.0044, "rubber": 0.0035, "ceramic": 0.0023}
_KIND_ENERGY = {"scrape": 0.053, "roll": 0.070, "motor": 0.041}
_EVENT_ENERGY: dict[str, dict[str, float]] = {
    "step": {"wood": 0.0032, "stone": 0.0027, "gravel": 0.0025, "grass": 0.0020, "snow": 0.0011, "sand": 0.0020,
             "metal": 0.0036},
    "door": {"wood": 0.0086, "metal": 0.0109, "glass": 0.0081},
    "break": {"glass": 0.0056},
    "dig": {"dirt": 0.0059},
    "strike": {"metal": 0.0156, "wood": 0.0023},
}


def event_weight(event: Event) -> float:
    """How much an event counts towards its clip's class: its expected audio energy (loudness follows
    strength, so strength squared, times the energy of its kind; continuous sounds per second)."""
    if event.kind == "impact":
        return event.strength**2 * _IMPACT_ENERGY.get(event.material, 0.005)
    if event.kind in _EVENT_ENERGY:
        by_material = _EVENT_ENERGY[event.kind]
        mean = sum(by_material.values()) / len(by_material)
        return event.strength**2 * by_material.get(event.material, mean)
    span = max(0.0, (event.end if event.end is not None else event.time) - event.time)
    return event.strength**2 * span * _KIND_ENERGY.get(event.kind, 0.05)


def dominant_class(events: Iterable[Event]) -> str:
    """The class whose events weigh most (ties: the first in FOLEY_CLASSES, which begins with CLASSES);
    "" when there are no events."""
    score = dict.fromkeys(FOLEY_CLASSES, 0.0)
    seen = False
    for e in events:
        score[event_class(e)] = score.get(event_class(e), 0.0) + event_weight(e)
        seen = True
    if not seen:
        return ""
    n = len(FOLEY_CLASSES)
    return max(score, key=lambda c: (score[c], -FOLEY_CLASSES.index(c) if c in FOLEY_CLASSES else -n))
