"""Keyed pseudonyms for personal data (Thailand's PDPA, DESIGN section 2): citizen IDs and
personal names become `hmac_sha256(key, normalised value)` as 64 hex characters before anything
is written to the lake. The same person gets the same pseudonym in every table and load (so
records can still be linked), and without the key a pseudonym cannot be reversed by trying all
13-digit IDs, which a plain hash could."""

from __future__ import annotations

import hashlib
import hmac

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


def hmac_hex(key: bytes, values: pd.Series) -> pd.Series:
    """HMAC-SHA256 of each value (UTF-8) as hex; null stays null. Hashes each distinct value
    once, from a keyed state prepared once (a copy per value costs far less than a new HMAC)."""
    base = hmac.new(key, digestmod=hashlib.sha256)
    distinct = values.dropna().unique()

    def one(value: str) -> str:
        h = base.copy()
        h.update(value.encode("utf-8"))
        return h.hexdigest()

    mapping = {value: one(value) for value in distinct}
    return values.map(mapping).astype("str")


def pseudonymise(values: pd.Series, kind: str, key: bytes) -> pd.Series:
    """The pseudonym of a personal column's values (`kind` is 'id' or 'name')."""
    return hmac_hex(key, normalised(values, kind))


def pseudonymise_frame(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Replace every personal column of `frame` by its pseudonym column, in place of it."""
    for column, (target, kind) in PERSONAL_COLUMNS.items():
        if column in frame.columns:
            position = frame.columns.get_loc(column)
            values = pseudonymise(frame[column], kind, key)
            frame = frame.drop(columns=[column])
            frame.insert(position, target, values)
    return frame
