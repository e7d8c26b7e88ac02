"""`foleyflow eval --videos DIR` (export.eval.videos): takes scored against the videos' own sound.

The test writes its own folder: videos with clicks at known times (an MP4 with AAC, a longer MKV with
PCM), a video without audio, one with a silent track, a file with a video suffix that is not a video
and a text file; it scores them with the shipped default package at few steps.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import frame_index, write_indexed_video
from model_fixtures import DEFAULT_MODEL

from foleyflow.export.eval.metrics import onset_scores
from foleyflow.export.eval.videos import (
    CHANCE_ROW,
    NO_AUDIO,
    SANITY_ROW,
    SCORED,
    SILENT,
    UNREADABLE,
    NoAudioTrackError,
    VideoEvalError,
    evaluate_videos,
    find_videos,
    format_videos,
    mean_rows,
    model_frames,
    read_video_sound,
)
from foleyflow.plugin.video_out import write_video

SR = 48000
FPS = Fraction(25)
MAX_SECONDS = 2.5
CLICKS = {"hits.mp4": (0.3, 0.9, 1.5), "long.mkv": (0.4, 1.2, 2.0, 2.8)}  # long.mkv: 3 s, the last after 2.5 s
SECONDS = {"hits.mp4": 2.0, "long.mkv": 3.0}


def clicks(times: tuple[float, ...], seconds: float) -> np.ndarray:
    """Damped two-mode clicks (15 ms decay) starting at ``times``."""
    x = np.zeros(round(seconds * SR), np.float32)
    t = np.arange(round(0.08 * SR)) / SR
    click = ((0.6 * np.sin(2 * np.pi * 1200 * t) + 0.3 * np.sin(2 * np.pi * 3100 * t)) * np.exp(-t / 0.015))
    for t0 in times:
        s = round(t0 * SR)
        x[s:s + click.size] += click[: x.size - s].astype(np.float32)
    return x


def moving_square(n: int, size: int = 64) -> list[np.ndarray]:
    frames = []
    for k in range(n):
        f = np.full((size, size, 3), 30, np.uint8)
        x = k * (size - 16) // max(1, n - 1)
        f[24:40, x:x + 16] = (230, 200, 40)
        frames.append(f)
    return frames


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("videos")
    write_video(d / "hits.mp4", moving_square(50), FPS, clicks(CLICKS["hits.mp4"], 2.0), SR)
    write_video(d / "long.mkv", moving_square(75), FPS, clicks(CLICKS["long.mkv"], 3.0), SR, audio_codec="pcm")
    write_video(d / "mute.mp4", moving_square(50), FPS)
    write_video(d / "quiet.mov", moving_square(50), FPS, np.zeros(2 * SR, np.float32), SR)
    (d / "notes.mp4").write_text("not a video\n")
    (d / "readme.txt").write_text("the takes of the shoot\n")
    return d


@pytest.fixture(scope="module")
def result(folder: Path) -> dict:
    return evaluate_videos([DEFAULT_MODEL], folder, max_seconds=MAX_SECONDS, steps=2)


def by_file(result: dict) -> dict[str, dict]:
    return {v["file"]: v for v in result["videos"]}


def test_the_sanity_row_finds_the_clicks(result):
    videos = by_file(result)
    for name, times in CLICKS.items():
        v = videos[name]
        assert v["status"] == SCORED
        known = [t for t in times if t < MAX_SECONDS - 0.05]  # long.mkv is scored on its first 2.5 s
        assert onset_scores(np.array(v["onsets"]), None, np.array(known), 0.1).f1 == 1.0
        assert v["rows"][SANITY_ROW]["f1"] == 1.0
        assert v["rows"][SANITY_ROW]["energy_l1"] == 0.0
        assert set(v["rows"]) == {SANITY_ROW, "default"}
        assert v["rows"]["default"]["n_clips"] == 1.0


def test_a_long_video_is_scored_on_its_first_part(result):
    v = by_file(result)["long.mkv"]
    assert v["truncated"] and v["seconds"] == MAX_SECONDS and v["duration"] == pytest.approx(3.0)
    assert v["n_onsets"] == 3  # the click at 2.8 s is past the part scored
    short = by_file(result)["hits.mp4"]
    assert not short["truncated"] and short["seconds"] == pytest.approx(2.0)


def test_videos_without_sound_and_non_videos_are_reported_and_left_out(result):
    videos = by_file(result)
    assert videos["mute.mp4"]["status"] == NO_AUDIO and "no audio track" in videos["mute.mp4"]["reason"]
    assert videos["quiet.mov"]["status"] == SILENT and "silent" in videos["quiet.mov"]["reason"]
    assert videos["notes.mp4"]["status"] == UNREADABLE and "cannot read" in videos["notes.mp4"]["reason"]
    for name in ("mute.mp4", "quiet.mov", "notes.mp4"):
        assert videos[name]["rows"] == {}
    assert result["ignored"] == ["readme.txt"]
    assert result["means"]["videos"] == 2 and result["means"]["left_out"] == 3
    means = result["means"]["rows"]
    assert list(means) == [SANITY_ROW, "default", CHANCE_ROW]
    assert means[SANITY_ROW]["n_clips"] == 2.0 and means[SANITY_ROW]["f1"] == 1.0
    scored = [videos["hits.mp4"], videos["long.mkv"]]
    assert means["default"]["f1"] == pytest.approx(np.mean([v["rows"]["default"]["f1"] for v in scored]))


def test_the_table_names_every_video_and_the_means(result):
    text = format_videos(result)
    for name in ("hits.mp4", "long.mkv", "mute.mp4", "quiet.mov", "notes.mp4"):
        assert name in text
    assert "means over 2 videos (3 left out)" in text
    assert f"| {SANITY_ROW} | 1.000 |" in text
    assert "scored on the first 2.5 s of 3.0 s" in text


def test_the_picture_is_held_at_the_model_rate_and_resized_whole(tmp_path):
    path = write_indexed_video(tmp_path / "ten.mp4", 20, Fraction(10), size=48)  # 2 s at 10 fps
    frames = model_frames(path, Fraction(25), 32, 2.0)
    assert frames.shape == (50, 32, 32, 3) and frames.dtype == np.uint8
    assert [frame_index(f) for f in frames] == [k * 10 // 25 for k in range(50)]


def test_errors_name_the_file_and_have_their_own_class(folder, tmp_path):
    with pytest.raises(NoAudioTrackError) as exc:
        read_video_sound(folder / "mute.mp4")
    assert str(exc.value).startswith(str(folder / "mute.mp4"))
    with pytest.raises(VideoEvalError) as exc:
        read_video_sound(folder / "notes.mp4")
    assert type(exc.value) is VideoEvalError and str(folder / "notes.mp4") in str(exc.value)
    with pytest.raises(VideoEvalError, match="no such folder"):
        find_videos(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(VideoEvalError, match="holds no video file"):
        find_videos(tmp_path)
    assert mean_rows([]) == {}


def test_foleyflow_eval_videos_end_to_end(folder, tmp_path, capsys):
    from foleyflow.cli import main

    out, page = tmp_path / "videos.json", tmp_path / "VIDEOS.md"
    rc = main(["eval", str(DEFAULT_MODEL), "--videos", str(folder), "--json", str(out), "--markdown", str(page),
               "--steps", "1", "--max-seconds", str(MAX_SECONDS), "--names", "shipped"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "means over 2 videos (3 left out)" in printed and "| shipped |" in printed
    data = json.loads(out.read_text())
    rows = {v["file"]: v["rows"] for v in data["videos"]}
    assert set(rows["hits.mp4"]) == {SANITY_ROW, "shipped"} and rows["mute.mp4"] == {}
    assert data["means"]["videos"] == 2 and data["steps"] == 1
    md = page.read_text()
    assert md.startswith("# Videos") and "### means over 2 videos" in md and "| shipped |" in md
    assert sorted(p.name for p in tmp_path.iterdir()) == ["VIDEOS.md", "videos.json"]  # no temporary left


def test_foleyflow_eval_videos_says_what_is_wrong(tmp_path, capsys):
    from foleyflow.cli import main

    assert main(["eval", str(DEFAULT_MODEL), "--videos", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"foleyflow: error: {tmp_path / 'missing'}: no such folder"
    write_video(tmp_path / "mute.mp4", moving_square(10), FPS)
    assert main(["eval", str(DEFAULT_MODEL), "--videos", str(tmp_path)]) == 3  # nothing could be scored
    assert "means over 0 videos (1 left out)" in capsys.readouterr().out
