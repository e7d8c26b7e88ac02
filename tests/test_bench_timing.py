"""benchmarks.timing: contenders take turns in blocks, each turn led by an untimed call."""

import pytest

from foleyflow.benchmarks.timing import ms_summary, time_interleaved


def test_contenders_take_turns_in_blocks_after_an_untimed_call():
    calls = []
    out = time_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=1,
                           block=2)
    assert calls == ["a", "b",  # warm-up
                     "a", "a", "a", "b", "b", "b",  # a turn each: one untimed call, then a block of two timed
                     "a", "a", "b", "b"]  # the last turn: one untimed, one timed
    assert [len(v) for v in out.values()] == [3, 3]


def test_ms_summary_is_the_median_and_the_fastest_in_ms():
    assert ms_summary([0.003, 0.001, 0.002, 0.010]) == pytest.approx({"median_ms": 2.5, "min_ms": 1.0})
