# The README's commands. `make demo` and `make test` each set up ./.venv first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup setup-test lint format protos bench

demo: setup
	$(VENV)/bin/socius run examples/village.yaml

test: setup-test
	$(PY) -m pytest -q

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh test

lint: setup-test
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy world actors inference

format: setup-test
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

# Regenerate the committed protobuf modules (pinned grpcio-tools; tests/protos checks for drift).
protos: setup-test
	$(PY) -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. protos/*.proto

bench: setup
	$(PY) bench/world_throughput.py
