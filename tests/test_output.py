from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import TIMELINES

from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.output import (
    check_limits,
    check_output,
    output_adapter,
    prepare,
    url_policy,
    write_timeline,
)
from foleyflow.plugin.placement import NAMESPACE, Take, foley_track_label, place_takes
from foleyflow.plugin.timeline import read_timeline
from foleyflow.plugin.timing import rescale_range


@pytest.mark.parametrize(("suffix", "adapter"), [(".otio", "otio_json"), (".otioz", "otioz"), (".otiod", "otiod"),
                                                 (".xml", "fcp_xml"), (".fcpxml", "fcpx_xml"), (".AAF", "AAF")])
def test_adapter_from_suffix(suffix, adapter):
    assert output_adapter(Path("cut" + suffix)) == adapter


def test_edl_output_is_refused_clearly():
    with pytest.raises(OutputError) as info:
        output_adapter(Path("cut.edl"))
    assert type(info.value) is OutputError and "cannot carry the Foley track" in str(info.value)
    with pytest.raises(OutputError, match="unknown output format"):
        output_adapter(Path("cut.mov"))


def test_input_is_never_the_output(tmp_path):
    src = tmp_path / "cut.otio"
    src.write_text("{}")
    with pytest.raises(OutputError, match="never overwritten"):
        check_output(src, src)
    with pytest.raises(OutputError, match="do not give a different"):
        check_output(tmp_path / "other.otio", src, in_place=True)
    with pytest.raises(OutputError, match="folder does not exist"):
        check_output(tmp_path / "no" / "x.otio", src)
    assert check_output(src, src, in_place=True) == "otio_json"


def _result(name, tmp_path, variations=1):
    loaded = read_timeline(TIMELINES / name)
    clips = video_clips(loaded.timeline, loaded.rate)
    takes = []
    for c in clips:
        paths = []
        for v in range(variations):
            p = tmp_path / "foley" / f"{c.id.replace(':', '_')}_v{v}.wav"
            p.parent.mkdir(exist_ok=True)
            sf.write(str(p), np.zeros(48, np.float32), 48000, subtype="PCM_24")
            paths.append(p)
        takes.append(Take(c.id, c.track, c.name, c.record_range, tuple(paths), metadata={"seed": 0}))
    return loaded, clips, place_takes(loaded.timeline, takes, loaded.rate)


def _foley(tl, rate, bundled=False):
    out = []
    for track in tl.audio_tracks():
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Clip) and ("foley" in item.media_reference.target_url
                                                       or (bundled and item.name.startswith("Foley"))):
                out.append((rescale_range(track.range_of_child_at_index(i), rate),
                            otio.url_utils.filepath_from_url(item.media_reference.target_url)))
    return sorted(out, key=lambda x: x[1])


@pytest.mark.parametrize(("name", "suffix"), [("premiere_example.xml", ".xml"), ("fcpx_example.fcpxml", ".fcpxml"),
                                              ("simple.aaf", ".aaf"), ("transitions.aaf", ".aaf")])
def test_interchange_formats_keep_foley_ranges_and_paths(tmp_path, name, suffix):
    loaded, clips, result = _result(name, tmp_path)
    out = tmp_path / f"out{suffix}"
    write_timeline(result, out)
    back = read_timeline(out).timeline
    expected = _foley(result, loaded.rate)
    assert expected and _foley(back, loaded.rate) == expected


def test_otio_keeps_everything_and_relative_urls(tmp_path):
    loaded, clips, _ = _result("transition.otio", tmp_path)
    out = tmp_path / "out.otio"
    takes = [Take(c.id, c.track, c.name, c.record_range, (tmp_path / "out_foley" / "a.wav",)) for c in clips]
    result = place_takes(loaded.timeline, takes, loaded.rate, url_policy("otio_json", out))
    write_timeline(result, out)
    back = read_timeline(out).timeline
    assert otio.adapters.write_to_string(back) == otio.adapters.write_to_string(result)
    urls = {i.media_reference.target_url for t in back.audio_tracks() for i in t if isinstance(i, otio.schema.Clip)}
    assert urls == {"out_foley/a.wav"}


def test_variations_survive_in_otio_and_only_the_active_elsewhere(tmp_path):
    loaded, clips, result = _result("simple_cut.otio", tmp_path, variations=2)
    clip = next(i for t in result.audio_tracks() for i in t if isinstance(i, otio.schema.Clip))
    assert len(clip.media_references()) == 2
    fitted = prepare(result, "fcp_xml")
    fclip = next(i for t in fitted.audio_tracks() for i in t if isinstance(i, otio.schema.Clip))
    assert len(fclip.media_references()) == 1 and fclip.media_reference.target_url == clip.media_reference.target_url
    assert prepare(result, "otio_json") is result
    write_timeline(result, tmp_path / "v.otioz")
    back = read_timeline(tmp_path / "v.otioz").timeline
    bclip = next(i for t in back.audio_tracks() for i in t if isinstance(i, otio.schema.Clip))
    assert sorted(bclip.media_references()) == ["take1", "take2"]


