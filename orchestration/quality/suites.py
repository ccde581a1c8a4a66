"""Every Great Expectations suite run on the warehouse, in one place.

A suite is a SQL query over the warehouse (the frame GE validates, usually small: one row per
area code, per cell of a grid, per roll-up measure) plus the expectations on that frame. The
query does the joins; GE does the asserting and the reporting. Nothing here imports GE, so the
code location loads fast; `runner.py` turns these into GE objects when the checks run.

Which suites exist is decided per asset, from its name (DESIGN section 7's naming): every
`fct_*` gets the area-code check, every `mart_*_profile` the coverage, roll-up and percentage
checks, `mart_kpi` its own, and every mart the row-count band.

Blocking or warning follows docs/policy.md: a blocking suite withholds the whole publication, so
it may only test what a source row cannot break (ingestion guarantees it, or the mart is built
so: a spine of areas and years, a part that is always part of its whole). What a source can move
(the row count) and the audit models warn. A null figure (`no data`) is not judged by the
range expectations: GE leaves nulls out of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

# A roll-up may differ from the sum of what it rolls up only by float rounding (baht).
SUM_TOLERANCE = 0.01
# Row counts may move by this fraction of the last run's before the band check warns.
ROW_COUNT_BAND = 0.25

AREA_LEVEL_OF_COLUMN = {
    "subdistrict_code": "subdistrict",
    "district_code": "district",
    "province_code": "province",
}

Sql = str | Callable[[duckdb.DuckDBPyConnection], str]


@dataclass(frozen=True)
class Expect:
    """One GE expectation: the class name in `great_expectations.expectations` and its
    arguments. A value `{"$PARAMETER": name}` is filled in at run time (GE suite parameters)."""

    type: str
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Suite:
    check: str  # the Dagster check name (and, with the asset, the GE suite name)
    asset: str  # the Dagster asset key the check is attached to, e.g. "marts/mart_kpi"
    description: str
    sql: Sql  # the frame to validate; a callable gets the read-only connection (introspection)
    expectations: tuple[Expect, ...]
    row_id: tuple[str, ...] = ()  # columns that name a failing row in the report
    blocking: bool = True  # a failure stops publishing
    parameters: str | None = None  # run-time parameters GE needs: "row_count_band"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.asset.replace('/', '.')}.{self.check}"

    @property
    def relation(self) -> str:
        return self.asset.replace("/", ".")

    def query(self, con: duckdb.DuckDBPyConnection) -> str:
        return self.sql(con) if callable(self.sql) else self.sql


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    schema, table = relation.split(".")
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table]).fetchall()
    if not columns:  # a missing table must fail its checks, not pass them vacuously
        raise duckdb.CatalogException(f"Table {relation} does not exist")
    return columns


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL")


def _numeric(data_type: str) -> bool:
    return data_type.upper().startswith(_NUMERIC)


# ---------------------------------------------------------------------------------------------
# Builders: one per invariant
# ---------------------------------------------------------------------------------------------

def area_codes_known(asset: str) -> Suite:
    """Every subdistrict, district and province code in the table is a current code of that
    level in `marts.dim_area`."""
    relation = asset.replace("/", ".")

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        columns = [c for c, _ in _columns(con, relation) if c in AREA_LEVEL_OF_COLUMN]
        parts = [
            f"select '{c}' as area_column, '{AREA_LEVEL_OF_COLUMN[c]}' as expected_level, "
            f"cast({c} as varchar) as area_code, count(*) as rows "
            f"from {relation} where {c} is not null group by all"
            for c in columns
        ] or ["select null::varchar as area_column, null::varchar as expected_level, "
              "null::varchar as area_code, 0 as rows where false"]
        return f"""
            with codes as ({' union all '.join(parts)})
            select codes.*, dim.area_level as dim_area_level
            from codes
            left join marts.dim_area as dim
              on dim.area_code = codes.area_code and dim.area_level = codes.expected_level
            order by area_column, area_code"""

    return Suite(
        check="ge_area_codes_in_dim_area", asset=asset,
        description="No area code outside dim_area: every subdistrict, district and province "
                    "code is a current DOPA code of its level.",
        sql=sql, row_id=("area_column", "area_code"),
        expectations=(Expect("ExpectColumnValuesToNotBeNull", {"column": "dim_area_level"}),),
    )


def coverage(asset: str, area_column: str, level: str) -> Suite:
    """Exactly one row per current area of `level` and fiscal year, for every fiscal year from
    the table's first to its last (a missing year in between is a gap too)."""
    relation = asset.replace("/", ".")
    sql = f"""
        with years as (
            select fiscal_year from marts.dim_fiscal_year
            where fiscal_year between (select min(fiscal_year) from {relation})
                                  and (select max(fiscal_year) from {relation})
        ),
        areas as (select area_code from marts.dim_area where area_level = '{level}'),
        counts as (
            select cast({area_column} as varchar) as area_code, fiscal_year, count(*) as rows
            from {relation} group by all
        )
        select years.fiscal_year, areas.area_code, coalesce(counts.rows, 0) as rows
        from years cross join areas
        left join counts using (area_code, fiscal_year)
        order by fiscal_year, area_code"""
    return Suite(
        check=f"ge_every_{level}_every_year", asset=asset,
        description=f"Every current {level} is present, exactly once, for every fiscal year "
                    "of the mart.",
        sql=sql, row_id=("fiscal_year", "area_code"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {"column": "rows", "min_value": 1, "max_value": 1}),
            # an empty grid would pass the check above vacuously
            Expect("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        ),
    )


def region_coverage(asset: str) -> Suite:
    """Every region of every grouping in the region_groupings seed, for every fiscal year."""
    relation = asset.replace("/", ".")
    sql = f"""
        with years as (
            select fiscal_year from marts.dim_fiscal_year
            where fiscal_year between (select min(fiscal_year) from {relation})
                                  and (select max(fiscal_year) from {relation})
        ),
        regions as (select distinct grouping as region_grouping, region_code from reference.region_groupings),
        counts as (select region_grouping, region_code, fiscal_year, count(*) as rows from {relation} group by all)
        select years.fiscal_year, regions.region_grouping, regions.region_code, coalesce(counts.rows, 0) as rows
        from years cross join regions
        left join counts using (region_grouping, region_code, fiscal_year)
        order by fiscal_year, region_grouping, region_code"""
    return Suite(
        check="ge_every_region_every_year", asset=asset,
        description="Every region of every grouping is present, exactly once, for every fiscal year.",
        sql=sql, row_id=("fiscal_year", "region_grouping", "region_code"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {"column": "rows", "min_value": 1, "max_value": 1}),
            Expect("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        ),
    )


def rollup_sums(asset: str, base: str, keys: dict[str, str], join: str = "") -> Suite:
    """Each additive measure of the roll-up equals the sum, over the rows it rolls up, of the
    same measure in `base`. The measures are the numeric columns both tables share (so a new
    measure is checked without a change here), less the keys and the ratios (`*_pct`), which
    are computed after summing, never summed.

    `keys` maps each roll-up key column to the expression giving it in `base` (with `join`
    bringing in what `base` lacks, e.g. the region of a province)."""
    relation = asset.replace("/", ".")
    skip = set(keys) | {"fiscal_year"}

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        base_columns = {c for c, t in _columns(con, base) if _numeric(t)}
        measures = [c for c, t in _columns(con, relation)
                    if _numeric(t) and c in base_columns and c not in skip and not c.endswith("_pct")]
        key_cols = [*keys, "fiscal_year"]
        rolled = ", ".join(f"cast({m} as double) as {m}" for m in measures)
        summed = ", ".join(f"cast(sum(b.{m}) as double) as {m}" for m in measures)
        base_keys = ", ".join(f"{expr} as {col}" for col, expr in keys.items())
        on = ", ".join(key_cols)
        return f"""
            with rollup as (
                unpivot (select {', '.join(key_cols)}, {rolled} from {relation})
                on {', '.join(measures)} into name measure value rollup_value
            ),
            base as (
                unpivot (select {base_keys}, b.fiscal_year, {summed}
                         from {base} as b {join} group by all)
                on {', '.join(measures)} into name measure value base_sum
            )
            select {on}, measure, rollup_value, base_sum,
                   abs(coalesce(rollup_value, 0) - coalesce(base_sum, 0)) as gap
            from rollup full join base using ({on}, measure)
            order by gap desc"""

    return Suite(
        check="ge_rollup_equals_sum_of_parts", asset=asset,
        description=f"Every additive measure equals the sum of the same measure over the rows of "
                    f"{base} it rolls up (to {SUM_TOLERANCE} for float rounding).",
        sql=sql, row_id=(*keys, "fiscal_year", "measure"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {"column": "gap", "max_value": SUM_TOLERANCE}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "rollup_value"}),
            Expect("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        ),
        meta={"base": base},
    )


def percentages_in_range(asset: str, keys: tuple[str, ...]) -> Suite:
    """Every `*_pct` column of the mart is within 0-100 (ratios of part to whole)."""
    relation = asset.replace("/", ".")

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        pct = [c for c, t in _columns(con, relation) if c.endswith("_pct") and _numeric(t)]
        if not pct:
            return "select null::varchar as measure, null::double as value where false"
        return f"""
            select * from (
                unpivot (select {', '.join(keys)}, {', '.join(f'cast({c} as double) as {c}' for c in pct)}
                         from {relation})
                on {', '.join(pct)} into name measure value value
            ) where value is not null"""

    return Suite(
        check="ge_percentages_within_0_100", asset=asset,
        description="Every percentage (`*_pct`) is within 0-100.",
        sql=sql, row_id=(*keys, "measure"),
        expectations=(Expect("ExpectColumnValuesToBeBetween",
                             {"column": "value", "min_value": 0, "max_value": 100}),),
    )


def row_count_band(asset: str, band: float = ROW_COUNT_BAND) -> Suite:
    """The table's row count is within `band` of the last run's. It warns rather than blocks:
    a mart grows by a fiscal year's rows once a year, and a broken source is stopped earlier,
    at ingestion."""
    relation = asset.replace("/", ".")
    return Suite(
        check="ge_row_count_within_band", asset=asset,
        description=f"The row count is within {band:.0%} of the last run's (and not zero).",
        sql=f"select count(*) as row_count from {relation}",
        expectations=(Expect("ExpectColumnValuesToBeBetween", {
            "column": "row_count",
            "min_value": {"$PARAMETER": "min_rows"},
            "max_value": {"$PARAMETER": "max_rows"},
        }),),
        blocking=False, parameters="row_count_band", meta={"band": band},
    )


# ---------------------------------------------------------------------------------------------
# mart_kpi
# ---------------------------------------------------------------------------------------------

KPI = "marts/mart_kpi"


def kpi_suites() -> list[Suite]:
    area_codes = Suite(
        check="ge_area_codes_in_dim_area", asset=KPI,
        description="No area code outside the references: provinces are current provinces of "
                    "dim_area, regions are regions of their grouping, the country is TH.",
        sql="""
            with codes as (
                select area_level, region_grouping, area_code, count(*) as rows
                from marts.mart_kpi group by all
            )
            select codes.*,
                   case codes.area_level
                       when 'province' then dim.area_code
                       when 'region' then regions.region_code
                       when 'country' then case when codes.area_code = 'TH' then 'TH' end
                   end as reference_code
            from codes
            left join marts.dim_area as dim
              on dim.area_code = codes.area_code and dim.area_level = 'province'
            left join (select distinct grouping, region_code from reference.region_groupings) as regions
              on regions.grouping = codes.region_grouping and regions.region_code = codes.area_code
            order by area_level, area_code""",
        row_id=("area_level", "region_grouping", "area_code"),
        expectations=(Expect("ExpectColumnValuesToNotBeNull", {"column": "reference_code"}),),
    )
    provinces = Suite(
        check="ge_every_province_every_year", asset=KPI,
        description="Every indicator reported by province has every current province, exactly "
                    "once, in every fiscal year of its plan (a province with nothing to count "
                    "has its zero, or 'no data' in a year with no records in the country).",
        sql="""
            with definitions as (
                select kpi_id, period_start, period_end from reference.kpi_definitions
                where list_contains(string_split(area_levels, ';'), 'province')
            ),
            grid as (
                select definitions.kpi_id, years.fiscal_year, provinces.area_code
                from definitions
                join marts.dim_fiscal_year as years
                  on years.fiscal_year between definitions.period_start and definitions.period_end
                cross join (select area_code from marts.dim_area where area_level = 'province') as provinces
            ),
            counts as (
                select kpi_id, fiscal_year, area_code, count(*) as rows
                from marts.mart_kpi where area_level = 'province' group by all
            )
            select grid.*, coalesce(counts.rows, 0) as rows
            from grid left join counts using (kpi_id, fiscal_year, area_code)
            order by kpi_id, fiscal_year, area_code""",
        row_id=("kpi_id", "fiscal_year", "area_code"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {"column": "rows", "min_value": 1, "max_value": 1}),
            Expect("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        ),
    )
    percentages = Suite(
        check="ge_percentages_within_0_100", asset=KPI,
        description="Indicators counted as a percentage (K8, K10) are within 0-100: by "
                    "construction, their numerator is part of their denominator (K8 counts a "
                    "passed council only once registered). 'No data' (null) is not judged. "
                    "(Achievement against target may exceed 100 and is only checked to be >= 0.)",
        sql="""
            select kpi_id, fiscal_year, area_level, area_code, counting, actual, achievement_pct
            from marts.mart_kpi
            order by kpi_id, fiscal_year, area_level, area_code""",
        row_id=("kpi_id", "fiscal_year", "area_level", "area_code"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {
                "column": "actual", "min_value": 0, "max_value": 100,
                "row_condition": 'counting == "percent"', "condition_parser": "pandas"}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "actual", "min_value": 0}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "achievement_pct", "min_value": 0}),
        ),
    )
    rollups = Suite(
        check="ge_rollup_equals_sum_of_parts", asset=KPI,
        description="Every figure of mart_kpi equals the sum of its per-province parts "
                    "(intermediate.int_kpi_actuals_unioned): the country and each region sum "
                    "their provinces; a percentage is 100 x summed numerator / summed denominator.",
        sql="""
            with parts as (select * from intermediate.int_kpi_actuals_unioned),
            expected as (
                select kpi_id, fiscal_year, 'country' as area_level, 'TH' as area_code,
                       null::varchar as region_grouping, sum(numerator) as numerator,
                       sum(denominator) as denominator
                from parts group by all
                union all
                select parts.kpi_id, parts.fiscal_year, 'region', regions.region_code, regions.grouping,
                       sum(parts.numerator), sum(parts.denominator)
                from parts join reference.region_groupings as regions
                  on regions.province_code = parts.province_code
                group by all
                union all
                select kpi_id, fiscal_year, 'province', province_code, null, numerator, denominator
                from parts
            )
            select kpi.kpi_id, kpi.fiscal_year, kpi.area_level, kpi.region_grouping, kpi.area_code,
                   kpi.counting, kpi.actual, kpi.numerator, expected.numerator as parts_numerator,
                   expected.denominator as parts_denominator,
                   case when kpi.counting = 'percent'
                        then round(100 * expected.numerator / nullif(expected.denominator, 0), 2)
                        else expected.numerator end as parts_actual,
                   abs(coalesce(kpi.actual, 0) - coalesce(parts_actual, 0)) as gap
            from marts.mart_kpi as kpi
            left join expected
              on expected.kpi_id = kpi.kpi_id and expected.fiscal_year = kpi.fiscal_year
             and expected.area_level = kpi.area_level and expected.area_code = kpi.area_code
             and expected.region_grouping is not distinct from kpi.region_grouping
            order by gap desc""",
        row_id=("kpi_id", "fiscal_year", "area_level", "region_grouping", "area_code"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {"column": "gap", "max_value": SUM_TOLERANCE}),
            Expect("ExpectColumnValuesToNotBeNull", {"column": "parts_numerator"}),
        ),
    )
    return [area_codes, provinces, percentages, rollups]


