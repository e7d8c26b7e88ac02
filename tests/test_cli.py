import json
import subprocess
import sys
import types
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import TIMELINES, write_indexed_video

from foleyflow.plugin import cli
from foleyflow.plugin.errors import EXIT_BAD_INPUT, EXIT_NOTHING_TO_DO, EXIT_OK, EXIT_SOME_FAILED
from foleyflow.plugin.generate import Engine

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
NTSC = 24000 / 1001


@pytest.fixture
def edit(tmp_path, video_24):
    """A timeline with two clips on found media (one trimmed, after a gap) and one on missing media."""
    tl = otio.schema.Timeline(name="cli", global_start_time=RT(86400, NTSC))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    track.append(otio.schema.Clip(name="a", media_reference=otio.schema.ExternalReference(target_url=video_24.as_uri()),
                                  source_range=TR(RT(0, NTSC), RT(20, NTSC))))
    track.append(otio.schema.Gap(source_range=TR(RT(0, NTSC), RT(4, NTSC))))
    track.append(otio.schema.Clip(name="b", media_reference=otio.schema.ExternalReference(target_url=video_24.as_uri()),
                                  source_range=TR(RT(30, NTSC), RT(12, NTSC))))
    track.append(otio.schema.Clip(name="gone", media_reference=otio.schema.ExternalReference(target_url="/no/such.mov"),
                                  source_range=TR(RT(0, NTSC), RT(8, NTSC))))
    path = tmp_path / "edit.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


@pytest.fixture
def fake_load(monkeypatch, fake_engine):
    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, package, provider="auto": fake_engine))
    return fake_engine


