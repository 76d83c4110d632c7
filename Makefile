# Propensity developer entry points. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

# Extra arguments for `propensity demo`, e.g. make demo ARGS="--port 8001"
ARGS ?=
# Options for every pytest pass, e.g. make test PYTEST_ARGS="-q -x". Two test processes by
# default: the machine has two cores, and one process left the second idle (about 30 min
# a pass on 2026-12-07, against 17 min with two).
PYTEST_ARGS ?= -q -p no:cacheprovider -n 2
# Optional pytest targets, e.g. make test TESTS=tests/modeling
TESTS ?=
export PYTEST_ARGS

LINT_PATHS := $(wildcard src tests bench)

.PHONY: help setup demo test test-sqlite test-pg lint typecheck clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv and install the project with dev extras (no-op when up to date)

$(STAMP): pyproject.toml
	PYTHON="$(PYTHON)" scripts/setup-venv.sh "$(VENV)"
	touch "$@"

demo: setup  ## migrate, seed the demo tenant, train and serve on 127.0.0.1:8000 (ARGS=...)
	$(BIN)/propensity demo $(ARGS)

test: setup  ## whole suite on SQLite, then on throwaway PostgreSQL + Redis
	PYTHON="$(BIN)/python" scripts/run-tests.sh $(TESTS)

test-sqlite: setup  ## the SQLite pass only
	PYTHON="$(BIN)/python" scripts/run-tests.sh --only sqlite $(TESTS)

test-pg: setup  ## the PostgreSQL + Redis pass only
	PYTHON="$(BIN)/python" scripts/run-tests.sh --only pg $(TESTS)

lint: setup  ## ruff check + ruff format --check (runs both, fails if either fails)
	@rc=0; \
	echo "$(BIN)/ruff check $(LINT_PATHS)"; $(BIN)/ruff check $(LINT_PATHS) || rc=$$?; \
	echo "$(BIN)/ruff format --check $(LINT_PATHS)"; $(BIN)/ruff format --check $(LINT_PATHS) || rc=$$?; \
	exit $$rc

typecheck: setup  ## mypy (strict, see pyproject.toml)
	$(BIN)/mypy src

clean:  ## remove var/ and caches (keeps .venv)
	rm -rf var .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
	$(if $(LINT_PATHS),find $(LINT_PATHS) -name __pycache__ -type d -prune -exec rm -rf {} +)
