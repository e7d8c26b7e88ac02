"""Real data layouts (export/real.py) on tiny fixtures written in those layouts."""

import json
import logging
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from foleyflow.export import real
from foleyflow.export.config import TrainConfig
from foleyflow.export.dataset import build_cache, load_set
from foleyflow.export.eval.onsets import detect_onsets
from foleyflow.export.real import (
    LayoutError,
    RealClip,
    build_real_set,
    decode_audio,
    decode_video,
    read_greatest_hits,
    read_vggsound_csv,
)
from foleyflow.plugin.video_out import write_video
from foleyflow.plugin.wavio import write_wav

SR = 48000
CLICKS = (0.5, 1.7, 3.2, 4.4, 6.1, 7.3)


def _clicks(seconds: float, times=CLICKS, sr: int = SR) -> np.ndarray:
    x = np.zeros(round(seconds * sr), np.float32)
    k = np.arange(int(0.08 * sr)) / sr
    burst = (0.6 * np.sin(2 * np.pi * 900 * k) * np.exp(-k / 0.012)).astype(np.float32)
    for t in times:
        i = round(t * sr)
        x[i:i + len(burst)] += burst[: len(x) - i]
    return x


def _numbered_frames(n: int, h: int = 48, w: int = 64) -> np.ndarray:
    """Frame k is flat grey at level 10 + 4k (k < 60): the decoded level says which frame is shown."""
    return np.stack([np.full((h, w, 3), 10 + 4 * (k % 60), np.uint8) for k in range(n)])


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    out = {}
    out["numbered"] = d / "numbered.mp4"
    write_video(out["numbered"], _numbered_frames(60), Fraction(30), crf=0)
    out["clicks"] = d / "clicks.mp4"
    write_video(out["clicks"], _numbered_frames(9 * 30), Fraction(30), _clicks(9.0), SR)
    return out


def _which(frames: np.ndarray, media: dict[str, Path]) -> np.ndarray:
    """Source frame index of each decoded frame, by its level against the source's own decoded levels."""
    levels = decode_video(media["numbered"], Fraction(30), 32, 0.0, None)[:, 16, 16, 0].astype(float)
    assert len(levels) == 60 and np.all(np.diff(levels) > 2)  # every source frame once, told apart
    return np.argmin(np.abs(frames[:, 16, 16, 0].astype(float)[:, None] - levels[None]), axis=1)


def test_decode_video_holds_the_frame_shown_at_each_model_time(media):
    frames = decode_video(media["numbered"], Fraction(25), 32, 0.0, None)
    assert frames.shape == (50, 32, 32, 3) and frames.dtype == np.uint8
    shown = _which(frames, media)
    expected = np.floor(np.arange(50) * 30 / 25 + 1e-9).astype(int)  # the source frame at or before k / 25
    np.testing.assert_array_equal(shown, expected)


def test_decode_video_from_a_start_time(media):
    frames = decode_video(media["numbered"], Fraction(25), 32, 1.0, 0.4)
    assert len(frames) == 10
    shown = _which(frames, media)
    np.testing.assert_array_equal(shown, np.floor(30 + np.arange(10) * 30 / 25 + 1e-9).astype(int))


def test_decode_audio_keeps_the_clicks_in_place(media):
    x = decode_audio(media["clicks"], 16000, 0.0, 9 * 16000)
    assert x.shape == (9 * 16000,) and x.dtype == np.float32
    found = detect_onsets(x, 16000)
    assert len(found) == len(CLICKS)
    assert np.max(np.abs(found - np.array(CLICKS))) < 0.02
    later = decode_audio(media["clicks"], 16000, 3.0, 2 * 16000)  # a window later in the file
    np.testing.assert_allclose(detect_onsets(later, 16000), np.array([3.2, 4.4]) - 3.0, atol=0.02)


def test_vggsound_csv_reads_rows_and_skips_missing_videos(media, tmp_path, caplog):
    videos = tmp_path / "clips"
    videos.mkdir()
    os.link(media["clicks"], videos / "abc_000030.mp4")
    os.link(media["numbered"], videos / "xyz_000000.mp4")
    csv = tmp_path / "vggsound.csv"
    csv.write_text("youtube_id,start_seconds,label,split\nabc,30,dog barking,train\nxyz,0,hammering,test\n"
                   "gone,10,lost clip,train\n")
    with caplog.at_level(logging.WARNING):
        clips = read_vggsound_csv(csv, videos)
    assert [(c.video.name, c.label, c.split) for c in clips] == [("abc_000030.mp4", "dog barking", "train"),
                                                                ("xyz_000000.mp4", "hammering", "test")]
    assert "1 of 3 rows have no video" in caplog.text


@pytest.mark.parametrize("line, problem", [("abc,30,label", "expected youtube_id"), ("abc,soon,label,train", "not a number"),
                                           ("abc,-5,label,train", "finite and >= 0")])
def test_vggsound_csv_errors_name_the_file_and_line(tmp_path, line, problem):
    csv = tmp_path / "bad.csv"
    csv.write_text("abc,0,fine,train\n" + line + "\n")
    with pytest.raises(LayoutError, match=problem) as err:
        read_vggsound_csv(csv, tmp_path)
    assert str(csv) in str(err.value) and "line 2" in str(err.value)


def test_vggsound_csv_without_any_video_is_an_error(tmp_path):
    csv = tmp_path / "v.csv"
    csv.write_text("abc,0,label,train\n")
    with pytest.raises(LayoutError, match="no row has a video"):
        read_vggsound_csv(csv, tmp_path)


