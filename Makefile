# Everything a person does more than twice. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON

.PHONY: install run test store clean browser

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Aisle needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first, pinned to the CPU wheel: a torch pulled in by another package brings ~3 GB of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	@# llama-cpp-python compiles llama.cpp. Its default -march=native build died with SIGILL on this machine
	@# kind as soon as a prompt of more than one token was read; an explicit AVX-512 build works. Built first,
	@# without pip's wheel cache (which may hold a native build), so the next line finds it installed.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir 'llama-cpp-python[server]==0.3.36'
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

store: install
	$(BIN)/aisle store init

run: store
	@echo "Aisle's store is ready. Starting the shop assistant: open http://127.0.0.1:7860/ (Ctrl-C stops it)."
	$(BIN)/aisle serve

# The browser test drives Debian's chromium through chromedriver; installed only when missing (CI runs as root).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	    fonts-noto-color-emoji fonts-wqy-microhei \
	  || echo "could not install chromium + chromium-driver: the browser test will be skipped"; \
	fi

test: install browser
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
