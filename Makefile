# enlist: `make run` shows the whole flow on this machine, `make test` proves it.
# Everything installs from the project's own files: Python packages from uv.lock into .venv,
# npm tools (newman, for the tests) from package-lock.json into node_modules; Node.js itself and
# Chromium (for the browser tests), python-ldap's headers, slapd and Samba (for the LDAP source
# and its tests) from Debian's packages when they are missing (scripts/ensure-*.sh).

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

.PHONY: install run test check format clean bench soak screenshots browser directory-servers fake-graph

install: $(BIN)/enlist

$(UV):
	scripts/ensure-uv.sh $(PYTHON)

$(BIN)/enlist: pyproject.toml uv.lock | $(UV)
	scripts/ensure-ldap.sh
	scripts/ensure-ops-tools.sh
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

node_modules/.installed: package.json package-lock.json
	scripts/ensure-node.sh
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: install
	$(BIN)/enlist demo

browser:
	scripts/ensure-chromium.sh

# python-ldap's build headers and the throwaway slapd and Samba AD DC the LDAP tests start.
directory-servers:
	scripts/ensure-ldap.sh

test: install node_modules/.installed browser directory-servers
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Benchmarks with their peers, one table of ratios (bench/README.md); not part of `make test`.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# The fake Microsoft Graph with a demo tenant, on loopback (docs/tutorial/provision-from-entra-through-graph.md).
fake-graph: install
	$(BIN)/python -m tests.fakes.graph $(FAKE_GRAPH_ARGS)

# A long load run with loss checks (docs/reliability.md); not part of `make test`.
soak: install
	$(BIN)/python scripts/soak.py $(SOAK_ARGS)

# Re-take the screenshots in docs/images from a real browser walk (docs/images/manifest.json).
screenshots: install browser
	ENLIST_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/pytest -q -p no:cacheprovider tests/browser -k walk

check: install
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

clean:
	rm -rf .venv .tools node_modules var .pytest_cache .mypy_cache .ruff_cache
