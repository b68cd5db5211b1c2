# Two commands for a new user: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	WECHATY_LOG=error $(BIN)/mulin demo

test: $(STAMP) browser
	WECHATY_LOG=error $(BIN)/python -m pytest

# The web console's browser tests drive Debian's Chromium (no browser download at run time) and need a CJK font.
# Installed with apt when missing and run as root (as CI is); otherwise those tests skip and say why.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ] && fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium and fonts-wqy-microhei for the browser tests (apt-get)"; \
	  (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei >/dev/null) \
	    || echo "apt-get failed: the browser tests will be skipped"; \
	else echo "no $(CHROMIUM) (or no CJK font) and not root: the browser tests will be skipped; to run them: apt-get install chromium fonts-wqy-microhei"; fi

bench: $(STAMP)
	WECHATY_LOG=error $(BIN)/mulin bench e2e
	$(BIN)/mulin bench classify

clean:
	rm -rf $(VENV) data .pytest_cache
