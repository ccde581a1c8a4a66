"""A scanner for personal data in what a run wrote: the promise that no citizen ID and no personal
name from the sources reaches the lake, the warehouse, `published/`, a log, an alert, Dagster's
storage or a message (DESIGN sections 2 and 9; issue 13). For any folder of files (the portal
and the open API of issue 14 too):

    secrets = Secrets.from_sources(sources_dir)          # the personal values of the sources
    findings = scan_tree(run_dir, secrets)              # every file, whatever its format
    assert not findings, report(findings)

What is searched for:
- every citizen ID of a personal column (13 digits, also where the text writes it with spaces or
  dashes between the digits, or in Thai digits), as a run of exactly 13 digits;
- every personal name (and any other string given), as written, JSON-escaped (`\\u0e2a...`) and
  URL-encoded; a value that also occurs in a non-personal column of the sources (a borrower that
  is a savings group whose name is public) is not a secret and is left out (`Secrets.public`).

How files are read: by their content, not their name. Parquet, DuckDB and SQLite files are read
through their engines (their text is compressed or split across pages), every value as text,
plus the raw bytes of SQLite files (freed pages keep deleted rows); zip archives (xlsx) and gzip
member by member; anything else as UTF-8 text. A finding shows the value masked, so that a
failing test does not print the personal data it found.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sqlite3
import unicodedata
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# A run of digits (Arabic or Thai), single spaces or dashes allowed between them, long enough to
# hold 13 digits.
_DIGIT_RUN = re.compile(r"[0-9๐-๙](?:[ \-]?[0-9๐-๙]){12,}")
MIN_TEXT = 6        # shorter strings are not searched (they would match common words)


@dataclass(frozen=True)
class Finding:
    path: str
    kind: str           # "citizen_id" or "text"
    value: str          # masked
    where: str          # e.g. "table marts.fct_x", "sqlite table event_logs", "text"

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} {self.value} ({self.where})"


def mask(value: str) -> str:
    if value.isdigit():
        return value[:3] + "*" * (len(value) - 5) + value[-2:]
    return value[:2] + "…" + f"({len(value)} chars)"


@dataclass
class Secrets:
    """Personal values to look for: `ids` (13-digit citizen IDs) and `texts` (names and any other
    string); `public`: personal-column values left out because the sources show them in a
    non-personal column too."""

    ids: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    public: set[str] = field(default_factory=set)

    def add_text(self, value: str) -> None:
        value = unicodedata.normalize("NFC", value.strip())
        if len(value) >= MIN_TEXT:
            self.texts.add(value)

    def add_id(self, value: str) -> None:
        digits = re.sub(r"[ \-]", "", value.translate(THAI_DIGITS))
        if len(digits) == 13 and digits.isdigit():
            self.ids.add(digits)

    @classmethod
    def from_sources(cls, sources: Path, extra: Iterable[str] = ()) -> "Secrets":
        """Every value of the personal columns (schemas: kinds citizen_id and person_name) of the
        source tables that have them, read from the files directly."""
        import schemas
        from schemas import base

        out = cls()
        public_parts: list[str] = []
        for spec in schemas.TABLES.values():
            personal = {c.source_name: c.kind for c in spec.columns
                        if c.kind in (base.CITIZEN_ID, base.PERSON_NAME)}
            for record in _records(spec, Path(sources)):
                for column, value in record.items():
                    if value is None or str(value).strip() == "":
                        continue
                    value = str(value)
                    if column not in personal:
                        public_parts.append(unicodedata.normalize("NFC", value))
                    elif personal[column] == base.CITIZEN_ID:
                        out.add_id(value)
                    else:
                        out.add_text(value)
        public = "\n".join(public_parts)
        out.public = {t for t in out.texts if t in public}
        out.texts -= out.public
        for value in extra:
            out.add_text(value)
        return out

    def __bool__(self) -> bool:
        return bool(self.ids or self.texts)

    @property
    def text_pattern(self) -> re.Pattern | None:
        """The texts in every form searched, as one regular expression (built once)."""
        key = frozenset(self.texts)
        if getattr(self, "_key", None) != key:
            self._key, self._pattern = key, self._compile()
        return self._pattern

    def _compile(self) -> re.Pattern | None:
        forms = set()
        for t in self.texts:
            forms |= {t, _json_escaped(t), _json_escaped(t).upper().replace("\\U", "\\u"),
                      urllib.parse.quote(t)}
        return re.compile(_trie_regex(sorted(forms))) if forms else None


def _json_escaped(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)[1:-1]


def _trie_regex(words: list[str]) -> str:
    """One regular expression for many strings, as a trie: fast on megabytes of text."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if end else body

    return build(trie)


