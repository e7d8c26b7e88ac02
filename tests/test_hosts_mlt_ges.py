"""Kdenlive (.kdenlive, rendered by MLT's ``melt``) and GStreamer Editing Services (.xges, rendered by
``ges-launch-1.0``) as outputs of ``foleyflow generate``: the takes sound where the timeline puts them.

The render tests build a timeline of two video clips (one trimmed, one after a gap; media at 25 and
at 24000/1001 fps; the first with a loud 440 Hz tone of its own, which must not be heard) at a 25 and
at a 24000/1001 fps timeline rate, generate it with the bundled model through ``cli.main``, render
the written project with the host's own command line, and compare the render with the mix built
independently from the take WAVs placed at their clips' record starts (read from the input timeline):
cross-correlation lag and onset per take within one frame, nothing else audible, the render as long
as the timeline. They are skipped, saying so, where melt or ges-launch-1.0 is not installed; the
checks of the written XML run everywhere.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import TIMELINES

from foleyflow.plugin import cli
from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.output import WRITE_ADAPTERS, check_limits, output_adapter, url_policy, write_timeline
from foleyflow.plugin.placement import Take, place_takes
from foleyflow.plugin.timeline import read_timeline

MELT = shutil.which("melt")
GES = shutil.which("ges-launch-1.0")
needs_melt = pytest.mark.skipif(MELT is None, reason="melt (MLT; Debian package 'melt') is not installed here: "
                                                     "the .kdenlive render is not checked")
needs_ges = pytest.mark.skipif(GES is None, reason="ges-launch-1.0 (Debian package 'ges1.0-tools') is not "
                                                   "installed here: the .xges render is not checked")
SR = 48000
RATES = {"25": Fraction(25), "24000/1001": Fraction(24000, 1001)}


# -- media and timelines -------------------------------------------------------------------------------
def write_media(path: Path, seconds: float, rate: Fraction, tone_hz: float | None = None, size: int = 64) -> Path:
    """An H.264 MP4 of a square bouncing on a floor at ``rate``; with ``tone_hz``, an AAC tone track too."""
    n = int(round(seconds * rate))
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=rate)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = None
        if tone_hz:
            audio = out.add_stream("aac", rate=SR)
            audio.layout = "mono"
        for i in range(n):
            img = np.full((size, size, 3), 40, np.uint8)
            phase = (i % 10) / 10
            y, x = int((size - 12) * (1 - abs(1 - 2 * phase))), (2 * i) % (size - 12)
            img[y:y + 12, x:x + 12] = (220, 180, 60)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            t = np.arange(int(seconds * SR)) / SR
            tone = (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
            for k in range(0, len(tone), 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, k:k + 1024], format="flt", layout="mono")
                chunk.sample_rate = SR
                chunk.pts = k
                out.mux(audio.encode(chunk))
            out.mux(audio.encode(None))
    return path


def _rt(value: float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(value, rate)


def build_timeline(folder: Path, rate: Fraction) -> Path:
    """V1: clip A (25 fps media with a tone, trimmed to its frames 12-62), a 0.8 s gap, clip B (24000/1001
    media, its first 60 frames). The timeline is at ``rate``."""
    folder.mkdir(parents=True, exist_ok=True)
    a = write_media(folder / "a25.mp4", 4, Fraction(25), tone_hz=440)
    b = write_media(folder / "b2398.mp4", 3, Fraction(24000, 1001))
    r, rb = float(rate), 24000 / 1001
    timeline = otio.schema.Timeline(name="cut", global_start_time=_rt(0, r))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(otio.schema.Clip(
        name="A", source_range=otio.opentime.TimeRange(_rt(12, 25), _rt(50, 25)),
        media_reference=otio.schema.ExternalReference(
            target_url=a.resolve().as_uri(), available_range=otio.opentime.TimeRange(_rt(0, 25), _rt(100, 25)))))
    track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(_rt(0, r), _rt(round(0.8 * r), r))))
    track.append(otio.schema.Clip(
        name="B", source_range=otio.opentime.TimeRange(_rt(0, rb), _rt(60, rb)),
        media_reference=otio.schema.ExternalReference(
            target_url=b.resolve().as_uri(), available_range=otio.opentime.TimeRange(_rt(0, rb), _rt(72, rb)))))
    timeline.tracks.append(track)
    path = folder / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def record_ranges(path: Path) -> list[tuple[str, float, float]]:
    """(name, record start s, duration s) of every video clip, straight from OTIO (not from the plugin)."""
    timeline = otio.adapters.read_from_file(str(path))
    out = []
    for track in timeline.video_tracks():
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Clip):
                rng = track.range_of_child_at_index(i)
                out.append((item.name, rng.start_time.to_seconds(), rng.duration.to_seconds()))
    return out


@pytest.fixture(scope="module", params=list(RATES))
def generated(request, tmp_path_factory):
    """``foleyflow generate cut.otio -o mlt.kdenlive`` and ``-o ges.xges`` (bundled model) at one rate."""
    rate = RATES[request.param]
    folder = tmp_path_factory.mktemp("hosts")
    timeline = build_timeline(folder / "edit", rate)
    outs = {}
    for suffix, stem in ((".kdenlive", "mlt"), (".xges", "ges")):
        out = folder / f"{stem}{suffix}"
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            code = cli.main(["generate", str(timeline), "-o", str(out), "-q"])
        assert code == 0, f"foleyflow generate -o {out.name} exited {code}"
        assert "deprecated" not in stdout.getvalue()  # the kdenlive adapter's banner stays off stdout
        wavs = sorted((folder / f"{stem}_foley").glob("*.wav"))
        outs[suffix] = (out, wavs)
    return rate, timeline, outs


def takes_by_clip(clips: list[tuple[str, float, float]], wavs: list[Path], rate: Fraction):
    """(record start snapped to the timeline's frame, take samples) per clip: each take is the WAV
    whose length is nearest the clip's (round(duration x 48000), one frame either way)."""
    found = []
    for name, start, dur in clips:
        data = {w: sf.read(str(w), dtype="float64")[0] for w in wavs}
        wav = min(data, key=lambda w: abs(len(data[w]) - dur * SR))
        assert abs(len(data[wav]) - dur * SR) <= SR / rate, f"no take of clip {name}'s length ({dur:.3f} s)"
        assert np.sqrt(np.mean(data[wav] ** 2)) > 1e-3, f"the take of {name} is silent: nothing to locate"
        found.append((name, round(start * rate) / rate, data[wav]))
    return found


def read_mono(path: Path) -> np.ndarray:
    assert path.is_file() and path.stat().st_size > 44, f"{path.name}: the host wrote no audio (it exits 0 anyway)"
    data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    assert sr == SR, f"{path.name} is at {sr} Hz, not {SR}"
    return data.mean(axis=1)


def assert_takes_in_place(render: np.ndarray, takes, rate: Fraction, total: float, host: str) -> None:
    """Every take where its clip starts (cross-correlation and onset within a frame), nothing else."""
    frame = SR / float(rate)
    assert abs(len(render) - total * SR) <= frame, (
        f"{host}: render lasts {len(render) / SR:.4f} s, the timeline {total:.4f} s")
    expected = np.zeros(len(render))
    for name, start, take in takes:
        s0 = round(start * SR)
        lo = max(0, s0 - int(2 * frame))
        seg = render[lo:s0 + len(take) + int(2 * frame)]
        size = 1 << int(np.ceil(np.log2(len(seg) + len(take))))  # np.correlate(seg, take, "valid"), by FFT
        corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(take, size)), size)[:len(seg) - len(take) + 1]
        best = int(np.argmax(corr))
        lag = lo + best - s0
        window = seg[best:best + len(take)]
        likeness = float(np.dot(window, take) / (np.linalg.norm(window) * np.linalg.norm(take) + 1e-12))
        assert abs(lag) <= frame, f"{host}: take of {name} sounds {lag / SR * 1000:+.1f} ms from its clip's start"
        assert likeness > 0.99, f"{host}: take of {name} is not what the render holds there ({likeness:.3f})"
        level = 0.2 * np.abs(take).max()
        onset_take = s0 + int(np.argmax(np.abs(take) > level))
        onset_render = lo + int(np.argmax(np.abs(seg) > level))
        assert abs(onset_render - onset_take) <= frame, (
            f"{host}: first onset of {name} at {onset_render / SR:.4f} s, placed at {onset_take / SR:.4f} s")
        expected[s0:s0 + len(take)] += take[:max(0, len(render) - s0)]
    residual = np.sqrt(np.mean((render - expected) ** 2)) / np.sqrt(np.mean(expected ** 2))
    assert residual < 0.01, f"{host}: the render holds more than the takes (relative residual {residual:.4f})"


