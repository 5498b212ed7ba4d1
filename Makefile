# Neural Networks: From Perceptrons to Backpropagation
# `make lab` and `make test` work on a fresh machine with Python 3.10+:
# both create .venv and install the course into it first.

PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
# make hub's environment: every account's server runs from it, so it is built from a Python
# that every account may run (Debian's; a pyenv in /root is root's alone).
HUB_PYTHON ?= /usr/bin/python3
HUB_VENV   := hub/venv
HUB_STAMP  := $(HUB_VENV)/.installed
# make hub HUB_ARGS="--dir /srv/nn-course-hub --port 8000 --students ann,bob"
HUB_ARGS ?=
# The exact versions every install uses (make lock rewrites it). Resolved for one Python
# (its "# python X.Y" line); on another the install goes unpinned, with a warning.
# make lab CONSTRAINTS= installs without it.
CONSTRAINTS ?= constraints.txt
# Extra flags: make lab LAB_ARGS="--no-browser --port=8899"; make test PYTEST_ARGS="-m 'not slow'"
LAB_ARGS ?=
PYTEST_ARGS ?=

# Jupyter refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# Open notebooks/ in the file browser once it exists.
DEFAULT_URL := $(if $(wildcard notebooks),--LabApp.default_url=/lab/tree/notebooks)

