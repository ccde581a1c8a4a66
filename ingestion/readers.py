"""One reader per source format (DESIGN section 4). Each returns the rows as raw text columns with
where they came from (`_source_file`, `_source_row`, counted as docs/lake.md says), the lines it
could not read as rows (`malformed`, quarantined by the load), and the files' sha256.

A problem with the whole table (missing file, unreadable file, wrong encoding, empty file, a
missing or renamed column) raises `SourceError` naming the file, the table, the row and the
column, so that the load keeps the last good data and the asset fails with a clear message.

Each reader also counts the file's records on its own, from the physical units the file is made
of (`physical`: lines, sheet rows, features, `count(*)`), so that the load can show that every
one of them became a row or a malformed line (docs/lake.md, "Rows read"). For a table with
personal columns, the malformed lines and the header names in messages go through
`pseudonym.Protect`: no personal value leaves a reader in clear.
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

from ingestion.pseudonym import Protect

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
    `message`, `raw`; `raw` with personal values pseudonymised). `files`: relative path ->
    sha256 of each file read. `physical`: the records counted from the file's physical units."""

    frame: pd.DataFrame
    malformed: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    # The records the files hold, counted from their physical lines, rows or features apart
    # from the parser: rows + malformed lines must add up to it.
    physical: int = 0


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
                  row: int | None, labels: dict[str, str] | None = None,
                  protect: Protect | None = None, may_be_data: bool = False) -> None:
    """Every expected column must be there; name the first missing one, and the unexpected
    columns that may be it renamed. `may_be_data`: the names are a CSV file's first line, which
    may be a data row (a file without its header line): then, unless it names at least half of
    the columns, say that it is not a header and quote none of its fields. `protect`: a table
    with personal columns quotes no name that may be a personal value."""
    missing = [c for c in expected if c not in found]
    if not missing:
        return
    protect = protect or Protect({})
    named = [c for c in expected if c in found]
    if may_be_data and len(named) < max(1, (len(expected) + 1) // 2):
        some = (f"names only {len(named)} of the columns {', '.join(expected)}" if named
                else f"names none of the columns {', '.join(expected)}")
        raise SourceError(f"line {row} is not a header: it has {len(found)} field(s) and {some} "
                          "(a file without its header line, or another export?)",
                          file=file, table=table, row=row, column=missing[0])
    extra = [protect.quoted(c, i) for i, c in enumerate(found, start=1) if c not in expected and c]
    label = labels.get(missing[0], missing[0]) if labels else missing[0]
    hint = f"; the file has unexpected column(s) {', '.join(extra)}: renamed?" if extra else ""
    others = f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1 else ""
    raise SourceError(f"column {label!r} is missing{others}{hint}", file=file, table=table,
                      row=row, column=missing[0])


_STR = pd.Series([], dtype="str").dtype


def _str_series(values: list) -> pd.Series:
    """Text (or None) as a pandas "str" Series, built through Arrow: four times faster than
    pd.Series(values, dtype="str") for a million values, and the same Series."""
    return pa.array(values, type=pa.string()).to_pandas(types_mapper={pa.string(): _STR}.get)


def _text_frame(columns: dict[str, list], files: list[str], rows: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({name: _str_series(values) for name, values in columns.items()})
    frame[SOURCE_FILE] = _str_series(files)
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
                table: str, protect: Protect | None = None) -> RawTable:
    """A table of a SQLite database; `_source_row` is the table's rowid; the physical count is
    the table's `count(*)`."""
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
            check_columns(names, columns, file=rel, table=table, row=None, protect=protect)
            select = ", ".join(f'"{c}"' for c in columns)
            physical = con.execute(f'select count(*) from "{table_name}"').fetchone()[0]
            rows = con.execute(f'select rowid, {select} from "{table_name}" order by rowid').fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"not a readable SQLite database: {exc}", file=rel, table=table) from exc
    if not rows:
        raise SourceError(f"the table {table_name!r} is empty", file=rel, table=table)
    data = {c: [_cell_text(r[i + 1]) for r in rows] for i, c in enumerate(columns)}
    frame = _text_frame(data, [rel] * len(rows), [r[0] for r in rows])
    return RawTable(frame, empty_malformed(), {rel: sha256_file(path)}, physical)


