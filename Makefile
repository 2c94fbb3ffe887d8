# paygate — the two commands: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
PYTHON ?= python3.13
# pyenv's shim answers python3.13 only while a 3.13 is selected: select the newest installed.
ifneq ($(shell command -v pyenv 2>/dev/null),)
export PYENV_VERSION ?= $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$$' | tail -n 1)
endif
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# uv installs every environment from uv.lock; it comes from PyPI into its own small venv
# (the same version as the lock's, checked by tests/unit/test_dependency_lock.py).
UV_VERSION := 0.13.9
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck cfn-lint sam-build unit integration e2e format clean bench redrive
.PHONY: openapi browser-deps test-browser test-soak test-backlog soak-local lock docs docs-serve FORCE

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install -q uv==$(UV_VERSION)

# --inexact: `make run` after `make test` keeps the test tools.
$(VENV)/.run-installed: uv.lock | $(UV)
	$(UV) sync --frozen --inexact --no-default-groups --group run
	touch $@

$(VENV)/.installed: uv.lock $(VENV)/.run-installed
	$(UV) sync --frozen
	touch $@

$(SAM_VENV)/.installed: uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(SAM_VENV) $(UV) sync --frozen --no-default-groups --group sam
	touch $@

LOCKED_REQUIREMENTS := layers/core/requirements.txt $(wildcard functions/*/requirements.txt)
lock: | $(UV) ## re-resolve uv.lock from pyproject.toml and regenerate the requirements.txt files sam build reads
	$(UV) lock
	{ echo "# Generated from uv.lock by make lock (group layer). Do not edit."; \
	  $(UV) export --frozen --no-header --no-default-groups --only-group layer; } > layers/core/requirements.txt
	for f in $(filter functions/%,$(LOCKED_REQUIREMENTS)); do \
	  { echo "# Generated from uv.lock by make lock (group signing). Do not edit."; \
	    $(UV) export --frozen --no-header --no-default-groups --only-group signing; } > $$f; done

run: $(VENV)/.run-installed ## start the local gateway on 127.0.0.1 (Ctrl-C stops it)
	$(PY) -m local.run

# Every AWS call the functions make across the tiers (in-process and in the e2e runtimes), for
# the IAM check that runs after them (tests/iam/).
AWS_CALLS := $(abspath .paygate/aws-calls.jsonl)
# pytest-xdist workers for the four tiers in one session: more than the 2 cores, because the
# e2e and browser tests mostly wait on the local runtimes (each worker starts its own).
TEST_WORKERS ?= 4
# In this order, so that the long tests start first: pytest-xdist hands tests out in collection
# order (tests/conftest.py puts the `early` ones before all), two at a time (--maxschedchunk;
# its default first hands each worker a quarter of its share in one block, which put every
# e2e test on one worker).
PYTEST_TIERS := tests/e2e tests/browser tests/integration tests/unit
# The checks do not depend on each other, nor the tests on them: they run side by side (-j),
# each one's output kept together (--output-sync) in .paygate/checks.log, while the tiers run
# (their single-threaded steps, mypy and sam build, leave a core idle otherwise). Their output
# is printed after the tiers'; `make test` fails when either failed. (Named through CHECKS_RUN,
# not $(MAKE) in the recipe, so that `make -n test` only prints the line and starts nothing.)
CHECKS := lint typecheck cfn-lint sam-build docs
CHECKS_LOG := .paygate/checks.log
CHECKS_RUN = $(MAKE) --no-print-directory -j 4 --output-sync=target $(CHECKS)
test: browser-deps $(VENV)/.installed ## everything CI runs: lint, types, template, build, docs, all test tiers
	mkdir -p .paygate && rm -f $(AWS_CALLS)
	$(CHECKS_RUN) > $(CHECKS_LOG) 2>&1 & checks=$$!; \
	PAYGATE_AWS_CALLS_FILE=$(AWS_CALLS) $(PY) -m pytest $(PYTEST_TIERS) -n $(TEST_WORKERS) \
	  --maxschedchunk 2 --durations=25; tiers=$$?; \
	wait $$checks; checked=$$?; cat $(CHECKS_LOG); \
	if [ $$checked != 0 ]; then echo "make test: a check failed (above)" >&2; fi; \
	[ $$tiers = 0 ] && [ $$checked = 0 ]
	PAYGATE_AWS_CALLS_FILE=$(AWS_CALLS) PAYGATE_AWS_CALLS_COMPLETE=1 $(PY) -m pytest tests/iam

lint: $(VENV)/.installed ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy (strict) over the layer, functions and local runtime
	$(VENV)/bin/mypy

cfn-lint: $(VENV)/.installed ## lint template.yaml
	$(VENV)/bin/cfn-lint template.yaml

# Lambda cannot write __pycache__ (read-only /var/task and /opt): the artifacts ship their
# bytecode, compiled by the SAM environment's Python 3.13 (the runtime's minor version), hash-
# based so that zip timestamps do not matter. Saves the layer's compile at every cold start.
# Built again only when an input changed: every file under layers/ and functions/, the template
# and samconfig.toml (newer than the stamp), or the list of those files itself (one added or
# removed). A fresh clone has no stamp, so it builds.
SAM_INPUTS := template.yaml samconfig.toml \
  $(sort $(shell find layers functions -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null))
SAM_STAMP := .aws-sam/.built
.aws-sam/.inputs: FORCE
	@mkdir -p .aws-sam
	@echo '$(SAM_INPUTS)' | cmp -s - $@ || echo '$(SAM_INPUTS)' > $@
$(SAM_STAMP): $(SAM_INPUTS) .aws-sam/.inputs $(SAM_VENV)/.installed
	AWS_DEFAULT_REGION=ap-southeast-1 SAM_CLI_TELEMETRY=0 $(SAM) build --template-file template.yaml
	$(SAM_VENV)/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build
	touch $@
sam-build: $(SAM_STAMP) ## sam build (no Docker) into .aws-sam/ (when an input changed)

unit: $(VENV)/.installed ## unit tier only (pure, no AWS)
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed ## integration tier (handlers + moto)
	$(PY) -m pytest tests/integration

test-soak: $(VENV)/.installed ## the lifecycle model over 20,000 histories, the forgery search and the schema fuzz, longer (several minutes)
	PAYGATE_SOAK=1 $(PY) -m pytest tests/unit/test_lifecycle_model.py -k random_histories -s
	PAYGATE_SOAK=1 $(PY) -m pytest tests/integration/test_forgery_search.py
	PAYGATE_SOAK=1 $(PY) -m pytest tests/e2e/test_api_schema.py
	cat .paygate/forgery-search-pages.json .paygate/forgery-search-paypro.json

# The 1,000-payment backlog on the local runtime (tens of minutes on 2 cores: outside make test).
test-backlog: $(VENV)/.installed ## 1,000 waiting payins on the local runtime, settled on the simulated clock (tens of minutes)
	$(PY) -m pytest tests/backlog -p no:cacheprovider

# A sale day on the local runtime: 5,000 payments over the HTTP API, the local AWS process's
# memory measured (fails past tools/soak_local.py's bound); the summary feeds bench/cost.py.
soak-local: $(VENV)/.installed ## 5,000 payments through the local runtime, its AWS process's memory measured (tens of minutes)
	$(PY) -m tools.soak_local
	$(PY) -m bench.cost

e2e: $(VENV)/.installed ## e2e tier (the local runtime over HTTP)
	$(PY) -m pytest tests/e2e

# What Lambda provides and nothing else (uv.lock's group lambda), compiled as the runtime's
# boto3 and the public Powertools layer are: the benchmarks' clean environment.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(BENCH_VENV) $(UV) sync --frozen --no-default-groups --group lambda --compile-bytecode
	touch $@

bench: $(VENV)/.installed $(BENCH_VENV)/.installed sam-build ## benchmarks: writes bench/results/latest.{json,md} and docs/performance.md
	$(PY) -m bench.run

redrive: $(VENV)/.run-installed ## publish the status events parked in the local runtime's DLQ (make run must be running)
	PYTHONPATH=layers/core $(PY) -m ops.redrive --local

# The docs site from docs/ (mkdocs-material, uv.lock's docs group): --strict fails on any warning,
# a page missing from mkdocs.yml's nav or a broken link included; nothing is fetched.
# NO_MKDOCS_2_WARNING silences mkdocs-material's banner about its successor.
DOCS_SITE := site
docs: $(VENV)/.installed ## build the docs site into site/ (open site/index.html)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir $(DOCS_SITE)
	@echo "docs: file://$(abspath $(DOCS_SITE))/index.html"
docs-serve: $(VENV)/.installed ## serve the docs on 127.0.0.1:8000, rebuilt on every edit (with search)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict --dev-addr 127.0.0.1:8000

openapi: $(VENV)/.installed ## regenerate docs/openapi.json from the handlers' models
	$(PY) -m tools.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

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
	rm -rf .aws-sam .paygate $(DOCS_SITE)
