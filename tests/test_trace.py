"""Tracing a figure of mart_kpi to its source rows: the rows the trace lists are read back from
the source files themselves (the SQLite database, the CSV), and must add up to the figure."""

from __future__ import annotations

import csv
import json
import sqlite3
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.trace import TraceError, trace


def _be_date(text: str) -> date:
    """`dd/mm/yyyy` as the sources write it: a year above 2400 is Buddhist Era (DESIGN 5)."""
    day, month, year = (int(part) for part in text.strip().split("/"))
    return date(year - 543 if year > 2400 else year, month, day)


def _fiscal_year(day: date) -> int:
    return day.year + (544 if day.month >= 10 else 543)


def _busiest(warehouse, kpi_id: str, fiscal_year: int) -> str:
    """The province with the largest figure that year, so the trace has rows to check."""
    return warehouse.execute("""
        select area_code from marts.mart_kpi
        where kpi_id = ? and fiscal_year = ? and area_level = 'province'
        order by actual desc, area_code limit 1""", [kpi_id, fiscal_year]).fetchone()[0]


def test_k2_figure_traces_to_households_moving_in_that_year(warehouse, codi_env, dagster_instance,
                                                              pipeline):
    area = _busiest(warehouse, "K2", 2556)
    result = trace("K2", 2556, area, instance=dagster_instance)
    actual = result.figure["actual"]
    assert actual > 0 and result.adds_up
    assert len(result.rows) == actual  # one household, one row

    # Read every listed row back from the source database: a household that moved in that year.
    sources = codi_env / "sources"
    with sqlite3.connect(sources / "housing" / "baan_mankong.sqlite") as db:
        for row in result.rows:
            assert row["source_table"] == "housing/households"
            assert row["_source_file"].startswith("housing/baan_mankong.sqlite")
            household_id, moved_in = db.execute(
                "select household_id, moved_in_date from households where rowid = ?",
                [row["_source_row"]]).fetchone()
            assert str(household_id) == row["record_key"]
            assert _fiscal_year(_be_date(moved_in)) == 2556

    # The loads the rows came from: the lake's current load of the table, with the file's hash,
    # loaded by this session's run.
    [load] = result.loads
    assert load["current_load"] and load["rows"] == actual
    assert set(load["files"]) == {"housing/baan_mankong.sqlite"}
    assert load["dagster_run_id"] == pipeline.ingest.run_id


def test_k9_figure_traces_to_leader_training_rows_summing_to_it(warehouse, codi_env, dagster_instance):
    area = _busiest(warehouse, "K9", 2557)
    result = trace("K9", 2557, area, instance=dagster_instance)
    assert result.figure["actual"] > 0 and result.adds_up

    # The CSV as a person opening it counts lines: the header is line 1.
    path = codi_env / "sources" / "organization" / "leader_training.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = {n: row for n, row in enumerate(csv.DictReader(fh), start=2)}
    total = 0
    for row in result.rows:
        assert row["_source_file"] == "organization/leader_training.csv"
        source = lines[row["_source_row"]]
        assert source["training_code"] == row["record_key"]
        # int() reads Thai digits; the sources may also carry thousands separators
        total += int(source["new_leaders"].replace(",", ""))
    assert total == result.figure["actual"]
    assert {load["source_table"] for load in result.loads} == {"organization/leader_training"}


def test_country_and_region_figures_are_traced_too(warehouse, dagster_instance):
    country = trace("K9", 2557, "TH", instance=dagster_instance)
    assert country.adds_up and country.figure["area_level"] == "country"
    grouping, region = warehouse.execute("""
        select region_grouping, area_code from marts.mart_kpi
        where kpi_id = 'K8' and fiscal_year = 2557 and area_level = 'region'
        order by region_grouping, area_code limit 1""").fetchone()
    k8 = trace("K8", 2557, region, grouping, instance=dagster_instance)
    assert k8.adds_up and k8.denominator > 0  # a percentage: numerator and denominator rows


def test_unknown_figure_is_refused_with_a_reason(warehouse):
    with pytest.raises(TraceError, match="fiscal years 2555-2559"):
        trace("K2", 2590, "10")
    with pytest.raises(TraceError, match="not traced"):
        trace("K1", 2556, "TH")


def test_cli_prints_the_rows_and_exits_zero_when_they_add_up(warehouse, codi_env):
    area = _busiest(warehouse, "K9", 2556)
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.trace", "--kpi", "K9", "--fy", "2556", "--area", area,
         "--format", "json"],
        capture_output=True, text=True, encoding="utf-8", timeout=300,
        env={**_env(), "CODI_WAREHOUSE": str(settings.warehouse_path()),
             "CODI_LAKE_DIR": str(settings.lake_dir())},
        cwd=settings.PROJECT_ROOT)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["adds_up"] is True
    assert out["figure"]["kpi_id"] == "K9" and out["figure"]["area_code"] == area
    assert sum(r["numerator_contribution"] for r in out["rows"]) == out["figure"]["actual"]


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("DAGSTER_HOME", None)  # the session's instance is in memory: nothing to look up
    return env


def test_make_trace_runs_the_cli_with_the_figure_asked_for():
    # Not as a sub-make of `make test`: that would add "Entering/Leaving directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    run = subprocess.run(["make", "--no-print-directory", "-n", "trace", "KPI=K2", "FY=2556", "AREA=10"],
                         capture_output=True, text=True, cwd=settings.PROJECT_ROOT, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    command = run.stdout.strip().splitlines()[-1]
    assert "python -m orchestration.trace --kpi K2 --fy 2556 --area 10" in command
