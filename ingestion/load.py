"""The load of one source table: read -> clean -> duplicates -> validate the text (pandera) ->
parse -> resolve areas -> references to the parent's current load -> validate the values
(pandera) -> pseudonymise -> split into valid and quarantined rows -> write both atomically ->
return the reconciliation.

Every row read ends in exactly one place: `lake/validated`, `lake/quarantine` (with its reason
codes, columns, values and the original row) or the count of exact duplicates, and the load
records `read = valid + quarantined + duplicates` in `lake/loads/<source>/<table>.json`, with the
records the files hold counted apart from the parser (`physical_rows`): the two must agree.
A table-level problem raises `SourceError` before anything is written, so the last good load stays.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import duckdb
import geothai
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import shapely

from ingestion import areas as area_mod
from ingestion import normalise, pseudonym, readers
from ingestion.lake import table_dir, write_parts_atomic, write_table_atomic
from ingestion.readers import LOAD_ID, SOURCE_FILE, SOURCE_ROW, RawTable, SourceError
from schemas import base
from schemas.base import TableSpec

REPAIRS = "_repairs"
# Pass 2 handles up to CHUNK_ROWS rows at a time; pass 1 keeps files in memory up to KEEP_ROWS
# (beyond, pass 2 reads them again). Two of the largest loads run side by side within 2 GB.
CHUNK_ROWS = 200_000
KEEP_ROWS = 200_000
QUARANTINE_COLUMNS = [SOURCE_FILE, SOURCE_ROW, LOAD_ID, "row_key", "reason_codes", "columns",
                      "values", "message", "original_row"]
# The order repair codes are listed in `_repairs` (docs/lake.md).
REPAIR_ORDER = (normalise.THAI_DIGITS, normalise.THOUSANDS_SEPARATOR, normalise.BE_CE_YEAR,
                normalise.AREA_NAME_NORMALISED, area_mod.AREA_FROM_NAMES,
                area_mod.AREA_ABOLISHED_SUCCESSOR, area_mod.LAT_LON_SWAPPED, area_mod.AREA_FROM_POINT)


@dataclass
class Reconciliation:
    """What one load did; written to `lake/loads/<source>/<table>.json` and shown as metadata."""

    source: str
    table: str
    load_id: str
    loaded_at: str
    files: dict[str, str]
    rows_read: int
    valid: int
    quarantined: int
    duplicates: int
    reasons: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=dict)
    area_resolution: dict[str, int] = field(default_factory=dict)
    validated_path: str = ""
    quarantine_path: str = ""
    seconds: float = 0.0
    # The records the files hold, counted from their physical lines, sheet rows, features or
    # `count(*)` apart from the parser (docs/lake.md, "Rows read"); None in loads made before.
    physical_rows: int | None = None

    @property
    def split_balanced(self) -> bool:
        """Every row read is valid, quarantined or a counted duplicate."""
        return self.rows_read == self.valid + self.quarantined + self.duplicates

    @property
    def physically_balanced(self) -> bool:
        """Every record the files hold was read (nothing merged or skipped by the parser)."""
        return self.physical_rows is None or self.rows_read == self.physical_rows

    @property
    def balanced(self) -> bool:
        return self.split_balanced and self.physically_balanced

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def loads_path(lake_dir: Path, source: str, table: str) -> Path:
    return Path(lake_dir) / "loads" / source / f"{table}.json"


def read_reconciliation(lake_dir: Path, source: str, table: str) -> Reconciliation | None:
    path = loads_path(lake_dir, source, table)
    if not path.exists():
        return None
    # Loads written by another version may lack a field or have one more: read what is known.
    known = {f.name for f in fields(Reconciliation)}
    return Reconciliation(**{k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items()
                             if k in known})


# -- reading -------------------------------------------------------------------------------------

def source_files(spec: TableSpec, sources_dir: Path) -> list[Path]:
    files = sorted(p for p in Path(sources_dir).glob(spec.pattern) if p.is_file())
    if not files:
        raise SourceError(f"no file matches {spec.pattern} in {sources_dir}", file=spec.pattern,
                          table=spec.name)
    return files


def _derive(spec: TableSpec, frame: pd.DataFrame, rel: str) -> pd.DataFrame:
    """Columns a table takes from its file's name (docs/lake.md)."""
    for column, how in spec.derived.items():
        if how == "fiscal_year_from_file_name":
            found = re.search(r"FY(\d{4})", Path(rel).name)
            if not found:
                raise SourceError("the file name has no fiscal year (funds_FY<BE year>.xlsx)",
                                  file=rel, table=spec.name)
            year = int(found.group(1))
            if year < normalise.BE_MIN_YEAR:
                raise SourceError(f"the file name's fiscal year {year} is not a BE year",
                                  file=rel, table=spec.name)
            frame[column] = pd.Series(str(year), index=frame.index, dtype="str")
        elif how == "province_code_from_file_name":
            code = Path(rel).stem
            if not re.fullmatch(r"\d{2}", code) or geothai.province(code) is None:
                raise SourceError(f"the file name {Path(rel).name} is not a current DOPA province "
                                  "code (members/<province code>.csv)", file=rel, table=spec.name)
            frame[column] = pd.Series(code, index=frame.index, dtype="str")
    return frame


def read_file(spec: TableSpec, path: Path, sources_dir: Path,
              only: list[str] | None = None, key: bytes | None = None) -> RawTable:
    """One file of a table, read with its format's reader, with the columns its name gives
    (`only`: just these columns, where the format makes that cheaper). `key`: the pseudonym key,
    for the personal values of lines that are not records (without it they are masked)."""
    rel = path.relative_to(sources_dir).as_posix()
    names = [c.source_name for c in spec.columns]
    protect = pseudonym.Protect.for_columns({c.name: c.source_name for c in spec.columns}, key)
    # A field app leaves out an area code it does not know: the point stands in for it.
    optional = ([c.name for c in spec.columns if c.kind == base.AREA_CODE]
                if spec.areas is not None and spec.areas.point else [])
    if spec.format == "sqlite":
        raw = readers.read_sqlite(path, rel, spec.sqlite_table, names, table=spec.name,
                                  protect=protect)
    elif spec.format == "xlsx":
        raw = readers.read_workbook(path, rel, {c.source_name: c.name for c in spec.columns},
                                    table=spec.name, only=only, protect=protect)
    elif spec.format == "csv":
        # A table of many files (members, one per province) may have a file with no rows.
        raw = readers.read_csv(path, rel, names, table=spec.name, encoding=spec.encoding,
                               allow_empty=any(ch in spec.pattern for ch in "*?["), protect=protect)
    elif spec.format == "ndjson":
        raw = readers.read_ndjson(path, rel, names, table=spec.name, optional=optional,
                                  protect=protect)
    elif spec.format == "geojson":
        raw = readers.read_geojson(path, rel, names, table=spec.name, optional=optional,
                                   protect=protect)
    else:
        raise ValueError(f"unknown format {spec.format}")
    raw.frame = _derive(spec, raw.frame, rel)
    return raw


