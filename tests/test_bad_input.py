"""The bad-input battery: every case through the real command line, one test each.

Each case runs ``foleyflow.plugin.cli.main([...])`` in-process (a few run ``python -m
foleyflow.plugin.cli`` in a subprocess) and checks what an editor on a deadline needs:

- a typed error, the exact class (spied where the CLI turns it into its one line);
- a message that names the file and says the problem;
- the exit code: 2 bad input, 3 nothing to do, 4 a clip failed (the others would go on);
- no traceback on stderr;
- nothing written, and every input byte-identical (sha256 of the whole work folder, before/after).

Cases that are not errors (odd paths, hostile clip names, a one-hour clip) check that they
work, and what they write. Media cases use the fake engine of conftest.py (no model needed);
model cases load the bundled package. See docs/RELIABILITY.md.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import TIMELINES, write_indexed_video
from model_fixtures import copy_model, rewrite

from foleyflow.plugin import cli
from foleyflow.plugin import generate as generate_mod
from foleyflow.plugin import timeline as timeline_mod
from foleyflow.plugin.errors import (
    EXIT_BAD_INPUT,
    EXIT_NOTHING_TO_DO,
    EXIT_OK,
    EXIT_SOME_FAILED,
    MediaError,
    NothingToDoError,
    OutputError,
    TimelineError,
)
from foleyflow.plugin.generate import Engine
from foleyflow.plugin.video_out import write_video
from foleyflow.runtime.errors import ChecksumError, GraphShapeError, ModelPackageError, ProviderError

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "default"
RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
SAFE_WAV = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.wav$")


# -- running the CLI and checking what it did -------------------------------------------------
@dataclass
class Run:
    code: int
    out: str
    err: str
    error: BaseException | None  # the typed error behind the CLI's message (command or per clip)

    @property
    def text(self) -> str:
        return self.out + self.err


def snapshot(root: Path) -> dict[str, str]:
    """Every file (sha256) and folder under ``root``."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def run_cli(monkeypatch, capsys) -> Callable[..., Run]:
    """Run the real CLI in-process; record the first exception the commands or a clip raised."""
    caught: list[BaseException] = []

    def spy(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                caught.append(exc)
                raise

        return wrapper

    monkeypatch.setattr(cli, "cmd_generate", spy(cli.cmd_generate))
    monkeypatch.setattr(cli, "cmd_clips", spy(cli.cmd_clips))
    monkeypatch.setattr(generate_mod, "generate_take", spy(generate_mod.generate_take))

    def run(*argv: object) -> Run:
        caught.clear()
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return Run(code, out, err, caught[0] if caught else None)

    return run


def check_refused(run: Run, cls: type[BaseException], code: int, *, names: Path, says: str,
                  before: dict[str, str], root: Path) -> None:
    """The exact error class, exit code, a message naming the file and the problem, no traceback,
    nothing written and nothing changed under ``root``."""
    assert type(run.error) is cls, f"{type(run.error).__name__}: {run.error}\n{run.err}"
    assert run.code == code, run.text
    assert "Traceback" not in run.text
    message = str(run.error)
    assert str(names) in message, message
    assert says in message, message
    assert message in run.err, run.err  # the user sees the whole message on stderr
    assert snapshot(root) == before


# -- building inputs ----------------------------------------------------------------------
def clip(ref: Path | str | otio.core.MediaReference | None, name: str = "shot", start: float = 0,
         dur: float = 25, rate: float = 25) -> otio.schema.Clip:
    if isinstance(ref, Path):
        ref = otio.schema.ExternalReference(target_url=ref.as_uri())
    elif isinstance(ref, str):
        ref = otio.schema.ExternalReference(target_url=ref)
    return otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(start, rate), RT(dur, rate)))


def save(path: Path, *items: otio.core.Item, audio: bool = False) -> Path:
    tl = otio.schema.Timeline(name=path.stem)
    if items or audio:
        kind = otio.schema.TrackKind.Audio if audio else otio.schema.TrackKind.Video
        track = otio.schema.Track(kind=kind)
        track.extend(items)
        tl.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    otio.adapters.write_to_file(tl, str(path))
    return path


@pytest.fixture(scope="session")
def video_25(tmp_path_factory) -> Path:
    """60 frames (2.4 s) at 25 fps, 32 px."""
    return write_indexed_video(tmp_path_factory.mktemp("battery") / "v25.mp4", 60, Fraction(25))


