# Every target documents itself: `make help`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
ESB := $(VENV)/bin/esb

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

install: $(VENV)/.installed $(VENV)/.native ## Create .venv and install the project with its dev tools

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# The compiled fast path (native/, Rust): rebuilt when its sources change. cargo is on PATH or in ~/.cargo/bin.
NATIVE_SOURCES := native/Cargo.toml native/Cargo.lock native/pyproject.toml native/esb_native.pyi $(wildcard native/src/*.rs)

$(VENV)/.native: $(VENV)/.installed $(NATIVE_SOURCES)
	PATH="$$HOME/.cargo/bin:$$PATH" $(VENV)/bin/pip install --quiet ./native
	touch $@

DEMO_RATE ?= 50/s
DEMO_MINUTES ?= 1

run: install ## Run the whole bus + a demo and its report; Ctrl-C stops it (DETACH=1 leaves it running)
	$(ESB) bus run --rate $(DEMO_RATE) --minutes $(DEMO_MINUTES) $(if $(DETACH),--detach,)

demo: install ## Send demo traffic to the running bus (DEMO_RATE, DEMO_MINUTES) and print the report
	$(ESB) demo --rate $(DEMO_RATE) --minutes $(DEMO_MINUTES)
	$(ESB) status --report

watch: install ## Live KPIs of the running bus (esb status)
	$(ESB) status

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

down: install ## Stop the bus's services (if any) and the local stack
	$(ESB) bus down --stack

bench: install ## Runtime benchmark: EOS vs at-least-once vs a raw loop (needs the stack; see benchmarks/README.md)
	$(PY) benchmarks/bench_runtime.py --records 300000

bench-translator: install ## Translator: Shopify order webhooks -> canonical Avro, EOS vs a raw loop (ORDERS; needs the stack)
	$(PY) benchmarks/translator.py --orders $(or $(ORDERS),30000)

bench-e2e: install ## Whole-bus load: webhook -> canonical / ERP document p50/p99 (RATE, SECONDS; needs the stack)
	$(PY) benchmarks/e2e_load.py --rate $(or $(RATE),200) --seconds $(or $(SECONDS),30)

.PHONY: help install run demo watch test test-unit lint format up status down bench bench-translator bench-e2e
