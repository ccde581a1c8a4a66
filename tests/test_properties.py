"""Properties of the readers and the normalisers, tried on generated inputs (hypothesis): what a
file says is what the lake gets, at the line it said it.

- Any CSV that Python's csv module writes (Thai text, quotes, commas, line breaks inside fields,
  CRLF or LF, UTF-8 or Windows-874) reads back to the same fields, each record with the line it
  starts on as `_source_row`, and as many records as were written.
- Any NDJSON file of JSON objects, one a line, whatever Unicode their strings hold (U+2028,
  U+2029, NEL, escaped NUL), reads back one record a line with its line number.
- Numbers with Thai digits and thousands separators, dates in the Buddhist or the Christian Era
  (in Thai digits too), years either way: the right value and the right repair flag.
- A citizen ID written with dashes, spaces or Thai digits gets the same pseudonym.

Deterministic (`derandomize`) and bounded, so that the suite stays quick and repeatable.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from faults import physical
from ingestion import normalise, pseudonym, readers

QUICK = settings(max_examples=50, derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

# Each example reads a file through the real reader: fewer of them.
READER = settings(QUICK, max_examples=35)

THAI_LETTERS = [chr(c) for c in range(0x0E01, 0x0E3B)] + [chr(c) for c in range(0x0E40, 0x0E5C)]
# What a field of a real export can hold: Thai, Latin, digits, and the characters that trouble a
# CSV parser (a lone carriage return aside: no export writes one inside a field).
FIELD_CHARS = THAI_LETTERS + list("abcXYZ0123456789 .-/()") + [",", '"', "\n", "'", ";", "\t"]
field_text = st.text(alphabet=st.sampled_from(FIELD_CHARS), max_size=12)


def _csv_table(n_columns: int):
    record = st.lists(field_text, min_size=n_columns, max_size=n_columns).filter(
        lambda r: any(f.strip() for f in r))   # a record with something in it (not a blank line)
    return st.lists(record, min_size=1, max_size=25)


@st.composite
def csv_files(draw):
    n = draw(st.integers(min_value=2, max_value=5))
    records = draw(_csv_table(n))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    encoding = draw(st.sampled_from(["utf-8", "cp874"]))
    return [f"col{i}" for i in range(n)], records, eol, encoding


def _write_csv(header, records, eol) -> tuple[str, list[int]]:
    """The file's text and the line each record starts on (header = line 1)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=eol)
    writer.writerow(header)
    starts = []
    for r in records:
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow(r)
    return out.getvalue(), starts


@READER
@given(csv_files())
def test_any_csv_written_by_the_csv_module_reads_back_record_for_record(case):
    header, records, eol, encoding = case
    text, starts = _write_csv(header, records, eol)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(text.encode(encoding))
        raw = readers.read_csv(path, "t.csv", header, table="test/t", encoding=encoding)
    assert raw.malformed.empty, raw.malformed.to_dict("records")
    frame = raw.frame
    assert len(frame) == len(records)
    assert frame[readers.SOURCE_ROW].tolist() == starts
    for i, record in enumerate(records):
        got = [None if pd.isna(v) else v for v in frame.loc[i, header].tolist()]
        assert got == [f if f != "" else None for f in record], (i, record)
    # Where no field holds a line break, the physical lines are the records, one each; the count
    # the reader keeps apart from its parser (if it exposes one) says the same.
    if not any("\n" in f for r in records for f in r):
        assert len(physical.csv_lines(text.encode(encoding))) == len(records)
        for name, value in vars(raw).items():
            if "physical" in name and isinstance(value, int):
                assert value == len(records), (name, value)


# Strings as a field app writes them: any Unicode (no surrogates), line and paragraph separators,
# NEL and control characters included (json.dumps escapes those below U+0020).
json_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=15)
SPECIAL = st.sampled_from(["\u2028", "\u2029", "\x85", "\x00", "\x0b", "\x0c", "\x1c", "\x1e", "\r"])


@st.composite
def ndjson_files(draw):
    n = draw(st.integers(min_value=1, max_value=20))
    records = []
    for i in range(n):
        note = draw(json_text)
        if draw(st.booleans()):
            at = draw(st.integers(min_value=0, max_value=len(note)))
            note = note[:at] + draw(SPECIAL) + note[at:]
        assume(note.strip())
        records.append({"event_id": f"E{i:03d}", "note": note, "n": draw(st.integers(0, 10**6))})
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return records, eol


