"""One reader per source format (DESIGN section 4). Each returns the rows as raw text columns with
where they came from (`_source_file`, `_source_row`, counted as docs/lake.md says), the lines it
could not read as rows (`malformed`, quarantined by the load), and the files' sha256.

A problem with the whole table (missing file, unreadable file, wrong encoding, empty file, a
missing or renamed column) raises `SourceError` naming the file, the table, the row and the
column, so that the load keeps the last good data and the asset fails with a clear message.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
LOAD_ID = "_load_id"
LINEAGE = (SOURCE_FILE, SOURCE_ROW)

# Reason codes for rows a reader cannot split into columns.
JSON_MALFORMED = "json_malformed"
ROW_MALFORMED = "row_malformed"


class SourceError(Exception):
    """A table-level problem: the load stops and the last good load stays in the lake."""

    def __init__(self, message: str, *, file: str, table: str, row: int | None = None,
                 column: str | None = None):
        self.file, self.table, self.row, self.column = file, table, row, column
        where = [f"file {file}", f"table {table}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{message} ({', '.join(where)})")


@dataclass
class RawTable:
    """What a reader returns. `frame`: text columns (null for empty) plus the lineage columns.
    `malformed`: rows that could not be read as records (lineage, `reason_code`, `column`,
    `message`, `raw`). `files`: relative path -> sha256 of each file read."""

    frame: pd.DataFrame
    malformed: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)


MALFORMED_COLUMNS = [SOURCE_FILE, SOURCE_ROW, "reason_code", "column", "message", "raw"]


def empty_malformed() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == SOURCE_ROW else "str")
                         for c in MALFORMED_COLUMNS})


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _header_name(value: object) -> str:
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", str(value or "")).strip().lstrip("\ufeff"))


def check_columns(found: Sequence[str], expected: Sequence[str], *, file: str, table: str,
                  row: int | None, labels: dict[str, str] | None = None) -> None:
    """Every expected column must be there; name the first missing one, and the unexpected
    columns that may be it renamed."""
    missing = [c for c in expected if c not in found]
    if not missing:
        return
    extra = [c for c in found if c not in expected and c]
    label = labels.get(missing[0], missing[0]) if labels else missing[0]
    hint = (f"; the file has unexpected column(s) {', '.join(repr(e) for e in extra)}: renamed?"
            if extra else "")
    others = f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1 else ""
    raise SourceError(f"column {label!r} is missing{others}{hint}", file=file, table=table,
                      row=row, column=missing[0])


def _text_frame(columns: dict[str, list], files: list[str], rows: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(values, dtype="str") for name, values in columns.items()})
    frame[SOURCE_FILE] = pd.Series(files, dtype="str")
    frame[SOURCE_ROW] = pd.Series(rows, dtype="int64")
    return frame


def _cell_text(value: object) -> str | None:
    """A cell as text the normalisers read: a real date as ISO, a whole float without `.0`."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    text = str(value)
    return text if text.strip() else None


# -- SQLite ------------------------------------------------------------------------------------

def read_sqlite(path: Path, rel: str, table_name: str, columns: Sequence[str], *,
                table: str) -> RawTable:
    """A table of a SQLite database; `_source_row` is the table's rowid."""
    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = [r[1] for r in con.execute(f'pragma table_info("{table_name}")')]
            if not names:
                tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
                raise SourceError(f"the database has no table {table_name!r} (it has: "
                                  f"{', '.join(tables) or 'none'})", file=rel, table=table)
            check_columns(names, columns, file=rel, table=table, row=None)
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select rowid, {select} from "{table_name}" order by rowid').fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"not a readable SQLite database: {exc}", file=rel, table=table) from exc
    if not rows:
        raise SourceError(f"the table {table_name!r} is empty", file=rel, table=table)
    data = {c: [_cell_text(r[i + 1]) for r in rows] for i, c in enumerate(columns)}
    frame = _text_frame(data, [rel] * len(rows), [r[0] for r in rows])
    return RawTable(frame, empty_malformed(), {rel: sha256_file(path)})