# ---------------------------------------------------------------------------------------------
# The audit marts: they must be right for an auditor to rely on them, but a fault in them is no
# reason to keep the marts from BI users, so these warn.
# ---------------------------------------------------------------------------------------------

LINEAGE = "audit/audit_kpi_lineage"
COMPLETENESS = "audit/audit_reporting_completeness"
# Indicators audit_kpi_lineage does not trace (see the model).
UNTRACED_KPIS = ("K1",)


def lineage_suite() -> Suite:
    untraced = ", ".join(f"'{k}'" for k in UNTRACED_KPIS)
    return Suite(
        check="ge_lineage_adds_up", asset=LINEAGE,
        description="The source rows listed for each figure of mart_kpi add up to it: their "
                    "contributions sum to the figure's numerator and denominator.",
        sql=f"""
            with sums as (
                select kpi_id, fiscal_year, area_level, region_grouping, area_code,
                       count(*) as source_rows,
                       sum(numerator_contribution) as lineage_numerator,
                       sum(denominator_contribution) as lineage_denominator
                from audit.audit_kpi_lineage group by all
            )
            select kpi.kpi_id, kpi.fiscal_year, kpi.area_level, kpi.region_grouping, kpi.area_code,
                   kpi.numerator, kpi.denominator, coalesce(sums.source_rows, 0) as source_rows,
                   sums.lineage_numerator, sums.lineage_denominator,
                   abs(coalesce(kpi.numerator, 0) - coalesce(sums.lineage_numerator, 0)) as numerator_gap,
                   abs(coalesce(kpi.denominator, 0) - coalesce(sums.lineage_denominator, 0)) as denominator_gap
            from marts.mart_kpi as kpi
            left join sums
              on sums.kpi_id = kpi.kpi_id and sums.fiscal_year = kpi.fiscal_year
             and sums.area_level = kpi.area_level and sums.area_code = kpi.area_code
             and sums.region_grouping is not distinct from kpi.region_grouping
            where kpi.kpi_id not in ({untraced})
            order by numerator_gap + denominator_gap desc""",
        row_id=("kpi_id", "fiscal_year", "area_level", "region_grouping", "area_code"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween", {"column": "numerator_gap", "max_value": SUM_TOLERANCE}),
            Expect("ExpectColumnValuesToBeBetween", {"column": "denominator_gap", "max_value": SUM_TOLERANCE}),
            Expect("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        ),
        blocking=False,
    )


def completeness_suite() -> Suite:
    return Suite(
        check="ge_rates_and_counts_consistent", asset=COMPLETENESS,
        description="Reporting rates are within 0-100, and every expected area is reported, "
                    "late or missing.",
        sql="""
            select source, province_code, fiscal_year, reporting_rate_pct,
                   areas_expected - areas_reported - areas_late - areas_missing as unaccounted
            from audit.audit_reporting_completeness""",
        row_id=("source", "province_code", "fiscal_year"),
        expectations=(
            Expect("ExpectColumnValuesToBeBetween",
                   {"column": "reporting_rate_pct", "min_value": 0, "max_value": 100}),
            Expect("ExpectColumnValuesToBeBetween",
                   {"column": "unaccounted", "min_value": 0, "max_value": 0}),
            Expect("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        ),
        blocking=False,
    )


# ---------------------------------------------------------------------------------------------
# Which suites each asset gets
# ---------------------------------------------------------------------------------------------

PROFILE_ROLLUPS = {
    # roll-up: (area level, key column, what it rolls up, keys as expressions over that, join)
    "marts/mart_district_profile": ("district", "district_code", "marts.mart_area_profile",
                                    {"district_code": "b.district_code"}, ""),
    "marts/mart_province_profile": ("province", "province_code", "marts.mart_area_profile",
                                    {"province_code": "b.province_code"}, ""),
}


def suites_for(asset: str) -> list[Suite]:
    """The suites of one asset (a `<schema>/<model>` key), by what the model is."""
    schema, _, model = asset.partition("/")
    suites: list[Suite] = []
    if asset == LINEAGE:
        return [lineage_suite()]
    if asset == COMPLETENESS:
        return [completeness_suite()]
    if schema != "marts":
        return suites
    if model.startswith("fct_"):
        suites.append(area_codes_known(asset))
    elif model == "mart_area_profile":
        suites += [coverage(asset, "subdistrict_code", "subdistrict"), area_codes_known(asset),
                   percentages_in_range(asset, ("subdistrict_code", "fiscal_year"))]
    elif asset in PROFILE_ROLLUPS:
        level, key, base, keys, join = PROFILE_ROLLUPS[asset]
        suites += [coverage(asset, key, level), area_codes_known(asset),
                   rollup_sums(asset, base, keys, join),
                   percentages_in_range(asset, (key, "fiscal_year"))]
    elif model == "mart_region_profile":
        suites += [region_coverage(asset),
                   rollup_sums(asset, "marts.mart_province_profile",
                               {"region_grouping": "r.grouping", "region_code": "r.region_code"},
                               "join reference.region_groupings as r on r.province_code = b.province_code"),
                   percentages_in_range(asset, ("region_grouping", "region_code", "fiscal_year"))]
    elif asset == KPI:
        suites += kpi_suites()
    if model.startswith(("fct_", "mart_", "dim_")):
        suites.append(row_count_band(asset))
    return suites


def all_suites(assets: Iterable[str]) -> list[Suite]:
    return [suite for asset in sorted(assets) for suite in suites_for(asset)]
