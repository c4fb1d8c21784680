# The two commands: `make up` and `make test`. Everything else is `bizid …` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up down status test test-fast lint install bench mutants

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	$(BIN)/bizid install

up: $(STAMP)
	$(BIN)/bizid up

down: $(STAMP)
	$(BIN)/bizid down

status: $(STAMP)
	$(BIN)/bizid status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m scripts.lint.policies
	cd realm/extensions && mvn -B -q verify

test: lint
	$(BIN)/python -m pytest

# Mutation check of policies/bizid (also run by `make test` via tests/test_policy_mutation.py).
mutants: install
	$(BIN)/python -m policies.mutation --report docs/reports/policy-mutants.md

# Pure unit, policy (a private OPA) and mock-graph tests: no platform is started. Under a minute
# (the mutation check, marked `mutation`, takes minutes: `make mutants`).
test-fast: install
	$(BIN)/python -m pytest -m "not platform and not mutation" -q