@pytest.fixture
def ws(tmp_path, video_25) -> Path:
    """A work folder: ``in/`` (a copy of the video), ``out/`` (where results go)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    shutil.copy(video_25, tmp_path / "in" / "shot.mp4")
    return tmp_path


@pytest.fixture
def fake(monkeypatch, fake_engine):
    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, package, provider="auto": fake_engine))
    return fake_engine


def generate_args(timeline: Path, ws: Path, *extra: object) -> list[object]:
    return ["generate", timeline, "-o", ws / "out" / "cut.otio", "--model", MODEL, "--steps", "2", *extra]


def half(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


# -- 1. timelines that cannot be read (exit 2, TimelineError) --------------------------------
def _bomb_xml() -> bytes:
    ents = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE x [{ents}]>\n<xmeml version="4"><sequence><name>&l9;</name>'
            "</sequence></xmeml>").encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _otio_text(**replace: str) -> bytes:
    """A one-clip timeline (a 50-frame clip at 25 fps) as OTIO JSON, with text replaced."""
    tl = otio.schema.Timeline(name="cut")
    tl.tracks.append(otio.schema.Track())
    tl.tracks[0].append(clip("file:///media/shot.mov", dur=50))
    text = otio.adapters.write_to_string(tl, "otio_json")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text.encode()


UNREADABLE = {
    # id: (file name, bytes, words the message must hold)
    "otio-truncated": ("cut.otio", lambda: half(TIMELINES / "simple_cut.otio"), "cannot read as otio_json"),
    "otio-zero-bytes": ("cut.otio", lambda: b"", "The document is empty"),
    "otio-unknown-schema": ("cut.otio", lambda: b'{"OTIO_SCHEMA": "Bogus.1", "name": "x"}', "holds no timeline"),
    "otio-binary-garbage": ("cut.otio", lambda: random.Random(1).randbytes(4096), "cannot read as otio_json"),
    "otioz-not-a-zip": ("cut.otioz", lambda: b"PK but not really a zip", "is not a zip file"),
    "otioz-truncated": ("cut.otioz", lambda: _zip({"content.otio": (TIMELINES / "simple_cut.otio").read_bytes(),
                                                    "version.txt": b"1.0.0"})[:200], "is not a zip file"),
    "otioz-without-content": ("cut.otioz", lambda: _zip({"readme.txt": b"hello"}), "holds no content.otio"),
    "otioz-truncated-json": ("cut.otioz", lambda: _zip({"content.otio": half(TIMELINES / "simple_cut.otio")}),
                             "cannot read as otioz"),
    "fcp7-xml-truncated": ("cut.xml", lambda: half(TIMELINES / "premiere_example.xml"), "cannot read as fcp_xml"),
    "fcp7-xml-wrong-format": ("cut.xml", lambda: b"<html><body>not a sequence</body></html>",
                              "No top-level sequences found"),
    "fcp7-xml-entity-bomb": ("cut.xml", _bomb_xml, "cannot read as fcp_xml"),
    "fcpxml-truncated": ("cut.fcpxml", lambda: half(TIMELINES / "fcpx_example.fcpxml"), "cannot read as fcpx_xml"),
    "fcpxml-holding-fcp7": ("cut.fcpxml", lambda: (TIMELINES / "premiere_example.xml").read_bytes(),
                            "holds no timeline"),
    "edl-garbage": ("cut.edl", lambda: b"TITLE: x\n001  AX V C 00:00:00:00\nnot an event\n", "cannot read as cmx_3600"),
    "edl-not-text": ("cut.edl", lambda: bytes(range(128, 256)) * 4, "cannot read as cmx_3600"),
    "aaf-truncated": ("cut.aaf", lambda: half(TIMELINES / "simple.aaf"), "cannot read as AAF"),
    "aaf-not-aaf": ("cut.aaf", lambda: (TIMELINES / "simple_cut.otio").read_bytes(), "cannot read as AAF"),
    "unknown-suffix": ("cut.timeline", lambda: b"{}", "unknown timeline format"),
    # times no editing system writes: refused before they reach any arithmetic
    "otio-rate-zero": ("cut.otio", lambda: _otio_text(**{'"rate": 25.0': '"rate": 0.0'}), "is not a valid time"),
    "otio-nan-time": ("cut.otio", lambda: _otio_text(**{'"value": 50.0': '"value": NaN'}), "is not a valid time"),
    "otio-negative-duration": ("cut.otio", lambda: _otio_text(**{'"value": 50.0': '"value": -50.0'}),
                               "negative duration"),
    "otio-absurd-duration": ("cut.otio", lambda: _otio_text(**{'"value": 50.0': '"value": 1e300'}), "out of range"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_timeline(case, ws, run_cli):
    name, make, says = UNREADABLE[case]
    timeline = ws / "in" / name
    timeline.write_bytes(make())
    extra = ["--rate", "24"] if name.endswith(".edl") else []
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws, *extra))
    check_refused(run, TimelineError, EXIT_BAD_INPUT, names=timeline, says=says, before=before, root=ws)


def test_timeline_file_missing(ws, run_cli):
    before = snapshot(ws)
    run = run_cli(*generate_args(ws / "in" / "gone.otio", ws))
    check_refused(run, TimelineError, EXIT_BAD_INPUT, names=ws / "in" / "gone.otio", says="not found",
                  before=before, root=ws)


def test_timeline_is_a_folder(ws, run_cli):
    (ws / "in" / "cut.otio").mkdir()
    before = snapshot(ws)
    run = run_cli(*generate_args(ws / "in" / "cut.otio", ws))
    check_refused(run, TimelineError, EXIT_BAD_INPUT, names=ws / "in" / "cut.otio", says="Is a directory",
                  before=before, root=ws)


def test_otioz_zip_bomb_is_not_inflated(ws, run_cli, monkeypatch):
    # the limit is lowered (1 GiB by default) so that the bomb stays small and fast here
    monkeypatch.setattr(timeline_mod, "MAX_JSON_BYTES", 1 << 20)
    timeline = ws / "in" / "cut.otioz"
    timeline.write_bytes(_zip({"content.otio": b" " * (8 << 20)}))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, TimelineError, EXIT_BAD_INPUT, names=timeline, says="would inflate", before=before, root=ws)


# -- 2. timelines with nothing to generate (exit 3, NothingToDoError) -----------------------
def test_empty_timeline(ws, run_cli):
    timeline = save(ws / "in" / "cut.otio")
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, NothingToDoError, EXIT_NOTHING_TO_DO, names=timeline, says="holds no video clip",
                  before=before, root=ws)


def test_timeline_without_video(ws, run_cli):
    audio = otio.schema.Clip(name="dialogue", source_range=TR(RT(0, 25), RT(50, 25)))
    timeline = save(ws / "in" / "cut.otio", audio, audio=True)
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, NothingToDoError, EXIT_NOTHING_TO_DO, names=timeline, says="holds no video clip",
                  before=before, root=ws)


def test_zero_length_clip(ws, run_cli):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4", dur=0))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, NothingToDoError, EXIT_NOTHING_TO_DO, names=timeline, says="holds no video clip",
                  before=before, root=ws)


def test_media_missing(ws, run_cli):
    gone = ws / "in" / "gone.mov"
    timeline = save(ws / "in" / "cut.otio", clip(gone))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, NothingToDoError, EXIT_NOTHING_TO_DO, names=timeline, says="1 missing", before=before,
                  root=ws)
    assert f"media not found (no --media-root given); looked for: {gone}" in run.err


def test_media_is_a_folder(ws, run_cli):
    folder = ws / "in" / "shot.mov"
    folder.mkdir()
    timeline = save(ws / "in" / "cut.otio", clip(folder))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, NothingToDoError, EXIT_NOTHING_TO_DO, names=timeline, says="1 missing", before=before,
                  root=ws)
    assert str(folder) in run.err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads a chmod 000 file anyway: test_media_is_a_folder stands in")
def test_media_unreadable_by_permission(ws, run_cli, fake):
    media = ws / "in" / "shot.mp4"
    media.chmod(0)
    try:
        timeline = save(ws / "in" / "cut.otio", clip(media))
        before = snapshot(ws)
        run = run_cli(*generate_args(timeline, ws))
        check_refused(run, MediaError, EXIT_SOME_FAILED, names=media, says="cannot open as video", before=before,
                      root=ws)
    finally:
        media.chmod(0o644)


# -- 3. media that cannot serve the clip (exit 4 per clip, MediaError) ----------------------
def _flip_middle(data: bytes) -> bytes:
    b = bytearray(data)
    for i in range(len(b) // 3, len(b) // 3 + 2000):
        b[i] ^= 0x5A
    return bytes(b)


def _unsupported_codec(path: Path) -> bytes:
    """A Matroska file whose codec id no FFmpeg decoder claims (same length, so the file stays valid)."""
    write_video(path, (np.zeros((32, 32, 3), np.uint8) for _ in range(30)), Fraction(25))  # path: NAME.mkv
    data = path.read_bytes()
    assert b"V_MPEG4/ISO/AVC" in data
    return data.replace(b"V_MPEG4/ISO/AVC", b"V_QQQQQ/ISO/AVC")


def _y4m(width: int, height: int) -> bytes:
    """A raw YUV4MPEG2 header claiming a frame size (and far too few bytes for one frame)."""
    return f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\nFRAME\n".encode() + b"\x80" * 4096


def _audio_only(path: Path) -> bytes:
    sf.write(str(path), np.zeros(48000, np.float32), 48000)
    return path.read_bytes()


BAD_MEDIA = {
    # id: (file name, make(scratch path, good video bytes), words)
    "zero-byte-video": ("shot.mp4", lambda p, good: b"", "cannot open as video"),
    "truncated-video": ("shot.mp4", lambda p, good: good[: len(good) // 2], "cannot open as video"),
    "garbage-video": ("shot.mov", lambda p, good: random.Random(2).randbytes(20000), "cannot open as video"),
    "corrupt-stream": ("shot.mp4", lambda p, good: _flip_middle(good), "cannot decode"),
    "audio-only-media": ("shot.wav", lambda p, good: _audio_only(p), "holds no video stream"),
    "unsupported-codec": ("shot.mkv", lambda p, good: _unsupported_codec(p), "unsupported codec"),
    "huge-frame-size": ("shot.y4m", lambda p, good: _y4m(16000, 16000), "larger than this plugin decodes"),
    "impossible-frame-size": ("shot.y4m", lambda p, good: _y4m(40000, 40000), "cannot open as video"),
}


@pytest.fixture(scope="session")
def good_100(tmp_path_factory) -> bytes:
    """The bytes of a 100-frame 25 fps video (4 s: long enough to hold its corruption mid-stream)."""
    return write_indexed_video(tmp_path_factory.mktemp("good") / "g.mp4", 100, Fraction(25)).read_bytes()


@pytest.mark.parametrize("case", list(BAD_MEDIA))
def test_bad_media(case, ws, run_cli, fake, good_100, tmp_path_factory):
    name, make, says = BAD_MEDIA[case]
    media = ws / "in" / name
    media.write_bytes(make(tmp_path_factory.mktemp("scratch") / name, good_100))
    timeline = save(ws / "in" / "cut.otio", clip(media, dur=50))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, MediaError, EXIT_SOME_FAILED, names=media, says=says, before=before, root=ws)
    assert not fake.model.calls  # nothing reached the model


def test_clip_longer_than_its_media(ws, run_cli, fake):
    media = ws / "in" / "shot.mp4"  # 2.4 s
    timeline = save(ws / "in" / "cut.otio", clip(media, dur=250))  # 10 s
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, MediaError, EXIT_SOME_FAILED, names=media, says="longer than its media by 7.600 s",
                  before=before, root=ws)


def test_clip_running_a_frame_past_its_media_warns_and_holds(ws, run_cli, fake):
    media = ws / "in" / "shot.mp4"  # 60 frames
    timeline = save(ws / "in" / "cut.otio", clip(media, start=40, dur=30))  # needs 10 frames more
    run = run_cli(*generate_args(timeline, ws))
    assert run.code == EXIT_OK and run.error is None
    assert f"{media}: V1:0 'shot': the source range runs past the end of the media" in run.err
    assert sf.info(str(ws / "out" / "cut_foley" / "V1_0_shot_seed0.wav")).frames == 30 * 48000 // 25


def test_source_range_before_the_media(ws, run_cli, fake):
    media = ws / "in" / "shot.mp4"
    timeline = save(ws / "in" / "cut.otio", clip(media, start=-100, dur=25))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, MediaError, EXIT_SOME_FAILED, names=media, says="is this the right file", before=before,
                  root=ws)


# -- 4. a one-hour clip is streamed, never loaded --------------------------------------------
@pytest.fixture(scope="session")
def hour_video(tmp_path_factory) -> Path:
    """One hour at 1 fps, 16 px (3600 frames: written in a few seconds)."""
    return write_indexed_video(tmp_path_factory.mktemp("hour") / "hour.mp4", 3600, Fraction(1), size=16, gop=60)


def test_one_hour_clip_is_streamed_not_loaded(ws, run_cli, fake, hour_video):
    """A one-hour clip through the CLI: frames are pulled one at a time and audio is written as it
    comes; memory stays at a few MB (the whole clip would be 276 MB of frames and 691 MB of audio).
    The user interrupts after 10 s of audio: nothing is placed and no partial WAV is left."""
    pulled = {"frames": 0}

    def lazy_generate(model, frames, n_samples, *, seed=0, steps=None, guidance=None, progress=None, cancel=None):
        assert n_samples == 3600 * 48000
        assert isinstance(frames, Iterator) and not isinstance(frames, (list, tuple))
        per_frame = 48000 // 25
        for k, frame in enumerate(frames):
            assert frame.shape == (8, 8, 3)
            pulled["frames"] += 1
            yield np.zeros(per_frame, np.float32)
            if k == 250:  # 10 s in: the editor presses Ctrl-C
                raise KeyboardInterrupt

    fake.generate_fn = lazy_generate
    timeline = save(ws / "in" / "cut.otio", clip(hour_video, dur=3600 * 25))
    before = snapshot(ws)
    tracemalloc.start()
    try:
        run = run_cli(*generate_args(timeline, ws))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.code == cli.EXIT_CANCELLED and isinstance(run.error, KeyboardInterrupt)
    assert "cancelled" in run.err and "Traceback" not in run.text
    assert pulled["frames"] == 251  # of 90000: frames come one at a time, as asked
    assert peak < 32 * 2**20, f"peak traced memory {peak / 2**20:.1f} MB"
    assert snapshot(ws) == before  # no WAV (not even a temporary one), no timeline, no WAV folder


def test_one_hour_clip_real_runtime_pulls_one_window(hour_video):
    """The real runtime's first chunk of a one-hour clip consumes one segment window of frames."""
    from foleyflow.plugin.decode import FrameReader
    from foleyflow.runtime.generate import generate_audio
    from foleyflow.runtime.session import FoleyModel

    model = FoleyModel.load(MODEL, provider="cpu")
    spec = model.spec
    n_samples = 3600 * 48000
    with FrameReader(hour_video, spec.frame_size) as reader:
        count = {"n": 0}

        def counted() -> Iterator[np.ndarray]:
            for k in range(3600 * 25):
                count["n"] += 1
                yield reader.frame_at(Fraction(k, 25))

        chunks = generate_audio(model, counted(), n_samples, seed=0, steps=2)
        first = next(chunks)
        chunks.close()
        assert 0 < first.size < n_samples // 100
        assert count["n"] <= spec.segment_tokens + 1  # one window, not the hour
        assert reader.decoded <= 10  # at 1 fps, a window of 4 s decodes a handful of frames
        reader.frame_at(Fraction(3599))  # the last frame is reached by seeking, not by decoding the hour
        assert reader.decoded <= 200 and reader.seeks >= 2


