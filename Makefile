# Every target creates and uses the project's own virtual environment in .venv, and installs the system
# programs it needs (Graphviz's `dot`) when it can (root with apt-get); nothing has to be installed by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv system-deps test lint demo docs notebooks bench fuzz protos tf-env fixtures interop clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# matplotlib builds its font cache on first import and says so on stderr: do it now, not inside a
	@# notebook cell whose output nbval compares.
	$(PY) -c "import matplotlib.pyplot"
	@# The oldest protobuf runtime pyproject allows, kept apart: a test loads the generated modules on it.
	$(PY) -m pip install --quiet --no-deps --target $(VENV)/protobuf-min 'protobuf==6.31.1'
	touch $(STAMP)

# Graphviz renders graph pictures; tfmini works without it (and says how to get it), but the tests
# exercise both paths, so install it where we may.
system-deps:
	@if ! command -v dot >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Graphviz (dot) with apt-get"; \
			(apt-get install -y -qq graphviz >/dev/null 2>&1 || \
			 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1)) || \
			echo "warning: could not install Graphviz; graph pictures fall back to listings"; \
		else \
			echo "note: Graphviz's dot is not installed; install it (apt-get install graphviz) for graph pictures"; \
		fi; \
	fi
# Debian's chromium: the browser test opens the notebooks' HTML in it (tests/test_notebooks_browser.py,
# which fails saying how to get it when it is missing).
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Chromium with apt-get (for the browser test)"; \
			(apt-get install -y -qq chromium >/dev/null 2>&1 || \
			 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
			echo "warning: could not install chromium; tests/test_notebooks_browser.py will fail"; \
		else \
			echo "note: /usr/bin/chromium is missing; install it (apt-get install chromium) for the browser test"; \
		fi; \
	fi

# The session, op and program tests run once more on each in-process engine: serial (one thread) and
# parallel with every op eligible for the worker pool and no timed choice of the serial walk (so concurrent
# scheduling is exercised on tiny graphs).
ENGINE_TESTS := tests/client tests/ops tests/train tests/data tests/test_reference_page.py tests/test_tf1_idioms.py \
	tests/test_tf1_idioms_session.py tests/test_tf1_programs.py tests/test_tf1_programs_sequences.py \
	tests/reliability/test_concurrency.py tests/reliability/test_deadlines.py

test: $(STAMP) system-deps
	$(PY) -m ruff check .
	$(PY) -m pytest
	TFMINI_INTER_OP_THREADS=1 $(PY) -m pytest $(ENGINE_TESTS)
	TFMINI_INTER_OP_THREADS=2 TFMINI_PARALLEL_MIN_ELEMENTS=0 TFMINI_PARALLEL_TRIAL_RUNS=0 $(PY) -m pytest $(ENGINE_TESTS)

lint: $(STAMP)
	$(PY) -m ruff check .

# Executes the showcase notebook with a real kernel; prints where its HTML went (build/demo/).
demo: $(STAMP) system-deps
	$(PY) tools/run_demo.py

# The user guide (docs/*.md, with the supported-names table regenerated from the code) as HTML in build/docs/.
docs: $(STAMP)
	$(PY) tools/build_docs.py

# Re-executes every notebook in place after a deliberate change to what they show (nbval checks against them).
notebooks: $(STAMP) system-deps
	$(PY) tools/run_demo.py --save notebooks/*.ipynb

# The workloads against hand-written NumPy and, when a TensorFlow environment exists (TF_PYTHON, by default
# .tfenv), against TensorFlow in the same process; then per-run overhead, the parallel engine, convolutions.
bench: $(STAMP)
	$(PY) -m benchmarks.run $(if $(wildcard $(TF_PYTHON)),--tensorflow $(TF_PYTHON))
	$(PY) -m benchmarks.overhead
	$(PY) -m benchmarks.parallel --blas-threads 1
	$(PY) -m benchmarks.conv $(if $(wildcard $(TF_PYTHON)),--tensorflow $(TF_PYTHON))

# Long property-based fuzzing of feeds and GraphDefs (tests/reliability): fresh random examples, FUZZ_EXAMPLES
# per fuzz test (default 20000); the closing 'reliability tallies' give the counts of every outcome.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP)
	TFMINI_HYPOTHESIS_PROFILE=fuzz TFMINI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/reliability -k fuzz -rA

# Regenerates tfmini/protobuf/*_pb2.py from the .proto sources with the pinned generator.
protos: $(STAMP)
	$(PY) -m pip install --quiet 'grpcio-tools==1.75.1'
	$(PY) tools/gen_protos.py

# Real TensorFlow, only for proving parity: never a dependency of tfmini or of `make test`. It lives in its own
# environment (TF_PYTHON; by default .tfenv, which `make tf-env` creates with tensorflow-cpu, tf_keras for
# TF1's rnn cells, and tensorboard).
TF_PYTHON ?= .tfenv/bin/python
TF_RUN = CUDA_VISIBLE_DEVICES= TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 $(TF_PYTHON)
tf-env:
	$(PYTHON) -m venv .tfenv
	.tfenv/bin/python -m pip install --quiet --upgrade pip
	.tfenv/bin/python -m pip install --quiet tensorflow-cpu tf_keras tensorboard

# Re-records the TensorFlow fixtures the tests replay (tests/fixtures/tf/), one generator per family.
fixtures:
	@test -x $(TF_PYTHON) || { echo "no TensorFlow at $(TF_PYTHON): run 'make tf-env' or pass TF_PYTHON=..."; exit 2; }
	for gen in tools/tf_fixtures/gen_*.py; do echo "== $$gen"; $(TF_RUN) $$gen || exit 1; done

# Both directions live: for each tools/interop/<part>.py (not the shared _driver.py), TensorFlow writes and
# tfmini checks, then tfmini writes and TensorFlow checks.
interop: $(STAMP)
	@test -x $(TF_PYTHON) || { echo "no TensorFlow at $(TF_PYTHON): run 'make tf-env' or pass TF_PYTHON=..."; exit 2; }
	@set -e; for part in tools/interop/[!_]*.py; do \
		dir=$$(mktemp -d); echo "== $$part: TensorFlow -> tfmini"; \
		$(TF_RUN) $$part tf-write $$dir/tf; $(PY) $$part tfmini-check $$dir/tf; \
		echo "== $$part: tfmini -> TensorFlow"; \
		$(PY) $$part tfmini-write $$dir/tfmini; $(TF_RUN) $$part tf-check $$dir/tfmini; \
		rm -rf $$dir; \
	done; echo "interop: every part agrees both ways"

clean:
	rm -rf $(VENV) build
