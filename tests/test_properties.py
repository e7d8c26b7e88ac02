"""Properties of clip listing and take placement over generated timelines (hypothesis).

Timelines are drawn with nested stacks (two levels), transitions, gaps, mixed rates (24, 25, 30,
24000/1001, 30000/1001, 15, 50 fps; clips at rates other than the timeline's) and time effects
(LinearTimeWarp at 0.5/1.5/2/-1, FreezeFrame, and the generic "LinearTimeWarp" Effect with its
speed in metadata, as some AAF exports write it). The plugin's own functions run directly
(``video_clips``, ``place_takes``, ``take_paths``) with fake takes: no model, no media.

Properties (each ``derandomize=True``, EXAMPLES examples):

1. every placed take's record range equals its clip's, exactly (rational seconds);
2. everything else is unchanged: the serialized JSON of every non-Foley track, the timeline's
   start and metadata, and the input object itself;
3. placing the takes again (re-generation) replaces them: one take per clip, same ranges;
4. the result survives an .otio write and read with the same ranges;
5. where no time effect and no nesting is involved, a clip's record range is OTIO's own
   ``transformed_time_range`` of its visible range (the clip math agrees with OTIO);
6. every take of every clip gets its own WAV name, inside the WAV folder (no take overwrites another).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from foleyflow.plugin.clips import ClipInfo, time_scalar, video_clips
from foleyflow.plugin.generate import GenerateOptions, take_paths
from foleyflow.plugin.media import MediaResolution
from foleyflow.plugin.placement import NAMESPACE, Take, foley_track_label, place_takes
from foleyflow.plugin.selection import Job
from foleyflow.plugin.timing import exact_rate, seconds, snap_to_frame

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
EXAMPLES = 200
RATES = [Fraction(24), Fraction(25), Fraction(30), Fraction(24000, 1001), Fraction(30000, 1001)]
CLIP_RATES = RATES + [Fraction(15), Fraction(50)]
PROPERTY = settings(derandomize=True, database=None, max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def rt(value: int, rate: Fraction) -> otio.opentime.RationalTime:
    return RT(value, float(rate))


def effect(kind: str) -> otio.schema.Effect | None:
    if kind == "freeze":
        return otio.schema.FreezeFrame()
    if kind == "aaf-speed":
        return otio.schema.Effect(effect_name="LinearTimeWarp", metadata={"AAF": {"speed": 2.0}})
    if kind.startswith("x"):
        return otio.schema.LinearTimeWarp(time_scalar=float(kind[1:]))
    return None


EFFECTS = st.sampled_from(["none", "none", "none", "x0.5", "x1.5", "x2", "x-1", "freeze", "aaf-speed"])


@st.composite
def clips(draw, rate: Fraction, names: list[int]) -> otio.schema.Clip:
    own = draw(st.sampled_from([rate, rate, *CLIP_RATES]))  # mostly the timeline's rate, often another
    names.append(len(names))
    c = otio.schema.Clip(name=f"c{len(names)}", source_range=TR(rt(draw(st.integers(0, 300)), own),
                                                                rt(draw(st.integers(1, 60)), own)))
    c.media_reference = otio.schema.ExternalReference(target_url=f"file:///media/c{len(names)}.mov")
    fx = effect(draw(EFFECTS))
    if fx is not None:
        c.effects.append(fx)
    return c


@st.composite
def tracks(draw, rate: Fraction, names: list[int], depth: int = 0) -> otio.schema.Track:
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    kinds = ["clip", "clip", "gap"] + (["stack"] if depth < 2 else [])
    for _ in range(draw(st.integers(1, 5 if depth == 0 else 3))):
        kind = draw(st.sampled_from(kinds))
        if kind == "gap":
            track.append(otio.schema.Gap(source_range=TR(rt(0, rate), rt(draw(st.integers(1, 30)), rate))))
            continue
        if kind == "clip":
            prev = track[-1] if len(track) else None
            item = draw(clips(rate, names))
            if isinstance(prev, otio.schema.Clip) and draw(st.booleans()):
                room = min(seconds(prev.trimmed_range().duration), seconds(item.trimmed_range().duration)) * rate
                half = int(room) // 2
                if half >= 1:
                    track.append(otio.schema.Transition(in_offset=rt(draw(st.integers(0, half)), rate),
                                                        out_offset=rt(draw(st.integers(0, half)), rate)))
            track.append(item)
            continue
        stack = otio.schema.Stack()
        for _ in range(draw(st.integers(1, 2))):
            stack.append(draw(tracks(rate, names, depth + 1)))
        frames = int(seconds(stack.duration()) * rate)
        if frames >= 2 and draw(st.booleans()):  # trimmed: shows a part of its content
            start = draw(st.integers(0, frames - 1))
            stack.source_range = TR(rt(start, rate), rt(draw(st.integers(1, frames - start)), rate))
        fx = effect(draw(st.sampled_from(["none", "none", "x2", "x0.5", "freeze"])))
        if fx is not None:
            stack.effects.append(fx)
        track.append(stack)
    return track


@st.composite
def timelines(draw) -> tuple[otio.schema.Timeline, Fraction]:
    rate = draw(st.sampled_from(RATES))
    names: list[int] = []
    tl = otio.schema.Timeline(name="generated", metadata={"editor": {"note": "keep me"}})
    if draw(st.booleans()):
        tl.global_start_time = rt(round(3600 * rate), rate)  # 01:00:00:00
    for _ in range(draw(st.integers(1, 3))):
        tl.tracks.append(draw(tracks(rate, names)))
    if draw(st.booleans()):  # an editor's own audio track: never touched
        audio = otio.schema.Track(name="Dialogue", kind=otio.schema.TrackKind.Audio)
        audio.append(otio.schema.Gap(source_range=TR(rt(0, rate), rt(10, rate))))
        audio.append(otio.schema.Clip(name="dx", source_range=TR(rt(0, rate), rt(40, rate))))
        tl.tracks.append(audio)
    return tl, rate


# -- helpers --------------------------------------------------------------------------------
def takes_for(infos: list[ClipInfo], seed: int = 0) -> list[Take]:
    return [Take(c.id, c.track, c.name, c.record_range, (Path(f"/takes/{c.id}_{seed}.wav"),),
                 metadata={"seed": seed}) for c in infos]


def placed(tl: otio.schema.Timeline) -> dict[str, list[tuple[Fraction, Fraction]]]:
    """source clip id -> [(record start s, duration s)] of every take on the Foley tracks."""
    out: dict[str, list[tuple[Fraction, Fraction]]] = {}
    for track in tl.tracks:
        if foley_track_label(track) is None:
            continue
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Clip):
                r = track.range_of_child_at_index(i)
                out.setdefault(item.metadata[NAMESPACE]["source_clip"], []).append(
                    (seconds(r.start_time), seconds(r.duration)))
    return out


def expected(infos: list[ClipInfo]) -> dict[str, list[tuple[Fraction, Fraction]]]:
    return {c.id: [(seconds(c.record_range.start_time), seconds(c.record_range.duration))] for c in infos}


def others(tl: otio.schema.Timeline) -> list[str]:
    return [otio.adapters.write_to_string(t, "otio_json") for t in tl.tracks if foley_track_label(t) is None]


def listed(tl: otio.schema.Timeline, rate: Fraction) -> list[ClipInfo]:
    infos = video_clips(tl, rate)
    assume(all(seconds(c.record_range.start_time) >= 0 for c in infos))
    return infos


# -- the properties ---------------------------------------------------------------------------
@pytest.mark.slow
@PROPERTY
@given(timelines())
def test_every_take_sits_exactly_on_its_clip(generated):
    tl, rate = generated
    infos = listed(tl, rate)
    new = place_takes(tl, takes_for(infos), rate, url_for=lambda p: p.name)
    assert placed(new) == expected(infos)


@pytest.mark.slow
@PROPERTY
@given(timelines())
def test_everything_else_is_unchanged(generated):
    tl, rate = generated
    before_input = otio.adapters.write_to_string(tl, "otio_json")
    before_tracks = others(tl)
    infos = listed(tl, rate)
    new = place_takes(tl, takes_for(infos), rate, url_for=lambda p: p.name)
    assert otio.adapters.write_to_string(tl, "otio_json") == before_input  # the input object untouched
    assert others(new) == before_tracks
    assert new.global_start_time == tl.global_start_time
    assert json.loads(otio.adapters.write_to_string(new, "otio_json"))["metadata"] == {"editor": {"note": "keep me"}}
    n_foley = sum(foley_track_label(t) is not None for t in new.tracks)
    assert len(new.tracks) == len(tl.tracks) + n_foley
    assert n_foley >= len({c.track for c in infos})


@pytest.mark.slow
@PROPERTY
@given(timelines())
def test_placing_again_replaces_takes(generated):
    tl, rate = generated
    infos = listed(tl, rate)
    once = place_takes(tl, takes_for(infos, seed=0), rate, url_for=lambda p: p.name)
    twice = place_takes(once, takes_for(infos, seed=1), rate, url_for=lambda p: p.name)
    assert placed(twice) == expected(infos)
    assert others(twice) == others(tl)
    seeds = {c.metadata[NAMESPACE]["seed"] for t in twice.tracks if foley_track_label(t) for c in t
             if isinstance(c, otio.schema.Clip)}
    assert seeds <= {1}


@pytest.mark.slow
@PROPERTY
@given(timelines())
def test_the_result_survives_an_otio_round_trip(generated):
    tl, rate = generated
    infos = listed(tl, rate)
    new = place_takes(tl, takes_for(infos), rate, url_for=lambda p: p.name)
    back = otio.adapters.read_from_string(otio.adapters.write_to_string(new, "otio_json"), "otio_json")
    assert placed(back) == expected(infos)
    assert others(back) == others(tl)


def _plain(item: otio.core.Item) -> bool:
    return not item.effects or time_scalar(item) == 1


@pytest.mark.slow
@PROPERTY
@given(timelines())
def test_record_ranges_agree_with_otio_where_no_effect_or_nesting(generated):
    tl, rate = generated
    for c in video_clips(tl, rate):
        if c.nested or not _plain(c.clip):
            continue
        visible = c.clip.transformed_time_range(c.clip.visible_range(), tl.tracks)
        start = snap_to_frame(seconds(visible.start_time), rate)
        end = snap_to_frame(seconds(visible.start_time) + seconds(visible.duration), rate)
        assert (seconds(c.record_range.start_time), seconds(c.record_range.duration)) == (start, end - start)
        assert exact_rate(c.record_range.duration.rate) == rate


@pytest.mark.slow
@PROPERTY
@given(timelines(), st.integers(1, 3))
def test_every_take_gets_its_own_wav_name_inside_the_folder(generated, variations):
    tl, rate = generated
    wav_dir = Path("/out/cut_foley")
    options = GenerateOptions(seed=7, variations=variations)
    paths = []
    for c in video_clips(tl, rate):
        job = Job(c, MediaResolution(Path("/media/x.mov"), "reference", ()), "found", 1)
        paths += take_paths(job, wav_dir, options)
    assert len(paths) == len(set(paths))
    assert all(p.parent == wav_dir and not p.name.startswith(".") for p in paths)
