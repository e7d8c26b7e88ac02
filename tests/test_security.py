"""Integrity and security of what Foley-Flow reads, loads and writes.

- Model files are verified by sha256 before use: a tampered, swapped, truncated or escaping graph
  never reaches onnxruntime (``InferenceSession`` is never constructed).
- Only ONNX and JSON are loaded at run time: the sources of runtime/, plugin/ and ui/ hold no
  pickle (nor dill, joblib, shelve, marshal, torch, ``allow_pickle=True``); a real generation runs
  with pickle and ``numpy.load`` booby-trapped, and opens nothing of the model but model.json and
  .onnx files. Training checkpoints load with ``torch.load(..., weights_only=True)`` (export/).
- No network at run time: a real generation runs with socket creation and name lookup blocked
  (and, where a network namespace can be made, in a process that has no network at all).
- Written names never leave the output folder, whatever a clip is called.
- Timeline readers resolve no XML external entity and never extract a bundle.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnxruntime as ort
import opentimelineio as otio
import pytest
import soundfile as sf
from conftest import write_indexed_video
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_fixtures import copy_model, rewrite

from foleyflow.plugin import cli
from foleyflow.plugin.errors import EXIT_OK, TimelineError
from foleyflow.plugin.generate import Engine, GenerateOptions, take_paths
from foleyflow.plugin.timeline import read_timeline
from foleyflow.plugin.wavio import safe_name
from foleyflow.runtime.errors import ChecksumError, ModelPackageError
from foleyflow.runtime.session import FoleyModel

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "default"
RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
GRAPHS = ("video_encoder.onnx", "velocity.onnx", "vocoder.onnx")


# -- model packages: verified before use ------------------------------------------------------
@pytest.fixture
def sessions(monkeypatch) -> list[str]:
    """Every graph onnxruntime is asked to open (the real class still does the work)."""
    opened: list[str] = []
    real = ort.InferenceSession

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", spy)
    return opened


def test_the_spy_sees_a_good_package_load(sessions):
    FoleyModel.load(MODEL, provider="cpu")
    assert sorted(Path(p).name for p in sessions) == sorted(GRAPHS)


@pytest.mark.parametrize("graph", GRAPHS)
def test_a_tampered_graph_never_reaches_onnxruntime(graph, tmp_path, sessions):
    pkg = copy_model(tmp_path / "pkg")
    data = bytearray((pkg / graph).read_bytes())
    data[len(data) // 3] ^= 0x01  # one bit
    rewrite(pkg / graph, bytes(data))
    with pytest.raises(ChecksumError) as info:
        Engine.load(pkg, provider="cpu")
    assert str(pkg / graph) in str(info.value) and "sha256 mismatch" in str(info.value)
    assert sessions == []


@pytest.mark.parametrize("how", ["truncated", "extended", "swapped-for-another-graph"])
def test_every_byte_of_every_graph_is_covered(how, tmp_path, sessions):
    pkg = copy_model(tmp_path / "pkg")
    data = (pkg / "vocoder.onnx").read_bytes()
    new = {"truncated": data[:-1], "extended": data + b"\0",
           "swapped-for-another-graph": (pkg / "video_encoder.onnx").read_bytes()}[how]
    rewrite(pkg / "vocoder.onnx", new)
    with pytest.raises(ChecksumError):
        FoleyModel.load(pkg, provider="cpu")
    assert sessions == []


def test_a_graph_outside_the_package_is_refused(tmp_path, sessions):
    pkg = copy_model(tmp_path / "pkg")
    shutil.copy(MODEL / "vocoder.onnx", tmp_path / "elsewhere.onnx")
    spec = json.loads((pkg / "model.json").read_text())
    spec["graphs"]["vocoder"]["file"] = "../elsewhere.onnx"
    rewrite(pkg / "model.json", json.dumps(spec).encode())
    with pytest.raises(ModelPackageError) as info:
        FoleyModel.load(pkg, provider="cpu")
    assert "points outside the package" in str(info.value)
    assert sessions == []


def test_a_graph_linked_to_outside_the_package_is_refused(tmp_path, sessions):
    pkg = copy_model(tmp_path / "pkg")
    shutil.copy(MODEL / "vocoder.onnx", tmp_path / "elsewhere.onnx")
    (pkg / "vocoder.onnx").unlink()
    (pkg / "vocoder.onnx").symlink_to(tmp_path / "elsewhere.onnx")
    with pytest.raises(ModelPackageError) as info:
        FoleyModel.load(pkg, provider="cpu")
    assert "points outside the package" in str(info.value)
    assert sessions == []


def test_the_bundled_package_matches_its_manifest():
    spec = json.loads((MODEL / "model.json").read_text())
    for g in spec["graphs"].values():
        data = (MODEL / g["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == g["sha256"] and len(data) == g["size"]


# -- only ONNX and JSON at run time -------------------------------------------------------------
PICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal", "torch"}


def _sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (REPO / f).rglob("*.py"))


def _call_name(node: ast.Call) -> str:
    parts = []
    fn = node.func
    while isinstance(fn, ast.Attribute):
        parts.append(fn.attr)
        fn = fn.value
    if isinstance(fn, ast.Name):
        parts.append(fn.id)
    return ".".join(reversed(parts))


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def test_run_time_sources_load_no_pickle():
    files = _sources("runtime", "plugin", "ui")
    assert len(files) > 20
    problems = []
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                names = []
            problems += [f"{path.relative_to(REPO)}:{node.lineno} imports {n}" for n in names if n in PICKLERS]
            if isinstance(node, ast.Call):
                name = _call_name(node)
                if name in ("np.load", "numpy.load"):
                    problems.append(f"{path.relative_to(REPO)}:{node.lineno} calls {name} (binary arrays at run time)")
                flag = _keyword(node, "allow_pickle")
                if isinstance(flag, ast.Constant) and flag.value is True:
                    problems.append(f"{path.relative_to(REPO)}:{node.lineno} passes allow_pickle=True")
    assert problems == []


def test_training_checkpoints_load_with_weights_only():
    calls = []
    for path in _sources("export"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "torch.load":
                flag = _keyword(node, "weights_only")
                calls.append((f"{path.relative_to(REPO)}:{node.lineno}",
                              isinstance(flag, ast.Constant) and flag.value is True))
            if isinstance(node, ast.Call):
                flag = _keyword(node, "allow_pickle")
                assert not (isinstance(flag, ast.Constant) and flag.value is True), (path, node.lineno)
    assert calls, "no torch.load found: the scan is looking in the wrong place"
    assert [where for where, ok in calls if not ok] == []


# One audit hook for the whole session (hooks cannot be removed); it records only while asked.
_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def clip_timeline(tmp_path) -> Path:
    video = write_indexed_video(tmp_path / "in" / "shot.mp4", 30, Fraction(25))
    tl = otio.schema.Timeline(name="cut")
    tl.tracks.append(otio.schema.Track())
    tl.tracks[0].append(otio.schema.Clip(name="shot", source_range=TR(RT(0, 25), RT(25, 25)),
                                         media_reference=otio.schema.ExternalReference(target_url=video.as_uri())))
    path = tmp_path / "in" / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    (tmp_path / "out").mkdir()
    return path


def test_a_generation_loads_only_onnx_and_json(clip_timeline, tmp_path, monkeypatch, capsys):
    global _OPENED

    def trap(*args, **kwargs):
        raise AssertionError("pickle or numpy.load used at run time")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, trap)
    monkeypatch.setattr(np, "load", trap)
    out = tmp_path / "out" / "cut.otio"
    _OPENED = []
    try:
        code = cli.main(["generate", str(clip_timeline), "-o", str(out), "--model", str(MODEL), "--steps", "2"])
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert code == EXIT_OK, capsys.readouterr().err
    model_files = {Path(p).name for p in opened if Path(p).resolve().parent == MODEL.resolve()}
    assert model_files == {"model.json", *GRAPHS}  # model.json parsed, graphs hashed before onnxruntime opens them
    binary = [p for p in opened if Path(p).suffix in {".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".npy", ".npz",
                                                        ".joblib", ".bin", ".safetensors"}]
    assert binary == []


# -- no network at run time ---------------------------------------------------------------------
def test_a_generation_needs_no_network(clip_timeline, tmp_path, monkeypatch, capsys):
    attempts: list[str] = []

    def blocked(what):
        def refuse(*args, **kwargs):
            attempts.append(what)
            raise OSError(f"network blocked by the test ({what})")
        return refuse

    monkeypatch.setattr(socket.socket, "__init__", blocked("socket()"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socketpair", "create_server"):
        monkeypatch.setattr(socket, name, blocked(name))
    out = tmp_path / "out" / "cut.otio"
    code = cli.main(["generate", str(clip_timeline), "-o", str(out), "--model", str(MODEL), "--steps", "2"])
    assert code == EXIT_OK, capsys.readouterr().err
    assert attempts == []
    with pytest.raises(OSError):  # the block was real
        socket.socket()
    assert sf.info(str(tmp_path / "out" / "cut_foley" / "V1_0_shot_seed0.wav")).frames == 48000


def _can_unshare_net() -> bool:
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _can_unshare_net(), reason="needs root and unshare for a network namespace")
def test_a_generation_runs_in_a_process_without_any_network(clip_timeline, tmp_path):
    out = tmp_path / "out" / "cut.otio"
    proc = subprocess.run(["unshare", "-n", sys.executable, "-m", "foleyflow.plugin.cli", "generate",
                           str(clip_timeline), "-o", str(out), "--model", str(MODEL), "--steps", "2", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert sf.info(str(tmp_path / "out" / "cut_foley" / "V1_0_shot_seed0.wav")).frames == 48000


# -- written names stay inside the output folder ------------------------------------------------
SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@pytest.mark.parametrize("name,want", [("../../x", "x"), ("C:\\evil", "C_evil"), ("CON", "_CON"), ("a/b", "a_b"),
                                       ("..", "clip"), ("nul.txt", "_nul.txt"), ("/etc/passwd", "etc_passwd"),
                                       ("\\\\server\\share\\f", "server_share_f"), ("", "clip")])
def test_hostile_names_become_safe_names(name, want):
    assert safe_name(name) == want


def _job(clip_id: str, name: str):
    from foleyflow.plugin.clips import ClipInfo
    from foleyflow.plugin.media import MediaResolution
    from foleyflow.plugin.selection import Job
    from foleyflow.plugin.timing import TimeMap

    r = TR(RT(0, 25), RT(25, 25))
    info = ClipInfo(clip_id, "V1", 0, name, otio.schema.Clip(name=name), r, r, TimeMap(Fraction(0)), True, False)
    return Job(info, MediaResolution(Path("/m.mov"), "reference", ()), "found", 48000)


@settings(derandomize=True, database=None, max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.text(max_size=40), st.integers(-5, 5), st.integers(1, 3))
def test_wav_names_never_leave_the_wav_folder(name, clip_id, seed, variations):
    wav_dir = Path("/srv/out/cut_foley")
    for path in take_paths(_job(clip_id, name), wav_dir, GenerateOptions(seed=seed, variations=variations)):
        assert path.parent == wav_dir
        assert os.path.normpath(path) == str(path)  # no "..", no "." component, no second separator
        assert SAFE.match(path.name), path.name
        assert len(path.name.encode()) <= 255
        assert path.name.split(".")[0].upper() not in RESERVED


# -- readers: no external entities, no extraction --------------------------------------------------
def test_fcp7_xml_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xml = (f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]>\n'
           '<xmeml version="4"><sequence><name>&e;</name><rate><timebase>24</timebase></rate>'
           "<media><video><track/></video></media></sequence></xmeml>")
    path = tmp_path / "cut.xml"
    path.write_text(xml)
    with pytest.raises(TimelineError) as info:
        read_timeline(path)
    assert "TOP-SECRET-CONTENT" not in str(info.value)


def test_an_otioz_bundle_is_read_never_extracted(tmp_path):
    tl = otio.schema.Timeline(name="bundle")
    tl.tracks.append(otio.schema.Track())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("content.otio", otio.adapters.write_to_string(tl, "otio_json"))
        z.writestr("version.txt", "1.0.0")
        z.writestr("../../escaped.txt", "zip slip")
        z.writestr("media/../../../escaped2.txt", "zip slip")
    (tmp_path / "a" / "b").mkdir(parents=True)
    path = tmp_path / "a" / "b" / "cut.otioz"
    path.write_bytes(buf.getvalue())
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert read_timeline(path).timeline.name == "bundle"
    assert cli.main(["clips", str(path)]) == EXIT_OK
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