def _hits_folder(root: Path, media: dict[str, Path]) -> Path:
    rec = root / "2015-02-16-16-49-06"
    rec.mkdir(parents=True)
    os.link(media["clicks"], rec / "2015-02-16-16-49-06_denoised.mp4")
    clicks = _clicks(9.0)
    write_wav(rec / "2015-02-16-16-49-06_denoised.wav", clicks, len(clicks), SR)
    lines = [f"{t} {'wood' if i != 2 else 'metal'} hit None" for i, t in enumerate(CLICKS)]
    (rec / "2015-02-16-16-49-06_times.txt").write_text("\n".join(reversed(lines)) + "\n")
    (rec / "orphan_times.txt").write_text("1.0 wood hit static\n")  # no video beside it: skipped
    return root


def test_greatest_hits_layout(media, tmp_path):
    clips = read_greatest_hits(_hits_folder(tmp_path / "vis-data", media), val_share=0.0)
    assert len(clips) == 1
    c = clips[0]
    assert c.video.name.endswith("_denoised.mp4") and c.audio.name.endswith("_denoised.wav")
    assert c.label == "wood" and c.split == "train"
    assert [h["time"] for h in c.hits] == list(CLICKS)  # sorted
    assert c.hits[2]["material"] == "metal" and c.hits[0]["kind"] == "hit" and c.hits[0]["reaction"] is None


def test_greatest_hits_bad_times_line(tmp_path):
    (tmp_path / "r_denoised.mp4").write_bytes(b"")
    (tmp_path / "r_times.txt").write_text("1.0 wood hit static\nabout two wood hit\n")
    with pytest.raises(LayoutError, match="line 2") as err:
        read_greatest_hits(tmp_path)
    assert "r_times.txt" in str(err.value)


def test_greatest_hits_empty_folder(tmp_path):
    with pytest.raises(LayoutError, match="no NAME_times.txt"):
        read_greatest_hits(tmp_path)


def test_build_real_set_cuts_windows_with_their_events(media, tmp_path):
    cfg = TrainConfig()
    clips = read_greatest_hits(_hits_folder(tmp_path / "gh", media), val_share=0.0)
    s, index = build_real_set(clips, cfg, tmp_path / "cache")
    assert len(s) == 2  # 9 s -> two windows of 4 s
    assert s.frames.shape == (2, 100, 32, 32, 3)
    assert s.audio.shape == (2, 64000) and s.mel.shape == (2, 400, 64)
    assert [[round(e["time"], 3) for e in ev] for ev in s.events] == [[0.5, 1.7, 3.2], [0.4, 2.1, 3.3]]
    assert index[1]["start"] == 4.0 and index[1]["label"] == "wood"
    found = detect_onsets(s.audio[1].astype(np.float32), 16000)
    np.testing.assert_allclose(found, [0.4, 2.1, 3.3], atol=0.02)  # audio and events agree


def test_decoded_clips_are_cached_and_redecoded_when_the_file_changes(media, tmp_path, monkeypatch):
    cfg = TrainConfig()
    video = tmp_path / "v.mp4"
    video.write_bytes(media["clicks"].read_bytes())
    clip = RealClip(video, "x", "train", 0.0, 4.0)
    first, _ = build_real_set([clip], cfg, tmp_path / "cache")
    calls = []
    monkeypatch.setattr(real, "decode_video", lambda *a, **k: calls.append(a) or pytest.fail("decoded again"))
    again, _ = build_real_set([clip], cfg, tmp_path / "cache")
    np.testing.assert_array_equal(first.frames, again.frames)
    monkeypatch.undo()
    st = video.stat()
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the file changed: decode again
    decoded = []
    orig = real.decode_video
    monkeypatch.setattr(real, "decode_video", lambda *a, **k: decoded.append(a) or orig(*a, **k))
    build_real_set([clip], cfg, tmp_path / "cache")
    assert len(decoded) == 1


def test_a_clip_that_is_not_a_video_names_its_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(LayoutError) as err:
        build_real_set([RealClip(bad, "x", "train")], TrainConfig(), tmp_path / "cache")
    assert str(bad) in str(err.value)


def test_command_writes_sets_that_training_reuses(media, tmp_path, caplog):
    root = _hits_folder(tmp_path / "gh", media)
    rec = root / "2015-02-16-16-49-06"
    second = root / "2015-03-01-10-00-00"
    second.mkdir()
    os.link(media["clicks"], second / "2015-03-01-10-00-00_denoised.mp4")
    (second / "2015-03-01-10-00-00_times.txt").write_text((rec / "2015-02-16-16-49-06_times.txt").read_text())
    work = tmp_path / "work"
    # the split hashes the recording's name: 2015-02-16-16-49-06 -> 0.248, 2015-03-01-10-00-00 -> 0.388
    assert real.main(["greatest-hits", "--root", str(root), "--val-share", "0.3", "--workdir", str(work)]) == 0
    with caplog.at_level(logging.INFO):
        paths = build_cache(TrainConfig(), work)
    assert "reusing" in caplog.text
    train, val = load_set(paths["train"]), load_set(paths["val"])
    assert train.frames.shape == val.frames.shape == (2, 100, 32, 32, 3)
    index = json.loads((work / "cache" / "val.index.json").read_text())
    assert {Path(i["video"]).name for i in index} == {"2015-02-16-16-49-06_denoised.mp4"}


def test_command_reports_an_empty_split(media, tmp_path, capsys):
    root = _hits_folder(tmp_path / "gh", media)
    assert real.main(["greatest-hits", "--root", str(root), "--val-share", "0", "--workdir", str(tmp_path / "w")]) == 2
    assert "no val clips" in capsys.readouterr().out
