"""The warehouse models (issue 5): conformed facts, area marts and the plan's indicators, built by
the real `daily_refresh` job on the demo sources (session fixtures `warehouse`, `demo_sources`).

The indicator checks do not trust the pipeline: the targets are written out here from the plan
(DESIGN section 6), and K2, K7 and K9 are recomputed from the demo SOURCE files with plain
Python (sqlite3, csv), dropping the rows the ground-truth manifest says the pipeline must
quarantine or count as duplicates, and reading Thai digits and BE/CE dates by hand."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

PLAN_YEARS = (2555, 2556, 2557, 2558, 2559)

# DESIGN section 6, the plan's table cell for cell; None is a blank cell (no target).
PLAN_TARGETS = {
    "K1": (2000, 3000, 4000, 5000, 6000),
    "K2": (15000, 25000, 25000, 30000, 17000),
    "K3": (1500, 2500, 3500, 4500, 5500),
    "K4": (22, 50, 77, None, None),
    "K5": (22, 50, 77, None, None),
    "K6": (11, 50, 77, None, None),
    "K7": (3267, 3767, 4267, 5267, 6267),
    "K8": (50, 60, 70, 70, 70),
    "K9": (10000, 10000, 10000, 10000, 10000),
    "K10": (10, 20, 30, 40, 50),
}


# ----------------------------------------------------------------------------------------------
# Reading the sources the way a person would, with no pipeline code.

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def plain_number(text: str) -> int:
    return int(text.translate(THAI_DIGITS).replace(",", "").strip())


def ce_year(year: int) -> int:
    """A year above 2400 is Buddhist Era, below 2200 Christian Era (DESIGN section 5)."""
    return year - 543 if year > 2400 else year


def be_year(year: int) -> int:
    return year if year > 2400 else year + 543


def plain_date(text: str) -> dt.date:
    """`dd/mm/yyyy` in either era, possibly with Thai digits."""
    day, month, year = (int(part) for part in text.translate(THAI_DIGITS).strip().split("/"))
    return dt.date(ce_year(year), month, day)


def fiscal_year(day: dt.date) -> int:
    """Thai fiscal year (BE) of a date: October to December belong to the next year's."""
    return day.year + (544 if day.month >= 10 else 543)


@pytest.fixture(scope="module")
def dropped_rows(demo_sources: Path) -> set[tuple[str, str, int]]:
    """(source table, file, row) of every row the manifest says must not reach the facts."""
    manifest = demo_sources.parent / "ground_truth" / "defects.csv"
    with open(manifest, encoding="utf-8", newline="") as fh:
        return {(f"{r['source']}/{r['table']}", r["file"], int(r["source_row"]))
                for r in csv.DictReader(fh) if r["treatment"] in ("quarantine", "duplicate")}


def csv_rows(sources: Path, relative: str):
    """(line number, row) of an organisation CSV (UTF-8 with BOM); the header is line 1."""
    with open(sources / relative, encoding="utf-8-sig", newline="") as fh:
        yield from enumerate(csv.DictReader(fh), start=2)


def country_actuals(warehouse, kpi_id: str) -> dict[int, float]:
    return dict(warehouse.execute("""
        select fiscal_year, actual from marts.mart_kpi
        where kpi_id = ? and area_level = 'country' and fiscal_year between 2555 and 2559
    """, [kpi_id]).fetchall())


# ----------------------------------------------------------------------------------------------
# The indicators.

def test_mart_kpi_targets_are_the_plans_table_cell_for_cell(warehouse):
    rows = warehouse.execute("""
        select kpi_id, fiscal_year, target, status from marts.mart_kpi
        where area_level = 'country' and fiscal_year between 2555 and 2559
    """).fetchall()
    found = {(kpi, year): target for kpi, year, target, _ in rows}
    expected = {(kpi, year): target
                for kpi, targets in PLAN_TARGETS.items() for year, target in zip(PLAN_YEARS, targets)}
    assert len(rows) == len(expected) == 50, "one country row per indicator and plan year"
    assert found == expected
    # a blank cell is 'no target', never met or behind
    for kpi, year, target, status in rows:
        assert (status == "no target") == (target is None), (kpi, year, status)


