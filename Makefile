# npsloop developer interface. Everything installs itself: a fresh machine needs only Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
REGION ?= eu-west-1
PIP := --disable-pip-version-check --no-input -q

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint fmt validate build bench local unit integration e2e lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP) -r requirements-dev.lock
	$(BIN)/pip install $(PIP) --no-deps -e .
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.lock
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install $(PIP) -r requirements-sam.lock
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP) -r requirements-checkov.lock
	@touch $@

/usr/bin/chromium:
	@echo "installing Debian's chromium for the browser tests"
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	 else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

setup: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed /usr/bin/chromium ## Install everything (venvs, sam, checkov, chromium)

demo: $(VENV)/.installed ## Run the feedback loop on the local stack and print a summary
	$(BIN)/python -m npsloop_local.demo $(DEMO_ARGS)

local: $(VENV)/.installed ## Start the local stack and keep it running (DEMO=1: on the data make demo saved)
	$(BIN)/python -m npsloop_local $(if $(DEMO),--demo-data)

test: lint validate build $(VENV)/.installed /usr/bin/chromium ## Every check and every test tier
	$(BIN)/pytest -n auto --dist loadfile
	$(BIN)/python tools/iam_report.py template.yaml

unit: $(VENV)/.installed ## Unit tests only
	$(BIN)/pytest tests/unit

integration: $(VENV)/.installed ## Integration tests (moto) only
	$(BIN)/pytest tests/integration

e2e: $(VENV)/.installed /usr/bin/chromium ## Local-stack and browser tests only
	$(BIN)/pytest tests/e2e

lint: $(VENV)/.installed ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.installed ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## sam validate --lint, cfn-lint, cfn-lint and checkov of the translated template, IAM report
	$(SAM) validate --lint --region $(REGION) --template template.yaml
	$(BIN)/cfn-lint template.yaml
	$(SAM_VENV)/bin/python tools/check_translated_template.py template.yaml --output .aws-sam/translated-template.json
	$(CHECKOV_VENV)/bin/python tools/checkov_scan.py .aws-sam/translated-template.json
	$(BIN)/python tools/iam_report.py template.yaml

build: $(SAM_VENV)/.installed ## sam build (no container)
	$(SAM) build --template template.yaml --region $(REGION) --parallel --cached

bench: $(VENV)/.installed ## Print cold-start, API-call, throughput and dashboard-view figures
	$(BIN)/python benchmarks/run.py

lock: ## Re-pin the three environments from their current contents
	$(BIN)/pip freeze --exclude-editable | sed '1i # Fully pinned development environment (pip freeze). Regenerate with `make lock`.' > requirements-dev.lock
	$(SAM_VENV)/bin/pip freeze | sed '1i # aws-sam-cli in its own virtualenv. Regenerate with `make lock`.' > requirements-sam.lock
	$(CHECKOV_VENV)/bin/pip freeze | sed '1i # checkov in its own virtualenv (make validate scans the translated template). Regenerate with `make lock`.' > requirements-checkov.lock

clean: ## Remove build output and the local stack's files
	rm -rf .aws-sam .local build *.egg-info