def read_source(spec: TableSpec, sources_dir: Path, only: list[str] | None = None,
                key: bytes | None = None) -> RawTable:
    """Every file of a table as one RawTable (for small tables and parent keys)."""
    raws = [read_file(spec, path, sources_dir, only, key) for path in source_files(spec, sources_dir)]
    frame = pd.concat([r.frame for r in raws], ignore_index=True)
    bad = [r.malformed for r in raws if not r.malformed.empty]
    malformed = pd.concat(bad, ignore_index=True) if bad else readers.empty_malformed()
    return RawTable(frame, malformed, {k: v for r in raws for k, v in r.files.items()},
                    sum(r.physical for r in raws))


def load_id_for(files: dict[str, str], now: dt.datetime) -> str:
    """`<UTC timestamp>-<8 hex>`: the file's sha256, or for a table of several files the sha256
    of their sorted `path sha256` lines (so any changed file changes the id)."""
    if len(files) == 1:
        digest = next(iter(files.values()))
    else:
        lines = "".join(f"{p} {h}\n" for p, h in sorted(files.items()))
        digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{digest[:8]}"


# -- failures ------------------------------------------------------------------------------------

class Failures:
    """The row-level failures of a load: (row position, reason code, column, value, detail)."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, rows, code, column, values=None, detail=None) -> None:
        rows = np.asarray(rows)
        if rows.size == 0:
            return
        n = rows.size

        def col(v):
            if v is None or np.isscalar(v):
                return [v] * n
            return list(v)

        self.parts.append(pd.DataFrame({"row": rows.astype("int64"), "code": col(code),
                                        "column": col(column), "value": col(values),
                                        "detail": col(detail)}))

    def add_mask(self, mask: pd.Series, code, column, values=None, detail=None) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        take = lambda v: v[mask] if isinstance(v, pd.Series) else v  # noqa: E731
        self.add(np.flatnonzero(mask.to_numpy()), take(code), take(column), take(values), take(detail))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"row": pd.Series(dtype="int64"),
                                 **{c: pd.Series(dtype=object) for c in ("code", "column", "value", "detail")}})
        return pd.concat(self.parts, ignore_index=True)


def run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame, failures: Failures,
               text: pd.DataFrame) -> None:
    """Validate lazily and record each failed row with the check's reason code. Values are
    taken from the cleaned text, so the quarantine shows what the source said."""
    try:
        schema.validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    for (context, column, number), group in cases.groupby(
            ["schema_context", "column", "check_number"], dropna=False, sort=False):
        if group["index"].isna().all():
            # A failure of the whole column (a dtype, a missing column) is our bug, not the data's.
            raise RuntimeError(f"{schema.name}: {column}: {group['check'].iloc[0]}")
        if context == "DataFrameSchema":
            check = schema.checks[int(number)]
            blamed = getattr(check, "blamed_columns", ()) or (column,)
            if column not in blamed:
                continue
        else:
            check = schema.columns[column].checks[int(number)]
        rows = group["index"].astype("int64").to_numpy()
        values = text[column].iloc[rows] if column in text.columns else group["failure_case"].astype(str)
        failures.add(rows, check.name, column, list(values), check.error)


# -- columns as distinct values --------------------------------------------------------------------

@dataclass
class Distinct:
    """A column as its distinct cleaned values and, per row, the index of its value (-1 for
    null). Cleaning, parsing and the text checks run once per distinct value: a column of six
    million member rows has a few thousand distinct dates. A column of (nearly) unique values,
    such as an ID, is kept row for row (`identity`): counting its distinct values costs more
    than it saves."""

    codes: np.ndarray
    values: pd.Series
    identity: bool = False

    def expand(self, on_values: pd.Series) -> pd.Series:
        """Per-row values from values computed on the distinct ones (null where the row's is)."""
        if self.identity:
            return on_values.reset_index(drop=True)
        filler = pd.Series([None], dtype=on_values.dtype)
        ext = pd.concat([on_values.reset_index(drop=True), filler], ignore_index=True)
        idx = np.where(self.codes >= 0, self.codes, len(on_values))
        return ext.iloc[idx].reset_index(drop=True)


def distinct(series: pd.Series, *, dedupe: bool = True) -> Distinct:
    series = series.reset_index(drop=True)
    if not dedupe:
        return Distinct(np.arange(len(series)), normalise.clean_text(series), identity=True)
    raw_codes, raw_values = pd.factorize(series, use_na_sentinel=True)
    clean = normalise.clean_text(pd.Series(raw_values, dtype="str"))
    clean_codes, clean_values = pd.factorize(clean, use_na_sentinel=True)
    lookup = np.append(clean_codes, -1)
    codes = lookup[np.where(raw_codes >= 0, raw_codes, len(clean_codes))]
    return Distinct(codes.astype(np.int64), pd.Series(clean_values, dtype="str"))


def _worth_deduplicating(col: base.Col) -> bool:
    """Plain text with no list of values, IDs and names are checked and parsed row for row."""
    return not (col.kind in (base.TEXT, base.CITIZEN_ID, base.PERSON_NAME) and not col.allowed
                and not col.pattern)


_SEP, _NULL = "\x1f", "\x00"


def row_hashes(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, columns: list[str],
               salt: str) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit hashes of each row's cleaned values, computed by DuckDB (native, on both
    cores): equal rows (or keys) hash equal, and two independent hashes make a false match
    across millions of rows a non-event."""
    table = pa_arrow.table({f"c{i}": pa_arrow.array(normalise.clean_text(frame[c]).array)
                            for i, c in enumerate(columns)})
    joined = f"concat_ws('{_SEP}', " + ", ".join(f"coalesce(c{i}, '{_NULL}')"
                                                  for i in range(len(columns))) + ")"
    con.register("t", table)
    try:
        out = con.execute(f"select hash({', '.join(f'c{i}' for i in range(len(columns)))}) as a, "
                          f"hash('{salt}' || {joined}) as b from t").fetchnumpy()
    finally:
        con.unregister("t")
    return np.asarray(out["a"], dtype=np.uint64), np.asarray(out["b"], dtype=np.uint64)


def validate_text(spec: TableSpec, cols: dict[str, Distinct], text: pd.DataFrame,
                  failures: Failures, live: np.ndarray) -> None:
    """The text schema, column by column on the distinct cleaned values (its checks are about
    one value at a time), then its checks across columns on the rows."""
    for name, column in spec.text.columns.items():
        d = cols[name]
        values = d.values
        has_null = (d.codes < 0).any()
        frame = pd.DataFrame({name: pd.concat([values, pd.Series([pd.NA], dtype="str")],
                                              ignore_index=True) if has_null else values})
        try:
            column.validate(frame, lazy=True)
            continue
        except pa.errors.SchemaErrors as exc:
            cases = exc.failure_cases
        for number, group in cases.groupby("check_number", dropna=False, sort=False):
            if group["index"].isna().all():
                raise RuntimeError(f"{spec.text.name}: {name}: {group['check'].iloc[0]}")
            check = column.checks[int(number)]
            bad = group["index"].astype("int64").to_numpy()
            codes = np.where(d.codes >= 0, d.codes, len(values))
            rows = np.flatnonzero(np.isin(codes, bad) & live)
            failures.add(rows, check.name, name, list(text[name].iloc[rows]), check.error)
    if spec.text.checks:
        frame_checks = pa.DataFrameSchema(checks=spec.text.checks, name=spec.text.name)
        run_schema(frame_checks, text[live][list(spec.text.columns)], failures, text)


def parse_columns(spec: TableSpec, cols: dict[str, Distinct]) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Every column to its lake type, parsed once per distinct value (unreadable values become
    null: the text schema has recorded them); dates and years get their `_era` column."""
    typed: dict[str, pd.Series] = {}
    repairs: dict[str, pd.Series] = {}
    for col in spec.columns:
        d = cols[col.name]
        s = d.values
        if col.kind == base.DATE:
            p = normalise.date(s, norm=col.norm, excel=col.excel)
        elif col.kind == base.BE_YEAR:
            p = normalise.be_year(s)
        elif col.kind == base.TIMESTAMP:
            p = normalise.timestamp(s)
        elif col.kind in base.NUMERIC:
            p = normalise.number(s, integer=col.kind == base.COUNT)
        elif col.kind == base.AREA_NAME:
            p = normalise.area_name(s)
        elif col.kind == base.BOOL:
            p = normalise.boolean(s)
        elif col.kind in (base.AREA_CODE, base.CITIZEN_ID):
            p = normalise.Parsed(normalise.digits_only(s), pd.Series(False, index=s.index),
                                 {normalise.THAI_DIGITS: normalise.thai_digits(s)[1]})
        else:
            p = normalise.Parsed(s, pd.Series(False, index=s.index))
        typed[col.name] = d.expand(p.value)
        if p.era is not None and col.kind in (base.DATE, base.BE_YEAR):
            typed[f"{col.name}_era"] = d.expand(p.era)
        for code, mask in p.repairs.items():
            if code != normalise.AREA_NAME_NORMALISED and mask.any():   # names: after the area
                _or(repairs, code, d.expand(mask.astype("boolean")).fillna(False).astype(bool))
    return pd.DataFrame(typed), repairs


