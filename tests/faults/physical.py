"""How many records a source file holds, counted from its bytes, apart from the pipeline's readers
(the contract: DESIGN section 2, "Reconciled against the bytes, not the parser").

- CSV: the non-blank lines after the header line (lines end at `\\n`; a `\\r` before it and a
  UTF-8 byte order mark are not content). No multi-line quoted record is expected in an export:
  where one is, each of its lines counts (the reader must account for them).
- NDJSON: the non-blank `\\n`-lines (U+2028 and U+2029 inside a string are not line ends).
- xlsx: per sheet, the rows below the header row with any non-blank cell, read with openpyxl
  (the pipeline reads with calamine).
- SQLite: the table's rows.
- GeoJSON: the features.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import schemas

BLANK = b" \t\r\x0b\x0c"


def csv_lines(data: bytes) -> list[int]:
    """The numbers (header = line 1) of the non-blank lines after the header."""
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    return [i + 1 for i, line in enumerate(lines) if i and line.strip(BLANK)]


def ndjson_lines(data: bytes) -> list[int]:
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    return [i + 1 for i, line in enumerate(lines) if line.strip(BLANK)]


def xlsx_rows(path: Path, first_header: str) -> list[tuple[str, int]]:
    """(sheet, Excel row) of the rows below the row whose first non-blank cell is `first_header`
    that have any non-blank cell, in every sheet."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for sheet in book.worksheets:
            below = False
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [c for c in row if c is not None and str(c).strip()]
                if not below:
                    below = bool(cells) and str(cells[0]).strip() == first_header
                elif cells:
                    out.append((sheet.title, number))
        return out
    finally:
        book.close()


def sqlite_rowids(path: Path, table: str) -> list[int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute(f'select rowid from "{table}" order by rowid')]
    finally:
        con.close()


def geojson_features(data: bytes) -> list[int]:
    return list(range(1, len(json.loads(data.decode("utf-8-sig"))["features"]) + 1))


def file_rows(spec: schemas.TableSpec, path: Path, rel: str) -> set[tuple[str, int]]:
    """The records of one file of a table as (`_source_file`, `_source_row`), by its format
    (docs/lake.md: where a row came from)."""
    if spec.format == "csv":
        return {(rel, n) for n in csv_lines(path.read_bytes())}
    if spec.format == "ndjson":
        return {(rel, n) for n in ndjson_lines(path.read_bytes())}
    if spec.format == "geojson":
        return {(rel, n) for n in geojson_features(path.read_bytes())}
    if spec.format == "sqlite":
        return {(rel, n) for n in sqlite_rowids(path, spec.sqlite_table)}
    if spec.format == "xlsx":
        return {(f"{rel}[{sheet}]", n) for sheet, n in xlsx_rows(path, spec.columns[0].source_name)}
    raise ValueError(spec.format)


def table_rows(spec: schemas.TableSpec, sources: Path) -> set[tuple[str, int]]:
    """The records of every file of a table (its pattern under the sources folder)."""
    sources = Path(sources)
    out: set[tuple[str, int]] = set()
    for path in sorted(sources.glob(spec.pattern)):
        if path.is_file():
            out |= file_rows(spec, path, path.relative_to(sources).as_posix())
    return out


def table_records(spec: schemas.TableSpec, sources: Path) -> int:
    return len(table_rows(spec, sources))
