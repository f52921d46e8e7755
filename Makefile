# The course in two commands:  make all  (set-up, data, every lesson, reports)  and  make test.
# Knobs: make all PROFILE=smoke|full DATASET=auto|sample|bsds500|folder:PATH DATA_DIR=path/to/bsds500

SHELL := /bin/bash
.DEFAULT_GOAL := help

PROFILE  ?= full
DATASET  ?= auto
DATA_DIR ?=

VENV      := .venv
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
REPORTS   := $(patsubst notebooks/%,reports/%,$(NOTEBOOKS))
DEPS_CHECK := import colorize, tensorflow, keras, skimage, sklearn, pandas, pooch, papermill, nbval, nbconvert, ipykernel

# Which Python: an existing .venv, else the running interpreter if it already has everything
# (e.g. the conda environment of environment.yml), else a .venv created once below.
SYSTEM_PYTHON := $(shell command -v python3 || command -v python)
ifneq ($(wildcard $(VENV)/bin/python),)
  PY := $(VENV)/bin/python
else ifeq ($(shell $(SYSTEM_PYTHON) -c "$(DEPS_CHECK)" >/dev/null 2>&1 && echo ok),ok)
  PY := $(SYSTEM_PYTHON)
else
  PY := $(VENV)/bin/python
endif
# Recipes find jupyter, papermill and the kernel in the same environment as $(PY).
export PATH := $(abspath $(dir $(PY))):$(PATH)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONWARNINGS ?= ignore::DeprecationWarning
# The lessons' kernel keeps native libraries' log lines out of the reports (see its config file).
LESSON_KERNEL_ENV := IPYTHONDIR=$(CURDIR)/notebooks/.ipython

.PHONY: help setup data notebooks reports all test unit-test notebook-test browser lab clean bench serve
help:
	@echo "make all    set up if needed, get data, run every lesson, write reports/  (PROFILE=$(PROFILE) DATASET=$(DATASET))"
	@echo "make test   set up if needed, unit tests + every notebook under the smoke profile (nbval)"
	@echo "make lab    open the lessons in JupyterLab"
	@echo "make serve  the web page and HTTP API on http://127.0.0.1:8000/ (colorize serve)"
	@echo "make bench  training speed against this CPU's matmul peak in float32 and bfloat16, whether bfloat16 changes what the U-Net learns, and a 12 MP photo through colorize (reports/bench/)"
	@echo "make clean  remove built HTML reports and caches (keeps data/, models/ and reports/*.ipynb)"

setup: $(PY)
$(VENV)/bin/python:
	@echo "Creating $(VENV) and installing the course (once; several minutes for TensorFlow)..."
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	@touch $(VENV)/.installed
# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	@touch $@
ifeq ($(PY),$(VENV)/bin/python)
setup: $(VENV)/.installed
endif

data: setup
	$(PY) -m colorize.data "$(DATASET)" --data-dir "$(DATA_DIR)" --profile "$(PROFILE)"

# Every lesson through papermill. A failing cell stops make with an error, and the executed
# notebook stays in reports/ (and as HTML) with the error visible.
notebooks: data
	@for notebook in $(NOTEBOOKS); do \
	  report=reports/$$(basename $$notebook); \
	  echo "== $$notebook -> $$report"; \
	  $(LESSON_KERNEL_ENV) $(PY) -m papermill "$$notebook" "$$report" --progress-bar \
	    -r PROFILE "$(PROFILE)" -r DATASET "$(DATASET)" -r DATA_DIR "$(DATA_DIR)"; status=$$?; \
	  $(PY) -m jupyter nbconvert --to html --log-level WARN "$$report"; \
	  if [ $$status -ne 0 ]; then echo "FAILED: $$notebook (see $$report)"; exit $$status; fi; \
	done

reports: setup
	$(PY) -c "from colorize.reporting import main; main()"

all: notebooks reports
	@echo "Open reports/index.html (or reports/README.md) to read the course."

# The unit tests and the notebook tests run side by side (two cores; neither fills both alone),
# each one's output printed in one piece when it ends.
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target unit-test notebook-test

unit-test: setup browser
	$(PY) -m pytest tests -q

# The web page's test drives Debian's Chromium headless through Playwright (Playwright's own
# browser download is not reachable offline). Installed once, where this user may install
# packages; elsewhere that one test is skipped and says how to get it.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser test (once, about a minute)..."; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	      || echo "could not install chromium: the browser test will be skipped"; \
	  else \
	    echo "no $(CHROMIUM): the browser test will be skipped (sudo apt-get install chromium to run it)"; \
	  fi; \
	fi

# nbval cannot pass papermill parameters: the smoke profile is forced through the environment.
# Everything the lessons write (trained runs, caches, figures, summaries) goes to a scratch course
# folder (COLORIZE_HOME), so a test never touches this checkout's models/, data/ or reports/.
CHECKOUT_STATE = find models data reports -printf '%p %s %T@\n' 2>/dev/null | sort | md5sum
notebook-test: setup
	before=$$($(CHECKOUT_STATE)); scratch=$$(mktemp -d) && \
	  $(LESSON_KERNEL_ENV) COLORIZE_FORCE_PROFILE=smoke COLORIZE_HOME=$$scratch COLORIZE_REPORTS_DIR=$$scratch/reports \
	  $(PY) -m pytest --nbval-lax --nbval-current-env -q -p no:cacheprovider notebooks/; \
	  status=$$?; rm -rf $$scratch; \
	  if [ "$$before" != "$$($(CHECKOUT_STATE))" ]; then echo "FAILED: the notebook tests wrote into models/, data/ or reports/"; exit 1; fi; \
	  exit $$status

lab: setup
	$(PY) -m jupyter lab notebooks/

serve: setup
	$(PY) -m colorize.cli serve

bench: setup
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_precision.py
	$(PY) benchmarks/bench_colorize.py
	$(PY) benchmarks/bench_serve.py

clean:
	rm -f reports/*.html
	rm -rf .pytest_cache src/*.egg-info
	find . -name __pycache__ -type d -prune -not -path "./$(VENV)/*" -exec rm -rf {} +
