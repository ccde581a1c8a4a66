"""The building blocks of the per-table schemas: column kinds, reason codes, and the two pandera
schemas each table gets.

Validation runs in two steps, so that one failure cannot hide another (a pandera trap: a column
that fails its dtype is not checked any further):
1. the **text schema** checks every column as the text it was read as (cleaned: NFC, spaces):
   present where required, readable as a number, date or yes/no, one of the allowed values, a
   valid citizen ID, free of control characters, and plausible: a finite number within the
   column's bounds, a date within the column's window (below, "Plausibility bounds");
2. the columns are parsed (ingestion.normalise), and the **typed schema** checks values and
   rules across columns (no negative amounts, no more households completed than planned).

Every check is named with its stable reason code (below), which is what the quarantine records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
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
    "geometry_invalid": "a feature without a readable point or polygon, or a polygon that "
                        "cannot be made valid",
    # plausibility (docs/lake.md, "Plausibility bounds")
    "number_out_of_range": "a number that is not finite or lies outside the column's bounds",
    "date_out_of_range": "a date, year or timestamp outside the column's window",
    "text_control_character": "a value holding a NUL or another control character",
    "area_point_mismatch": "the point lies farther from the subdistrict its code names than GPS "
                           "error explains",
}

# Column kinds: how the text is parsed and what type it has in the lake.
TEXT, DATE, BE_YEAR, TIMESTAMP, COUNT, AMOUNT, RATE, NUMBER, BOOL = (
    "text", "date", "be_year", "timestamp", "count", "amount", "rate", "number", "bool")
AREA_CODE, AREA_NAME, CITIZEN_ID, PERSON_NAME = "area_code", "area_name", "citizen_id", "person_name"
NUMERIC = (COUNT, AMOUNT, RATE, NUMBER)
DATED = (DATE, BE_YEAR, TIMESTAMP)
# Kinds kept as text in the lake: the control-character check is theirs (a control character in
# a number or a date already makes it unreadable).
TEXTUAL = (TEXT, AREA_CODE, AREA_NAME, CITIZEN_ID, PERSON_NAME)


# -- plausibility bounds ---------------------------------------------------------------------------
# Stated once: a default per column kind here, overridden per column (`Col.bounds`, `Col.window`)
# in schemas/<source>.py. The reasoning is in docs/lake.md, "Plausibility bounds".

_BANGKOK = dt.timezone(dt.timedelta(hours=7), "Asia/Bangkok")    # no daylight saving time
_AS_OF: ContextVar[dt.date | None] = ContextVar("codi_as_of", default=None)


def run_date() -> dt.date:
    """The day the windows are counted from: today in Bangkok, or the day `as_of` sets."""
    return _AS_OF.get() or dt.datetime.now(_BANGKOK).date()


@contextlib.contextmanager
def as_of(day: dt.date) -> Iterator[None]:
    """Validate as on another day (tests; a re-run of an old day's exports)."""
    token = _AS_OF.set(day)
    try:
        yield
    finally:
        _AS_OF.reset(token)


def fiscal_year(day: dt.date) -> int:
    """The Thai fiscal year (BE) of a day: 1 October to 30 September, named by the year it ends in."""
    return day.year + 543 + (1 if day.month >= 10 else 0)


@dataclass(frozen=True)
class Window:
    """The dates a column can plausibly hold: from `earliest` to `ahead_days` after the run's
    date. For a year column the window is in years (BE), of the calendar or, with `fiscal`, of
    the Thai fiscal year."""

    earliest: dt.date
    ahead_days: int = 31
    fiscal: bool = False

    def last_day(self, day: dt.date) -> dt.date:
        return day + dt.timedelta(days=self.ahead_days)

    def years(self, day: dt.date) -> tuple[int, int]:
        """The first and last BE year (fiscal or calendar) of the window."""
        last = self.last_day(day)
        if self.fiscal:
            return fiscal_year(self.earliest), fiscal_year(last)
        return self.earliest.year + 543, last.year + 543

    def describe(self, kind: str, day: dt.date) -> str:
        """The window in words, for the quarantine's message."""
        last = self.last_day(day)
        plural = "s" if self.ahead_days != 1 else ""
        until = (f"{last.isoformat()}, {self.ahead_days} day{plural} after the run's date "
                 f"{day.isoformat()}" if self.ahead_days else f"the run's date {day.isoformat()}")
        if kind == BE_YEAR:
            lo, hi = self.years(day)
            if self.fiscal:
                return f"from FY{lo} to FY{hi} (the fiscal year of {until})"
            return f"from BE {lo} to BE {hi} (the year of {until})"
        return f"from {self.earliest.isoformat()} to {until}"


# Windows. UCDO, CODI's predecessor, was founded in 1992 (BE 2535): no record of the programmes'
# work (a project, a loan, a report, a council, an event) is older. Community organisations are
# older than CODI (savings groups since the 1970s): when a fund or group was founded or a member
# joined goes back to 1950. People's lives and sites managed by their community go back to 1900.
# Forward, a date typed by staff may run a month ahead (a form dated at the end of the month it
# is keyed in); a timestamp written by an application, a day (time zones, clock drift).
CODI_ERA = dt.date(1992, 1, 1)
RECORD = Window(CODI_ERA, ahead_days=31)
APP_TIMESTAMP = Window(CODI_ERA, ahead_days=1)
FISCAL_YEAR = Window(CODI_ERA, ahead_days=366, fiscal=True)   # up to the next fiscal year's plans
COMMUNITY_HISTORY = Window(dt.date(1950, 1, 1), ahead_days=31)
LIFETIME_YEAR = Window(dt.date(1900, 1, 1), ahead_days=0)       # birth years, BE 2443 on
LOAN_SCHEDULE = Window(CODI_ERA, ahead_days=50 * 366)           # installments due in 50 years

DEFAULT_WINDOW = {DATE: RECORD, TIMESTAMP: APP_TIMESTAMP, BE_YEAR: FISCAL_YEAR}

# Numbers (inclusive). The upper bounds are far above any one record (a tenfold slip passes,
# not a 20-digit count or a 309-digit amount) and are what the lake's types hold exactly.
# Below zero, a count, amount or rate is amount_negative's; a rate above 100, amount_impossible's.
DEFAULT_BOUNDS: dict[str, tuple[float, float]] = {
    COUNT: (0, 1_000_000),               # people or households in one record
    AMOUNT: (0, 10_000_000_000),         # baht (10 billion: more than CODI's yearly budget)
    RATE: (0, 100),                      # percent
    NUMBER: (-math.inf, math.inf),       # no default: finite, and each column states its own
}


@dataclass(frozen=True)
class Col:
    """One source column. `header` is the name in the source when it differs (the welfare
    workbook's Thai headers); `norm` the era a date column is meant to be in; `excel` allows
    Excel serial dates; `nonnegative` adds the amount_negative check to numbers; `bounds`
    (lowest, highest) and `window` override the kind's plausibility bounds."""

    name: str
    kind: str = TEXT
    header: str | None = None
    required: bool = False
    allowed: tuple[str, ...] = ()
    norm: str = "BE"
    excel: bool = False
    nonnegative: bool = True
    pattern: str | None = None
    bounds: tuple[float, float] | None = None
    window: Window | None = None

    @property
    def source_name(self) -> str:
        return self.header or self.name

    @property
    def limits(self) -> tuple[float, float]:
        """A number column's plausible (lowest, highest)."""
        return self.bounds or DEFAULT_BOUNDS[self.kind]

    @property
    def dates(self) -> Window:
        """A date, year or timestamp column's plausible window."""
        return self.window or DEFAULT_WINDOW[self.kind]


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


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def _number_in_bounds(col: Col) -> ReasonCheck:
    """Finite and within the column's bounds, read as a float whatever the kind (a 20-digit count
    is read, and found too large: the typed parse leaves it null). What another check of the
    column reports is left to it: below zero amount_negative's, a rate above its bound
    amount_impossible's."""
    from ingestion import normalise

    lo, hi = col.limits
    below_is_negative = col.kind in (COUNT, AMOUNT, RATE) and col.nonnegative
    above_is_impossible = col.kind == RATE

    def check(s: pd.Series) -> pd.Series:
        p = normalise.number(s)
        v = p.value
        ok = (v >= lo) & (v <= hi)
        if below_is_negative:
            ok |= v < 0
        if above_is_impossible:
            ok |= v > hi
        return (ok | v.isna()) & ~p.out_of_range

    finite = math.isfinite(lo) or math.isfinite(hi)
    message = (f"{col.name} must be a finite number from {_number(lo)} to {_number(hi)}" if finite
               else f"{col.name} must be a finite number")
    return reason_check("number_out_of_range", check, message=message)


def _date_in_window(col: Col, day: dt.date) -> ReasonCheck:
    """Within the column's window, counted from the run's date `day`."""
    import pandas as pd

    from ingestion import normalise

    w = col.dates
    if col.kind == BE_YEAR:
        lo, hi = w.years(day)

        def values(s):
            return normalise.be_year(s).value.astype("float64")
    elif col.kind == TIMESTAMP:
        # The window's days are Bangkok days: its last instant is the end of the last day.
        lo = pd.Timestamp(dt.datetime.combine(w.earliest, dt.time(), _BANGKOK))
        hi = pd.Timestamp(dt.datetime.combine(w.last_day(day), dt.time.max, _BANGKOK))

        def values(s):
            return normalise.timestamp(s).value
    else:
        lo, hi = pd.Timestamp(w.earliest), pd.Timestamp(w.last_day(day))

        def values(s):
            return normalise.date(s, norm=col.norm, excel=col.excel).value

    def check(s: pd.Series) -> pd.Series:
        v = values(s)
        return (v.isna() | ((v >= lo) & (v <= hi))).astype(bool)

    return reason_check("date_out_of_range", check,
                        message=f"{col.name} must fall {w.describe(col.kind, day)}")


def _text_checks(col: Col, day: dt.date) -> list[ReasonCheck]:
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
    # Plausibility (docs/lake.md, "Plausibility bounds").
    if col.kind in NUMERIC:
        checks.append(_number_in_bounds(col))
    elif col.kind in DATED:
        checks.append(_date_in_window(col, day))
    elif col.kind in TEXTUAL:
        checks.append(reason_check(
            "text_control_character", lambda s: ~normalise.has_control_character(s),
            message=f"{col.name} holds a control character (NUL or another C0/C1 code; tabs and "
                    "line breaks are read as spaces)"))
    return checks


def _typed_checks(col: Col) -> list[ReasonCheck]:
    checks = []
    if col.kind in (COUNT, AMOUNT, RATE) and col.nonnegative:
        checks.append(reason_check("amount_negative", lambda s: s >= 0))
    if col.kind == RATE:
        hi = col.limits[1]
        checks.append(reason_check("amount_impossible", lambda s: s <= hi,
                                   message=f"a rate above {_number(hi)} percent"))
    return checks


TYPED_DTYPES = {
    TEXT: "str", AREA_CODE: "str", AREA_NAME: "str", CITIZEN_ID: "str", PERSON_NAME: "str",
    COUNT: "Int64", AMOUNT: "float64", RATE: "float64", NUMBER: "float64", BE_YEAR: "Int64",
    BOOL: "boolean", DATE: "datetime64[us]", TIMESTAMP: "datetime64[us, UTC]",
}


def _pandera(checks: Sequence[ReasonCheck]) -> list[pa.Check]:
    return [check.to_pandera() for check in checks]


def text_schema(name: str, columns: Sequence[Col], checks: Sequence[ReasonCheck] = (),
                day: dt.date | None = None) -> pa.DataFrameSchema:
    """`day`: the run's date the date windows count from (default: run_date())."""
    import pandera.pandas as pa

    day = day or run_date()
    return pa.DataFrameSchema(
        {c.name: pa.Column("str", nullable=True, checks=_pandera(_text_checks(c, day)))
         for c in columns},
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

    _text: tuple[dt.date, pa.DataFrameSchema] | None = field(default=None, init=False,
                                                              repr=False, compare=False)

    @property
    def text(self) -> pa.DataFrameSchema:
        """The text schema (pandera), built on first use and again when the run's date moves
        (the date windows count from it)."""
        day = run_date()
        if self._text is None or self._text[0] != day:
            self._text = (day, text_schema(self.name, self.columns, self.text_checks, day))
        return self._text[1]

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
