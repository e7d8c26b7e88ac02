"""Every corpus timeline through the whole path (issue 5).

Read, list, create stand-in media in a temporary folder and relink to it,
generate (fake model), write back in the file's own format where it can carry
the result and as .otio, read again: the original tracks are unchanged (through
serialized JSON) and every Foley clip sits exactly on its video clip's record range.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import EDL_RATES, TIMELINES, write_indexed_video

from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.media import (
    FOUND,
    GENERATOR,
    VIDEO_EXTENSIONS,
    pure_path,
    reference_path,
    reference_start,
)
from foleyflow.plugin.output import output_adapter, url_policy, write_timeline
from foleyflow.plugin.pipeline import GenerateRequest, execute, plan_run
from foleyflow.plugin.placement import place_takes
from foleyflow.plugin.timeline import read_timeline
from foleyflow.plugin.timing import exact_rate, rescale_range, seconds

CORPUS_FILES = sorted(p.name for p in TIMELINES.iterdir())
# the AAF round trips (pyaaf2 reads and writes the whole file) are the slow ones
CORPUS_PARAMS = [pytest.param(n, marks=pytest.mark.slow) if n.endswith(".aaf") else n for n in CORPUS_FILES]
OWN_FORMAT = {".otio": ".otio", ".xml": ".xml", ".fcpxml": ".fcpxml", ".aaf": ".aaf"}  # .edl cannot carry it


def make_stand_ins(timeline_path: Path, root: Path, rate: Fraction | None) -> None:
    """A file for every clip, named as its reference (or its clip name) asks, covering its source range."""
    plan_ = plan_run(GenerateRequest(timeline_path, root / "unused.otio", rate=rate))
    need: dict[str, dict] = defaultdict(lambda: {"end": Fraction(0), "start": None, "rate": None, "has_range": False})
    for job in plan_.jobs:
        info = job.info
        if info.is_generator or not info.enabled:
            continue
        raw = reference_path(info.media_reference)
        name = pure_path(raw).name if raw else (pure_path(info.name).name if info.name else "")
        if not name or name in (".", ".."):
            continue
        if not raw and Path(name).suffix.lower() not in VIDEO_EXTENSIONS:
            name += ".mov"
        entry = need[name]
        ref_start = reference_start(info.media_reference)
        entry["has_range"] |= ref_start is not None
        src_rate = exact_rate(info.source_range.start_time.rate)
        ref = info.media_reference
        entry["rate"] = exact_rate(ref.available_range.duration.rate) if ref_start is not None else src_rate
        t0 = seconds(info.record_range.start_time)
        m = [info.time_map(t0), info.time_map(t0 + seconds(info.record_range.duration))]
        start = ref_start if ref_start is not None else min(m)
        entry["start"] = start if entry["start"] is None else min(entry["start"], start)
        entry["end"] = max(entry["end"], max(m))
    for name, e in need.items():
        path = root / name
        if name.lower().endswith(".png"):
            _write_still(path)
            continue
        rate = e["rate"]
        frames = max(2, math.ceil((e["end"] - e["start"]) * rate) + 2)
        tc = None
        if not e["has_range"]:  # the media start must come from the file: give it the timecode of its first frame
            tc = otio.opentime.to_timecode(otio.opentime.RationalTime(round(e["start"] * rate), float(rate)),
                                           float(rate))
            e["start"] = Fraction(round(e["start"] * rate)) / rate
        write_indexed_video(path, frames, rate, size=16, gop=48, timecode=tc)


def _write_still(path: Path) -> None:
    with av.open(str(path), "w", format="image2") as out:
        s = out.add_stream("png")
        s.width = s.height = 16
        s.pix_fmt = "rgb24"
        out.mux(s.encode(av.VideoFrame.from_ndarray(np.full((16, 16, 3), 90, np.uint8), format="rgb24")))
        out.mux(s.encode(None))


def foley_clips(tl: otio.schema.Timeline, wav_dir: Path, rate: Fraction) -> dict[str, otio.opentime.TimeRange]:
    """WAV file name -> where it sits, for every clip that plays a WAV of ``wav_dir``."""
    out = {}
    for track in tl.audio_tracks():
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip) or not isinstance(item.media_reference, otio.schema.ExternalReference):
                continue
            url = item.media_reference.target_url
            if wav_dir.name in url:
                out[Path(otio.url_utils.filepath_from_url(url)).name] = rescale_range(track.range_of_child_at_index(i), rate)
    return out


# fields an AAF writer makes up on every write (fresh mob ids, time stamps)
VOLATILE = {"MobID", "LastModified", "CreationTime", "CreateTime", "ModificationTime"}


def _stable(value: object) -> object:
    """Without writer-made ids, floats to 12 digits (OTIO's JSON writer can move a double's last bit)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


