# enlist: `make run` shows the whole flow on this machine, `make test` proves it.
# Everything installs from the project's own files: Python packages from uv.lock into .venv,
# npm tools (newman, for the tests) from package-lock.json into node_modules; Node.js itself from
# Debian's packages when it is missing (scripts/ensure-node.sh).

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

.PHONY: install run test check format clean

install: $(BIN)/enlist

$(UV):
	scripts/ensure-uv.sh $(PYTHON)

$(BIN)/enlist: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

node_modules/.installed: package.json package-lock.json
	scripts/ensure-node.sh
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: install
	$(BIN)/enlist demo

test: install node_modules/.installed
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

check: install
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf .venv .tools node_modules var .pytest_cache .mypy_cache .ruff_cache
