"""Packaging rules: one distribution, every subpackage in the wheel, torch only where it belongs
(the import rules themselves: tests/test_layout.py)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib
from packaging.markers import Marker
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
TOP = {"export": "foleyflow.export", "runtime": "foleyflow.runtime", "plugin": "foleyflow.plugin", "ui": "foleyflow.ui",
       "world": "foleyflow.world", "benchmarks": "foleyflow.benchmarks", "models": "foleyflow.models"}
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _source_packages() -> set[str]:
    found = set()
    for folder, name in TOP.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((name, *rel)))
    return found


def test_every_subpackage_is_declared():
    declared = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert _source_packages() <= declared
    assert not any(p.split(".")[0] in TOP for p in declared)  # no generic top-level names


@pytest.mark.slow
def test_wheel_holds_every_subpackage_and_no_tests(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("foley_flow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    dirs = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith("__init__.py")}
    assert _source_packages() | {"foleyflow"} <= dirs
    assert not any(n.startswith(("tests/", "runtime/", "plugin/", "ui/", "export/", "world/", "benchmarks/", "models/")) for n in names)
    for f in ("model.json", "velocity.onnx", "video_encoder.onnx", "vocoder.onnx"):
        assert f"foleyflow/models/default/{f}" in names  # the default model ships inside the wheel
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "foleyflow = foleyflow.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_torch_is_pinned_and_only_an_extra():
    base = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    assert not any(r.name == "torch" for r in base)
    (torch_req,) = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["train"]
                    if r.startswith("torch")]
    assert str(torch_req.specifier) == "==2.13.0"


@pytest.mark.parametrize("env", [
    {"sys_platform": "linux", "platform_machine": "x86_64"},
    {"sys_platform": "linux", "platform_machine": "aarch64"},
    {"sys_platform": "darwin", "platform_machine": "arm64"},
    {"sys_platform": "win32", "platform_machine": "AMD64"},
])
def test_exactly_one_onnxruntime_per_platform(env):
    reqs = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    ort = [r.name for r in reqs if r.name in ("onnxruntime", "onnxruntime-gpu")
           and Marker(str(r.marker)).evaluate(env)]
    assert len(ort) == 1
    if env["sys_platform"] == "darwin":
        assert ort == ["onnxruntime"]


# which modules runtime/, plugin/ and ui/ may import (torch never, lazily or not): tests/test_layout.py
def test_importing_runtime_leaves_torch_unloaded():
    code = ("import sys, foleyflow.runtime.generate, foleyflow.runtime.session; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
