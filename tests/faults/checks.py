"""What a load left in the lake, and the checks every variant gets: reconciled against the
physical records of the bytes, every record accounted for, and what the variant promised."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from faults import physical
from faults.formats import spec
from faults.variants import (FIXED_OR_QUARANTINED, QUARANTINED, REFUSED, SAME, Damage, Variant)

LINEAGE = ("_source_file", "_source_row")


def _parquet(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    with duckdb.connect() as con:
        return con.execute("select * from read_parquet(?)", [str(path)]).df()


@dataclass
class Outcome:
    """One table after a load: refused (`error`: the exception or the message) or loaded; in both
    cases what the lake holds now (a refused table's last good load)."""

    table: str
    error: object | None
    load: dict | None
    validated: pd.DataFrame | None
    quarantine: pd.DataFrame | None

    @classmethod
    def read(cls, lake: Path, table: str, error: object | None = None) -> "Outcome":
        source, name = table.split("/")
        load = lake / "loads" / source / f"{name}.json"
        return cls(table, error,
                   json.loads(load.read_text(encoding="utf-8")) if load.exists() else None,
                   _parquet(lake / "validated" / source / name / "data.parquet"),
                   _parquet(lake / "quarantine" / source / name / "data.parquet"))

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return str(self.error or "")

    @staticmethod
    def _rows(frame: pd.DataFrame | None) -> list[tuple[str, int]]:
        if frame is None or frame.empty:
            return []
        return list(zip(frame["_source_file"].astype(str), frame["_source_row"].astype(int)))

    @property
    def valid_rows(self) -> set[tuple[str, int]]:
        return set(self._rows(self.validated))

    @property
    def quarantined_rows(self) -> set[tuple[str, int]]:
        return set(self._rows(self.quarantine))

    def valid_row(self, row: tuple[str, int]) -> dict | None:
        if self.validated is None:
            return None
        hit = self.validated[(self.validated["_source_file"] == row[0])
                             & (self.validated["_source_row"] == row[1])]
        return None if hit.empty else hit.iloc[0].to_dict()

    def reasons(self, row: tuple[str, int]) -> str:
        q = self.quarantine
        hit = q[(q["_source_file"] == row[0]) & (q["_source_row"] == row[1])]
        return ";".join(hit["reason_codes"].astype(str))


def physical_count_of(load: dict) -> int | None:
    """The physical count the load recorded, whatever the field is called (`physical_rows`)."""
    for key, value in load.items():
        if "physical" in key and isinstance(value, int):
            return value
    return None


def check_reconciled(out: Outcome, sources: Path) -> None:
    """(a) The load's rows read equal the records counted from the files' bytes, it balances, and
    the lake holds what it says; every physical record is exactly one row (valid, quarantined)
    or a counted duplicate: none lost, none merged into another."""
    rows = physical.table_rows(spec(out.table), sources)
    load = out.load
    assert load is not None, f"{out.table}: no load recorded"
    assert load["rows_read"] == len(rows), (
        f"{out.table}: rows read {load['rows_read']:,}, but the files hold {len(rows):,} records "
        "(counted from their bytes)")
    recorded = physical_count_of(load)
    if recorded is not None:
        assert recorded == len(rows), f"{out.table}: physical count recorded {recorded}, bytes say {len(rows)}"
    assert load["rows_read"] == load["valid"] + load["quarantined"] + load["duplicates"], load
    valid, quarantined = out._rows(out.validated), out._rows(out.quarantine)
    assert len(valid) == load["valid"] and len(quarantined) == load["quarantined"], \
        f"{out.table}: the lake holds {len(valid)} valid and {len(quarantined)} quarantined rows, the load says {load}"
    assert len(set(valid)) == len(valid), f"{out.table}: a record is valid twice"
    assert len(set(quarantined)) == len(quarantined), f"{out.table}: a record is quarantined twice"
    both = set(valid) & set(quarantined)
    assert not both, f"{out.table}: rows both valid and quarantined: {sorted(both)[:5]}"
    seen = set(valid) | set(quarantined)
    stray = seen - rows
    assert not stray, f"{out.table}: rows that are no record of the files: {sorted(stray)[:5]}"
    missing = rows - seen
    assert len(missing) == load["duplicates"], (
        f"{out.table}: {len(missing)} records are neither valid nor quarantined, and "
        f"{load['duplicates']} were counted as duplicates; e.g. {sorted(missing)[:8]}")


def check_refusal(variant: Variant, out: Outcome, lake_before: dict | None) -> None:
    """A clear refusal: the message names the file, the table and what is wrong; the last good
    load stays as it was."""
    message = out.message
    for name in variant.names:
        assert name in message, f"the refusal does not name {name!r}: {message}"
    if variant.hint:
        assert re.search(variant.hint, message), f"the refusal does not say how to go on: {message}"
    error = out.error
    if hasattr(error, "file"):
        assert error.file and error.table == variant.table, (error.file, error.table)
    assert out.load == lake_before, "the refused table's last good load was replaced"


def check_variant(variant: Variant, outcomes: dict[str, Outcome], damage: Damage,
                  baseline: dict[str, Outcome], sources: Path, before: dict[str, dict | None]) -> None:
    """Everything a user must see of one variant (its `expect`), on every table it loaded."""
    out = outcomes[variant.table]
    if variant.expect == REFUSED:
        assert out.refused, (f"{variant.name}: the table was loaded, where it must be refused "
                             f"({variant.promise}); load: {out.load}")
        check_refusal(variant, out, before[variant.table])
        return
    if variant.expect in (QUARANTINED, SAME, FIXED_OR_QUARANTINED):
        assert not out.refused, f"{variant.name}: refused, where it must load: {out.message}"
    if out.refused:        # REFUSED_OR_QUARANTINED
        check_refusal(variant, out, before[variant.table])
        # A clear refusal names where the damage is, not another cause (a "shrunken export"
        # whose acceptance would load the merged lines).
        rows = sorted(r for _, r in damage.quarantined.get(variant.table, ()))
        named = getattr(out.error, "row", None) in rows or any(
            re.search(rf"\b(?:row|line)s? {r}\b", out.message) for r in rows)
        assert named, f"{variant.name}: refused without naming the damaged row {rows}: {out.message}"
        return
    for table in variant.tables:
        check_reconciled(outcomes[table], sources)
    for table in variant.tables:
        o, clean = outcomes[table], baseline[table]
        expected = damage.quarantined.get(table, set())
        if variant.expect != FIXED_OR_QUARANTINED:
            missing = expected - o.quarantined_rows
            assert not missing, (f"{variant.name}: {table} rows not quarantined: {sorted(missing)} "
                                 f"(valid: {sorted(missing & o.valid_rows)})")
        # Every other row is where the clean load put it (valid stays valid, quarantined stays
        # quarantined), at its row in the damaged file.
        move = damage.moved.get(table, lambda f, r: r)
        for rows, now, what in ((clean.valid_rows, o.valid_rows, "valid"),
                                (clean.quarantined_rows, o.quarantined_rows, "quarantined")):
            wanted = {(f, move(f, r)) for f, r in rows if move(f, r) is not None} - expected
            lost = wanted - now
            assert not lost, (f"{variant.name}: {table}: {len(lost)} rows {what} in the clean load are "
                              f"not {what} now, e.g. {sorted(lost)[:5]}")
        if variant.expect == SAME:
            assert o.quarantined_rows == {(f, move(f, r)) for f, r in clean.quarantined_rows}, \
                f"{variant.name}: {table}: other rows quarantined than in the clean load"
            _same_values(o, clean, move)
    if variant.check is not None:
        variant.check(outcomes, damage)


def _same_values(out: Outcome, clean: Outcome, move) -> None:
    """The validated rows hold the same values as the clean load's (but their load id)."""
    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        cols = sorted(c for c in frame.columns if c != "_load_id")
        return frame[cols].sort_values(list(LINEAGE)).reset_index(drop=True)

    mine, theirs = norm(out.validated), clean.validated.copy()
    theirs["_source_row"] = [move(f, r) for f, r in zip(theirs["_source_file"], theirs["_source_row"])]
    theirs = norm(theirs.dropna(subset=["_source_row"]).astype({"_source_row": "int64"}))
    assert list(mine.columns) == list(theirs.columns), (set(mine.columns) ^ set(theirs.columns))
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)

