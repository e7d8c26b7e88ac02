"""Writing real media: exact-rate H.264 with optional AAC, 24-bit WAV, both atomic."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from foleyflow.plugin import video_out as video_io
from foleyflow.plugin.video_out import write_video, write_wav
from foleyflow.world.world import impacts_config, render_clip


def _read(path: Path) -> tuple[np.ndarray, list[Fraction], av.video.stream.VideoStream, list[str]]:
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames, times = [], []
        for f in c.decode(vs):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(f.pts * f.time_base)
        return np.stack(frames), times, vs, [s.type for s in c.streams]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def test_roundtrip_with_audio(tmp_path: Path) -> None:
    fps, sr = Fraction(24000, 1001), 16000
    clip = render_clip(4, duration=2.0, fps=fps, size=64, sample_rate=sr, config=impacts_config())  # clean content
    path = tmp_path / "clip.mp4"
    write_video(path, clip.frames, fps, clip.audio, sr)
    frames, times, vs, kinds = _read(path)
    assert vs.average_rate == fps
    assert frames.shape == clip.frames.shape
    assert times == [k / fps for k in range(len(frames))]  # exact rational frame times
    assert _psnr(frames, clip.frames) > 30.0
    assert kinds == ["video", "audio"]
    with av.open(str(path)) as c:
        assert c.streams.audio[0].sample_rate == sr
        audio = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)[0]
    assert audio.shape[0] >= clip.audio.shape[0]  # AAC pads to whole frames
    audio = audio[: clip.audio.shape[0]]  # and is aligned: no priming offset
    assert np.corrcoef(audio, clip.audio)[0, 1] > 0.95
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temp file left


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), Fraction(30), Fraction(30000, 1001),
                                 Fraction(60)])
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


def test_stereo_audio_and_int_rate(tmp_path: Path) -> None:
    frames = np.full((3, 16, 16, 3), 128, np.uint8)
    audio = np.zeros((48000 // 10, 2), np.float32)
    write_video(tmp_path / "s.mov", frames, 30, audio)
    with av.open(str(tmp_path / "s.mov")) as c:
        assert c.streams.audio[0].channels == 2 and c.streams.audio[0].sample_rate == 48000


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
    assert list(tmp_path.iterdir()) == []


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


def test_write_wav_48k_pcm24(tmp_path: Path) -> None:
    t = np.arange(48000) / 48000
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / "take.wav"
    write_wav(path, x, 48000)
    info = sf.info(str(path))
    assert (info.samplerate, info.subtype, info.format, info.channels, info.frames) == (48000, "PCM_24", "WAV", 1, 48000)
    y, sr = sf.read(str(path), dtype="float32")
    assert sr == 48000 and np.max(np.abs(y - x)) < 2.0**-22
    assert [p.name for p in tmp_path.iterdir()] == ["take.wav"]


def test_write_wav_clips_instead_of_wrapping(tmp_path: Path) -> None:
    write_wav(tmp_path / "hot.wav", np.array([0.0, 1.5, -2.0, 0.25], np.float32), 48000)
    y, _ = sf.read(str(tmp_path / "hot.wav"))
    assert y[1] == pytest.approx(1.0, abs=1e-6) and y[2] == pytest.approx(-1.0, abs=1e-6)


def test_failed_wav_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self, data):  # noqa: ANN001, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(sf.SoundFile, "write", boom)
    with pytest.raises(OSError):
        write_wav(tmp_path / "x.wav", np.zeros(100, np.float32), 48000)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        write_wav(tmp_path / "x.wav", np.zeros(100, np.int16), 48000)
