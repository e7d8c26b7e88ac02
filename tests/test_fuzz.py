"""Fuzzing every reader path (issue 21, item 1): ``foleyflow clips``, ``foleyflow generate --dry-run``
and the panel's open, on corpus timelines mutated by bytes, numbers and structure.

The contract: an input reads fine, or the reader raises a FoleyFlowError subclass whose message names
the file and the problem; never another exception, a traceback, a crash or a hang over 30 s.

- one regression test per finding of the fuzzer: a small input built here, the exact error class,
  a message naming the file (the readers run in-process; inputs that crashed the process run in a
  subprocess, so that a regression fails one test instead of killing the suite);
- a bounded, derandomized sample of the fuzzer (``test_fuzzed_corpus_keeps_the_contract``);
- the long run is ``scripts/fuzz_readers.py --cases 10000 --seed S`` (its mutators are used here).
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from foleyflow.plugin import timeline as timeline_mod
from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import EXIT_BAD_INPUT, EXIT_OK, SelectionError, TimelineError
from foleyflow.plugin.generate import GenerateOptions, take_paths
from foleyflow.plugin.media import MISSING, MediaResolver, reference_path
from foleyflow.plugin.selection import Selection, parse_record_range, select
from foleyflow.plugin.selection import plan as plan_jobs
from foleyflow.plugin.timeline import read_timeline
from foleyflow.ui.engine import open_document

REPO = Path(__file__).resolve().parents[1]
RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def corpus_dir() -> Path:
    """The corpus timelines the fuzzer mutates (tests/data/corpus, inside the repository)."""
    return REPO / "tests" / "data" / "corpus"


def _load_fuzzer():
    spec = importlib.util.spec_from_file_location("fuzz_readers", REPO / "scripts" / "fuzz_readers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_readers", module)
    spec.loader.exec_module(module)
    return module


fz = _load_fuzzer()
CORPUS = corpus_dir()
SEEDS = fz.corpus_files(CORPUS)


# -- running the three readers on one file ------------------------------------------------------------
def read_all(path: Path, tmp: Path) -> list:
    """clips, generate --dry-run and the panel's open on ``path``: one fuzz Result each."""
    ws = fz.Workspace(tmp / "ws")
    return [fz.run_reader(r, path, ws, None) for r in fz.READERS]


def refused_by_all(path: Path, tmp: Path, cls: type[Exception], says: str) -> None:
    """Every reader refuses ``path`` with exactly ``cls``, a message naming the file and saying ``says``."""
    ws = fz.Workspace(tmp / "ws")
    for argv in (["clips", str(path)], ["generate", str(path), "-o", str(ws.out / "cut.otio"), "--dry-run"]):
        code, printed, exc = fz.run_cli(argv)
        assert type(exc) is cls, f"{argv[0]}: {type(exc).__name__}: {exc}\n{printed}"
        assert code == EXIT_BAD_INPUT and "Traceback" not in printed, printed
        assert str(path) in str(exc) and says in str(exc), str(exc)
        assert f"foleyflow: error: {exc}" in printed
    with pytest.raises(cls) as info:
        open_document(path)
    assert type(info.value) is cls
    assert str(path) in str(info.value) and says in str(info.value), str(info.value)


def read_by_all(path: Path, tmp: Path) -> None:
    results = read_all(path, tmp)
    assert [r.outcome for r in results] == [fz.OK] * len(fz.READERS), [(r.reader, r.detail) for r in results]


def save(tmp: Path, *items: otio.core.Item, name: str = "cut.otio", tracks: list | None = None) -> Path:
    tl = otio.schema.Timeline(name="cut")
    if tracks is None:
        track = otio.schema.Track(name="V1")
        track.extend(items)
        tracks = [track]
    tl.tracks.extend(tracks)
    path = tmp / name
    otio.adapters.write_to_file(tl, str(path), **({"use_empty_mob_ids": True} if name.endswith(".aaf") else {}))
    return path


def clip(name: str = "shot", ref: otio.core.MediaReference | None = None, dur: float = 25,
         rate: float = 25) -> otio.schema.Clip:
    ref = ref if ref is not None else otio.schema.ExternalReference(target_url="file:///media/shot.mov")
    return otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(0, rate), RT(dur, rate)))


