"""benchmarks.seams: joins where the segment plan puts them, every true onset counted once in one
region, and the F1s those counts give."""

import math

import numpy as np
import pytest
from tiny_training import exported_tiny

from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.seams import (
    SEAM_WINDOW_S,
    bench_seams,
    f1_of,
    long_eval_clips,
    near_joins,
    region_counts,
    seam_times,
)
from foleyflow.export.eval.metrics import merge_close_events
from foleyflow.runtime.generate import HOLD
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.spec import read_spec
from foleyflow.runtime.stream import plan_segments


def test_region_counts_split_hits_misses_and_false_onsets():
    true = np.array([1.0, 2.0, 5.0, 9.0])
    pred = np.array([1.02, 5.5, 9.05, 2.3])  # 1.0 hit, 2.0 missed (2.3 false), 5.0 missed (5.5 false), 9.0 hit
    c = region_counts(pred, true, near_joins(np.array([2.0]), 0.5))
    assert c["near"] == {"tp": 0, "fn": 1, "fp": 1}
    assert c["elsewhere"] == {"tp": 2, "fn": 1, "fp": 1}


def test_near_joins_is_within_the_window_of_any_join():
    near = near_joins(np.array([2.0, 6.0]))
    assert near(np.array([1.7, 1.76, 2.25, 5.8, 9.0])).tolist() == [False, True, True, True, False]
    assert SEAM_WINDOW_S == 0.25
    assert near_joins(np.array([]))(np.array([1.0, 2.0])).tolist() == [False, False]  # one segment: no joins


def test_f1_of_counts():
    assert f1_of({"tp": 3, "fp": 1, "fn": 2}) == 6 / 9
    assert math.isnan(f1_of({"tp": 0, "fp": 0, "fn": 0}))  # nothing to find, nothing found


def test_seam_times_follow_the_segment_plan():
    spec = read_spec(exported_tiny())
    n = 48000 * 10
    joins = seam_times(spec, n)
    tok = spec.samples_per_token / spec.sample_rate
    total = -(-n // (48000 // spec.sample_rate) // spec.samples_per_token)
    segs = plan_segments(total, spec.segment_tokens, spec.context_tokens, spec.lookahead_tokens)
    assert joins["token"] == [s.new_start * tok for s in segs[1:]] and len(joins["token"]) == 3
    assert joins["vocoder"] == pytest.approx([t - HOLD * spec.hop_length / spec.sample_rate for t in joins["token"]])


def test_every_true_onset_is_counted_once_near_a_join_or_elsewhere(tmp_path):
    model = FoleyModel.load(exported_tiny(), provider="cpu", threads=2)
    cfg = BenchConfig.quick(exported_tiny())
    s = bench_seams(model, cfg)
    assert s["joins_s"] == seam_times(model.spec, round(8.0 * 48000))
    clips = long_eval_clips(model.spec, 1, 8.0)
    true = merge_close_events(clips[0].onsets)
    near = near_joins(np.array(s["joins_s"]["token"] + s["joins_s"]["vocoder"]))
    c = s["counts"]
    assert c["near"]["tp"] + c["near"]["fn"] == int(near(true).sum())
    assert c["elsewhere"]["tp"] + c["elsewhere"]["fn"] == int((~near(true)).sum())
    assert len(true) >= 8 and near(true).sum() >= 1  # the long clip has events all along, some at the joins
    assert s["f1_near"] == f1_of(c["near"]) and s["f1_elsewhere"] == f1_of(c["elsewhere"])
    assert s["gap"] == s["f1_elsewhere"] - s["f1_near"]
    assert s["ground_truth_f1_elsewhere"] >= 0.8  # the world's own audio is found where its events are
