# ttdn-hub developer entry points. Everything installs itself: on a fresh clone `make run`
# and `make test` need only python3 (3.11), make and, for the services, root (apt-get, and
# OS users for PostgreSQL/Elasticsearch).
#
#   make venv            create/refresh .venv (only when pyproject.toml/requirements.lock change)
#   make run             migrate, seed demo data if empty, serve on $(HOST):$(PORT)
#   make test            pytest twice, side by side: sqlite, and PostgreSQL + Elasticsearch (scripts/run-tests.sh)
#   make lint            ruff check, and lint-imports (the dependency order in pyproject.toml)
#   make bench           scripts/run-bench.sh, if present
#   make clean-services  stop PostgreSQL/Elasticsearch that the scripts started

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-x -k search'; run-tests.sh reads it
# from the environment.
PYTEST_ARGS ?=
export PYTEST_ARGS

# requirements.lock pins the whole dependency tree (pip freeze). Until it exists, fall back
# to the direct pins in pyproject.toml.
LOCK := $(wildcard requirements.lock)
STAMP := $(VENV)/.installed

.PHONY: help venv run test lint bench clean-services

help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

# The stamp is newer than pyproject.toml and requirements.lock after a good install, so the
# (slow) pip steps run again only when one of those changes, or after `rm -rf .venv`.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
ifneq ($(LOCK),)
	@# A lock written by plain `pip freeze` also lists this project itself (as "-e ..." or
	@# "ttdn-hub @ file://..."), pointing at the folder it was frozen in; skip that line.
	grep -vE '^(-e |ttdn[-_]hub( |=|@|$$))' requirements.lock > $(VENV)/requirements.lock.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q -r $(VENV)/requirements.lock.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e .
else
	@echo "requirements.lock not found: installing from pyproject.toml pins"
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
endif
	@touch $@

run: venv
	$(BIN)/ttdn migrate
	$(BIN)/ttdn seed --demo-if-empty
	$(BIN)/ttdn serve --host $(HOST) --port $(PORT)

test: venv
	bash scripts/run-tests.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: venv
	@if [ -f scripts/run-bench.sh ]; then bash scripts/run-bench.sh; \
	else echo "scripts/run-bench.sh not found: no benchmarks yet"; fi

clean-services:
	bash scripts/stop-services.sh
