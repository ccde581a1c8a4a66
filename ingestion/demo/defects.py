"""Defect injectors shared by several tables. Each one changes a value in a row of a `Table` and
records the defect with the value the pipeline should end up with (repairs) or the reason it
should give (quarantine). Hidden truth lives in the row's `_`-keys (e.g. `_date`, `_code`)."""

from __future__ import annotations

from datetime import date

from .areas import Areas
from .common import Table, be_text, ce_text, count, thai_digits, unparseable_date

# Rates per table row, unless a table says otherwise (see README.md).
REPAIR_RATE = 0.01
QUARANTINE_RATE = 0.005
DUPLICATE_RATE = 0.005


def n_repair(t: Table) -> int:
    return count(t.rng, len(t), REPAIR_RATE)


def n_quarantine(t: Table) -> int:
    return count(t.rng, len(t), QUARANTINE_RATE)


def n_duplicate(t: Table) -> int:
    return count(t.rng, len(t), DUPLICATE_RATE)


def date_defects(t: Table, column: str, truth: str, where_quarantine=None,
                 repairs: bool = True, unparseable: bool = True) -> None:
    """BE text dates: CE years and Thai digits (repaired), impossible dates (quarantined).
    `truth` is the hidden key holding the row's real `date`."""
    def has_date(row):
        return isinstance(row.get(truth), date) and bool(row.get(column))

    def ce(row):
        row[column] = ce_text(row[truth])
        return column, row[truth].isoformat()

    def thai(row):
        text = row[column] if isinstance(row[column], str) else be_text(row[truth])
        row[column] = thai_digits(text)
        return column, row[truth].isoformat()

    def bad(row):
        row[column] = unparseable_date(t.rng, row[truth].year + 543)
        return column, ""

    if repairs:
        t.inject("ce_year_in_be_date", n_repair(t), ce, has_date)
        t.inject("thai_digits", n_repair(t), thai, has_date)
    if unparseable:
        t.inject("unparseable_date", n_quarantine(t), bad,
                 lambda r: has_date(r) and (where_quarantine is None or where_quarantine(r)))


def number_text(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def plain(value: float, decimals: int = 0) -> str:
    return f"{value:.{decimals}f}"


def thousands(t: Table, columns: tuple[str, ...], decimals: int = 0, minimum: float = 1000) -> None:
    """Amounts written as text with thousands separators, as typed or exported from Excel."""
    def apply(row):
        options = [c for c in columns if isinstance(row.get(c), (int, float)) and row[c] >= minimum]
        if not options:
            return None
        c = options[int(t.rng.integers(len(options)))]
        value = row[c]
        row[c] = number_text(value, decimals)
        return c, plain(value, decimals)
    t.inject("thousands_separator", n_repair(t), apply)


def thai_number(t: Table, columns: tuple[str, ...], decimals: int = 0) -> None:
    """Numbers typed with Thai digits."""
    def apply(row):
        options = [c for c in columns if isinstance(row.get(c), (int, float)) and row[c] >= 0]
        if not options:
            return None
        c = options[int(t.rng.integers(len(options)))]
        value = row[c]
        row[c] = thai_digits(plain(value, decimals))
        return c, plain(value, decimals)
    t.inject("thai_digits", n_repair(t), apply)


def negative(t: Table, columns: tuple[str, ...], where=None) -> None:
    def apply(row):
        options = [c for c in columns if isinstance(row.get(c), (int, float)) and row[c] > 0]
        if not options:
            return None
        c = options[int(t.rng.integers(len(options)))]
        row[c] = -row[c]
        return c, ""
    t.inject("negative_amount", n_quarantine(t), apply, where)


def abolished_codes(t: Table, areas: Areas, column: str = "subdistrict_code") -> None:
    """A code that DOPA abolished, whose successor chain ends in the row's real subdistrict."""
    def apply(row):
        real = row[column]
        old = areas.predecessors.get(real)
        if not old:
            return None
        row[column] = old[int(t.rng.integers(len(old)))]
        return column, real
    t.inject("abolished_area_code", n_repair(t), apply,
             lambda r: r.get(column) in areas.predecessors)


def unknown_codes(t: Table, areas: Areas, column: str = "subdistrict_code", where=None) -> None:
    def apply(row):
        if not row.get(column):
            return None
        row[column] = areas.unknown_code(t.rng, row[column])
        return column, ""
    t.inject("unknown_area_code", n_quarantine(t), apply, where)


def duplicates(t: Table, change, where_conflict=None) -> None:
    """Exact copies (any row) and older conflicting versions (`change` makes one)."""
    t.exact_duplicates(n_duplicate(t))
    t.conflicting_duplicates(n_duplicate(t), change, where_conflict)
