# Two commands for a newcomer: `make dev` runs everything, `make test` checks everything.
# `make bench BENCH_ARGS='--n 20 --clients 10'` passes flags to the benchmark.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The OpenID Connect provider of the Google sign-in tests (oauth2-mock-server, npm); only `make test` needs it.
OIDC_STAMP := tests/oidc/node_modules/.package-lock.json
# playwright-core (npm), which drives Debian's chromium through the Temporal UI in tests/ui/; only `make test` needs it.
UI_STAMP := tests/ui/node_modules/.package-lock.json

.PHONY: dev demo test lint typecheck bench load install system-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

install: system-deps $(STAMP)

$(OIDC_STAMP): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/oidc --no-audit --no-fund; \
	else echo "npm not found: the Google sign-in tests will be skipped"; fi

$(UI_STAMP): tests/ui/package.json tests/ui/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/ui --no-audit --no-fund; \
	else echo "npm not found: the Temporal UI test will be skipped"; fi

dev: install
	$(BIN)/python -m devstack.launcher

demo: install
	$(BIN)/python -m cli.demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy .

test: lint typecheck $(OIDC_STAMP) $(UI_STAMP)
	@if [ "$$CI" = "true" ]; then $(BIN)/python -m tests.security.audit; fi
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# `make load LOAD_ARGS='--users 20 --duration 60'`: the load test of bench/load.py on the bench stack.
load: install
	$(BIN)/python -m bench.run --load-only $(LOAD_ARGS)

clean:
	rm -rf .dev .pytest_cache .mypy_cache .ruff_cache
