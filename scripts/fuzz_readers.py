"""Fuzz every reader path of the plugin with mutated corpus timelines (issue 21, item 1).

The readers: ``foleyflow clips``, ``foleyflow generate --dry-run`` (plan_run: read_timeline,
video_clips, select, plan, output checks, preflight) and the panel's open
(``foleyflow.ui.engine.open_document`` and the Document's track rows). The contract: every
input either reads fine or raises a FoleyFlowError subclass whose message names the file;
never another exception, a traceback, a crash or a hang over 30 s.

The inputs are corpus timelines mutated three ways, drawn by hypothesis (``case_strategy``):

- bytes: flipped bytes, cut, repeated and inserted ranges, truncation;
- numbers: numbers of the text (of a binary file: 2/4/8-byte fields) replaced by 0, -1, NaN,
  huge, 1e308, negative rates ...;
- structure: the timeline read with OTIO, then source ranges removed, odd media references,
  negative/zero/NaN durations and rates, deep nesting, empty stacks and tracks, transitions at
  odd places, weird markers and time effects; written back in the corpus file's own format
  where its adapter writes it, else as .otio.

``tests/test_fuzz.py`` runs a bounded sample of this in the normal suite. The long run::

    .venv/bin/python scripts/fuzz_readers.py --cases 10000 --seed 1 [--out out/fuzz/1]

draws the 10,000 cases from the seed first (``OUT/plan.jsonl``), then runs them in a worker
process, each reader call in-process under a 30 s ``signal.alarm``; a supervisor restarts the
worker after the case where it died (a crash) or stopped answering (a hang the alarm cannot
interrupt), and records that case. It prints counts by outcome (ok / FoleyFlowError / other
exception / timeout / crash), writes them to ``OUT/summary.json`` (every case's outcome in
``OUT/cases.jsonl``) and saves every failing input with its case and traceback under
``OUT/failures/``. ``--plan OUT/plan.jsonl`` runs the same cases again; ``--replay OUT/failures``
runs the readers again on the saved failing inputs only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 30
READERS = ("clips", "generate", "panel")
# EDLs carry no rate: 25fps.edl reads at 25, the others at 24 (the corpus README)
EDL_RATES = {"25fps.edl": Fraction(25)}
TEXT_SUFFIXES = (".otio", ".xml", ".fcpxml", ".edl")
# where each suffix's adapter writes a (mutated) timeline back; others are written as .otio
OWN_WRITER = {".otio": "otio_json", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".aaf": "AAF", ".edl": "cmx_3600"}
OK, FFERROR, OTHER, TIMEOUT, CRASH = "ok", "FoleyFlowError", "other exception", "timeout", "crash"
OUTCOMES = (OK, FFERROR, OTHER, TIMEOUT, CRASH)


def default_corpus() -> Path:
    """tests/data/corpus where a copy of the corpus lives, else the shared one."""
    local = REPO / "tests" / "data" / "corpus"
    return local if local.is_dir() else REPO.parent / "shared" / "corpus" / "timelines"


def corpus_files(corpus: Path) -> list[str]:
    return sorted(p.name for p in corpus.iterdir() if p.is_file() and p.suffix.lower() != ".md")


# -- what a case is: plain data, drawn by hypothesis, saved as JSON ------------------------------
@dataclass(frozen=True)
class Case:
    seed: str  # corpus file name
    kind: str  # "bytes", "numbers" or "structure"
    ops: tuple[tuple[Any, ...], ...]
    fmt: str = "own"  # structure: write in the seed's own format ("own"), or as "otio", "otioz", "otiod"
    json_flag: bool = False  # `clips --json`
    sel: int = 0  # SELECTIONS[sel % n]: what the CLI is asked to pick; OUTPUTS[sel // 16 % n]: the dry run's -o

    @property
    def args(self) -> tuple[str, ...]:
        return SELECTIONS[self.sel % len(SELECTIONS)]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Case:
        return cls(d["seed"], d["kind"], tuple(tuple(op) for op in d["ops"]), d.get("fmt", "own"),
                   d.get("json_flag", False), d.get("sel", 0))


# the CLI's selection options a case runs with (the panel gets --timeline as its pick)
SELECTIONS: tuple[tuple[str, ...], ...] = (
    (), (), (), ("--marker", "*"), ("--range", "0-10"), ("--range", "01:00:00:00-01:00:10:00"), ("--track", "V1"),
    ("--name", "*a*"), ("--clip", "V1:0"), ("--clip", "V9:99"), ("--timeline", "2"), ("--track", "v2"),
    ("--marker", "[!x]*", "--track", "V1"),
    ("--range=-5-1e9",),
)


# numbers no editing system writes, as text tokens and as values
NUMBER_TOKENS = ("0", "-1", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e308", "-1e308", "1e309", "1e-308",
                 "99999999999999999999999999", "-99999999999999999999", "2147483648", "-2147483649",
                 "4294967296", "9223372036854775808", "-0", "0.0", "-24", "-25", "0.5", "1e20", "-1e-9", "")
NUMBERS = (0.0, -1.0, math.nan, math.inf, -math.inf, 1e308, -1e308, 1e-308, 2.0 ** 63, -(2.0 ** 63), 1e20, 0.5,
           -0.0, 11 * 24 * 3600 * 24.0, -1000.0, 1e-9, 3.0)
RATES = (0.0, -1.0, -24.0, math.nan, math.inf, -math.inf, 1e-300, 1e308, 0.001, 23.976, 1e6, 24.0, 25.0,
         30000 / 1001, 7.0)
ODD_URLS = (
    "", "file://", "file:///", "file:", "file:///nonexistent/a b#c?.mov", "file://localhost/D%3a/x/y.mov",
    "file://server/share/a.mov", "http://example.com/a.mov", "s3://bucket/k.mov", "C:\\media\\a.mov",
    "\\\\server\\share\\a.mov", "relative/a.mov", "../../../../../../etc/passwd", "%", "%zz%", "file:///%",
    "file:///a%00b.mov", "\x00", "a\x00b.mov", "file:///" + "x" * 5000 + ".mov", "/" * 300, "~/a.mov", ".", "..",
    "file:///dev/null", "file:///proc/self/fd/0", "data:video/mp4;base64,AAAA", "urn:uuid:1", "file:///tmp", "C:",
    "D:relative.mov", "file://[::1]/a.mov", "file://:99999/a.mov", "file://%zz/a.mov", "mailto:x",
    "\u202e.mov", "\u30d5\u30a1\u30a4\u30eb.mov", " ", "file:///a/../../b.mov", "x" * 300 + ".mov",
    "/".join(["d" * 250] * 20) + "/a.mov", "file:" + "/" * 5, "FILE:///A.MOV", "file:///%2e%2e/%2e%2e/etc/passwd",
    "@STANDIN", "@FOLDER",
)
ODD_NAMES = ("", " ", "..", "../../x", "a/b\\c", "\x00", "\u202e", "\n\r\t", "x" * 10000, "%s%n{0}", "*?[", "V1:3",
             "\ud7ff\ue000", "<>&\"'")
GENERATOR_KINDS = ("", "SMPTEBars", "SolidColor", "\x00", "x" * 1000)


def case_strategy(seeds: Sequence[str]):
    """A hypothesis strategy of :class:`Case` over the corpus files ``seeds``."""
    from hypothesis import strategies as st

    def choice(seq: Sequence) -> st.SearchStrategy:  # near uniform (sampled_from leans to the first)
        return st.integers(0, 2**32 - 1).map(lambda i: seq[i % len(seq)])

    pos = st.integers(0, 2**31 - 1)  # a position, taken modulo the length at hand
    size = st.one_of(st.integers(1, 16), st.integers(1, 4096), st.integers(1, 1 << 20))
    byte_op = st.one_of(
        st.tuples(st.just("flip"), pos, st.integers(1, 255)),
        st.tuples(st.just("set"), pos, st.integers(0, 255)),
        st.tuples(st.just("cut"), pos, size),
        st.tuples(st.just("repeat"), pos, size, st.integers(2, 64)),
        st.tuples(st.just("insert"), pos, st.binary(min_size=1, max_size=32).map(bytes.hex)),
        st.tuples(st.just("truncate"), pos),
    )
    number_op = st.one_of(
        st.tuples(st.just("number"), pos, st.integers(0, len(NUMBER_TOKENS) - 1)),
        st.tuples(st.just("rate"), pos, st.integers(0, len(NUMBER_TOKENS) - 1)),
        st.tuples(st.just("all"), st.integers(0, 1 << 16), st.integers(0, len(NUMBER_TOKENS) - 1)),
    )
    idx = st.integers(0, 1 << 16)
    struct_op = st.one_of(
        st.tuples(choice(STRUCT_OPS), idx, idx, idx),
    )
    n = st.integers(1, 4)
    sel = st.integers(0, 2**16)
    return st.one_of(
        st.builds(Case, choice(list(seeds)), st.just("bytes"), st.lists(byte_op, min_size=1, max_size=4)
                  .map(tuple), st.just("own"), st.booleans(), sel),
        st.builds(Case, choice(list(seeds)), st.just("numbers"),
                  st.lists(number_op, min_size=1, max_size=4).map(tuple), st.just("own"), st.booleans(), sel),
        st.builds(Case, choice(list(seeds)), st.just("structure"),
                  n.flatmap(lambda k: st.lists(struct_op, min_size=k, max_size=k)).map(tuple),
                  choice(["own", "own", "own", "otio", "otioz", "otiod"]), st.booleans(), sel),
    )


# -- byte and number mutations -------------------------------------------------------------------
def mutate_bytes(data: bytes, ops: Sequence[tuple[Any, ...]]) -> bytes:
    buf = bytearray(data)
    for op in ops:
        name, p = op[0], (op[1] % (len(buf) + 1))
        if name == "flip" and buf:
            buf[p % len(buf)] ^= op[2]
        elif name == "set" and buf:
            buf[p % len(buf)] = op[2]
        elif name == "cut":
            del buf[p:p + op[2]]
        elif name == "repeat":
            chunk = bytes(buf[p:p + op[2]])
            if len(chunk) * op[3] <= 8 << 20:  # at most 8 MiB more
                buf[p:p + len(chunk)] = chunk * op[3]
        elif name == "insert":
            buf[p:p] = bytes.fromhex(op[2])
        elif name == "truncate":
            del buf[p:]
    return bytes(buf)


_NUMBER_RE = None
_RATE_RE = None


def _regexes():
    import re

    global _NUMBER_RE, _RATE_RE
    if _NUMBER_RE is None:
        _NUMBER_RE = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
        _RATE_RE = re.compile(rb'(?:"rate"\s*:\s*|<timebase>|frameDuration="|tcFormat="|FCM:\s*|"ntsc"\s*:\s*|'
                              rb'<ntsc>|duration="|offset="|start=")(-?[\w.+/-]+)')
    return _NUMBER_RE, _RATE_RE


def mutate_numbers(data: bytes, ops: Sequence[tuple[Any, ...]], binary: bool) -> bytes:
    """Replace numbers of the text (of a binary file: 2/4/8-byte fields) by odd ones."""
    if binary:
        buf = bytearray(data)
        for op in ops:
            value = NUMBERS[op[2] % len(NUMBERS)]
            kind = ("<d", "<i", "<q", "<h", ">i")[op[1] % 5]
            try:
                packed = struct.pack(kind, value if kind == "<d" else int(value) if math.isfinite(value) else -1)
            except struct.error:
                packed = b"\xff" * struct.calcsize(kind)
            count = 1 if op[0] != "all" else 1 + op[1] % 64
            for k in range(count):
                p = (op[1] * (k + 7919)) % max(1, len(buf) - len(packed))
                p -= p % len(packed)
                buf[p:p + len(packed)] = packed
        return bytes(buf)
    number, rate = _regexes()
    text = data
    for op in ops:
        token = NUMBER_TOKENS[op[2] % len(NUMBER_TOKENS)].encode()
        pattern = rate if op[0] == "rate" else number
        spans = [m.span(1 if op[0] == "rate" else 0) for m in pattern.finditer(text)]
        if not spans:
            continue
        if op[0] == "all":  # every k-th number
            step = 1 + op[1] % 7
            chosen = spans[op[1] % step::step]
        else:
            chosen = [spans[op[1] % len(spans)]]
        for a, b in reversed(chosen):
            text = text[:a] + token + text[b:]
    return text


# -- structural mutations on the OTIO objects ---------------------------------------------------------
def _nodes(tl) -> list:
    return [tl.tracks, *tl.tracks.find_children()]


def _pick(seq: Sequence, i: int):
    return seq[i % len(seq)] if seq else None


def _rt(value: float, rate: float):
    import opentimelineio as otio

    return otio.opentime.RationalTime(value, rate)


def _range_rate(item) -> float:
    try:
        r = item.source_range
        return r.duration.rate if r is not None else 24.0
    except Exception:
        return 24.0


def _odd_reference(i: int, j: int, ctx: dict[str, Path]):
    import opentimelineio as otio

    kind = i % 8
    if kind == 0:
        return None
    if kind == 1:
        return otio.schema.MissingReference()
    if kind == 2:  # a missing reference whose metadata remembers odd URLs
        return otio.schema.MissingReference(metadata={"original_target_url": _url(j, ctx),
                                                      "Resolve": {"Media Url": _url(j + 1, ctx)}})
    if kind == 3:
        return otio.schema.GeneratorReference(generator_kind=_pick(GENERATOR_KINDS, j),
                                              parameters={"x": _pick(NUMBERS, j)})
    if kind == 4:
        return otio.schema.ImageSequenceReference(
            target_url_base=_url(j, ctx), name_prefix="f.", name_suffix=".exr",
            start_frame=int(_pick((0, -1, 10**9, -(10**9), 1), j)), frame_step=int(_pick((1, 0, -1, 1000), j // 3)),
            rate=_pick(RATES, j), frame_zero_padding=int(_pick((0, 4, -1, 64), j // 5)),
            available_range=_odd_range(j, 24.0) if j % 2 else None)
    ref = otio.schema.ExternalReference(target_url=_url(j, ctx))
    if kind == 6:
        ref.available_range = _odd_range(j, 24.0)
    return ref


def _url(j: int, ctx: dict[str, Path]) -> str:
    url = _pick(ODD_URLS, j)
    if url == "@STANDIN":
        return ctx["standin"].as_uri()
    if url == "@FOLDER":
        return ctx["standin"].parent.as_uri()
    return url


def _odd_range(j: int, rate: float):
    import opentimelineio as otio

    start = _pick(NUMBERS, j)
    dur = _pick(NUMBERS, j // 3 + 1)
    r = _pick(RATES, j // 7) if j % 3 == 0 else rate
    return otio.opentime.TimeRange(_rt(start, r), _rt(dur, r))


def _effect(j: int):
    import opentimelineio as otio

    kind = j % 6
    value = _pick(NUMBERS, j // 6)
    if kind == 0:
        return otio.schema.LinearTimeWarp(time_scalar=value)
    if kind == 1:
        return otio.schema.FreezeFrame()
    if kind == 2:
        odd = _pick((value, "2", True, None, [1, 2], {"speed": value}, 2**62), j // 6)
        return otio.schema.Effect(effect_name="LinearTimeWarp", metadata={"speed": odd})
    if kind == 3:
        return otio.schema.Effect(effect_name="TimeWarp", metadata={"a": {"b": {"c": {"time_scalar": value}}}})
    if kind == 4:
        return otio.schema.Effect(effect_name="FreezeFrame")
    return otio.schema.Effect(effect_name=_pick(ODD_NAMES, j), metadata={"speed": value})


def _nested(depth: int, inner):
    import opentimelineio as otio

    node = inner
    for level in range(depth):
        wrap = otio.schema.Stack() if level % 2 == 0 else otio.schema.Track()
        wrap.append(node)
        node = wrap
    return node


def _detach(item):
    parent = item.parent()
    if parent is None:
        return None
    idx = parent.index(item)
    del parent[idx]
    return parent, idx


def op_no_source_range(tl, a, b, c, ctx):
    items = [n for n in _nodes(tl) if hasattr(n, "source_range") and not _is_transition(n)]
    item = _pick(items, a)
    if item is not None:
        item.source_range = None


def op_media_reference(tl, a, b, c, ctx):
    import opentimelineio as otio

    clip = _pick(list(tl.find_clips()), a)
    if clip is not None:
        clip.media_reference = _odd_reference(b, c, ctx)
        if c % 5 == 0 and isinstance(clip.media_reference, otio.schema.ExternalReference):
            clip.source_range = None  # the clip's range from the reference's available range


def op_available_range(tl, a, b, c, ctx):
    clip = _pick(list(tl.find_clips()), a)
    if clip is not None and clip.media_reference is not None:
        clip.media_reference.available_range = None if b % 4 == 0 else _odd_range(c, _range_rate(clip))


def op_duration(tl, a, b, c, ctx):
    import opentimelineio as otio

    items = [n for n in _nodes(tl) if hasattr(n, "source_range") and not _is_transition(n)]
    item = _pick(items, a)
    if item is None:
        return
    rate = _range_rate(item)
    start = item.source_range.start_time if item.source_range is not None else _rt(0, rate)
    value = _pick((0.0, -1.0, -1000.0, math.nan, math.inf, 1e308, 1e-9, 0.4, -0.0, 2.0 ** 53), b)
    item.source_range = otio.opentime.TimeRange(start, _rt(value, start.rate))


def op_start(tl, a, b, c, ctx):
    import opentimelineio as otio

    items = [n for n in _nodes(tl) if hasattr(n, "source_range") and not _is_transition(n)]
    item = _pick(items, a)
    if item is None:
        return
    rate = _range_rate(item)
    dur = item.source_range.duration if item.source_range is not None else _rt(24, rate)
    item.source_range = otio.opentime.TimeRange(_rt(_pick(NUMBERS, b), dur.rate), dur)


def op_rate(tl, a, b, c, ctx):
    import opentimelineio as otio

    items = [n for n in _nodes(tl) if getattr(n, "source_range", None) is not None]
    item = _pick(items, a)
    if item is None:
        return
    r = item.source_range
    rate = _pick(RATES, b)
    which = c % 3  # both, start only, duration only
    start = _rt(r.start_time.value, rate) if which in (0, 1) else r.start_time
    dur = _rt(r.duration.value, rate) if which in (0, 2) else r.duration
    item.source_range = otio.opentime.TimeRange(start, dur)


def op_global_start(tl, a, b, c, ctx):
    tl.global_start_time = None if a % 5 == 0 else _rt(_pick(NUMBERS, b), _pick(RATES, c))


def op_nest(tl, a, b, c, ctx):
    items = [n for n in _nodes(tl)[1:] if n.parent() is not None]
    item = _pick(items, a)
    if item is None:
        return
    depth = _pick((1, 2, 3, 8, 40, 200, 480, 520), b)
    where = _detach(item)
    if where is None:
        return
    parent, idx = where
    try:
        parent.insert(idx, _nested(depth, item))
    except Exception:
        parent.insert(idx, item)


def op_empty(tl, a, b, c, ctx):
    import opentimelineio as otio

    kind = b % 6
    if kind == 0:  # clear the whole timeline
        del tl.tracks[:]
        return
    comps = [n for n in _nodes(tl) if isinstance(n, otio.core.Composition)]
    comp = _pick(comps, a)
    if comp is None:
        return
    if kind == 1:
        del comp[:]
        return
    new = (otio.schema.Stack(), otio.schema.Track(), otio.schema.Gap(),
           otio.schema.Track(kind=otio.schema.TrackKind.Audio), _nested(3, otio.schema.Track()))[c % 5]
    try:
        comp.insert(c % (len(comp) + 1), new)
    except Exception:
        pass


def op_transition(tl, a, b, c, ctx):
    import opentimelineio as otio

    comps = [n for n in _nodes(tl) if isinstance(n, otio.core.Composition)]
    comp = _pick(comps, a)
    if comp is None:
        return
    rate = 24.0
    off = _pick((0.0, 1.0, 12.0, -5.0, math.nan, 1e308, 10**6, 0.5), b)
    off2 = _pick((0.0, 1.0, 12.0, -5.0, math.inf, 1e-9, 10**6, 3.0), b // 8)
    tr = otio.schema.Transition(in_offset=_rt(off, rate), out_offset=_rt(off2, _pick(RATES, c // 16)
                                                                          if c % 4 == 0 else rate))
    place = c % 4
    pos = 0 if place == 0 else len(comp) if place == 1 else (c // 4) % (len(comp) + 1)
    try:
        comp.insert(pos, tr)
        if place == 3:  # two in a row
            comp.insert(pos, tr.clone())
    except Exception:
        pass


def op_marker(tl, a, b, c, ctx):
    import opentimelineio as otio

    items = [n for n in _nodes(tl) if hasattr(n, "markers")]
    item = _pick(items, a)
    if item is None:
        return
    item.markers.append(otio.schema.Marker(name=_pick(ODD_NAMES, c), marked_range=_odd_range(b, 24.0)))


def op_effect(tl, a, b, c, ctx):
    items = [n for n in _nodes(tl) if hasattr(n, "effects")]
    item = _pick(items, a)
    if item is not None:
        for k in range(1 + c % 3):
            item.effects.append(_effect(b + k))


def op_disable(tl, a, b, c, ctx):
    items = [n for n in _nodes(tl) if hasattr(n, "enabled")]
    item = _pick(items, a)
    if item is not None:
        item.enabled = False


def op_name(tl, a, b, c, ctx):
    items = [tl, *_nodes(tl)]
    item = _pick(items, a)
    if item is not None:
        item.name = _pick(ODD_NAMES, b)


def op_track_kind(tl, a, b, c, ctx):
    import opentimelineio as otio

    tracks = [n for n in _nodes(tl) if isinstance(n, otio.schema.Track)]
    track = _pick(tracks, a)
    if track is not None:
        track.kind = _pick(("Audio", "Video", "", "video", "Subtitle", "\x00"), b)


def op_metadata(tl, a, b, c, ctx):
    items = [tl, *_nodes(tl)]
    item = _pick(items, a)
    if item is None:
        return
    deep: Any = _pick(NUMBERS, c)
    for _ in range(_pick((1, 10, 100, 400), b)):
        deep = {"speed": deep, "Media Url": _pick(ODD_URLS[:-2], c)}
    item.metadata["fuzz"] = deep
    item.metadata["foleyflow"] = _pick(({"source_clip": "V1:0"}, "x", [1], {"source_clip": None}, None), b)


def op_remove(tl, a, b, c, ctx):
    items = [n for n in _nodes(tl)[1:] if n.parent() is not None]
    item = _pick(items, a)
    if item is not None:
        _detach(item)


def op_move_to_top(tl, a, b, c, ctx):
    """Put an item straight into the timeline's stack (a clip at top level, outside any track)."""
    items = [n for n in _nodes(tl)[1:] if n.parent() is not None]
    item = _pick(items, a)
    if item is None or _detach(item) is None:
        return
    try:
        tl.tracks.insert(b % (len(tl.tracks) + 1), item)
    except Exception:
        pass