# -- findings: each a small input and what the readers must do with it -----------------------------------
def test_clip_without_source_range_or_available_range(tmp_path):
    """Finding: OTIO's CannotComputeAvailableRangeError escaped from video_clips (traceback)."""
    bare = otio.schema.Clip(name="bare", media_reference=otio.schema.MissingReference())
    path = save(tmp_path, clip(), bare)
    refused_by_all(path, tmp_path, TimelineError, "Clip 'bare' (in Track 'V1'): has no source range and its "
                   "media reference (MissingReference) has no available range")


def test_gap_without_source_range(tmp_path):
    """Finding: a Gap with no source range made OTIO raise NotImplementedError (range_of_child_at_index)."""
    gap = otio.schema.Gap()
    gap.source_range = None
    path = save(tmp_path, clip(), gap, clip("after"))
    refused_by_all(path, tmp_path, TimelineError, "Gap '' (in Track 'V1'): has no source range, and a Gap has no "
                   "length of its own")


def test_audio_track_item_without_range_is_refused_too(tmp_path):
    """The panel paints audio tracks too (track_rows): a rangeless gap there is refused like one on video."""
    gap = otio.schema.Gap()
    gap.source_range = None
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    audio.append(gap)
    video = otio.schema.Track(name="V1")
    video.append(clip())
    path = save(tmp_path, tracks=[video, audio])
    refused_by_all(path, tmp_path, TimelineError, "Gap '' (in Track 'A1'): has no source range")


@pytest.mark.parametrize("rate", [1e-300, 1e-4, 1e308])
def test_rate_that_is_no_frame_rate(tmp_path, rate):
    """Finding: a rate of 1e-300 passed the time checks, then exact_rate() made it 0 (ZeroDivisionError);
    1e308 overflowed float conversions (OverflowError) in the record ranges."""
    path = save(tmp_path, clip())
    tl = otio.adapters.read_from_file(str(path))
    tl.global_start_time = RT(0, rate)
    otio.adapters.write_to_file(tl, str(path))
    refused_by_all(path, tmp_path, TimelineError, f"the timeline's start time: rate {rate!r} is not a frame rate")


def test_source_range_at_a_tiny_rate(tmp_path):
    path = save(tmp_path, clip(dur=0, rate=1e-5))
    refused_by_all(path, tmp_path, TimelineError, "Clip 'shot' source range start: rate 1e-05 is not a frame rate")


def test_otio_json_that_is_not_utf8(tmp_path):
    """Finding: OTIO's reader keeps invalid UTF-8 in strings; reading clip.name or a URL then raised
    UnicodeDecodeError (or TypeError) far from the reader."""
    text = save(tmp_path, clip()).read_bytes().replace(b"/media/shot.mov", b"/media/sh\xf6t.mov")
    path = tmp_path / "latin1.otio"
    path.write_bytes(text)
    refused_by_all(path, tmp_path, TimelineError, "cannot read as otio_json: not UTF-8 text (byte 0xf6 at offset")


def test_otio_json_utf8_names_read_fine(tmp_path):
    path = save(tmp_path, clip("Szene \u00e4\u00f6\u00fc \u30b7\u30e7\u30c3\u30c8 \U0001f3ac"))
    read_by_all(path, tmp_path)


def test_image_sequence_without_duration_reads(tmp_path):
    """Finding: ImageSequenceReference.target_url_for_image_number raised IndexError ("Zero duration
    sequences has no frames") in media.reference_path for a sequence with no, or a zero, duration."""
    seq = otio.schema.ImageSequenceReference(target_url_base="file:///renders/shot/", name_prefix="f.",
                                             name_suffix=".exr", start_frame=1001, frame_zero_padding=4, rate=25)
    path = save(tmp_path, clip("comp", seq))
    read_by_all(path, tmp_path)
    job = open_document(path).jobs[0]
    assert job.status == MISSING and reference_path(seq) == "/renders/shot/f.1001.exr"


@pytest.mark.parametrize("kw", [dict(rate=0), dict(frame_step=0), dict(start_frame=-5),
                                dict(available_range=TR(RT(0, 25), RT(0, 25)))])
