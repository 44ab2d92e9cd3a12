# crmsync: one entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help venv test test-fast lint format bench demo services clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP) ## Create the virtual environment with crmsync and its dev tools

services: ## Install and start what the tests need (PostgreSQL, Dovecot, Chromium) when missing
	@scripts/test-services

test: $(STAMP) services ## Run the whole suite (unit, contract on SQLite and PostgreSQL, integration)
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

test-fast: $(STAMP) ## The suite without the slow end-to-end cases
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff format check, ruff lint, mypy strict on crmsync/
	$(VENV)/bin/ruff format --check crmsync tests bench migrations
	$(VENV)/bin/ruff check crmsync tests bench migrations
	$(VENV)/bin/mypy

format: $(STAMP) ## Reformat and autofix
	$(VENV)/bin/ruff format crmsync tests bench migrations
	$(VENV)/bin/ruff check --fix crmsync tests bench migrations

bench: $(STAMP) ## Run every benchmark in bench/ (each prints one JSON line last)
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

demo: $(STAMP) ## Run the sandbox team without and with crmsync over three simulated weeks (no CRM needed)
	$(VENV)/bin/crmsync demo

clean: ## Remove the virtual environment and local databases
	rm -rf $(VENV) crmsync.db .pytest_cache .mypy_cache .ruff_cache