def op_duplicate(tl, a, b, c, ctx):
    import opentimelineio as otio

    comps = [n for n in _nodes(tl) if isinstance(n, otio.core.Composition) and len(n)]
    comp = _pick(comps, a)
    if comp is None:
        return
    child = comp[b % len(comp)]
    for _ in range(_pick((1, 10, 300), c)):
        comp.insert(b % len(comp), child.clone())


def op_abstract(tl, a, b, c, ctx):
    """Put a bare base-class object (Item, Composable) into a composition: OTIO JSON can hold one."""
    import opentimelineio as otio

    comps = [n for n in _nodes(tl) if isinstance(n, otio.core.Composition)]
    comp = _pick(comps, a)
    if comp is None:
        return
    thing = (otio.core.Item(name="item", source_range=_odd_range(c, 24.0) if c % 3 else None),
             otio.core.Composable(name="composable"), otio.core.Item(name="plain", source_range=otio.opentime.TimeRange(
                 _rt(0, 24), _rt(24, 24))))[b % 3]
    try:
        comp.insert(c % (len(comp) + 1), thing)
    except Exception:
        pass


def _is_transition(n) -> bool:
    import opentimelineio as otio

    return isinstance(n, otio.schema.Transition)


STRUCT_OPS_TABLE: dict[str, Callable] = {
    "no_source_range": op_no_source_range, "media_reference": op_media_reference,
    "available_range": op_available_range, "duration": op_duration, "start": op_start, "rate": op_rate,
    "global_start": op_global_start, "nest": op_nest, "empty": op_empty, "transition": op_transition,
    "marker": op_marker, "effect": op_effect, "disable": op_disable, "name": op_name,
    "track_kind": op_track_kind, "metadata": op_metadata, "remove": op_remove, "move_to_top": op_move_to_top,
    "duplicate": op_duplicate, "abstract": op_abstract,
}
STRUCT_OPS = tuple(STRUCT_OPS_TABLE)