# -- reading the sources' personal columns (independently of ingestion.readers) ------------------

def _records(spec, sources: Path) -> Iterator[dict]:
    for path in sorted(sources.glob(spec.pattern)):
        if not path.is_file():
            continue
        if spec.format == "sqlite":
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            con.row_factory = sqlite3.Row
            try:
                for row in con.execute(f'select * from "{spec.sqlite_table}"'):
                    yield dict(row)
            finally:
                con.close()
        elif spec.format == "csv":
            text = path.read_bytes().decode(spec.encoding if spec.encoding != "utf-8" else "utf-8-sig")
            yield from csv.DictReader(io.StringIO(text, newline=""))
        elif spec.format == "ndjson":
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record
        elif spec.format == "geojson":
            for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
                yield dict(feature.get("properties") or {})
        elif spec.format == "xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                headers = [c.source_name for c in spec.columns]
                for sheet in book.worksheets:
                    names = None
                    for row in sheet.iter_rows(values_only=True):
                        if names is None:
                            if row and any(str(v).strip() == headers[0] for v in row if v is not None):
                                names = [str(v).strip() if v is not None else "" for v in row]
                            continue
                        yield {n: v for n, v in zip(names, row) if n}
            finally:
                book.close()


# -- scanning --------------------------------------------------------------------------------------

def scan_text(text: str, secrets: Secrets, path: str = "", where: str = "text") -> list[Finding]:
    found: dict[tuple[str, str], Finding] = {}
    for m in _DIGIT_RUN.finditer(text):
        run = m.group(0)
        pieces = {re.sub(r"[ \-]", "", run)} | set(re.split(r"[ \-]", run))
        for piece in pieces:
            digits = piece.translate(THAI_DIGITS)
            if len(digits) == 13 and digits in secrets.ids:
                found.setdefault(("citizen_id", digits), Finding(path, "citizen_id", mask(digits), where))
    pattern = secrets.text_pattern
    if pattern is not None:
        for m in pattern.finditer(text):
            found.setdefault(("text", m.group(0)), Finding(path, "text", mask(m.group(0)), where))
    return list(found.values())