# -- generate -> host XML (no host needed) ---------------------------------------------------------------
def test_adapters_are_registered_and_listed():
    for name in ("kdenlive", "xges"):
        adapter = otio.adapters.from_name(name)
        assert adapter.has_feature("write") and adapter.has_feature("read")
    assert output_adapter(Path("cut.kdenlive")) == "kdenlive" and output_adapter(Path("CUT.XGES")) == "xges"
    assert {".kdenlive", ".xges"} <= set(WRITE_ADAPTERS)


def test_take_urls_are_absolute_file_urls(tmp_path):
    take = tmp_path / "out_foley" / "V1_0 a #1 100%.wav"
    for adapter in ("kdenlive", "xges"):
        for absolute in (False, True):
            url = url_policy(adapter, tmp_path / f"out.{adapter}", absolute)(take)
            assert url == take.resolve().as_uri() and url.startswith("file:///") and "%23" in url


def test_format_limits_name_the_file(tmp_path):
    timeline = otio.schema.Timeline()
    out = tmp_path / "fast.kdenlive"
    with pytest.raises(OutputError) as info:
        check_limits("kdenlive", timeline, Fraction(1000), out)
    assert type(info.value) is OutputError and str(out) in str(info.value) and "1000 fps" in str(info.value)
    for rate in RATES.values():
        check_limits("kdenlive", timeline, rate, out)
    check_limits("xges", timeline, Fraction(1000), tmp_path / "fast.xges")


