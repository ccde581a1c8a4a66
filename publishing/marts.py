"""What the published marts hold, found at run time rather than written down here: which tables
carry area figures by fiscal year (and at which level), which of their columns are measures,
what the measures are called (from the dbt docs), and the indicator table.

The area marts and the indicator mart are built by other parts of the project; reading their
shape from the database lets a new measure appear on the maps without a change here."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

SCHEMA = "marts"
LEVELS = ("region", "province", "district", "subdistrict")
CODE_LENGTH_LEVEL = {2: "province", 4: "district", 6: "subdistrict"}
# Code columns, finest first: a subdistrict profile also carries its district and province codes.
LEVEL_CODE_COLUMNS = (("subdistrict", "subdistrict_code"), ("district", "district_code"),
                      ("province", "province_code"), ("region", "region_code"))
NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U(TINY|SMALL|BIG|HUGE)?INT(EGER)?"
                     r"|FLOAT|DOUBLE|REAL|DECIMAL.*|BOOLEAN)$", re.IGNORECASE)
NOT_MEASURES = re.compile(r"(^_|_code$|_year(_ce)?$|^fiscal_year|^point_(lon|lat)$|^(lon|lat)$"
                          r"|^area_km2$|^has_geometry$|^(subdistricts|districts|provinces)$)")
# Thai and English names of the measures, their issue, and which are the main ones (on the maps):
# data, so a new measure needs a row here, not code. A measure with no row still shows, named
# from its dbt description.
LABELS_FILE = Path(__file__).parent / "measures.csv"
ISSUES = {  # issue -> (Thai, English), in the order the reports list them
    "overall": ("ภาพรวม", "Overall"),
    "housing": ("ที่อยู่อาศัยและที่ดิน", "Housing and land"),
    "welfare": ("สวัสดิการชุมชน", "Community welfare"),
    "finance": ("การเงินชุมชนและสินเชื่อ", "Community finance and loans"),
    "disaster": ("ภัยพิบัติ", "Disasters"),
    "environment": ("ทรัพยากรธรรมชาติและสิ่งแวดล้อม", "Natural resources and environment"),
    "organization": ("องค์กรชุมชนและแผนพัฒนา", "Community organisations and plans"),
    "other": ("อื่น ๆ", "Other"),
}


@dataclass(frozen=True)
class Measure:
    column: str
    label_th: str | None
    label_en: str
    issue: str = "other"
    main: bool = False

    @property
    def label(self) -> str:
        return f"{self.label_th} ({self.label_en})" if self.label_th else self.label_en


@dataclass
class AreaMart:
    """A table of area figures by fiscal year at one level."""
    table: str
    level: str
    code_column: str
    measures: list[str]
    level_filter: str | None = None  # when one table holds several levels in `area_level`

    def where(self) -> str:
        return f"where area_level = '{self.level_filter}'" if self.level_filter else ""


@dataclass
class MartCatalog:
    area_marts: dict[str, AreaMart] = field(default_factory=dict)  # level -> mart
    measures: dict[str, Measure] = field(default_factory=dict)     # column -> label
    has_kpi: bool = False

    def level_measures(self, level: str) -> list[Measure]:
        """The level's measures, by issue, in the order of the labels file."""
        mart = self.area_marts.get(level)
        if not mart:
            return []
        order = {column: i for i, column in enumerate(_label_rows())}
        issues = list(ISSUES)
        return sorted((self.measures[c] for c in mart.measures),
                      key=lambda m: (issues.index(m.issue) if m.issue in issues else len(issues),
                                     order.get(m.column, len(order))))

    def main_measures(self, level: str) -> list[Measure]:
        """The measures to map; all of them when none is marked main."""
        measures = self.level_measures(level)
        return [m for m in measures if m.main] or measures


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position", [SCHEMA]).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, []).append((column, dtype))
    return tables


def _level_of_codes(con, table: str, column: str, where: str = "") -> str | None:
    lengths = {n for (n,) in con.execute(
        f'select distinct length("{column}") from {SCHEMA}."{table}" {where}').fetchall() if n}
    if len(lengths) == 1:
        return CODE_LENGTH_LEVEL.get(lengths.pop(), "region")
    return None


def discover(con: duckdb.DuckDBPyConnection, dbt_manifest: Path | None = None) -> MartCatalog:
    """Find the area marts (`mart_area*` tables with a fiscal year and an area code)."""
    catalog = MartCatalog()
    tables = _columns(con)
    catalog.has_kpi = "mart_kpi" in tables
    for table in sorted(tables, key=lambda t: (len(t), t)):  # the plainest name wins a level
        if not table.startswith("mart_") or table == "mart_kpi":
            continue
        columns = dict(tables[table])
        if "fiscal_year" not in columns:
            continue
        measures = [c for c, t in tables[table] if NUMERIC.match(t) and not NOT_MEASURES.search(c)]
        found: list[AreaMart] = []
        if "area_level" in columns and "area_code" in columns:
            for (level,) in con.execute(f'select distinct area_level from {SCHEMA}."{table}"').fetchall():
                if level in LEVELS:
                    found.append(AreaMart(table, level, "area_code", measures, level_filter=level))
        elif "area_code" in columns:
            level = _level_of_codes(con, table, "area_code")
            if level:
                found.append(AreaMart(table, level, "area_code", measures))
        else:
            for level, column in LEVEL_CODE_COLUMNS:
                if column in columns:
                    found.append(AreaMart(table, level, column, measures))
                    break
            else:
                region = next((c for c in columns if re.fullmatch(r"region(_\d)?_code", c)), None)
                if region:
                    found.append(AreaMart(table, "region", region, measures))
        for mart in found:
            catalog.area_marts.setdefault(mart.level, mart)
    docs = _dbt_column_docs(dbt_manifest)
    for mart in catalog.area_marts.values():
        for column in mart.measures:
            if column not in catalog.measures:
                catalog.measures[column] = _label(column, docs.get((mart.table, column), {}))
    return catalog


