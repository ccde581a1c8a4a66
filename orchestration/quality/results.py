"""A GE validation result as a Dagster asset check result, with what the data team needs to
act on a failure without opening anything else: which expectations failed, how many rows, the
first failing rows by name, the query, and where the Data Docs are."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.quality.runner import Outcome

SAMPLE_ROWS = 10


def _plain(value: Any) -> Any:
    """NaN (how pandas shows a SQL null) as None; numpy scalars as Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _cell(value: Any) -> str:
    value = _plain(value)
    text = "null" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _failing_row(row: Any) -> dict[str, Any]:
    """GE names a failing row by its row_id columns, or, for a suite without them, its index."""
    if isinstance(row, dict):
        return {k: _plain(v) for k, v in row.items()}
    return {"row_index": _plain(row)}


def _expectation_rows(result) -> list[dict[str, Any]]:
    rows = []
    for item in result.results:
        config = item.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)}
        detail = item.result or {}
        rows.append({
            "expectation": config.type,
            "kwargs": kwargs,
            "success": bool(item.success),
            "element_count": detail.get("element_count"),
            "unexpected_count": detail.get("unexpected_count"),
            "observed_value": detail.get("observed_value"),
            "failing_rows": [_failing_row(row)
                             for row in detail.get("partial_unexpected_index_list") or []],
            "exception": (item.exception_info or {}).get("exception_message")
            if (item.exception_info or {}).get("raised_exception") else None,
        })
    return rows


def _failing_rows_md(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    rows = rows[:SAMPLE_ROWS]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def summary_markdown(outcome: Outcome) -> str:
    suite = outcome.suite
    lines = [f"**{suite.description}**", ""]
    if outcome.error:
        lines += [f"The query could not run: `{outcome.error}`"]
        return "\n".join(lines)
    lines += ["| expectation | arguments | result | rows checked | unexpected |",
              "| --- | --- | --- | --- | --- |"]
    details = _expectation_rows(outcome.result)
    for row in details:
        verdict = "pass" if row["success"] else ("error" if row["exception"] else "FAIL")
        args = ", ".join(f"{k}={v}" for k, v in row["kwargs"].items())
        lines.append(f"| {row['expectation']} | {_cell(args)} | {verdict} | "
                     f"{_cell(row['element_count'] if row['element_count'] is not None else row['observed_value'])} | "
                     f"{_cell(row['unexpected_count'])} |")
    for row in details:
        if not row["success"]:
            lines += ["", f"First failing rows of `{row['expectation']}` "
                          f"({row['unexpected_count']} in all):", "",
                      _failing_rows_md(row["failing_rows"]) or f"`{row['exception']}`"]
    return "\n".join(lines)


def to_check_result(outcome: Outcome, *, data_docs: Path | None = None) -> dg.AssetCheckResult:
    """The Dagster result of one suite: passed or not, ERROR severity for a blocking suite
    (Dagster then skips what is downstream of the asset), WARN otherwise."""
    suite = outcome.suite
    metadata: dict[str, Any] = {
        "ge_suite": suite.name,
        "summary": dg.MetadataValue.md(summary_markdown(outcome)),
        "sql": dg.MetadataValue.md(f"```sql\n{outcome.sql.strip()}\n```"),
        "blocking": suite.blocking,
    }
    if outcome.rows is not None:
        metadata["rows_checked"] = outcome.rows
    if outcome.result is not None:
        details = _expectation_rows(outcome.result)
        metadata["expectations"] = len(details)
        metadata["expectations_failed"] = sum(not d["success"] for d in details)
        metadata["unexpected_rows"] = sum(d["unexpected_count"] or 0 for d in details)
        failing = [r for d in details if not d["success"] for r in d["failing_rows"]]
        if failing:
            metadata["failing_rows_sample"] = dg.MetadataValue.json(
                json.loads(json.dumps(failing[:SAMPLE_ROWS], default=str)))
        run_id = outcome.result.meta.get("run_id")
        if run_id is not None:
            metadata["ge_run_name"] = getattr(run_id, "run_name", str(run_id))
    if outcome.row_count is not None:
        metadata["row_count"] = outcome.row_count
    for name, value in (outcome.parameters or {}).items():
        if value is not None:
            metadata[f"parameter/{name}"] = value
    if outcome.error:
        metadata["error"] = outcome.error
    if data_docs is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(data_docs))
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey.from_user_string(suite.asset),
        check_name=suite.check,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=suite.description,
    )
