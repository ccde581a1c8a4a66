"""welfare/members/<province code>.csv: the welfare fund members, the largest registry (about six
million rows nationally). Generated fund by fund from the fund's own random stream, so the demo
profile (a sample of whole funds) holds exactly the national profile's rows for those funds; the
rows are formatted and written one province at a time, with numpy, to stay fast and small."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .common import (CUTOFF, UNPARSEABLE_DATES, Defect, citizen_ids, fy_end, fy_start, rng_for,
                     scrambled_bodies, thai_digits)
from .welfare import Fund

COLUMNS = ("member_id", "fund_code", "citizen_id", "gender", "birth_year", "joined_date", "status")
# Defects per member row (see README.md).
RATES = (("exact_duplicate", 0.003), ("conflicting_duplicate", 0.003),
         ("ce_year_in_be_date", 0.005), ("thai_digits", 0.005), ("unparseable_date", 0.002),
         ("invalid_citizen_id", 0.003), ("orphan_reference", 0.002))
KIND = {name: i for i, (name, _) in enumerate(RATES)}
CLEAN = len(RATES)
_CUM = np.cumsum([r for _, r in RATES])
STATUS = np.array(["active", "left", "deceased"], dtype=object)
DEMO_SHARE = 0.01

# Dates as text by day number, built once: formatting millions of dates is then an array lookup.
_BASE = date(1995, 1, 1)
_DAYS = [_BASE + timedelta(days=i) for i in range((CUTOFF - _BASE).days + 1)]
BE = np.array([f"{x.day:02d}/{x.month:02d}/{x.year + 543}" for x in _DAYS], dtype=object)
CE = np.array([f"{x.day:02d}/{x.month:02d}/{x.year}" for x in _DAYS], dtype=object)
ISO = np.array([x.isoformat() for x in _DAYS], dtype=object)
BE_YEAR = np.array([x.year + 543 for x in _DAYS], dtype=np.int64)


def sampled_funds(funds: list[Fund], seed: int, profile: str) -> list[Fund]:
    """All funds (national) or about 1% of them, at least one per province (demo)."""
    if profile == "national":
        return list(funds)
    u = rng_for(seed, "members", "sample").random(len(funds))
    chosen = {f.index for f, x in zip(funds, u) if x < DEMO_SHARE}
    by_province: dict[str, list[Fund]] = {}
    for f in funds:
        by_province.setdefault(f.area.province_code, []).append(f)
    for group in by_province.values():
        if not any(f.index in chosen for f in group):
            chosen.add(min(group, key=lambda f: (f.final_members, f.index)).index)
    return [f for f in funds if f.index in chosen]


def _fund_rows(f: Fund, seed: int, rate_scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = rng_for(seed, "members", f.index)
    days, previous = [], 0
    for fy in sorted(f.members):
        joins = f.members[fy] - previous
        previous = f.members[fy]
        lo = max(fy_start(fy), f.established)
        hi = min(fy_end(fy), CUTOFF)
        days.append(rng.integers((lo - _BASE).days, (hi - _BASE).days + 1, joins))
    day = np.sort(np.concatenate(days))
    n = len(day)
    age = np.clip(rng.normal(42, 17, n), 0, 92).astype(np.int64)
    birth = BE_YEAR[day] - age
    age_now = 2560 - birth
    u = rng.random(n)
    status = np.where(u < np.where(age_now > 75, 0.18, 0.01), 2, np.where(u > 0.93, 1, 0))
    first_digit = np.where(birth >= 2527, 1, 3)
    ids = citizen_ids(scrambled_bodies(first_digit * 100 + int(f.area.province_code),
                                       f.index * 20_000 + np.arange(n), 141_421_356))
    kind = np.searchsorted(_CUM * rate_scale, rng.random(n), side="right")
    return dict(day=day, birth=birth, female=rng.random(n) < 0.52, status=status, ids=ids,
                kind=kind, pick=rng.random(n), fund=np.full(n, f.index), seq=np.arange(1, n + 1))


def write(sources: Path, funds: list[Fund], all_funds: list[Fund], seed: int,
          provinces: list[str], rate_scale: float = 1.0) -> tuple[int, list[Defect]]:
    """One file per province (`rate_scale` multiplies the defect rates: the small profile)."""
    folder = sources / "welfare" / "members"
    folder.mkdir(parents=True, exist_ok=True)
    by_province: dict[str, list[Fund]] = {p: [] for p in provinces}
    for f in funds:
        by_province[f.area.province_code].append(f)
    code_of = {f.index: f.code for f in all_funds}
    total, defects = 0, []
    for province in provinces:
        group = sorted(by_province[province], key=lambda f: f.code)
        file = f"welfare/members/{province}.csv"
        parts = [_fund_rows(f, seed, rate_scale) for f in group]
        with open(folder / f"{province}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS)
            if parts:
                rows, found = _format(parts, code_of, file)
                writer.writerows(rows)
                total += len(rows)
                defects.extend(found)
    return total, defects


def _format(parts: list[dict], code_of: dict[int, str], file: str):
    a = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    kind = a["kind"]
    # Exact copies follow their original; the older version of a conflicting pair comes first.
    doubled = (kind == KIND["exact_duplicate"]) | (kind == KIND["conflicting_duplicate"])
    idx = np.repeat(np.arange(len(kind)), 1 + doubled)
    first = np.ones(len(idx), dtype=bool)
    first[1:] = idx[1:] != idx[:-1]
    k = kind[idx]
    fund_codes = np.array([code_of[i] for i in a["fund"]], dtype=object)[idx]
    member_id = np.array([f"{c}-{s:05d}" for c, s in zip(fund_codes, a["seq"][idx])], dtype=object)
    citizen = a["ids"][idx].astype(str).astype(object)
    gender = np.where(a["female"][idx], "ญ", "ช").astype(object)
    birth = a["birth"][idx].astype(str).astype(object)
    day = a["day"][idx]
    joined = BE[day]
    status = STATUS[a["status"][idx]]
    pick = a["pick"][idx]
    expected = np.full(len(idx), "", dtype=object)
    column = np.full(len(idx), "", dtype=object)
    is_defect = np.zeros(len(idx), dtype=bool)

    m = (k == KIND["exact_duplicate"]) & ~first
    is_defect |= m
    m = (k == KIND["conflicting_duplicate"]) & first
    status[m] = np.where(status[m] == "active", "left", "active")
    column[m], is_defect[m] = "member_id", True
    single = k != KIND["exact_duplicate"]
    single &= k != KIND["conflicting_duplicate"]
    m = single & (k == KIND["ce_year_in_be_date"])
    joined[m], column[m], expected[m], is_defect[m] = CE[day[m]], "joined_date", ISO[day[m]], True
    m = single & (k == KIND["thai_digits"])
    on_date = m & (pick < 0.6)
    joined[on_date] = [thai_digits(x) for x in BE[day[on_date]]]
    column[on_date], expected[on_date] = "joined_date", ISO[day[on_date]]
    on_year = m & (pick >= 0.6)
    expected[on_year] = birth[on_year]
    birth[on_year] = [thai_digits(x) for x in birth[on_year]]
    column[on_year] = "birth_year"
    is_defect |= m
    m = single & (k == KIND["unparseable_date"])
    joined[m] = [UNPARSEABLE_DATES[int(p * len(UNPARSEABLE_DATES))].format(y=y, yy=str(y)[-2:])
                 for p, y in zip(pick[m], BE_YEAR[day[m]])]
    column[m], is_defect[m] = "joined_date", True
    m = single & (k == KIND["invalid_citizen_id"])
    citizen[m] = [c[:12] + str((int(c[12]) + 1 + int(p * 8)) % 10) for c, p in zip(citizen[m], pick[m])]
    column[m], is_defect[m] = "citizen_id", True
    m = single & (k == KIND["orphan_reference"])
    fund_codes = fund_codes.copy()
    fund_codes[m] = [f"WF9{int(p * 10000):04d}" for p in pick[m]]
    column[m], is_defect[m] = "fund_code", True

    rows = list(zip(member_id, fund_codes, citizen, gender, birth, joined, status))
    names = [name for name, _ in RATES]
    defects = [Defect("welfare", "members", file, int(i) + 2, member_id[i], column[i],
                      names[k[i]], expected[i]) for i in np.flatnonzero(is_defect)]
    return rows, defects
