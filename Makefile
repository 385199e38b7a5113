# The two commands of the README: `make demo` runs ztai's main job, `make test` runs what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test check serve clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("ztai needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/ztai demo

test: $(VENV)/.installed-dev
	scripts/check

clean:
	rm -rf $(VENV) .ztai-demo .mypy_cache .ruff_cache .pytest_cache .coverage
