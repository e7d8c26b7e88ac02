import json
import shutil
from pathlib import Path

import pytest
from model_fixtures import DEFAULT_MODEL

from foleyflow.runtime.errors import ChecksumError, FoleyFlowError, ModelPackageError
from foleyflow.runtime.spec import SCHEMA, ModelSpec, read_spec, verify_package


@pytest.fixture
def package(tmp_path: Path) -> Path:
    dst = tmp_path / "pkg"
    shutil.copytree(DEFAULT_MODEL, dst)
    return dst


def test_default_package_parses_and_verifies():
    spec = verify_package(DEFAULT_MODEL)
    assert spec.schema == SCHEMA
    assert spec.video_fps == spec.sample_rate / spec.samples_per_token
    assert spec.token_dim == spec.frames_per_token * spec.n_mels
    assert set(spec.graphs) == {"video_encoder", "velocity", "vocoder"}


def test_json_round_trip_is_identity():
    spec = read_spec(DEFAULT_MODEL)
    assert ModelSpec.from_dict(json.loads(spec.to_json())) == spec


def test_checksum_mismatch_is_typed_and_names_the_file(package: Path):
    with open(package / "vocoder.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ChecksumError) as e:
        verify_package(package)
    assert e.value.path == package / "vocoder.onnx"
    assert "sha256" in str(e.value) and str(package / "vocoder.onnx") in str(e.value)


def test_missing_graph(package: Path):
    (package / "velocity.onnx").unlink()
    with pytest.raises(ModelPackageError, match="graph velocity is missing"):
        verify_package(package)


def test_unknown_schema_version(package: Path):
    data = json.loads((package / "model.json").read_text())
    data["schema"] = "foleyflow.model/99"
    (package / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelPackageError, match="unknown schema version"):
        read_spec(package)


def test_malformed_json_and_missing_folder(package: Path, tmp_path: Path):
    (package / "model.json").write_text("{not json")
    with pytest.raises(ModelPackageError, match="cannot read model.json"):
        read_spec(package)
    with pytest.raises(ModelPackageError, match="folder not found"):
        read_spec(tmp_path / "nope")


def test_graph_path_cannot_leave_the_package(package: Path):
    data = json.loads((package / "model.json").read_text())
    data["graphs"]["vocoder"]["file"] = "../vocoder.onnx"
    (package / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelPackageError, match="outside the package"):
        verify_package(package)


def test_inconsistent_rates_rejected(package: Path):
    data = json.loads((package / "model.json").read_text())
    data["video_fps_num"] = 24
    (package / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelPackageError, match="token rate"):
        read_spec(package)


@pytest.mark.parametrize("change, problem", [({"lookahead_tokens": 75}, "lookahead_tokens"),
                                             ({"lookahead_tokens": -1}, "lookahead_tokens"),
                                             ({"lookahead_tokens": 8, "crossfade_tokens": 9}, "crossfade_tokens")])
def test_streaming_fields_are_checked(package: Path, change: dict, problem: str):
    data = json.loads((package / "model.json").read_text())
    data.update(change)
    (package / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelPackageError, match=problem):
        read_spec(package)


def test_streaming_defaults_for_older_packages(package: Path):
    data = json.loads((package / "model.json").read_text())
    del data["lookahead_tokens"], data["crossfade_tokens"]  # a package from before the lookahead
    (package / "model.json").write_text(json.dumps(data))
    assert (read_spec(package).lookahead_tokens, read_spec(package).crossfade_tokens) == (20, 20)
    data["lookahead_tokens"] = 12  # from before the crossfade: the fade fits in its lookahead
    (package / "model.json").write_text(json.dumps(data))
    assert read_spec(package).crossfade_tokens == 12


def test_every_error_derives_from_the_root():
    assert issubclass(ChecksumError, ModelPackageError) and issubclass(ModelPackageError, FoleyFlowError)


def test_the_default_package_takes_no_prompts():
    spec = read_spec(DEFAULT_MODEL)
    assert (spec.prompt_dim, spec.vocabulary, spec.sound_sources, spec.prompt_samples) == (0, (), (), 0)
    assert "prompt_dim" not in json.loads((DEFAULT_MODEL / "model.json").read_text())  # an older package


def _prompt_fields(data: dict) -> dict:
    vel = data["graphs"]["velocity"]
    vel["inputs"] += [{"name": "prompt", "shape": ["B", 8]}, {"name": "prompt_on", "shape": ["B"]}]
    data["graphs"]["prompt_encoder"] = {"file": "vocoder.onnx", "sha256": data["graphs"]["vocoder"]["sha256"],
                                        "size": 1, "inputs": [{"name": "wave", "shape": [1, 16000]}],
                                        "outputs": [{"name": "prompt", "shape": [1, 8]}]}
    data["graphs"]["prompt_table"] = {"file": "vocoder.onnx", "sha256": data["graphs"]["vocoder"]["sha256"],
                                      "size": 1, "inputs": [{"name": "category", "shape": ["B"], "dtype": "int64"}],
                                      "outputs": [{"name": "prompt", "shape": ["B", 8]}]}
    data.update(prompt_dim=8, vocabulary=["WOODImpt", "METLImpt"],
                sound_sources=[{"source": "pkg", "license": "CC0", "recordings": 3}])
    return data


def test_prompt_fields_round_trip(package: Path):
    spec = ModelSpec.from_dict(_prompt_fields(json.loads((package / "model.json").read_text())))
    assert spec.prompt_dim == 8 and spec.vocabulary == ("WOODImpt", "METLImpt") and spec.prompt_samples == 16000
    assert spec.sound_sources == ({"source": "pkg", "license": "CC0", "recordings": 3},)
    assert spec.graphs["prompt_table"].inputs[0].dtype == "int64"
    assert ModelSpec.from_dict(json.loads(spec.to_json())) == spec
    assert spec.prompt_guidance is None and "prompt_guidance" not in json.loads(spec.to_json())  # unset: left out
    tuned = ModelSpec.from_dict({**_prompt_fields(json.loads((package / "model.json").read_text())),
                                 "prompt_guidance": 6})
    assert tuned.prompt_guidance == 6 and ModelSpec.from_dict(json.loads(tuned.to_json())) == tuned


@pytest.mark.parametrize("change, problem", [
    (lambda d: d.pop("vocabulary"), "needs a vocabulary"),
    (lambda d: d.update(vocabulary=["A", "B", "A"]), "names A more than once"),
    (lambda d: d.update(vocabulary="WOODImpt"), "vocabulary must be a list"),
    (lambda d: d.update(vocabulary=["A", 3]), "vocabulary must be a list"),
    (lambda d: d["graphs"].pop("prompt_table"), "needs the graph prompt_table"),
    (lambda d: d.update(prompt_dim=-1), "prompt_dim must be 0"),
    (lambda d: d.update(prompt_dim=0), "has a vocabulary but prompt_dim 0"),
    (lambda d: d.update(prompt_dim="8"), "prompt_dim must be an integer"),
    (lambda d: d["graphs"]["prompt_encoder"]["inputs"][0].update(shape=[1, "L"]), "fixed length"),
    (lambda d: d.update(sound_sources="pkg"), "sound_sources must be a list"),
    (lambda d: d.update(prompt_guidance="6"), "prompt_guidance must be a number"),
    (lambda d: d.update(prompt_guidance=True), "prompt_guidance must be a number"),
    (lambda d: d.update(prompt_guidance=-1.0), "prompt_guidance must be 0 or more"),
])
def test_prompt_fields_are_checked(package: Path, change, problem: str):
    data = _prompt_fields(json.loads((package / "model.json").read_text()))
    change(data)
    with pytest.raises(ModelPackageError, match=problem):
        ModelSpec.from_dict(data)
