# The two set-up commands (README): `make run` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: what running needs (`make run`), then the dev extras on top (`make test`). The dev stamp
# keeps its old name: scripts wait for it as "fully installed".
RUN_STAMP := $(VENV)/.run-stamp
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Two workers on the 2-core machine; a file's tests stay on one worker (shared fixtures, ports, Redis DBs).
PYTEST_PARALLEL ?= -n 2 --dist loadfile

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export RAGAS_DO_NOT_TRACK := true

.PHONY: install install-run system-deps system-deps-run run test test-fast lint bench bench-setup clean

# `make run` installs only the runtime: no llama.cpp compile, CDK, moto, mypy or playwright.
install-run: system-deps-run $(RUN_STAMP)

install: system-deps $(STAMP)

system-deps-run:
	@bash infra/setup/system-deps.sh run

system-deps:
	@bash infra/setup/system-deps.sh

# The runtime from the lock (infra/setup/lock_run.py): exact pins, --no-deps, so pip resolves nothing;
# `pip check` then proves the set complete, and a stale lock falls back to the resolving install.
# torch is pinned and locked as 2.13.0, so pip takes the CPU wheel as it did before the lock.
# No --upgrade of pip: one more download for nothing.
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check
$(RUN_STAMP): pyproject.toml infra/setup/run.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	( $(PIP) --no-deps -r infra/setup/run.lock && $(PIP) --no-deps -e . && $(BIN)/python -m pip check >/dev/null ) \
	  || $(PIP) -e .
	@touch $(RUN_STAMP)

# The dev extras on top of the runtime: after `make run`, pip installs only these. llama.cpp compiles
# with portable x86-64 flags: a native build crashed on the first token on a VM whose CPU advertises
# instructions it does not run. A cached wheel that cannot generate (infra/setup/check_llama.py) is
# rebuilt once, uncached.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF
$(STAMP): $(RUN_STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) -e '.[dev]'
	$(BIN)/python infra/setup/check_llama.py \
	  || ( CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) --no-cache-dir --force-reinstall --no-deps llama-cpp-python==0.3.36 \
	       && $(BIN)/python infra/setup/check_llama.py )
	@touch $(STAMP)

run: install-run
	$(BIN)/repairdesk bootstrap
	$(BIN)/repairdesk serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude '*.md' .
	$(BIN)/mypy

# setup_time.py clones and installs a fresh copy (many minutes): its own target, `make bench-setup`.
bench: install
	for script in benchmarks/*.py; do [ "$$script" = benchmarks/setup_time.py ] || $(BIN)/python $$script || exit 1; done

bench-setup:
	$(PYTHON) benchmarks/setup_time.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
