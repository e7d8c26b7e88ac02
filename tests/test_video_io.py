"""The one video writer: streamed exact-rate H.264, an optional AAC or PCM track of exact length, atomic."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from foleyflow.plugin import video_out as video_io
from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.video_out import write_video
from foleyflow.world.world import impacts_config, render_clip

NTSC = Fraction(24000, 1001)


def _read(path: Path) -> tuple[np.ndarray, list[Fraction], av.video.stream.VideoStream, list[str]]:
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames, times = [], []
        for f in c.decode(vs):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(f.pts * f.time_base)
        return np.stack(frames), times, vs, [s.type for s in c.streams]


def _audio(path: Path) -> tuple[np.ndarray, int, Fraction | None]:
    """Decoded audio [C, N] (AAC padded to whole frames), the sample rate and the track's stated duration
    in seconds (None where the container states none: Matroska)."""
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        data = [f.to_ndarray() for f in c.decode(s)]
        x = np.concatenate(data, axis=1)
        if x.dtype == np.int32:  # PCM s24 decodes as s32 packed [1, C*N]
            x = (x.astype(np.float64) / 2.0**31).reshape(-1, s.channels).T
        return x, s.sample_rate, None if s.duration is None else s.duration * s.time_base


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def test_roundtrip_with_audio(tmp_path: Path) -> None:
    fps, sr = NTSC, 16000
    clip = render_clip(4, duration=2.0, fps=fps, size=64, sample_rate=sr, config=impacts_config())  # clean content
    path = tmp_path / "clip.mp4"
    assert write_video(path, clip.frames, fps, clip.audio, sr) == len(clip.frames)
    frames, times, vs, kinds = _read(path)
    assert vs.average_rate == fps
    assert frames.shape == clip.frames.shape
    assert times == [k / fps for k in range(len(frames))]  # exact rational frame times
    assert _psnr(frames, clip.frames) > 30.0
    assert kinds == ["video", "audio"]
    audio, rate, duration = _audio(path)
    assert rate == sr and duration == Fraction(len(clip.audio), sr)  # the track says its exact length
    assert audio.shape[1] >= clip.audio.shape[0]  # AAC decodes padded to whole frames
    audio = audio[0, : clip.audio.shape[0]]  # and is aligned: no priming offset
    assert np.corrcoef(audio, clip.audio)[0, 1] > 0.95
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temp file left


@pytest.mark.parametrize("fps", [NTSC, Fraction(25), Fraction(30), Fraction(30000, 1001), Fraction(60)])
def test_exact_rates_without_audio(tmp_path: Path, fps: Fraction) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (6, 16, 24, 3), dtype=np.uint8)
    path = tmp_path / "v.mp4"
    write_video(path, frames, fps)
    got, times, vs, kinds = _read(path)
    assert kinds == ["video"]
    assert vs.average_rate == fps
    assert got.shape == frames.shape
    assert times == [k / fps for k in range(6)]
    assert vs.duration * vs.time_base == Fraction(6) / fps  # the track lasts exactly 6 frames


def test_frames_are_pulled_one_at_a_time(tmp_path: Path) -> None:
    """A generator is consumed lazily: when frame k is made, at most frame k-1 is still held (by the writer,
    until it asks for the next one); the picture is never gathered."""
    n, alive, most = 240, set(), 0

    def frames() -> Iterator[np.ndarray]:
        nonlocal most
        rng = np.random.default_rng(1)
        for k in range(n):
            frame = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
            weakref.finalize(frame, alive.discard, k)
            alive.add(k)
            most = max(most, len(alive))
            yield frame

    assert write_video(tmp_path / "long.mp4", frames(), NTSC, crf=30, preset="ultrafast") == n
    assert most <= 2
    _, times, _, _ = _read(tmp_path / "long.mp4")
    assert times == [k / NTSC for k in range(n)]


def test_audio_chunks_are_pulled_as_the_picture_advances(tmp_path: Path) -> None:
    """Audio given as chunks (uneven, stereo) is interleaved with the picture: never pulled far ahead of
    the frame being written, and the track holds exactly the samples given."""
    sr, n_frames = 48000, 72  # 3.003 s at 24000/1001
    n_samples = n_frames * sr * NTSC.denominator // NTSC.numerator  # 144144, not a multiple of 1024
    rng = np.random.default_rng(2)
    t = np.arange(n_samples)[:, None] / sr
    x = (0.3 * np.sin(2 * np.pi * np.array([440.0, 660.0]) * t)).astype(np.float32)  # [n, 2]
    sizes = rng.integers(1, 3000, 200)
    cuts = [0, *np.minimum(np.cumsum(sizes), n_samples)]
    frames_pulled, lead = 0, []

    def picture() -> Iterator[np.ndarray]:
        nonlocal frames_pulled
        for _ in range(n_frames):
            frames_pulled += 1
            yield np.full((16, 16, 3), 100, np.uint8)

    def sound() -> Iterator[np.ndarray]:
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            if a < b:
                lead.append(a - frames_pulled * sr / NTSC)  # samples already pulled beyond the picture
                yield x[a:b]
        yield x[cuts[-1]:]

    write_video(tmp_path / "mix.mov", picture(), NTSC, sound(), sr, audio_samples=n_samples)
    assert max(lead) <= 1024  # at most one AAC frame ahead (plus the chunk being pulled)
    audio, rate, duration = _audio(tmp_path / "mix.mov")
    assert rate == sr and audio.shape[0] == 2 and duration == Fraction(n_samples, sr) == Fraction(n_frames) / NTSC
    for ch in range(2):
        assert np.corrcoef(audio[ch, :n_samples], x[:, ch])[0, 1] > 0.95


@pytest.mark.parametrize("suffix", [".mov", ".mkv", ".mp4"])
def test_pcm_track_is_exact(tmp_path: Path, suffix: str) -> None:
    sr, n = 48000, 48480  # not a multiple of 1024
    x = (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / sr)).astype(np.float32)
    frames = np.zeros((25, 16, 16, 3), np.uint8)
    write_video(tmp_path / f"pcm{suffix}", frames, 25, [x[:1000], x[1000:]], sr, audio_codec="pcm")
    audio, rate, _ = _audio(tmp_path / f"pcm{suffix}")
    assert rate == sr and audio.shape == (1, n)
    assert np.max(np.abs(audio[0] - x)) < 2.0**-22


def test_the_promised_audio_length_is_checked(tmp_path: Path) -> None:
    old = tmp_path / "review.mp4"
    old.write_bytes(b"previous render")
    with pytest.raises(OutputError, match="1000 samples, 1001 were promised") as info:
        write_video(old, np.zeros((3, 16, 16, 3), np.uint8), 25, np.zeros(1000, np.float32), audio_samples=1001)
    assert type(info.value) is OutputError and info.value.path == old
    assert old.read_bytes() == b"previous render" and list(tmp_path.iterdir()) == [old]


def test_stereo_audio_and_int_rate(tmp_path: Path) -> None:
    frames = np.full((3, 16, 16, 3), 128, np.uint8)
    audio = np.zeros((48000 // 10, 2), np.float32)
    write_video(tmp_path / "s.mov", frames, 30, audio)
    with av.open(str(tmp_path / "s.mov")) as c:
        assert c.streams.audio[0].channels == 2 and c.streams.audio[0].sample_rate == 48000


def test_timecode_and_gop(tmp_path: Path) -> None:
    path = tmp_path / "tc.mov"
    write_video(path, np.zeros((30, 16, 16, 3), np.uint8), 25, gop=10, timecode="01:00:00:00")
    with av.open(str(path)) as c:
        assert c.streams.video[0].metadata["timecode"] == "01:00:00:00"  # and a tmcd track
        assert [s.type for s in c.streams] == ["video", "data"]
        keys = [p.is_keyframe for p in c.demux(video=0) if p.size]
    assert len(keys) == 30 and sum(keys) == 3


def test_bad_input_raises_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.mp4"
    ok = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="even"):
        write_video(path, np.zeros((2, 15, 16, 3), np.uint8), Fraction(25))
    with pytest.raises(ValueError, match="uint8"):
        write_video(path, ok.astype(np.float32), Fraction(25))
    with pytest.raises(TypeError):
        write_video(path, ok, 29.97)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        write_video(path, ok, Fraction(25), np.full(100, np.nan, np.float32))
    with pytest.raises(ValueError, match="no frames"):
        write_video(path, iter([]), Fraction(25))
    with pytest.raises(ValueError, match="the first was 16x16"):
        write_video(path, [ok[0], np.zeros((32, 32, 3), np.uint8)], Fraction(25))
    with pytest.raises(ValueError, match="Matroska"):
        write_video(tmp_path / "bad.mkv", ok, Fraction(25), np.zeros(100, np.float32))
    assert list(tmp_path.iterdir()) == []


def test_a_failing_frame_source_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    def frames() -> Iterator[np.ndarray]:
        for _ in range(3):
            yield np.zeros((16, 16, 3), np.uint8)
        raise KeyboardInterrupt  # Ctrl-C while the picture is being made

    old = tmp_path / "old.mp4"
    old.write_bytes(b"previous take")
    with pytest.raises(KeyboardInterrupt):
        write_video(old, frames(), Fraction(25))
    assert old.read_bytes() == b"previous take" and list(tmp_path.iterdir()) == [old]


def test_failed_video_write_leaves_no_file_and_keeps_the_old_one(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = av.VideoFrame

    class Failing:
        calls = 0

        @staticmethod
        def from_ndarray(*args, **kwargs):  # noqa: ANN002, ANN003, ANN205
            Failing.calls += 1
            if Failing.calls == 3:
                raise RuntimeError("disk on fire")
            return real.from_ndarray(*args, **kwargs)

    monkeypatch.setattr(video_io.av, "VideoFrame", Failing)
    frames = np.zeros((5, 16, 16, 3), np.uint8)
    with pytest.raises(RuntimeError):
        write_video(tmp_path / "new.mp4", frames, Fraction(25))
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.mp4"
    old.write_bytes(b"previous take")
    Failing.calls = 0
    with pytest.raises(RuntimeError):
        write_video(old, frames, Fraction(25))
    assert old.read_bytes() == b"previous take"
    assert list(tmp_path.iterdir()) == [old]


def test_an_encoder_error_is_an_output_error_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = av.open

    def full_disk(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        container = real_open(*args, **kwargs)
        real_mux = container.mux

        class Full:
            def __getattr__(self, name):  # noqa: ANN001, ANN204
                return getattr(container, name)

            def mux(self, packets):  # noqa: ANN001, ANN202
                if packets:
                    raise OSError(28, "No space left on device")
                return real_mux(packets)

        return Full()

    monkeypatch.setattr(video_io.av, "open", full_disk)
    with pytest.raises(OutputError, match="No space left on device") as info:
        write_video(tmp_path / "v.mp4", np.zeros((40, 16, 16, 3), np.uint8), Fraction(25))
    assert info.value.path == tmp_path / "v.mp4" and list(tmp_path.iterdir()) == []
