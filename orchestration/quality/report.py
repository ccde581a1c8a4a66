"""Headlines of the quality and audit outputs, for the summary `make run` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from orchestration import settings
from orchestration.quality.runner import validations_dir


def docs_paths() -> dict[str, Path]:
    docs = settings.publish_dir() / "docs"
    return {"index": docs / "index.html", "great_expectations": docs / "great_expectations" / "index.html",
            "dbt": docs / "dbt" / "index.html"}


def latest_validations(root: Path | None = None) -> tuple[str | None, list[dict[str, Any]]]:
    """The most recent run's validation results: (run name, [{suite, success, failed}])."""
    root = root or validations_dir()
    files = list(root.rglob("*.json")) if root.exists() else []
    if not files:
        return None, []
    latest = max(files, key=lambda p: p.stat().st_mtime)
    run_name = latest.parent.parent.name
    results = []
    for path in files:
        if path.parent.parent.name != run_name:
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        results.append({
            "suite": data.get("suite_name"),
            "success": bool(data.get("success")),
            "failed": (data.get("statistics") or {}).get("unsuccessful_expectations", 0),
            "page": path.relative_to(root).with_suffix(".html").as_posix(),
        })
    return run_name, sorted(results, key=lambda r: r["suite"] or "")


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables "
                            "where table_schema = ? and table_name = ?", [schema, table]).fetchone()[0])


def headlines(con: duckdb.DuckDBPyConnection) -> list[str]:
    lines = []
    if _exists(con, "audit", "audit_reporting_completeness"):
        sources, first, last, expected, reported, late, missing = con.execute("""
            select count(distinct source), min(fiscal_year), max(fiscal_year), sum(areas_expected),
                   sum(areas_reported), sum(areas_late), sum(areas_missing)
            from audit.audit_reporting_completeness""").fetchone()
        rate = f"{100 * reported / expected:.1f} %" if expected else "-"
        lines.append(f"audit.audit_reporting_completeness: {sources} periodic sources, FY{first}-{last}: "
                     f"{reported:,} of {expected:,} expected area reports in ({rate}), "
                     f"{late:,} late, {missing:,} missing")
    if _exists(con, "audit", "audit_outliers"):
        rows = con.execute("""select area_level, count(*) from audit.audit_outliers group by area_level
                              order by case area_level when 'province' then 1
                                       when 'district' then 2 else 3 end""").fetchall()
        total = sum(n for _, n in rows)
        lines.append(f"audit.audit_outliers: {total:,} values flagged (|robust z| > 3.5)"
                     + (": " + ", ".join(f"{n:,} {level}" for level, n in rows) if rows else ""))
    if _exists(con, "audit", "audit_kpi_lineage"):
        n = con.execute("select count(*) from audit.audit_kpi_lineage").fetchone()[0]
        lines.append(f"audit.audit_kpi_lineage: {n:,} figure-to-source-row links; trace a figure "
                     f"with `make trace KPI=K2 FY=2556 AREA=10`")
    return lines
