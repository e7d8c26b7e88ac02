# Foley-Flow: two commands do all set-up on a fresh machine.
#   make demo   the main job on the embedded default model (out/demo/)
#   make test   the test suite (ruff + mypy + pytest; make test-fast skips the slow tests)
# Both create .venv in the repo root and install everything into it first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench manifest train-default clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[train,dev,farm]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/foleyflow demo -o out/demo

# The whole suite: ruff, mypy, then every test. `make test-fast` is the inner loop: the same checks
# and the tests not marked slow.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory typecheck
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

.PHONY: test-fast typecheck
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory typecheck
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow"

# mypy checks what pyproject's [tool.mypy] names under the installed names (foleyflow.runtime is
# runtime/: package-dir), which it reads from a link tree under build/mypy (its mypy_path).
define MYPY_TREE
import os, pathlib, shutil, tomllib
tree = pathlib.Path("build/mypy")
shutil.rmtree(tree, ignore_errors=True)
dirs = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
for name, folder in sorted(dirs.items()):
    link = tree.joinpath(*name.split("."))
    link.parent.mkdir(parents=True, exist_ok=True)
    if name == "foleyflow":  # the root package holds the others: link its modules one by one
        link.mkdir()
        for f in sorted(pathlib.Path(folder).glob("*.py")):
            (link / f.name).symlink_to(os.path.relpath(f.resolve(), link))
    else:
        link.symlink_to(os.path.relpath(pathlib.Path(folder).resolve(), link.parent), target_is_directory=True)
endef
export MYPY_TREE

typecheck: $(STAMP)
	$(PY) -c "$$MYPY_TREE"
	$(VENV)/bin/mypy

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/foleyflow bench

# Rewrite manifest.json's bundled-model section (sha256 and size of every file).
manifest: $(STAMP)
	$(PY) -m foleyflow.plugin.manifest --update

# Train the default model's recipe from scratch (see README: about 2 hours on 2 cores) and export it.
train-default: $(STAMP)
	$(VENV)/bin/foleyflow train --workdir out/train/default --package out/train/default/package

clean:
	rm -rf out .pytest_cache .ruff_cache

# The Blender VSE add-on, for Blender's Preferences > Add-ons > Install (hosts/blender/README.md).
.PHONY: blender-addon
blender-addon:
	$(PYTHON) hosts/blender/build_zip.py -o dist/foleyflow_blender.zip
