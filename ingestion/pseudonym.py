"""Keyed pseudonyms for personal data (Thailand's PDPA, DESIGN section 2): citizen IDs and
personal names become `hmac_sha256(key, normalised value)` as 64 hex characters before anything
is written to the lake. The same person gets the same pseudonym in every table and load (so
records can still be linked), and without the key a pseudonym cannot be reversed by trying all
13-digit IDs, which a plain hash could."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import numpy as np
import pandas as pd

from ingestion import normalise

# The lake's name for each personal column (docs/lake.md), and how its value is normalised
# before hashing, so that "1-2345-..." and "12345..." or two spacings of a name agree.
PERSONAL_COLUMNS = {
    "head_citizen_id": ("head_citizen_pseudonym", "id"),
    "head_name": ("head_name_pseudonym", "name"),
    "citizen_id": ("citizen_pseudonym", "id"),
    "borrower_name": ("borrower_name_pseudonym", "name"),
}


def normalised(values: pd.Series, kind: str) -> pd.Series:
    return normalise.digits_only(values) if kind == "id" else normalise.clean_text(values)


def _pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """The two keyed SHA-256 states of HMAC (RFC 2104), prepared once per key."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)),
            hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def hmac_hex(key: bytes, values: pd.Series) -> pd.Series:
    """HMAC-SHA256 of each value (UTF-8) as hex; null stays null. Each distinct value is hashed
    once, by copying the two prepared keyed states: the same result as `hmac.new(key, value,
    sha256)`, at a third of its cost, which matters for six million members."""
    inner, outer = _pads(key)
    codes, distinct = pd.factorize(values.reset_index(drop=True), use_na_sentinel=True)
    out = []
    for value in distinct.to_numpy(dtype=object).tolist():
        i = inner.copy()
        i.update(value.encode("utf-8"))
        o = outer.copy()
        o.update(i.digest())
        out.append(o.hexdigest())
    hashed = np.array(out + [None], dtype=object)[np.where(codes >= 0, codes, len(out))]
    return pd.Series(hashed, index=values.index, dtype="str")


def pseudonymise(values: pd.Series, kind: str, key: bytes, *, already_normalised: bool = False) -> pd.Series:
    """The pseudonym of a personal column's values (`kind` is 'id' or 'name')."""
    return hmac_hex(key, values if already_normalised else normalised(values, kind))


def pseudonymise_or_mask(values: pd.Series, kind: str, key: bytes) -> pd.Series:
    """For the quarantine: the pseudonym of each value, and `[masked]` where a value is there
    but normalises to nothing (an ID with no digit): never the value, never a false 'empty'."""
    hashed = pseudonymise(values, kind, key)
    present = values.notna() & (values.astype("str").str.strip() != "")
    return hashed.where(hashed.notna() | ~present, MASK)


def pseudonymise_frame(frame: pd.DataFrame, key: bytes, *, already_normalised: bool = False) -> pd.DataFrame:
    """Replace every personal column of `frame` by its pseudonym column, in place of it."""
    for column, (target, kind) in PERSONAL_COLUMNS.items():
        if column in frame.columns:
            position = frame.columns.get_loc(column)
            values = pseudonymise(frame[column], kind, key, already_normalised=already_normalised)
            frame = frame.drop(columns=[column])
            frame.insert(position, target, values)
    return frame


# -- raw lines and messages ----------------------------------------------------------------------
# A line a reader cannot split into columns is kept for the quarantine, and a header it cannot
# match is named in an error message. For a table with personal columns, neither may carry a
# personal value in clear (DESIGN section 9): the reader passes them through `Protect`.

# A citizen ID as people write it: 13 digits (Arabic or Thai), maybe grouped by dashes or
# spaces; 12 and 14 digits too, as a mistyped ID is still someone's.
ID_LIKE = re.compile(r"(?<![0-9๐-๙])[0-9๐-๙](?:[ \-]?[0-9๐-๙]){11,13}(?![0-9๐-๙])")
# What a person's name starts with in a Thai register (นายสมชาย ใจดี), or in English.
_HONORIFIC = re.compile(r"^\s*(?:นาย|นาง|น\.ส\.|ด\.ช\.|ด\.ญ\.|เด็กชาย|เด็กหญิง|mr\.?\s|mrs\.?\s|ms\.?\s|miss\s)",
                        re.IGNORECASE)
_DIGIT_RUN = re.compile(r"[0-9๐-๙](?:[ \-/.]?[0-9๐-๙]){3,}")
_THAI_WORDS = re.compile(r"[\u0e00-\u0e7f]+\s+[\u0e00-\u0e7f]+")
MASK = "[masked]"


