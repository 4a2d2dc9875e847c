# Everything a person does more than twice. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# llama-cpp-python compiles from source. It is built for x86-64-v3 (AVX2, FMA), not -march=native: a native
# build on a CPU that advertises AMX / AVX-512 died with "Illegal instruction" where the OS or another host
# lacks them, and pip's own wheel cache would hand that build to every later install. Built once per machine.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE   := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_WHEELS  ?= $(HOME)/.cache/aisle/wheels/llama-x86-64-v3

.PHONY: install run test store clean browser servers

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Aisle needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first, pinned to the CPU wheel: a torch pulled in by another package brings ~3 GB of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "Building llama-cpp-python $(LLAMA_VERSION) once for this machine (about 11 minutes on 2 cores)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip wheel --quiet --no-deps --no-cache-dir \
	    -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION); }
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

# The store, then its ranking model and the intent classifier (each trained once, skipped while a
# current one exists), so the first chat message does not wait for training.
store: install
	$(BIN)/aisle store init
	$(BIN)/aisle train --if-stale
	$(BIN)/aisle train-intents

# The demo store has no passwords: `make run` lets anyone sign in as a demo customer by email
# (AISLE_DEMO_SIGN_IN, demo only; off by default, and a shop keeps it off: see the README).
run: store
	@echo "Aisle's store is ready. Starting the shop assistant: open http://127.0.0.1:7860/ (Ctrl-C stops it)."
	AISLE_DEMO_SIGN_IN=$${AISLE_DEMO_SIGN_IN:-true} $(BIN)/aisle serve

# The browser test drives Debian's chromium through chromedriver; installed only when missing (CI runs as root).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	    fonts-noto-color-emoji fonts-wqy-microhei \
	  || echo "could not install chromium + chromium-driver: the browser test will be skipped"; \
	fi

# The scaled-out tests start their own PostgreSQL and Redis (eval/stack.py) from Debian's packages;
# installed only when missing. The tests run their own instances (initdb in a temp dir), whatever the packages start.
servers:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server \
	  || echo "could not install postgresql + redis-server: the PostgreSQL and replica tests will be skipped"; \
	fi

test: install browser servers
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