def test_image_sequence_odd_fields_give_a_first_frame(kw):
    seq = otio.schema.ImageSequenceReference(target_url_base="file:///r", name_prefix="f.", name_suffix=".exr",
                                             frame_zero_padding=3, **kw)
    assert reference_path(seq) == "/r/f." + ("-005" if kw.get("start_frame") == -5 else "001") + ".exr"


@pytest.mark.parametrize("url", ["file://", "file:"])
def test_file_url_without_a_path(tmp_path, url):
    """Finding: OTIO's url_utils.filepath_from_url raised IndexError on a file URL without a path."""
    path = save(tmp_path, clip(ref=otio.schema.ExternalReference(target_url=url)))
    read_by_all(path, tmp_path)
    doc = open_document(path, media_roots=[tmp_path])
    assert doc.jobs[0].status == MISSING and f"a file URL without a path: {url}" in doc.rows[0].detail


def test_media_path_too_long_for_the_system(tmp_path):
    """Finding: Path.is_file() lets ENAMETOOLONG through (OSError, no FoleyFlowError) when a reference's
    file name is longer than the system allows."""
    long_url = "file:///" + "x" * 5000 + ".mov"
    path = save(tmp_path, clip(ref=otio.schema.ExternalReference(target_url=long_url)))
    read_by_all(path, tmp_path)
    resolution = MediaResolver(path, [tmp_path]).resolve_clip(open_document(path).clips[0].clip)
    assert not resolution.found and resolution.looked_for



@pytest.mark.parametrize("suffix", [".otioz", ".otio", ".xml", ".fcpxml", ".aaf", ".kdenlive", ".xges"])
def test_output_with_a_media_name_too_long_for_the_system(tmp_path, suffix):
    """Finding (long run, seed 23, case 9527): an EDL's "FROM CLIP" file name of 304 characters; the dry run's
    preflight writing an .otioz checked it for bundling with Path.is_file(), which let ENAMETOOLONG through
    (OSError). A name the system cannot hold is a file not there: the take is planned, the clip listed as not
    bundled. A clip name that long still gets its take, under a WAV name the file system holds."""
    media = tmp_path / "media"
    media.mkdir()
    (media / "shot.mov").touch()
    whole = TR(RT(0, 25), RT(100, 25))  # an available range, which FCP7 XML needs
    too_long = otio.schema.ExternalReference(target_url=(media / ("x" * 300 + ".mov")).as_uri(), available_range=whole)
    found = otio.schema.ExternalReference(target_url=(media / "shot.mov").as_uri(), available_range=whole)
    path = save(tmp_path, clip("shot", too_long), clip("y" * 300, found))  # found by its name; by its reference
    out = tmp_path / "out" / f"cut{suffix}"
    out.parent.mkdir()
    code, printed, exc = fz.run_cli(["generate", str(path), "-o", str(out), "--dry-run", "--media-root", str(media)])
    assert exc is None and code == EXIT_OK and "would write 2 take(s)" in printed, printed
    loaded = read_timeline(path)
    _, long_named = plan_jobs(video_clips(loaded.timeline, loaded.rate), MediaResolver(path, [media]))
    wavs = take_paths(long_named, tmp_path, GenerateOptions(seed=0, variations=2))
    assert [len(w.name.encode()) < 255 for w in wavs] == [True, True] and len(set(wavs)) == 2, wavs


@pytest.mark.parametrize("scalar", [math.nan, math.inf, -1e308])
def test_time_effect_speed_that_is_no_number(tmp_path, scalar):
    """Finding: LinearTimeWarp(time_scalar=NaN) raised ValueError in clips.time_scalar (Fraction(nan))."""
    fast = clip("fast")
    fast.effects.append(otio.schema.LinearTimeWarp(name="warp", time_scalar=scalar))
    path = save(tmp_path, fast)
    refused_by_all(path, tmp_path, TimelineError, f"Clip 'fast' time effect 'warp': speed {scalar!r} is not a speed")


def test_speed_compounded_through_nested_stacks(tmp_path):
    """100x inside 100x inside 100x: each effect is plausible, the product (10^6) overflows nothing yet but
    is no speed an editing system writes; 50 such levels overflowed float conversions (OverflowError)."""
    inner = clip("deep")
    inner.effects.append(otio.schema.LinearTimeWarp(time_scalar=100))
    node: otio.core.Item = inner
    for level in range(2):
        track = otio.schema.Track(name=f"t{level}")
        track.append(node)
        stack = otio.schema.Stack(name=f"s{level}")
        stack.append(track)
        stack.effects.append(otio.schema.LinearTimeWarp(time_scalar=100))
        node = stack
    path = save(tmp_path, node)
    refused_by_all(path, tmp_path, TimelineError, "Clip 'deep': plays at 1e+06x through its time effects")