def test_generate_writes_projects_the_hosts_read(generated):
    rate, timeline, outs = generated
    frames = round(otio.adapters.read_from_file(str(timeline)).duration().to_seconds() * rate)
    kdenlive, wavs = outs[".kdenlive"]
    assert len(wavs) == 2
    root = ET.parse(kdenlive).getroot()
    profile = root.find("profile")
    assert (int(profile.get("frame_rate_num")), int(profile.get("frame_rate_den"))) == (rate.numerator,
                                                                                          rate.denominator)
    assert root.find("producer[@id='black_track']").get("out") == str(frames - 1)  # no render past the end
    resources = [p.findtext("property[@name='resource']") for p in root.findall("producer")]
    takes = [r for r in resources if r.endswith(".wav")]
    assert sorted(takes) == sorted(str(w.resolve()) for w in wavs)
    assert all(Path(r).is_absolute() and Path(r).is_file() for r in resources if r.endswith((".wav", ".mp4")))
    mixes = [t for t in root.iter("transition") if t.findtext("property[@name='mlt_service']") == "mix"]
    assert len(mixes) == 1  # the one audio track (Foley V1) is mixed, not only shown when on top

    xges, wavs = outs[".xges"]
    root = ET.parse(xges).getroot()
    assets = [a.get("id") for a in root.iter("asset")]
    assert sorted(a for a in assets if a.endswith(".wav")) == sorted(w.resolve().as_uri() for w in wavs)
    assert all(a.startswith("file:///") for a in assets)
    caps = {t.get("track-type"): t.get("properties") for t in root.iter("track")}
    assert f"framerate\\=\\(fraction\\){rate.numerator}/{rate.denominator}" in caps["4"]
    assert "rate\\=\\(int\\)48000" in caps["2"]


