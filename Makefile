# kratom-qa: `make chat` starts the web chat, `make test` runs the tests.
# Both create .venv and install what they need; a second run skips what is done.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KQA := $(VENV)/bin/kratom-qa
TORCH_VERSION ?= 2.13.0

.DEFAULT_GOAL := help
.PHONY: help chat test install install-dev chromium ingest router eval bench soak clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# torch first, pinned to the CPU build: a bare `torch` requirement would pull a multi-GB CUDA build.
$(VENV)/.torch: | $(PY)
	$(PY) -m pip install -q torch==$(TORCH_VERSION)
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

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

test: $(VENV)/.installed-dev chromium ## set up and run the whole test suite
	$(PY) -m pytest

ingest: $(VENV)/.installed ## (re)build the index from corpus/
	$(KQA) ingest

router: $(VENV)/.installed ## retrain the safety router's intent model (writes guardrails/model/, ~10 min)
	$(KQA) router train

eval: $(VENV)/.installed ## run the evaluation harness on the dev sets with the CI gate
	$(KQA) eval tests/data/devset_a.jsonl tests/data/devset_b.jsonl tests/data/holdout.jsonl \
	  tests/data/redteam.jsonl tests/data/retrieval_questions.jsonl --gate tests/data/eval/gate.yaml --out eval-reports

bench: $(VENV)/.installed-dev ## run the benchmarks (results under bench/results/)
	$(PY) bench/run.py

soak: $(VENV)/.installed-dev ## 10-minute soak test at 16 concurrent clients
	$(PY) bench/soak.py

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) .kqa