# -- building a case's input file ------------------------------------------------------------------
_PARSED: dict[tuple[str, str], Any] = {}


def seed_rate(name: str) -> Fraction | None:
    return EDL_RATES.get(name, Fraction(24)) if name.lower().endswith(".edl") else None


def parsed_seed(corpus: Path, name: str):
    """The corpus timeline as OTIO reads it (a fresh copy each time)."""
    import opentimelineio as otio

    key = (str(corpus), name)
    if key not in _PARSED:
        rate = seed_rate(name)
        kwargs = {"rate": float(rate)} if rate is not None else {}
        _PARSED[key] = otio.adapters.read_from_file(str(corpus / name), **kwargs)
    return _PARSED[key].deepcopy()


def _timeline_of(obj):
    import opentimelineio as otio

    if isinstance(obj, otio.schema.Timeline):
        return obj
    found = list(obj.find_children(descended_from_type=otio.schema.Timeline))
    return found[0] if found else None


def build_input(case: Case, corpus: Path, folder: Path) -> Path:
    """Write the case's input timeline under ``folder/in``; return its path.

    The file keeps the seed's name (and suffix, unless a structural case is written as .otio).
    """
    import opentimelineio as otio

    inbox = folder / "in"
    inbox.mkdir(parents=True, exist_ok=True)
    seed_path = corpus / case.seed
    suffix = seed_path.suffix.lower()
    if case.kind in ("bytes", "numbers"):
        data = seed_path.read_bytes()
        data = (mutate_bytes(data, case.ops) if case.kind == "bytes"
                else mutate_numbers(data, case.ops, binary=suffix not in TEXT_SUFFIXES))
        path = inbox / case.seed
        path.write_bytes(data)
        return path
    ctx = {"standin": folder / "media" / "standin.mov"}
    obj = parsed_seed(corpus, case.seed)
    tl = _timeline_of(obj)
    if tl is not None:
        for name, a, b, c in case.ops:
            STRUCT_OPS_TABLE[name](tl, a, b, c, ctx)
    writer = OWN_WRITER.get(suffix) if case.fmt == "own" else case.fmt if case.fmt in ("otioz", "otiod") else None
    if writer is not None:
        path = inbox / (case.seed if writer not in ("otioz", "otiod") else Path(case.seed).stem + "." + writer)
        kwargs: dict[str, Any] = {"use_empty_mob_ids": True} if writer == "AAF" else {}
        if writer in ("otioz", "otiod"):
            from opentimelineio.adapters.file_bundle_utils import MediaReferencePolicy

            kwargs["media_policy"] = MediaReferencePolicy.MissingIfNotFile
        if writer == "cmx_3600":
            kwargs["rate"] = float(seed_rate(case.seed) or 24)
        try:
            with _alarm(TIMEOUT_S):
                otio.adapters.write_to_file(obj if writer != "cmx_3600" else tl, str(path), adapter_name=writer,
                                            **kwargs)
            return path
        except (Exception, ReaderTimeout):  # the adapter cannot write this: .otio carries anything
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(OSError):
                path.unlink()
    path = inbox / (Path(case.seed).stem + ".otio")
    otio.adapters.write_to_file(obj, str(path), adapter_name="otio_json")
    return path


