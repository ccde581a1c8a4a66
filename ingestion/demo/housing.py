"""housing/baan_mankong.sqlite: Baan Mankong projects and the households that move in.

Households move in during the project's completion year, one to three years after approval; the
yearly move-ins are scaled to the plan's K2 targets (moved-in households per fiscal year)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np

from . import defects as d
from .areas import URBAN_PROVINCES, Areas
from .common import (CUTOFF, Table, be_text, break_checksum, citizen_ids, community_name, fy_end,
                     fy_start, iso_ts, noisy, person_names, random_day, random_day_in_fy, rng_for,
                     scrambled_bodies)
from .plan import Plan

K2_TARGETS = {2555: 15000, 2556: 25000, 2557: 25000, 2558: 30000, 2559: 17000}
# Move-ins outside the plan years: the programme's run-up and FY2560.
OTHER_MOVE_INS = {2551: 2000, 2552: 3000, 2553: 4000, 2554: 6000, 2560: 10000}
TENURE = ("ซื้อที่ดิน", "เช่าระยะยาว", "เช่าที่ดินรัฐ", "กรรมสิทธิ์สหกรณ์", "อื่นๆ")
TENURE_P = (0.35, 0.25, 0.25, 0.10, 0.05)

PROJECT_COLUMNS = ("project_code", "project_name", "community_name", "province", "district",
                   "subdistrict", "subdistrict_code", "approved_date", "households_planned",
                   "households_completed", "land_tenure", "infrastructure_budget", "housing_loan",
                   "status", "updated_at")
HOUSEHOLD_COLUMNS = ("household_id", "project_code", "head_citizen_id", "head_name", "members",
                     "monthly_income", "loan_amount", "moved_in_date")

FILE = "housing/baan_mankong.sqlite"


def _sizes(rng: np.random.Generator, n: int, total: int) -> np.ndarray:
    """`n` project sizes summing to `total`, skewed like real projects (10 to 600 households)."""
    if n == 0:
        return np.zeros(0, dtype=int)
    raw = rng.lognormal(0, 0.6, n)
    for _ in range(20):
        sizes = np.clip(raw / raw.sum() * total, 10, 600)
        raw = sizes
    sizes = np.floor(sizes).astype(int)
    sizes[np.argmax(sizes)] += total - sizes.sum()
    return np.maximum(sizes, 1)


def build(areas: Areas, plan: Plan, seed: int) -> tuple[Table, Table, list[dict]]:
    """The two tables with their defects, and the projects as they were before the defects
    (loans refer to the housing cooperatives' projects)."""
    rng = rng_for(seed, "housing")
    move_ins = {**OTHER_MOVE_INS, **{y: round(v) for y, v in noisy(rng, K2_TARGETS).items()}}
    acts = plan.activities["housing"]
    start = plan.start_year

    projects: list[dict] = []
    for i, (code, approved_fy) in enumerate(acts):
        s = start.get(code)
        # Cancelling a project never moves a tambon's first K1 year: only later or lone projects.
        can_cancel = s is None or approved_fy > s
        projects.append(dict(_code=code, _fy=approved_fy,
                             _cancelled=bool(can_cancel and rng.random() < 0.10),
                             _lag=int(rng.choice((1, 2, 3), p=(0.5, 0.35, 0.15)))))
    for p in projects:
        completion = p["_fy"] + p["_lag"]
        while completion < min(move_ins) and not p["_cancelled"]:
            completion += 1
        p["_done_fy"] = completion

    # Sizes: the moved-in households of the projects completed in a year add up to its target.
    for year, total in sorted(move_ins.items()):
        group = [p for p in projects if not p["_cancelled"] and p["_done_fy"] == year]
        for p, size in zip(group, _sizes(rng, len(group), total)):
            p["_moved"] = int(size)
    for p in projects:
        if p["_cancelled"]:
            p["_moved"], p["_planned"] = 0, int(rng.integers(15, 120))
        elif "_moved" in p:                       # completed: a few units still empty
            p["_planned"] = p["_moved"] + int(rng.binomial(p["_moved"], 0.04))
        else:                                     # still building at the export date
            p["_moved"], p["_planned"] = 0, int(np.clip(rng.lognormal(3.2, 0.5), 12, 300))

    # Codes in order of approval, numbered within the approval year.
    for p in projects:
        p["_approved"] = random_day_in_fy(rng, p["_fy"])
    projects.sort(key=lambda p: (p["_approved"], p["_code"]))
    numbers: dict[int, int] = {}
    rows: list[dict] = []
    households: list[dict] = []
    serial = 0
    for p in projects:
        a = areas.by_code[p["_code"]]
        numbers[p["_fy"]] = numbers.get(p["_fy"], 0) + 1
        project_code = f"BM-{p['_fy']}-{numbers[p['_fy']]:04d}"
        urban = a.province_code in URBAN_PROVINCES
        community = community_name(rng, urban, a.name_th)
        stage = " ระยะที่ 2" if rng.random() < 0.08 else ""
        tenure = TENURE[int(rng.choice(len(TENURE), p=TENURE_P))]
        planned = p["_planned"]
        if p["_cancelled"]:
            status = "ยกเลิก"
        elif p["_moved"]:
            status = "แล้วเสร็จ"
        else:
            status = "อนุมัติ" if p["_fy"] >= 2560 else "กำลังดำเนินการ"
        per_unit_loan = int(rng.integers(150, 320)) * 1000
        updated = datetime.combine(random_day(rng, max(p["_approved"], fy_start(p["_done_fy"]))
                                              if p["_done_fy"] <= 2560 else p["_approved"], CUTOFF),
                                   time(int(rng.integers(8, 18)), int(rng.integers(60)),
                                        int(rng.integers(60))))
        row = dict(project_code=project_code, project_name="โครงการบ้านมั่นคง" + community + stage,
                   community_name=community, province=a.province_th, district=a.district_th,
                   subdistrict=a.name_th, subdistrict_code=a.code,
                   approved_date=be_text(p["_approved"]), households_planned=planned,
                   households_completed=p["_moved"], land_tenure=tenure,
                   infrastructure_budget=planned * int(rng.integers(250, 450)) * 100,
                   housing_loan=0 if tenure == "อื่นๆ" else planned * per_unit_loan,
                   status=status, updated_at=iso_ts(updated),
                   _date=p["_approved"], _cancelled=p["_cancelled"], _updated=updated)
        rows.append(row)
        if p["_cancelled"]:
            continue
        moved = np.zeros(planned, dtype=bool)
        moved[: p["_moved"]] = True
        rng.shuffle(moved)
        bodies = scrambled_bodies(np.full(planned, (1 if rng.random() < 0.2 else 3) * 100
                                          + int(a.province_code)),
                                  np.arange(serial, serial + planned), 271_828_182)
        ids = citizen_ids(bodies)
        fy = p["_done_fy"]
        lo = max(fy_start(fy), p["_approved"] + timedelta(days=60)) if moved.any() else None
        hi = min(fy_end(fy), CUTOFF)
        offsets = rng.integers(0, max((hi - lo).days, 0) + 1, planned) if lo else None
        income = np.clip(rng.lognormal(9.35, 0.45, planned), 3000, 60000).astype(int) // 10 * 10
        size = 1 + rng.poisson(2.6, planned)
        loan = (per_unit_loan * rng.uniform(0.8, 1.1, planned)).astype(int) // 1000 * 1000
        names = person_names(rng, planned)
        for k in range(planned):
            serial += 1
            moved_in = lo + timedelta(days=int(offsets[k])) if moved[k] else None
            households.append(dict(
                household_id=f"HH{serial:07d}", project_code=project_code,
                head_citizen_id=str(ids[k]), head_name=names[k], members=int(size[k]),
                monthly_income=int(income[k]),
                loan_amount=int(loan[k]) if row["housing_loan"] else 0,
                moved_in_date=be_text(moved_in) if moved_in else None, _date=moved_in))

    clean = [dict(r) for r in rows]
    t_projects = Table("housing", "projects", FILE, ("project_code",), rows,
                       rng_for(seed, "housing", "projects", "defects"), first_row=1)
    t_households = Table("housing", "households", FILE, ("household_id",), households,
                         rng_for(seed, "housing", "households", "defects"), first_row=1)
    _project_defects(t_projects, areas)
    _household_defects(t_households, {r["project_code"] for r in rows})
    return t_projects, t_households, clean


def _project_defects(t: Table, areas: Areas) -> None:
    rng = t.rng
    # Quarantining a project would orphan its households: quarantine only cancelled projects.
    cancelled = lambda r: r["_cancelled"]  # noqa: E731

    d.date_defects(t, "approved_date", "_date", where_quarantine=cancelled)
    d.thousands(t, ("infrastructure_budget", "housing_loan"))
    d.thai_number(t, ("households_planned", "infrastructure_budget"))

    def prefix(row):
        level = ("province", "district", "subdistrict")[int(rng.integers(3))]
        text = areas.prefixed(rng, row["subdistrict_code"], level)
        if text is None:
            return None
        real = getattr(areas.by_code[row["subdistrict_code"]],
                       {"province": "province_th", "district": "district_th", "subdistrict": "name_th"}[level])
        row[level] = text
        return level, real
    t.inject("name_prefix", d.n_repair(t), prefix)

    def missing(row):
        code = row["subdistrict_code"]
        if not areas.resolves(code, row["subdistrict"], row["district"], row["province"]):
            return None
        row["subdistrict_code"] = None
        return "subdistrict_code", code
    t.inject("missing_area_code", d.n_repair(t), missing)
    d.abolished_codes(t, areas)

    def misspelt(row):
        text = areas.misspelt(rng, row["subdistrict_code"])
        if text is None:
            return None
        row["subdistrict"], row["subdistrict_code"] = text, None
        return "subdistrict", ""
    t.inject("misspelt_area_name", d.n_quarantine(t), misspelt, cancelled)
    d.unknown_codes(t, areas, where=cancelled)
    d.negative(t, ("infrastructure_budget",), where=cancelled)

    def impossible(row):
        row["households_completed"] = row["households_planned"] + int(rng.integers(1, 40))
        return "households_completed", ""
    t.inject("impossible_amount", d.n_quarantine(t), impossible, cancelled)

    def older(row):
        # The version before the last update: earlier timestamp, an earlier status and count.
        earlier = row["_updated"] - timedelta(days=int(rng.integers(20, 400)))
        row["updated_at"] = iso_ts(max(earlier, datetime.combine(row["_date"], time(9, 0))))
        if row["status"] == "แล้วเสร็จ":
            row["status"] = "กำลังดำเนินการ"
            row["households_completed"] = int(row["households_completed"] * rng.uniform(0.3, 0.9))
        else:
            row["households_planned"] = row["households_planned"] + int(rng.integers(1, 20))
        return row
    d.duplicates(t, older)


def _household_defects(t: Table, project_codes: set[str]) -> None:
    rng = t.rng
    d.date_defects(t, "moved_in_date", "_date")
    d.thousands(t, ("monthly_income", "loan_amount"))
    d.thai_number(t, ("monthly_income", "members"))

    def bad_id(row):
        row["head_citizen_id"] = break_checksum(row["head_citizen_id"])
        return "head_citizen_id", ""
    t.inject("invalid_citizen_id", d.n_quarantine(t), bad_id)

    def orphan(row):
        for _ in range(20):
            code = f"BM-{int(rng.integers(2550, 2561))}-{int(rng.integers(7000, 9999)):04d}"
            if code not in project_codes:
                row["project_code"] = code
                return "project_code", ""
        return None
    t.inject("orphan_reference", d.n_quarantine(t), orphan)
    d.negative(t, ("monthly_income",))

    def older(row):
        row["members"] = max(1, row["members"] + int(rng.choice((-2, -1, 1, 2))))
        row["monthly_income"] = int(row["monthly_income"] * rng.uniform(0.7, 0.95)) // 10 * 10
        return row
    d.duplicates(t, older)


def write(path: Path, projects: list[dict], households: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        # NUMERIC and INTEGER affinities keep typed numbers as numbers and text ("1,250,000",
        # Thai digits) as the text staff typed; no primary key, as the duplicates show.
        con.execute("CREATE TABLE projects (project_code TEXT, project_name TEXT, community_name TEXT,"
                    " province TEXT, district TEXT, subdistrict TEXT, subdistrict_code TEXT,"
                    " approved_date TEXT, households_planned INTEGER, households_completed INTEGER,"
                    " land_tenure TEXT, infrastructure_budget NUMERIC, housing_loan NUMERIC,"
                    " status TEXT, updated_at TEXT)")
        con.execute("CREATE TABLE households (household_id TEXT, project_code TEXT,"
                    " head_citizen_id TEXT, head_name TEXT, members INTEGER, monthly_income NUMERIC,"
                    " loan_amount NUMERIC, moved_in_date TEXT)")
        con.executemany(f"INSERT INTO projects VALUES ({','.join('?' * len(PROJECT_COLUMNS))})",
                        [tuple(r[c] for c in PROJECT_COLUMNS) for r in projects])
        con.executemany(f"INSERT INTO households VALUES ({','.join('?' * len(HOUSEHOLD_COLUMNS))})",
                        [tuple(r[c] for c in HOUSEHOLD_COLUMNS) for r in households])
        con.commit()
    finally:
        con.close()