def test_speed_past_a_floats_range(tmp_path):
    """Finding (long run, seed 22): a metadata speed of 1e308 inside a 100x stack is refused, but the
    message's float(speed) raised OverflowError instead."""
    odd = clip("odd")
    odd.effects.append(otio.schema.Effect(effect_name="LinearTimeWarp", metadata={"speed": 1e308}))
    track = otio.schema.Track(name="t")
    track.append(odd)
    stack = otio.schema.Stack(name="s")
    stack.append(track)
    stack.effects.append(otio.schema.LinearTimeWarp(time_scalar=100))
    path = save(tmp_path, stack)
    refused_by_all(path, tmp_path, TimelineError, "Clip 'odd': plays at 1e+310x through its time effects")


def test_metadata_speed_that_is_no_number_plays_at_speed_one(tmp_path):
    """A generic "LinearTimeWarp" effect (some AAF exports) whose metadata speed is NaN is no speed: the
    clip reads, at speed 1 (and a warning), instead of ValueError from Fraction(nan)."""
    odd = clip("odd")
    odd.effects.append(otio.schema.Effect(effect_name="LinearTimeWarp", metadata={"speed": math.nan}))
    path = save(tmp_path, odd)
    read_by_all(path, tmp_path)
    assert open_document(path).clips[0].speed == 1


def aaf_clip() -> otio.schema.Clip:
    ref = otio.schema.ExternalReference(target_url="file:///media/shot.mov", available_range=TR(RT(0, 24), RT(48, 24)))
    return clip(ref=ref, dur=24, rate=24)


def test_aaf_nested_too_deep_for_the_aaf_reader(tmp_path):
    """Finding: an AAF nesting stacks a few hundred levels deep took the AAF reader minutes (its
    simplification clones the tree at every level): refused from the file's directory depth first."""
    node: otio.core.Item = aaf_clip()
    for _ in range(70):
        track = otio.schema.Track()
        track.append(node)
        node = otio.schema.Stack()
        node.append(track)
    path = save(tmp_path, node, name="deep.aaf")
    refused_by_all(path, tmp_path, TimelineError, "nests its objects more than 128 levels deep")


def test_aaf_index_claiming_more_entries_than_it_holds(tmp_path):
    """Finding (long run, a number mutation of trims.aaf): an index stream whose entry count reads
    0xFFFFFFFF made pyaaf2 build a struct format of 2**32 entries; the process was killed for memory
    (or, with less memory free, MemoryError). Refused from the count and the stream's size first."""
    from aaf2.cfb import CompoundFileBinary

    path = tmp_path / "simple.aaf"
    path.write_bytes((CORPUS / "simple.aaf").read_bytes())
    with path.open("rb+") as f:
        cfb = CompoundFileBinary(f, "rb+")
        index = next(s for _, _, streams in cfb.walk() for s in streams if s.name.endswith(" index"))
        stream = index.open("rw")
        stream.write(b"\xff\xff\xff\xff")
        stream.close()
        cfb.close()
    refused_by_all(path, tmp_path, TimelineError, f"cannot read as AAF: its index {index.name!r} claims "
                   "4294967295 entries, more than its")


def test_aaf_nested_a_few_levels_reads(tmp_path):
    node: otio.core.Item = aaf_clip()
    for _ in range(5):
        track = otio.schema.Track()
        track.append(node)
        node = otio.schema.Stack()
        node.append(track)
    path = save(tmp_path, node, name="nested.aaf")
    read_by_all(path, tmp_path)


