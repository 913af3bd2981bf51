# One entry point for setup, tests, the running stack and benchmarks. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
MICROPYTHON := $(VENV)/bin/micropython
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup test test-fast run lint bench screenshots clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv, install pinned dependencies, MicroPython and the system packages (Mosquitto, socat, Chromium)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt tools/install_system_deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	tools/install_system_deps.sh
	@touch $@

test: setup ## Run the whole suite: CPython (pytest) and the firmware/shared_schema suites on the real micropython
	$(PY) -m pytest

test-fast: setup ## The suite without the slow end-to-end and PostgreSQL parts
	$(PY) -m pytest -m "not slow and not postgres"

run: setup ## Start the whole stack on embedded defaults (broker, cloud API, one simulated lock)
	$(PY) -m tools.stack

lint: setup ## ruff, mypy on cloud/ and tools/, mypy on the ESP32 HAL against the ESP32 stubs
	$(PY) -m ruff check .
	$(PY) -m mypy cloud tools
	$(PY) -m pytest -q tests/firmware/test_esp32_hal_types.py

bench: setup ## Benchmarks; figures go to docs/BENCHMARKS.md by hand
	$(PY) -m tools.bench

screenshots: setup ## Regenerate the web console's screenshots in docs/console/ (demo data, headless Chromium)
	$(PY) -m tools.console_screenshots

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) var .pytest_cache
