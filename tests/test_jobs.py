"""Job lists for a farm: plan writes one, run-job runs an entry (idempotent), place collects.

plan + run-job for each + place equals ``foleyflow generate`` byte for byte (WAVs and the timeline,
with ``SOURCE_DATE_EPOCH`` fixing the takes' "created" time); missing jobs are listed (exit 4) unless
``--partial``; a job list that is not one, and a job it does not hold, are said as such (exit 2).
"""

from __future__ import annotations

import json

import pytest
from test_resume import EPOCH, MODEL, make_timeline, wavs

from foleyflow import cli as root_cli
from foleyflow.plugin import farm
from foleyflow.plugin.cli import main

OPTS = ["--model", str(MODEL), "--steps", "1", "--provider", "cpu", "-q"]


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    timeline = make_timeline(tmp_path / "in", 3)
    for name in ("gen", "farm"):
        (tmp_path / name).mkdir()
    return tmp_path, timeline


def _plan(tmp_path, timeline, capsys):
    jobs_path = tmp_path / "farm" / "jobs.json"
    assert main(["plan", str(timeline), "-o", str(tmp_path / "farm" / "out.otio"), "--jobs", str(jobs_path),
                 *OPTS]) == 0
    capsys.readouterr()
    return jobs_path


def test_plan_run_job_place_equals_generate_byte_for_byte(ws, capsys):
    tmp_path, timeline = ws
    assert main(["generate", str(timeline), "-o", str(tmp_path / "gen" / "out.otio"), *OPTS]) == 0
    jobs_path = _plan(tmp_path, timeline, capsys)
    doc = json.loads(jobs_path.read_text())
    assert [j["id"] for j in doc["jobs"]] == ["V1:0", "V1:1", "V1:2"]
    first = doc["jobs"][0]
    assert first["command"] == ["foleyflow", "run-job", str(jobs_path), "--job", "V1:0"]
    assert len(first["take_key"]) == 64 and first["wavs"] == [str(tmp_path / "farm" / "out_foley" / "V1_0_c0_seed0.wav")]
    assert doc["request"]["timeline"] == str(timeline) and doc["request"]["options"]["steps"] == 1
    # farm order is any order; by id or by index
    assert main(["run-job", str(jobs_path), "--index", "2"]) == 0
    assert main(["run-job", str(jobs_path), "--job", "V1:0"]) == 0
    assert main(["run-job", str(jobs_path), "--job", "V1:1"]) == 0
    assert "generated" in capsys.readouterr().out
    assert main(["place", str(jobs_path)]) == 0
    assert "placed 3 take(s) of 3 job(s)" in capsys.readouterr().out
    gen, out = tmp_path / "gen" / "out.otio", tmp_path / "farm" / "out.otio"
    assert wavs(out) == wavs(gen) and len(wavs(out)) == 3
    assert out.read_bytes() == gen.read_bytes()


def test_run_job_is_idempotent_and_place_lists_missing_jobs(ws, capsys):
    tmp_path, timeline = ws
    jobs_path = _plan(tmp_path, timeline, capsys)
    assert main(["run-job", str(jobs_path), "--job", "V1:1"]) == 0
    wav = tmp_path / "farm" / "out_foley" / "V1_1_c1_seed0.wav"
    stamp = (wav.stat().st_ino, wav.stat().st_mtime_ns)
    assert main(["run-job", str(jobs_path), "--job", "V1:1"]) == 0  # a farm's retry: nothing made again
    assert "reused" in capsys.readouterr().out
    assert (wav.stat().st_ino, wav.stat().st_mtime_ns) == stamp
    out = tmp_path / "farm" / "out.otio"
    assert main(["place", str(jobs_path)]) == 4
    err = capsys.readouterr().err
    assert "2 of 3 job(s) have no finished take: V1:0, V1:2" in err and "--partial" in err and not out.exists()
    assert main(["place", str(jobs_path), "--partial"]) == 0
    assert "placed 1 take(s) of 3 job(s)" in capsys.readouterr().out
    assert out.exists()
    jobs = farm.JobList.read(jobs_path)
    assert [e.id for e in farm.collect(jobs).missing] == ["V1:0", "V1:2"]
    assert main(["run-job", str(jobs_path), "--job", "V1:1", "--force"]) == 0
    assert "generated" in capsys.readouterr().out and wav.stat().st_ino != stamp[0]


def test_bad_job_lists_and_unknown_jobs_are_said_as_such(ws, capsys):
    tmp_path, timeline = ws
    jobs_path = _plan(tmp_path, timeline, capsys)
    assert main(["run-job", str(jobs_path), "--job", "V9:9"]) == 2
    assert "no job 'V9:9' in the job list (it holds V1:0, V1:1, V1:2)" in capsys.readouterr().err
    assert main(["run-job", str(jobs_path), "--index", "3"]) == 2
    assert "--index 3: the job list holds jobs 0-2" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{\"jobs\": []}")
    assert main(["place", str(bad)]) == 2
    assert f"{bad}: not a Foley-Flow job list" in capsys.readouterr().err
    assert main(["place", str(tmp_path / "none.json")]) == 2
    assert "job list not found" in capsys.readouterr().err


def test_job_list_round_trips_and_the_root_command_dispatches(ws, capsys):
    tmp_path, timeline = ws
    jobs_path = _plan(tmp_path, timeline, capsys)
    jobs = farm.JobList.read(jobs_path)
    assert farm.JobList.from_dict(jobs.to_dict()) == jobs
    assert "sampler" not in jobs.to_dict()["request"]["options"]  # the model's default: not written
    from dataclasses import replace

    teacher = replace(jobs, options=replace(jobs.options, sampler="teacher"))
    assert teacher.to_dict()["request"]["options"]["sampler"] == "teacher"
    assert farm.JobList.from_dict(teacher.to_dict()) == teacher
    assert jobs.entry(index=1).command_line == f"foleyflow run-job {jobs_path} --job V1:1"
    for name in ("plan", "run-job", "place"):
        assert root_cli.COMMANDS[name][0] == "foleyflow.plugin.cli"
    assert root_cli.main(["run-job", str(jobs_path), "--index", "0", "-q"]) == 0
