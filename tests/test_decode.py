from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import frame_index, write_indexed_video

from foleyflow.plugin.decode import FrameReader, probe
from foleyflow.plugin.errors import MediaError
from foleyflow.plugin.video_out import write_video

P24 = Fraction(1001, 24000)  # one frame at 24000/1001


def test_probe(video_24):
    info = probe(video_24)
    assert info.rate == Fraction(24000, 1001) and info.frames == 120
    assert info.duration == 120 * P24 and (info.width, info.height) == (32, 32)
    assert info.timecode is None and not info.is_still


def test_probe_reads_the_start_timecode(tmp_path):
    path = write_indexed_video(tmp_path / "tc.mov", 5, Fraction(25), timecode="01:00:00:00")
    assert probe(path).timecode == "01:00:00:00"


def test_probe_refuses_non_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(MediaError) as info:
        probe(bad)
    assert "bad.mp4" in str(info.value)


@pytest.mark.parametrize(("t", "expected"), [
    (Fraction(0), 0),
    (P24, 1),  # exactly on a frame: that frame
    (P24 - Fraction(1, 10**6), 1),  # a microsecond early still counts (time-base rounding)
    (2 * P24 - Fraction(1, 1000), 1),  # a millisecond early: the previous frame (hold)
    (Fraction(1, 25) * 7, 6),  # model frame 7 at 25 fps: 0.28 s -> source frame 6 (0.2503 s)
    (Fraction(2), 47),
])
def test_frame_hold_picks_the_latest_frame_at_or_before(video_24, t, expected):
    with FrameReader(video_24, 8) as reader:
        assert frame_index(reader.frame_at(t)) == expected
        assert reader.frame_time_at(t) == expected * P24


def test_model_rate_sequence_streams_forward_with_one_seek(video_24):
    times = [Fraction(k, 25) for k in range(100)]  # 4 s at 25 fps over a 5 s clip
    with FrameReader(video_24, 8) as reader:
        got = [frame_index(f) for f in reader.frames_at(times)]
        assert reader.seeks == 1 and reader.decoded <= 100
    expected = [int(Fraction(k, 25) // P24) for k in range(100)]
    assert got == expected


def test_seek_back_and_far_ahead(video_24):
    with FrameReader(video_24, 8) as reader:
        assert frame_index(reader.frame_at(80 * P24)) == 80
        assert frame_index(reader.frame_at(13 * P24)) == 13  # backwards: seeks, lands on a keyframe, decodes on
        assert frame_index(reader.frame_at(110 * P24)) == 110  # far ahead: seeks
        assert reader.seeks == 3


def test_hold_last_frame_past_the_end(video_24, caplog):
    with FrameReader(video_24, 8) as reader:
        assert frame_index(reader.frame_at(Fraction(60))) == 119
    assert "holding it" in caplog.text


def test_before_the_first_frame_holds_the_first(video_24):
    with FrameReader(video_24, 8) as reader:
        assert frame_index(reader.frame_at(Fraction(-1, 10))) == 0


def test_frames_are_resized_whole_with_area(tmp_path):
    # left half black, right half white: a whole-frame resize keeps both halves (no crop)
    path = tmp_path / "halves.mp4"
    img = np.zeros((32, 64, 3), np.uint8)
    img[:, 32:] = 255
    write_video(path, [img], Fraction(25))
    with FrameReader(path, 16) as reader:
        a = reader.frame_at(Fraction(0))
    assert a.shape == (16, 16, 3) and a.dtype == np.uint8
    assert a[:, :6].mean() < 30 and a[:, 10:].mean() > 225


def test_still_image(tmp_path):
    path = tmp_path / "still.png"
    with av.open(str(path), "w", format="image2") as out:
        s = out.add_stream("png")
        s.width = s.height = 16
        s.pix_fmt = "rgb24"
        out.mux(s.encode(av.VideoFrame.from_ndarray(np.full((16, 16, 3), 200, np.uint8), format="rgb24")))
        out.mux(s.encode(None))
    assert probe(path).is_still
    with FrameReader(path, 8) as reader:
        assert int(reader.frame_at(Fraction(10)).mean()) == 200