# -- Excel workbooks -----------------------------------------------------------------------------

def read_workbook(path: Path, rel: str, headers: dict[str, str], *, table: str,
                  header_search_rows: int = 20, only: Sequence[str] | None = None) -> RawTable:
    """Every sheet of a workbook. A sheet has a title, then a header row holding `headers`
    (source header -> lake column), then data rows; `_source_row` is the Excel row number and
    `_source_file` is `file[sheet]`. Blank rows are skipped. A `region_sheet` column says which
    sheet the row came from. Read with calamine (Rust): openpyxl takes ten times as long.
    `only` keeps just those lake columns (every header is still checked)."""
    import python_calamine

    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets_in_book = [(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
                          for name in book.sheet_names]
    except Exception as exc:  # calamine raises its own errors for zip, XML and format problems
        raise SourceError(f"not a readable xlsx workbook: {type(exc).__name__}: {exc}",
                          file=rel, table=table) from exc
    wanted = list(headers)
    data: dict[str, list] = {c: [] for c in headers.values() if only is None or c in only}
    sheets, files, rows = [], [], []
    for title, cells_by_row in sheets_in_book:
        where = f"{rel}[{title}]"
        header_row, positions = None, {}
        # skip_empty_area=False: list index + 1 is the Excel row number, blank rows included.
        for number, values in enumerate(cells_by_row, start=1):
            if header_row is None:
                names = [_header_name(v) for v in values]
                if sum(n in wanted for n in names) >= max(2, len(wanted) // 2):
                    header_row = number
                    check_columns(names, wanted, file=where, table=table, row=number,
                                  labels={h: f"{h} ({c})" for h, c in headers.items()})
                    positions = {names.index(h): headers[h] for h in wanted
                                 if only is None or headers[h] in only}
                elif number >= header_search_rows:
                    break
                continue
            cells = [_cell_text(values[i]) if i < len(values) else None for i in positions]
            if all(c is None for c in cells):
                continue
            for i, c in zip(positions, cells):
                data[positions[i]].append(c)
            sheets.append(title)
            files.append(where)
            rows.append(number)
        if header_row is None:
            raise SourceError(f"no header row with the columns {', '.join(wanted[:3])}, ... "
                              f"in the first {header_search_rows} rows", file=where, table=table,
                              column=wanted[0])
    if not rows:
        raise SourceError("the workbook has no data rows", file=rel, table=table)
    frame = _text_frame(data, files, rows)
    frame.insert(len(data), "region_sheet", pd.Series(sheets, dtype="str"))
    return RawTable(frame, empty_malformed(), {rel: sha256_file(path)})


# -- CSV -----------------------------------------------------------------------------------------

ENCODING_NAMES = {"cp874": "Windows-874 (TIS-620)", "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM"}


def _line_and_column(data: bytes, offset: int, header: list[str] | None) -> tuple[int, str | None]:
    """The line (1-based) and the column an offending byte is in."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    prefix = data[line_start:offset].decode("utf-8", errors="replace")
    fields = next(csv.reader([prefix]), [""])
    column = None
    if header and line > 1:
        column = header[min(len(fields), len(header)) - 1] if fields else header[0]
    return line, column


def decode(data: bytes, encoding: str, *, rel: str, table: str) -> str:
    """Decode a whole file strictly: a file in another encoding is a table-level failure, named
    with the line and column of the first byte that does not fit."""
    header = None
    try:
        if encoding == "cp874" and re.search(rb"[\x80-\xff]", data):
            # UTF-8 Thai bytes often decode as (wrong) Windows-874 too: catch them first.
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                first = re.search(rb"[\x80-\xff]", data).start()
                header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8", "replace")]))
                line, column = _line_and_column(data, first, header)
                raise SourceError(f"the file is UTF-8, not {ENCODING_NAMES['cp874']}", file=rel,
                                  table=table, row=line, column=column)
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        header_text = data.split(b"\n", 1)[0].decode(encoding, errors="replace")
        header = [_header_name(h) for h in next(csv.reader([header_text]), [])]
        line, column = _line_and_column(data, exc.start, header)
        raise SourceError(f"the file is not {ENCODING_NAMES.get(encoding, encoding)}: byte "
                          f"0x{data[exc.start]:02x} cannot be decoded", file=rel, table=table,
                          row=line, column=column) from exc


def read_csv(path: Path, rel: str, columns: Sequence[str], *, table: str,
             encoding: str = "utf-8", allow_empty: bool = False) -> RawTable:
    """A CSV file with a header line; `_source_row` is the record's line (header = line 1).
    A line with the wrong number of fields is returned in `malformed`, not dropped. A header
    with no rows is an error unless `allow_empty` (one of many files, as members per province)."""
    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    data = path.read_bytes()
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise SourceError("the file is empty", file=rel, table=table, row=1)
    text = decode(data, encoding, rel=rel, table=table)
    if text.startswith("\ufeff"):
        text = text[1:]
    first_line = text.split("\n", 1)[0].rstrip("\r")
    header = [_header_name(h) for h in next(csv.reader([first_line]))]
    check_columns(header, columns, file=rel, table=table, row=1)
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise SourceError("the header names a column twice", file=rel, table=table, row=1, column=dup)
    body = text.split("\n", 1)[1] if "\n" in text else ""
    frame, malformed = _parse_fast(body, header, rel) or _parse_exact(text, header, rel)
    if frame.empty and malformed.empty and not allow_empty:
        raise SourceError("the file has a header but no data rows", file=rel, table=table, row=2)
    frame = frame[[*columns, *LINEAGE]]
    return RawTable(frame, malformed, {rel: sha256_file(path)})


def _parse_fast(body: str, header: list[str], rel: str):
    """pyarrow's parser, when every line is one well-formed record (the usual case): then the
    record's line is its position + 2. Anything else goes to the exact parser."""
    if not body.strip():
        return None
    invalid = []

    def handler(row):
        invalid.append(row)
        return "skip"

    encoded = body.encode("utf-8")
    lines = encoded.count(b"\n") + (0 if encoded.endswith(b"\n") else 1)
    try:
        table = pacsv.read_csv(
            io.BytesIO(encoded),
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(header))],
                                           use_threads=True),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(len(header))},
                # An empty field is null; a blank line then reads as a row of nulls.
                strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid:
        return None
    if invalid or table.num_rows != lines:
        return None
    n = table.num_rows
    frame = pd.DataFrame({name: table.column(i).to_pandas() for i, name in enumerate(header)})
    frame[SOURCE_FILE] = pd.Series([rel] * n, dtype="str")
    frame[SOURCE_ROW] = pd.Series(range(2, n + 2), dtype="int64")
    # A blank line in the middle reads as an all-empty record: drop it, it is not a row.
    blank = frame[header].isna().all(axis=1)
    return frame[~blank].reset_index(drop=True), empty_malformed()


