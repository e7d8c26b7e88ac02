import onnxruntime as ort
import pytest
from model_fixtures import DEFAULT_MODEL

from foleyflow.runtime.errors import ProviderError
from foleyflow.runtime.providers import candidates, create_session, provider_name


def test_names_and_aliases():
    assert provider_name("cpu") == "CPUExecutionProvider"
    assert provider_name("CUDA") == "CUDAExecutionProvider"
    assert provider_name("auto") == "auto"
    with pytest.raises(ProviderError, match="unknown execution provider"):
        provider_name("warp-drive")


def test_auto_always_ends_with_cpu():
    order = candidates("auto")
    assert order[-1] == "CPUExecutionProvider"
    assert set(order) <= set(ort.get_available_providers())


def test_cpu_session_runs_on_cpu():
    sess, actual = create_session(DEFAULT_MODEL / "vocoder.onnx", "cpu")
    assert actual == "CPUExecutionProvider" == sess.get_providers()[0]


def test_auto_reports_what_actually_runs():
    sess, actual = create_session(DEFAULT_MODEL / "vocoder.onnx", "auto")
    assert actual == sess.get_providers()[0]


def test_asking_for_cuda_runs_on_cuda_or_says_it_cannot():
    # onnxruntime-gpu lists CUDA even without CUDA libraries; we must never fall back silently
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(ProviderError, match="not in this onnxruntime build"):
            create_session(DEFAULT_MODEL / "vocoder.onnx", "cuda")
        return
    try:
        sess, actual = create_session(DEFAULT_MODEL / "vocoder.onnx", "cuda")
    except ProviderError as e:
        assert "cannot run here" in str(e) and e.path == DEFAULT_MODEL / "vocoder.onnx"
    else:
        assert actual == "CUDAExecutionProvider" == sess.get_providers()[0]