def _dbt_column_docs(manifest: Path | None) -> dict[tuple[str, str], dict]:
    """Column descriptions and meta of the marts from dbt's manifest, where the models document them."""
    if not manifest or not Path(manifest).exists():
        return {}
    nodes = json.loads(Path(manifest).read_text(encoding="utf-8")).get("nodes", {})
    docs = {}
    for node in nodes.values():
        if node.get("resource_type") != "model":
            continue
        for column, spec in (node.get("columns") or {}).items():
            docs[(node["name"], column)] = spec
    return docs


def _has_thai(text: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" for ch in text)


@lru_cache(maxsize=1)
def _label_rows() -> dict[str, dict]:
    with open(LABELS_FILE, encoding="utf-8", newline="") as fh:
        return {row["column"]: row for row in csv.DictReader(fh)}


def _label(column: str, doc: dict) -> Measure:
    """Names from the dbt docs' meta, else the labels file, else the dbt description."""
    meta = doc.get("meta") or {}
    row = _label_rows().get(column, {})
    humane = column.replace("_", " ").strip().capitalize()
    label_th = meta.get("label_th") or row.get("label_th") or None
    label_en = meta.get("label_en") or row.get("label_en") or None
    issue = meta.get("issue") or row.get("issue") or "other"
    main = bool(meta.get("main", row.get("main") == "1"))
    description = (doc.get("description") or "").strip()
    if description and not (label_th and label_en):
        first = re.split(r"(?<=[.;])\s", description)[0].rstrip(".;")
        if len(first) <= 90:
            if _has_thai(first) and not label_th:
                label_th = first
            elif not _has_thai(first) and not label_en:
                label_en = first
    return Measure(column, label_th, label_en or humane, issue, main)


def latest_fiscal_year(con: duckdb.DuckDBPyConnection, catalog: MartCatalog) -> int | None:
    years = [con.execute(f'select max(fiscal_year) from {SCHEMA}."{m.table}" {m.where()}').fetchone()[0]
             for m in catalog.area_marts.values()]
    years = [y for y in years if y is not None]
    return int(max(years)) if years else None


def figures(con: duckdb.DuckDBPyConnection, mart: AreaMart, fiscal_year: int | None = None,
            codes: list[str] | None = None) -> pd.DataFrame:
    """The mart's measures with `area_code` and `fiscal_year`, for one year and/or some areas."""
    select = ", ".join(f'"{c}"' for c in mart.measures)
    conditions, params = [], []
    if mart.level_filter:
        conditions.append(f"area_level = '{mart.level_filter}'")
    if fiscal_year is not None:
        conditions.append("fiscal_year = ?")
        params.append(fiscal_year)
    if codes is not None:
        conditions.append(f'"{mart.code_column}" in (select unnest(?))')
        params.append(list(codes))
    where = ("where " + " and ".join(conditions)) if conditions else ""
    df = con.execute(
        f'select "{mart.code_column}" as area_code, fiscal_year::integer as fiscal_year'
        + (f", {select}" if select else "")
        + f' from {SCHEMA}."{mart.table}" {where} order by 1, 2', params).df()
    for column in mart.measures:
        if df[column].dtype == bool:
            df[column] = df[column].astype(int)
    return df


@dataclass
class KpiColumns:
    name_th: str | None
    name_en: str | None
    unit: str | None
    unit_en: str | None = None
    sort_order: str | None = None


def kpi_columns(con: duckdb.DuckDBPyConnection) -> KpiColumns:
    columns = [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = 'mart_kpi' order by ordinal_position", [SCHEMA]).fetchall()]

    def first(*patterns):
        for pattern in patterns:
            for column in columns:
                if re.fullmatch(pattern, column):
                    return column
        return None
    return KpiColumns(name_th=first(r"(kpi_)?name_th", r".*name_th"),
                      name_en=first(r"(kpi_)?name_en", r".*name_en"),
                      unit=first(r"(kpi_)?unit(_th)?", r".*unit.*"),
                      unit_en=first(r"(kpi_)?unit_en"),
                      sort_order=first(r"sort_order"))


def kpis(con: duckdb.DuckDBPyConnection, area_level: str, area_code: str | None = None) -> pd.DataFrame:
    """The indicator rows of one area level (and area), with their names; empty without mart_kpi."""
    names = kpi_columns(con)
    order = ("sort_order, " if names.sort_order else "") + \
        "try_cast(regexp_extract(kpi_id, '\\d+') as integer), kpi_id, fiscal_year"
    select = ", ".join(f'"{c}" as {alias}' if c else f"null as {alias}" for c, alias in (
        (names.name_th, "name_th"), (names.name_en, "name_en"), (names.unit, "unit"),
        (names.unit_en if names.unit_en != names.unit else None, "unit_en")))
    where, params = "area_level = ?", [area_level]
    if area_code is not None:
        where += " and area_code = ?"
        params.append(area_code)
    return con.execute(
        f"select kpi_id, fiscal_year::integer as fiscal_year, area_code, {select}, "
        f"target::double as target, actual::double as actual, "
        f"achievement_pct::double as achievement_pct, status::varchar as status "
        f"from {SCHEMA}.mart_kpi where {where} "
        f"order by {order}", params).df()
