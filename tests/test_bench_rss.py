"""benchmarks.rss: each clip runs in a fresh torch-free process, and the ratio is the children's own peaks."""

import sys
from fractions import Fraction

import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.media import MEDIA_FPS
from foleyflow.benchmarks.rss import CHILD_FLAG, bench_rss, child_command, child_main, rss_summary
from foleyflow.world.world import frame_count


def _row(vmhwm, ru):
    return {"vmhwm_kb": vmhwm, "ru_maxrss_kb": ru, "after_load_kb": 50, "wall_seconds": 1.0, "audio_seconds": 1.0,
            "torch_loaded": False}


def test_the_ratio_is_the_longest_clips_peak_over_the_shortests():
    r = rss_summary({"10": _row(100, 900), "60": _row(140, 900), "600": _row(125, 950)}, steps=4)
    assert (r["measure"], r["longest"], r["shortest"], r["steps"], r["target"]) == ("vmhwm_kb", "600", "10", 4, 1.25)
    assert r["ratio_longest_to_shortest"] == 1.25  # 125 / 100: the rows' order, not the largest peak


def test_ru_maxrss_stands_in_only_where_a_child_had_no_vmhwm():
    r = rss_summary({"10": _row(100, 800), "600": _row(None, 1000)}, steps=None)
    assert r["measure"] == "ru_maxrss_kb" and r["ratio_longest_to_shortest"] == 1000 / 800


def test_children_are_fresh_torch_free_processes_that_run_the_whole_clip(tmp_path):
    r = bench_rss(BenchConfig.quick(exported_tiny()), tmp_path)
    rows = r["rows"]
    assert list(rows) == ["2", "8"] and r["steps"] == 1 and r["measure"] == "vmhwm_kb"
    for secs, row in rows.items():
        n = frame_count(float(secs), MEDIA_FPS)
        assert row["audio_seconds"] == round(Fraction(n) / MEDIA_FPS * 48000) / 48000  # 2.002 s, 8.008 s
        assert row["torch_loaded"] is False  # this test process holds torch; the child does not
        assert row["vmhwm_kb"] >= row["after_load_kb"] > 0
    assert r["ratio_longest_to_shortest"] == rows["8"]["vmhwm_kb"] / rows["2"]["vmhwm_kb"]
    assert list(tmp_path.iterdir()) == []  # each clip and its take removed once measured


def test_the_child_is_this_module_run_with_its_flag():
    cmd = child_command({"video": "v.mp4"})
    assert cmd[1:4] == ["-m", "foleyflow.benchmarks.rss", CHILD_FLAG]
    assert child_main(["--not-the-flag"]) == 2


def test_a_failing_child_raises_with_its_error(monkeypatch):
    from foleyflow.benchmarks import rss

    fail = [sys.executable, "-c", "import sys; sys.stderr.write('MediaError: v.mp4 is gone'); sys.exit(1)"]
    monkeypatch.setattr(rss, "child_command", lambda args: fail)
    with pytest.raises(RuntimeError, match=r"RSS child for v\.mp4 failed: MediaError: v\.mp4 is gone"):
        rss.run_child({"video": "v.mp4"})
