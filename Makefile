# Neural Networks: From Perceptrons to Backpropagation
# `make lab` and `make test` work on a fresh machine with Python 3.10+:
# both create .venv and install the course into it first.

PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
# Extra flags: make lab LAB_ARGS="--no-browser --port=8899"; make test PYTEST_ARGS="-m 'not slow'"
LAB_ARGS ?=
PYTEST_ARGS ?=

# Jupyter refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# Open notebooks/ in the file browser once it exists.
DEFAULT_URL := $(if $(wildcard notebooks),--LabApp.default_url=/lab/tree/notebooks)

.PHONY: help lab test release solutions clean sandbox browser

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# Create the venv once; reinstall only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || { \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	    echo "error: this course needs Python 3.10 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	    echo "       Run with another interpreter, e.g. make PYTHON=python3.11" >&2; exit 1; }; \
	  echo "Creating $(VENV) with $$($(PYTHON) --version)"; \
	  $(PYTHON) -m venv $(VENV); }
	@echo "Installing the course into $(VENV) (the first time takes a few minutes)"
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

lab: $(STAMP)  ## open JupyterLab on the course
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(DEFAULT_URL) $(ALLOW_ROOT) $(LAB_ARGS)

# Grading runs student code inside bubblewrap (see README, "The sandbox"). On Debian
# and Ubuntu, as root, install it when missing; elsewhere say how.
sandbox:  ## install bubblewrap, the grading sandbox, if it is missing
	@command -v bwrap >/dev/null && command -v setpriv >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing bubblewrap (the grading sandbox) with apt-get"; \
	    apt-get install -y -qq bubblewrap util-linux >/dev/null || \
	      { apt-get update -qq && apt-get install -y -qq bubblewrap util-linux >/dev/null; }; \
	  else \
	    echo "warning: bubblewrap is missing; grading will run without the sandbox." >&2; \
	    echo "         Install it as root: apt-get install bubblewrap" >&2; \
	  fi; }

# The browser test (tests/test_browser.py) drives Debian's chromium through Playwright's
# executable_path; nothing downloads a browser of its own (never `playwright install`).
# On Debian and Ubuntu, as root, install it when missing; elsewhere say how.
browser:  ## install chromium, the browser test's browser, if it is missing
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium (for the browser test) with apt-get"; \
	    apt-get install -y -qq chromium >/dev/null || \
	      { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	  else \
	    echo "warning: chromium is missing; the browser test will be skipped." >&2; \
	    echo "         Install it as root: apt-get install chromium" >&2; \
	  fi; }

test: $(STAMP) sandbox browser  ## lint, then run the whole test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

release: $(STAMP)  ## regenerate the student copies from solutions/
	$(VENV)/bin/python -m autograder release

solutions: $(STAMP)  ## re-run the master notebooks in solutions/ and save their outputs
	$(VENV)/bin/python -m autograder execute

clean:  ## remove caches and build leftovers (keeps .venv)
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis build *.egg-info