# -- 5. paths and names ----------------------------------------------------------------------
def test_non_ascii_spaces_hash_and_percent_in_every_path(ws, run_cli, fake, video_25):
    folder = ws / "in" / "ünï cödé 日本 #1 %20 100%"
    folder.mkdir()
    media = folder / "vid #2 %41 é?.mp4"
    shutil.copy(video_25, media)
    timeline = save(folder / "cut #3 %.otio", clip(media, name="shot #1 %41"))
    out = ws / "out" / "out #4 %25 é.otio"
    run = run_cli("generate", timeline, "-o", out, "--model", MODEL)
    assert run.code == EXIT_OK and run.error is None, run.text
    assert len(fake.model.calls) == 1  # the media was found and decoded
    tl = otio.adapters.read_from_file(str(out))
    take = [c for t in tl.audio_tracks() for c in t if isinstance(c, otio.schema.Clip)][0]
    wav = out.parent / unquote(take.media_reference.target_url)  # relative, percent-encoded once
    assert wav.parent == ws / "out" / "out #4 %25 é_foley" and wav.is_file()
    assert [p.name for p in (ws / "out").rglob("*.wav")] == [wav.name] == ["V1_0_shot_1_41_seed0.wav"]
    assert sf.info(str(wav)).frames == 48000


