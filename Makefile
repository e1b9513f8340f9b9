# kratom-qa: `make chat` starts the web chat, `make test` runs the tests.
# Both create .venv and install what they need; a second run skips what is done.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KQA := $(VENV)/bin/kratom-qa
TORCH_VERSION ?= 2.13.0

.DEFAULT_GOAL := help
.PHONY: help chat test test-fast lint install install-dev lock chromium ingest router eval bench soak clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# torch first, pinned to the CPU build: a bare `torch` requirement would pull a multi-GB CUDA build.
$(VENV)/.torch: | $(PY)
	$(PY) -m pip install -q torch==$(TORCH_VERSION)
	@touch $@

# Everything else from the hashed locks (exact tested versions), then the project itself.
$(VENV)/.installed: pyproject.toml requirements/app.lock $(VENV)/.torch
	$(PY) -m pip install -q --require-hashes -r requirements/app.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.lock $(VENV)/.installed
	$(PY) -m pip install -q --require-hashes -r requirements/dev.lock
	@touch $@

# The locks leave torch out (the Makefile installs the CPU build first) and resolve against that
# CPU wheel's metadata, so no CUDA packages (nvidia-*, triton) get in.
TORCH_WHEELS ?= /opt/wheels
LOCK_OPTS = --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  --find-links $(TORCH_WHEELS) --override requirements/torch-cpu.txt --no-emit-package torch \
  --custom-compile-command "make lock"
lock: $(VENV)/.installed-dev ## rewrite requirements/*.lock from pyproject.toml (after changing a dependency)
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_OPTS) $(UPGRADE) -o requirements/app.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev $(LOCK_OPTS) $(UPGRADE) -o requirements/dev.lock

install: $(VENV)/.installed ## create .venv and install the app

install-dev: $(VENV)/.installed-dev ## create .venv and install the app + test tools

chromium: ## install Debian's chromium for the browser tests (needs root or sudo)
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	  echo "WARNING: cannot install chromium (not root, no sudo): browser tests will be skipped"; exit 0; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	  || echo "WARNING: apt-get install chromium failed: browser tests will be skipped (and fail in CI)"

chat: $(VENV)/.installed ## set up, build the index if missing, and start the web chat on http://127.0.0.1:7860
	$(KQA) serve

test: $(VENV)/.installed-dev chromium lint ## set up, lint, and run the whole test suite
	$(PY) -m pytest

lint: $(VENV)/.installed-dev ## ruff (lint + format check) and mypy, configured in pyproject.toml (about 1 min)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-fast: $(VENV)/.installed-dev ## the tests without the slow, browser and server marks (about 3-4 min)
	$(PY) -m pytest -m "not slow and not browser and not server"

ingest: $(VENV)/.installed ## (re)build the index from corpus/
	$(KQA) ingest

router: $(VENV)/.installed ## retrain the safety router's intent model (writes guardrails/model/, ~10 min)
	$(KQA) router train

eval: $(VENV)/.installed ## run the evaluation harness on the dev sets with the CI gate
	$(KQA) eval tests/data/devset_a.jsonl tests/data/devset_b.jsonl tests/data/holdout.jsonl \
	  tests/data/redteam.jsonl tests/data/retrieval_questions.jsonl --gate tests/data/eval/gate.yaml --out eval-reports
	$(KQA) eval tests/data/spanish_questions.jsonl --gate tests/data/eval/gate_spanish.yaml --out eval-reports
	$(KQA) eval tests/data/answers_independent.jsonl --gate tests/data/eval/gate_answers.yaml --out eval-reports
	$(KQA) eval tests/data/router_calibration.jsonl --gate tests/data/eval/gate_router.yaml --out eval-reports

bench: $(VENV)/.installed-dev ## run the benchmarks (results under bench/results/)
	$(PY) bench/run.py

soak: $(VENV)/.installed-dev ## 10-minute soak test at 16 concurrent clients
	$(PY) bench/soak.py

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) .kqa