def test_transition_at_the_head_of_a_track(tmp_path):
    """Finding: a transition before a track's first clip extended that clip's visible (record) range to
    before the timeline's start; the dry run's preflight then failed placing its take with an OutputError
    that named no file. Nothing shows before the start: the record range starts at 0."""
    media = tmp_path / "media" / "shot.mov"
    media.parent.mkdir()
    media.touch()
    head = otio.schema.Transition(in_offset=RT(2, 25), out_offset=RT(2, 25))
    ref = otio.schema.ExternalReference(target_url=media.as_uri(), available_range=TR(RT(0, 25), RT(100, 25)))
    path = save(tmp_path, head, clip(ref=ref))
    loaded = read_timeline(path)
    (info,) = video_clips(loaded.timeline, loaded.rate)
    assert info.record_range == TR(RT(0, 25), RT(25, 25)) and info.source_range == TR(RT(0, 25), RT(25, 25))
    out = tmp_path / "out" / "cut.xml"  # FCP7 XML: the preflight places the takes and writes them
    out.parent.mkdir()
    code, printed, exc = fz.run_cli(["generate", str(path), "-o", str(out), "--dry-run"])
    assert exc is None and code == EXIT_OK and "would write 1 take(s)" in printed, printed


def test_range_in_timecode_at_a_rate_smpte_does_not_know(tmp_path):
    """Finding: --range with timecodes on a 15 fps (or 12.5, 7 ...) timeline raised OTIO's ValueError
    ("SMPTE timecode does not support this rate") out of the CLI: a traceback. Such timecodes count
    frames at the nominal rate, as the clip listing writes them."""
    path = save(tmp_path, clip("early", dur=15, rate=15), clip("late", dur=15, rate=15))
    for command in ("clips", "generate"):
        extra = ["-o", str(tmp_path / "out.otio"), "--dry-run"] if command == "generate" else []
        code, printed, exc = fz.run_cli([command, str(path), "--range", "00:00:01:00-00:00:01:14", *extra])
        assert exc is None and code in (EXIT_OK, 3) and "Traceback" not in printed, printed
        assert "late" in printed and "early" not in printed, printed
        code, printed, exc = fz.run_cli([command, str(path), "--range", "00:00:00:15-00:00:01:00", *extra])
        assert type(exc) is SelectionError and code == EXIT_BAD_INPUT, printed
        assert "not a timecode at 15 fps: '00:00:00:15'" in str(exc) and "Traceback" not in printed


@pytest.mark.parametrize("limit", ["MAX_ITEMS", "MAX_VIDEO_CLIPS"])
def test_timeline_too_large_to_list_in_time(tmp_path, monkeypatch, limit):
    """Finding: a timeline of 182 000 items (300 MB of OTIO JSON) kept every reader busy for minutes (the
    long run's alarm). Past MAX_ITEMS items or MAX_VIDEO_CLIPS video clips it is refused, as soon as read.
    (Here with the limits lowered to 40: the real ones are 50 000 and 10 000.)"""
    monkeypatch.setattr(timeline_mod, limit, 40)
    path = save(tmp_path, *[clip(f"c{i}") for i in range(41)])
    says = "holds 42 items" if limit == "MAX_ITEMS" else "holds 41 clips on its video tracks, more than the 40"
    refused_by_all(path, tmp_path, TimelineError, says)


def test_otio_json_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(timeline_mod, "MAX_JSON_BYTES", 1000)
    path = save(tmp_path, *[clip(f"c{i}") for i in range(5)])
    refused_by_all(path, tmp_path, TimelineError, "is larger than 1000 bytes")


def _json_values(leaf):
    return st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(leaf.filter(
        lambda x: isinstance(x, str)), inner, max_size=3), max_leaves=30)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_json_values(st.text(alphabet='[]{}"\\ab,:\u00e9', max_size=6) | st.integers() | st.none()))
def test_json_depth_ignores_brackets_in_strings(value):
    """json_depth (rewritten: numpy over quotes and brackets, 10x faster on big files) agrees with the
    nesting of any JSON document, strings full of brackets, quotes and backslashes included."""
    text = json.dumps(value, ensure_ascii=False).encode()
    assert timeline_mod.json_depth(text) == _depth(value)