def test_k2_households_moved_in_recomputed_from_the_sqlite_source(warehouse, demo_sources, dropped_rows):
    per_year: Counter[int] = Counter()
    with sqlite3.connect(demo_sources / "housing" / "baan_mankong.sqlite") as con:
        for rowid, moved_in in con.execute("select rowid, moved_in_date from households"):
            if ("housing/households", "housing/baan_mankong.sqlite", rowid) in dropped_rows:
                continue
            if moved_in is None or not str(moved_in).strip():
                continue  # not moved in yet
            per_year[fiscal_year(plain_date(str(moved_in)))] += 1
    expected = {year: per_year[year] for year in PLAN_YEARS}
    assert all(expected.values()), expected
    assert country_actuals(warehouse, "K2") == expected


def test_k7_registered_councils_recomputed_from_the_csv_source(warehouse, demo_sources, dropped_rows):
    registered_in: list[int] = []
    for line, row in csv_rows(demo_sources, "organization/councils.csv"):
        if ("organization/councils", "organization/councils.csv", line) in dropped_rows:
            continue
        registered_in.append(fiscal_year(plain_date(row["registered_date"])))
    # registered on or before 30 September of the year = registered in that fiscal year or before
    expected = {year: sum(1 for y in registered_in if y <= year) for year in PLAN_YEARS}
    assert country_actuals(warehouse, "K7") == expected


def test_k9_new_leaders_recomputed_from_the_csv_source(warehouse, demo_sources, dropped_rows):
    leaders: Counter[int] = Counter()
    for line, row in csv_rows(demo_sources, "organization/leader_training.csv"):
        if ("organization/leader_training", "organization/leader_training.csv", line) in dropped_rows:
            continue
        leaders[be_year(plain_number(row["fiscal_year"]))] += plain_number(row["new_leaders"])
    expected = {year: leaders[year] for year in PLAN_YEARS}
    assert all(expected.values()), expected
    assert country_actuals(warehouse, "K9") == expected


def test_indicators_carry_the_plans_thai_names(warehouse):
    names = dict(warehouse.execute("""
        select distinct kpi_id, kpi_name_th from marts.mart_kpi where area_level = 'country'
    """).fetchall())
    assert names["K2"] == "จำนวนครัวเรือนที่มีการพัฒนาที่อยู่อาศัยและที่ดินทำกิน"
    assert names["K9"] == "จำนวนผู้นำใหม่ที่เข้าสู่กระบวนการพัฒนาชุมชนท้องถิ่น"
    assert "2,767" in names["K7"]


def test_region_and_province_rows_add_up_to_the_country(warehouse):
    """For counts the provinces sum to the country (unless some records have no known area) and
    so does every region grouping; percentages are recomputed from the summed parts."""
    mismatches = warehouse.execute("""
        with country as (
            select kpi_id, fiscal_year, numerator, denominator from marts.mart_kpi where area_level = 'country'
        ),
        regions as (
            select kpi_id, fiscal_year, region_grouping, sum(numerator) as numerator,
                   sum(denominator) as denominator
            from marts.mart_kpi where area_level = 'region' group by all
        )
        select regions.* from regions join country using (kpi_id, fiscal_year)
        where regions.numerator != country.numerator
           or regions.denominator is distinct from country.denominator
    """).fetchall()
    assert mismatches == []
    groupings = {r[0] for r in warehouse.execute(
        "select distinct region_grouping from marts.mart_kpi where area_level = 'region'").fetchall()}
    assert groupings == {"region_4", "region_6"}
    # the K4-K6 province counts are not reported per province: they make no sense there
    assert warehouse.execute("""
        select count(*) from marts.mart_kpi where area_level = 'province' and kpi_id in ('K4', 'K5', 'K6')
    """).fetchone()[0] == 0
    # province rows have no target of their own
    assert warehouse.execute("""
        select count(*) from marts.mart_kpi where area_level != 'country' and (target is not null or status != 'no target')
    """).fetchone()[0] == 0


# ----------------------------------------------------------------------------------------------
# The area marts.

def test_area_profile_has_every_subdistrict_every_year(warehouse):
    subdistricts, years, rows = warehouse.execute("""
        select count(distinct subdistrict_code), count(distinct fiscal_year), count(*)
        from marts.mart_area_profile
    """).fetchone()
    assert subdistricts == 7436
    assert rows == subdistricts * years
    first, last = warehouse.execute(
        "select min(fiscal_year), max(fiscal_year) from marts.mart_area_profile").fetchone()
    assert first <= 2555 and last >= 2559


