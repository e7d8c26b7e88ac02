"""benchmarks.cli: `foleyflow bench` prints, as each section ends and then whole, the figures it
writes as JSON; no module of the benchmark imports torch (the RSS child runs without it)."""

import json
import subprocess
import sys

from tiny_training import exported_tiny

from foleyflow.benchmarks import cli
from foleyflow.benchmarks.config import SECTIONS
from foleyflow.benchmarks.report import format_report, format_section


def test_the_command_prints_the_figures_it_writes(tmp_path, capsys):
    out = tmp_path / "bench.json"
    rc = cli.main(["bench", "--quick", "--package", str(exported_tiny()), "--only", "velocity,flops",
                   "--json", str(out), "--workdir", str(tmp_path / "w")])
    assert rc == 0
    result = json.loads(out.read_text())
    assert {"velocity", "flops", "machine", "model", "config", "section_seconds"} <= set(result)
    assert not {"e2e", "rss", "steps"} & set(result)
    printed = capsys.readouterr().out
    per_section = "".join("\n".join(format_section(n, result[n])) + "\n\n" for n in ("velocity", "flops"))
    assert printed == per_section + format_report(result) + "\n"  # as each ends, then the whole report



def test_no_module_of_the_benchmark_imports_torch():
    code = ("import pkgutil, importlib, sys, foleyflow.benchmarks as b\n"
            "names = [m.name for m in pkgutil.iter_modules(b.__path__)]\n"
            "[importlib.import_module('foleyflow.benchmarks.' + n) for n in names]\n"
            "print(len(names), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= len(SECTIONS) + 4 and out[1] == "False"
