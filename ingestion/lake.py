"""Writing the lake. Parquet is the source of truth for everything dbt reads; a table's folder
holds only its current load, swapped in whole so that a reader never sees half a load."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DATA_FILE = "data.parquet"


def table_dir(lake_dir: Path, layer: str, source: str, table: str) -> Path:
    """`lake/<layer>/<source>/<table>/`, the folder dbt's source for that table reads."""
    return Path(lake_dir) / layer / source / table


def write_table_atomic(table: pa.Table, folder: Path) -> Path:
    """Write `folder/data.parquet` so that the old file stays whole until the new one is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{DATA_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, folder / DATA_FILE)
    finally:
        if tmp.exists():
            tmp.unlink()
    return folder / DATA_FILE


def write_parts_atomic(parts: Iterable[pa.Table], schema: pa.Schema, folder: Path) -> Path:
    """`write_table_atomic` for a load written part by part (one source file at a time), so that
    a table of millions of rows never has to be held in memory whole."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{DATA_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for part in parts:
                writer.write_table(part.select(schema.names).cast(schema))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, folder / DATA_FILE)
    finally:
        if tmp.exists():
            tmp.unlink()
    return folder / DATA_FILE