# -- the load ------------------------------------------------------------------------------------

def _or(repairs: dict[str, pd.Series], code: str, mask: pd.Series) -> None:
    mask = mask.fillna(False).astype(bool)
    repairs[code] = repairs[code] | mask if code in repairs else mask


@dataclass
class Scan:
    """Pass 1 over one file: what duplicate detection needs, a few numbers per row."""

    rel: str
    path: Path
    rows: int
    source_file: pd.Categorical          # per row (a workbook's rows name their sheet)
    source_row: np.ndarray
    row_hash: tuple[np.ndarray, np.ndarray] | None
    key_hash: tuple[np.ndarray, np.ndarray] | None
    key_ok: np.ndarray
    latest: np.ndarray | None
    sha256: str                          # of the file as pass 1 read it
    raw: RawTable | None = None          # kept when the table is one file: no second read
    physical: int = 0                    # the file's records, counted apart from the parser


# How a reader or a file name places a row without it saying so: a copy in another sheet or in
# another province's file is still a copy. (A workbook's fiscal year is not placement: a fund
# is reported again each year.)
PLACEMENT = ("region_sheet", "province_code_from_file_name")


def _identity(spec: TableSpec, frame: pd.DataFrame) -> list[str]:
    """The columns that say what a row says: the source's and those its file name gives, but
    not its placement nor its lineage."""
    placed = {c for c, how in spec.derived.items() if how in PLACEMENT} | {"region_sheet"}
    cols = [c for c in frame.columns
            if not c.startswith("_") and (c in spec.column_names or c not in placed)]
    return cols + ([readers.GEOMETRY] if readers.GEOMETRY in frame.columns else [])


@functools.lru_cache(maxsize=1)
def _single_successors() -> dict[str, str]:
    """Abolished subdistrict code -> its one current successor, as the area resolver maps it
    (ingestion.areas: an abolished code with several successors is never resolved)."""
    from geothai.abolished import abolished_areas

    current = {s.code for s in geothai._subdistricts()}  # noqa: SLF001 (as ingestion.areas)
    abolished = {a.code: a.successors for a in abolished_areas() if a.level == "subdistrict"}

    def follow(code: str, seen: tuple[str, ...] = ()) -> set[str]:
        if code in current:
            return {code}
        if code in seen or code not in abolished:
            return set()
        return set().union(*(follow(c, seen + (code,)) for c in abolished[code]))

    found = {code: follow(code) for code in abolished}
    return {code: next(iter(s)) for code, s in found.items() if len(s) == 1}


