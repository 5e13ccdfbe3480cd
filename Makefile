# The README's commands. `make demo` and `make test` each set up ./.venv first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-fast setup setup-test lint format protos bench

# The checks every change must pass: lint, format, types, the layers and no import cycles.
CHECKS = $(PY) -m ruff check . && $(PY) -m ruff format --check . \
	&& $(PY) -m mypy world actors inference \
	&& $(VENV)/bin/lint-imports --no-cache && $(PY) scripts/check_cycles.py

demo: setup
	$(VENV)/bin/socius run examples/village.yaml

test: setup-test
	$(CHECKS)
	$(PY) -m pytest -q

# The quick part: no language model, no Ray, nothing slow (CONTRIBUTING.md).
test-fast: setup-test
	$(PY) -m pytest -q -m "not llm and not ray and not slow and not browser"

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh test

lint: setup-test
	$(CHECKS)

format: setup-test
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

# Regenerate the committed protobuf modules (pinned grpcio-tools; tests/protos checks for drift).
protos: setup-test
	$(PY) -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. protos/*.proto

bench: setup
	$(PY) bench/world_throughput.py
