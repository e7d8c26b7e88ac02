import numpy as np
import pytest
import soundfile as sf

from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.wavio import safe_name, write_wav


@pytest.mark.parametrize(("text", "safe"), [
    ("V1:3", "V1_3"), ("../../etc/passwd", "etc_passwd"), ('a<b>c:"d"/e\\f|g?h*', "a_b_c_d_e_f_g_h"),
    ("CON", "_CON"), ("nul.wav", "_nul.wav"), ("  .hidden. ", "hidden"), ("Café crème", "Cafe_creme"),
    ("", "clip"), ("///", "clip"), ("x" * 300, "x" * 96), ("tech.fux (loop)-HD.mp4", "tech.fux_loop_-HD.mp4"),
])
def test_safe_name(text, safe):
    assert safe_name(text) == safe


def test_write_wav_streams_exact_pcm24(tmp_path):
    chunks = [np.full(1000, 0.25, np.float32), np.zeros(0, np.float32), np.full(2003, -0.5, np.float32)]
    path = write_wav(tmp_path / "out" / "take.wav", iter(chunks), 3003)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.frames, info.format) == (48000, 1, "PCM_24", 3003, "WAV")
    data, _ = sf.read(str(path), dtype="float32")
    assert data[0] == pytest.approx(0.25, abs=1e-6) and data[-1] == pytest.approx(-0.5, abs=1e-6)
    assert [p.name for p in path.parent.iterdir()] == ["take.wav"]


@pytest.mark.parametrize("given", [100, 300])
def test_wrong_length_leaves_nothing(tmp_path, given):
    with pytest.raises(OutputError) as info:
        write_wav(tmp_path / "take.wav", [np.zeros(given, np.float32)], 200)
    assert type(info.value) is OutputError and "take.wav" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_take(tmp_path):
    path = write_wav(tmp_path / "take.wav", [np.zeros(10, np.float32)], 10)

    def broken():
        yield np.zeros(5, np.float32)
        raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError):
        write_wav(path, broken(), 10)
    assert sf.info(str(path)).frames == 10 and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("where", ["open", "first-chunk", "close"])
def test_ctrl_c_anywhere_in_the_write_leaves_no_temporary_file(tmp_path, monkeypatch, where):
    """Ctrl-C is a KeyboardInterrupt raised wherever Python is: just after SoundFile has created the
    temporary file (inside its constructor), while a chunk is written, or while the file is closed."""
    import foleyflow.plugin.wavio as wavio

    real = sf.SoundFile

    class Interrupted(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)  # the temporary file exists from here on
            if where == "open":
                raise KeyboardInterrupt

        def write(self, data):
            if where == "first-chunk":
                raise KeyboardInterrupt
            return super().write(data)

        def close(self):
            super().close()
            if where == "close" and not where_done:
                where_done.append(True)
                raise KeyboardInterrupt

    where_done: list[bool] = []
    monkeypatch.setattr(wavio.sf, "SoundFile", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_wav(tmp_path / "take.wav", [np.zeros(10, np.float32)], 10)
    assert list(tmp_path.iterdir()) == []
    assert where_done == ([True] if where == "close" else [])
