import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from tiny_training import exported_tiny, trained_tiny

from foleyflow.export.onnx_export import PARITY_TOL, load_models
from foleyflow.runtime.generate import frames_needed, generate_audio
from foleyflow.runtime.session import FoleyModel
from foleyflow.runtime.spec import verify_package


@pytest.fixture(scope="module")
def package():
    return exported_tiny()


def test_package_is_valid_and_checksummed(package):
    spec = verify_package(package)
    for g in spec.graphs.values():
        onnx.checker.check_model(onnx.load(str(package / g.file)))
    assert not list(package.glob("*.data")), "weights must live inside the .onnx files"
    assert json.loads((package / "model.json").read_text())["training"]["parity_max_abs_diff"]["velocity"] <= PARITY_TOL


def test_velocity_graph_matches_pytorch_on_fresh_inputs(package):
    _, _, net, _, _ = load_models(trained_tiny(), "flow_masked_dynamic")
    sess = ort.InferenceSession(str(package / "velocity.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(123)
    spec = verify_package(package)
    for n in (40, 100):  # other lengths than the export example: the time axis is dynamic
        feeds = {"x": rng.standard_normal((2, n, spec.token_dim), dtype=np.float32),
                 "t": rng.random(2, dtype=np.float32),
                 "cond": rng.standard_normal((2, n, spec.feature_dim), dtype=np.float32),
                 "ctx": rng.standard_normal((2, n, spec.token_dim), dtype=np.float32),
                 "ctx_mask": (rng.random((2, n, 1)) < 0.3).astype(np.float32),
                 "uncond": np.array([0.0, 1.0], np.float32)}
        got = sess.run(None, feeds)[0]
        with torch.no_grad():
            ref = net(*[torch.from_numpy(v) for v in feeds.values()]).numpy()
        assert np.abs(got - ref).max() <= 1e-4


def test_video_encoder_and_vocoder_match_pytorch(package):
    _, venc, _, voc, _ = load_models(trained_tiny(), "flow_masked_dynamic")
    rng = np.random.default_rng(7)
    frames = rng.random((1, 37, 3, 32, 32), dtype=np.float32)
    mel = rng.standard_normal((1, 123, 64), dtype=np.float32)
    m = FoleyModel.load(package, provider="cpu")
    with torch.no_grad():
        assert np.abs(m.encode_video(frames) - venc(torch.from_numpy(frames)).numpy()).max() < 1e-4
        assert np.abs(m.vocode(mel) - voc(torch.from_numpy(mel)).numpy()).max() < 1e-4
    assert m.vocode(mel).shape == (1, 123 * m.spec.hop_length)


@pytest.mark.parametrize("n_fft", [640, 1920])  # the 16 kHz models' and the 48 kHz recorded ones'
def test_dft_matrices_are_built_in_the_graph_not_stored(tmp_path, n_fft):
    """The vocoder's iSTFT and the prompt front end's STFT matrices (30 and 15 MB at n_fft 1920)
    come from integer ranges when onnxruntime opens the graph: the files stay small, the numbers stay."""
    from foleyflow.export.models.prompt import ConvLogMel
    from foleyflow.export.models.vocoder import Vocoder
    from foleyflow.export.onnx_export import _export_dft_graph, dft_sized_initializers

    torch.manual_seed(0)
    hop, k = n_fft // 4, n_fft // 2 + 1
    rng = np.random.default_rng(1)
    voc = Vocoder(16, n_fft, hop, 16, 1).eval()
    mel = rng.standard_normal((2, 30, 16), dtype=np.float32)  # batch 2: a batch of 1 would be fixed at 1
    dyn = ({0: torch.export.Dim("batch", min=1, max=64), 1: torch.export.Dim("f", min=8, max=4096)},)
    _export_dft_graph(voc, (torch.from_numpy(mel),), ["mel"], ["audio"], dyn, tmp_path / "vocoder.onnx", n_fft)
    front = ConvLogMel(25 * n_fft, n_fft, hop, 16, 0.0, 12.5 * n_fft).eval()
    wave = rng.standard_normal((1, 10 * hop), dtype=np.float32)
    _export_dft_graph(front, (torch.from_numpy(wave),), ["wave"], ["mel"], None, tmp_path / "front.onnx", n_fft)
    for name, module, feeds in (("vocoder", voc, {"mel": mel}), ("front", front, {"wave": wave})):
        path = tmp_path / f"{name}.onnx"
        graph = onnx.load(str(path)).graph
        assert max(int(np.prod(t.dims)) for t in graph.initializer) < k * n_fft / 8, name
        assert path.stat().st_size < k * n_fft, name  # under a quarter of one float32 [K, N] matrix
        assert not dft_sized_initializers(path, n_fft)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        with torch.no_grad():
            ref = module(*[torch.from_numpy(v) for v in feeds.values()]).numpy()
        tol = 1e-5 * max(1.0, float(np.abs(ref).max()))  # log-mel values reach ~10
        assert np.abs(sess.run(None, feeds)[0] - ref).max() <= tol, name


def test_exported_package_runs_in_the_runtime(package):
    m = FoleyModel.load(package, provider="cpu")
    n = 48000 * 5
    frames = [np.zeros((32, 32, 3), np.uint8)] * frames_needed(m.spec, n)
    y = np.concatenate(list(generate_audio(m, frames, n, steps=2)))
    assert y.shape == (n,)


@pytest.mark.slow
def test_flat_pool_encoder_trains_exports_and_matches_pytorch(tmp_path):
    """The other stem (no pooled branch; the previous default model's): it still trains and exports."""
    from tiny_training import tiny_config

    from foleyflow.export.onnx_export import export_package
    from foleyflow.export.train import STAGES

    cfg = tiny_config().override(["encoder.video_pool=flat"])
    for stage in ("data", "audio_mae", "video_mae", "align", "flow", "vocoder"):
        STAGES[stage](cfg, tmp_path)
    spec = export_package(tmp_path, tmp_path / "package", name="tiny-flat")
    _, venc, _, _, _ = load_models(tmp_path, "flow_masked_dynamic")
    assert venc.pool == "flat" and not hasattr(venc, "att")
    frames = np.random.default_rng(3).random((1, 29, 3, 32, 32), dtype=np.float32)
    m = FoleyModel.load(tmp_path / "package", provider="cpu")
    with torch.no_grad():
        assert np.abs(m.encode_video(frames) - venc(torch.from_numpy(frames)).numpy()).max() < 1e-4
    assert spec.name == "tiny-flat"


# -- a package with sound prompts ------------------------------------------------------------------------
def test_a_prompt_package_declares_its_prompt_graphs_and_vocabulary():
    from tiny_prompts import prompt_package

    pkg = prompt_package()
    spec = verify_package(pkg)
    data = json.loads((pkg / "model.json").read_text())
    assert set(spec.graphs) == {"video_encoder", "velocity", "vocoder", "prompt_encoder", "prompt_table"}
    assert data["prompt_dim"] == spec.prompt_dim == 16 and data["vocabulary"] == list(spec.vocabulary)
    assert [t.name for t in spec.graphs["velocity"].inputs][-2:] == ["prompt", "prompt_on"]
    assert spec.graphs["velocity"].inputs[-2].shape == ("B", 16)
    assert spec.graphs["prompt_encoder"].inputs[0].shape == (1, spec.sample_rate)  # 1 s references
    assert spec.graphs["prompt_table"].inputs[0].dtype == "int64"
    parity = spec.training["parity_max_abs_diff"]
    assert parity["velocity"] <= PARITY_TOL and parity["prompt_encoder"] <= 1e-3 and parity["prompt_table"] == 0
    assert spec.training["prompts"] == {"category": 0.35, "reference": 0.35, "seconds": 1.0, "train_encoder": False}
    for g in ("prompt_encoder", "prompt_table"):
        onnx.checker.check_model(onnx.load(str(pkg / spec.graphs[g].file)))
        names = {n.op_type for n in onnx.load(str(pkg / spec.graphs[g].file)).graph.node}
        assert "STFT" not in names and "DFT" not in names  # the front end is a plain conv


def test_prompt_graphs_match_pytorch_and_both_backends_make_the_same_take():
    from tiny_prompts import prompt_package, prompt_workdir

    from foleyflow.export.torch_backend import TorchModel
    from foleyflow.runtime.prompt import CategoryPrompt, ReferencePrompt

    onnx_model = FoleyModel.load(prompt_package(), provider="cpu")
    torch_model = TorchModel.load(prompt_workdir(), prompt_package())
    spec = onnx_model.spec
    rng = np.random.default_rng(5)
    wave = (rng.standard_normal((1, spec.prompt_samples)) * np.exp(-np.arange(spec.prompt_samples) / 3000))
    wave = (wave / np.abs(wave).max()).astype(np.float32)
    assert np.abs(onnx_model.encode_reference(wave) - torch_model.encode_reference(wave)).max() < 1e-3
    index = np.arange(len(spec.vocabulary), dtype=np.int64)
    np.testing.assert_array_equal(onnx_model.encode_category(index), torch_model.encode_category(index))
    n = 48000 * 3
    frames = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(frames_needed(spec, n))]
    for prompt in (CategoryPrompt(spec.vocabulary[-1]), ReferencePrompt(wave[0, :9000] * 0.3), None):
        takes = [np.concatenate(list(generate_audio(m, frames, n, seed=2, steps=2, prompt=prompt)))
                 for m in (onnx_model, torch_model)]
        assert np.abs(takes[0] - takes[1]).max() < 1e-3, prompt


def test_a_package_trained_with_a_library_names_its_categories_and_sources(tmp_path):
    from tiny_prompts import CATIDS, library_prompt_workdir

    from foleyflow.export.onnx_export import export_package
    from foleyflow.runtime.prompt import CategoryPrompt, check_prompt

    spec = export_package(library_prompt_workdir(), tmp_path / "pkg", name="tiny-library")
    assert spec.vocabulary and set(spec.vocabulary) <= set(CATIDS)
    assert spec.sound_sources and spec.sound_sources[0]["recordings"] > 0
    m = FoleyModel.load(tmp_path / "pkg", provider="cpu")
    check_prompt(m.spec, CategoryPrompt(spec.vocabulary[0]))
    assert m.spec == spec


def test_a_vocoder_given_another_normalisation_than_its_own_hears_the_same_mel(tmp_path):
    """A vocoder trained on other clips than the flow (mel stats of its own) restandardises its input: given
    the flow's normalisation it outputs what it outputs for its own, in PyTorch and once exported."""
    from foleyflow.export.models.vocoder import Vocoder
    from foleyflow.export.onnx_export import _export_dft_graph

    torch.manual_seed(0)
    voc = Vocoder(16, 640, 160, 16, 1).eval()
    logmel = torch.from_numpy(np.random.default_rng(2).normal(-10.0, 2.4, (2, 30, 16)).astype(np.float32))
    own, flows = (-9.98, 2.46), (-10.16, 2.28)
    with torch.no_grad():
        ref = voc((logmel - own[0]) / own[1])
        voc.restandardize(flows, own)
        got = voc((logmel - flows[0]) / flows[1])
        unadapted = Vocoder(16, 640, 160, 16, 1)
        unadapted.load_state_dict(voc.state_dict())  # the affine is not saved: a checkpoint stays the same
        plain = unadapted.eval()((logmel - flows[0]) / flows[1])
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(plain, ref, atol=1e-3)
    dyn = ({0: torch.export.Dim("batch", min=1, max=64), 1: torch.export.Dim("f", min=8, max=4096)},)
    mel = ((logmel - flows[0]) / flows[1]).numpy()
    _export_dft_graph(voc, (torch.from_numpy(mel),), ["mel"], ["audio"], dyn, tmp_path / "vocoder.onnx", 640)
    sess = ort.InferenceSession(str(tmp_path / "vocoder.onnx"), providers=["CPUExecutionProvider"])
    assert np.abs(sess.run(None, {"mel": mel})[0] - ref.numpy()).max() < 1e-4
