# medama_py: every task goes through this file. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8080
ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

LOCK_RUN := requirements/run.txt
LOCK_DEV := requirements/dev.txt
# Only the lock decides versions: every pin carries its hashes, and the project itself goes in
# without dependencies, built by the locked setuptools (no build isolation fetching its own).
INSTALL_LOCKED = $(PIP) install -q --require-hashes -r
INSTALL_PROJECT = $(PIP) install -q --no-deps --no-build-isolation -e .

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

.stamp-install: pyproject.toml $(LOCK_RUN) | $(VENV)/bin/activate
	@$(PYTHON) packaging/lock.py check
	$(INSTALL_LOCKED) $(LOCK_RUN)
	$(INSTALL_PROJECT)
	@touch $@

.stamp-dev: pyproject.toml $(LOCK_DEV) | $(VENV)/bin/activate
	@$(PYTHON) packaging/lock.py check
	$(INSTALL_LOCKED) $(LOCK_DEV)
	$(INSTALL_PROJECT)
	@touch .stamp-install $@

.PHONY: install
install: .stamp-install ## Create the virtualenv and install medama_py from requirements/run.txt

.PHONY: dev
dev: .stamp-dev ## Install medama_py with the test, lint and build tools from requirements/dev.txt

.PHONY: lock
lock: ## Recompile requirements/*.txt after a pyproject.toml change (keeps other pins), then install
	@test -x $(VENV)/bin/pip-compile || { $(MAKE) $(VENV)/bin/activate && $(INSTALL_LOCKED) $(LOCK_DEV); }
	$(PY) packaging/lock.py compile
	$(MAKE) dev

.PHONY: upgrade
upgrade: ## Move every pin in requirements/*.txt to the newest release, install, run the tests
	@test -x $(VENV)/bin/pip-compile || { $(MAKE) $(VENV)/bin/activate && $(INSTALL_LOCKED) $(LOCK_DEV); }
	$(PY) packaging/lock.py compile --upgrade
	$(MAKE) test

.PHONY: lock-check
lock-check: dev ## Fail when pyproject.toml and the lock disagree, or the virtualenv differs from the lock
	$(PYTHON) packaging/lock.py check
	$(PYTHON) packaging/lock.py installed $(PY) $(LOCK_DEV)

.PHONY: run
run: install dashboard-if-needed ## Start the server on ./me_meta.db and ./me_analytics.db (PORT=8080)
	$(VENV)/bin/medama start -port $(PORT) -logger pretty $(ARGS)

.PHONY: system-deps
system-deps: ## Install Debian's chromium, wrk and pebble (the ACME test CA) when missing (needs root)
	@if [ ! -x /usr/bin/chromium ] || ! command -v wrk >/dev/null || ! command -v pebble >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium wrk pebble >/dev/null; \
		else \
			echo "ERROR: install Debian's chromium, wrk and pebble: sudo apt-get install chromium wrk pebble" >&2; exit 1; \
		fi; \
	fi

.PHONY: test
test: dev system-deps dashboard-if-needed test-node-deps ## Install what tests need, then run every test
	$(PY) -m pytest -q $(ARGS)

.PHONY: test-node-deps
test-node-deps: ## Install the real @umami/node and @umami/api-client the tests drive (npm ci in their folders)
	cd tests/umami_node && npm ci --no-audit --no-fund --silent
	cd tests/umami/client && npm ci --no-audit --no-fund --silent

.PHONY: test-fast
test-fast: dev ## In-process tiers only (no subprocess, no browser), on every core, Hypothesis' "fast" profile
	$(PY) -m pytest -q -n auto --hypothesis-profile=fast -m "not e2e and not browser" $(ARGS)

.PHONY: test-e2e
test-e2e: dev ## Run the tests marked e2e, which start subprocesses (MEDAMA_BIN=dist/medama: on the binary)
	$(PY) -m pytest -q -m "e2e and not browser" $(ARGS)

.PHONY: snapshots
snapshots: dev ## Refresh the stats snapshot files (only for intended changes)
	$(PY) -m pytest -q tests/stats --snapshot-update

.PHONY: lint
lint: dev ## ruff check and format check; import-linter holds the layers (docs/architecture.md#layers); hadolint on the Dockerfile
	$(VENV)/bin/ruff check medama_py tests bench packaging scripts
	$(VENV)/bin/ruff format --check medama_py tests bench packaging scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile

.PHONY: fix
fix: dev ## ruff autofix and format
	$(VENV)/bin/ruff check --fix medama_py tests bench packaging scripts
	$(VENV)/bin/ruff format medama_py tests bench packaging scripts

.PHONY: type-check
type-check: dev ## mypy --strict
	$(VENV)/bin/mypy

.PHONY: openapi
openapi: install ## Regenerate openapi.yaml from the application, and the dashboard's API types from it
	$(PY) scripts/openapi.py > openapi.yaml
	cd dashboard && npm ci --no-audit --no-fund --silent && npm run --silent api-types

