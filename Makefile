# Every target documents itself: `make help`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
ESB := $(VENV)/bin/esb

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install the project with its dev tools

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

run: install ## Run the bus: start the local stack and print its endpoints
	$(ESB) dev up

test: install ## Run every test tier (starts the local stack for the integration tests)
	$(VENV)/bin/pytest

test-unit: install ## Unit and contract tests only (no infrastructure)
	$(VENV)/bin/pytest -m "unit or contract"

lint: install ## ruff, mypy --strict on bus/ and esb/, import-linter contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

up: install ## Start the local stack (Kafka, schema registry, Jaeger)
	$(ESB) dev up

status: install ## Show the local stack
	$(ESB) dev status

down: install ## Stop the local stack
	$(ESB) dev down

.PHONY: help install run test test-unit lint format up status down
