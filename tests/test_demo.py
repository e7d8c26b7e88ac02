"""The demo and the whole path on the real default model (issue 2's "done when")."""

import subprocess
import sys
from fractions import Fraction

import opentimelineio as otio
import pytest
import soundfile as sf
from model_fixtures import DEFAULT_MODEL

from foleyflow import demo
from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.generate import Engine
from foleyflow.plugin.timeline import read_timeline

SHORT = (  # the demo's shape (three source rates, a gap, a trimmed clip) at a test's length
    demo.DemoClip("bounce", seed=11, fps=Fraction(24000, 1001), duration=1.5, source_start=0, source_frames=30),
    demo.DemoClip("hits", seed=12, fps=Fraction(25), duration=1.5, source_start=6, source_frames=24, gap_before=12),
    demo.DemoClip("roll", seed=13, fps=Fraction(30), duration=1.0, source_start=0, source_frames=20),
)


def test_demo_timeline_shape(tmp_path, monkeypatch, fake_engine, capsys):
    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, package, provider="auto": fake_engine))
    assert demo.run_demo(tmp_path / "demo", clips=SHORT) == 0
    loaded = read_timeline(tmp_path / "demo" / "timeline.otio")
    assert loaded.rate == Fraction(24000, 1001)
    clips = video_clips(loaded.timeline, loaded.rate)
    rates = {c.media_reference.available_range.duration.rate for c in clips}
    assert rates == {24000 / 1001, 25.0, 30.0}
    assert any(isinstance(i, otio.schema.Gap) for i in loaded.timeline.tracks[0])
    assert clips[1].source_range.start_time.value == 6  # trimmed
    assert demo.verify(tmp_path / "demo" / "timeline_foley.otio") == 3
    out = capsys.readouterr().out
    assert "x real time" in out and "timeline_foley.otio" in out


def test_demo_on_the_default_model_is_exact_and_reproducible(tmp_path):
    assert (DEFAULT_MODEL / "model.json").is_file(), f"the default model package is missing: {DEFAULT_MODEL}"
    out = tmp_path / "demo"
    assert demo.run_demo(out, model=DEFAULT_MODEL, steps=2, clips=SHORT, provider="cpu") == 0
    assert demo.verify(out / "timeline_foley.otio") == 3
    # again in a fresh process through the CLI, for one clip: same seed, same bytes, and never torch
    again = tmp_path / "again.otio"
    code = (
        "import sys\n"
        "from foleyflow.plugin.cli import main\n"
        f"rc = main(['generate', {str(out / 'timeline.otio')!r}, '-o', {str(again)!r}, '--clip', 'V1:0',"
        f" '--steps', '2', '--model', {str(DEFAULT_MODEL)!r}, '--provider', 'cpu', '-q'])\n"
        "assert rc == 0, rc\n"
        "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    first = out / "timeline_foley_foley" / "V1_0_bounce_23.976fps_seed0.wav"
    second = tmp_path / "again_foley" / first.name
    info = sf.info(str(second))
    assert (info.samplerate, info.subtype) == (48000, "PCM_24")
    assert second.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("bad", ["nope"])
def test_missing_model_is_a_clear_error(tmp_path, bad, capsys):
    from foleyflow.plugin.cli import main

    assert main(["generate", str(tmp_path / "x.otio"), "-o", str(tmp_path / "y.otio")]) == 2  # bad timeline first
    t = tmp_path / "t.otio"
    video = tmp_path / "v.mp4"
    from conftest import write_indexed_video

    write_indexed_video(video, 10, Fraction(24))
    tl = otio.schema.Timeline()
    tl.tracks.append(otio.schema.Track())
    tl.tracks[0].append(otio.schema.Clip(
        name="v", media_reference=otio.schema.ExternalReference(target_url=video.as_uri()),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(5, 24))))
    otio.adapters.write_to_file(tl, str(t))
    capsys.readouterr()
    assert main(["generate", str(t), "-o", str(tmp_path / "y.otio"), "--model", str(tmp_path / bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("foleyflow: error: ") and bad in err
