import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import tomllib

from foleyflow.plugin.manifest import (
    check_models,
    load_manifest,
    model_files,
    sound_sources,
    update_models,
    weights_license,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest(REPO / "manifest.json")


def test_manifest_validates_against_its_schema(manifest):
    schema = json.loads((REPO / "manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(manifest, schema)


def test_schema_rejects_network_permission(manifest):
    schema = json.loads((REPO / "manifest.schema.json").read_text())
    bad = json.loads(json.dumps(manifest))
    bad["permissions"]["network"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_version_equals_the_package_version(manifest):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert manifest["version"] == pyproject["project"]["version"]


def test_bundled_model_checksums_match_the_files(manifest):
    assert check_models(manifest, REPO) == []
    (default,) = [m for m in manifest["models"] if m["default"]]
    assert {f["path"] for f in default["files"]} >= {"model.json", "velocity.onnx", "video_encoder.onnx", "vocoder.onnx"}


def test_a_changed_model_file_is_caught(manifest, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "models", root / "models")
    with open(root / "models" / "default" / "model.json", "a") as f:
        f.write(" ")
    (root / "models" / "default" / "extra.bin").write_bytes(b"x")
    problems = check_models(manifest, root)
    assert any("model.json: sha256/size differ" in p for p in problems)
    assert any("extra.bin: present but not listed" in p for p in problems)


def test_entry_points_resolve(manifest):
    import importlib

    mod, _, attr = manifest["entry_points"]["cli"].partition(":")
    assert callable(getattr(importlib.import_module(mod), attr))


def test_model_files_lists_sizes():
    files = model_files(REPO / "models" / "default")
    assert all(f["size"] == (REPO / "models" / "default" / f["path"]).stat().st_size for f in files)


def test_sound_sources_and_the_weights_license_follow_the_model(tmp_path):
    """A model that learned from share-alike recordings is listed with its sources per package and
    offered share-alike; the manifest is caught when its summary no longer matches model.json."""
    pkg = tmp_path / "models" / "rec"
    pkg.mkdir(parents=True)
    spec = {"schema": "x", "sound_sources": [
        {"source": "debian:minetest-data/usr/a.ogg", "license": "CC0-1.0", "recordings": 1},
        {"source": "debian:minetest-data/usr/b.ogg", "license": "CC-BY-3.0", "recordings": 1},
        {"source": "debian:0ad-data/public.zip!audio/c.ogg", "license": "CC-BY-SA-3.0", "recordings": 2}]}
    (pkg / "model.json").write_text(json.dumps(spec))
    assert sound_sources(pkg) == [{"package": "debian:0ad-data", "license": "CC-BY-SA-3.0", "recordings": 2},
                                  {"package": "debian:minetest-data", "license": "CC-BY-3.0", "recordings": 1},
                                  {"package": "debian:minetest-data", "license": "CC0-1.0", "recordings": 1}]
    assert weights_license(sound_sources(pkg)) == "CC-BY-SA-3.0"
    assert weights_license(sound_sources(pkg)[1:]) == "CC-BY-3.0"
    assert weights_license(sound_sources(pkg)[2:]) == weights_license([]) == "Apache-2.0"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"models": [{"id": "rec", "path": "models/rec", "default": True, "files": []}]}))
    m = update_models(path)["models"][0]
    assert m["license"] == "CC-BY-SA-3.0" and len(m["sound_sources"]) == 3
    assert check_models(load_manifest(path), tmp_path) == []
    spec["sound_sources"].pop()
    (pkg / "model.json").write_text(json.dumps(spec))
    problems = check_models(load_manifest(path), tmp_path)
    assert any("sound_sources differ" in p for p in problems) and any("license" in p for p in problems)
