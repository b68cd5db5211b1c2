# Two commands for a new user: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	WECHATY_LOG=error $(BIN)/mulin demo

test: $(STAMP)
	WECHATY_LOG=error $(BIN)/python -m pytest

bench: $(STAMP)
	WECHATY_LOG=error $(BIN)/mulin bench e2e
	$(BIN)/mulin bench classify

clean:
	rm -rf $(VENV) data .pytest_cache