def _text_of_bytes(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _column_aggregate(column: str, dtype: str) -> str | None:
    """SQL for a column's distinct values as one text: text-like columns whole, integer columns
    only where a value could be a 13-digit ID (dates, booleans and fractions cannot hold one)."""
    c = '"' + column.replace('"', '""') + '"'
    if any(k in dtype for k in ("DATE", "TIME", "BOOLEAN", "UUID", "BLOB", "DOUBLE", "FLOAT",
                                "REAL", "INTERVAL")) and "[]" not in dtype:
        return None
    if any(k in dtype for k in ("INT", "DECIMAL")) and "[]" not in dtype:
        value = (f"case when {c} between 1000000000000 and 9999999999999 "
                 f"then cast(cast({c} as hugeint) as varchar) end")
    else:
        value = f"cast({c} as varchar)"
    return f"string_agg(distinct {value}, chr(10))"


def _relation_text(con, relation: str, columns: list[tuple[str, str]]) -> str:
    """Every column name and distinct value of a relation as text, in one pass over it."""
    aggregates = [a for a in (_column_aggregate(c, t) for c, t in columns) if a]
    names = "\n".join(c for c, _ in columns)
    if not aggregates:
        return names
    values = con.execute(f"select {', '.join(aggregates)} from {relation}").fetchone()
    return names + "\n" + "\n".join(v for v in values if v)


_MEMORY = None


def _memory():
    """One in-memory DuckDB for reading Parquet (a connection per file costs more than the read)."""
    global _MEMORY
    import duckdb

    if _MEMORY is None:
        _MEMORY = duckdb.connect()
    return _MEMORY


def _scan_parquet(path: Path, secrets: Secrets, rel: str) -> list[Finding]:
    con = _memory()
    name = str(path).replace("'", "''")
    source = f"read_parquet('{name}')"
    columns = [(r[0], r[1]) for r in con.execute(f"describe select * from {source}").fetchall()]
    meta = con.execute(f"""select coalesce(decode(key), '') || '=' || coalesce(decode(value), '')
                           from parquet_kv_metadata('{name}')""").fetchall()
    text = "\n".join(r[0] for r in meta) + "\n" + _relation_text(con, source, columns)
    return scan_text(text, secrets, rel, "parquet")


def _scan_duckdb(path: Path, secrets: Secrets, rel: str) -> list[Finding]:
    """Every base table's columns (views are queries over data scanned elsewhere: their SQL is
    scanned), and the comments of tables and columns."""
    import duckdb

    out = []
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        meta = con.execute("""
            select coalesce(comment, '') from duckdb_tables() where database_name = $1
            union all select coalesce(comment, '') || ' ' || column_name from duckdb_columns()
                where database_name = $1
            union all select sql from duckdb_views() where not internal and database_name = $1""",
                           [catalog]).fetchall()
        out += scan_text("\n".join(r[0] or "" for r in meta), secrets, rel, "duckdb catalog")
        columns = con.execute("""
            select c.schema_name, c.table_name, c.column_name, c.data_type
            from duckdb_columns() c join duckdb_tables() t using (database_name, schema_name, table_name)
            where c.database_name = ? order by all""", [catalog]).fetchall()
        by_table: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, dtype in columns:
            by_table.setdefault((schema, table), []).append((column, dtype))
        for (schema, table), cols in by_table.items():
            text = _relation_text(con, f'"{schema}"."{table}"', cols)
            out += scan_text(text, secrets, rel, f"duckdb table {schema}.{table}")
    return out


def _scan_sqlite(path: Path, secrets: Secrets, rel: str) -> list[Finding]:
    out = scan_text(_text_of_bytes(path.read_bytes()), secrets, rel, "sqlite bytes")
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        for (table,) in con.execute("select name from sqlite_master where type = 'table'").fetchall():
            values = []
            for row in con.execute(f'select * from "{table}"'):
                for v in row:
                    if isinstance(v, bytes):
                        for candidate in (_maybe_decompressed(v), v):
                            values.append(_text_of_bytes(candidate))
                    elif v is not None:
                        values.append(str(v))
            out += scan_text("\n".join(values), secrets, rel, f"sqlite table {table}")
    finally:
        con.close()
    return out


def _maybe_decompressed(data: bytes) -> bytes:
    import zlib

    for fn in (zlib.decompress, gzip.decompress):
        try:
            return fn(data)
        except Exception:  # noqa: BLE001 - not compressed that way
            continue
    return data


def scan_bytes(data: bytes, secrets: Secrets, rel: str) -> list[Finding]:
    """Anything that is not a database file: an archive member by member, else text."""
    if data[:4] == b"PK\x03\x04":
        out = []
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                out += scan_bytes(z.read(name), secrets, f"{rel}!{name}")
        return out
    if data[:2] == b"\x1f\x8b":
        try:
            return scan_bytes(gzip.decompress(data), secrets, f"{rel}!gunzip")
        except OSError:
            pass
    return scan_text(_text_of_bytes(data), secrets, rel)


def scan_file(path: Path, secrets: Secrets, rel: str | None = None) -> list[Finding]:
    path = Path(path)
    rel = rel or str(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(b"SQLite format 3\x00"):
        return _scan_sqlite(path, secrets, rel)
    if head[:4] == b"PAR1":
        return _scan_parquet(path, secrets, rel)
    if head[8:12] == b"DUCK":
        return _scan_duckdb(path, secrets, rel) + scan_text(
            _text_of_bytes(path.read_bytes()), secrets, rel, "duckdb bytes")
    return scan_bytes(path.read_bytes(), secrets, rel)


def scan_tree(root: Path, secrets: Secrets, exclude: Iterable[Path] = (),
              modified_after: float | None = None) -> list[Finding]:
    """Every file under `root` (symbolic links to files outside it too), except under `exclude`
    and, with `modified_after` (a time.time()), those not modified since (scanned before)."""
    root = Path(root)
    skip = [Path(p).resolve() for p in exclude]
    out = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(path.resolve().is_relative_to(s) for s in skip):
            continue
        if modified_after is not None and path.stat().st_mtime < modified_after:
            continue
        out += scan_file(path, secrets, str(path.relative_to(root)))
    return out


def report(findings: list[Finding], limit: int = 30) -> str:
    lines = [str(f) for f in findings[:limit]]
    more = f"\n... and {len(findings) - limit} more" if len(findings) > limit else ""
    return f"{len(findings)} personal value(s) found:\n" + "\n".join(lines) + more
