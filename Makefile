# Santun: two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
APP_STAMP := $(VENV)/.app-installed
TEST_STAMP := $(VENV)/.test-installed

.PHONY: run test check format bench clean browser

# The browser test drives Debian's Chromium (never `playwright install`, which downloads).
browser:  ## install Chromium from the Debian archive when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium for the browser test (apt-get install chromium) ..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	  || { $$SUDO apt-get update -q >/dev/null && \
	       $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
	  || echo "Could not install Chromium; the browser test will say so."; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(APP_STAMP)

run: $(APP_STAMP)  ## install, build the knowledge index if missing or stale, serve on 127.0.0.1:8000
	$(BIN)/santun ingest
	$(BIN)/santun serve --host 127.0.0.1 --port 8000

test: $(TEST_STAMP) browser  ## install what tests need (Chromium too), run them, then the eval gates
	$(BIN)/python -m pytest
	$(BIN)/santun eval --suite offline --suite scripted --out .santun/eval-report

check: $(TEST_STAMP) browser  ## format check, lint, types, tests
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(APP_STAMP)
	$(BIN)/santun bench

clean:
	rm -rf $(VENV) .santun .pytest_cache .mypy_cache .ruff_cache
