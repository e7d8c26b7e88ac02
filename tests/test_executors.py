"""Executors: the clips of a plan in this process, or as Ray tasks; the same takes either way.

On a local 2-CPU Ray cluster, three short clips give WAVs byte-identical to the local run and an
equivalent (here: identical) timeline, written by the driver. ``ray`` is never imported by the plugin
until ``--executor ray`` runs.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from test_resume import EPOCH, MODEL, make_timeline, wavs

from foleyflow.plugin import executors, service
from foleyflow.plugin.cli import main
from foleyflow.plugin.events import ClipStatus
from foleyflow.plugin.generate import GenerateOptions

OPTS = ["--model", str(MODEL), "--steps", "1", "--provider", "cpu", "-q"]
HAVE_RAY = importlib.util.find_spec("ray") is not None


def test_the_plugin_never_imports_ray_until_asked():
    code = ("import sys; import foleyflow.plugin.cli, foleyflow.plugin.service, foleyflow.plugin.executors, "
            "foleyflow.plugin.farm, foleyflow.cli; print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_local_executor_is_the_run_loop(tmp_path, fake_engine):
    timeline = make_timeline(tmp_path / "in", 2)
    plan_ = service.plan(service.GenerateRequest(timeline, tmp_path / "out.otio", options=GenerateOptions()))
    report = executors.LocalExecutor(fake_engine).run(plan_)
    assert [r.status for r in report.results] == [ClipStatus.DONE, ClipStatus.DONE]
    again = service.execute(plan_, None, executor=executors.LocalExecutor(fake_engine))
    assert [r.reused for r in again.report.results] == [True, True] and again.written == tmp_path / "out.otio"


def test_a_failed_ray_task_is_a_failed_clip(tmp_path):
    class Boom:
        def get(self, ref):
            raise RuntimeError("worker died")

    timeline = make_timeline(tmp_path / "in", 1)
    job = service.open_project(timeline).jobs[0]
    result = executors.RayExecutor._result(Boom(), object(), job)
    assert result.status == ClipStatus.FAILED and result.error == "on Ray: RuntimeError: worker died"


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed (the 'farm' extra: pip install 'foley-flow[farm]')")
def test_ray_makes_the_same_takes_as_the_local_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    timeline = make_timeline(tmp_path / "in", 3)
    local, remote = tmp_path / "local" / "out.otio", tmp_path / "ray" / "out.otio"
    local.parent.mkdir()
    remote.parent.mkdir()
    assert main(["generate", str(timeline), "-o", str(local), *OPTS]) == 0
    assert main(["generate", str(timeline), "-o", str(remote), *OPTS, "--executor", "ray", "--num-cpus", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("3 take(s) generated, 0 reused") == 2  # the local run's line, then the Ray run's
    assert wavs(remote) == wavs(local) and len(wavs(remote)) == 3
    assert remote.read_bytes() == local.read_bytes()
    import ray

    assert not ray.is_initialized()  # the cluster it started is shut down
