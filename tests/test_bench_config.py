"""benchmarks.config: the options of `foleyflow bench` build the BenchConfig they say, and the
documented full run (benchmarks/full.sh, docs/BENCHMARKS.md) parses to the full sizes."""

import re
import shlex
from pathlib import Path

import pytest

from foleyflow.benchmarks.cli import build_parser
from foleyflow.benchmarks.config import SECTIONS, BenchConfig, config_from_args

REPO = Path(__file__).resolve().parents[1]


def _cfg(argv):
    return config_from_args(build_parser().parse_args(argv))


def test_every_option_reaches_the_config(tmp_path):
    cfg = _cfg(["--quick", "--package", "pkg", "--checkpoints", "ck", "--threads", "1", "--only", "velocity, e2e",
                "--e2e-seconds", "5", "--clips", "3", "--rss-steps", "0", "--variant", "int8", "--variant", "fp16",
                "--workdir", str(tmp_path)])
    quick = BenchConfig.quick(Path("pkg"))
    assert cfg.package == Path("pkg") and cfg.checkpoints == Path("ck") and cfg.threads == 1
    assert cfg.sections == ("velocity", "e2e")
    assert cfg.e2e_seconds == 5.0 and cfg.eval_clips == 3
    assert cfg.rss_steps is None  # 0: the model's default steps
    assert cfg.variants == ("int8", "fp16") and cfg.workdir == tmp_path
    # what no option names stays at the quick sizes
    assert (cfg.repeats, cfg.rss_seconds, cfg.step_configs) == (quick.repeats, quick.rss_seconds, quick.step_configs)


def test_quick_shrinks_every_size_and_keeps_every_section():
    full, quick = BenchConfig(Path("p")), BenchConfig.quick(Path("p"))
    assert full.sections == quick.sections == SECTIONS
    for name in ("repeats", "matmul_n", "e2e_seconds", "video_size", "eval_clips", "seam_clips", "seam_seconds",
                 "snr_seconds", "decode_seconds"):
        assert getattr(quick, name) < getattr(full, name), name
    assert max(quick.rss_seconds) < max(full.rss_seconds) and len(quick.step_configs) < len(full.step_configs)
    assert _cfg(["--package", "p", "--rss-steps", "3"]).rss_steps == 3 and _cfg(["--package", "p"]).rss_steps == 4


def test_only_refuses_an_unknown_section(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--only", "velocity,velocty"])
    assert exc.value.code == 2 and "unknown section(s) velocty" in capsys.readouterr().err


def test_without_package_the_plugin_default_model_runs():
    from foleyflow.plugin.generate import default_model_dir

    assert _cfg([]).package == default_model_dir()


def test_the_documented_full_run_is_full_sh():
    script = (REPO / "benchmarks" / "full.sh").read_text()
    line = next(ln for ln in script.splitlines() if ln.startswith("foleyflow bench"))
    values = {"PACKAGE": "models/default", "CHECKPOINTS": "out/train/r3long", "OUT": "out/bench.json"}
    argv = shlex.split(re.sub(r'"\$(\w+)"', lambda m: values[m.group(1)], line))[2:]
    docs = (REPO / "docs" / "BENCHMARKS.md").read_text()
    documented = re.search(r"^# = uptime; foleyflow bench (.*); uptime$", docs, re.M)
    assert documented is not None and shlex.split(documented.group(1)) == argv
    cfg = _cfg(argv)
    assert cfg == BenchConfig(Path("models/default"), Path("out/train/r3long"), threads=2)
