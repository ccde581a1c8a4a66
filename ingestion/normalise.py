"""Normalisers shared by every source: pure, vectorised functions, a pandas Series of text in and
a `Parsed` (values, an "unreadable" mask and the repairs applied) out.

They do the one thing `pandas.to_numeric` and DuckDB casts get wrong on Thai data: Thai digits,
Buddhist Era years, `dd/mm/yyyy` text and Excel serial dates are read here, once, at ingestion
(DESIGN section 5). Repair codes are those of docs/lake.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Repair codes (docs/lake.md).
THAI_DIGITS = "thai_digits"
THOUSANDS_SEPARATOR = "thousands_separator"
BE_CE_YEAR = "be_ce_year"
AREA_NAME_NORMALISED = "area_name_normalised"

_THAI_DIGIT_CHARS = "๐๑๒๓๔๕๖๗๘๙"
_THAI_TO_ARABIC = str.maketrans(_THAI_DIGIT_CHARS, "0123456789")

# A year above 2400 is Buddhist Era, below 2200 Christian Era; between is neither (DESIGN 5).
BE_MIN_YEAR = 2400
CE_MAX_YEAR = 2200
BE_OFFSET = 543

# Excel's day 0 is 1899-12-30 (its phantom 29 Feb 1900 makes serials before 61 wrong; we only
# accept serials from 1927 on, where Excel and the calendar agree).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_MIN, _EXCEL_MAX = 10_000, 80_000

# Whitespace that staff and exports leave in Thai text: NBSP, ideographic space, and the
# zero-width space some Thai editors put between words. RE2 syntax: the text work runs in
# pyarrow.compute, because pandas falls back to a per-row Python loop for such patterns.
_SPACES = r"[\s\x{00a0}\x{2000}-\x{200a}\x{3000}]+"
_ZERO_WIDTH = r"[\x{200b}\x{200c}\x{200d}\x{feff}]"

TRUE_WORDS = ("y", "yes", "true", "t", "1", "ใช่", "มี", "จริง")
FALSE_WORDS = ("n", "no", "false", "f", "0", "ไม่ใช่", "ไม่มี", "เท็จ")


# Control characters no text value may hold: C0 and C1, DEL. Tab, line feed, form feed and
# carriage return are not among them: clean_text reads them as spaces (an address may be typed on
# several lines of a quoted field), so they never reach a value. RE2 syntax.
CONTROL_CHARACTERS = r"[\x{00}-\x{08}\x{0b}\x{0e}-\x{1f}\x{7f}-\x{9f}]"

# The largest integer a float64 holds exactly (2**53): a count beyond it was not read as typed,
# and Int64 overflows further on (9.2e18). Such a count is out of range, not a crash.
_EXACT_INTEGER = float(2 ** 53)


@dataclass
class Parsed:
    """What a normaliser returns: `value` (typed, null where absent or unreadable), `invalid`
    (text was present but could not be read), `repairs` (repair code -> rows it was applied to),
    for dates and years `era` ('BE', 'CE' or null), and for numbers `out_of_range` (read, but not
    a finite value the type holds: a 309-digit amount is infinite, a 20-digit count overflows;
    null in `value`, not `invalid`: the schema's bounds report it)."""

    value: pd.Series
    invalid: pd.Series
    repairs: dict[str, pd.Series] = field(default_factory=dict)
    era: pd.Series | None = None
    out_of_range: pd.Series | None = None


def _as_text(s: pd.Series) -> pd.Series:
    return s if s.dtype == "str" else s.astype("str")


def _arrow(s: pd.Series) -> pa.Array:
    return pa.array(_as_text(s).array)


def _series(array, index) -> pd.Series:
    out = array.to_pandas()
    out.index = index
    return out


def matches(s: pd.Series, pattern: str) -> pd.Series:
    """Where the whole text matches an RE2 pattern (False for null)."""
    hit = pc.match_substring_regex(_arrow(s), f"^(?:{pattern})$")
    return _series(pc.fill_null(hit, False), s.index).astype(bool)


def extract(s: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of an RE2 pattern as text columns, null where the text does not match."""
    struct = pc.extract_regex(_arrow(s), pattern)
    matched = _series(pc.is_valid(struct), s.index).astype(bool)
    # A struct's fields ignore its own nulls: mask the rows that did not match.
    return pd.DataFrame({name: _series(pc.struct_field(struct, name), s.index).where(matched)
                         for name in (f.name for f in struct.type)}, index=s.index)


def _to_float(s: pd.Series) -> pd.Series:
    """Text already checked to be a plain decimal number, as float64 (pyarrow's cast is many
    times faster than pandas.to_numeric on text)."""
    return _series(pc.cast(_arrow(s), pa.float64()), s.index).astype("float64")


def clean_text(s: pd.Series) -> pd.Series:
    """Unicode NFC, zero-width characters removed, whitespace trimmed and collapsed; an empty
    string becomes null."""
    a = _arrow(s)
    # Most values of large columns (IDs, codes) are plain ASCII without spaces: skip the work.
    ascii_only = pc.all(pc.string_is_ascii(a)).as_py() is not False
    spaced = pc.any(pc.match_substring_regex(a, r"\s|[\x{00a0}\x{2000}-\x{200d}\x{3000}\x{feff}]")).as_py()
    if not ascii_only:
        a = pc.utf8_normalize(a, "NFC")
    if spaced:
        a = pc.replace_substring_regex(a, _ZERO_WIDTH, "")
        a = pc.utf8_trim_whitespace(pc.replace_substring_regex(a, _SPACES, " "))
    a = pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)
    return _series(a, s.index)


def has_control_character(s: pd.Series) -> pd.Series:
    """Where the text holds a control character (CONTROL_CHARACTERS; False for null)."""
    hit = pc.match_substring_regex(_arrow(s), CONTROL_CHARACTERS)
    return _series(pc.fill_null(hit, False), s.index).astype(bool)


def thai_digits(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Thai digits ๐-๙ to 0-9; returns the text and where it changed."""
    s = _as_text(s)
    changed = _series(pc.fill_null(pc.match_substring_regex(_arrow(s), f"[{_THAI_DIGIT_CHARS}]"),
                                   False), s.index).astype(bool)
    if not changed.any():
        return s, changed
    # Thai digits are rare: translate only the rows that have them.
    out = s.copy()
    out[changed] = s[changed].map(lambda v: v.translate(_THAI_TO_ARABIC))
    return out, changed


def digits_only(s: pd.Series) -> pd.Series:
    """A code as digits: Thai digits translated, spaces and dashes dropped (citizen IDs are
    often written 1-2345-67890-12-3)."""
    out, _ = thai_digits(clean_text(s))
    a = _arrow(out)
    if not pc.any(pc.match_substring_regex(a, r"[\s\-]")).as_py():
        return out          # already digits only (and clean_text made empty strings null)
    out = _series(pc.replace_substring_regex(a, r"[\s\-]", ""), s.index)
    return out.where(out != "")


def number(s: pd.Series, *, integer: bool = False) -> Parsed:
    """Amounts and counts: Thai digits, thousands separators (1,234,567.50) and spaces removed.
    `integer=True` rejects fractions (a count of 2.5 households is not a count)."""
    text = clean_text(s)
    text, thai = thai_digits(text)
    grouped = matches(text, r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
    if grouped.any():
        text = text.where(~grouped, _series(pc.replace_substring(_arrow(text), ",", ""), s.index))
    plain = matches(text, r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
    value = _to_float(text.where(plain))
    huge = ~np.isfinite(value) if not integer else value.abs() > _EXACT_INTEGER
    huge = huge.fillna(False).astype(bool) & value.notna()
    value = value.where(~huge)
    if integer:
        whole = value.isna() | (value == np.floor(value))
        value = value.where(whole).round().astype("Int64")
        plain = plain & (whole | huge)
    invalid = text.notna() & ~plain
    return Parsed(value, invalid, {THAI_DIGITS: thai & plain, THOUSANDS_SEPARATOR: grouped & plain},
                  out_of_range=huge)


def _era_year(year: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Christian Era year, era label and a validity mask from a year written either way."""
    year = year.astype("float64")
    be = (year > BE_MIN_YEAR).fillna(False).to_numpy(bool)
    ce = (year < CE_MAX_YEAR).fillna(False).to_numpy(bool)
    ce_year = year.where(~be, year - BE_OFFSET).where(be | ce)
    era = pd.Series(np.where(be, "BE", np.where(ce, "CE", None)), index=year.index, dtype="str")
    ok = pd.Series(be | ce, index=year.index)
    return ce_year, era.where(ok), ok


def date(s: pd.Series, *, norm: str = "BE", excel: bool = False) -> Parsed:
    """Dates as `dd/mm/yyyy` text (BE or CE year, `/`, `-` or `.`), ISO `yyyy-mm-dd` (a real
    date from a workbook or an export; its era is null unless the year is BE), and, with
    `excel=True`, Excel serial day numbers. `norm` is the era the column is meant to be in: a
    year in the other era is read, and flagged `be_ce_year`.

    29 February is checked in the Christian Era, so 29/02/2555 (2012) is a date and 29/02/2556
    (2013) is not."""
    text = clean_text(s)
    text, thai = thai_digits(text)
    dmy = extract(text, r"^(?P<d>\d{1,2})[/\-.](?P<m>\d{1,2})[/\-.](?P<y>\d{4})$")
    iso = extract(text, r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
    is_dmy = dmy["y"].notna()
    is_iso = iso["y"].notna() & ~is_dmy
    day = _to_float(dmy["d"].where(is_dmy, iso["d"]))
    month = _to_float(dmy["m"].where(is_dmy, iso["m"]))
    year = _to_float(dmy["y"].where(is_dmy, iso["y"]))
    ce_year, era, year_ok = _era_year(year)
    parts = pd.DataFrame({"year": ce_year, "month": month, "day": day})
    value = pd.to_datetime(parts.where(year_ok), errors="coerce")
    # An ISO date in the Christian Era is a real date: no era was assumed.
    era = era.where(~(is_iso & (era == "CE")))
    if excel:
        serial = _to_float(text.where(matches(text, r"\d{5}(?:\.0+)?")))
        serial = serial.where((serial >= _EXCEL_MIN) & (serial <= _EXCEL_MAX))
        from_excel = pd.to_datetime(serial, unit="D", origin=_EXCEL_EPOCH)
        value = value.where(serial.isna(), from_excel)
        era = era.where(serial.isna())
    value = value.astype("datetime64[us]")
    invalid = text.notna() & value.isna()
    era = era.where(~invalid)
    other = "CE" if norm == "BE" else "BE"
    repairs = {THAI_DIGITS: thai & ~invalid, BE_CE_YEAR: (era == other).fillna(False).astype(bool)}
    return Parsed(value, invalid, repairs, era)


def be_year(s: pd.Series) -> Parsed:
    """A year meant to be Buddhist Era (`birth_year`, `established_year`, `fiscal_year`): kept
    in BE; a CE year is converted and flagged `be_ce_year`."""
    parsed = number(s, integer=True)
    year = parsed.value.astype("float64")
    ce_year, era, ok = _era_year(year)
    value = (ce_year + BE_OFFSET).round().astype("Int64")
    # A year of twenty digits is no year at all.
    invalid = parsed.invalid | parsed.out_of_range | (year.notna() & ~ok)
    value = value.where(~invalid)
    era = era.where(~invalid)
    repairs = {THAI_DIGITS: parsed.repairs[THAI_DIGITS] & ~invalid,
               BE_CE_YEAR: (era == "CE").fillna(False).astype(bool)}
    return Parsed(value, invalid, repairs, era)


def timestamp(s: pd.Series) -> Parsed:
    """ISO 8601 timestamps with an offset (`2013-10-05T08:30:00+07:00`); one without an offset
    is taken to be Bangkok time, the only time zone the sources use."""
    text, thai = thai_digits(clean_text(s))
    shaped = matches(
        text, r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
    has_zone = matches(text, r".*(?:Z|[+-]\d{2}:?\d{2})")
    aware = pd.to_datetime(text.where(shaped & has_zone), errors="coerce", utc=True, format="ISO8601")
    naive = pd.to_datetime(text.where(shaped & ~has_zone), errors="coerce", format="ISO8601")
    naive = naive.dt.tz_localize("Asia/Bangkok").dt.tz_convert("UTC")
    value = aware.where(aware.notna(), naive).astype("datetime64[us, UTC]")
    invalid = text.notna() & value.isna()
    return Parsed(value, invalid, {THAI_DIGITS: thai & ~invalid})


def boolean(s: pd.Series) -> Parsed:
    """Y/N, yes/no, true/false, 1/0 and the Thai ใช่/ไม่ใช่, มี/ไม่มี as a nullable boolean."""
    text, _ = thai_digits(clean_text(s))
    lower = text.str.lower()
    value = pd.Series(pd.NA, index=s.index, dtype="boolean")
    value[lower.isin(TRUE_WORDS).to_numpy()] = True
    value[lower.isin(FALSE_WORDS).to_numpy()] = False
    return Parsed(value, text.notna() & value.isna(), {})


# Area names: the words and short forms staff type before a name (DESIGN section 5), longest
# first so that อำเภอ is not read as อ + ำเภอ. Short forms need their dot, as in geothai.
_AREA_PREFIX = r"^(?:จังหวัด|กิ่งอำเภอ|อำเภอ|ตำบล|แขวง|เขต|จ\.|อ\.|ต\.)\s*"
BANGKOK_TH = "กรุงเทพมหานคร"
_BANGKOK_ALIASES = ("กทม.", "กทม", "กรุงเทพฯ", "กรุงเทพ", "กรุงเทพ ฯ", "กรุงเทพมหานคร")


def area_name(s: pd.Series) -> Parsed:
    """A province, district or subdistrict name as typed: prefixes (จ. จังหวัด อ. อำเภอ ต. ตำบล
    เขต แขวง) stripped, Bangkok's short forms (กทม., กรุงเทพฯ) spelt out, spaces tidied.
    `area_name_normalised` marks the names that changed, spaces included."""
    raw = _as_text(s)
    text = clean_text(raw)
    stripped = text.str.replace(_AREA_PREFIX, "", regex=True)
    # Only strip a prefix that leaves a name behind ("เขต" alone stays as it is).
    stripped = stripped.where(stripped.str.len() > 0, text)
    bangkok = stripped.isin(_BANGKOK_ALIASES) | text.isin(_BANGKOK_ALIASES)
    value = stripped.where(~bangkok, BANGKOK_TH)
    changed = (value != raw).fillna(False).astype(bool) & value.notna()
    return Parsed(value, pd.Series(False, index=s.index), {AREA_NAME_NORMALISED: changed})
