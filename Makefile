# paygate — the two commands: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck cfn-lint sam-build unit integration e2e format clean bench redrive
.PHONY: openapi browser-deps test-browser test-soak

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.run-installed: requirements-run.txt layers/core/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-run.txt
	touch $@

$(VENV)/.installed: requirements-dev.txt $(VENV)/.run-installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q -r requirements-sam.txt
	touch $@

run: $(VENV)/.run-installed ## start the local gateway on 127.0.0.1 (Ctrl-C stops it)
	$(PY) -m local.run

test: browser-deps lint typecheck cfn-lint sam-build ## everything CI runs: lint, types, template, build, all test tiers
	$(PY) -m pytest tests/unit tests/integration -n 2
	$(PY) -m pytest tests/e2e tests/browser

lint: $(VENV)/.installed ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy (strict) over the layer, functions and local runtime
	$(VENV)/bin/mypy

cfn-lint: $(VENV)/.installed ## lint template.yaml
	$(VENV)/bin/cfn-lint template.yaml

sam-build: $(SAM_VENV)/.installed ## sam build (no Docker) into .aws-sam/
	AWS_DEFAULT_REGION=ap-southeast-1 SAM_CLI_TELEMETRY=0 $(SAM) build --template-file template.yaml

unit: $(VENV)/.installed ## unit tier only (pure, no AWS)
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed ## integration tier (handlers + moto)
	$(PY) -m pytest tests/integration

test-soak: $(VENV)/.installed ## the lifecycle model over 20,000 simulated histories (~5 min)
	PAYGATE_SOAK=1 $(PY) -m pytest tests/unit/test_lifecycle_model.py -k random_histories -s

e2e: $(VENV)/.installed ## e2e tier (the local runtime over HTTP)
	$(PY) -m pytest tests/e2e

bench: $(VENV)/.installed sam-build ## benchmarks: writes bench/results/latest.{json,md} and docs/performance.md
	$(PY) -m bench.run

redrive: $(VENV)/.run-installed ## publish the status events parked in the local runtime's DLQ (make run must be running)
	PYTHONPATH=layers/core $(PY) -m ops.redrive --local

openapi: $(VENV)/.installed ## regenerate docs/openapi.json from the handlers' models
	$(PY) -m local.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

browser-deps: ## Debian's Chromium for the browser tests (apt-get, only when missing)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "browser-deps: /usr/bin/chromium is missing; install Debian's chromium as root" >&2; exit 1; fi; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends chromium; \
	fi

test-browser: $(VENV)/.installed browser-deps ## browser tier (checkout page + API docs in Chromium)
	$(PY) -m pytest tests/browser

format: $(VENV)/.installed ## apply ruff formatting and fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## remove build output and local state
	rm -rf .aws-sam .paygate
