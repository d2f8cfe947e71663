# Two entry points a newcomer needs: `make demo` (the main job) and `make test` (everything CI runs).
# Both create the virtualenv they need in .venv on first use. `make lint`: ruff, ruff format, mypy (strict on fleetc,
# relaxed on tests and bench: see pyproject.toml), import-linter.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint upstream bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "fleetc needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/fleetc validate examples/fleet --summary
	$(BIN)/fleetc build examples/fleet --out-dir out/example
	$(BIN)/fleetc simulate examples/fleet

lint: $(VENV)/.installed
	$(BIN)/ruff check fleetc tests bench
	$(BIN)/ruff format --check fleetc tests bench
	$(BIN)/mypy
	$(BIN)/mypy tests bench
	$(BIN)/lint-imports

# Builds kube-apiserver, etcd and CAPI's managers from the Go modules pinned in tests/upstream/pins.toml into
# ~/.cache/fleetc/upstream (a no-op when cached) and fetches the upstream CRDs; prints per-binary timings.
# Without Go it says so in one line and tests that need it are skipped (with CI set, both fail instead).
upstream: $(VENV)/.installed
	$(BIN)/python -m tests.upstream.build

test: upstream lint
	$(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/build_bench.py
	$(BIN)/python bench/diff_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
