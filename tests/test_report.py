from fractions import Fraction

import opentimelineio as otio
from conftest import TIMELINES

from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.media import MediaResolver
from foleyflow.plugin.report import clips_json, clips_table, dry_run_table, format_table, summary_table
from foleyflow.plugin.selection import plan
from foleyflow.plugin.timeline import read_timeline, record_start


def jobs_of(name, rate=None):
    loaded = read_timeline(TIMELINES / name, rate)
    return loaded, plan(video_clips(loaded.timeline, loaded.rate), MediaResolver(TIMELINES / name))


def test_format_table_aligns():
    text = format_table(["A", "LONG"], [["xyz", "1"], ["q", "22"]])
    assert text.splitlines() == ["A    LONG", "---  ----", "xyz  1", "q    22"]


def test_clips_table_at_ntsc_rate():
    loaded, jobs = jobs_of("premiere_generators.xml")
    text = clips_table(jobs, loaded.rate, record_start(loaded))
    first = text.splitlines()[2]
    assert first.split()[:3] == ["V1:0", "V1", "Universal"] and "generator" in first
    assert "00:00:11:00" in first  # 264 frames at 24000/1001 shown at the nominal 24


def test_speed_column_and_json():
    loaded, jobs = jobs_of("speed_effects_small.edl", Fraction(24))
    text = clips_table(jobs, loaded.rate, record_start(loaded))
    assert "freeze" in text and "1.983" in text
    data = clips_json(jobs, loaded.rate, record_start(loaded))
    assert data[0]["record_in"] == "01:00:00:00" and data[0]["status"] == "missing" and data[0]["samples"] == 126 * 2000


def test_dry_run_and_summary_tables(tmp_path):
    loaded, jobs = jobs_of("simple_cut.otio")
    start = otio.opentime.RationalTime(0, 24)
    text = dry_run_table(jobs, [[tmp_path / "a.wav"]] * len(jobs), loaded.rate, start)
    assert "(skipped: missing)" in text
    text = summary_table([(jobs[0], "failed", "boom")], loaded.rate, start)
    assert "failed" in text and "boom" in text and "0.12" in text
