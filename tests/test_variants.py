"""Precision variants (fp16, int8) of a package, the runtime's variant choice, and I/O binding's CPU path."""

import shutil

import numpy as np
import pytest
from tiny_training import exported_tiny

from foleyflow.export.variants import AUDIO_SNR_DB, GRAPH_TOL, graph_feeds, make_variant, snr_db
from foleyflow.runtime.errors import ChecksumError, ModelPackageError
from foleyflow.runtime.session import FoleyModel, variant_package
from foleyflow.runtime.spec import read_spec, verify_package


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """A copy of the tiny package with both variants written beside it, as the runtime expects."""
    pkg = tmp_path_factory.mktemp("variants") / "tiny"
    shutil.copytree(exported_tiny(), pkg)
    reports = {v: make_variant(pkg, v, parity_seconds=5.0, parity_steps=2) for v in ("fp16", "int8")}
    return pkg, reports


@pytest.mark.parametrize("variant", ["fp16", "int8"])
def test_variant_is_a_verified_package_beside_the_source(package, variant):
    pkg, reports = package
    folder = variant_package(pkg, variant)
    assert folder == pkg.parent / f"tiny-{variant}" and reports[variant].package == folder
    spec = verify_package(folder)
    src = read_spec(pkg)
    assert spec.name == f"{src.name}-{variant}"
    # the contract is unchanged: same constants, same graph inputs and outputs (fp32 at the boundary)
    for name, g in spec.graphs.items():
        assert g.inputs == src.graphs[name].inputs and g.outputs == src.graphs[name].outputs
        assert g.sha256 != src.graphs[name].sha256
    assert (spec.segment_tokens, spec.default_steps, spec.sample_rate) == (src.segment_tokens, src.default_steps,
                                                                            src.sample_rate)
    parity = spec.training["variant"]["parity"]
    assert parity["graph_rel_err"] == reports[variant].graph_rel_err


@pytest.mark.parametrize("variant", ["fp16", "int8"])
def test_variant_runs_through_the_runtime_within_tolerance(package, variant):
    pkg, _ = package
    ref = FoleyModel.load(pkg, provider="cpu")
    var = FoleyModel.load(pkg, provider="cpu", variant=variant)
    assert var.variant == variant and var.package == variant_package(pkg, variant)
    for name, feeds in graph_feeds(ref.spec).items():
        a = ref.sessions[name].run(None, feeds)[0]
        b = var.sessions[name].run(None, feeds)[0]
        assert b.dtype == np.float32 and b.shape == a.shape
        assert np.linalg.norm(b - a) / np.linalg.norm(a) <= GRAPH_TOL[variant]
    assert package[1][variant].audio_snr_db >= AUDIO_SNR_DB[variant]


def test_a_tampered_variant_is_refused(package, tmp_path):
    pkg, _ = package
    bad = tmp_path / "tiny-int8"
    shutil.copytree(variant_package(pkg, "int8"), bad)
    with open(bad / "vocoder.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ChecksumError):
        FoleyModel.load(bad, provider="cpu")


def test_missing_variant_says_how_to_make_it(tmp_path):
    pkg = tmp_path / "solo"
    shutil.copytree(exported_tiny(), pkg)
    with pytest.raises(ModelPackageError, match="foleyflow.export.variants") as e:
        FoleyModel.load(pkg, provider="cpu", variant="int8")
    assert e.value.path == tmp_path / "solo-int8"
    with pytest.raises(ModelPackageError, match="unknown model variant"):
        FoleyModel.load(pkg, provider="cpu", variant="int4")


def test_auto_variant_picks_int8_on_cpu_when_present(package, tmp_path):
    pkg, _ = package
    m = FoleyModel.load(pkg, provider="cpu", variant="auto")
    assert m.variant == "int8" and m.package == variant_package(pkg, "int8")
    # auto may try fp16 first where onnxruntime lists CUDA; whatever runs on the CPU is never fp16
    m = FoleyModel.load(pkg, provider="auto", variant="auto")
    assert m.variant == ("fp16" if m.provider == "CUDAExecutionProvider" else "int8")
    solo = tmp_path / "solo"
    shutil.copytree(exported_tiny(), solo)
    m = FoleyModel.load(solo, provider="cpu", variant="auto")
    assert m.variant == "fp32" and m.package == solo


def test_snr():
    x = np.sin(np.arange(1000) / 10.0)
    assert snr_db(x, x) == float("inf")
    assert abs(snr_db(x + 0.01 * x, x) - 40.0) < 1e-6


# -- I/O binding: on for CUDA only; its code path checked on CPU -------------------------------------
def test_io_binding_is_off_on_cpu_by_default(package):
    m = FoleyModel.load(package[0], provider="cpu")
    assert m.provider == "CPUExecutionProvider" and m.io_binding is False and m.device == "cpu"


def test_bound_velocity_equals_plain_run_and_uploads_constants_once(package):
    pkg, _ = package
    plain = FoleyModel.load(pkg, provider="cpu")
    bound = FoleyModel.load(pkg, provider="cpu", io_binding=True)
    assert bound.io_binding
    f = graph_feeds(plain.spec)["velocity"]
    want = plain.velocity(**f)
    np.testing.assert_array_equal(bound.velocity(**f), want)
    cond_slot = bound._bound["velocity/cond"]
    x2 = f["x"] * 0.5  # a new step: x changes, the window's constants do not
    np.testing.assert_array_equal(bound.velocity(**{**f, "x": x2}), plain.velocity(**{**f, "x": x2}))
    assert bound._bound["velocity/cond"] is cond_slot  # not copied again
    # an array changed in place between calls is seen as new
    f["cond"][:] = 0.0
    np.testing.assert_array_equal(bound.velocity(**f), plain.velocity(**f))
    assert bound._bound["velocity/cond"] is not cond_slot