def test_very_long_output_name_is_refused_before_any_work(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    out = ws / "out" / ("o" * 250 + ".otio")  # fits, but its WAV folder (+ "_foley") would not
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", out, "--model", MODEL)
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=out, says="longer than the 255 bytes", before=before,
                  root=ws)
    assert not fake.model.calls


def test_output_name_over_the_name_limit(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    out = ws / "out" / ("o" * 260 + ".otio")  # the system itself cannot stat it (ENAMETOOLONG)
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", out, "--model", MODEL)
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=out, says="File name too long", before=before, root=ws)


def _deep(root: Path, total: int) -> Path:
    """A folder under ``root`` whose path is exactly ``total`` characters long (ASCII)."""
    folder = root
    while len(str(folder)) + 201 < total:
        folder = folder / ("d" * 200)
    folder = folder / ("e" * (total - len(str(folder)) - 1))
    folder.mkdir(parents=True)
    assert len(str(folder)) == total
    return folder


def test_very_deep_input_paths_work(ws, run_cli, fake, video_25):
    folder = _deep(ws / "in", 3700)
    media = folder / "shot.mp4"
    shutil.copy(video_25, media)
    timeline = save(folder / "cut.otio", clip(media))
    run = run_cli("generate", timeline, "-o", ws / "out" / "cut.otio", "--model", MODEL)
    assert run.code == EXIT_OK, run.text
    assert sf.info(str(ws / "out" / "cut_foley" / "V1_0_shot_seed0.wav")).frames == 48000


