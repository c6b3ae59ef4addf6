# `make run`: set up, index content/ and serve (no root, no browser). `make test`: the same set-up, Chromium for the
# browser tests and PostgreSQL 15 (Debian's packages), then the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup browser run test eval bench bench-full lint

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "kb needs $(PYTHON) (Python 3.11): install it, or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Only the tests need Chromium (browser tests) and PostgreSQL 15 (the shared back end, started by the tests
# themselves in a temporary folder); installing them needs root (apt-get), serving never does.
browser:
	@command -v chromium >/dev/null 2>&1 && test -x /usr/lib/postgresql/15/bin/pg_ctl || { apt-get update -qq \
		&& apt-get install -y -qq --no-install-recommends chromium postgresql-15; }

# The demo's dates (overdue promises, deadlines within 30 days, later ones) are written for this day.
DEMO_TODAY ?= 2026-12-02

run: setup
	@$(BIN)/python -c "import socket; s = socket.socket(); s.bind(('$(HOST)', $(PORT)))" 2>/dev/null || { echo "port $(PORT) on $(HOST) is taken: stop what uses it, or run make run PORT=8001"; exit 1; }
	$(BIN)/kb ingest
	$(BIN)/kb ask "Какая у Ромашки отсрочка платежа?"
	KB_TODAY=$(DEMO_TODAY) $(BIN)/kb serve --host $(HOST) --port $(PORT)

test: setup browser
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check kb api tests bench
	$(BIN)/mypy kb api

EVAL_DIR ?= ../shared/eval
eval: setup
	$(BIN)/python bench/eval_all.py $(EVAL_DIR)

# Benchmarks print their figures (medians, ratios to the floor); they are never part of the tests.
bench: setup
	$(BIN)/python bench/ingest_speed.py --repeats 3 --incremental 10000
	$(BIN)/python bench/serve_latency.py --requests 300 --concurrent 16
	$(BIN)/python bench/scale.py --sizes 1000,10000,100000 --requests 200

bench-full: setup
	$(BIN)/python bench/ingest_speed.py --repeats 5 --incremental 10000 --batch-sweep
	$(BIN)/python bench/serve_latency.py --requests 600 --concurrent 16
	$(BIN)/python bench/scale.py --sizes 1000,10000,100000,300000 --requests 300
	$(BIN)/python bench/span_sweep.py $(EVAL_DIR) --per-set 1190
