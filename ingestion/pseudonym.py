"""Keyed pseudonyms for personal data (Thailand's PDPA, DESIGN section 2): citizen IDs and
personal names become `hmac_sha256(key, normalised value)` as 64 hex characters before anything
is written to the lake. The same person gets the same pseudonym in every table and load (so
records can still be linked), and without the key a pseudonym cannot be reversed by trying all
13-digit IDs, which a plain hash could."""

from __future__ import annotations

import hashlib

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


def pseudonymise_frame(frame: pd.DataFrame, key: bytes, *, already_normalised: bool = False) -> pd.DataFrame:
    """Replace every personal column of `frame` by its pseudonym column, in place of it."""
    for column, (target, kind) in PERSONAL_COLUMNS.items():
        if column in frame.columns:
            position = frame.columns.get_loc(column)
            values = pseudonymise(frame[column], kind, key, already_normalised=already_normalised)
            frame = frame.drop(columns=[column])
            frame.insert(position, target, values)
    return frame