def test_output_too_deep_for_its_wavs_is_refused_before_any_work(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    folder = _deep(ws / "out", 4040)
    out = folder / "cut.otio"  # the timeline fits; cut_foley/.V1_0_shot_seed0.foleyflow.tmp-PID.HOST-RANDOM.wav would not
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", out, "--model", MODEL)
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=folder / "cut_foley" / "V1_0_shot_seed0.wav",
                  says="longer than the 4096 bytes this system allows", before=before, root=ws)


HOSTILE_NAMES = ["../../escape", "..\\..\\escape", "C:\\evil\\x", "/etc/passwd", "CON", "nul.txt", "COM1",
                 "a/b", 'q<>:"|?*', ".hidden", "...", "", "  ", "tab\tnew\nline", "日本語", "x" * 400]


def test_hostile_clip_names_stay_inside_the_wav_folder(ws, run_cli, fake):
    media = ws / "in" / "shot.mp4"
    timeline = save(ws / "in" / "cut.otio", *[clip(media, name=n, dur=5) for n in HOSTILE_NAMES])
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    assert run.code == EXIT_OK, run.text
    wav_dir = ws / "out" / "cut_foley"
    created = set(snapshot(ws)) - set(before)
    records = {f"out/cut_foley/.foleyflow/{p.name}" for p in (wav_dir / ".foleyflow").iterdir()}  # take keys
    assert created == {"out/cut.otio", "out/cut_foley", *(f"out/cut_foley/{p.name}" for p in wav_dir.iterdir()),
                       *records}
    assert len(records) == sum(1 for p in wav_dir.iterdir() if p.suffix == ".wav")
    names = sorted(p.name for p in wav_dir.iterdir() if p.name != ".foleyflow")  # the take-key records' folder
    assert len(names) == len(HOSTILE_NAMES)
    for name in names:
        assert SAFE_WAV.match(name) and len(name) <= 255, name
        assert name.split(".")[0].upper() not in {"CON", "NUL", "COM1"}  # Windows reads the stem before a dot


