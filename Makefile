# Everything a person does more than twice. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test store clean browser servers

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Aisle needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first, pinned to the CPU wheel: a torch pulled in by another package brings ~3 GB of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
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