def key_values(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Each row's key as the lake will hold it, so that two spellings of one key are one key and
    the older record is superseded instead of reaching the warehouse as a second row (which would
    fail its uniqueness test there): a year in either era (2556, 2013, ๒๕๕๖), a count with
    leading zeros (01), an abolished subdistrict code and its successor. Unreadable values stay
    as written (the row is quarantined for them anyway)."""
    out = {}
    for k in spec.key:
        text = normalise.thai_digits(normalise.clean_text(frame[k]))[0]
        kind = spec.column(k).kind if k in spec.column_names else None
        if kind in (base.BE_YEAR, base.COUNT, base.AREA_CODE):
            codes, uniques = pd.factorize(text, use_na_sentinel=True)
            raw = pd.Series(uniques, dtype="str")
            if kind == base.AREA_CODE:
                code = area_mod.clean_code(raw)
                value = code.map(_single_successors()).fillna(code)
            else:
                parsed = normalise.be_year(raw) if kind == base.BE_YEAR else \
                    normalise.number(raw, integer=True)
                value = parsed.value.astype("str").where(parsed.value.notna(), raw)
            text = pd.Series(np.append(value.to_numpy(dtype=object), None)[
                np.where(codes >= 0, codes, len(value))], index=frame.index, dtype="str")
        out[k] = text
    return pd.DataFrame(out)


def _scan(con: duckdb.DuckDBPyConnection, spec: TableSpec, path: Path, sources_dir: Path,
          keep: bool, key: bytes | None = None) -> Scan:
    raw = read_file(spec, path, sources_dir, key=key)
    rel = path.relative_to(sources_dir).as_posix()
    frame = raw.frame
    row_hash = row_hashes(con, frame, _identity(spec, frame), "row")
    keys = key_values(spec, frame)
    key_hash = row_hashes(con, keys, list(spec.key), "key")
    key_ok = keys.notna().all(axis=1).to_numpy()
    latest = None
    if spec.latest_by:
        stamp = normalise.timestamp(frame[spec.latest_by]).value
        latest = stamp.astype("int64").to_numpy()      # NaT is the smallest: never the latest
    return Scan(rel, path, len(frame), pd.Categorical(frame[SOURCE_FILE]),
                frame[SOURCE_ROW].to_numpy(np.int64), row_hash, key_hash, key_ok, latest,
                raw.files[rel], raw if keep else None, raw.physical)


@dataclass
class Duplicates:
    """Over the whole table: exact copies of an earlier row, and older records of a key."""

    exact: np.ndarray
    superseded: np.ndarray
    winner: dict[int, int]               # superseded position -> the latest record's position


def _groups(sorted_cols: list[np.ndarray]) -> np.ndarray:
    """For rows sorted by `sorted_cols`: True where a row equals the one before it."""
    same = np.zeros(len(sorted_cols[0]), dtype=bool)
    if len(same) > 1:
        same[1:] = np.logical_and.reduce([c[1:] == c[:-1] for c in sorted_cols])
    return same


def find_duplicates(spec: TableSpec, scans: list[Scan]) -> Duplicates:
    """By sorting the row and key hashes (numpy, a few hundred MB for six million rows; a pandas
    hash table over the same would take several times that). The hashes are freed as they go."""
    a = np.concatenate([s.row_hash[0] for s in scans])
    b = np.concatenate([s.row_hash[1] for s in scans])
    for s in scans:
        s.row_hash = None
    order = np.lexsort((b, a))            # stable: the earliest of equal rows comes first
    exact = np.zeros(len(a), dtype=bool)
    exact[order[_groups([a[order], b[order]])]] = True
    del a, b, order

    candidates = np.flatnonzero(~exact & np.concatenate([s.key_ok for s in scans]))
    ka = np.concatenate([s.key_hash[0] for s in scans])[candidates]
    kb = np.concatenate([s.key_hash[1] for s in scans])[candidates]
    latest = (np.concatenate([s.latest for s in scans])[candidates] if spec.latest_by
              else np.zeros(len(candidates), dtype=np.int64))
    for s in scans:
        s.key_hash = None
    # The latest record of a key wins: by `latest_by` where the table has it, then the later row.
    order = np.lexsort((candidates, latest, kb, ka))
    same_as_previous = _groups([ka[order], kb[order]])
    superseded = np.zeros(len(exact), dtype=bool)
    winner: dict[int, int] = {}
    if same_as_previous.any():
        # A row is superseded when the next row in the sorted order has the same key.
        same_as_next = np.append(same_as_previous[1:], False)
        losers = candidates[order[same_as_next]]
        superseded[losers] = True
        group = np.cumsum(~same_as_previous) - 1           # group number of each sorted row
        ends = np.flatnonzero(~same_as_next)                # the last (latest) row of each group
        latest_pos = candidates[order[ends[group[same_as_next]]]]
        winner = dict(zip(losers.tolist(), latest_pos.tolist()))
    return Duplicates(exact, superseded, winner)


@dataclass
class Chunk:
    """What pass 2 makes of a group of files."""

    validated: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates: int


def process(spec: TableSpec, raw: RawTable, exact: np.ndarray, superseded: np.ndarray,
            winner_at: dict[int, tuple[str, int]], parents: ParentKeys | None,
            boundaries: Path, load_id: str, key: bytes) -> Chunk:
    """Pass 2 over a group of files: validate, parse, resolve and split their rows."""
    frame = raw.frame.reset_index(drop=True)
    n = len(frame)
    source_cols = spec.column_names
    derived_cols = [c for c in frame.columns
                    if c not in source_cols and not c.startswith("_")]
    dedupe = {c.name: _worth_deduplicating(c) for c in spec.columns}
    cols = {c: distinct(frame[c], dedupe=dedupe.get(c, True)) for c in source_cols + derived_cols}
    text = pd.DataFrame({c: cols[c].expand(cols[c].values) for c in cols})
    if readers.GEOMETRY in frame.columns:
        text[readers.GEOMETRY] = frame[readers.GEOMETRY]
    live = ~exact
    failures = Failures()

    older = np.flatnonzero(superseded)
    if older.size:
        first = spec.key[0]
        failures.add(older, "duplicate_key_superseded", first, list(text[first].iloc[older]),
                     [f"an older record of this key: the latest is {winner_at[i][0]} row {winner_at[i][1]}"
                      for i in older])

    validate_text(spec, cols, text, failures, live)
    typed, repairs = parse_columns(spec, cols)
    for c in derived_cols:
        typed[c] = text[c] if c != "fiscal_year" else pd.to_numeric(text[c]).astype("Int64")
    if spec.derived.get("geometry") == "geometry_columns":
        _geometry(text, typed, failures, repairs)
    if spec.areas is not None:
        _resolve_areas(spec, frame, text, typed, failures, repairs, boundaries)
    if spec.parent is not None:
        parents.check(text[spec.parent.column], live, failures, spec.parent.column)
    run_schema(spec.typed, typed[live], failures, text)

    fails = failures.frame()
    fails = fails[live[fails["row"].to_numpy()]]
    if len(fails) and spec.skip_after:
        # A total row is not a record: its other "problems" are not worth listing.
        special = fails[fails["code"].isin(spec.skip_after)]
        fails = fails[~fails["row"].isin(special["row"]) | fails["code"].isin(spec.skip_after)]
    fails = fails.drop_duplicates(["row", "code", "column"])
    bad_rows = np.zeros(n, dtype=bool)
    bad_rows[fails["row"].to_numpy()] = True
    valid_mask = live & ~bad_rows
    return Chunk(_validated_frame(spec, typed, frame, repairs, valid_mask, load_id, key),
                 _quarantine_frame(spec, frame, text, fails, raw.malformed, load_id, key),
                 int(exact.sum()))


def acceptance_path(lake_dir: Path, source: str, table: str) -> Path:
    """`lake/accepted/<source>/<table>.json`: the one export of a table accepted although it
    shrank (accept_shrink)."""
    return Path(lake_dir) / "accepted" / source / f"{table}.json"


def accept_shrink(spec: TableSpec, sources_dir: Path, lake_dir: Path,
                  by: str | None = None) -> dict:
    """Accept the table's current export although it has fewer rows than its last good load
    allows (TableSpec.max_shrink): recorded with the sha256 of each of its files, so that it
    accepts these files only; the next load of any other export is judged again. Every path
    (make run, the schedule, the sensor) honours it, since the load itself reads it."""
    files = {p.relative_to(sources_dir).as_posix(): readers.sha256_file(p)
             for p in source_files(spec, Path(sources_dir))}
    last = read_reconciliation(lake_dir, spec.source, spec.table)
    record = {"table": spec.name, "files": files,
              "accepted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "accepted_by": by or "", "last_good_load": last.load_id if last else None,
              "last_good_rows_read": last.rows_read if last else None}
    path = acceptance_path(lake_dir, spec.source, spec.table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return record


def _accepted(spec: TableSpec, lake_dir: Path, files: dict[str, str]) -> dict | None:
    path = acceptance_path(lake_dir, spec.source, spec.table)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("files") == files else None


def _refuse_a_shrunken_table(spec: TableSpec, lake_dir: Path, scans: list) -> None:
    """A table whose files hold more than `spec.max_shrink` fewer rows than its last good load is
    taken for a broken export (a truncated file, a filtered query), not for news: the load stops
    and the last good load stays, unless this very export was accepted (accept_shrink)."""
    last = read_reconciliation(lake_dir, spec.source, spec.table)
    rows = sum(s.rows for s in scans)
    if last is None or not last.rows_read or rows >= last.rows_read * (1 - spec.max_shrink):
        return
    if _accepted(spec, lake_dir, {s.rel: s.sha256 for s in scans}) is not None:
        return
    files = ", ".join(s.rel for s in scans) if len(scans) <= 3 else spec.pattern
    raise SourceError(
        f"{rows:,} data rows where the last good load ({last.load_id}) read {last.rows_read:,}: "
        f"{1 - rows / last.rows_read:.0%} fewer, more than the {spec.max_shrink:.0%} the table "
        f"allows (a truncated export or a filtered query?). If the export really shrank, accept "
        f"these files (this export only) with `make run ACCEPT={spec.name}` or "
        f"`python -m orchestration.run --accept-shrink {spec.name}`", file=files, table=spec.name)


def load_table(spec: TableSpec, sources_dir: Path, lake_dir: Path, key: bytes,
               boundaries: Path, now: dt.datetime | None = None) -> Reconciliation:
    """Load one source table into the lake; returns its reconciliation. Pure: paths and the
    pseudonym key are arguments (the Dagster asset takes them from orchestration.settings).

    Two passes over the files, a group of files in memory at a time: the first hashes every row
    and key (to find duplicates across the whole table), the second validates and writes."""
    started = dt.datetime.now(dt.UTC)
    now = now or started
    sources_dir, lake_dir = Path(sources_dir), Path(lake_dir)
    files = source_files(spec, sources_dir)
    scans, kept = [], 0
    with duckdb.connect() as con:
        for path in files:
            # Small files stay in memory for pass 2; the rest is read again (memory over speed).
            scans.append(_scan(con, spec, path, sources_dir, keep=kept < KEEP_ROWS, key=key))
            kept += scans[-1].rows
    hashes = {s.rel: s.sha256 for s in scans}
    if sum(s.rows for s in scans) == 0 and not any(s.raw is not None and len(s.raw.malformed)
                                                   for s in scans):
        raise SourceError("no data rows in any file", file=spec.pattern, table=spec.name)
    _refuse_a_shrunken_table(spec, lake_dir, scans)
    load_id = load_id_for(hashes, now)
    dups = find_duplicates(spec, scans)
    offsets = np.cumsum([0] + [s.rows for s in scans])

    def where(pos: int) -> tuple[str, int]:
        i = int(np.searchsorted(offsets, pos, side="right") - 1)
        j = pos - offsets[i]
        return str(scans[i].source_file[j]), int(scans[i].source_row[j])

    # Pass 2 works on groups of consecutive files of up to CHUNK_ROWS rows: one province's
    # members is too small to be worth the fixed cost of a pass, six million too many to hold.
    groups, current, size = [], [], 0
    for i, scan in enumerate(scans):
        if current and size + scan.rows > CHUNK_ROWS:
            groups.append(current)
            current, size = [], 0
        current.append(i)
        size += scan.rows
    groups.append(current)

    parents = parent_keys(spec, lake_dir) if spec.parent is not None else None
    counts = {"read": 0, "valid": 0, "quarantined": 0, "duplicates": 0}
    reasons, repair_counts, resolution = Counter(), Counter(), Counter()
    quarantines = []

    def slices():
        """(raw rows, first position) of at most CHUNK_ROWS rows each, in file order."""
        for group in groups:
            raws = []
            for i in group:
                raws.append(scans[i].raw or read_file(spec, scans[i].path, sources_dir, key=key))
                scans[i].raw = None
            raw = raws[0] if len(raws) == 1 else RawTable(
                pd.concat([r.frame for r in raws], ignore_index=True),
                pd.concat([r.malformed for r in raws], ignore_index=True), {})
            del raws
            # One big file (a million repayments) is processed in slices too.
            start = int(offsets[group[0]])
            for lo in range(0, max(len(raw.frame), 1), CHUNK_ROWS):
                part = raw.frame.iloc[lo:lo + CHUNK_ROWS]
                yield RawTable(part, raw.malformed if lo == 0 else readers.empty_malformed(),
                               {}), start + lo

    def parts():
        for raw, lo in slices():
            hi = lo + len(raw.frame)
            winners = {p - lo: where(w) for p, w in dups.winner.items() if lo <= p < hi}
            chunk = process(spec, raw, dups.exact[lo:hi], dups.superseded[lo:hi], winners,
                            parents, boundaries, load_id, key)
            counts["read"] += int(hi - lo) + len(raw.malformed)
            del raw
            counts["valid"] += len(chunk.validated)
            counts["quarantined"] += len(chunk.quarantine)
            counts["duplicates"] += chunk.duplicates
            for codes in chunk.quarantine["reason_codes"]:
                reasons.update(codes.split(";"))
            for codes, n in chunk.validated[REPAIRS].value_counts().items():
                if codes:
                    for code in codes.split(";"):
                        repair_counts[code] += int(n)
            if "area_resolution" in chunk.validated.columns:
                resolution.update({str(k): int(v) for k, v in
                                   chunk.validated["area_resolution"].value_counts().items()})
            quarantines.append(chunk.quarantine)
            yield _to_arrow(chunk.validated)

    valid_dir = table_dir(lake_dir, "validated", spec.source, spec.table)
    generator = parts()
    first = next(generator)
    valid_path = write_parts_atomic(itertools.chain([first], generator), first.schema, valid_dir)
    quarantine = pd.concat(quarantines, ignore_index=True) if len(quarantines) > 1 else quarantines[0]
    quarantine_path = write_table_atomic(_to_arrow(quarantine),
                                         table_dir(lake_dir, "quarantine", spec.source, spec.table))
    rec = Reconciliation(
        source=spec.source, table=spec.table, load_id=load_id, loaded_at=now.isoformat(),
        files=hashes, rows_read=counts["read"], valid=counts["valid"],
        quarantined=counts["quarantined"], duplicates=counts["duplicates"],
        reasons=dict(sorted(reasons.items())), repairs=dict(sorted(repair_counts.items())),
        area_resolution=dict(sorted(resolution.items())),
        validated_path=str(valid_path), quarantine_path=str(quarantine_path),
        seconds=round((dt.datetime.now(dt.UTC) - started).total_seconds(), 2),
        physical_rows=sum(s.physical for s in scans))
    path = loads_path(lake_dir, spec.source, spec.table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(rec.to_json(), encoding="utf-8")
    tmp.replace(path)
    return rec


def _geometry(text: pd.DataFrame, typed: pd.DataFrame, failures: Failures,
              repairs: dict[str, pd.Series]) -> None:
    """GeoJSON geometries: a point inside each (lon, lat), the type and WKT; a geometry whose
    coordinates are (lat, lon) is swapped back; an invalid one is made valid (_make_valid)."""
    raw = text[readers.GEOMETRY]
    geoms = np.array([None] * len(raw), dtype=object)
    ok = raw.notna().to_numpy()
    if ok.any():
        try:
            geoms[ok] = shapely.from_geojson(raw[ok].tolist(), on_invalid="ignore")
        except shapely.errors.GEOSException:
            geoms[ok] = [shapely.from_geojson(g, on_invalid="ignore") for g in raw[ok]]
    valid = np.array([g is not None and not shapely.is_empty(g) for g in geoms])
    failures.add_mask(pd.Series(~valid, index=text.index), "geometry_invalid", "geometry",
                      raw.fillna(""), "no readable point or polygon")
    _make_valid(geoms, valid, raw, failures, repairs)
    points = np.array([shapely.get_coordinates(shapely.point_on_surface(g))[0] if v else (np.nan, np.nan)
                       for g, v in zip(geoms, valid)], dtype=float).reshape(-1, 2)
    lon, lat = pd.Series(points[:, 0], index=text.index), pd.Series(points[:, 1], index=text.index)
    swapped = area_mod.swapped_lat_lon(lon, lat)
    if swapped.any():
        idx = np.flatnonzero(swapped.to_numpy())
        geoms[idx] = shapely.transform(geoms[idx], lambda c: c[:, ::-1])
        lon[swapped], lat[swapped] = points[idx, 1], points[idx, 0]
        _or(repairs, area_mod.LAT_LON_SWAPPED, swapped)
    typed["geometry_type"] = pd.Series([g.geom_type if v else None for g, v in zip(geoms, valid)],
                                       index=text.index, dtype="str")
    typed["lon"], typed["lat"] = lon.round(7), lat.round(7)
    typed["geometry_wkt"] = pd.Series([shapely.to_wkt(g, rounding_precision=7) if v else None
                                       for g, v in zip(geoms, valid)], index=text.index, dtype="str")


def _make_valid(geoms: np.ndarray, valid: np.ndarray, raw: pd.Series, failures: Failures,
                repairs: dict[str, pd.Series]) -> None:
    """A polygon whose ring crosses itself (a digitising slip: a bow-tie, a loop at the closing
    vertex) still says where the site is: it is made valid (GEOS make_valid, keeping the area
    the rings enclose) and flagged `geometry_made_valid`. One that encloses no area at all (a
    polygon collapsed onto a line) cannot be: `geometry_invalid`, with GEOS's explanation.
    Changes `geoms` and `valid` in place."""
    broken = np.zeros(len(geoms), dtype=bool)
    if valid.any():
        broken[valid] = ~shapely.is_valid(geoms[valid])
    if not broken.any():
        return
    at = np.flatnonzero(broken)
    why = shapely.is_valid_reason(geoms[at])
    fixed = shapely.make_valid(geoms[at], method="structure", keep_collapsed=False)
    kept = ~shapely.is_empty(fixed) & (shapely.get_dimensions(fixed) == shapely.get_dimensions(geoms[at]))
    geoms[at[kept]] = fixed[kept]
    mask = np.zeros(len(geoms), dtype=bool)
    mask[at[kept]] = True
    _or(repairs, area_mod.GEOMETRY_MADE_VALID, pd.Series(mask, index=raw.index))
    lost = at[~kept]
    valid[lost] = False
    failures.add(lost, "geometry_invalid", "geometry", raw.iloc[lost].tolist(),
                 [f"{w}: the geometry cannot be made valid without losing its "
                  f"{'area' if shapely.get_dimensions(g) == 2 else 'shape'}"
                  for w, g in zip(why[~kept], geoms[lost])])


def _canonical_names(resolver: area_mod.AreaResolver, resolver_names: tuple[str, str, str],
                     typed: pd.DataFrame, code: pd.Series) -> None:
    """Where the typed names are the resolved area's (as geothai reads them), write geothai's own
    spelling (กทม. -> กรุงเทพมหานคร, อ.เมือง -> เมืองเชียงใหม่); other names stay as cleaned."""
    sub_c, dist_c, prov_c = resolver_names
    frame = pd.DataFrame({"s": typed[sub_c], "d": typed[dist_c], "p": typed[prov_c], "c": code})
    frame = frame[frame["c"].notna() & frame["s"].notna()]
    if frame.empty:
        return
    keys, distinct = pd.MultiIndex.from_frame(frame.astype(object)).factorize()
    names = []
    for s, d, p, c in distinct:
        clean = lambda x: None if pd.isna(x) else x  # noqa: E731
        found = resolver.addresses(s, clean(d), clean(p))
        hit = next((a for a in found if a.subdistrict.code == c), None)
        names.append((hit.subdistrict.name_th, hit.district.name_th, hit.province.name_th)
                     if hit else (s, clean(d), clean(p)))
    chosen = pd.DataFrame([names[k] for k in keys], index=frame.index, columns=["s", "d", "p"])
    for target, source in ((sub_c, "s"), (dist_c, "d"), (prov_c, "p")):
        typed.loc[chosen.index, target] = chosen[source].where(chosen[source].notna(),
                                                               typed.loc[chosen.index, target])


def _resolve_areas(spec: TableSpec, raw_frame: pd.DataFrame, text: pd.DataFrame,
                   typed: pd.DataFrame, failures: Failures, repairs: dict[str, pd.Series],
                   boundaries: Path) -> None:
    a = spec.areas
    resolver = area_mod.resolver(Path(boundaries))
    index = typed.index
    if a.level == "province":
        code = typed[a.code]
        status = {c: resolver.province_status(c) for c in code.dropna().unique()}
        result = code.map(lambda c: status.get(c, (None, None, "")) if pd.notna(c) else (None, None, ""))
        bad = result.map(lambda r: r[1] is not None)
        failures.add_mask(bad, area_mod.AREA_CODE_UNKNOWN, a.code, text[a.code], result.map(lambda r: r[2]))
        return
    if a.level == "mixed":
        code = typed[a.code]
        is_province = code.str.len() == 2
        resolved = pd.Series(pd.NA, index=index, dtype="str")
        method = pd.Series(pd.NA, index=index, dtype="str")
        prov = code.where(is_province)
        ok_prov = prov.isin(resolver.provinces)
        resolved[ok_prov] = prov[ok_prov]
        method[ok_prov] = area_mod.GIVEN
        failures.add_mask(is_province & ~ok_prov, area_mod.AREA_CODE_UNKNOWN, a.code, text[a.code],
                          "not a current DOPA province code")
        sub = ~is_province.fillna(False) & code.notna()
        r = resolver.resolve(index[sub.to_numpy()], code=code[sub], code_column=a.code)
        resolved[sub] = r.code
        method[sub] = r.method
        for c, mask in r.repairs.items():
            _or(repairs, c, mask.reindex(index, fill_value=False))
        bad = r.reason.notna()
        failures.add_mask(bad.reindex(index, fill_value=False), r.reason.reindex(index),
                          a.code, text[a.code], r.detail.reindex(index))
        typed[f"{a.code}_original"] = normalise.clean_text(text[a.code])
        typed[a.code] = resolved
        typed["area_level"] = pd.Series(np.where(is_province.fillna(False), "province", "subdistrict"),
                                        index=index, dtype="str").where(code.notna())
        typed["area_resolution"] = method
        return
    names = tuple(typed[n] for n in a.names) if a.names else None
    lon = typed[a.point[0]] if a.point else None
    lat = typed[a.point[1]] if a.point else None
    if a.point and spec.format != "geojson":
        swapped = area_mod.swapped_lat_lon(lon, lat)
        if swapped.any():
            lon, lat = lon.where(~swapped, lat), lat.where(~swapped, lon)
            typed[a.point[0]], typed[a.point[1]] = lon, lat
            _or(repairs, area_mod.LAT_LON_SWAPPED, swapped)
    code = typed[a.code] if a.code else None
    r = resolver.resolve(index, code=code, code_column=a.code or "subdistrict_code", names=names,
                         name_columns=a.names or ("subdistrict", "district", "province"),
                         lon=lon, lat=lat)
    for c, mask in r.repairs.items():
        _or(repairs, c, mask)
    bad = r.reason.notna()
    # The offending value is the text of the column the resolver blames (code, name or lon).
    offending = pd.Series([text[c].iloc[i] if isinstance(c, str) and c in text.columns else None
                           for i, c in zip(np.flatnonzero(bad.to_numpy()), r.column[bad])],
                          index=r.column[bad].index, dtype="object")
    failures.add_mask(bad, r.reason, r.column, offending.reindex(index), r.detail)
    if a.names:
        _canonical_names(resolver, a.names, typed, r.code)
        for n in a.names:
            # Compared with the value as read (spaces included: extra spaces are a repair too).
            changed = (typed[n] != raw_frame[n]).fillna(False) & typed[n].notna()
            _or(repairs, normalise.AREA_NAME_NORMALISED, changed)
    typed["subdistrict_code"] = r.code
    typed["subdistrict_code_original"] = r.original
    typed["area_resolution"] = r.method


PARENT_QUARANTINED = "parent_quarantined"
ORPHAN_REFERENCE = "orphan_reference"
SUPERSEDED = "duplicate_key_superseded"


@dataclass
class ParentKeys:
    """What a child table's rows may reference: the keys of its parent's current load in the
    lake. `valid`: keys with a validated row. `quarantined`: key -> (file, row, reasons) of its
    quarantined record, for keys with no validated row (an older record a later one superseded
    leaves its key valid)."""

    table: str
    column: str
    load_id: str
    valid: set[str]
    quarantined: dict[str, tuple[str, int, str]]

    def check(self, child: pd.Series, live: np.ndarray, failures: Failures, column: str) -> None:
        """Each live row whose reference is not a valid parent key: `parent_quarantined` (naming
        the parent's row and reasons) when the parent quarantined it, else `orphan_reference`."""
        unknown = child.notna() & ~child.isin(self.valid) & pd.Series(live, index=child.index)
        held = unknown & child.isin(self.quarantined.keys())
        if held.any():
            detail = child[held].map(lambda k: (
                "its {0} {1} is quarantined in {2} ({3} row {4}: {5}; load {6})".format(
                    self.column, k, self.table, *self.quarantined[k], self.load_id)))
            failures.add_mask(held, PARENT_QUARANTINED, column, child, detail.reindex(child.index))
        failures.add_mask(unknown & ~held, ORPHAN_REFERENCE, column, child,
                          f"no {self.column} like it in {self.table} (load {self.load_id})")


def parent_keys(spec: TableSpec, lake_dir: Path) -> ParentKeys:
    """The keys of the parent table's current load in the lake (validated and quarantined), so
    that a child row is judged against what its parent actually published: a household of a
    quarantined project is held back with it, never left to fail a relationship test in dbt.
    The parent's asset runs first (a Dagster dependency); without a load of it, the child waits."""
    import schemas

    parent = f"{spec.parent.source}/{spec.parent.table}"
    column = spec.parent.parent_column
    parent_spec = schemas.TABLES[(spec.parent.source, spec.parent.table)]
    # The quarantine's `row_key` is the parent's key as its source wrote it (_row_keys): it
    # names a referenced record when that key is the referenced column alone.
    keyed_by_column = [k for k in parent_spec.key if k in parent_spec.column_names] == [column]
    rec = read_reconciliation(lake_dir, spec.parent.source, spec.parent.table)
    valid_dir = table_dir(lake_dir, "validated", spec.parent.source, spec.parent.table)
    quarantine_dir = table_dir(lake_dir, "quarantine", spec.parent.source, spec.parent.table)
    if rec is None or not any(valid_dir.glob("*.parquet")):
        raise SourceError(f"its parent table {parent} has no load in the lake yet: load {parent} "
                          f"first (make run loads both, the parent first)",
                          file=spec.pattern, table=spec.name)
    with duckdb.connect() as con:
        valid = {k for (k,) in con.execute(
            f"select distinct {column} from read_parquet(?, union_by_name=true) "
            f"where {column} is not null", [str(valid_dir / "*.parquet")]).fetchall()}
        quarantined: dict[str, tuple[str, int, str]] = {}
        if keyed_by_column and any(quarantine_dir.glob("*.parquet")):
            # One record per key: its latest quarantined row, a superseded older one only when
            # nothing else names the key.
            rows = con.execute(
                f"""select row_key, {SOURCE_FILE}, {SOURCE_ROW}, reason_codes
                    from read_parquet(?, union_by_name=true)
                    where row_key is not null
                    qualify row_number() over (
                        partition by row_key
                        order by reason_codes = '{SUPERSEDED}', {SOURCE_ROW} desc) = 1""",
                [str(quarantine_dir / "*.parquet")]).fetchall()
            quarantined = {k: (f, int(r), codes) for k, f, r, codes in rows if k not in valid}
    return ParentKeys(parent, column, rec.load_id, valid, quarantined)


def _json_records(frame: pd.DataFrame) -> list[str]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [json.dumps(r, ensure_ascii=False, default=str) for r in records]


def _row_keys(spec: TableSpec, text: pd.DataFrame) -> pd.Series:
    """The key as the source wrote it (`a|b` for a key of several columns; derived columns such
    as the fiscal year from a workbook's name are not part of what the source calls its key)."""
    cols = [k for k in spec.key if k in spec.column_names]
    out = text[cols[0]].fillna("")
    for c in cols[1:]:
        out = out + "|" + text[c].fillna("")
    return out.where(out.str.strip("|") != "")


def _repairs_text(repairs: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    out = pd.Series("", index=index, dtype="str")
    codes = [c for c in REPAIR_ORDER if c in repairs] + sorted(set(repairs) - set(REPAIR_ORDER))
    for code in codes:
        mask = repairs[code].reindex(index, fill_value=False).to_numpy(bool)
        if mask.any():
            out[mask] = out[mask] + ";" + code
    return out.str.lstrip(";")


def _validated_frame(spec, typed, frame, repairs, valid_mask, load_id, key) -> pd.DataFrame:
    out = typed[valid_mask].copy()
    # The typed columns hold the normalised values already (digits only, cleaned names).
    out = pseudonym.pseudonymise_frame(out, key, already_normalised=True)
    out[REPAIRS] = _repairs_text(repairs, typed.index)[valid_mask]
    out[SOURCE_FILE] = frame[SOURCE_FILE][valid_mask]
    out[SOURCE_ROW] = frame[SOURCE_ROW][valid_mask].astype("int64")
    out[LOAD_ID] = load_id
    return out.reset_index(drop=True)


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(empty)"
    return json.dumps(str(value), ensure_ascii=False)


def _quarantine_frame(spec, frame, text, fails, malformed, load_id, key) -> pd.DataFrame:
    """One row per rejected source row, its reasons in the order found (docs/lake.md)."""
    personal = {c: kind for c, (_, kind) in pseudonym.PERSONAL_COLUMNS.items() if c in frame.columns}
    rows = []
    if len(fails):
        fails = fails.sort_values(["row"], kind="stable").reset_index(drop=True)
        values = [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                  else str(v) for v in fails["value"]]
        # Personal values are pseudonymised before they are written anywhere.
        for column, kind in personal.items():
            m = (fails["column"] == column).to_numpy()
            if m.any():
                hashed = pseudonym.pseudonymise_or_mask(
                    pd.Series([values[i] for i in np.flatnonzero(m)], dtype="str"), kind, key)
                for i, h in zip(np.flatnonzero(m), hashed):
                    values[i] = None if pd.isna(h) else h
        parts = [f"column {c or '(row)'} = {_shown(v)}: {d}"
                 for c, v, d in zip(fails["column"], values, fails["detail"])]
        involved = np.unique(fails["row"].to_numpy())
        originals = frame.iloc[involved].drop(columns=[SOURCE_FILE, SOURCE_ROW]).copy()
        for column, kind in personal.items():
            originals[column] = pseudonym.pseudonymise_or_mask(originals[column], kind, key)
        originals = originals.rename(columns={readers.GEOMETRY: "geometry"})
        original_json = dict(zip(involved.tolist(), _json_records(originals)))
        keys = _row_keys(spec, text.iloc[involved])
        key_of = dict(zip(involved.tolist(), keys.tolist()))
        by_row: dict[int, list[int]] = {}
        for i, row in enumerate(fails["row"].tolist()):
            by_row.setdefault(row, []).append(i)
        codes, columns = fails["code"].tolist(), fails["column"].tolist()
        files, lines = frame[SOURCE_FILE], frame[SOURCE_ROW]
        for row, items in by_row.items():
            file, line = files.iat[row], int(lines.iat[row])
            rows.append({
                SOURCE_FILE: file, SOURCE_ROW: line, LOAD_ID: load_id,
                "row_key": None if pd.isna(key_of[row]) else key_of[row],
                "reason_codes": ";".join(codes[i] for i in items),
                "columns": ";".join(columns[i] or "" for i in items),
                "values": json.dumps([values[i] for i in items], ensure_ascii=False),
                "message": f"{file} row {line} (table {spec.name}): "
                           + "; ".join(parts[i] for i in items),
                "original_row": original_json[row],
            })
    for m in malformed.to_dict("records"):
        # Lines no reader could split into columns: kept whole, as text.
        column = m["column"] if isinstance(m["column"], str) else None
        where = f" column {column!r}" if column else ""
        rows.append({
            SOURCE_FILE: m[SOURCE_FILE], SOURCE_ROW: int(m[SOURCE_ROW]), LOAD_ID: load_id,
            "row_key": None, "reason_codes": m["reason_code"], "columns": column or "",
            "values": json.dumps([m["raw"]], ensure_ascii=False),
            "message": f"{m[SOURCE_FILE]} row {int(m[SOURCE_ROW])} (table {spec.name}){where}: {m['message']}",
            "original_row": json.dumps({"raw": m["raw"]}, ensure_ascii=False),
        })
    out = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    if personal and len(out):
        # An ID typed into another column of a personal table (a code, a note) is no more shown
        # than one in its own column.
        protect = pseudonym.Protect({c: kind for c, kind in personal.items()}, key)
        for column in ("row_key", "values", "message", "original_row"):
            out[column] = protect.ids(out[column].tolist())
    if len(out):
        out = out.sort_values([SOURCE_FILE, SOURCE_ROW], kind="stable").reset_index(drop=True)
    return out.astype({SOURCE_ROW: "int64"})


def _to_arrow(frame: pd.DataFrame) -> pa_arrow.Table:
    """pandas -> Arrow with the lake's types: dates as date32, counts as int64, text as string."""
    fields, arrays = [], []
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            arr = pa_arrow.array(s, type=pa_arrow.timestamp("us", tz="UTC"))
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            arr = pa_arrow.array(s.to_numpy("datetime64[D]"), type=pa_arrow.date32(), from_pandas=True)
        elif name == SOURCE_ROW or str(s.dtype) in ("Int64", "int64"):
            arr = pa_arrow.array(s.astype("Int64"), type=pa_arrow.int64())
        elif str(s.dtype) in ("float64", "Float64"):
            arr = pa_arrow.array(s.astype("float64"), type=pa_arrow.float64(), from_pandas=True)
        elif str(s.dtype) == "boolean":
            arr = pa_arrow.array(s, type=pa_arrow.bool_())
        elif s.dtype == "str":
            arr = pa_arrow.array(s.array).cast(pa_arrow.string())
        else:
            arr = pa_arrow.array(s.astype("object").where(s.notna(), None), type=pa_arrow.string())
        fields.append(pa_arrow.field(name, arr.type))
        arrays.append(arr)
    return pa_arrow.Table.from_arrays(arrays, schema=pa_arrow.schema(fields))