.PHONY: api-types-check
api-types-check: ## Fail when dashboard/src/api-types.ts differs from what openapi.yaml generates
	cd dashboard && npm ci --no-audit --no-fund --silent && npm run --silent check-api-types

.PHONY: check-all
check-all: lock-check lint type-check api-types-check test ## Everything CI checks

.PHONY: tracker
tracker: ## Build the four tracker variants into medama_py/static/scripts
	cd tracker && npm ci --no-audit --no-fund --silent && npm run --silent build

.PHONY: dashboard
dashboard: ## Build the dashboard into medama_py/static/dashboard
	cd dashboard && npm ci --no-audit --no-fund --silent && npm run --silent build

.PHONY: dashboard-if-needed
dashboard-if-needed:
	@if [ -f dashboard/package.json ] && [ ! -f medama_py/static/dashboard/index.html -o -n "$$(find dashboard/src dashboard/index.html dashboard/package.json -newer medama_py/static/dashboard/index.html 2>/dev/null | head -1)" ]; then \
		if command -v npm >/dev/null; then $(MAKE) dashboard; \
		else echo "warning: dashboard sources changed but npm is missing; serving the committed build" >&2; fi; \
	fi

.PHONY: hit
hit: ## Send a sample page view to a running server (HOST=example.com)
	curl -si -X POST "http://127.0.0.1:$(PORT)/api/event/hit" \
		-H 'Content-Type: text/plain' \
		-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' \
		-H 'Accept-Language: en-GB,en;q=0.9' \
		-d '{"b":"'$$RANDOM$$RANDOM'","e":"load","u":"https://$(or $(HOST),example.com)/","r":"","p":true,"q":true,"t":"Europe/London"}'

.PHONY: bench-ingest
bench-ingest: dev system-deps ## Ingestion benchmark with wrk against the real server
	$(PY) bench/ingest.py

.PHONY: bench-soak
bench-soak: dev system-deps ## Soak: wrk at 5,500 hits/s + dashboard queries for DURATION s (600), RSS every 5 s
	$(PY) bench/soak.py $(ARGS)

.PHONY: bench-recovery
bench-recovery: dev ## 12 heavy reports at once at a 32 MB DuckDB limit while rollups build and hits arrive (ARGS="--rounds 30")
	$(PY) bench/recovery.py $(ARGS)

.PHONY: bench-login
bench-login: dev ## Login storm: 200 bad logins from 20 clients (limit, memory, a real login meanwhile)
	$(PY) bench/login.py

.PHONY: bench-stats
bench-stats: dev ## Stats benchmark over a generated 10M-row analytics file (BASELINE=rev compares over HTTP)
	$(PY) bench/stats.py $(if $(BASELINE),--baseline $(BASELINE)) $(ARGS)

.PHONY: bench-data
bench-data: dev system-deps ## Export (Parquet, CSV) and import of the bench-stats file, backup under a wrk hit load (ROWS=10000000)
	$(PY) bench/data.py $(if $(ROWS),--rows $(ROWS)) $(ARGS)

.PHONY: bench-dashboard
bench-dashboard: dev ## The dashboard's first screen (6 requests at once) and other tabs at 10M rows (BASELINE=rev compares)
	$(PY) bench/stats_dashboard.py $(if $(BASELINE),--baseline $(BASELINE)) $(ARGS)

.PHONY: bench-umami
bench-umami: dev ## Umami read API against the Medama endpoints computing the same numbers, on the bench-stats file
	$(PY) bench/umami.py

.PHONY: binary
binary: dev dashboard-if-needed ## Build the one-file executable dist/medama with PyInstaller
	$(PY) packaging/build_binary.py

IMAGE ?= medama_py
DOCKER_ENGINE_MISSING = ! docker info >/dev/null 2>&1

.PHONY: docker
docker: ## Build the Docker image (IMAGE=medama_py; DOCKER_BUILDKIT=0 for the legacy builder)
	@if $(DOCKER_ENGINE_MISSING); then \
		echo "docker: SKIPPED, the image was not built: no docker engine answers \`docker info\`" >&2; exit 0; fi; \
	set -x; docker build --build-arg COMMIT="$$(git rev-parse --short HEAD 2>/dev/null || echo development)" -t $(IMAGE) .

.PHONY: docker-smoke
docker-smoke: docker ## Build, run, log in, send a hit, read it back, healthy, clean stop, data kept (needs docker)
	$(PYTHON) packaging/docker_smoke.py $(IMAGE)

.PHONY: bench-binary
bench-binary: ## Binary size, cold start and idle RSS of dist/medama
	$(PY) bench/binary.py

.PHONY: clean
clean: ## Remove the virtualenv, caches and build output
	rm -rf $(VENV) .stamp-* build dist .pytest_cache .mypy_cache .ruff_cache