@READER
@given(ndjson_files())
def test_any_ndjson_reads_back_one_record_a_line(case):
    records, eol = case
    text = "".join(json.dumps(r, ensure_ascii=False) + eol for r in records)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e.ndjson"
        path.write_bytes(text.encode("utf-8"))
        raw = readers.read_ndjson(path, "e.ndjson", ["event_id", "note", "n"], table="test/e")
    assert raw.malformed.empty, raw.malformed.to_dict("records")
    assert raw.frame[readers.SOURCE_ROW].tolist() == list(range(1, len(records) + 1))
    assert raw.frame["event_id"].tolist() == [r["event_id"] for r in records]
    assert raw.frame["note"].tolist() == [r["note"] for r in records]
    assert raw.frame["n"].tolist() == [str(r["n"]) for r in records]
    assert len(physical.ndjson_lines(text.encode("utf-8"))) == len(records)


THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


@QUICK
@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=99),
       st.booleans(), st.booleans(), st.booleans())
def test_numbers_with_thai_digits_and_thousands_separators(whole, cents, grouped, thai, fraction):
    text = f"{whole:,}" if grouped else str(whole)
    if fraction:
        text += f".{cents:02d}"
    if thai:
        text = text.translate(THAI)
    parsed = normalise.number(pd.Series([text], dtype="str"))
    expected = whole + (cents / 100 if fraction else 0)
    assert not parsed.invalid.iloc[0]
    assert abs(parsed.value.iloc[0] - expected) <= 1e-6 * max(1, expected)
    assert bool(parsed.repairs[normalise.THAI_DIGITS].iloc[0]) == (thai and any(c in "0123456789" for c in str(whole)))
    assert bool(parsed.repairs[normalise.THOUSANDS_SEPARATOR].iloc[0]) == (grouped and whole >= 1000)


@QUICK
@given(st.integers(min_value=0, max_value=10**9), st.booleans())
def test_counts_read_whole_numbers_and_refuse_fractions(n, half):
    text = f"{n}.5" if half else f"{n:,}".translate(THAI)
    parsed = normalise.number(pd.Series([text], dtype="str"), integer=True)
    if half:
        assert parsed.invalid.iloc[0] and pd.isna(parsed.value.iloc[0])
    else:
        assert parsed.value.iloc[0] == n and not parsed.invalid.iloc[0]


@QUICK
@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)),
       st.sampled_from(["BE", "CE"]), st.sampled_from(["/", "-", "."]), st.booleans(), st.booleans())
def test_dates_in_either_era_and_thai_digits(day, era, sep, thai, pad):
    year = day.year + (543 if era == "BE" else 0)
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if pad else (str(day.day), str(day.month))
    text = f"{d}{sep}{m}{sep}{year}"
    if thai:
        text = text.translate(THAI)
    parsed = normalise.date(pd.Series([text], dtype="str"), norm="BE")
    assert not parsed.invalid.iloc[0], text
    assert parsed.value.iloc[0].date() == day
    assert parsed.era.iloc[0] == era
    assert bool(parsed.repairs[normalise.BE_CE_YEAR].iloc[0]) == (era == "CE")
    assert bool(parsed.repairs[normalise.THAI_DIGITS].iloc[0]) == thai


@QUICK
@given(st.integers(min_value=1900, max_value=2100), st.booleans(), st.booleans())
def test_years_kept_in_the_buddhist_era(ce_year, written_be, thai):
    text = str(ce_year + 543 if written_be else ce_year)
    if thai:
        text = text.translate(THAI)
    parsed = normalise.be_year(pd.Series([text], dtype="str"))
    assert parsed.value.iloc[0] == ce_year + 543
    assert bool(parsed.repairs[normalise.BE_CE_YEAR].iloc[0]) == (not written_be)


def _id_13(body: str) -> str:
    total = sum(int(c) * w for c, w in zip(body, range(13, 1, -1)))
    return body + str((11 - total % 11) % 10)


@QUICK
@given(st.text(alphabet="0123456789", min_size=12, max_size=12),
       st.sampled_from(["plain", "dashes", "spaces", "thai", "padded"]))
def test_a_citizen_id_gets_one_pseudonym_however_it_is_written(body, form):
    cid = _id_13(body)
    written = {"plain": cid, "dashes": f"{cid[0]}-{cid[1:5]}-{cid[5:10]}-{cid[10:12]}-{cid[12]}",
               "spaces": f"{cid[0]} {cid[1:5]} {cid[5:10]} {cid[10:12]} {cid[12]}",
               "thai": cid.translate(THAI), "padded": f"  {cid}\u00a0"}[form]
    key = b"property-key"
    a = pseudonym.pseudonymise(pd.Series([cid], dtype="str"), "id", key).iloc[0]
    b = pseudonym.pseudonymise(pd.Series([written], dtype="str"), "id", key).iloc[0]
    assert a == b and len(a) == 64 and cid not in a