def test_selection_error_can_name_the_timeline(tmp_path):
    """select() names the timeline file when its caller gives it (the CLI's --clip of a clip not there)."""
    path = save(tmp_path, clip())
    loaded = read_timeline(path)
    with pytest.raises(SelectionError) as info:
        select(video_clips(loaded.timeline, loaded.rate), Selection(ids=("V9:9",)), loaded.timeline, path)
    assert str(info.value).startswith(f"{path}: no clip with id V9:9 (ids here: V1:0)")
    with pytest.raises(SelectionError) as info:
        parse_record_range("00:00:00:99-00:00:01:00", loaded.rate, None, path)
    assert str(info.value).startswith(f"{path}: not a timecode at 25 fps: '00:00:00:99'")
    with pytest.raises(SelectionError, match="out of range"):  # not minutes in Fraction("1e999999999")
        parse_record_range("0-1e999999999", loaded.rate, None, path)


# inputs that took the whole process down: run through the real command in a subprocess
OLD_CLIP_WITH_REFERENCES = {
    "OTIO_SCHEMA": "Timeline.1", "name": "cut",
    "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [{"OTIO_SCHEMA": "Track.1", "kind": "Video", "children": [
        {"OTIO_SCHEMA": "Clip.1", "name": "shot",
         "media_references": {"DEFAULT_MEDIA": {"OTIO_SCHEMA": "ExternalReference.1"}}}]}]}}
STACK = {"OTIO_SCHEMA": "Stack.1", "children": [{"OTIO_SCHEMA": "Track.1", "kind": "Video", "children": []}]}
EXTERNAL = {"OTIO_SCHEMA": "ExternalReference.1", "target_url": "file:///m/shot.mov"}
CRASHERS = {
    # Finding: a Clip.0/Clip.1 holding "media_references" (Clip.2's field): SIGSEGV in OTIO's upgrade
    "old-clip-with-media-references": (json.dumps(OLD_CLIP_WITH_REFERENCES).encode(),
                                       "holds a clip of schema 'Clip.1' with \"media_references\""),
    "clip-version-0": (json.dumps(OLD_CLIP_WITH_REFERENCES).replace("Clip.1", "Clip.0").encode(),
                       "holds a clip of schema 'Clip.0'"),
    # Finding: "UnknownSchema.N" anywhere: OTIO aborts ("Fatal error: UnknownSchema should not be created")
    "unknown-schema": (b'{"OTIO_SCHEMA": "Timeline.1", "metadata": {"x": {"OTIO_SCHEMA": "UnknownSchema.1"}}}',
                       "holds an object of schema 'UnknownSchema.1'"),
    "unknown-schema-escaped": (b'{"OTIO_SCHEMA": "Unknown\\u0053chema.1"}', "holds an object of schema "
                               "'UnknownSchema.1'"),
    "unknown-schema-duplicate-key": (b'{"OTIO_SCHEMA": "Timeline.1", "OTIO_SCHEMA": "UnknownSchema.1"}',
                                     "holds an object of schema 'UnknownSchema.1'"),
    # Finding (long run, seed 23, case 9639: transition.otio with its head repeated, so "tracks" twice):
    # OTIO creates the object of a key's later value, keeps the first value only and frees the later one,
    # but reads it again in its final pass (SIGSEGV); so for the objects held by a value type's extra field
    # and by the fields a schema upgrade (Clip.1, Marker.1) overwrites
    "key-twice-truncated": (b'{"tracks": {}, "tracks": {"OTIO_SCHEMA": "Stack.1", "value": 0},',
                            "cannot read as otio_json: Expecting property name enclosed in double quotes"),
    "key-twice": (json.dumps({"OTIO_SCHEMA": "Timeline.1", "tracks": STACK}).replace(
        '"children"', f'"children": {json.dumps(STACK["children"])}, "children"', 1).encode(),
        "gives the key 'children' twice in one object, the second time holding an OTIO object"),
    "key-twice-in-metadata": (json.dumps({"OTIO_SCHEMA": "Timeline.1", "metadata": {"a": 1}, "tracks": STACK}).replace(
        '"a": 1', f'"a": 1, "a": [{json.dumps(EXTERNAL)}]').encode(),
                              "gives the key 'a' twice in one object, the second time holding an OTIO object"),
    "value-type-holding-an-object": (json.dumps({"OTIO_SCHEMA": "Timeline.1", "tracks": STACK, "global_start_time": {
        "OTIO_SCHEMA": "RationalTime.1", "rate": 24, "value": 0, "x": {"y": EXTERNAL}}}).encode(),
        "holds a RationalTime.1 whose field 'x' holds an OTIO object"),
    "old-marker-marked-range-object": (json.dumps({"OTIO_SCHEMA": "Timeline.1", "tracks": dict(STACK, markers=[
        {"OTIO_SCHEMA": "Marker.1", "marked_range": EXTERNAL}])}).encode(),
        "holds an object of schema 'Marker.1' whose 'marked_range' holds an OTIO object"),
    "old-clip-active-key-object": (json.dumps(OLD_CLIP_WITH_REFERENCES).replace(
        '"media_references": {"DEFAULT_MEDIA": ', '"active_media_reference_key": {"x": ').encode(),
        "holds an object of schema 'Clip.1' whose 'active_media_reference_key' holds an OTIO object"),
}


