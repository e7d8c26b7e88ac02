"""Parameters of the synthetic Foley world: the full default world, the first (impacts-only) world, the
out-of-distribution world, and the recorded-library world (impacts plus the Foley kinds a sound library
has: steps, doors, breaking glass, digging, clashing blades); and look B (``look_b_config``), any of them
drawn another way. Ranges are inclusive (low, high) pairs drawn uniformly per scene."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .events import CLASSES, DOOR_MATERIALS, FOLEY_KINDS, MATERIALS, STRIKE_MATERIALS, SURFACES

WALL_TEXTURES: tuple[str, ...] = ("plaster", "brick", "panel", "stone", "foliage", "tiles")
FLOOR_TEXTURES: tuple[str, ...] = ("planks", "tiles", "stone", "carpet", "grass")
DISTRACTORS: tuple[str, ...] = ("drifter", "pendulum")
OCCLUDERS: tuple[str, ...] = ("post", "foliage")


@dataclass(frozen=True)
class WorldConfig:
    # --- sound classes ---
    classes: tuple[str, ...] = CLASSES  # what a clip's main source may be (a material: objects hit in it)
    secondary_probability: float = 0.35  # chance of a second, quieter source of another class beside it
    secondary_ratio: float = 0.5  # a second source weighing more than this times the main one is dropped
    same_material: float | None = 0.75  # chance that a further impact object shares the first one's
    # material; None: every object's material is drawn on its own (the first world)
    # --- objects that fall, bounce and get tapped (impacts) ---
    n_objects: tuple[int, int] = (1, 3)  # inclusive range of objects per scene
    materials: tuple[str, ...] = MATERIALS  # materials an object may be made of
    disc_probability: float = 0.6  # else an axis-aligned box
    size: tuple[float, float] = (0.1, 0.18)  # half-size in world units (frame height ~ 1.6 units)
    box_aspect: tuple[float, float] = (0.7, 1.4)  # box half-width / half-height
    resting_probability: float = 0.2  # an object starts at rest on the floor (only the striker sounds it)
    gravity: float = 10.0  # world units / s^2
    restitution_scale: tuple[float, float] = (0.92, 1.08)  # times the material's restitution
    drop_height: tuple[float, float] = (0.3, 1.6)  # centre height at release, world units
    release_time: tuple[float, float] = (-0.3, 0.5)  # release moment, as a fraction of the duration
    initial_vy: tuple[float, float] = (-1.0, 1.5)  # vertical speed at release (up is +)
    drift: float = 0.25  # max horizontal travel while bouncing, world units
    min_impact_speed: float = 0.6  # slower contacts are silent and the object comes to rest
    exit_probability: float = 0.1  # a bouncing object drifts out of the frame (its bounces go on, heard)
    # --- strikers: sticks and hands that tap resting objects, or push sliders and rollers ---
    striker_probability: float = 0.5  # chance that an impact scene has a striker at all
    strikes: tuple[int, int] = (1, 3)  # taps per scene when it has one
    striker_speed: tuple[float, float] = (1.5, 5.0)  # tip speed at contact, world units / s
    min_gap: float = 0.12  # a tap (or a second source's onset) is kept this far (s) from every other onset
    hand_probability: float = 0.4  # a striker is a hand (else a stick)
    hand_size: tuple[float, float] = (0.16, 0.24)  # palm width, world units
    stick_width: tuple[float, float] = (0.015, 0.035)  # fraction of the frame height
    stick_palette: float = 0.6  # chance of a painted, dark or metal stick (else light wood)
    # --- sliding (scrape): a box flicked or pushed along the floor ---
    slide_speed: tuple[float, float] = (0.8, 2.4)  # initial (flick) or peak (push) speed, world units / s
    slide_friction: tuple[float, float] = (1.2, 3.0)  # deceleration of a flicked box, world units / s^2
    push_probability: float = 0.5  # the box is pushed along by the striker (else flicked once)
    push_time: tuple[float, float] = (0.6, 1.6)  # how long a push lasts, s
    roughness: tuple[float, float] = (6.0, 25.0)  # bumps per world unit of floor (grain of the noise)
    # --- rolling: a ball or wheel flicked along the floor ---
    roll_speed: tuple[float, float] = (0.5, 1.5)  # world units / s
    roll_decel: tuple[float, float] = (0.25, 1.2)  # rolling resistance, world units / s^2
    roll_size: tuple[float, float] = (0.07, 0.14)  # radius, world units
    # --- a motor or fan: a bladed rotor whose visible rotation drives a periodic sound ---
    motor_rate: tuple[float, float] = (1.0, 3.0)  # rotations / s at full speed (blade passes kept <= 10 / s)
    motor_blades: tuple[int, int] = (2, 4)
    motor_size: tuple[float, float] = (0.12, 0.22)  # rotor radius, world units
    motor_on: tuple[float, float] = (0.05, 0.45)  # switch-on moment, fraction of the duration
    motor_run: tuple[float, float] = (0.3, 1.0)  # running time before switch-off, fraction of the duration
    motor_gear: tuple[float, float] = (30.0, 80.0)  # hum pitch / rotation rate
    # --- Foley kinds (recorded_config only; the other worlds never draw them) ---
    # steps: a walker whose feet land on the floor, one event per foot contact
    surfaces: tuple[str, ...] = SURFACES  # floor surfaces walked on (the floor looks like it)
    walk_speed: tuple[float, float] = (0.1, 0.32)  # world units / s across the frame (slower where it must)
    in_place_probability: float = 0.2  # the walker marks time on the spot
    step_period: tuple[float, float] = (0.9, 1.3)  # s per stride (two steps)
    step_lift: tuple[float, float] = (0.05, 0.12)  # how high a foot swings, world units
    leg_length: tuple[float, float] = (0.34, 0.44)  # hip to sole, world units
    # doors: a door in the wall swings or slides shut (the event: it hits its frame)
    door_materials: tuple[str, ...] = DOOR_MATERIALS
    door_slide_probability: float = 0.35  # a sliding door (else a hinged one)
    door_speed: tuple[float, float] = (1.0, 4.0)  # speed of its closing edge when it shuts, world units / s
    door_closes: tuple[int, int] = (1, 2)  # times it shuts per clip (opened again, silently, in between)
    # breaking glass: a bottle (or a pane) knocked off a shelf or dropped, shattering where it lands
    pane_probability: float = 0.3  # a pane of glass (else a bottle)
    shelf_probability: float = 0.6  # it slides off a shelf on the wall (else falls from above the frame)
    breakables: tuple[int, int] = (1, 2)
    shards: tuple[int, int] = (9, 16)
    # digging: a shovel thrust into the ground, dirt flying up at each contact
    dig_speed: tuple[float, float] = (1.2, 4.0)  # blade speed at contact, world units / s
    digs: tuple[int, int] = (1, 3)
    # strikes: a blade (or a staff) swung into another held across its path
    strike_materials: tuple[str, ...] = STRIKE_MATERIALS
    staff_probability: float = 0.3  # wooden staffs (else metal blades)
    clash_speed: tuple[float, float] = (3.0, 9.0)  # swung tip speed at contact, world units / s
    clashes: tuple[int, int] = (1, 3)
    # --- silent distractors ---
    sources: bool = True  # False: no sounding source at all, only what moves silently (distractor_config)
    distractors: tuple[int, int] = (0, 2)  # silent moving things per scene (kinds in distractor_kinds)
    distractor_kinds: tuple[str, ...] = DISTRACTORS
    flicker_probability: float = 0.15  # the light flickers
    light_change_probability: float = 0.25  # the light dims or brightens once, smoothly
    occluder_probability: float = 0.3  # a foreground post or plant partly hides the scene
    occluder_kinds: tuple[str, ...] = OCCLUDERS
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
    wall_textures: tuple[str, ...] = WALL_TEXTURES  # () = flat walls
    floor_textures: tuple[str, ...] = FLOOR_TEXTURES  # () = flat floors
    texture_probability: float = 0.85  # chance that the wall (and, apart, the floor) is textured
    texture_contrast: tuple[float, float] = (0.3, 1.0)  # strength of the wall and floor patterns
    texture_scale: tuple[float, float] = (0.7, 1.4)  # size of their features
    object_texture: tuple[float, float] = (0.0, 0.18)  # strength of the surface pattern on objects
    shutter: tuple[float, float] = (0.0, 0.6)  # exposure, fraction of the frame interval (motion blur)
    compression_probability: float = 0.3  # frames go through block-DCT (JPEG-like) compression
    compression_quality: tuple[float, float] = (35.0, 90.0)
    look: str = "a"  # how the scenes are drawn: "a" (world.render: flat sprites, what training sees) or "b"
    # (world.look_b: perspective, shaded solids, a moving camera; for testing only, never trained on).
    # It changes the pictures only: the scene, its events and its audio are the same in both looks.
    # --- sound ---
    detune: float = 0.005  # per-impact random detuning of the modes (relative)
    audio_noise: tuple[float, float] = (0.0, 0.003)  # rms of faint pink background noise
    master_gain: float = 0.5  # before the peak guard (peak is scaled to <= 0.98 only if needed)


def impacts_config() -> WorldConfig:
    """The first world: objects of five materials dropped, bouncing and tapped by a stick, on flat walls,
    with no other sound class, no distractors and no extra look. The first default model was trained on
    it; every clip renders as it did then (same seeds, same frames, audio and events)."""
    return replace(
        WorldConfig(),
        classes=MATERIALS,
        secondary_probability=0.0,
        same_material=None,
        exit_probability=0.0,
        hand_probability=0.0,
        stick_width=(0.022, 0.022),
        stick_palette=0.0,
        distractors=(0, 0),
        flicker_probability=0.0,
        light_change_probability=0.0,
        occluder_probability=0.0,
        wall_textures=(),
        floor_textures=(),
        texture_probability=0.0,
        object_texture=(0.0, 0.0),
        shutter=(0.0, 0.0),
        compression_probability=0.0,
    )


def ood_config() -> WorldConfig:
    """The out-of-distribution world: every class, drawn from ranges the default world never uses —
    heavier gravity, bouncier and smaller objects, faster slides and smaller balls, faster motors with
    larger rotors, more hands, more distractors and occluders, darker rooms, a shakier, noisier, more
    blurred and more compressed camera, noisier audio."""
    return replace(
        WorldConfig(),
        n_objects=(2, 4),
        size=(0.06, 0.09),
        gravity=14.0,
        restitution_scale=(1.08, 1.2),
        drop_height=(1.0, 2.0),
        striker_probability=0.9,
        striker_speed=(3.0, 6.0),
        hand_probability=0.7,
        secondary_probability=0.5,
        slide_speed=(2.4, 3.2),
        slide_friction=(3.0, 4.0),
        roll_speed=(1.6, 2.2),
        roll_size=(0.045, 0.065),
        motor_rate=(3.0, 5.0),
        motor_blades=(2, 2),
        motor_size=(0.22, 0.28),
        distractors=(2, 3),
        flicker_probability=0.4,
        light_change_probability=0.5,
        occluder_probability=0.6,
        background_value=(0.15, 0.45),
        background_saturation=(0.4, 0.8),
        texture_contrast=(0.8, 1.3),
        texture_scale=(1.4, 2.0),
        camera_shake=(0.5, 1.2),
        sensor_noise=(0.02, 0.04),
        shutter=(0.6, 0.9),
        compression_probability=0.8,
        compression_quality=(20.0, 40.0),
        audio_noise=(0.003, 0.008),
        lighting=(0.65, 0.85),
    )


def impacts_ood_config() -> WorldConfig:
    """The out-of-distribution ranges (``ood_config``) over the first world's sound classes: what a
    model trained on the impacts world is tested on out of distribution. Same physics, look, camera and
    audio ranges as ``ood_config`` (textures, distractors, occluders, hands and a noisier, darker,
    blurrier camera it never saw), but only impacts of the five materials as sources."""
    return replace(ood_config(), classes=MATERIALS, secondary_probability=0.0)


def recorded_config() -> WorldConfig:
    """The recorded-library world: impacts of the five materials plus the Foley kinds a sound library
    holds recordings of (``FOLEY_KINDS``: a walker's steps on one of ``SURFACES``, a door shutting, glass
    shattering, a shovel digging, blades or staffs clashing), each of them a class; no motor, scrape or
    roll. Look, camera and sound ranges are the full world's. Every Foley event is a contact seen on
    screen at its exact time (a foot on the floor, the door in its frame, the glass on the floor, the
    blade in the ground, the two blades touching)."""
    return replace(WorldConfig(), classes=MATERIALS + FOLEY_KINDS)


def distractor_config(base: WorldConfig | None = None) -> WorldConfig:
    """Scenes of ``base`` (default: the recorded world, ``recorded_config()``) with no sounding source: one
    to three silent distractors (a shape drifting across, a pendulum swinging) before the same wall,
    floor, light and shaking camera, and nothing that touches anything. The truth's audio is the room
    tone alone (no onsets): any onset in a take of such a clip is a knock where nothing touches, the
    precision test of issue 19."""
    return replace(base if base is not None else recorded_config(), sources=False, distractors=(1, 3))


def look_b_config(base: WorldConfig | None = None) -> WorldConfig:
    """``base`` (default: the full world, ``WorldConfig()``) drawn in look B (:mod:`foleyflow.world.look_b`):
    the same scenes, events and audio seed for seed, seen through a perspective camera that pans, zooms
    and shakes, as shaded and textured solids casting shadows. Never trained on: render the "test"
    split's seeds with it (``world.look_b_clips``) to measure how a model trained on look A transfers."""
    return replace(base if base is not None else WorldConfig(), look="b")
