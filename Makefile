# Two commands for a fresh machine: `make run` (the main job on the demo data) and `make test`.
# Each does its own set-up: uv (from PyPI if missing), the locked venv, the dbt manifest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export DAGSTER_HOME := $(CURDIR)/.dagster_home
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync
SOURCES := $(or $(CODI_SOURCES_DIR),data/sources)
PROFILE ?= demo
STAMP := .venv/.codi-synced
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)

.PHONY: help setup run test ui demo-sources clean browser trace

help:
	@echo "make run    set up, make the demo sources if there are none, build and publish, print a summary"
	@echo "make run ACCEPT=finance/repayments   accept that table's current export although it shrank"
	@echo "make test   set up and run the tests"
	@echo "make ui     the Dagster UI on http://127.0.0.1:3000"
	@echo "make trace KPI=K2 FY=2556 AREA=10   the source rows behind one figure of mart_kpi"
	@echo "make bench  the national-scale benchmark: pipeline, pandas baseline and DuckDB floor (bench/README.md)"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on this team's
# machines), every process would otherwise compile dagster, dbt and pandas from source at
# import, about 3 s of CPU each (bench/README.md).
$(STAMP): pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode
	touch $@

# The manifest is prepared here, once, so that loading the code location never parses dbt.
$(MANIFEST): $(STAMP) $(DBT_FILES)
	$(RUN) dagster-dbt project prepare-and-package --file orchestration/dbt_project.py
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

setup: $(STAMP) $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	@$(RUN) python -m compileall -q orchestration ingestion schemas publishing

# Generates the demo sources only where the folder is empty: real exports are left alone.
demo-sources: setup
	@if [ -z "$$(ls -A $(SOURCES) 2>/dev/null)" ]; then \
		$(RUN) python -m ingestion.demo --profile $(PROFILE) --out $(SOURCES); \
	else echo "Sources: using $(SOURCES) as it is."; fi

# Incremental: only the sources whose files changed since their last load, and what depends on
# them (README, "Daily operations"). FULL=1 ingests and rebuilds everything. ACCEPT=<source>/<table>
# accepts that table's current export although it shrank by more than the table allows.
run: demo-sources
	$(RUN) python -m orchestration.run $(if $(FULL),--full) $(if $(ACCEPT),--accept-shrink $(ACCEPT)) --log-file logs/run.log

# Headless Chromium for the report tests: Debian's package, installed only where it is missing.
browser:
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && apt-get install -y chromium; fi

test: setup browser
	$(RUN) pytest

# The source rows (file, row, load) behind one figure of marts.mart_kpi, and the run that loaded
# them. AREA: a province code, a region code (with GROUPING=region_4 or region_6) or TH.
trace: setup
	$(RUN) python -m orchestration.trace --kpi $(KPI) --fy $(FY) --area $(AREA) $(if $(GROUPING),--grouping $(GROUPING))

ui: setup
	$(RUN) dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# The national-scale benchmark (bench/README.md): the pipeline against a pandas baseline and the
# DuckDB floor on the national profile (generated into bench/work/ if absent); prints one table.
.PHONY: bench
bench: setup
	$(RUN) python bench/run.py

clean:
	rm -rf lake warehouse published .dagster_home dbt_project/target
