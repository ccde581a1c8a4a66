"""The read-only copy of the marts for BI tools: `codi.duckdb`, one Parquet file per mart in
`parquet/`, and `manifest.json` saying which run wrote them, written into the folder of the release
being built (publishing/release.py); readers find them at `published/codi.duckdb`,
`published/parquet/` and `published/manifest.json` once the release is switched in.

The publisher only ever reads the warehouse and never opens a published file for writing, so it
never holds a lock a BI tool could trip over.

Usage: python -m publishing.database --warehouse W --out DIR --run-id ID [--keep N]
(a release of the copy alone, switched in as `DIR/current`: for a copy outside the pipeline)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from publishing import atomic

DATABASE_FILE = "codi.duckdb"
MANIFEST_FILE = "manifest.json"
PARQUET_DIR = "parquet"
SCHEMA = "marts"
BANGKOK = ZoneInfo("Asia/Bangkok")
# The storage format of the copy: DuckDB 1.0 and every later release read it, so a BI driver that
# embeds an older DuckDB than the one that runs the pipeline can still open the file.
STORAGE_VERSION = "v1.0.0"
# Personal data never leaves the warehouse (PDPA): not even pseudonyms belong in a mart.
PERSONAL_COLUMN = re.compile(r"citizen|head_name|borrower_name|member_name|pseudonym", re.IGNORECASE)
LOCK_WAIT_SECONDS = 60


class PublishBlocked(RuntimeError):
    """The marts are not fit to publish; the last good copy stays in place."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """Attach read-only, waiting a little if a writer (dbt finishing its run) still holds the lock."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con.execute(f"attach {_sql_str(warehouse)} as wh (read_only)")
            return
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(1)


def _sql_str(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def mart_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = ? order by table_name",
        [catalog, SCHEMA]).fetchall()
    return [name for (name,) in rows]


def _personal_columns(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = ? and table_schema = ?", [catalog, SCHEMA]).fetchall()
    return [f"{SCHEMA}.{t}.{c}" for t, c in rows if PERSONAL_COLUMN.search(c)]


def publish(warehouse: Path, out_dir: Path, run_id: str,
            progress: Callable[[str], None] | None = None) -> dict:
    """Copy every table of the warehouse's `marts` schema to `out_dir`; return the manifest."""
    say = progress or (lambda message: None)
    warehouse, out_dir = Path(warehouse), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parquet_dir = out_dir / PARQUET_DIR
    parquet_dir.mkdir(exist_ok=True)
    for folder in (out_dir, parquet_dir):
        for leftover in atomic.remove_stale_temps(folder):
            say(f"removed {leftover.name}, left by an earlier publish that did not finish")

    published_at = datetime.now(BANGKOK).replace(microsecond=0)
    target = out_dir / DATABASE_FILE
    tmp = atomic.temp_sibling(target)
    rows: dict[str, int] = {}
    parquet_tmp: dict[str, Path] = {}
    try:
        with duckdb.connect() as con:
            con.execute("set enable_progress_bar = false")  # no bars in the run's log
            _attach_warehouse(con, warehouse)
            tables = mart_tables(con, "wh")
            if not tables:
                raise PublishBlocked(f"{warehouse} has no tables in schema {SCHEMA}")
            personal = _personal_columns(con, "wh")
            if personal:
                raise PublishBlocked("personal data must not be published: " + ", ".join(personal))
            con.execute(f"attach {_sql_str(tmp)} as pub (storage_version '{STORAGE_VERSION}')")
            con.execute(f"create schema pub.{SCHEMA}")
            for table in tables:
                say(f"copy {SCHEMA}.{table}")
                name = f"{SCHEMA}.{_quote(table)}"
                con.execute(f"create table pub.{name} as select * from wh.{name}")
                rows[table] = con.execute(f"select count(*) from pub.{name}").fetchone()[0]
            # What a dashboard shows as "data as of": which run published it, and when.
            con.execute("create schema pub.meta")
            con.execute("""create table pub.meta.publish_info as select
                ?::varchar as run_id, ?::timestamptz as published_at,
                ?::varchar as duckdb_version, ?::varchar as storage_version""",
                        [run_id, published_at, duckdb.__version__, STORAGE_VERSION])
            con.execute("create table pub.meta.published_tables (table_name varchar, row_count bigint)")
            con.executemany("insert into pub.meta.published_tables values (?, ?)", list(rows.items()))
            # The Parquet files come from the new copy while it is still ours alone (opening the
            # published path again could meet a reader's cached, older instance of that file).
            for table in tables:
                say(f"parquet {table}.parquet")
                parquet_tmp[table] = atomic.temp_sibling(parquet_dir / f"{table}.parquet")
                con.execute(f"copy (select * from pub.{SCHEMA}.{_quote(table)}) "
                            f"to {_sql_str(parquet_tmp[table])} (format parquet, compression zstd)")
            con.execute("detach pub")  # checkpoints: the file is whole, with no write-ahead log
        for path in (tmp, *parquet_tmp.values()):
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        say(f"rename {tmp.name} -> {DATABASE_FILE}")
        os.replace(tmp, target)
        for table, path in parquet_tmp.items():
            os.replace(path, parquet_dir / f"{table}.parquet")
    finally:
        for path in (tmp, Path(f"{tmp}.wal"), *parquet_tmp.values()):
            path.unlink(missing_ok=True)
    for old in parquet_dir.glob("*.parquet"):
        if old.stem not in rows:  # a mart that no longer exists
            old.unlink()

    manifest = {
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "timezone": "Asia/Bangkok",
        "duckdb_version": duckdb.__version__,
        "storage_version": STORAGE_VERSION,
        "database": DATABASE_FILE,
        "tables": {t: {"rows": n, "parquet": f"{PARQUET_DIR}/{t}.parquet"} for t, n in rows.items()},
    }
    atomic.write_text(out_dir / MANIFEST_FILE, json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def read_manifest(out_dir: Path) -> dict | None:
    path = Path(out_dir) / MANIFEST_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Publish the warehouse's marts for BI tools.")
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--keep", type=int, default=3, help="releases to keep (default 3)")
    args = parser.parse_args(argv)
    from publishing import release

    say = lambda message: print(message, flush=True)  # noqa: E731
    folder = release.open_building(args.out, args.run_id, say=say)
    manifest = publish(args.warehouse, folder, args.run_id, progress=say)
    release.record_part(folder, "codi_duckdb", [folder / DATABASE_FILE, folder / PARQUET_DIR])
    release.finish(args.out, args.run_id, args.run_id, ["codi_duckdb"], keep=args.keep, say=say)
    print(json.dumps(manifest["tables"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