# -- Excel workbooks -----------------------------------------------------------------------------

def read_workbook(path: Path, rel: str, headers: dict[str, str], *, table: str,
                  header_search_rows: int = 20, only: Sequence[str] | None = None,
                  protect: Protect | None = None) -> RawTable:
    """Every sheet of a workbook. A sheet has a title, then a header row holding `headers`
    (source header -> lake column), then data rows; `_source_row` is the Excel row number and
    `_source_file` is `file[sheet]`. Blank rows are skipped; a row with values only in columns
    that have no header is a malformed row, not dropped. The physical count is the sheets'
    non-blank rows below their header. A `region_sheet` column says which sheet the row came
    from. Read with calamine (Rust): openpyxl takes ten times as long. `only` keeps just those
    lake columns (every header is still checked)."""
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
    sheets, files, rows, bad, raws = [], [], [], [], []
    physical = 0
    for title, cells_by_row in sheets_in_book:
        where = f"{rel}[{title}]"
        header_row, positions, named = None, {}, []
        # skip_empty_area=False: list index + 1 is the Excel row number, blank rows included.
        for number, values in enumerate(cells_by_row, start=1):
            if header_row is None:
                names = [_header_name(v) for v in values]
                if sum(n in wanted for n in names) >= max(2, len(wanted) // 2):
                    header_row = number
                    check_columns(names, wanted, file=where, table=table, row=number,
                                  labels={h: f"{h} ({c})" for h, c in headers.items()},
                                  protect=protect)
                    named = [names.index(h) for h in wanted]
                    positions = {names.index(h): headers[h] for h in wanted
                                 if only is None or headers[h] in only}
                elif number >= header_search_rows:
                    break
                continue
            texts = [_cell_text(v) for v in values]
            if all(t is None for t in texts):
                continue
            if all(texts[i] is None for i in named if i < len(texts)):
                bad.append({SOURCE_FILE: where, SOURCE_ROW: number, "reason_code": ROW_MALFORMED,
                            "column": None, "message": "values only in columns that have no header"})
                raws.append(texts)
                continue
            for i in positions:
                data[positions[i]].append(texts[i] if i < len(texts) else None)
            sheets.append(title)
            files.append(where)
            rows.append(number)
        if header_row is None:
            raise SourceError(f"no header row with the columns {', '.join(wanted[:3])}, ... "
                              f"in the first {header_search_rows} rows", file=where, table=table,
                              column=wanted[0])
        # Counted apart from the loop above: every row below the header with a value in any cell.
        physical += sum(1 for values in cells_by_row[header_row:]
                        if any(_cell_text(v) is not None for v in values))
    if not rows and not bad:
        raise SourceError("the workbook has no data rows", file=rel, table=table)
    frame = _text_frame(data, files, rows)
    frame.insert(len(data), "region_sheet", pd.Series(sheets, dtype="str"))
    if raws:
        text = ([_csv_line([t or "" for t in r]) for r in raws] if not protect
                else protect.fields([[t or "" for t in r] for r in raws], wanted))
        for b, t in zip(bad, text):
            b["raw"] = t
    return RawTable(frame, _malformed(bad), {rel: sha256_file(path)}, physical)


def _malformed(bad: list[dict]) -> pd.DataFrame:
    if not bad:
        return empty_malformed()
    return pd.DataFrame(bad, columns=MALFORMED_COLUMNS).astype({SOURCE_ROW: "int64"})


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


# -- CSV -----------------------------------------------------------------------------------------

ENCODING_NAMES = {"cp874": "Windows-874 (TIS-620)", "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM"}
# A record may span several lines only through a quoted line break, and only this many: past it,
# an opening quote that is never closed would make the parser read the rest of the file as one
# field. (A legitimate multi-line value, such as an address, takes a few lines.)
MAX_RECORD_LINES = 100
# A physical line of a CSV file: ended by \r\n, \n or a lone \r (as Excel, a text editor and the
# csv module see it), or by the end of the file. Not str.splitlines(): that also splits on
# U+2028, \x0b, \x1c... which are data.
_CSV_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _line_and_column(data: bytes, offset: int, header: list[str] | None,
                     columns: Sequence[str]) -> tuple[int, str | None, int]:
    """The line (1-based), the column and the field (1-based) an offending byte is in. The
    column is named only if the first line names it (the first line may be data, which a
    message must not quote)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    prefix = data[line_start:offset].decode("utf-8", errors="replace")
    position = len(_fields(prefix)) or 1
    column = None
    if header and line > 1 and position <= len(header) and header[position - 1] in columns:
        column = header[position - 1]
    return line, column, position


def decode(data: bytes, encoding: str, *, rel: str, table: str, columns: Sequence[str] = ()) -> str:
    """Decode a whole file strictly: a file in another encoding is a table-level failure, named
    with the line and column of the first byte that does not fit (never with its text)."""
    try:
        if encoding == "cp874" and re.search(rb"[\x80-\xff]", data):
            # UTF-8 Thai bytes often decode as (wrong) Windows-874 too: catch them first.
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                first = re.search(rb"[\x80-\xff]", data).start()
                header = [_header_name(h) for h in
                          _fields(data.split(b"\n", 1)[0].decode("utf-8", "replace"))]
                line, column, position = _line_and_column(data, first, header, columns)
                raise SourceError(f"the file is UTF-8, not {ENCODING_NAMES['cp874']}"
                                  + ("" if column else f" (first seen in field {position})"),
                                  file=rel, table=table, row=line, column=column)
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        header_text = data.split(b"\n", 1)[0].decode(encoding, errors="replace")
        header = [_header_name(h) for h in _fields(header_text)]
        line, column, position = _line_and_column(data, exc.start, header, columns)
        raise SourceError(f"the file is not {ENCODING_NAMES.get(encoding, encoding)}: byte "
                          f"0x{data[exc.start]:02x} cannot be decoded"
                          + ("" if column else f" (field {position})"), file=rel, table=table,
                          row=line, column=column) from exc


def read_csv(path: Path, rel: str, columns: Sequence[str], *, table: str,
             encoding: str = "utf-8", allow_empty: bool = False,
             protect: Protect | None = None) -> RawTable:
    r"""A CSV file with a header line; `_source_row` is the record's first line (header = line 1;
    lines end with \r\n, \n or a lone \r). A line that is not a record (the wrong number of
    fields, a quote that is not closed, the header again) is returned in `malformed`, one per
    line, and reading goes on with the next line: never a silent merge of lines. The physical
    count is the non-blank lines after the header, less the continuation lines of records with
    a quoted line break. A header with no rows is an error unless `allow_empty` (one of many
    files, as members per province)."""
    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    data = path.read_bytes()
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise SourceError("the file is empty", file=rel, table=table, row=1)
    text = decode(data, encoding, rel=rel, table=table, columns=columns).removeprefix("\ufeff")
    del data
    first = _CSV_LINE.match(text)
    header_line = first.group(0)
    header = [_header_name(h) for h in _fields(header_line)]
    check_columns(header, columns, file=rel, table=table, row=1, protect=protect, may_be_data=True)
    if len(set(header)) != len(header):
        i, dup = next((i, h) for i, h in enumerate(header, start=1) if header.count(h) > 1)
        raise SourceError("the header names a column twice"
                          + (f" (field {i})" if dup not in columns else ""), file=rel, table=table,
                          row=1, column=dup if dup in columns else None)
    body = text[first.end():]
    del text
    parsed = _parse_fast(body, header, rel) or _parse_exact(body, header, rel, table)
    frame, bad, raws, physical = parsed
    if frame.empty and not bad and not allow_empty:
        raise SourceError("the file has a header but no data rows", file=rel, table=table, row=2)
    if bad:
        # The line as it is, unless the table has personal columns: then its fields written
        # back with every value that may be personal pseudonymised.
        text_of = protect.fields([_fields(r) for r in raws], header) if protect else raws
        for b, t in zip(bad, text_of):
            b["raw"] = t
    frame = frame[[*columns, *LINEAGE]]
    return RawTable(frame, _malformed(bad), {rel: sha256_file(path)}, physical)


def _line_count(body: str | bytes) -> int:
    """The physical lines of a text, counted from its line breaks (not by splitting it)."""
    cr, lf = ("\r", "\n") if isinstance(body, str) else (b"\r", b"\n")
    breaks = body.count(lf) + body.count(cr) - body.count(cr + lf)
    return breaks + (0 if not body or body.endswith((lf, cr)) else 1)


# An empty line after a line break (\r\n or \n: the fast path sees no lone \r).
_EMPTY_LINE = re.compile(rb"\n\r?(?=\r?\n)")


def _parse_fast(body: str, header: list[str], rel: str):
    r"""pyarrow's parser, when every line is one well-formed record (the usual case): then the
    record's line is its position + 2. Anything else goes to the exact parser: an invalid row, a
    row count other than the line count, an empty-looking row that is not an empty line, a
    value with a line break, the header again, a lone \r line end."""
    if not body or body.isspace():
        return None
    encoded = body.encode("utf-8")
    if encoded.count(b"\r") != encoded.count(b"\r\n"):
        return None
    invalid = []

    def handler(row):
        invalid.append(row)
        return "skip"

    lines = _line_count(encoded)
    empty = len(_EMPTY_LINE.findall(encoded)) + encoded.startswith((b"\n", b"\r\n"))
    try:
        table = pacsv.read_csv(
            io.BytesIO(encoded),
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(header))],
                                           use_threads=True),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(len(header))},
                # An empty field is null; an empty line then reads as a row of nulls.
                strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid:
        return None
    del encoded
    if invalid or table.num_rows != lines:
        return None
    import pyarrow.compute as pc

    # A quote left open on the last line runs to the end of the file without costing a row.
    last = table.slice(table.num_rows - 1).to_pylist()[0].values()
    if (any(v is not None and ("\n" in v or "\r" in v) for v in last)
            or body[body.rstrip("\r\n").rfind("\n") + 1:].count('"') % 2):
        return None
    if pc.any(pc.match_substring(table.column(0), header[0])).as_py():
        return None                    # maybe the header again (after a BOM): the exact parser says
    n = table.num_rows
    frame = pd.DataFrame({name: table.column(i).to_pandas() for i, name in enumerate(header)})
    frame[SOURCE_FILE] = pd.Series([rel] * n, dtype="str")
    frame[SOURCE_ROW] = pd.Series(range(2, n + 2), dtype="int64")
    # An empty line reads as an all-empty record: drop it, it is not a row. A line of empty
    # fields (",,,") reads the same but is a record: then the exact parser tells them apart.
    blank = frame[header].isna().all(axis=1)
    if int(blank.sum()) != empty:
        return None
    return frame[~blank].reset_index(drop=True), [], [], lines - empty


class _Unclosed(Exception):
    """A record still inside quotes at the end of the file or after MAX_RECORD_LINES lines."""


class _Feed:
    """The physical lines, handed to csv.reader one at a time: it tells which lines a record
    took, and stops a record that would run past MAX_RECORD_LINES or the end of the file."""

    def __init__(self, lines: list[str]):
        self.lines, self.pos, self.start = lines, 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pos > self.start and (self.pos >= len(self.lines)
                                      or self.pos - self.start >= MAX_RECORD_LINES):
            raise _Unclosed
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _fields(line: str) -> list[str]:
    """One physical line's fields on its own (an open quote runs to the end of the line; a line
    the csv module refuses, such as one over its field size limit, is one field)."""
    try:
        return next(csv.reader([line.rstrip("\r\n")]), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def _record_by_itself(line: str, width: int) -> bool:
    """A line a stray quote swallowed: a whole record on its own, its quotes balanced. A line
    that closes a legitimate quoted line break holds an odd number of quotes (the closing one)."""
    return line.count('"') % 2 == 0 and len(_fields(line)) == width


def _parse_exact(body: str, header: list[str], rel: str, table: str):
    """The csv module, record by record, for files with quoted line breaks, blank lines or lines
    that are not records: slower, but it knows each record's lines. A record may span several
    lines only if it has the header's number of fields and none of its later lines is a record
    by itself, quotes balanced (which is what a stray quote swallowing the lines below it looks like); otherwise
    its first line is quarantined alone and reading resumes on the next line."""
    lines = _CSV_LINE.findall(body)
    if len(lines) != _line_count(body):
        raise SourceError(f"the file's {_line_count(body)} lines after the header cannot be "
                          "split into records (the reader found a different number)",
                          file=rel, table=table, row=2)
    width = len(header)
    records, rows, bad, raws = [], [], [], []
    continuation = 0
    feed = _Feed(lines)
    reader = csv.reader(feed)
    first_name = header[0]

    def malformed(start: int, column: str | None, problem: str) -> None:
        bad.append({SOURCE_FILE: rel, SOURCE_ROW: start + 2, "reason_code": ROW_MALFORMED,
                    "column": column, "message": problem})
        raws.append(lines[start].rstrip("\r\n"))

    def quote_problem(start: int, what: str) -> None:
        opened = len(_fields(lines[start]))
        column = header[opened - 1] if 0 < opened <= width else None
        where = f"column {column!r}" if column else f"field {opened}"
        malformed(start, column, f"a quote opened in {where} {what}: the line is quarantined and "
                                 "reading goes on with the next line")

    while feed.pos < len(lines):
        feed.start = start = feed.pos
        try:
            record = next(reader)
        except StopIteration:
            break
        except _Unclosed:
            quote_problem(start, "is not closed before the end of the file" if feed.pos >= len(lines)
                          else f"is not closed within {MAX_RECORD_LINES} lines")
            feed.pos = start + 1
            continue
        except csv.Error as exc:          # e.g. a field over the csv module's size limit
            malformed(start, None, f"the line cannot be read as CSV ({exc})")
            feed.pos = start + 1
            continue
        span = feed.pos - start
        if span == 1:
            if len(record) <= 1 and not lines[start].strip(" \t\r\n"):
                continue                                   # a blank line
        elif len(record) != width or any(_record_by_itself(line, width)
                                         for line in lines[start + 1:feed.pos]):
            quote_problem(start, f"is closed only {span - 1} line(s) below, which would make "
                                 f"one record of {span} lines and {len(record)} fields")
            feed.pos = start + 1
            continue
        else:
            # Lines inside a record's quoted line breaks are not records of their own.
            continuation += sum(1 for line in lines[start + 1:feed.pos] if line.strip(" \t\r\n"))
        if len(record) != width:
            if len(record) < width:
                column = header[len(record)]
                problem = f"{len(record)} fields where the header has {width}: no value for {column!r} onwards"
            else:
                column = header[-1]
                problem = f"{len(record)} fields where the header has {width}: extra values after {column!r}"
            malformed(start, column, problem)
            continue
        if first_name in record[0] and [_header_name(f) for f in record] == header:
            malformed(start, None, "the header line again (two exports joined?)")
            continue
        records.append(record)
        rows.append(start + 2)
    columns = zip(*records) if records else [()] * width
    frame = _text_frame({h: [v or None for v in values] for h, values in zip(header, columns)},
                        [rel] * len(rows), rows)
    # Counted apart from the records: the non-blank lines, less those inside quoted line breaks.
    physical = sum(1 for line in lines if line.strip(" \t\r\n")) - continuation
    return frame, bad, raws, physical


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
                optional: Sequence[str] = (), protect: Protect | None = None) -> RawTable:
    r"""One JSON object a line; `_source_row` is the line number. Lines end with \n (a \r
    before it is JSON whitespace) and only there: U+2028, \x0b, \x1c... may stand in a JSON
    string, which str.splitlines() would break. A line that is not a JSON object is returned in
    `malformed`. The physical count is the lines with anything but JSON whitespace. A key may
    be absent from a record (read as null), but a column absent from every record is a
    table-level failure, unless it is `optional` (an area code that a point can stand in for)."""
    if not path.exists():
        raise SourceError("the file does not exist", file=rel, table=table)
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("the file is empty", file=rel, table=table, row=1)
    text = decode(data, "utf-8", rel=rel, table=table).removeprefix("\ufeff")
    physical = len(_NONBLANK_JSON_LINE.findall(data.removeprefix(b"\xef\xbb\xbf")))
    del data
    values: dict[str, list] = {c: [] for c in columns}
    rows, bad, raws, seen = [], [], [], set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip(" \t\r"):
            continue
        try:
            # Numbers stay as the text they were written as: no float rounding on the way.
            record = json.loads(line, parse_float=str, parse_int=str)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
        except (ValueError, RecursionError) as exc:
            problem = "nested too deep" if isinstance(exc, RecursionError) else str(exc)
            bad.append({SOURCE_FILE: rel, SOURCE_ROW: number, "reason_code": JSON_MALFORMED,
                        "column": None, "message": f"the line is not a JSON object: {problem}"})
            raws.append(line.rstrip("\r"))
            continue
        seen.update(record)
        for c in columns:
            values[c].append(_json_text(record.get(c)))
        rows.append(number)
    if rows:
        check_columns(sorted(seen), [c for c in columns if c not in optional], file=rel,
                      table=table, row=None, protect=protect)
    elif not bad:
        raise SourceError("the file has no records", file=rel, table=table)
    for b, raw in zip(bad, protect.json_texts(raws, _safe_keys(columns, protect)) if protect else raws):
        b["raw"] = raw
    frame = _text_frame(values, [rel] * len(rows), rows)
    return RawTable(frame, _malformed(bad), {rel: sha256_file(path)}, physical)


# A line of an NDJSON file with something other than JSON whitespace, counted on the bytes.
_NONBLANK_JSON_LINE = re.compile(rb"[^ \t\r\n][^\n]*")


def _safe_keys(columns: Sequence[str], protect: Protect) -> set[str]:
    return {c for c in columns if c not in protect.kinds}


# -- GeoJSON -------------------------------------------------------------------------------------

GEOMETRY = "_geometry"


def read_geojson(path: Path, rel: str, columns: Sequence[str], *, table: str,
                 optional: Sequence[str] = (), protect: Protect | None = None) -> RawTable:
    """A FeatureCollection: each feature's properties as text, its geometry as GeoJSON text in
    `_geometry`; `_source_row` is the feature's position (1-based); the physical count is the
    number of features. Properties are checked as NDJSON keys are."""
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
    except RecursionError as exc:
        raise SourceError("not valid JSON: nested too deep", file=rel, table=table) from exc
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise SourceError("not a GeoJSON FeatureCollection (no 'features' list)", file=rel, table=table)
    if not features:
        raise SourceError("the FeatureCollection has no features", file=rel, table=table)
    values: dict[str, list] = {c: [] for c in (*columns, GEOMETRY)}
    rows, bad, raws, seen = [], [], [], set()
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            bad.append({SOURCE_FILE: rel, SOURCE_ROW: number, "reason_code": JSON_MALFORMED,
                        "column": None, "message": "the feature is not a GeoJSON Feature object"})
            raws.append(json.dumps(feature, ensure_ascii=False))
            continue
        props = feature.get("properties") or {}
        seen.update(props)
        for c in columns:
            values[c].append(_json_text(props.get(c)))
        geometry = feature.get("geometry")
        values[GEOMETRY].append(json.dumps(geometry, ensure_ascii=False) if geometry else None)
        rows.append(number)
    check_columns(sorted(seen), [c for c in columns if c not in optional], file=rel, table=table,
                  row=None, protect=protect)
    for b, raw in zip(bad, protect.json_texts(raws, _safe_keys(columns, protect)) if protect else raws):
        b["raw"] = raw
    frame = _text_frame(values, [rel] * len(rows), rows)
    return RawTable(frame, _malformed(bad), {rel: sha256_file(path)}, len(features))
