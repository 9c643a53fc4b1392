# Every target creates and uses the project's own virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test lint demo bench protos clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .

demo: $(STAMP)
	$(PY) benchmarks/demo.py

bench: $(STAMP)
	$(PY) -m benchmarks.run

# Regenerates tfmini/protobuf/*_pb2.py from the .proto sources with the pinned generator.
protos: $(STAMP)
	$(PY) -m pip install --quiet 'grpcio-tools==1.75.1'
	$(PY) tools/gen_protos.py

clean:
	rm -rf $(VENV) build
