# Everything a person does more than twice. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test store clean

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
	@echo "Aisle's store is ready. The chat UI is not built yet: this prints what the store holds."
	$(BIN)/aisle store info

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
