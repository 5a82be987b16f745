# RSS reintegration workspace.  `make` alone lists the targets.
# The environment is created on first use from requirements.lock (exact versions).

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
RSS     := $(BIN)/rss
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
SYNTH   := data/raw/synthetic
# Input of the pipeline: RSS_DATA=path make report (a file or folder); default data/raw.
export RSS_DATA

.PHONY: help setup browser lock data report test baseline lab bench validate verify clean

help: ## list the targets
	@echo "RSS reintegration workspace"
	@echo
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n", $$1, $$2}'
	@echo
	@echo "  variables: RSS_DATA=path (input file or folder), COUNTRY=ISO3 (one country), JOBS=n,"
	@echo "             REPORT_LANG=fr (also reports/report.fr.html, figures in French)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(STAMP) ## create .venv and install the locked environment (again only when the lock changed)

# Headless Chromium (Debian's package) for the browser test of the report (tests/test_browser.py).
# A file target: nothing happens when it is installed.  sudo only when not root.
CHROMIUM := /usr/bin/chromium
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

browser: $(CHROMIUM) ## install headless Chromium (Debian's package) for the browser test; nothing when it is there

lock: ## regenerate requirements.lock from pyproject.toml (latest releases, in a throw-away venv)
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check '.[dev]'
	{ echo "# Exact versions of every package, transitive ones included. Regenerate: make lock"; \
	  echo "# Python $$(.lock-venv/bin/python -c 'import platform; print(platform.python_version())')"; \
	  .lock-venv/bin/python -m pip freeze --disable-pip-version-check --exclude-editable \
	    | grep -v -i '^rss-workspace' | LC_ALL=C sort -f; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock
	rm -rf .lock-venv

data: $(STAMP) ## generate the synthetic default dataset into data/raw/synthetic (never beside real data)
	@if find data/raw -mindepth 1 -maxdepth 1 ! -name synthetic ! -name '.*' | grep -q .; then \
	  echo "data/raw holds other data: not generating synthetic data (it would mix with real files)"; \
	elif [ -f $(SYNTH)/truth.json ] && [ -z "$$(find src/helpers/synthetic -name '*.py' -newer $(SYNTH)/truth.json)" ]; then \
	  echo "synthetic data up to date in $(SYNTH)"; \
	else \
	  rm -rf $(SYNTH).tmp && $(RSS) synth -o $(SYNTH).tmp >/dev/null && rm -rf $(SYNTH) && mv $(SYNTH).tmp $(SYNTH) \
	    && echo "synthetic data written to $(SYNTH) (planted effects in $(SYNTH)/truth.json)"; \
	fi

report: $(STAMP) $(if $(RSS_DATA),,data) ## validate and score the data, run every notebook, build reports/report.html (REPORT_LANG=fr: and report.fr.html), check it
	$(RSS) run --jobs $(JOBS) $(if $(COUNTRY),--country $(COUNTRY)) $(if $(REPORT_LANG),--lang $(REPORT_LANG))
	$(RSS) check

NBVAL_ROOT := $(CURDIR)/.nbval
NBVAL := $(BIN)/python -m pytest -n $(JOBS) --dist loadscope -q --nbval-lax \
	--nbval-sanitize-with tests/nbval_sanitize.cfg -o addopts="-p no:cacheprovider"

test: $(STAMP) browser ## run the test suite: lint, unit, property, doctests, then nbval over every notebook
	$(BIN)/ruff check src tests notebooks
	$(BIN)/python -m helpers.nbcheck data >/dev/null
	$(BIN)/python -m pytest -n $(JOBS) -q
	RSS_ROOT=$(NBVAL_ROOT) $(NBVAL) notebooks/

baseline: $(STAMP) ## re-execute notebooks/*.ipynb in place on the nbval data: the committed nbval baselines
	$(BIN)/python -m helpers.nbcheck baseline

lab: $(STAMP) ## start JupyterLab on the notebooks with the project kernel
	$(BIN)/python -m ipykernel install --sys-prefix --name rss-workspace --display-name "RSS workspace (.venv)"
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: $(STAMP) ## measure speed and memory, write reports/bench/bench.json (BENCH="--only report --repeat 5")
	$(BIN)/python -m helpers.bench $(BENCH)

validate: $(STAMP) ## Monte-Carlo checks: the DiD CI and the economic-lead verdict (200 simulated datasets each; minutes)
	$(BIN)/python -m helpers.validate_mc --reps 200
	$(BIN)/python -m helpers.validate_lead --reps 200

verify: $(STAMP) $(if $(RSS_DATA),,data) ## build the report twice in clean folders and compare every output (minutes)
	$(BIN)/python -m helpers.verify --jobs $(JOBS)

clean: ## stop kept kernels, remove generated outputs (reports/, data/processed/); keeps data/raw and .venv
	@if [ -x $(RSS) ]; then $(RSS) stop; fi
	find reports -mindepth 1 ! -name .gitkeep -delete
	find data/processed -mindepth 1 ! -name .gitkeep -delete