def _parse_exact(text: str, header: list[str], rel: str):
    """The csv module, record by record, for files with quoted newlines, blank lines or
    malformed lines: slower, but it knows each record's first line."""
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    data: dict[str, list] = {h: [] for h in header}
    rows, bad = [], []
    previous_end = reader.line_num
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not record or all(not f.strip() for f in record) and len(record) <= 1:
            continue
        if len(record) != len(header):
            if len(record) < len(header):
                column = header[len(record)]
                problem = f"{len(record)} fields where the header has {len(header)}: no value for {column!r} onwards"
            else:
                column = header[-1]
                problem = f"{len(record)} fields where the header has {len(header)}: extra values after {column!r}"
            bad.append({SOURCE_FILE: rel, SOURCE_ROW: start, "reason_code": ROW_MALFORMED,
                        "column": column, "message": problem,
                        "raw": "\n".join(lines[start - 1:previous_end])})
            continue
        for h, v in zip(header, record):
            data[h].append(v if v != "" else None)
        rows.append(start)
    frame = _text_frame(data, [rel] * len(rows), rows)
    malformed = pd.DataFrame(bad, columns=MALFORMED_COLUMNS) if bad else empty_malformed()
    return frame, malformed.astype({SOURCE_ROW: "int64"})


# -- NDJSON --------------------------------------------------------------------------------------

