"""benchmarks.media: the bench's clips have the frames and the exact rate they claim, written whole."""

from fractions import Fraction

import av
import numpy as np

from foleyflow.benchmarks.media import MEDIA_FPS, clip_job, long_video, pattern_frames, write_frames
from foleyflow.world.world import frame_count


def _decode(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [(f.pts * f.time_base, f.to_ndarray(format="rgb24")) for f in c.decode(s)]
        return s.average_rate, frames


def test_an_iterator_of_frames_is_written_at_the_exact_rate(tmp_path):
    path = tmp_path / "p.mp4"
    n = write_frames(path, pattern_frames(48, 32, 30), MEDIA_FPS)
    rate, frames = _decode(path)
    assert n == len(frames) == 30 and rate == MEDIA_FPS
    assert [t for t, _ in frames] == [Fraction(k * 1001, 24000) for k in range(30)]  # never 23.976
    assert frames[0][1].shape == (32, 48, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["p.mp4"]  # no temporary name left beside it


def test_an_array_of_frames_is_written_frame_for_frame(tmp_path):
    frames = np.stack(list(pattern_frames(32, 32, 12)))
    assert write_frames(tmp_path / "a.mp4", frames, Fraction(25)) == 12
    rate, decoded = _decode(tmp_path / "a.mp4")
    assert rate == 25 and len(decoded) == 12
    got = decoded[5][1].astype(int)
    assert np.abs(got - frames[5]).mean() < np.abs(got - frames[4]).mean()  # frame k is frame k, up to H.264


def test_pattern_frames_move_and_repeat_for_a_seed():
    a, b = list(pattern_frames(40, 24, 3)), list(pattern_frames(40, 24, 3))
    assert all(x.dtype == np.uint8 and x.shape == (24, 40, 3) for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[1])


def test_a_long_clip_covers_its_length_by_looping_a_scene(tmp_path):
    n = long_video(tmp_path / "l.mp4", 3.0, 32, loop_seconds=1.0)
    _, frames = _decode(tmp_path / "l.mp4")
    assert n == len(frames) == frame_count(3.0, MEDIA_FPS) == 72


def test_the_job_holds_the_whole_clip(tmp_path):
    path = tmp_path / "j.mp4"
    n = write_frames(path, pattern_frames(32, 32, 48), MEDIA_FPS)
    job = clip_job(path, n)
    assert job.n_samples == round(Fraction(n * 1001, 24000) * 48000)  # 48 frames = 2.002 s
    assert job.n_samples == 96096
