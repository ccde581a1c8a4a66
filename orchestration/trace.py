"""Trace one figure of `marts.mart_kpi` to the source rows behind it and the run that loaded them.

Usage: python -m orchestration.trace --kpi K2 --fy 2556 --area 10 [--grouping region_4]
       [--format text|csv|json] [--limit N]
       (or `make trace KPI=K2 FY=2556 AREA=10`)

`--area` is a province code (`10`), a region code (with `--grouping` when several groupings use
it) or `TH` for the country. The rows come from `audit.audit_kpi_lineage` (built by dbt from the
same intermediate models as mart_kpi); each load id is looked up in `lake/loads/` (files and
their sha256) and in the Dagster instance (DAGSTER_HOME: the run that materialised it). The
warehouse is opened read-only.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from orchestration import settings

LINEAGE = "audit.audit_kpi_lineage"
TOLERANCE = 0.01


class TraceError(Exception):
    """The figure asked for does not exist or cannot be traced; the message says why."""


@dataclass
class Trace:
    figure: dict[str, Any]
    rows: list[dict[str, Any]]
    loads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def numerator(self) -> float:
        return sum(r["numerator_contribution"] or 0 for r in self.rows)

    @property
    def denominator(self) -> float:
        return sum(r["denominator_contribution"] or 0 for r in self.rows)

    @property
    def adds_up(self) -> bool:
        """The listed rows' contributions sum to the figure's numerator and denominator."""
        return (abs(self.numerator - (self.figure["numerator"] or 0)) <= TOLERANCE
                and abs(self.denominator - (self.figure["denominator"] or 0)) <= TOLERANCE)


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def find_figure(con: duckdb.DuckDBPyConnection, kpi_id: str, fiscal_year: int, area_code: str,
                grouping: str | None = None) -> dict[str, Any]:
    figures = _records(con, """
        select kpi_id, fiscal_year, area_level, region_grouping, area_code, area_name_th, area_name_en,
               kpi_name_th, kpi_name_en, unit_en, counting, target, actual, numerator, denominator,
               achievement_pct, status
        from marts.mart_kpi
        where upper(kpi_id) = upper(?) and fiscal_year = ? and upper(area_code) = upper(?)
          and (? is null or region_grouping = ?)
        order by region_grouping""", [kpi_id, fiscal_year, area_code, grouping, grouping])
    if len(figures) == 1:
        return figures[0]
    if len(figures) > 1:
        options = ", ".join(f["region_grouping"] for f in figures)
        raise TraceError(f"{area_code} is a region in several groupings ({options}): "
                         f"choose one with --grouping.")
    years = [r[0] for r in con.execute(
        "select distinct fiscal_year from marts.mart_kpi where upper(kpi_id) = upper(?) order by 1",
        [kpi_id]).fetchall()]
    if not years:
        raise TraceError(f"No indicator {kpi_id} in marts.mart_kpi.")
    raise TraceError(f"No figure of {kpi_id} for FY{fiscal_year} and area {area_code} in "
                     f"marts.mart_kpi ({kpi_id} has fiscal years {years[0]}-{years[-1]}; areas are "
                     f"province codes, region codes or TH).")


def lineage_rows(con: duckdb.DuckDBPyConnection, figure: dict[str, Any]) -> list[dict[str, Any]]:
    traced = con.execute(f"select count(*) from {LINEAGE} where kpi_id = ?",
                         [figure["kpi_id"]]).fetchone()[0]
    if not traced:
        raise TraceError(f"{figure['kpi_id']} is not traced in {LINEAGE} (see its description).")
    return _records(con, f"""
        select source_table, _source_file, _source_row, _load_id, record_key, record_fiscal_year,
               province_code, numerator_contribution, denominator_contribution
        from {LINEAGE}
        where kpi_id = ? and fiscal_year = ? and area_level = ? and area_code = ?
          and region_grouping is not distinct from ?
        order by _source_file, _source_row""",
        [figure["kpi_id"], figure["fiscal_year"], figure["area_level"], figure["area_code"],
         figure["region_grouping"]])


def _reconciliation(lake_dir: Path, source_table: str) -> dict[str, Any] | None:
    path = lake_dir / "loads" / f"{source_table}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def dagster_run_for_load(instance, source_table: str, load_id: str) -> dict[str, Any] | None:
    """The run whose materialisation of `lake/<source>/<table>` recorded this load id."""
    import dagster as dg

    key = dg.AssetKey(["lake", *source_table.split("/")])
    result = instance.fetch_materializations(key, limit=200)
    for record in result.records:
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        value = metadata.get("load_id")
        if value is not None and getattr(value, "value", value) == load_id:
            run = instance.get_run_by_id(record.run_id)
            return {
                "dagster_run_id": record.run_id,
                "job": run.job_name if run else None,
                "run_status": run.status.value if run else None,
                "materialized_at": datetime.fromtimestamp(record.timestamp, timezone.utc).isoformat(),
            }
    return None


def describe_loads(rows: list[dict[str, Any]], lake_dir: Path, instance=None) -> list[dict[str, Any]]:
    loads: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["source_table"], row["_load_id"])
        loads.setdefault(key, {"source_table": key[0], "load_id": key[1], "rows": 0})["rows"] += 1
    for (source_table, load_id), load in loads.items():
        rec = _reconciliation(lake_dir, source_table)
        load["current_load"] = bool(rec and rec.get("load_id") == load_id)
        if load["current_load"]:
            load.update(loaded_at=rec.get("loaded_at"), files=rec.get("files", {}),
                        rows_read=rec.get("rows_read"), rows_valid=rec.get("valid"),
                        rows_quarantined=rec.get("quarantined"))
        if instance is not None:
            load.update(dagster_run_for_load(instance, source_table, load_id) or {"dagster_run_id": None})
    return sorted(loads.values(), key=lambda l: (l["source_table"], l["load_id"]))


def trace(kpi_id: str, fiscal_year: int, area_code: str, grouping: str | None = None, *,
          warehouse: Path | None = None, lake_dir: Path | None = None, instance=None) -> Trace:
    path = warehouse or settings.warehouse_path()
    if not path.exists():
        raise TraceError(f"No warehouse at {path}: run `make run` first.")
    with duckdb.connect(str(path), read_only=True) as con:
        figure = find_figure(con, kpi_id, fiscal_year, area_code, grouping)
        rows = lineage_rows(con, figure)
    return Trace(figure, rows, describe_loads(rows, lake_dir or settings.lake_dir(), instance))


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, (int, float)) else str(value)


def render_text(t: Trace, limit: int | None = 50) -> str:
    f = t.figure
    area = f["area_code"] + (f" ({f['region_grouping']})" if f["region_grouping"] else "")
    out = [
        f"{f['kpi_id']} {f['kpi_name_en']} / {f['kpi_name_th']}",
        f"FY{f['fiscal_year']}, {f['area_level']} {area}: {f['area_name_en']} / {f['area_name_th']}",
        f"marts.mart_kpi: actual {_n(f['actual'])} {f['unit_en'] or ''} "
        f"(numerator {_n(f['numerator'])}, denominator {_n(f['denominator'])}), "
        f"target {_n(f['target'])}, status {f['status']}",
        "",
        f"{len(t.rows):,} source rows; their contributions sum to numerator {_n(t.numerator)}"
        + (f", denominator {_n(t.denominator)}" if f["denominator"] is not None else "")
        + (": they add up to the figure." if t.adds_up else ": THEY DO NOT ADD UP to the figure."),
        "",
        "Loads:",
    ]
    for load in t.loads:
        run = load.get("dagster_run_id")
        line = f"  {load['source_table']}  load {load['load_id']}  ({load['rows']:,} rows)"
        if load.get("current_load"):
            line += f"  loaded {load.get('loaded_at')}"
        else:
            line += "  (no longer the lake's current load)"
        out.append(line)
        for name, sha in (load.get("files") or {}).items():
            out.append(f"      {name}  sha256 {sha}")
        if "dagster_run_id" in load:
            out.append(f"      Dagster run {run} ({load.get('job')}, {load.get('run_status')}, "
                       f"{load.get('materialized_at')})" if run else
                       "      Dagster run: not found in this instance (DAGSTER_HOME)")
    out += ["", "Rows (file, row as a person opening the file counts it, load id, record, "
                "contribution):"]
    shown = t.rows if limit is None else t.rows[:limit]
    for r in shown:
        contribution = _n(r["numerator_contribution"])
        if r["denominator_contribution"] is not None:
            contribution += f" / {_n(r['denominator_contribution'])}"
        out.append(f"  {r['_source_file']}  row {r['_source_row']}  {r['_load_id']}  "
                   f"{r['record_key']} (FY{r['record_fiscal_year']})  {contribution}")
    if len(shown) < len(t.rows):
        out.append(f"  ... {len(t.rows) - len(shown):,} more (--limit 0 for all, --format csv)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpi", required=True, help="indicator id, e.g. K2")
    parser.add_argument("--fy", required=True, type=int, help="Thai fiscal year (BE), e.g. 2556")
    parser.add_argument("--area", required=True, help="province code, region code or TH")
    parser.add_argument("--grouping", help="region grouping, for a region code (e.g. region_4)")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text")
    parser.add_argument("--limit", type=int, default=50, help="rows shown as text (0: all)")
    args = parser.parse_args(argv)

    instance = None
    try:
        import os

        import dagster as dg

        if os.environ.get("DAGSTER_HOME"):
            instance = dg.DagsterInstance.get()
    except Exception as exc:  # the rows are still worth showing without the run
        print(f"(Dagster instance not available: {exc})", file=sys.stderr)
    try:
        result = trace(args.kpi, args.fy, args.area, args.grouping, instance=instance)
    except TraceError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        if instance is not None:
            instance.dispose()

    if args.format == "json":
        print(json.dumps({**asdict(result), "adds_up": result.adds_up}, ensure_ascii=False,
                         indent=2, default=str))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(result.rows[0]) if result.rows else
                                ["source_table"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.rows)
    else:
        print(render_text(result, None if args.limit == 0 else args.limit))
    return 0 if result.adds_up else 1


if __name__ == "__main__":
    sys.exit(main())