def stable_json(obj: otio.core.SerializableObject) -> str:
    return json.dumps(_stable(json.loads(otio.adapters.write_to_string(obj, "otio_json"))), sort_keys=True)


def original_tracks(tl: otio.schema.Timeline, wav_dir: Path, stable: bool = False) -> list[str]:
    """Serialized JSON of the tracks that are not Foley-Flow's (optionally without writer-made ids)."""
    keep = []
    for track in tl.tracks:
        items = [i for i in track if isinstance(i, otio.schema.Clip)]
        ours = items and all(wav_dir.name in getattr(i.media_reference, "target_url", "") for i in items)
        if not ours:
            keep.append(stable_json(track) if stable else otio.adapters.write_to_string(track, "otio_json"))
    return keep


def read_back(path: Path) -> otio.schema.Timeline:
    return read_timeline(path).timeline


@pytest.mark.parametrize("name", CORPUS_PARAMS)
def test_corpus_round_trip(name, tmp_path, fake_engine):
    src = TIMELINES / name
    rate = EDL_RATES.get(name)
    root = tmp_path / "media"
    root.mkdir()
    make_stand_ins(src, root, rate)
    out = tmp_path / "out.otio"
    request = GenerateRequest(src, out, media_roots=(root,), rate=rate)
    plan_ = plan_run(request)
    loaded = plan_.loaded
    # every clip that can have media found it: only generators, disabled clips and unnamed media-less clips are left
    left = [j for j in plan_.jobs if j.status != FOUND]
    assert all(j.status == GENERATOR or not j.info.enabled or not pure_path(j.info.name).name for j in left), \
        [(j.info.id, j.status, j.media.looked_for[:3]) for j in left]
    if not plan_.runnable:
        assert all(j.status == GENERATOR for j in plan_.jobs)
        return
    outcome = execute(plan_, fake_engine)
    assert not outcome.report.failed, [(r.job.info.id, r.error) for r in outcome.report.failed]
    takes = outcome.report.takes
    by_wav = {t.media[0].name: t for t in takes}
    video = {j.info.id: j.info.record_range for j in plan_.jobs}

    # every WAV has exactly the samples of its clip's record range
    for take in takes:
        assert sf.info(str(take.media[0])).frames == round(seconds(take.record_range.duration) * 48000)

    # .otio: read again, the original tracks are unchanged and every take sits on its clip
    back = read_back(out)
    assert original_tracks(back, plan_.wav_dir, stable=True) == [stable_json(t) for t in loaded.timeline.tracks]
    placed = foley_clips(back, plan_.wav_dir, loaded.rate)
    assert set(placed) == set(by_wav)
    for wav, rng in placed.items():
        assert rng == video[by_wav[wav].source_clip_id], wav

    # its own format, where that format can carry the result
    suffix = src.suffix.lower()
    if suffix not in OWN_FORMAT:
        with pytest.raises(OutputError, match="cannot carry"):
            output_adapter(tmp_path / f"out{suffix}")
        return
    own = tmp_path / f"own{OWN_FORMAT[suffix]}"
    adapter = output_adapter(own)
    result = place_takes(loaded.timeline, takes, loaded.rate, url_policy(adapter, own))
    write_timeline(result, own)
    baseline = tmp_path / f"baseline{OWN_FORMAT[suffix]}"  # what the writer does to the original on its own
    write_timeline(loaded.timeline, baseline)
    back = read_back(own)
    assert original_tracks(back, plan_.wav_dir, stable=True) == original_tracks(read_back(baseline), plan_.wav_dir,
                                                                                stable=True)
    placed = foley_clips(back, plan_.wav_dir, loaded.rate)
    assert set(placed) == set(by_wav)
    for wav, rng in placed.items():
        assert rng == video[by_wav[wav].source_clip_id], wav