def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if text.strip() else None


def read_ndjson(path: Path, rel: str, columns: Sequence[str], *, table: str,
                optional: Sequence[str] = ()) -> RawTable:
    """One JSON object a line; `_source_row` is the line number. A line that is not a JSON
    object is returned in `malformed`. A key may be absent from a record (read as null), but a
    column absent from every record is a table-level failure, unless it is `optional` (an area
    code that a point can stand in for)."""
    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("the file is empty", file=rel, table=table, row=1)
    text = decode(data, "utf-8", rel=rel, table=table).removeprefix("\ufeff")
    values: dict[str, list] = {c: [] for c in columns}
    rows, bad, seen = [], [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            # Numbers stay as the text they were written as: no float rounding on the way.
            record = json.loads(line, parse_float=str, parse_int=str)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
        except ValueError as exc:
            bad.append({SOURCE_FILE: rel, SOURCE_ROW: number, "reason_code": JSON_MALFORMED,
                        "column": None, "message": f"the line is not a JSON object: {exc}",
                        "raw": line})
            continue
        seen.update(record)
        for c in columns:
            values[c].append(_json_text(record.get(c)))
        rows.append(number)
    if rows:
        check_columns(sorted(seen), [c for c in columns if c not in optional], file=rel,
                      table=table, row=None)
    elif not bad:
        raise SourceError("the file has no records", file=rel, table=table)
    frame = _text_frame(values, [rel] * len(rows), rows)
    malformed = pd.DataFrame(bad, columns=MALFORMED_COLUMNS) if bad else empty_malformed()
    return RawTable(frame, malformed.astype({SOURCE_ROW: "int64"}), {rel: sha256_file(path)})


# -- GeoJSON -------------------------------------------------------------------------------------

GEOMETRY = "_geometry"


def read_geojson(path: Path, rel: str, columns: Sequence[str], *, table: str,
                 optional: Sequence[str] = ()) -> RawTable:
    """A FeatureCollection: each feature's properties as text, its geometry as GeoJSON text in
    `_geometry`; `_source_row` is the feature's position (1-based). Properties are checked as
    NDJSON keys are."""
    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("the file is empty", file=rel, table=table)
    text = decode(data, "utf-8", rel=rel, table=table).removeprefix("\ufeff")
    try:
        collection = json.loads(text)
    except ValueError as exc:
        raise SourceError(f"not valid JSON: {exc}", file=rel, table=table,
                          row=getattr(exc, "lineno", None)) from exc
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise SourceError("not a GeoJSON FeatureCollection (no 'features' list)", file=rel, table=table)
    if not features:
        raise SourceError("the FeatureCollection has no features", file=rel, table=table)
    values: dict[str, list] = {c: [] for c in (*columns, GEOMETRY)}
    rows, bad, seen = [], [], set()
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            bad.append({SOURCE_FILE: rel, SOURCE_ROW: number, "reason_code": JSON_MALFORMED,
                        "column": None, "message": "the feature is not a GeoJSON Feature object",
                        "raw": json.dumps(feature, ensure_ascii=False)})
            continue
        props = feature.get("properties") or {}
        seen.update(props)
        for c in columns:
            values[c].append(_json_text(props.get(c)))
        geometry = feature.get("geometry")
        values[GEOMETRY].append(json.dumps(geometry, ensure_ascii=False) if geometry else None)
        rows.append(number)
    check_columns(sorted(seen), [c for c in columns if c not in optional], file=rel, table=table,
                  row=None)
    frame = _text_frame(values, [rel] * len(rows), rows)
    malformed = pd.DataFrame(bad, columns=MALFORMED_COLUMNS) if bad else empty_malformed()
    return RawTable(frame, malformed.astype({SOURCE_ROW: "int64"}), {rel: sha256_file(path)})