# -- 6. output that cannot be written ------------------------------------------------------
def test_output_folder_missing(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", ws / "nowhere" / "cut.otio", "--model", MODEL)
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=ws / "nowhere", says="does not exist", before=before,
                  root=ws)


def test_output_is_a_folder(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    (ws / "out" / "cut.otio").mkdir()
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=ws / "out" / "cut.otio", says="is a folder", before=before,
                  root=ws)


def test_output_format_unknown(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", ws / "out" / "cut.mp3", "--model", MODEL)
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=ws / "out" / "cut.mp3", says="unknown output format",
                  before=before, root=ws)


def test_output_over_the_input_is_refused(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", timeline, "--model", MODEL)
    check_refused(run, OutputError, EXIT_BAD_INPUT, names=timeline, says="never overwritten", before=before,
                  root=ws)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into a chmod 555 folder: test_output_folder_read_only_file_system stands in")
def test_output_folder_without_write_permission(ws, run_cli, fake):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    (ws / "out").chmod(0o555)
    try:
        before = snapshot(ws)
        run = run_cli(*generate_args(timeline, ws))
        check_refused(run, OutputError, EXIT_BAD_INPUT, names=ws / "out", says="cannot be written into",
                      before=before, root=ws)
    finally:
        (ws / "out").chmod(0o755)


@lru_cache(maxsize=1)
def _can_mount() -> bool:
    """Whether a private mount namespace with a tmpfs can be made here (root with unshare)."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


# Runs the CLI like `foleyflow generate`, prints the class of the error behind its message.
DRIVER = r"""
import sys
from foleyflow.plugin import cli, generate
caught = []
def spy(fn):
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except BaseException as exc:
            caught.append(type(exc).__name__)
            raise
    return wrapper
cli.cmd_generate = spy(cli.cmd_generate)
generate.generate_take = spy(generate.generate_take)
code = cli.main(sys.argv[1:])
print("ERROR-CLASS:", caught[0] if caught else None)
sys.exit(code)
"""


def run_mounted(mount_opts: str, mount_at: Path, argv: list[object]) -> tuple[int, str, str, list[str]]:
    """Run the CLI in a private mount namespace with a tmpfs (``mount_opts``) at ``mount_at``;
    returns (code, stdout, stderr, files left on the tmpfs once it exited)."""
    script = ('mount -t tmpfs -o "$0" tmpfs "$1" || exit 99; dir="$1"; shift 2; "$@"; rc=$?; '
              'echo "LEFT:"; find "$dir" -mindepth 1; exit $rc')
    cmd = ["unshare", "-m", "sh", "-c", script, mount_opts, str(mount_at), "--", sys.executable, "-c", DRIVER,
           *map(str, argv)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out, _, left = proc.stdout.partition("LEFT:\n")
    return proc.returncode, out, proc.stderr, [line for line in left.splitlines() if line]


@pytest.mark.skipif(not _can_mount(), reason="needs root and unshare for a real read-only mount")
def test_output_folder_read_only_file_system(ws):
    """A real read-only file system (EROFS, which stops root too) mounted over the output folder."""
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    code, out, err, left = run_mounted("ro,size=1m", ws / "out", generate_args(timeline, ws))
    assert code == EXIT_BAD_INPUT, out + err
    assert "ERROR-CLASS: OutputError" in out
    assert f"foleyflow: error: {ws / 'out'}: cannot be written into (a read-only file system" in err
    assert "Traceback" not in err and left == [] and snapshot(ws) == before


@pytest.mark.skipif(not _can_mount(), reason="needs root and unshare for a real full file system")
def test_output_folder_full(ws):
    """A real full disk: a 64 KiB tmpfs over the output folder (a 1 s WAV is 144 KiB), the real model."""
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    code, out, err, left = run_mounted("size=64k", ws / "out", generate_args(timeline, ws))
    wav = ws / "out" / "cut_foley" / "V1_0_shot_seed0.wav"
    assert code == EXIT_SOME_FAILED, out + err
    assert "ERROR-CLASS: OutputError" in out
    assert f"FAILED: {wav}: cannot write the WAV: " in err and "No space left on device" in err
    assert "Traceback" not in err
    assert left == []  # no partial WAV, no temporary file, no empty WAV folder, no timeline
    assert snapshot(ws) == before


def test_output_folder_full_simulated(ws, run_cli, fake, monkeypatch):
    """The same where no tmpfs can be mounted: the WAV writer's write raises ENOSPC (monkeypatched)."""
    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    wav = ws / "out" / "cut_foley" / "V1_0_shot_seed0.wav"
    check_refused(run, OutputError, EXIT_SOME_FAILED, names=wav, says="No space left on device", before=before,
                  root=ws)


def test_disk_full_while_writing_the_timeline(ws, run_cli, fake, monkeypatch):
    """The WAVs fit, the timeline does not (the OTIO writer raises ENOSPC, monkeypatched): an
    OutputError, no timeline and no temporary file; the WAVs already written are whole."""
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    monkeypatch.setattr(otio.adapters, "write_to_file", full)
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws))
    out = ws / "out" / "cut.otio"
    assert type(run.error) is OutputError and run.code == EXIT_BAD_INPUT
    assert f"foleyflow: error: {out}: the otio_json writer failed: [Errno 28] No space left on device" in run.err
    assert "Traceback" not in run.text
    created = set(snapshot(ws)) - set(before)
    # the whole take stays, with the record of what made it (a rerun reuses it)
    assert created == {"out/cut_foley", "out/cut_foley/V1_0_shot_seed0.wav", "out/cut_foley/.foleyflow",
                       "out/cut_foley/.foleyflow/V1_0.json"}
    assert sf.info(str(ws / "out" / "cut_foley" / "V1_0_shot_seed0.wav")).frames == 48000
    assert all(v == snapshot(ws)[k] for k, v in before.items())