def test_area_profile_agrees_with_the_indicators(warehouse):
    """The profile (area first) and mart_kpi (indicator first) tell the same story per province:
    households moved in (K2), new leaders (K9), councils registered to date (K7), tambons counted
    for K1 and for K3."""
    disagreements = warehouse.execute("""
        with profile as (
            select province_code, fiscal_year,
                   sum(housing_households_moved_in) as K2, sum(new_leaders) as K9,
                   sum(councils_registered_to_date) as K7, sum(tambons_revitalised_to_date) as K1,
                   sum(tambon_plans_to_date) as K3
            from marts.mart_area_profile group by all
        ),
        long as (unpivot profile on K1, K2, K3, K7, K9 into name kpi_id value measure)
        select long.*, kpi.actual from long
        join marts.mart_kpi kpi
          on kpi.area_level = 'province' and kpi.area_code = long.province_code
         and kpi.fiscal_year = long.fiscal_year and kpi.kpi_id = long.kpi_id
        where kpi.actual != long.measure
    """).fetchall()
    assert disagreements == []


def test_roll_ups_keep_the_totals(warehouse):
    totals = warehouse.execute("""
        select
            (select sum(new_leaders) from marts.mart_area_profile),
            (select sum(new_leaders) from marts.mart_district_profile),
            (select sum(new_leaders) from marts.mart_province_profile),
            (select sum(new_leaders) from marts.mart_region_profile where region_grouping = 'region_4'),
            (select sum(new_leaders) from marts.mart_region_profile where region_grouping = 'region_6'),
            (select sum(loan_outstanding_principal) from marts.mart_area_profile),
            (select sum(loan_outstanding_principal) from marts.mart_region_profile where region_grouping = 'region_6')
    """).fetchone()
    assert len(set(totals[:5])) == 1 and totals[0] > 0
    assert totals[5] == pytest.approx(totals[6])


def test_portfolio_at_risk_follows_days_in_arrears(warehouse):
    """PAR30/PAR90 at each 30 September: a loan is at risk when its oldest unpaid installment is
    more than 30 (90) days overdue; the demo has borrowers who stop paying."""
    row = warehouse.execute("""
        select count(*) filter (where is_par30 != (days_in_arrears > 30)),
               count(*) filter (where is_par90 and not is_par30),
               count(*) filter (where days_in_arrears > 0 and oldest_unpaid_due_date >= as_of_date),
               count(*) filter (where is_par90),
               count(*) filter (where outstanding_principal > principal + 0.01)
        from marts.fct_loan_arrears
    """).fetchone()
    assert row[:3] == (0, 0, 0)
    assert row[3] > 0, "the demo's stopped loans show up as PAR90"
    assert row[4] == 0


# ----------------------------------------------------------------------------------------------
# Lineage and personal data.

def test_a_fact_row_leads_back_to_its_source_row(warehouse, demo_sources):
    rows = warehouse.execute("""
        select project_code, _source_file, _source_row, _load_id from marts.fct_housing_projects
        order by project_code limit 20
    """).fetchall()
    assert rows
    with sqlite3.connect(demo_sources / "housing" / "baan_mankong.sqlite") as con:
        for code, file, source_row, load_id in rows:
            assert file == "housing/baan_mankong.sqlite" and load_id
            found = con.execute("select project_code from projects where rowid = ?", [source_row]).fetchone()
            assert found is not None and found[0].strip() == code


def test_no_personal_data_in_marts(warehouse):
    columns = [r[0] for r in warehouse.execute("""
        select table_name || '.' || column_name from information_schema.columns
        where table_schema = 'marts'
          and (column_name ilike '%citizen%' or column_name ilike '%pseudonym%'
               or column_name ilike '%head_name%' or column_name ilike '%borrower_name%')
    """).fetchall()]
    assert columns == []


def test_dagster_lineage_shows_which_sources_feed_each_indicator():
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()

    def lake_sources(key: dg.AssetKey) -> set[str]:
        seen, todo = set(), [key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return {"/".join(k.path[1:]) for k in seen if k.path[0] == "lake" and k.path[1] != "reference"}

    expected = {
        "k1": {"housing/projects", "welfare/funds", "finance/savings_groups", "disaster/events",
               "environment/sites"},
        "k2": {"housing/households", "housing/projects"},
        "k3": {"organization/tambon_plans"},
        "k4": {"organization/province_reports"},
        "k7": {"organization/councils"},
        "k8": {"organization/council_assessments", "organization/councils"},
        "k9": {"organization/leader_training"},
        "k10": {"organization/joint_areas"},
    }
    for kpi, sources in expected.items():
        assert lake_sources(dg.AssetKey(["intermediate", f"int_kpi_{kpi}_counted"])) == sources, kpi
    everything = lake_sources(dg.AssetKey(["marts", "mart_kpi"]))
    assert set().union(*expected.values()) <= everything
