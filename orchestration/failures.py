"""Why a step failed, in one line a data engineer can act on: the root error (not Dagster's
"Error occurred while executing op ..."), and the file, table, row and column where known. The
summary of `make run` and the alert (log line, webhook) both say it this way.

No personal value is quoted: ID-like numbers and pseudonyms are masked in any message, and in a
step that reads a table with personal columns every quoted value that is not a path or one of
the table's column names is masked too (an unexpected error, e.g. a parser's, may quote a cell).
"""

from __future__ import annotations

import re
from typing import Any

import dagster as dg

# Dagster's own wrappers around the error raised in a step: never the cause.
WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError",
            "DagsterExecutionInterruptedError", "DagsterUserCodeProcessError"}
WHERE = ("file", "table", "row", "column")
# A Thai citizen ID (13 digits, maybe grouped 1-2345-67890-12-3) and a pseudonym (HMAC-SHA256).
ID_LIKE = re.compile(r"(?<![0-9])[0-9](?:[- ]?[0-9]){12}(?![0-9])")
PSEUDONYM = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
MASK = "[masked]"


def root_error(error):
    """The deepest error of a SerializableErrorInfo chain: the explicit cause first (`raise ...
    from`), else the error being handled when it was raised."""
    while True:
        deeper = error.cause or error.context
        if deeper is None:
            return error
        error = deeper


def _one_line(message: str, limit: int) -> str:
    text = " ".join(line.strip() for line in message.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table_of(step_key: str | None):
    """The source table a step loads (`lake__<source>__<table>`), if any."""
    if not step_key or not step_key.startswith("lake__"):
        return None
    import schemas

    return next((spec for spec in schemas.TABLES.values()
                 if step_key == f"lake__{spec.source}__{spec.table}"), None)


def _personal_columns(spec) -> set[str]:
    from schemas.base import CITIZEN_ID, PERSON_NAME

    return {c.name for c in spec.columns if c.kind in (CITIZEN_ID, PERSON_NAME)}


def mask_personal(text: str, spec=None) -> str:
    """`text` with ID-like numbers and pseudonyms masked; for a table with personal columns, also
    every quoted value that is not a path or a column name of the table."""
    text = ID_LIKE.sub(MASK, PSEUDONYM.sub(MASK, text))
    if spec is not None and _personal_columns(spec):
        names = {c.name for c in spec.columns} | {c.source_name for c in spec.columns}

        def keep_or_mask(match: re.Match) -> str:
            value = match.group(1) if match.group(1) is not None else match.group(2)
            if "/" in value or value in names or value == "":
                return match.group(0)
            quote = match.group(0)[0]
            return f"{quote}{MASK}{quote}"
        text = QUOTED.sub(keep_or_mask, text)
    return text


def describe(step_key: str | None, data, limit: int = 2000) -> dict[str, Any]:
    """A failed step (its StepFailureData) as {step, error, [exception], [file, table, row,
    column]}: `error` is the failure's own description (a dg.Failure, e.g. a bad source file) or
    the root error of the chain; `exception` the root error's class."""
    out: dict[str, Any] = {"step": step_key, "error": ""}
    if data is None:
        return out
    user = data.user_failure_data
    root = root_error(data.error) if data.error is not None else None
    if user is not None and user.description:
        message = user.description
    elif root is not None:
        message = root.message
    else:
        message = ""
    spec = _table_of(step_key)
    # A dg.Failure's description is written by our own code to name no personal value (a bad
    # source's message quotes column names and positions); an unexpected error's message is not
    # ours, so quoted values in a personal table's step are masked too.
    described = user is not None and bool(user.description)
    out["error"] = _one_line(mask_personal(message, None if described else spec), limit)
    if root is not None and root.cls_name and root.cls_name not in WRAPPERS:
        out["exception"] = root.cls_name
    where = {k: v.value for k, v in (user.metadata if user else {}).items() if k in WHERE}
    if spec is not None:
        where.setdefault("table", spec.name)
    out.update({k: v for k, v in where.items() if v not in (None, "", 0) or k == "table"})
    return out


def where_text(failure: dict[str, Any]) -> str:
    """" (file x, row 12, column 'y')" for what is known and the error does not say, else ""."""
    parts = []
    for key in WHERE:
        value = failure.get(key)
        if value not in (None, "", 0) and str(value) not in failure["error"]:
            parts.append(f"{key} {value!r}" if key == "column" else f"{key} {value}")
    return f" ({', '.join(parts)})" if parts else ""


def step_failures(instance: dg.DagsterInstance, run_id: str, limit: int = 2000) -> list[dict[str, Any]]:
    """Every failed step of a run, described."""
    return [describe(entry.step_key, entry.dagster_event.step_failure_data, limit)
            for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)]


def run_failure(instance: dg.DagsterInstance, run_id: str, limit: int = 2000) -> str:
    """Why the run failed when no step did (the run failure event's root error or message)."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        data = entry.dagster_event.event_specific_data
        error = getattr(data, "error", None)
        if error is not None:
            return _one_line(mask_personal(root_error(error).message), limit)
        if entry.dagster_event.message:
            return _one_line(mask_personal(entry.dagster_event.message), limit)
    return ""