# -- the renders ----------------------------------------------------------------------------------------
@needs_melt
def test_melt_renders_the_takes_where_the_timeline_puts_them(generated, tmp_path):
    rate, timeline, outs = generated
    project, wavs = outs[".kdenlive"]
    out = tmp_path / "melt.wav"
    # real_time=0: an offline render of every frame (melt's default consumer drops frames to keep real
    # time, and on a loaded machine a fresh-clone CI once saw this render still running after 300 s)
    run = subprocess.run([MELT, str(project), "-consumer", f"avformat:{out}", "ar=48000", "ac=1", "real_time=0"],
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr[-2000:]
    clips = record_ranges(timeline)
    total = otio.adapters.read_from_file(str(timeline)).duration().to_seconds()
    assert_takes_in_place(read_mono(out), takes_by_clip(clips, wavs, rate), rate, total, "melt")


@needs_ges
def test_ges_renders_the_takes_where_the_timeline_puts_them(generated, tmp_path):
    rate, timeline, outs = generated
    project, wavs = outs[".xges"]
    out = tmp_path / "ges.wav"
    run = subprocess.run([GES, "--load", str(project), "-o", out.as_uri(), "-t", "audio",
                          "-f", "audio/x-wav:audio/x-raw"],
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr[-2000:]
    clips = record_ranges(timeline)
    total = otio.adapters.read_from_file(str(timeline)).duration().to_seconds()
    assert_takes_in_place(read_mono(out), takes_by_clip(clips, wavs, rate), rate, total, "ges-launch-1.0")


# -- several audio tracks, relative media, media start timecodes, the corpus -----------------------------
def _bursts(path: Path, seconds: float, at: list[float], seed: int) -> Path:
    """A quiet WAV with short noise bursts at ``at`` seconds (clear onsets; sums of them never clip)."""
    rng = np.random.default_rng(seed)
    data = np.zeros(int(round(seconds * SR)), np.float32)
    for t in at:
        k = int(t * SR)
        n = len(data[k:k + 2400])
        data[k:k + n] = 0.1 * rng.standard_normal(n) * np.exp(-np.arange(n) / 600)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, SR, subtype="PCM_24")
    return path


def _layered(tmp_path: Path):
    """Two video tracks (clips overlapping in time) and a dialogue track: three audio tracks after placing."""
    r = 25.0
    tl = otio.schema.Timeline(name="layers", global_start_time=_rt(0, r))
    for label, offset in (("V1", 0), ("V2", 30)):
        track = otio.schema.Track(name=label, kind=otio.schema.TrackKind.Video)
        if offset:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(_rt(0, r), _rt(offset, r))))
        media = tmp_path / f"{label}.mp4"
        track.append(otio.schema.Clip(name=f"shot {label}", source_range=otio.opentime.TimeRange(_rt(0, r), _rt(50, r)),
                                      media_reference=otio.schema.ExternalReference(target_url=media.as_uri())))
        tl.tracks.append(track)
    dialogue = _bursts(tmp_path / "dialogue.wav", 4, [0.1, 0.9, 1.7], seed=9)
    a1 = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    a1.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(_rt(0, r), _rt(10, r))))
    a1.append(otio.schema.Clip(name="dialogue", source_range=otio.opentime.TimeRange(_rt(0, SR), _rt(2 * SR, SR)),
                               media_reference=otio.schema.ExternalReference(
                                   target_url=dialogue.as_uri(),
                                   available_range=otio.opentime.TimeRange(_rt(0, SR), _rt(4 * SR, SR)))))
    tl.tracks.append(a1)
    clips = video_clips(tl, Fraction(25))
    takes = [Take(c.id, c.track, c.name, c.record_range,
                  (_bursts(tmp_path / "foley" / f"{c.track}.wav", 2, [0.25 + 0.3 * i, 1.25], seed=i),))
             for i, c in enumerate(clips)]
    placed = place_takes(tl, takes, Fraction(25))
    for label in ("V1", "V2"):
        write_media(tmp_path / f"{label}.mp4", 2, Fraction(25), tone_hz=440)  # their own audio: not heard
    # the expected mix: each take at its clip's start, the dialogue 0.4 s in
    mix = np.zeros(int(3.2 * SR))
    for c, t in zip(clips, takes, strict=True):
        data = sf.read(str(t.media[0]))[0]
        s0 = round(c.record_range.start_time.to_seconds() * SR)
        mix[s0:s0 + len(data)] += data
    mix[int(0.4 * SR):int(2.4 * SR)] += sf.read(str(dialogue))[0][:2 * SR]
    return placed, mix


@pytest.mark.parametrize("host", ["melt", "ges"])
def test_every_audio_track_is_heard(tmp_path, host):
    """Foley V1, Foley V2 and the dialogue all sound (MLT plays only the top track without mix transitions)."""
    exe = MELT if host == "melt" else GES
    if exe is None:
        pytest.skip(f"{'melt' if host == 'melt' else 'ges-launch-1.0'} is not installed here: not rendered")
    placed, mix = _layered(tmp_path)
    project = tmp_path / ("layers.kdenlive" if host == "melt" else "layers.xges")
    write_timeline(placed, project)
    out = tmp_path / f"{host}.wav"
    if host == "melt":
        cmd = [MELT, str(project), "-consumer", f"avformat:{out}", "ar=48000", "ac=1", "real_time=0"]
    else:
        cmd = [GES, "--load", str(project), "-o", out.as_uri(), "-t", "audio", "-f", "audio/x-wav:audio/x-raw"]
    subprocess.run(cmd, capture_output=True, timeout=300, stdin=subprocess.DEVNULL, check=True)
    render = read_mono(out)
    assert abs(len(render) - len(mix)) <= SR / 25
    n = min(len(render), len(mix))
    residual = np.sqrt(np.mean((render[:n] - mix[:n]) ** 2)) / np.sqrt(np.mean(mix[:n] ** 2))
    assert residual < 0.01, f"{host}: the render is not the mix of all three tracks ({residual:.3f})"