.PHONY: help lab test lock release solutions clean sandbox browser postgres bench bench-torch \
        hub hub-stop hub-install

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# $(call make_venv,VENV,PYTHON): the recipe that creates VENV with PYTHON once and installs the
# course into it, pinned by the constraints (unpinned, with a warning, on another Python).
define make_venv
	@test -x $(1)/bin/python || { \
	  $(2) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	    echo "error: this course needs Python 3.10 or newer; '$(2)' is $$($(2) --version 2>&1)." >&2; \
	    echo "       Run with another interpreter, e.g. make PYTHON=python3.11" >&2; exit 1; }; \
	  echo "Creating $(1) with $$($(2) --version)"; \
	  $(2) -m venv $(1); }
	@echo "Installing the course into $(1) (the first time takes a few minutes)"
	@pins="$(if $(CONSTRAINTS),-c $(CONSTRAINTS))"; \
	if [ -n "$$pins" ]; then \
	  locked=$$(sed -n 's/^# python \([0-9.]*\).*/\1/p' $(CONSTRAINTS)); \
	  have=$$($(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  if [ "$$locked" != "$$have" ]; then \
	    echo "warning: $(CONSTRAINTS) pins versions for Python $$locked, this is $$have:" >&2; \
	    echo "         installing the newest versions instead (make lock pins them for it)." >&2; \
	    pins=; fi; \
	fi; \
	echo "$(1)/bin/python -m pip install --quiet $${pins:+$$pins }-e '.[test]'"; \
	$(1)/bin/python -m pip install --quiet $$pins -e '.[test]'
	touch $@
endef

# Create the venv once; reinstall only when pyproject.toml or the constraints are newer
# than the stamp.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(call make_venv,$(VENV),$(PYTHON))

# Re-resolve the newest versions that pyproject.toml allows, in a scratch venv (the course's
# own .venv is left alone), and rewrite the constraints; the next make lab or make test
# installs them. Review the diff and commit it.
# It resolves with make hub's Python when there is one: Debian's 3.11.2 is older than most
# (a package may ask for 3.11.5, say), and what installs there installs on any later 3.11.
LOCK_PYTHON ?= $(if $(wildcard $(HUB_PYTHON)),$(HUB_PYTHON),$(PYTHON))
lock:  ## re-resolve every version in a scratch venv and rewrite constraints.txt
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	echo "Resolving in a scratch venv with $$($(LOCK_PYTHON) --version)" && \
	$(LOCK_PYTHON) -m venv "$$scratch/venv" && \
	"$$scratch/venv/bin/python" -m pip install --quiet -e '.[test]' && \
	{ echo "# Exact versions installed by make lab and make test:"; \
	  echo "#   pip install -c constraints.txt -e '.[test]'"; \
	  echo "# Written by make lock (pip freeze of a scratch venv); environment.yml pins the"; \
	  echo "# direct dependencies to the same versions (tests/test_setup.py checks)."; \
	  "$$scratch/venv/bin/python" -c 'import platform, sys; print("# python %d.%d" % sys.version_info[:2], "on", platform.system(), platform.machine())'; \
	  "$$scratch/venv/bin/python" -m pip freeze --exclude-editable; } > constraints.txt.new && \
	mv constraints.txt.new constraints.txt && \
	awk -F'==' '$(PIN_CONDA)' constraints.txt environment.yml > environment.yml.new && \
	mv environment.yml.new environment.yml && \
	echo "Wrote constraints.txt ($$(grep -c '==' constraints.txt) packages) and environment.yml's pins"

# awk, reading constraints.txt then environment.yml: pin each "  - name..." line of a locked
# package to the locked version (names compared as pip does: case and - or _ alike).
PIN_CONDA = NR == FNR { if (NF == 2) { key = tolower($$1); gsub(/_/, "-", key); pin[key] = $$2 }; next } \
  match($$0, /^  - [A-Za-z0-9_.-]+/) { name = substr($$0, 5, RLENGTH - 4); key = tolower(name); \
    gsub(/_/, "-", key); if (key in pin) { print "  - " name "==" pin[key]; next } } \
  { print }

# Students see Validate, not nbgrader's instructor tools: lab-config/ disables the formgrader,
# create-assignment, course-list and assignment-list plugins (no course here) and serves
# Validate through autograder.validate, whose dialog leaves the test code out; for this command
# only (JUPYTER_CONFIG_PATH comes first and adds to the user's own config).
# Instructors open the full interface with a plain `jupyter lab` in their course directory.
lab: $(STAMP)  ## open JupyterLab on the course (the student's view)
	JUPYTER_CONFIG_PATH="$(CURDIR)/lab-config$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(DEFAULT_URL) $(ALLOW_ROOT) $(LAB_ARGS)

# $(call apt_install,PACKAGES,WHAT FOR,WITHOUT IT): the rest of a recipe line that follows a
# check that succeeds when the tool is there. On Debian and Ubuntu, as root, apt-get
# installs PACKAGES; elsewhere it says what is missing and how to install it.
apt_install = { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing $(1) ($(2)) with apt-get"; \
	    apt-get install -y -qq $(1) >/dev/null || \
	      { apt-get update -qq && apt-get install -y -qq $(1) >/dev/null; }; \
	  else \
	    echo "warning: $(firstword $(1)) is missing; $(3)." >&2; \
	    echo "         Install it as root: apt-get install $(1)" >&2; \
	  fi; }

# Grading runs student code inside bubblewrap (see README, "The sandbox").
sandbox:  ## install bubblewrap, the grading sandbox, if it is missing
	@command -v bwrap >/dev/null && command -v setpriv >/dev/null || \
	  $(call apt_install,bubblewrap util-linux,the grading sandbox,grading will run without the sandbox)

# The browser test (tests/test_browser.py) drives Debian's chromium through Playwright's
# executable_path; nothing downloads a browser of its own (never `playwright install`).
browser:  ## install chromium, the browser test's browser, if it is missing
	@command -v chromium >/dev/null || \
	  $(call apt_install,chromium,for the browser test,the browser test will be skipped)

# The cluster tests grade into a PostgreSQL gradebook: tests/postgres.py starts a throw-away
# server of its own from Debian's binaries (a temporary data directory, loopback only), so
# the package's own server need not run.
postgres:  ## install PostgreSQL, for the cluster tests' gradebook, if it is missing
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  $(call apt_install,postgresql,the cluster tests' gradebook,the cluster tests will be skipped)

# A class on a real JupyterHub on this machine (README, "Running a class on JupyterHub"): its
# own venv, JupyterHub's proxy from npm (hub/package-lock.json) with Debian's node, then
# python -m autograder hub start, as root. Loopback only; make hub-stop removes all it made.
$(HUB_STAMP): pyproject.toml $(CONSTRAINTS)
	$(call make_venv,$(HUB_VENV),$(HUB_PYTHON))

hub/node_modules/.installed: hub/package.json hub/package-lock.json
	@command -v npm >/dev/null || \
	  $(call apt_install,nodejs npm,JupyterHub's proxy,make hub cannot start a hub)
	npm ci --prefix hub --no-fund --no-audit --loglevel=error
	touch $@

hub-install: $(HUB_STAMP) hub/node_modules/.installed  ## install make hub's venv and proxy

hub: hub-install  ## start a class on JupyterHub on this machine (as root, loopback only)
	$(HUB_VENV)/bin/python -m autograder hub start $(HUB_ARGS)

hub-stop:  ## stop make hub's JupyterHub and remove the accounts and folders it made
	$(HUB_VENV)/bin/python -m autograder hub stop $(HUB_ARGS)

test: $(STAMP) sandbox browser postgres hub-install  ## lint, then run the whole test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Not part of make test (a smoke test runs each benchmark on tiny sizes): several minutes.
bench: $(STAMP) sandbox  ## run every benchmark side by side, print one table, write bench/results.md
	$(VENV)/bin/python bench/run.py

# PyTorch is optional: the training race skips it, with a message, until this has run.
TORCH ?= torch==2.13.0
bench-torch: $(STAMP)  ## install PyTorch (the "bench" extra, a CPU build) to race it in make bench
	$(VENV)/bin/python -m pip install --quiet -e '.[bench]' '$(TORCH)'

release: $(STAMP)  ## regenerate the student copies from solutions/
	$(VENV)/bin/python -m autograder release

solutions: $(STAMP)  ## re-run the master notebooks in solutions/, save their outputs, release
	$(VENV)/bin/python -m autograder execute
	$(VENV)/bin/python -m autograder release

clean:  ## remove caches and build leftovers (keeps .venv)
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis build *.egg-info
