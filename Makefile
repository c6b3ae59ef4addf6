# `make run`: set up, index content/ and serve. `make test`: set up and run the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test eval bench lint

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/kb ingest
	$(BIN)/kb ask "Какая у Ромашки отсрочка платежа?"
	$(BIN)/kb serve --host 127.0.0.1 --port 8000

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check kb api tests bench
	$(BIN)/mypy kb api

EVAL_DIR ?= ../shared/eval
eval: setup
	$(BIN)/python bench/eval_all.py $(EVAL_DIR)

bench: setup
	$(BIN)/python bench/serve_latency.py