def test_clips_table(capsys):
    assert cli.main(["clips", str(TIMELINES / "premiere_example.xml")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "V1:1" in out and "sc01_sh010_anim.mov" in out and "00:00:17:26" in out and "generator" in out


def test_clips_json_and_selection(capsys, edit):
    assert cli.main(["clips", str(edit), "--json", "--name", "b"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in data["clips"]] == ["V1:2"]
    c = data["clips"][0]
    assert c["record_in"] == "01:00:01:00" and c["status"] == "found" and c["samples"] == 12 * 2002


def test_clips_edl_needs_rate(capsys):
    assert cli.main(["clips", str(TIMELINES / "25fps.edl")]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.splitlines()[-1].startswith("foleyflow: error: ")
    assert cli.main(["clips", str(TIMELINES / "25fps.edl"), "--rate", "25"]) == EXIT_OK


def test_bad_input_is_one_line(capsys, tmp_path):
    assert cli.main(["clips", str(tmp_path / "none.otio")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.otio" in err and "Traceback" not in err


def test_usage_error_and_help(capsys):
    assert cli.main(["generate"]) == 2
    assert cli.main(["--help"]) == 0
    assert cli.main([]) == 2


def test_generate_writes_takes_and_reports_missing(capsys, edit, tmp_path, fake_load):
    out = tmp_path / "out" / "cut.otio"
    out.parent.mkdir()
    before = edit.read_bytes()
    code = cli.main(["generate", str(edit), "-o", str(out), "--seed", "3"])
    assert code == EXIT_SOME_FAILED  # "gone" has no media
    assert edit.read_bytes() == before
    text = capsys.readouterr()
    assert "generated" in text.out and "missing" in text.out and "real-time factor" in text.out
    assert "/no/such.mov" in text.err
    tl = otio.adapters.read_from_file(str(out))
    foley = [t for t in tl.tracks if t.name == "Foley V1"][0]
    clips = [i for i in foley if isinstance(i, otio.schema.Clip)]
    assert [c.metadata["foleyflow"]["source_clip"] for c in clips] == ["V1:0", "V1:2"]
    wav = out.parent / clips[1].media_reference.target_url
    assert wav.parent.name == "cut_foley" and sf.info(str(wav)).frames == 12 * 2002


def test_the_student_sampler_of_a_model_without_one_is_refused_before_any_work(capsys, edit, tmp_path, fake_load):
    out = tmp_path / "cut.otio"
    assert cli.main(["generate", str(edit), "-o", str(out), "--sampler", "student"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "model.json" in err and "no few-step student" in err
    assert not out.exists() and not (tmp_path / "cut_foley").exists()


def test_a_negative_prompt_guidance_is_a_usage_error(capsys, edit, tmp_path):
    assert cli.main(["generate", str(edit), "-o", str(tmp_path / "o.otio"), "--prompt-guidance=-2"]) == 2
    assert "must be 0 or more" in capsys.readouterr().err and not (tmp_path / "o.otio").exists()


def test_generate_all_found_is_ok_and_regenerate_replaces(capsys, edit, tmp_path, fake_load):
    out = tmp_path / "cut.otio"
    assert cli.main(["generate", str(edit), "-o", str(out), "--clip", "V1:0", "--clip", "V1:2"]) == EXIT_OK
    again = tmp_path / "cut2.otio"
    assert cli.main(["generate", str(out), "-o", str(again), "--clip", "V1:2", "--seed", "9"]) == EXIT_OK
    tl = otio.adapters.read_from_file(str(again))
    urls = [i.media_reference.target_url for t in tl.audio_tracks() for i in t if isinstance(i, otio.schema.Clip)]
    assert urls == ["cut_foley/V1_0_a_seed0.wav", "cut2_foley/V1_2_b_seed9.wav"]
    # written into another folder, the kept take still points at its WAV
    (tmp_path / "sub").mkdir()
    third = tmp_path / "sub" / "cut3.otio"
    assert cli.main(["generate", str(again), "-o", str(third), "--clip", "V1:0", "--seed", "4"]) == EXIT_OK
    tl = otio.adapters.read_from_file(str(third))
    urls = [i.media_reference.target_url for t in tl.audio_tracks() for i in t if isinstance(i, otio.schema.Clip)]
    assert urls == ["cut3_foley/V1_0_a_seed4.wav", (tmp_path / "cut2_foley" / "V1_2_b_seed9.wav").as_uri()]
    assert all((third.parent / otio.url_utils.filepath_from_url(u)).is_file() for u in urls)


def test_nothing_to_do(capsys, edit, tmp_path, fake_load):
    code = cli.main(["generate", str(edit), "-o", str(tmp_path / "x.otio"), "--clip", "V1:3"])
    assert code == EXIT_NOTHING_TO_DO and not (tmp_path / "x.otio").exists()
    assert "nothing to do" in capsys.readouterr().err
    assert cli.main(["generate", str(edit), "-o", str(tmp_path / "x.otio"), "--name", "zzz"]) == EXIT_NOTHING_TO_DO


def test_dry_run_writes_nothing(capsys, edit, tmp_path):
    out = tmp_path / "dry.otio"
    assert cli.main(["generate", str(edit), "-o", str(out), "--dry-run", "--variations", "2"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "V1_0_a_seed0.wav, V1_0_a_seed1.wav" in text and "would write 2 take(s)" in text
    assert not out.exists() and not (tmp_path / "dry_foley").exists()


def test_edl_output_and_overwrite_refused_before_any_work(capsys, edit, tmp_path, fake_load):
    assert cli.main(["generate", str(edit), "-o", str(tmp_path / "cut.edl")]) == EXIT_BAD_INPUT
    assert "cannot carry the Foley track" in capsys.readouterr().err
    assert cli.main(["generate", str(edit), "-o", str(edit)]) == EXIT_BAD_INPUT
    assert not fake_load.model.calls


def test_in_place_keeps_a_backup(capsys, edit, tmp_path, fake_load):
    original = edit.read_bytes()
    assert cli.main(["generate", str(edit), "--in-place", "--clip", "V1:0"]) == EXIT_OK
    backups = list(tmp_path.glob("edit.foleyflow-backup-*.otio"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    written = otio.adapters.read_from_file(str(edit))  # keep the timeline alive while reading its tracks
    assert "Foley V1" in [t.name for t in written.tracks]


def test_range_selection(capsys, edit, tmp_path):
    assert cli.main(["clips", str(edit), "--json", "--range", "01:00:00:22-01:00:01:02"]) == EXIT_OK
    assert [c["id"] for c in json.loads(capsys.readouterr().out)["clips"]] == ["V1:2"]


def test_the_foleyflow_command_dispatches_lazily(monkeypatch, capsys):
    from foleyflow import cli as root

    seen = {}
    for name in ("foleyflow.export.cli", "foleyflow.ui.app", "foleyflow.benchmarks.cli", "foleyflow.demo"):
        fake = types.ModuleType(name)
        fake.main = lambda argv, name=name: seen.setdefault(name, argv) and 0
        monkeypatch.setitem(sys.modules, name, fake)
    assert root.main(["eval", "pkg", "-n", "3"]) == 0 and seen["foleyflow.export.cli"] == ["eval", "pkg", "-n", "3"]
    assert root.main(["panel", "cut.otio"]) == 0 and seen["foleyflow.ui.app"] == ["panel", "cut.otio"]
    assert root.main(["bench", "--quick"]) == 0 and seen["foleyflow.benchmarks.cli"] == ["bench", "--quick"]
    assert root.main(["demo", "-o", "x"]) == 0 and seen["foleyflow.demo"] == ["demo", "-o", "x"]
    assert root.main(["nope"]) == 2 and "unknown command 'nope'" in capsys.readouterr().err
    assert root.main(["--help"]) == 0 and "generate" in capsys.readouterr().out


def test_the_timeline_side_offers_only_its_own_subcommands(capsys):
    assert cli.main(["panel"]) == 2 and "invalid choice" in capsys.readouterr().err


def test_plugin_imports_neither_torch_nor_qt():
    code = (
        "import sys\n"
        "import foleyflow.plugin, foleyflow.plugin.cli, foleyflow.plugin.pipeline, foleyflow.plugin.generate\n"
        "import foleyflow.cli, foleyflow.plugin.placement, foleyflow.plugin.decode, foleyflow.plugin.output\n"
        f"rc = foleyflow.cli.main(['clips', {str(TIMELINES / 'simple_cut.otio')!r}])\n"
        "assert rc == 0, rc\n"
        "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_write_indexed_video_helper_is_sane(tmp_path):
    # guards the fixture the timing tests rely on
    from foleyflow.plugin.decode import probe

    p = write_indexed_video(tmp_path / "x.mp4", 3, Fraction(25))
    assert probe(p).frames == 3 and Path(p).stat().st_size > 0