def test_otioz_with_missing_and_generator_references(tmp_path, caplog):
    loaded, clips, result = _result("premiere_example.xml", tmp_path)  # missing media and a generator
    out = tmp_path / "bundle.otioz"
    write_timeline(result, out)
    back = read_timeline(out).timeline
    foley = [i for t in back.tracks if foley_track_label(t) for i in t if isinstance(i, otio.schema.Clip)]
    assert len(foley) == len(clips)
    assert all(isinstance(c.media_reference, otio.schema.ExternalReference) for c in foley)  # bundled WAVs
    assert "missing references" in caplog.text
    write_timeline(result, out)  # the otioz writer refuses to overwrite; the atomic write does not need it


def test_in_place_keeps_a_backup(tmp_path):
    src = tmp_path / "cut.otio"
    loaded = read_timeline(TIMELINES / "simple_cut.otio")
    write_timeline(loaded.timeline, src)
    original = src.read_bytes()
    tl = loaded.timeline
    tl.name = "changed"
    backup = write_timeline(tl, src, in_place=True)
    assert backup is not None and backup.read_bytes() == original and src.read_bytes() != original


def test_writer_failure_is_an_output_error_and_leaves_nothing(tmp_path):
    tl = otio.schema.Timeline()
    track = otio.schema.Track()
    tl.tracks.append(track)
    track.append(otio.schema.Clip(name="odd", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 48000), otio.opentime.RationalTime(10, 48000))))
    with pytest.raises(OutputError) as info:
        write_timeline(tl, tmp_path / "x.xml")
    assert "fcp_xml writer failed" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_foley_metadata_survives_otio(tmp_path):
    _, _, result = _result("multiple_track.otio", tmp_path)
    write_timeline(result, tmp_path / "m.otio")
    back = read_timeline(tmp_path / "m.otio").timeline
    metas = [i.metadata[NAMESPACE]["source_clip"] for t in back.audio_tracks() for i in t if isinstance(i, otio.schema.Clip)]
    assert sorted(metas) == ["V1:0", "V1:1", "V1:3", "V2:1", "V3:0"]


def _ntsc_result(tmp_path):
    """Two clips and a gap at 24000/1001 with takes placed (absolute URLs, for interchange formats)."""
    rate = 24000 / 1001
    tl = otio.schema.Timeline(name="ntsc", global_start_time=otio.opentime.RationalTime(86400, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for i, (gap, dur) in enumerate([(0, 37), (11, 50)]):
        if gap:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(gap, rate))))
        ref = otio.schema.ExternalReference(target_url=(tmp_path / f"shot{i}.mov").as_uri(),
                                            available_range=otio.opentime.TimeRange(
                                                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(200, rate)))
        track.append(otio.schema.Clip(name=f"shot{i}", media_reference=ref, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(5, rate), otio.opentime.RationalTime(dur, rate))))
    from fractions import Fraction

    exact = Fraction(24000, 1001)
    clips = video_clips(tl, exact)
    takes = []
    for c in clips:
        p = tmp_path / "ntsc_foley" / f"{c.id.replace(':', '_')}.wav"
        p.parent.mkdir(exist_ok=True)
        sf.write(str(p), np.zeros(10, np.float32), 48000, subtype="PCM_24")
        takes.append(Take(c.id, c.track, c.name, c.record_range, (p,)))
    return exact, clips, place_takes(tl, takes, exact)


def test_format_limits_are_checked_before_any_work(tmp_path):
    rate, clips, result = _ntsc_result(tmp_path)
    with pytest.raises(OutputError, match="FCPXML writer cannot write a 24000/1001 fps"):
        check_limits("fcpx_xml", result, rate, tmp_path / "x.fcpxml")
    check_limits("fcp_xml", result, rate, tmp_path / "x.xml")
    check_limits("AAF", result, rate, tmp_path / "x.aaf")
    mixed = read_timeline(TIMELINES / "premiere_example.xml")  # a 15 fps clip in a 30 fps sequence
    with pytest.raises(OutputError, match="one frame rate throughout"):
        check_limits("AAF", mixed.timeline, mixed.rate, tmp_path / "x.aaf")


@pytest.mark.parametrize("suffix", [".xml", ".aaf", ".otio", ".otiod"])
def test_ntsc_round_trip_to_the_frame(tmp_path, suffix):
    rate, clips, result = _ntsc_result(tmp_path)
    out = tmp_path / f"ntsc{suffix}"
    write_timeline(result, out)
    back = read_timeline(out)
    assert back.rate == rate
    placed = _foley(back.timeline, rate, bundled=suffix == ".otiod")
    assert [r for r, _ in placed] == [c.record_range for c in clips]
    assert [Path(p).name for _, p in placed] == ["V1_0.wav", "V1_2.wav"]
