"""The shared normalisers: Thai digits, Buddhist Era years, dates, numbers, booleans, names."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingestion import normalise as n


def S(*values) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def test_clean_text_nfc_whitespace_and_empty():
    out = n.clean_text(S("  บ้าน\u00a0 มั่นคง ", "e\u0301", "\u200bชุมชน", "   ", None))
    assert out.tolist()[:3] == ["บ้าน มั่นคง", "é", "ชุมชน"]
    assert out.isna().tolist()[3:] == [True, True]


def test_thai_digits_become_arabic_and_are_flagged():
    out, changed = n.thai_digits(S("๑๒๓", "12", "ก๐"))
    assert out.tolist() == ["123", "12", "ก0"]
    assert changed.tolist() == [True, False, True]


def test_number_thousands_separators_thai_digits_and_garbage():
    p = n.number(S("1,234,567.50", "๑,๒๐๐", "๕๐๐", "  42 ", "1,23", "abc", None, "-5"))
    assert p.value.tolist()[:4] == [1234567.5, 1200.0, 500.0, 42.0]
    assert p.invalid.tolist() == [False, False, False, False, True, True, False, False]
    assert p.value.iloc[7] == -5.0
    assert p.repairs[n.THOUSANDS_SEPARATOR].tolist() == [True, True] + [False] * 6
    assert p.repairs[n.THAI_DIGITS].tolist() == [False, True, True] + [False] * 5


def test_integer_counts_reject_fractions():
    p = n.number(S("12", "12.0", "2.5", "๓"), integer=True)
    assert str(p.value.dtype) == "Int64"
    assert p.value.tolist()[:2] == [12, 12] and pd.isna(p.value.iloc[2]) and p.value.iloc[3] == 3
    assert p.invalid.tolist() == [False, False, True, False]


def test_numbers_too_large_for_their_type_are_out_of_range_not_a_crash():
    # 309 digits is infinite as a float; 20 digits overflows Int64 (and a float holds integers
    # exactly only up to 2**53): read, null, and marked out of range for the schema to report.
    p = n.number(S("9" * 309, "1" * 20, str(2 ** 53), "12", "-5", "abc", None), integer=True)
    assert str(p.value.dtype) == "Int64"
    assert p.out_of_range.tolist() == [True, True, False, False, False, False, False]
    assert p.value.isna().tolist() == [True, True, False, False, False, True, True]
    assert p.invalid.tolist() == [False] * 5 + [True, False]
    f = n.number(S("9" * 309, "-" + "9" * 400, "1" * 20, "1.5"))
    assert f.out_of_range.tolist() == [True, True, False, False]
    assert f.value.iloc[2] == 1.111111111111111e19 and f.value.iloc[:2].isna().all()


def test_a_year_of_twenty_digits_is_no_year():
    p = n.be_year(S("1" * 20, "25690", "2569"))
    assert p.invalid.tolist() == [True, False, False]
    assert p.value.tolist()[1:] == [25690, 2569]     # 25690 reads, and is out of any window


def test_control_characters_but_not_whitespace():
    text = S("a\x00b", "ESC\x1b", "DEL\x7f", "NEL\x85", "C1\x9f", "tab\tnl\ncr\rff\x0c",
             "ไทย ๑๒", "\u00a0nbsp", None)
    assert n.has_control_character(text).tolist() == [True] * 5 + [False] * 4
    # clean_text reads tabs and line breaks as a space: they never reach the check
    assert n.clean_text(S("ชุมชน\r\nริมคลอง\tซอย 5")).tolist() == ["ชุมชน ริมคลอง ซอย 5"]


def _dates(p: n.Parsed) -> list:
    return [None if pd.isna(v) else v.date() for v in p.value]


def test_date_buddhist_and_christian_era_with_flag():
    p = n.date(S("05/01/2556", "05/01/2013", "5-1-2556", "๐๕/๐๑/๒๕๕๖"))
    assert _dates(p) == [dt.date(2013, 1, 5)] * 4
    assert p.era.tolist() == ["BE", "CE", "BE", "BE"]
    assert p.repairs[n.BE_CE_YEAR].tolist() == [False, True, False, False]
    assert p.repairs[n.THAI_DIGITS].tolist() == [False, False, False, True]
    assert not p.invalid.any()


def test_date_edge_years_between_eras_are_unreadable():
    # 2401 is BE (1858), 2199 is CE; 2200 and 2400 belong to neither era.
    p = n.date(S("01/01/2401", "01/01/2199", "01/01/2200", "01/01/2400"))
    assert _dates(p)[:2] == [dt.date(1858, 1, 1), dt.date(2199, 1, 1)]
    assert p.era.tolist()[:2] == ["BE", "CE"]
    assert p.invalid.tolist() == [False, False, True, True]
    assert p.era.isna().tolist()[2:] == [True, True]


def test_29_february_in_buddhist_era_leap_years():
    # 2555 BE = 2012 CE is a leap year although 2555 is not divisible by 4; 2556 BE = 2013 is not.
    # 2443 BE = 1900 CE is not a leap year (a century), 2543 BE = 2000 CE is.
    p = n.date(S("29/02/2555", "29/02/2556", "29/02/2443", "29/02/2543", "29/02/2012"))
    assert _dates(p) == [dt.date(2012, 2, 29), None, None, dt.date(2000, 2, 29), dt.date(2012, 2, 29)]
    assert p.invalid.tolist() == [False, True, True, False, False]


def test_impossible_and_garbage_dates_are_unreadable_not_dropped():
    p = n.date(S("31/04/2556", "13/13/2556", "ไม่ทราบ", "", None))
    assert p.invalid.tolist() == [True, True, True, False, False]
    assert p.value.isna().all()


def test_excel_serial_and_real_dates():
    # 41279 is 5 January 2013 in Excel's 1900 date system; the workbook reader writes real
    # date cells as ISO text.
    p = n.date(S("41279", "41279.0", "2013-01-05", "2556-01-05", "05/01/2556", "2013-01-05T10:30:00"),
               excel=True)
    assert _dates(p) == [dt.date(2013, 1, 5)] * 6
    assert p.era.isna().tolist()[:3] == [True] * 3
    assert p.era.tolist()[3:5] == ["BE", "BE"]
    # Without excel=True a bare number is not a date.
    assert n.date(S("41279")).invalid.all()


def test_be_year_kept_in_buddhist_era():
    p = n.be_year(S("2500", "1957", "๒๕๐๐", "2300", "x", None))
    assert p.value.tolist()[:3] == [2500, 2500, 2500]
    assert p.era.tolist()[:3] == ["BE", "CE", "BE"]
    assert p.repairs[n.BE_CE_YEAR].tolist() == [False, True, False, False, False, False]
    assert p.invalid.tolist() == [False, False, False, True, True, False]


def test_timestamps_keep_the_instant():
    p = n.timestamp(S("2013-10-05T08:30:00+07:00", "2013-10-05 08:30:00", "2013-10-05T01:30:00Z", "soon"))
    utc = pd.Timestamp("2013-10-05T01:30:00Z")
    assert p.value.tolist()[:3] == [utc, utc, utc]
    assert p.invalid.tolist() == [False, False, False, True]


def test_booleans_thai_and_english():
    p = n.boolean(S("Y", "n", "ใช่", "ไม่ใช่", "มี", "ไม่มี", "true", "FALSE", "maybe", None))
    assert p.value.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert p.invalid.tolist() == [False] * 8 + [True, False]


def test_area_names_prefixes_and_bangkok():
    p = n.area_name(S("จ.เชียงใหม่", "จังหวัด เชียงใหม่", "อ. เมือง", "ต.สุเทพ", "เขตบางนา",
                      "แขวงบางนาเหนือ", "กทม.", "กรุงเทพฯ", " สุเทพ ", "สุเทพ", "อ่างทอง"))
    assert p.value.tolist() == ["เชียงใหม่", "เชียงใหม่", "เมือง", "สุเทพ", "บางนา", "บางนาเหนือ",
                                BANGKOK := "กรุงเทพมหานคร", BANGKOK, "สุเทพ", "สุเทพ", "อ่างทอง"]
    assert p.repairs[n.AREA_NAME_NORMALISED].tolist() == [True] * 9 + [False, False]


def test_digits_only_codes():
    assert n.digits_only(S("1-2345-67890-12-1", "๑๐๐๑๐๑", " 100101 ", "")).tolist()[:3] == [
        "1234567890121", "100101", "100101"]


@pytest.mark.parametrize("size", [200_000])
def test_normalisers_are_vectorised(size):
    # A regression guard, not a benchmark: 200k dates must not take a per-row Python loop.
    import time
    s = pd.Series(["05/01/2556", "1,234", "๑๒"] * (size // 3), dtype="str")
    start = time.perf_counter()
    n.date(s)
    n.number(s)
    assert time.perf_counter() - start < 10


def test_pseudonyms_are_hmac_sha256_of_the_normalised_value():
    import hashlib
    import hmac

    from ingestion.pseudonym import pseudonymise

    key = b"a key" * 20          # longer than SHA-256's block: hashed first, as RFC 2104 says
    out = pseudonymise(S("1-2345-67890-12-1", "1234567890121", "๑๒๓๔๕๖๗๘๙๐๑๒๑", None), "id", key)
    expected = hmac.new(key, b"1234567890121", hashlib.sha256).hexdigest()
    assert out.tolist()[:3] == [expected] * 3 and pd.isna(out.iloc[3])
    names = pseudonymise(S("นายสมชาย  ใจดี", "นายสมชาย ใจดี "), "name", b"k")
    assert names.iloc[0] == names.iloc[1] == hmac.new(b"k", "นายสมชาย ใจดี".encode(), hashlib.sha256).hexdigest()
    assert pseudonymise(S("1234567890121"), "id", b"other").iloc[0] != expected
