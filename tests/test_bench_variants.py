"""benchmarks.variants: fp32 is the reference (exact against itself), int8 is built where it is
missing and differs from it by a finite amount; end to end at the default steps and at half."""

import math
from types import SimpleNamespace

from tiny_training import exported_tiny

from foleyflow.benchmarks import variants
from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.steps import eval_clips
from foleyflow.runtime.session import FoleyModel, variant_package


def test_half_steps_is_half_the_default_and_at_least_one():
    assert variants.half_steps(SimpleNamespace(spec=SimpleNamespace(default_steps=8))) == 4
    assert variants.half_steps(SimpleNamespace(spec=SimpleNamespace(default_steps=1))) == 1


def test_fp32_is_exact_against_itself_and_int8_is_not(tmp_path, monkeypatch):
    runs = []

    def fake_e2e(cfg, workdir, variant="fp32", video=None, steps=None, **kw):
        runs.append((cfg.package, variant, video, steps))
        return {"wall_seconds": 2.0 if steps is None else 1.0, "x_real_time": 3.0 if steps is None else 6.0}

    monkeypatch.setattr(variants, "bench_e2e", fake_e2e)
    pkg = exported_tiny()
    model = FoleyModel.load(pkg, provider="cpu", threads=2)
    int8_beside = variant_package(pkg, "int8").is_dir()
    cfg = BenchConfig.quick(pkg, workdir=tmp_path, repeats=1, snr_seconds=2.0)
    video = (tmp_path / "v.mp4", 10)
    v = variants.bench_variants(model, cfg, tmp_path, video, eval_clips(model.spec, 1))
    assert list(v) == ["fp32", "int8"]
    fp32, int8 = v["fp32"], v["int8"]
    assert fp32["package"] == str(pkg) and fp32["built_for_this_run"] is False
    assert fp32["audio_snr_db_vs_fp32"] == math.inf
    assert fp32["graph_rel_err"] == {"velocity": 0.0, "video_encoder": 0.0, "vocoder": 0.0}
    assert int8["built_for_this_run"] is (not int8_beside)
    if not int8_beside:
        assert int8["package"] == str(tmp_path / f"{pkg.name}-int8")
    assert math.isfinite(int8["audio_snr_db_vs_fp32"]) and int8["graph_rel_err"]["velocity"] > 0
    for row in v.values():
        assert row["half_steps"] == model.spec.default_steps // 2 == 4
        assert all(0.0 <= row[k] <= 1.0 for k in ("f1", "f1_050", "f1_half_steps", "f1_050_half_steps", "ap"))
        assert (row["e2e_wall_seconds"], row["e2e_x_real_time"]) == (2.0, 3.0)
        assert (row["e2e_wall_seconds_half_steps"], row["e2e_x_real_time_half_steps"]) == (1.0, 6.0)
    # each variant's package end to end on the e2e section's clip, at the default steps then half of them
    int8_pkg = variant_package(pkg, "int8") if int8_beside else tmp_path / f"{pkg.name}-int8"
    assert runs == [(pkg, "fp32", video, None), (pkg, "fp32", video, 4),
                    (int8_pkg, "fp32", video, None), (int8_pkg, "fp32", video, 4)]