def run_subprocess(*argv: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "foleyflow.plugin.cli", *map(str, argv)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("case", list(CRASHERS))
def test_subprocess_otio_json_that_crashed_otio(tmp_path, case):
    data, says = CRASHERS[case]
    path = tmp_path / "cut.otio"
    path.write_bytes(data)
    argv = ["clips", path] if case != "old-clip-with-media-references" else \
        ["generate", path, "-o", tmp_path / "out.otio", "--dry-run"]
    proc = run_subprocess(*argv)
    assert proc.returncode == EXIT_BAD_INPUT, (proc.returncode, proc.stderr[-2000:])
    assert proc.stderr.startswith(f"foleyflow: error: {path}: {says}"), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


PANEL_OPEN = """
import sys
from foleyflow.plugin.errors import TimelineError
from foleyflow.ui.engine import open_document
for path in sys.argv[1:]:
    try:
        open_document(path)
    except TimelineError as exc:
        print(exc)
"""


def test_subprocess_panel_open_of_otio_json_that_crashed_otio(tmp_path):
    """The panel's open refuses them too (one process for all: a crash fails this test, not the suite)."""
    paths = []
    for k, (data, _says) in enumerate(CRASHERS.values()):
        paths.append(tmp_path / f"cut{k}.otio")
        paths[-1].write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", PANEL_OPEN, *map(str, paths)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    assert len(lines) == len(paths)
    for line, path, (_data, says) in zip(lines, paths, CRASHERS.values(), strict=True):
        assert line.startswith(f"{path}: {says}"), line


def test_subprocess_fuzz_case_with_a_key_twice(tmp_path):
    """The long run's input itself (seed 23, case 9639), rebuilt from the corpus: transition.otio's head
    repeated 37 times, "tracks" given again and again, then cut short. It killed every reader (SIGSEGV in
    OTIO's JSON reader); now each refuses it in a real process, with one line naming the file."""
    case = fz.Case("transition.otio", "bytes", (("repeat", 124, 276, 37), ("insert", 34707148, bytes.hex(
        rb"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"))), json_flag=True, sel=576)
    path = fz.build_input(case, CORPUS, tmp_path)
    says = f"{path}: cannot read as otio_json: Expecting property name enclosed in double quotes"
    for argv in (["clips", path, "--json"], ["generate", path, "-o", tmp_path / "out.otio", "--dry-run"]):
        proc = run_subprocess(*argv)
        assert proc.returncode == EXIT_BAD_INPUT, (argv[0], proc.returncode, proc.stderr[-2000:])
        assert proc.stderr.startswith(f"foleyflow: error: {says}") and proc.stderr.count("\n") == 1, proc.stderr
    proc = subprocess.run([sys.executable, "-c", PANEL_OPEN, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith(says), (proc.returncode, proc.stdout, proc.stderr[-2000:])


def test_old_clip_schema_without_media_references_still_reads(tmp_path):
    """OTIO's own upgrade of Clip.1 (a single media_reference) is left alone."""
    doc = json.loads(json.dumps(OLD_CLIP_WITH_REFERENCES))
    c = doc["tracks"]["children"][0]["children"][0]
    del c["media_references"]
    c["media_reference"] = {"OTIO_SCHEMA": "ExternalReference.1", "target_url": "file:///m/shot.mov",
                            "available_range": {"OTIO_SCHEMA": "TimeRange.1",
                                                "start_time": {"OTIO_SCHEMA": "RationalTime.1", "value": 0,
                                                               "rate": 25},
                                                "duration": {"OTIO_SCHEMA": "RationalTime.1", "value": 50,
                                                             "rate": 25}}}
    path = tmp_path / "old.otio"
    path.write_text(json.dumps(doc))
    read_by_all(path, tmp_path)
    assert open_document(path).clips[0].name == "shot"


def test_subprocess_mutated_corpus_files(tmp_path):
    """A few fuzz cases through a real process: exit 0, 2 or 3, one error line naming the file, no traceback."""
    cases = [(fz.Case("simple_cut.otio", "bytes", (("flip", 700, 0x55), ("cut", 1200, 300))), "clips"),
             (fz.Case("premiere_example.xml", "bytes", (("truncate", 30000),)), "generate"),
             (fz.Case("simple.aaf", "bytes", (("repeat", 9000, 512, 3),)), "clips"),
             (fz.Case("nested_example.otio", "structure", (("no_source_range", 5, 0, 0), ("nest", 3, 6, 0))),
              "generate")]
    for k, (case, command) in enumerate(cases):
        folder = tmp_path / str(k)
        path = fz.build_input(case, CORPUS, folder)
        proc = run_subprocess(command, path, *(["-o", folder / "out.otio", "--dry-run"] if command == "generate"
                                               else []))
        assert proc.returncode in (EXIT_OK, EXIT_BAD_INPUT, 3), (case, proc.returncode, proc.stderr[-2000:])
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-2000:]
        if proc.returncode == EXIT_BAD_INPUT:
            errors = [line for line in proc.stderr.splitlines() if line.startswith("foleyflow: error: ")]
            assert len(errors) == 1 and str(path) in errors[0], proc.stderr


# -- the bounded run of the fuzzer ---------------------------------------------------------------------------
def test_every_corpus_file_reads_unmutated(tmp_path):
    """The seeds read fine through every reader, their media found among the stand-ins (so that the dry run
    goes on to its preflight): mutations start from good input. One AAF stands for all (they cost most)."""
    for name in [n for n in SEEDS if not n.endswith(".aaf")] + ["simple.aaf"]:
        path = fz.build_input(fz.Case(name, "bytes", ()), CORPUS, tmp_path / name)
        ws = fz.Workspace(tmp_path / name)
        fz.stand_ins(CORPUS, name, ws.media)
        results = [fz.run_reader(r, path, ws, fz.seed_rate(name)) for r in fz.READERS]
        assert [r.outcome for r in results] == [fz.OK] * 3, (name, [r.detail for r in results])
        code, printed, _ = fz.run_cli(["generate", str(path), "-o", str(ws.out / "cut.otio"), "--dry-run",
                                       *fz.rate_args(path, fz.seed_rate(name)), "--media-root", str(ws.media)])
        if name != "premiere_generators.xml":  # generators and clips with names no stand-in matches
            assert code == EXIT_OK and " 0 take(s)" not in printed, (name, printed[-2000:])


@settings(max_examples=100, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))  # no shrinking: the failing case prints as it is, small already
@given(case=fz.case_strategy(SEEDS))
def test_fuzzed_corpus_keeps_the_contract(case):
    """Mutated corpus timelines through every reader: ok or a FoleyFlowError naming the file, nothing else."""
    with tempfile.TemporaryDirectory(prefix="foleyflow-fuzz-") as tmp:
        path, results = fz.run_case(case, CORPUS, Path(tmp))
        broken = [(r.reader, r.outcome, r.detail, r.trace[-3000:]) for r in results
                  if r.outcome not in (fz.OK, fz.FFERROR)]
        assert not broken, (case, path.name, broken)


def test_long_run_driver_counts_outcomes(tmp_path):
    """scripts/fuzz_readers.py runs cases in a supervised worker and reports counts by outcome."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "fuzz_readers.py"), "--cases", "4", "--seed", "7",
                           "--out", str(tmp_path / "run"), "--corpus", str(CORPUS)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["cases"] == 4 and sum(summary["by_case"].values()) == 4
    assert set(summary["by_case"]) <= {fz.OK, fz.FFERROR} and not summary["failures"]
    assert len((tmp_path / "run" / "cases.jsonl").read_text().splitlines()) == 4
    assert len((tmp_path / "run" / "plan.jsonl").read_text().splitlines()) == 4  # --plan runs them again