def stand_ins(corpus: Path, name: str, media: Path) -> None:
    """Empty files named as the seed's clips' media (and clip names) ask, so that media is 'found' and
    the dry run goes on to its output checks and preflight (nothing is decoded there)."""
    from foleyflow.plugin.clips import video_clips
    from foleyflow.plugin.media import VIDEO_EXTENSIONS, pure_path, reference_path
    from foleyflow.plugin.timeline import timeline_rate

    media.mkdir(parents=True, exist_ok=True)
    (media / "standin.mov").touch()
    try:
        tl = _timeline_of(parsed_seed(corpus, name))
        infos = video_clips(tl, timeline_rate(tl, seed_rate(name)))
    except Exception:
        return
    for info in infos:
        raw = reference_path(info.media_reference)
        base = pure_path(raw).name if raw else pure_path(info.name).name if info.name else ""
        if not base or base in (".", ".."):
            continue
        if not raw and Path(base).suffix.lower() not in VIDEO_EXTENSIONS:
            base += ".mov"
        with contextlib.suppress(OSError, ValueError):
            (media / base).touch()


# -- running the readers ----------------------------------------------------------------------------
class ReaderTimeout(BaseException):  # noqa: N818 - not an Exception: nothing under test may swallow it
    """A reader ran past its alarm."""


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def fire(signum, frame):
        raise ReaderTimeout(f"ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Result:
    reader: str
    outcome: str  # OK, FFERROR, OTHER or TIMEOUT
    detail: str = ""  # the error class and message, or what broke the contract
    trace: str = ""
    seconds: float = 0.0


@dataclass
class Workspace:
    """Where a case's files live: ``in/`` (the input), ``media/`` (stand-ins), ``out/`` (the dry run's -o)."""

    root: Path
    media: Path = field(init=False)
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        self.media = self.root / "media"
        self.out = self.root / "out"
        self.out.mkdir(parents=True, exist_ok=True)
        self.media.mkdir(parents=True, exist_ok=True)


# the dry run's -o: mostly the input's own format, sometimes another writer's (its preflight writes it)
OUTPUTS = ("own", "own", "own", ".otio", ".xml", ".fcpxml", ".aaf", ".otioz")


def output_for(path: Path, ws: Workspace, variant: int = 0) -> Path:
    """The dry run's -o: the input's own format where the plugin writes it (else .otio), or another."""
    suffix = OUTPUTS[variant % len(OUTPUTS)]
    if suffix == "own":
        suffix = path.suffix.lower() if path.suffix.lower() in (".otio", ".xml", ".fcpxml", ".aaf") else ".otio"
    return ws.out / ("cut" + suffix)


def _names_file(exc: BaseException, files: Sequence[Path]) -> bool:
    text = str(exc)
    return any(str(f) in text for f in files) and bool(getattr(exc, "message", text).strip())


def _classify(reader: str, exc: BaseException | None, files: Sequence[Path], code: int | None = None,
              printed: str = "") -> Result:
    from foleyflow.runtime.errors import FoleyFlowError

    if isinstance(exc, ReaderTimeout):
        return Result(reader, TIMEOUT, str(exc))
    if exc is not None and not isinstance(exc, FoleyFlowError):
        return Result(reader, OTHER, f"{type(exc).__module__}.{type(exc).__qualname__}: {str(exc)[:500]}",
                      "".join(traceback.format_exception(exc))[-6000:])
    if "Traceback (most recent call last)" in printed:
        return Result(reader, OTHER, "a traceback was printed", printed[-6000:])
    if code is not None and code not in (0, 2, 3):
        return Result(reader, OTHER, f"exit code {code}", printed[-6000:])
    if exc is not None:
        from foleyflow.plugin.errors import SelectionError

        # a selection that matches nothing is about the command line, not the file (selection.py has no path)
        if not _names_file(exc, files) and not (isinstance(exc, SelectionError) and exc.path is None):
            return Result(reader, OTHER, f"{type(exc).__name__} does not name the file: {str(exc)[:500]}")
        if code is not None and code != exc.exit_code:
            return Result(reader, OTHER, f"exit code {code} for {type(exc).__name__}", printed[-6000:])
        return Result(reader, FFERROR, f"{type(exc).__name__}: {str(exc)[:300]}")
    if code == 2:
        return Result(reader, OTHER, "exit code 2 without a FoleyFlowError", printed[-6000:])
    return Result(reader, OK)


def run_cli(argv: Sequence[str]) -> tuple[int | None, str, BaseException | None]:
    """``foleyflow.plugin.cli.main(argv)`` in-process: (exit code, everything printed, the command's exception).

    The command functions are wrapped to see the exception behind the CLI's one line (an OSError
    there exits 2 too, but is not our own error)."""
    from foleyflow.plugin import cli

    caught: list[BaseException] = []
    originals = {name: getattr(cli, name) for name in ("cmd_clips", "cmd_generate")}

    def spy(fn):
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                caught.append(exc)
                raise
        return wrapper

    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    escaped: BaseException | None = None
    try:
        for name, fn in originals.items():
            setattr(cli, name, spy(fn))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(argv))
            except ReaderTimeout:
                raise
            except BaseException as exc:  # escaped main(): a traceback for the user
                escaped = exc
    finally:
        for name, fn in originals.items():
            setattr(cli, name, fn)
        _quiet_logging()
    exc = escaped or (caught[0] if caught else None)
    return code, out.getvalue() + err.getvalue(), exc


