# The two commands of the README: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?= -n auto
# The product's apps: mypy must be clean on them (demo/ is not the product).
APPS := xining_issues org notifications cases topics stats

.PHONY: run test setup migrate seed lint format check-migrations clean help screenshots schema

help:
	@echo "make run    - set up and start web + worker + beat on http://127.0.0.1:$(PORT)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make screenshots - every page at 360/1280 px in zh-hans and en, into var/screenshots/"
	@echo "make lint   - ruff, the apps' one-way doors (lint-imports), mypy"
	@echo "make schema - regenerate docs/api/openapi.yaml after an intended API change"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Only the vendor files the pages load reach static/ (scripts/copy-vendor.mjs lists them); cheap
# enough to redo on every setup, so an edited list never leaves a stale copy behind.
setup: $(VENV)/.installed node_modules/.installed
	npm run --silent vendor

migrate: setup
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --cases 3000 --if-empty --live-case
	$(PY) manage.py train_router --if-missing --hand demo/router_handwritten.tsv

run: seed
	@echo "Starting on http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server, worker and beat)"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start -p $(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

screenshots: setup
	$(PY) -m pytest -m screenshots -q
	@echo "Screenshots in var/screenshots/"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy $(APPS)

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schema: setup
	$(PY) manage.py spectacular --file docs/api/openapi.yaml

check-migrations: setup
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules var
