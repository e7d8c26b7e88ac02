"""The review render (plugin/review.py): the cut's picture with the Foley takes mixed in."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import frame_index, write_indexed_video

from foleyflow.plugin import review
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.output import write_timeline
from foleyflow.plugin.placement import Take, file_url, place_takes
from foleyflow.plugin.timing import otio_rate

RATE = Fraction(25)
SR = 48000


def _clip(name: str, media: Path, start: int, frames: int, rate: Fraction = RATE) -> otio.schema.Clip:
    r = otio_rate(rate)
    return otio.schema.Clip(
        name=name, media_reference=otio.schema.ExternalReference(target_url=media.as_uri()),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(start, r), otio.opentime.RationalTime(frames, r)))


def _clicks(path: Path, n: int, at: list[int]) -> Path:
    x = np.zeros(n, np.float32)
    for a in at:
        x[a:a + 96] = 0.8
    sf.write(str(path), x, SR, subtype="PCM_24")
    return path


@pytest.fixture
def cut(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """V1: shot A (frames 10-59 of its file) | gap 25 frames | shot B (frames 0-29); V2: shot C over part of A.
    Foley takes under A and B, each with clicks at known offsets."""
    a = write_indexed_video(tmp_path / "a.mp4", 80, RATE)
    b = write_indexed_video(tmp_path / "b.mp4", 40, RATE)
    c = write_indexed_video(tmp_path / "c.mp4", 40, RATE)
    r = otio_rate(RATE)
    tl = otio.schema.Timeline(name="cut")
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    v1.append(_clip("A", a, 10, 50))
    v1.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(25, r))))
    v1.append(_clip("B", b, 0, 30))
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(20, r))))
    v2.append(_clip("C", c, 5, 10))
    tl.tracks.append(v1)
    tl.tracks.append(v2)
    wav_a = _clicks(tmp_path / "a.wav", 2 * SR, [4800, 48000])  # 0.1 s and 1.0 s into A
    wav_b = _clicks(tmp_path / "b.wav", int(1.2 * SR), [24000])  # 0.5 s into B (timeline 3.5 s)
    rr = lambda s, d: otio.opentime.TimeRange(otio.opentime.RationalTime(s, r), otio.opentime.RationalTime(d, r))  # noqa: E731
    takes = [Take("V1:0", "V1", "A", rr(0, 50), (wav_a,)), Take("V1:2", "V1", "B", rr(75, 30), (wav_b,))]
    placed = place_takes(tl, takes, RATE, file_url)
    path = tmp_path / "cut.otio"
    write_timeline(placed, path)
    return path, {"a": a, "b": b, "c": c}


def _read(path: Path) -> tuple[list[np.ndarray], np.ndarray, dict[str, float]]:
    with av.open(str(path)) as f:
        vs, aus = f.streams.video[0], f.streams.audio[0]
        meta = {"video": float(vs.duration * vs.time_base) if vs.duration else float("nan"),
                "audio": float(aus.duration * aus.time_base) if aus.duration else float("nan"),
                "channels": aus.codec_context.channels, "rate": aus.codec_context.sample_rate}
        frames = [fr.to_ndarray(format="rgb24") for fr in f.decode(vs)]
    with av.open(str(path)) as f:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=SR)  # packed: [1, 2n]
        chunks = [o.to_ndarray().reshape(-1, 2)[:, 0] for fr in f.decode(f.streams.audio[0])
                  for o in resampler.resample(fr)]
    return frames, np.concatenate(chunks), meta


def test_the_review_cuts_the_picture_and_mixes_the_takes(cut, tmp_path):
    timeline, _media = cut
    out = tmp_path / "review.mp4"
    res = review.render_review(timeline, out, review.ReviewOptions(original_db=None, size=(32, 32)))
    assert res.frames == 105 and res.samples == 105 * SR // 25  # 50 + 25 gap + 30 frames at 25 fps
    frames, audio, meta = _read(out)
    # durations: the video stream is the timeline's to the frame; the audio stream too
    assert len(frames) == 105
    assert abs(meta["video"] - 4.2) < 1 / 25 and abs(meta["audio"] - 4.2) < 1 / 25
    assert meta["channels"] == 2 and meta["rate"] == SR
    # the picture as it cuts: A from its frame 10, C (V2, on top) over timeline frames 20-29, black in the gap, B
    assert frame_index(frames[0]) == 10 and frame_index(frames[19]) == 29
    assert frame_index(frames[20]) == 5 and frame_index(frames[29]) == 14  # V2 covers V1
    assert frame_index(frames[30]) == 40 and frame_index(frames[49]) == 59
    assert frames[50].mean() < 20 and frames[74].mean() < 20  # the gap is black
    assert frame_index(frames[75]) == 0 and frame_index(frames[104]) == 29
    # the sound is the mix: the takes' clicks at their timeline times (0.1, 1.0, 3.5 s), nothing else
    env = np.abs(audio)
    onsets = [i for i in range(1, len(env)) if env[i] > 0.3 and env[max(0, i - 480):i].max() <= 0.3]
    assert len(onsets) == 3
    for got, want in zip(onsets, [0.1, 1.0, 3.5], strict=True):
        assert abs(got / SR - want) < 0.005, (got / SR, want)  # AAC's delay is compensated by the container


def test_the_original_audio_plays_at_its_level_or_not_at_all(cut, tmp_path):
    timeline, media = cut
    tone = tmp_path / "tone.wav"
    sf.write(str(tone), (0.25 * np.sin(np.arange(5 * SR) * 2 * np.pi * 440 / SR)).astype(np.float32), SR)
    tl = otio.adapters.read_from_file(str(timeline))
    a1 = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    r = otio_rate(RATE)
    a1.append(otio.schema.Clip(name="dialogue", media_reference=otio.schema.ExternalReference(target_url=tone.as_uri()),
                               source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, r),
                                                                    otio.opentime.RationalTime(50, r))))
    tl.tracks.append(a1)
    with_a1 = tmp_path / "with_a1.otio"
    otio.adapters.write_to_file(tl, str(with_a1))
    levels = {}
    for name, db in (("muted", None), ("0db", 0.0), ("minus12", -12.0)):
        out = tmp_path / f"{name}.mp4"
        review.render_review(with_a1, out, review.ReviewOptions(original_db=db, size=(32, 32)))
        _f, audio, _m = _read(out)
        quiet = audio[int(1.2 * SR):int(1.9 * SR)]  # inside A1, away from the clicks
        levels[name] = float(np.sqrt(np.mean(quiet ** 2)))
    assert levels["muted"] < 1e-3
    assert abs(levels["0db"] - 0.25 / np.sqrt(2)) < 0.02
    assert abs(20 * np.log10(levels["minus12"] / levels["0db"]) + 12) < 0.5


def test_bad_review_output_is_refused_and_writes_nothing(cut, tmp_path):
    timeline, _ = cut
    with pytest.raises(OutputError) as err:
        review.render_review(timeline, tmp_path / "review.wav")
    assert "review.wav" in str(err.value)
    assert not (tmp_path / "review.wav").exists()
    empty = tmp_path / "empty.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(name="empty"), str(empty))
    with pytest.raises(OutputError, match="empty"):
        review.render_review(empty, tmp_path / "e.mp4")
    assert not (tmp_path / "e.mp4").exists()


def test_topmost_clip_and_sizes():
    assert review.parse_size("1280x720") == (1280, 720)
    with pytest.raises(ValueError):
        review.parse_size("big")
    assert review.gain_of(None) == 0.0 and abs(review.gain_of(-6.0) - 0.501) < 1e-3


def test_the_preview_command_writes_the_review(cut, tmp_path, capsys):
    from foleyflow.cli import main

    timeline, _ = cut
    out = tmp_path / "cmd.mp4"
    assert main(["preview", str(timeline), "-o", str(out), "--mute-original", "--size", "32x32", "-q"]) == 0
    assert "105 frames at 25 fps" in capsys.readouterr().out
    frames, _audio, meta = _read(out)
    assert len(frames) == 105 and abs(meta["audio"] - 4.2) < 1 / 25
    assert main(["preview", str(timeline), "-o", str(tmp_path / "x.mp4"), "--size", "big"]) == 2
    assert main(["preview", str(tmp_path / "none.otio"), "-o", str(tmp_path / "y.mp4")]) == 2
    assert "none.otio" in capsys.readouterr().err and not (tmp_path / "y.mp4").exists()