def _quiet_logging() -> None:
    import logging

    root = logging.getLogger()
    root.handlers[:] = [logging.NullHandler()]
    root.setLevel(logging.WARNING)


def rate_args(path: Path, rate: Fraction | None) -> list[str]:
    return ["--rate", str(rate)] if rate is not None else []


def run_reader(reader: str, path: Path, ws: Workspace, rate: Fraction | None, json_flag: bool = False,
               timeout: int = TIMEOUT_S, args: Sequence[str] = (), output_variant: int = 0) -> Result:
    """One reader path on ``path``, in-process, under a ``timeout`` alarm; classified by the contract."""
    t0 = time.perf_counter()
    output = output_for(path, ws, output_variant)
    files = (path, output)
    try:
        with _alarm(timeout):
            if reader == "clips":
                argv = ["clips", str(path), *rate_args(path, rate), "--media-root", str(ws.media)]
                code, printed, exc = run_cli(argv + list(args) + (["--json"] if json_flag else []))
                result = _classify(reader, exc, files, code, printed)
            elif reader == "generate":
                argv = ["generate", str(path), "-o", str(output), "--dry-run", *rate_args(path, rate),
                        "--media-root", str(ws.media), *args]
                code, printed, exc = run_cli(argv)
                result = _classify(reader, exc, files, code, printed)
            elif reader == "panel":
                pick = int(args[1]) - 1 if args[:1] == ("--timeline",) else None
                result = _classify(reader, _open_panel(path, rate, ws, pick), files)
            else:
                raise ValueError(reader)
    except ReaderTimeout as exc:
        result = _classify(reader, exc, files)
    result.seconds = time.perf_counter() - t0
    return result


