"""What an auditor asks of every materialisation: which code made it (the git commit), which
dbt invocation, how many rows. Any asset can add `code_version_metadata()` to its metadata; the
dbt asset wraps its event stream in `with_dbt_audit_metadata`."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from orchestration import settings


@functools.cache
def git_commit(root: Path = settings.PROJECT_ROOT) -> dict[str, Any]:
    """The checked-out commit and whether the working tree differs from it. A copy without git
    (a tarball, a container without .git) reports `unknown` rather than failing the run."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        # Only tracked files count: data, lake and warehouse are untracked by design.
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": dirty}


def code_version_metadata() -> dict[str, Any]:
    """`code_version/git_commit` (and `code_version/dirty` when the tree has local changes)."""
    version = git_commit()
    metadata: dict[str, Any] = {"code_version/git_commit": version["commit"]}
    if version["dirty"] is not None:
        metadata["code_version/uncommitted_changes"] = version["dirty"]
    return metadata


def table_row_counts(relations: Iterable[str], warehouse: Path | None = None) -> dict[str, int]:
    """Row counts of `schema.table` relations, read from the warehouse opened read-only.
    Relations that do not exist (a model dbt skipped) are left out."""
    path = warehouse or settings.warehouse_path()
    wanted = set(relations)
    if not wanted or not path.exists():
        return {}
    counts: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        present = {f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        for relation in sorted(wanted & present):
            schema, table = relation.split(".", 1)
            counts[relation] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    return counts


def _asset_key(event: Any, context) -> dg.AssetKey | None:
    if isinstance(event, dg.AssetMaterialization):
        return event.asset_key
    if isinstance(event, dg.Output) and context is not None:
        return context.asset_key_for_output(event.output_name)
    return None


def _relation(asset_key: dg.AssetKey | None) -> str | None:
    """`<schema>/<model>` asset keys name `schema.model` in the warehouse (README: one grammar)."""
    return ".".join(asset_key.path) if asset_key and len(asset_key.path) == 2 else None


def with_dbt_audit_metadata(invocation) -> Iterator[Any]:
    """Stream a dbt CLI invocation's events with the auditor's metadata added to every
    materialisation: the git commit, the dbt command and invocation id, and the row count of
    each table. DuckDB lets no other process open the file while dbt writes it, so the events
    are held until dbt has finished and the counts can be read; then all are passed on, and a
    dbt failure is raised after them, so nothing dbt reported is lost."""
    events: list[Any] = []
    error: BaseException | None = None
    try:
        for event in invocation.stream():
            events.append(event)
    except Exception as exc:  # dbt failed: report what it did before re-raising
        error = exc

    relations = {id(event): relation for event in events
                 if (relation := _relation(_asset_key(event, invocation.context)))}
    try:
        counts = table_row_counts(relations.values())
    except duckdb.Error:  # never lose the run's events over a count
        counts = {}

    # dagster-dbt already records the dbt `invocation_id` on each event.
    common = {**code_version_metadata(), "dbt_command": invocation.dbt_command}
    for event in events:
        if isinstance(event, (dg.Output, dg.AssetMaterialization)):
            metadata = dict(event.metadata or {})
            metadata.update(common)
            relation = relations.get(id(event))
            if relation in counts:
                metadata["dagster/row_count"] = dg.MetadataValue.int(counts[relation])
            event = event.with_metadata(metadata)
        yield event
    if error is not None:
        raise error