class Protect:
    """How one table's raw lines and header names are made safe to keep and to show. `kinds`:
    the source name of each personal column -> 'id' or 'name'. `key`: the run's pseudonym key;
    without it (a read for parent keys only) personal values are masked instead."""

    def __init__(self, kinds: dict[str, str], key: bytes | None = None):
        self.kinds, self.key = dict(kinds), key

    @classmethod
    def for_columns(cls, columns: dict[str, str], key: bytes | None) -> Protect:
        """`columns`: the lake name -> the source name of each column of a table."""
        return cls({source: PERSONAL_COLUMNS[name][1] for name, source in columns.items()
                    if name in PERSONAL_COLUMNS}, key)

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def looks_personal(self, name: str) -> bool:
        """A 'column name' that may be a value: an ID or a date of someone, or a person's name
        (a header line that is really a data row)."""
        return bool(ID_LIKE.search(name) or _DIGIT_RUN.search(name) or _HONORIFIC.search(name)
                    or _THAI_WORDS.search(name))

    def quoted(self, name: str, position: int) -> str:
        """A header name for a message: quoted, unless this table has personal columns and the
        name may be a personal value."""
        if self and self.looks_personal(name):
            return f"(field {position}, not quoted: it may be personal data)"
        return repr(name)

    def _tokens(self, values: list[str], kind: str) -> list[str]:
        """The pseudonym of each value (as in the lake's pseudonym columns) as `[pseudonym:<hex>]`;
        `[masked]` without a key or where the value normalises to nothing."""
        if not values:
            return []
        if self.key is None:
            return [MASK] * len(values)
        hashed = pseudonymise(pd.Series(values, dtype="str"), kind, self.key)
        return [MASK if pd.isna(h) else f"[pseudonym:{h}]" for h in hashed]

    def ids(self, texts: list[str]) -> list[str]:
        """Every ID-like token of the texts replaced by its pseudonym (pseudonyms already
        written are left alone: their hex has digit runs too). None stays None."""
        found = sorted({m.group("id") for t in texts if isinstance(t, str) for m in _ID_OR_TOKEN.finditer(t)
                        if m.group("id")})
        if not found:
            return texts
        token = dict(zip(found, self._tokens(found, "id")))
        return [_ID_OR_TOKEN.sub(lambda m: token[m.group("id")] if m.group("id") else m.group(0), t)
                if isinstance(t, str) else t for t in texts]

    def fields(self, rows: list[list[str]], header: list[str]) -> list[str]:
        """CSV lines that are not records, given as their fields: each written back as CSV text
        with the fields that may hold a personal value pseudonymised. With extra or missing
        fields, a personal value may have moved by as many places as the difference, so every
        field it may have moved to counts as personal (when in doubt, mask)."""
        at = {header.index(c): kind for c, kind in self.kinds.items() if c in header}
        todo: dict[str, list[tuple[int, int]]] = {"id": [], "name": []}
        for r, fields in enumerate(rows):
            shift = len(fields) - len(header)
            for position, kind in at.items():
                low, high = (position, position + shift) if shift >= 0 else (position + shift, position)
                for i in range(max(low, 0), min(high, len(fields) - 1) + 1):
                    if fields[i].strip():
                        todo[kind].append((r, i))
        out = [list(f) for f in rows]
        done = set()
        for kind in ("id", "name"):
            places = [p for p in todo[kind] if p not in done]
            for (r, i), token in zip(places, self._tokens([rows[r][i] for r, i in places], kind)):
                out[r][i] = token
            done.update(places)
        return self.ids([_csv_text(f) for f in out])

    def json_texts(self, texts: list[str], safe_keys: set[str]) -> list[str]:
        """JSON text (a line or a feature) that is not a record: every string value whose key is
        not one of `safe_keys` (the table's other columns) pseudonymised, then every ID-like
        token. A value under a garbled key counts as personal (when in doubt, mask)."""
        values: list[str] = []
        for text in texts:
            values += [m.group("value") for m in _JSON_PAIR.finditer(text)
                       if m.group("key") not in safe_keys]
        token = dict(zip(sorted(set(values)), self._tokens(sorted(set(values)), "name")))

        def swap(m: re.Match) -> str:
            if m.group("key") in safe_keys:
                return m.group(0)
            return f'{m.group("head")}"{token[m.group("value")]}"'
        return self.ids([_JSON_PAIR.sub(swap, t) for t in texts])


# A pseudonym (bracketed in raw lines, bare in the quarantine's values) is passed over whole: its
# hex has digit runs that look like IDs.
_ID_OR_TOKEN = re.compile(r"\[pseudonym:[0-9a-f]{64}\]|(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])|(?P<id>"
                          + ID_LIKE.pattern + ")")
_JSON_PAIR = re.compile(r'(?P<head>"(?P<key>(?:[^"\\]|\\.)*)"\s*:\s*)"(?P<value>(?:[^"\\]|\\.)*)"')


def _csv_text(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()