# -- 7. model packages and providers -------------------------------------------------------
def edit_json(path: Path, fn: Callable[[dict], None]) -> None:
    import json

    data = json.loads(path.read_text())
    fn(data)
    rewrite(path, json.dumps(data).encode())


def _tamper(pkg: Path) -> Path:
    data = bytearray((pkg / "velocity.onnx").read_bytes())
    data[len(data) // 2] ^= 1
    rewrite(pkg / "velocity.onnx", bytes(data))
    return pkg / "velocity.onnx"


def _drop_graph(pkg: Path) -> Path:
    (pkg / "vocoder.onnx").unlink()
    return pkg / "vocoder.onnx"


def _schema(pkg: Path) -> Path:
    edit_json(pkg / "model.json", lambda d: d.update(schema="foleyflow.model/99"))
    return pkg / "model.json"


def _shapes(pkg: Path) -> Path:
    edit_json(pkg / "model.json", lambda d: d["graphs"]["velocity"]["inputs"][0].update(shape=["B", "N", 999]))
    return pkg / "velocity.onnx"


def _malformed(pkg: Path) -> Path:
    rewrite(pkg / "model.json", b'{"schema": "foleyflow.model/1", "name": ')
    return pkg / "model.json"


def _not_onnx(pkg: Path) -> Path:
    import hashlib as h

    junk = b"not an onnx graph" * 100
    rewrite(pkg / "vocoder.onnx", junk)
    edit_json(pkg / "model.json", lambda d: d["graphs"]["vocoder"].update(sha256=h.sha256(junk).hexdigest(),
                                                                           size=len(junk)))
    return pkg / "vocoder.onnx"


def _no_package(pkg: Path) -> Path:
    shutil.rmtree(pkg)
    return pkg


BAD_MODELS = {
    # id: (break the copy -> the file the message names, class, words)
    "wrong-checksum": (_tamper, ChecksumError, "sha256 mismatch for graph velocity"),
    "missing-graph": (_drop_graph, ModelPackageError, "graph vocoder is missing"),
    "unknown-schema-version": (_schema, ModelPackageError, "unknown schema version 'foleyflow.model/99'"),
    "mismatched-shapes": (_shapes, GraphShapeError, "model.json says ['B', 'N', 999]"),
    "malformed-model-json": (_malformed, ModelPackageError, "cannot read model.json"),
    "graph-not-onnx": (_not_onnx, ModelPackageError, "onnxruntime cannot load this graph"),
    "package-missing": (_no_package, ModelPackageError, "model package folder not found"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_bad_model_package(case, ws, run_cli):
    breaker, cls, says = BAD_MODELS[case]
    pkg = copy_model(ws / "pkg")
    names = breaker(pkg)
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli("generate", timeline, "-o", ws / "out" / "cut.otio", "--model", pkg, "--steps", "2")
    check_refused(run, cls, EXIT_BAD_INPUT, names=names, says=says, before=before, root=ws)


@lru_cache(maxsize=1)
def cuda_runs_here() -> bool:
    """Whether a bare onnxruntime session (none of our provider code) gets CUDA on this machine:
    onnxruntime-gpu lists CUDA without the CUDA libraries or a GPU, and then falls back to the CPU."""
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the fallback's warning is expected here
    sess = ort.InferenceSession(str(MODEL / "vocoder.onnx"), options, providers=["CUDAExecutionProvider"])
    return sess.get_providers()[0] == "CUDAExecutionProvider"


def test_gpu_provider_runs_where_cuda_works_and_is_refused_elsewhere(ws, run_cli):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws, "--provider", "cuda"))
    if cuda_runs_here():
        assert run.code == EXIT_OK and run.error is None, run.text
        out = otio.adapters.read_from_file(str(ws / "out" / "cut.otio"))
        takes = [c for c in out.find_clips() if "foleyflow" in c.metadata and "provider" in c.metadata["foleyflow"]]
        assert len(takes) == 1, [c.name for c in out.find_clips()]
        assert takes[0].metadata["foleyflow"]["provider"] == "CUDAExecutionProvider"
        return
    check_refused(run, ProviderError, EXIT_BAD_INPUT, names=MODEL / "velocity.onnx",
                  says="CUDAExecutionProvider was asked for but cannot run here", before=before, root=ws)


def test_provider_not_in_this_build(ws, run_cli):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws, "--provider", "coreml"))
    assert type(run.error) is ProviderError and run.code == EXIT_BAD_INPUT
    assert "CoreMLExecutionProvider is not in this onnxruntime build" in run.err and "Traceback" not in run.text
    assert snapshot(ws) == before


