# Foley-Flow: two commands do all set-up on a fresh machine.
#   make demo   the main job on the embedded default model (out/demo/)
#   make test   the test suite (ruff + pytest)
# Both create .venv in the repo root and install everything into it first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench manifest train-default clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[train,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/foleyflow demo -o out/demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

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