def test_relative_media_and_start_timecodes(tmp_path):
    """Relative media URLs become absolute against ``media_base``; sources count from the media's first
    frame (OTIO counts from its start timecode; MLT and GES from the file's start)."""
    rate = 24.0
    tl = otio.schema.Timeline(name="tc", global_start_time=_rt(0, rate))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(otio.schema.Clip(
        name="shot", source_range=otio.opentime.TimeRange(_rt(86424, rate), _rt(48, rate)),
        media_reference=otio.schema.ExternalReference(
            target_url="media/shot%20one.mov",
            available_range=otio.opentime.TimeRange(_rt(86400, rate), _rt(240, rate)))))
    tl.tracks.append(track)
    base = tmp_path / "edit"
    expected = (base / "media" / "shot one.mov").resolve()
    expected.parent.mkdir(parents=True)
    expected.write_bytes(b"")  # the URL is percent-encoded: the file has a space
    write_timeline(tl, tmp_path / "tc.kdenlive", media_base=base)
    root = ET.parse(tmp_path / "tc.kdenlive").getroot()
    assert [p.findtext("property[@name='resource']") for p in root.findall("producer")
            if p.get("id") != "black_track"] == [str(expected)]
    entry = root.find("playlist[@id='playlist0']/entry")
    assert entry is not None and entry.get("in") == "00:00:01.000"  # 1 s into the file, not 1 h
    write_timeline(tl, tmp_path / "tc.xges", media_base=base)
    root = ET.parse(tmp_path / "tc.xges").getroot()
    clip = next(root.iter("clip"))
    assert clip.get("asset-id") == expected.as_uri() and clip.get("inpoint") == "1000000000"


def _placed(name: str, tmp_path: Path):
    loaded = read_timeline(TIMELINES / name)
    clips = video_clips(loaded.timeline, loaded.rate)
    takes = []
    for c in clips:
        p = tmp_path / "foley" / f"{c.id.replace(':', '_')}.wav"
        p.parent.mkdir(exist_ok=True)
        sf.write(str(p), np.zeros(48, np.float32), SR, subtype="PCM_24")
        takes.append(Take(c.id, c.track, c.name, c.record_range, (p,)))
    return loaded, clips, place_takes(loaded.timeline, takes, loaded.rate)


def _foley_ranges(timeline: otio.schema.Timeline, rate: Fraction) -> list[tuple[int, int, str]]:
    out = []
    for track in timeline.audio_tracks():
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Clip) and (item.name or "").startswith("Foley "):
                rng = track.range_of_child_at_index(i)
                out.append((round(rng.start_time.to_seconds() * rate), round(rng.duration.to_seconds() * rate),
                            Path(otio.url_utils.filepath_from_url(item.media_reference.target_url)).name))
    return sorted(out)


# premiere: nested stacks, transitions, file://localhost/D%3a URLs; screening EDL: clip markers outside their
# clips (the xges writer failed); simple_cut: clips without source ranges (the kdenlive writer failed)
@pytest.mark.parametrize("name", ["premiere_example.xml", "screening_example.edl", "simple_cut.otio",
                                  "nested_example.otio", "transitions.aaf"])
@pytest.mark.parametrize("suffix", [".kdenlive", ".xges"])
def test_corpus_timelines_keep_their_foley_frames(tmp_path, name, suffix, capsys):
    loaded, clips, result = _placed(name, tmp_path)
    out = tmp_path / f"out{suffix}"
    write_timeline(result, out, rate=loaded.rate)
    assert "deprecated" not in capsys.readouterr().out
    with contextlib.redirect_stdout(io.StringIO()):
        back = otio.adapters.read_from_file(str(out), adapter_name=output_adapter(out))
    assert _foley_ranges(back, loaded.rate) == _foley_ranges(result, loaded.rate) != []
    text = out.read_text(encoding="utf-8")
    if suffix == ".xges":
        assert not re.search(r'asset id="(?!file:///)[^"]*\.wav"', text)
