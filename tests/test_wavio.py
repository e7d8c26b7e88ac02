import numpy as np
import pytest
import soundfile as sf

from foleyflow.plugin.errors import OutputError
from foleyflow.plugin.wavio import safe_name, write_wav, write_wavs


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


def test_an_array_is_one_chunk_and_stereo_is_interleaved_rows(tmp_path):
    x = np.stack([np.linspace(-0.5, 0.5, 4800), np.full(4800, 0.25)], axis=1).astype(np.float32)  # [n, 2]
    path = write_wav(tmp_path / "mix.wav", x, 4800, 44100, channels=2)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 2, 4800, "PCM_24")
    y, _ = sf.read(str(path), dtype="float32")
    assert np.max(np.abs(y - x)) < 2.0**-22
    mono = write_wav(tmp_path / "mono.wav", x[:, 0], 4800)  # [n] array
    assert sf.info(str(mono)).frames == 4800


def test_hot_samples_clip_instead_of_wrapping(tmp_path):
    path = write_wav(tmp_path / "hot.wav", np.array([0.0, 1.5, -2.0, 0.25], np.float32), 4)
    y, _ = sf.read(str(path))
    assert y[1] == pytest.approx(1.0, abs=1e-6) and y[2] == pytest.approx(-1.0, abs=1e-6)
    assert y[3] == pytest.approx(0.25, abs=1e-6)


@pytest.mark.parametrize(("chunk", "words"), [
    (np.full(10, np.nan, np.float32), "NaN"),
    (np.zeros(10, np.int16), "floating point"),
    (np.zeros((10, 2), np.float32), r"is not \[n\] audio"),
])
def test_bad_chunks_are_output_errors_naming_the_file(tmp_path, chunk, words):
    with pytest.raises(OutputError, match=words) as info:
        write_wav(tmp_path / "take.wav", [np.zeros(5, np.float32), chunk], 15)
    assert type(info.value) is OutputError and info.value.path == tmp_path / "take.wav"
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_refused_before_any_file(tmp_path):
    for kwargs in ({"sample_rate": 0}, {"subtype": "MP3"}, {"channels": 0}):
        with pytest.raises(ValueError):
            write_wav(tmp_path / "take.wav", [np.zeros(10, np.float32)], 10, **kwargs)
    with pytest.raises(ValueError):
        write_wav(tmp_path / "take.wav", [], -1)
    assert list(tmp_path.iterdir()) == []


def _variations(n_var: int, n: int, sizes, seed: int = 0):
    """Seeded [V, n] audio and the chunks it is cut into (uneven sizes, an empty one)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.9, 0.9, (n_var, n)).astype(np.float32)
    cuts = np.cumsum([0, *sizes])
    assert cuts[-1] == n
    return x, [x[:, a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def test_write_wavs_writes_each_row_to_its_file_exactly(tmp_path):
    x, chunks = _variations(3, 3003, [1000, 0, 1, 2002])
    paths = [tmp_path / "takes" / f"V1_0_door_seed{s}.wav" for s in range(3)]
    fed = []

    def lazily():
        for c in chunks:
            fed.append(c.shape[1])
            yield c

    assert write_wavs(paths, lazily(), 3003) == paths
    assert fed == [1000, 0, 1, 2002]
    for v, path in enumerate(paths):
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (48000, 1, 3003, "PCM_24")
        y, _ = sf.read(str(path), dtype="float32")
        assert np.max(np.abs(y - x[v])) < 2.0**-22
    assert sorted(p.name for p in paths[0].parent.iterdir()) == sorted(p.name for p in paths)


@pytest.mark.parametrize("when", ["cancel", "short", "long", "shape"])
def test_write_wavs_all_or_nothing(tmp_path, when):
    from foleyflow.runtime.errors import CancelledError

    paths = [tmp_path / f"take_seed{s}.wav" for s in range(3)]
    write_wav(paths[1], [np.full(20, 0.5, np.float32)], 20)  # an earlier take under one of the names
    x, chunks = _variations(3, 100, [40, 60])

    def feed():
        yield chunks[0]
        if when == "cancel":
            raise CancelledError("cancelled between two segments")
        if when == "shape":
            yield chunks[1][:2]
        elif when == "long":
            yield chunks[1]
            yield chunks[1][:, :1]
        else:
            yield chunks[1][:, :59]

    expected = CancelledError if when == "cancel" else OutputError
    with pytest.raises(expected) as info:
        write_wavs(paths, feed(), 100)
    assert type(info.value) is expected
    assert [p.name for p in tmp_path.iterdir()] == [paths[1].name]  # none of the new ones, no temp file
    assert sf.info(str(paths[1])).frames == 20  # and the earlier take untouched


def test_write_wavs_a_rename_failing_midway_leaves_none(tmp_path, monkeypatch):
    import foleyflow.plugin.atomic as atomic

    paths = [tmp_path / f"take_seed{s}.wav" for s in range(3)]
    write_wav(paths[0], [np.full(20, 0.5, np.float32)], 20)
    real = atomic.os.replace

    def replace(src, dst):
        if dst == paths[2]:
            raise OSError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OutputError, match="Permission denied"):
        write_wavs(paths, [np.zeros((3, 10), np.float32)], 10)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [paths[0].name] and sf.info(str(paths[0])).frames == 20


def test_a_full_disk_is_an_output_error_and_leaves_nothing(tmp_path, monkeypatch):
    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    with pytest.raises(OutputError, match="No space left on device") as info:
        write_wav(tmp_path / "take.wav", [np.zeros(10, np.float32)], 10)
    assert info.value.path == tmp_path / "take.wav" and list(tmp_path.iterdir()) == []