def test_unknown_provider(ws, run_cli):
    timeline = save(ws / "in" / "cut.otio", clip(ws / "in" / "shot.mp4"))
    before = snapshot(ws)
    run = run_cli(*generate_args(timeline, ws, "--provider", "tpu9000"))
    assert type(run.error) is ProviderError and run.code == EXIT_BAD_INPUT
    assert "unknown execution provider 'tpu9000'" in run.err and "Traceback" not in run.text
    assert snapshot(ws) == before


# -- 8. the same through a subprocess (the installed entry point, a crash-proof process) ---------
def run_subprocess(*argv: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "foleyflow.plugin.cli", *map(str, argv)], capture_output=True,
                          text=True, timeout=300)


def test_subprocess_timeline_nested_too_deep(ws):
    """OTIO's C++ JSON reader overflows its stack on a document nested ~50 000 deep (SIGSEGV): refused first."""
    timeline = ws / "in" / "cut.otio"
    timeline.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    before = snapshot(ws)
    proc = run_subprocess(*generate_args(timeline, ws))
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr[-2000:]
    assert proc.stderr == f"foleyflow: error: {timeline}: is nested 200000 levels deep (more than 1000): not a " \
                          "timeline OTIO can read safely\n"
    assert snapshot(ws) == before


def test_subprocess_truncated_fcp7_xml(ws):
    timeline = ws / "in" / "cut.xml"
    timeline.write_bytes(half(TIMELINES / "premiere_example.xml"))
    before = snapshot(ws)
    proc = run_subprocess(*generate_args(timeline, ws))
    assert proc.returncode == EXIT_BAD_INPUT
    assert proc.stderr.startswith(f"foleyflow: error: {timeline}: cannot read as fcp_xml: no element found")
    assert proc.stderr.count("\n") == 1 and snapshot(ws) == before


def test_subprocess_bad_media_real_model(ws):
    media = ws / "in" / "shot.mp4"
    media.write_bytes(b"")
    timeline = save(ws / "in" / "cut.otio", clip(media))
    before = snapshot(ws)
    proc = run_subprocess(*generate_args(timeline, ws))
    assert proc.returncode == EXIT_SOME_FAILED
    assert f"FAILED: {media}: cannot open as video" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(ws) == before

