# Targets named in the README. Every target installs what it needs itself, once: each install
# step leaves a stamp file, so a second run goes straight to its work.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.package-lock.json
DEB_STAMP := $(STAMPS)/debian-packages

.PHONY: install install-test postgres test lint typecheck pytest demo bench trials clean

# Python: the venv with the project and its dev extras (pinned in pyproject.toml).
$(PY_STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(PY_STAMP)

# npm: anvil and the Uniswap contract artifacts (pinned in package-lock.json).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# Debian: chromium and docker-compose for the tests (apt-get as root, else one line naming them).
$(DEB_STAMP): tools/setup/debian-packages.sh
	tools/setup/debian-packages.sh
	mkdir -p $(STAMPS) && touch $(DEB_STAMP)

# PostgreSQL: checked on every run (milliseconds when up), started if it is down.
postgres:
	@tools/setup/postgres.sh

install: $(PY_STAMP) $(NPM_STAMP)

install-test: install $(DEB_STAMP) postgres

lint: install
	$(BIN)/ruff check bot strategies tests
	$(BIN)/ruff format --check bot strategies tests

typecheck: install
	$(BIN)/mypy

pytest: install-test
	$(BIN)/pytest -q

test: lint typecheck pytest

demo: install
	$(BIN)/lphedge demo

bench: install
	$(BIN)/python -m bench

# The fault and crash trials at full count, on every venue dialect (make test runs fewer).
trials: install-test
	LPHEDGE_FAULT_TRIALS=20 LPHEDGE_CRASH_TRIALS=4 $(BIN)/pytest -q -s -p no:cacheprovider \
		tests/e2e/test_midrun_faults.py tests/execution/test_crash.py

clean:
	rm -rf $(VENV) node_modules $(STAMPS) .pytest_cache .mypy_cache .ruff_cache