def _open_panel(path: Path, rate: Fraction | None, ws: Workspace, pick: int | None = None) -> BaseException | None:
    from foleyflow.ui.engine import open_document

    try:
        doc = open_document(path, pick=pick, rate=rate, media_roots=[ws.media])
        doc.tracks()
        _ = doc.duration, doc.rows, doc.name, doc.rate_text
    except ReaderTimeout:
        raise
    except BaseException as exc:
        return exc
    finally:
        _quiet_logging()
    return None


def run_case(case: Case, corpus: Path, folder: Path, timeout: int = TIMEOUT_S,
             readers: Sequence[str] = READERS) -> tuple[Path, list[Result]]:
    """Build the case's input under ``folder`` and run every reader on it."""
    ws = Workspace(folder)
    stand_ins(corpus, case.seed, ws.media)
    path = build_input(case, corpus, folder)
    rate = seed_rate(case.seed) if path.suffix.lower() == ".edl" else None
    return path, [run_reader(r, path, ws, rate, case.json_flag, timeout, case.args, case.sel // 16)
                  for r in readers]


# -- the long run: a supervisor and a worker ---------------------------------------------------------
def plan_cases(n: int, seed: int, seeds: Sequence[str]) -> list[Case]:
    """``n`` cases drawn by hypothesis from ``seed``, before any runs (nothing is executed here), so that
    a worker restarted after a crash goes on with exactly the cases that were planned."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    cases: list[Case] = []

    def draw(case: Case) -> None:
        cases.append(case)

    batch = 0
    while len(cases) < n:  # hypothesis may end a batch early (an exhausted space): go on with the next
        before = len(cases)
        run = settings(max_examples=n - len(cases), database=None, deadline=None, phases=[Phase.generate],
                       suppress_health_check=list(HealthCheck))(given(case=case_strategy(seeds))(draw))
        hseed(seed * 1000 + batch)(run)()
        batch += 1
        if len(cases) == before:
            break
    return cases[:n]


def worker(args: argparse.Namespace) -> int:
    """Run the planned cases ``skip``.. in-process; one JSON line per case on stdout."""
    corpus = Path(args.corpus)
    scratch = Path(args.scratch)
    plan = [Case.from_json(json.loads(line)) for line in Path(args.plan).read_text().splitlines()]
    emit = sys.stdout
    sys.stdout = sys.stderr  # whatever a reader prints never mixes with the protocol
    for i in range(args.skip, len(plan)):
        case = plan[i]
        folder = scratch / "current"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "case.json").write_text(json.dumps({"i": i, "case": case.to_json()}))
        print(json.dumps({"start": i}), file=emit, flush=True)
        try:
            path, results = run_case(case, corpus, folder, args.timeout)
            line = {"i": i, "case": case.to_json(), "input": str(path),
                    "results": [asdict(r) for r in results]}
        except BaseException as exc:  # building the input failed: not a reader's finding
            line = {"i": i, "case": case.to_json(), "input": "", "build_error":
                    "".join(traceback.format_exception(exc))[-4000:], "results": []}
        if any(r["outcome"] not in (OK, FFERROR) for r in line["results"]):
            keep = Path(args.out) / "failures" / f"{i:05d}"
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(folder / "in", keep / "in")
            (keep / "case.json").write_text(json.dumps(line, indent=1))
        print(json.dumps(line), file=emit, flush=True)
    return 0


def supervise(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "cases.jsonl"
    counts: Counter[str] = Counter()  # per reader call
    case_counts: Counter[str] = Counter()  # per case: its worst outcome
    by_reader: dict[str, Counter[str]] = {r: Counter() for r in READERS}
    built_errors = 0
    failures: list[str] = []
    done = 0
    t0 = time.time()
    scratch = Path(tempfile.mkdtemp(prefix="foleyflow-fuzz-"))
    rank = {o: k for k, o in enumerate(OUTCOMES)}
    plan_path = out / "plan.jsonl"  # every case, one a line: --plan runs exactly these again
    if args.plan is not None:
        lines = Path(args.plan).read_text().splitlines()[:args.cases]
        if Path(args.plan).resolve() != plan_path.resolve():
            plan_path.write_text("".join(line + "\n" for line in lines))
    else:
        t_plan = time.time()
        planned = plan_cases(args.cases, args.seed, corpus_files(Path(args.corpus)))
        plan_path.write_text("".join(json.dumps(c.to_json()) + "\n" for c in planned))
        print(f"planned {len(planned)} cases (seed {args.seed}) in {time.time() - t_plan:.0f} s: {plan_path}",
              flush=True)
    total = len(plan_path.read_text().splitlines())
    args.cases = min(args.cases, total)
    with log_path.open("w") as log:
        while done < args.cases:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--plan", str(plan_path),
                   "--skip", str(done), "--corpus", str(args.corpus), "--out", str(out),
                   "--scratch", str(scratch), "--timeout", str(args.timeout)]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
            started: int | None = None
            assert proc.stdout is not None
            lines = _lines_with_timeout(proc, 3 * args.timeout + 30)
            for line in lines:
                if line is None:  # silent past every alarm: a hang in C code; kill it
                    proc.kill()
                    break
                msg = json.loads(line)
                if "start" in msg:
                    started = msg["start"]
                    continue
                started = None
                done = msg["i"] + 1
                log.write(line)
                log.flush()
                if msg.get("build_error"):
                    built_errors += 1
                worst = OK
                for r in msg["results"]:
                    counts[r["outcome"]] += 1
                    by_reader[r["reader"]][r["outcome"]] += 1
                    worst = max(worst, r["outcome"], key=rank.__getitem__)
                    if r["outcome"] not in (OK, FFERROR):
                        failures.append(f"case {msg['i']} {r['reader']}: {r['outcome']}: {r['detail'][:200]}")
                case_counts[worst] += 1
                if done % 500 == 0:
                    print(f"{done}/{args.cases} cases, {time.time() - t0:.0f} s: {dict(case_counts)}", flush=True)
            proc.wait()
            if started is not None:  # the worker died or hung inside this case
                outcome = CRASH if lines.timed_out is False else TIMEOUT
                case_counts[outcome] += 1
                counts[outcome] += 1
                keep = out / "failures" / f"{started:05d}"
                shutil.rmtree(keep, ignore_errors=True)
                with contextlib.suppress(OSError):
                    shutil.copytree(scratch / "current" / "in", keep / "in")
                    shutil.copy(scratch / "current" / "case.json", keep / "case.json")
                failures.append(f"case {started}: {outcome} (worker exit {proc.returncode})")
                log.write(json.dumps({"i": started, "outcome": outcome, "returncode": proc.returncode}) + "\n")
                done = started + 1
            elif done < args.cases:  # it ended between cases: a broken worker, or hypothesis ran dry
                print(f"the worker exited {proc.returncode} after case {done - 1}, short of {args.cases}; stopping",
                      file=sys.stderr)
                break
    shutil.rmtree(scratch, ignore_errors=True)
    wall = time.time() - t0
    summary = {"cases": done, "seed": args.seed, "wall_s": round(wall, 1), "by_case": dict(case_counts),
               "by_reader_call": dict(counts), "by_reader": {r: dict(c) for r, c in by_reader.items()},
               "inputs_not_built": built_errors, "failures": failures[:200], "out": str(out)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    return 0 if not failures else 1


class _lines_with_timeout:  # noqa: N801 - an iterator, read like a function
    """Lines of a worker's stdout; ``None`` once nothing came for ``timeout`` seconds."""

    def __init__(self, proc: subprocess.Popen, timeout: float) -> None:
        import queue
        import threading

        self.q: queue.Queue[str | None] = queue.Queue()
        self.timeout = timeout
        self.timed_out = False

        def pump() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                self.q.put(line)
            self.q.put(None)

        threading.Thread(target=pump, daemon=True).start()
        self._done = False

    def __iter__(self):
        import queue

        while not self._done:
            try:
                line = self.q.get(timeout=self.timeout)
            except queue.Empty:
                self.timed_out = True
                self._done = True
                yield None
                return
            if line is None:
                self._done = True
                return
            yield line


def replay(folder: Path, timeout: int) -> int:
    """Run every reader again on each saved failing input under ``folder`` (a run's ``failures/``).

    In this process: an input that still crashes it ends the replay there, with the case named on stderr
    and the crash's Python stack (faulthandler)."""
    import faulthandler

    faulthandler.enable()
    bad = 0
    for case_file in sorted(folder.glob("*/case.json")):
        print(f"replaying {case_file.parent.name} ...", file=sys.stderr, flush=True)
        info = json.loads(case_file.read_text())
        inputs = sorted((case_file.parent / "in").iterdir()) if (case_file.parent / "in").is_dir() else []
        if not inputs:
            continue
        case = Case.from_json(info["case"])
        with tempfile.TemporaryDirectory(prefix="foleyflow-replay-") as tmp:
            ws = Workspace(Path(tmp))
            stand_ins(default_corpus(), case.seed, ws.media)
            path = Path(tmp) / "in" / inputs[0].name
            path.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if inputs[0].is_dir() else shutil.copy)(inputs[0], path)
            rate = seed_rate(case.seed) if path.suffix.lower() == ".edl" else None
            results = [run_reader(r, path, ws, rate, case.json_flag, timeout, case.args, case.sel // 16)
                       for r in READERS]
        worst = [r for r in results if r.outcome not in (OK, FFERROR)]
        bad += bool(worst)
        print(f"{case_file.parent.name}: " + ", ".join(f"{r.reader} {r.outcome}" for r in results)
              + "".join(f"\n    {r.reader}: {r.detail[:300]}" for r in worst))
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=10000, help="cases to run (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: tests/data/corpus, "
                   "else ../shared/corpus/timelines)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default out/fuzz/SEED)")
    p.add_argument("--timeout", type=int, default=TIMEOUT_S, help="alarm per reader call, s (default 30)")
    p.add_argument("--replay", type=Path, metavar="FAILURES", help="run the readers again on the inputs saved "
                   "under FAILURES (a run's failures/ folder) and print what each does now")
    p.add_argument("--plan", type=Path, metavar="PLAN", help="run the cases of a plan.jsonl (a run's, "
                   "to repeat it exactly) instead of drawing --cases from --seed")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--scratch", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.corpus = args.corpus or default_corpus()
    args.out = args.out or REPO / "out" / "fuzz" / str(args.seed)
    if args.replay is not None:
        _quiet_logging()
        return replay(args.replay, args.timeout)
    if args.worker:
        return worker(args)
    return supervise(args)


if __name__ == "__main__":
    sys.exit(main())
