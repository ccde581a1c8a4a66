"""The building blocks of the per-table schemas: column kinds, reason codes, and the two pandera
schemas each table gets.

Validation runs in two steps, so that one failure cannot hide another (a pandera trap: a column
that fails its dtype is not checked any further):
1. the **text schema** checks every column as the text it was read as (cleaned: NFC, spaces):
   present where required, readable as a number, date or yes/no, one of the allowed values, a
   valid citizen ID;
2. the columns are parsed (ingestion.normalise), and the **typed schema** checks values and
   rules across columns (no negative amounts, no more households completed than planned).

Every check is named with its stable reason code (below), which is what the quarantine records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

# pandas and pandera are imported when a schema is first built, not here: the Dagster code
# location imports this registry for names and thresholds only, and must load quickly.
if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

# Reason codes. The first block is docs/lake.md's list; the second covers checks the demo's
# defects do not exercise but real exports need.
REASONS: dict[str, str] = {
    "area_unresolved": "no current subdistrict could be found, or more than one fits",
    "area_code_unknown": "the area code is neither a current nor an abolished DOPA code",
    "point_outside_thailand": "the point is in no subdistrict of Thailand",
    "duplicate_key_superseded": "an older record of a key that has a later one",
    "amount_negative": "an amount or count below zero",
    "amount_impossible": "an amount that cannot be true (more completed than planned, members "
                         "0 with money, a rate above 100 percent)",
    "citizen_id_checksum": "a citizen ID that is not 13 digits with a valid check digit",
    "orphan_reference": "a reference to a record the parent table does not have",
    "parent_quarantined": "a reference to a record the parent table quarantined in its current "
                          "load (the message names the parent's row and reason)",
    "date_unparseable": "a date, year or timestamp that cannot be read",
    "json_malformed": "a line or feature that is not a JSON object",
    "total_row": "a workbook's total row (รวม), not a record",
    # beyond the demo's defects
    "value_missing": "a required value is empty",
    "number_unparseable": "a number that cannot be read",
    "boolean_unparseable": "a yes/no value that is neither",
    "value_not_allowed": "a value outside the column's list of allowed values",
    "row_malformed": "a CSV line with the wrong number of fields",
    "geometry_invalid": "a feature without a readable point or polygon",
}

# Column kinds: how the text is parsed and what type it has in the lake.
TEXT, DATE, BE_YEAR, TIMESTAMP, COUNT, AMOUNT, RATE, NUMBER, BOOL = (
    "text", "date", "be_year", "timestamp", "count", "amount", "rate", "number", "bool")
AREA_CODE, AREA_NAME, CITIZEN_ID, PERSON_NAME = "area_code", "area_name", "citizen_id", "person_name"
NUMERIC = (COUNT, AMOUNT, RATE, NUMBER)


@dataclass(frozen=True)
class Col:
    """One source column. `header` is the name in the source when it differs (the welfare
    workbook's Thai headers); `norm` the era a date column is meant to be in; `excel` allows
    Excel serial dates; `nonnegative` adds the amount_negative check to numbers."""

    name: str
    kind: str = TEXT
    header: str | None = None
    required: bool = False
    allowed: tuple[str, ...] = ()
    norm: str = "BE"
    excel: bool = False
    nonnegative: bool = True
    pattern: str | None = None

    @property
    def source_name(self) -> str:
        return self.header or self.name


# -- checks ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReasonCheck:
    """A check named with its reason code, made into a pandera check when the table's schema is
    built. A check across columns records the columns it blames (`columns`), so that the
    quarantine can name them."""

    code: str
    fn: Callable
    columns: tuple[str, ...] = ()
    ignore_na: bool = True
    message: str | None = None

    def to_pandera(self) -> pa.Check:
        import pandera.pandas as pa

        check = pa.Check(self.fn, name=self.code, error=self.message or REASONS[self.code],
                         ignore_na=self.ignore_na)
        check.blamed_columns = self.columns
        return check


def reason_check(code: str, fn: Callable, *, columns: Sequence[str] = (), ignore_na: bool = True,
                 message: str | None = None) -> ReasonCheck:
    assert code in REASONS, code
    return ReasonCheck(code, fn, tuple(columns), ignore_na, message)


def citizen_id_valid(s: pd.Series) -> pd.Series:
    """13 digits whose last is the check digit: (11 - sum(d_i * (13 - i)) mod 11) mod 10."""
    import numpy as np
    import pandas as pd

    from ingestion import normalise

    text = normalise.digits_only(s)
    ok = normalise.matches(text, r"\d{13}")
    out = pd.Series(False, index=s.index)
    if ok.any():
        digits = np.frombuffer("".join(text[ok].tolist()).encode("ascii"), dtype=np.uint8)
        digits = (digits - ord("0")).reshape(-1, 13).astype(np.int64)
        check = (11 - (digits[:, :12] @ np.arange(13, 1, -1)) % 11) % 10
        out[ok] = check == digits[:, 12]
    return out


def _text_checks(col: Col) -> list[ReasonCheck]:
    from ingestion import normalise

    checks = []
    if col.required:
        checks.append(reason_check("value_missing", lambda s: s.notna(), ignore_na=False,
                                   message=f"{col.name} is required"))
    if col.kind == DATE:
        checks.append(reason_check(
            "date_unparseable", lambda s, c=col: ~normalise.date(s, norm=c.norm, excel=c.excel).invalid))
    elif col.kind == BE_YEAR:
        checks.append(reason_check("date_unparseable", lambda s: ~normalise.be_year(s).invalid,
                                   message="not a year in the Buddhist or Christian Era"))
    elif col.kind == TIMESTAMP:
        checks.append(reason_check("date_unparseable", lambda s: ~normalise.timestamp(s).invalid,
                                   message="not an ISO 8601 timestamp"))
    elif col.kind in NUMERIC:
        checks.append(reason_check(
            "number_unparseable", lambda s, c=col: ~normalise.number(s, integer=c.kind == COUNT).invalid))
    elif col.kind == BOOL:
        checks.append(reason_check("boolean_unparseable", lambda s: ~normalise.boolean(s).invalid))
    elif col.kind == CITIZEN_ID:
        checks.append(reason_check("citizen_id_checksum", citizen_id_valid))
    if col.allowed:
        allowed = set(col.allowed)
        checks.append(reason_check("value_not_allowed", lambda s, a=allowed: s.isin(a),
                                   message=f"{col.name} must be one of {', '.join(col.allowed)}"))
    if col.pattern:
        checks.append(reason_check("value_not_allowed",
                                   lambda s, p=col.pattern: normalise.matches(s, p),
                                   message=f"{col.name} must match {col.pattern}"))
    return checks


def _typed_checks(col: Col) -> list[ReasonCheck]:
    checks = []
    if col.kind in (COUNT, AMOUNT, RATE) and col.nonnegative:
        checks.append(reason_check("amount_negative", lambda s: s >= 0))
    if col.kind == RATE:
        checks.append(reason_check("amount_impossible", lambda s: s <= 100,
                                   message="a rate above 100 percent"))
    return checks


TYPED_DTYPES = {
    TEXT: "str", AREA_CODE: "str", AREA_NAME: "str", CITIZEN_ID: "str", PERSON_NAME: "str",
    COUNT: "Int64", AMOUNT: "float64", RATE: "float64", NUMBER: "float64", BE_YEAR: "Int64",
    BOOL: "boolean", DATE: "datetime64[us]", TIMESTAMP: "datetime64[us, UTC]",
}


def _pandera(checks: Sequence[ReasonCheck]) -> list[pa.Check]:
    return [check.to_pandera() for check in checks]


def text_schema(name: str, columns: Sequence[Col], checks: Sequence[ReasonCheck] = ()) -> pa.DataFrameSchema:
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {c.name: pa.Column("str", nullable=True, checks=_pandera(_text_checks(c))) for c in columns},
        checks=_pandera(checks), name=f"{name} (text)", strict=False, coerce=False)


def typed_schema(name: str, columns: Sequence[Col], checks: Sequence[ReasonCheck] = ()) -> pa.DataFrameSchema:
    import pandera.pandas as pa

    spec = {c.name: pa.Column(TYPED_DTYPES[c.kind], nullable=True, checks=_pandera(_typed_checks(c)))
            for c in columns}
    return pa.DataFrameSchema(spec, checks=_pandera(checks), name=f"{name} (typed)", strict=False,
                              coerce=False)


# -- the registry entry ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Areas:
    """Where a table's area comes from: a code column, Thai name columns (subdistrict, district,
    province), a point (lon, lat), or another level (`province` codes, or `mixed` subdistrict or
    province codes as in joint_areas)."""

    code: str | None = "subdistrict_code"
    names: tuple[str, str, str] | None = None
    point: tuple[str, str] | None = None
    level: str = "subdistrict"


@dataclass(frozen=True)
class Parent:
    """Rows must reference a key of another source table (orphan_reference otherwise)."""

    source: str
    table: str
    column: str
    parent_column: str


# The blocking policy's defaults (docs/policy.md), stated once; a table may set its own.
# The largest share of a load's rows that may be quarantined before the table's check fails.
QUARANTINE_THRESHOLD = 0.05
# Below this many rows read, the quarantined share is not judged: 1 bad row in 4 says nothing
# about an export (each bad row is still quarantined and counted).
MIN_ROWS_JUDGED = 200
# The largest drop in rows read since the last good load before the load is refused as a
# broken export (a truncated file, a filtered query); `make run ACCEPT=<source>/<table>`
# accepts one export that really shrank.
MAX_SHRINK = 0.10


@dataclass
class TableSpec:
    """Everything the load and the Dagster asset need to know about one source table: nothing
    about a table is listed anywhere else."""

    source: str
    table: str
    description: str
    pattern: str                      # glob under the sources folder
    format: str                       # sqlite, xlsx, csv, ndjson, geojson
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    table_checks: tuple[ReasonCheck, ...] = ()    # cross-column checks on the typed frame
    text_checks: tuple[ReasonCheck, ...] = ()     # row-kind checks on the text frame (total rows)
    areas: Areas | None = None
    parent: Parent | None = None
    latest_by: str | None = None      # which record of a key is the latest (else file order)
    # The blocking policy of this table (defaults above; docs/policy.md).
    threshold: float = QUARANTINE_THRESHOLD     # the largest quarantined share the check accepts
    min_rows_judged: int = MIN_ROWS_JUDGED      # fewer rows read: the share is not judged
    max_shrink: float = MAX_SHRINK              # the largest drop in rows since the last good load
    encoding: str = "utf-8"
    sqlite_table: str | None = None
    derived: dict[str, str] = field(default_factory=dict)   # column -> how (see ingestion.load)
    skip_after: tuple[str, ...] = ("total_row",)    # a row with these reasons gets no other check
    # Steps run two at a time, in priority order: the largest tables start first, so that the
    # longest load does not start last and hold up the end of the run.
    priority: int = 0

    @cached_property
    def text(self) -> pa.DataFrameSchema:
        """The text schema (pandera), built on first use."""
        return text_schema(self.name, self.columns, self.text_checks)

    @cached_property
    def typed(self) -> pa.DataFrameSchema:
        """The typed schema (pandera), built on first use."""
        return typed_schema(self.name, self.columns, self.table_checks)

    @property
    def name(self) -> str:
        return f"{self.source}/{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)
