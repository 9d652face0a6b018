# The developer's interface to the workspace: `make help` lists the targets.
UV ?= uv
RUN := $(UV) run --all-packages --locked
CORE := packages/beeflow-websocket-core
DJANGO := packages/beeflow-websocket-django
FASTAPI := packages/beeflow-websocket-fastapi
FLASK := packages/beeflow-websocket-flask
CLIENT := packages/beeflow-websocket-client
TYPESCRIPT := clients/typescript
PYTEST := $(RUN) pytest

.DEFAULT_GOAL := help
.PHONY: help sync browser typescript viewer lock demo bench bench-quick pressure guardrails resume profile test test-core test-django test-fastapi test-flask test-client \
	test-typescript test-integration test-docs test-bench mypy mypy-core mypy-django mypy-fastapi mypy-flask mypy-client mypy-examples \
	lint format build clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

sync: ## Install every package of the workspace and the dev tools from uv.lock
	$(UV) sync --all-packages --locked

browser: ## Install the tests' npm packages: the browser tests' (tests-integration/browser) and AsyncAPI's validators (tests-integration/asyncapi)
	cd tests-integration/browser && npm ci --no-audit --no-fund
	cd tests-integration/asyncapi && npm ci --no-audit --no-fund

typescript: ## Install the TypeScript client's npm packages and build it (clients/typescript/dist), which the client tests drive
	cd $(TYPESCRIPT) && npm ci --no-audit --no-fund && npm run build

viewer: ## Copy the pinned AsyncAPI web component into the core package (needs npm; see packages/beeflow-websocket-core/viewer)
	$(RUN) python $(CORE)/viewer/vendor.py

lock: ## Update uv.lock after changing a pyproject.toml
	$(UV) lock

demo: typescript ## Serve the demo application on http://127.0.0.1:8000/ (FastAPI, in memory; the page uses the TypeScript client)
	$(RUN) uvicorn demo.app:app --app-dir examples --host 127.0.0.1 --port 8000

bench: ## Benchmark the core, every adapter, its framework and its peers (docs/benchmarks/results.md), then the guardrails
	$(RUN) --group bench python bench/run.py
	$(RUN) --group bench python bench/guardrails.py
	$(RUN) --group bench python bench/resume.py

bench-quick: ## A short benchmark run, about a minute (docs/benchmarks/results-quick.md)
	$(RUN) --group bench python bench/run.py --quick

resume: ## Two processes per adapter on one Redis: 200 missed events resumed, 1,000 random disconnects, history memory and CPU (docs/benchmarks/resume.md)
	$(RUN) --group bench python bench/resume.py

guardrails: ## Two processes per adapter on one Redis: kick latency, a neighbour's latency under a flood, a user's limit (docs/benchmarks/guardrails.md)
	$(RUN) --group bench python bench/guardrails.py

pressure: ## Two processes per adapter on one Redis, 1,000 readers, some slow or stalled: what each got (bench/pressure.py)
	$(RUN) --group bench python bench/pressure.py

CONTENDER ?= FastAPI / uvicorn: beeflow
profile: ## Sample one contender's server under load with py-spy (CONTENDER="Flask / gunicorn gthread: beeflow")
	$(RUN) --group bench python bench/hotpath.py "$(CONTENDER)"

test: test-core test-django test-fastapi test-flask test-client test-typescript test-integration test-docs test-bench ## Run every test suite

test-core: ## Test the core, with branch coverage (fails under 95%)
	$(PYTEST) $(CORE)/tests --cov=beeflow_websocket.core --cov-branch --cov-report=term-missing --cov-fail-under=95

test-django: ## Test the Django Channels adapter
	$(PYTEST) $(DJANGO)/tests

test-fastapi: ## Test the FastAPI adapter
	$(PYTEST) $(FASTAPI)/tests

test-flask: ## Test the Flask adapter
	$(PYTEST) $(FLASK)/tests

test-client: ## Test the Python client, with branch coverage (fails under 90%)
	$(PYTEST) $(CLIENT)/tests --cov=beeflow_websocket.client --cov-branch --cov-report=term-missing --cov-fail-under=90

test-typescript: ## Type-check (tsc --strict) and test the TypeScript client, its type generator, its compile-time errors and the docs' TypeScript examples
	cd $(TYPESCRIPT) && npm test

test-integration: ## Build the distributions and run the tests that start real servers (both clients against each adapter too)
	$(PYTEST) tests-integration

test-docs: ## Run every complete Python example of README.md and docs/, type-check them, check every link
	$(PYTEST) tests-docs

test-bench: ## Test the benchmark's verdicts (not the benchmarks themselves)
	$(PYTEST) bench/tests

mypy: mypy-core mypy-django mypy-fastapi mypy-flask mypy-client mypy-examples ## Type-check every package and the demo with mypy --strict

mypy-core: ## Type-check the core and its tests
	$(RUN) mypy $(CORE)/src $(CORE)/tests

mypy-django: ## Type-check the Django adapter and its tests
	$(RUN) mypy $(DJANGO)/src $(DJANGO)/tests

mypy-fastapi: ## Type-check the FastAPI adapter and its tests
	$(RUN) mypy $(FASTAPI)/src $(FASTAPI)/tests

mypy-flask: ## Type-check the Flask adapter and its tests
	$(RUN) mypy $(FLASK)/src $(FLASK)/tests

mypy-client: ## Type-check the Python client and its tests
	$(RUN) mypy $(CLIENT)/src $(CLIENT)/tests

mypy-examples: ## Type-check the demo (examples/demo)
	$(RUN) mypy examples/demo

lint: ## Check style and formatting with ruff
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: ## Fix what ruff can fix, and format
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

build: ## Build the six wheels and sdists into dist/
	rm -rf dist
	$(UV) build --all-packages --out-dir dist

clean: ## Remove build output and caches
	rm -rf dist .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
