"""welfare/funds_FY<BE>.xlsx: community welfare funds, one workbook per fiscal year, one sheet per
region, as the regional offices send them in (a title, a blank row, the Thai header, the funds,
and a `รวม` total row).

A fund's figures hang together: members grow from the year it was founded to the export; members
pay one baht a day, the government and the local administration add to it, benefits scale with
members, and the balance carries over: balance = last year's balance + contributions - benefits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from . import defects as d
from . import xlsx
from .areas import REGION_SHEET, Area, Areas
from .common import FISCAL_YEARS, Table, be_text, count, random_day_in_fy, rng_for
from .plan import Plan

NATIONAL_MEMBERS = 6_000_000

HEADERS = ("รหัสกองทุน", "ชื่อกองทุน", "ตำบล", "อำเภอ", "จังหวัด", "วันที่จัดตั้ง", "จำนวนสมาชิก",
           "เงินกองทุนคงเหลือ", "เงินสมทบจากสมาชิก", "เงินสมทบจากรัฐบาล", "เงินสมทบจากอปท.",
           "สวัสดิการเกิด", "สวัสดิการเจ็บป่วย", "สวัสดิการผู้สูงอายุ", "สวัสดิการเสียชีวิต",
           "สวัสดิการการศึกษา", "สวัสดิการภัยพิบัติ", "สวัสดิการอื่นๆ")
COLUMNS = ("fund_code", "fund_name", "subdistrict_name", "district_name", "province_name",
           "established_date", "members", "fund_balance", "contrib_members", "contrib_government",
           "contrib_local_gov", "benefit_birth", "benefit_sickness", "benefit_elderly",
           "benefit_death", "benefit_education", "benefit_disaster", "benefit_other")
AMOUNTS = COLUMNS[7:]
BENEFIT_SHARES = {"benefit_birth": 0.04, "benefit_sickness": 0.30, "benefit_elderly": 0.22,
                  "benefit_death": 0.28, "benefit_education": 0.07, "benefit_disaster": 0.03,
                  "benefit_other": 0.06}


@dataclass
class Fund:
    index: int
    code: str
    area: Area
    established: date
    first_fy: int
    members: dict[int, int] = field(default_factory=dict)        # joined by the end of each FY
    figures: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def final_members(self) -> int:
        return self.members[max(self.members)]


def make_funds(areas: Areas, plan: Plan, seed: int) -> list[Fund]:
    rng = rng_for(seed, "welfare", "funds")
    acts = sorted(plan.activities["welfare"], key=lambda a: (a[1], a[0]))
    funds: list[Fund] = []
    for i, (code, fy) in enumerate(acts):
        funds.append(Fund(i, f"WF{i + 1:05d}", areas.by_code[code], random_day_in_fy(rng, fy), fy))
    # Size at the export: older funds are bigger; scaled to the national total.
    age = np.array([2561 - f.first_fy for f in funds], dtype=float)
    size = rng.lognormal(6.6, 0.55, len(funds)) * (0.35 + 0.65 * np.minimum(1, age / 8))
    size = np.maximum(40, np.round(size / size.sum() * NATIONAL_MEMBERS)).astype(int)
    for f, final in zip(funds, size):
        span = 2560 - f.first_fy + 1
        founding = min(final, int(rng.integers(30, 120)))
        for k, fy in enumerate(range(f.first_fy, 2561)):
            share = ((k + 1) / span) ** 0.6
            f.members[fy] = int(max(founding, round(final * share)))
        _figures(rng, f)
    return funds


def _figures(rng: np.random.Generator, f: Fund) -> None:
    balance = 0
    previous = 0
    local_share = 0.0 if rng.random() < 0.2 else rng.uniform(0.1, 0.5)
    for fy in sorted(f.members):
        members = f.members[fy]
        average = (previous + members) / 2 if previous else members / 2
        contrib_members = int(average * 365 * rng.uniform(0.85, 1.02))
        gov = rng.uniform(0.6, 1.0) if fy <= 2557 else rng.uniform(0.2, 0.5)
        contrib_government = int(contrib_members * gov)
        contrib_local = int(contrib_members * local_share)
        pot = (contrib_members + contrib_government + contrib_local) * rng.uniform(0.45, 0.75)
        benefits = {k: int(pot * share * rng.uniform(0.7, 1.3)) for k, share in BENEFIT_SHARES.items()}
        if rng.random() < 0.7:
            benefits["benefit_disaster"] = 0
        balance += contrib_members + contrib_government + contrib_local - sum(benefits.values())
        f.figures[fy] = dict(members=members, fund_balance=balance, contrib_members=contrib_members,
                             contrib_government=contrib_government, contrib_local_gov=contrib_local,
                             **benefits)
        previous = members


def _fund_name(f: Fund) -> str:
    if f.area.province_code == "10":
        return "กองทุนสวัสดิการชุมชนแขวง" + f.area.name_th
    if f.index % 17 == 0:
        return "กองทุนสวัสดิการชุมชนเทศบาลตำบล" + f.area.name_th
    return "กองทุนสวัสดิการชุมชนตำบล" + f.area.name_th


def sheet_file(fy: int, region: str) -> str:
    return f"welfare/funds_FY{fy}.xlsx[{REGION_SHEET[region]}]"


def build(areas: Areas, funds: list[Fund], seed: int) -> dict[int, dict[str, Table]]:
    """Per fiscal year, per region: the sheet's rows (the total row last) with their defects."""
    out: dict[int, dict[str, Table]] = {}
    for fy in FISCAL_YEARS:
        rng = rng_for(seed, "welfare", "sheet", fy)
        out[fy] = {}
        for region in REGION_SHEET:
            present = sorted((f for f in funds if f.first_fy <= fy and f.area.region == region),
                             key=lambda f: (f.area.code, f.code))
            rows = []
            for f in present:
                a = f.area
                established = f.established if rng.random() < 0.85 else be_text(f.established)
                rows.append(dict(fund_code=f.code, fund_name=_fund_name(f), subdistrict_name=a.name_th,
                                 district_name=a.district_th, province_name=a.province_th,
                                 established_date=established, **f.figures[fy],
                                 _date=f.established, _code=a.code, _later=fy > f.first_fy))
            t = Table("welfare", "funds", sheet_file(fy, region), ("fund_code",), rows,
                      rng_for(seed, "welfare", "defects", fy, region), first_row=4)
            _defects(t, areas)
            total = {c: "" for c in COLUMNS}
            total["fund_code"] = "รวม"
            for c in ("members",) + AMOUNTS:
                total[c] = sum(f.figures[fy][c] for f in present)
            t.mark(t._insert(total, 1e12), "total_row", "fund_code")
            out[fy][region] = t
    return out


def _defects(t: Table, areas: Areas) -> None:
    rng = t.rng
    # A fund's first workbook row dates its founding (indicator K1): quarantine later rows only.
    later = lambda r: r["_later"]  # noqa: E731
    d.date_defects(t, "established_date", "_date", where_quarantine=later)
    d.thousands(t, AMOUNTS)
    d.thai_number(t, ("members",) + AMOUNTS)

    def prefix(row):
        level = ("province", "district", "subdistrict")[int(rng.integers(3))]
        text = areas.prefixed(rng, row["_code"], level)
        if text is None:
            return None
        column = f"{level}_name"
        real = row[column]
        row[column] = text
        return column, real
    t.inject("name_prefix", d.n_repair(t), prefix)

    def misspelt(row):
        text = areas.misspelt(rng, row["_code"])
        if text is None:
            return None
        row["subdistrict_name"] = text
        return "subdistrict_name", ""
    t.inject("misspelt_area_name", d.n_quarantine(t), misspelt, later)
    d.negative(t, ("fund_balance",), where=later)

    def impossible(row):
        if row["fund_balance"] <= 0:
            return None
        row["members"] = 0
        return "members", ""
    t.inject("impossible_amount", d.n_quarantine(t), impossible, later)

    def older(row):
        row["members"] = int(row["members"] * rng.uniform(0.8, 0.97))
        row["fund_balance"] = int(row["fund_balance"] * rng.uniform(0.85, 0.98))
        return row
    t.exact_duplicates(count(rng, len(t), d.DUPLICATE_RATE))
    t.conflicting_duplicates(count(rng, len(t), d.DUPLICATE_RATE), older, later)


def write(sources: Path, sheets: dict[int, dict[str, Table]]) -> dict[int, dict[str, tuple]]:
    """Writes the workbooks; returns the finished rows and defects per year and region."""
    finished: dict[int, dict[str, tuple]] = {}
    for fy, regions in sheets.items():
        finished[fy] = {}
        content = []
        for region, t in regions.items():
            rows, defects = t.finish()
            finished[fy][region] = (rows, defects)
            title = f"ข้อมูลกองทุนสวัสดิการชุมชน ปีงบประมาณ {fy} {REGION_SHEET[region]}"
            content.append((REGION_SHEET[region],
                            [[title], [], list(HEADERS)] + [[r[c] for c in COLUMNS] for r in rows]))
        xlsx.write_workbook(sources / "welfare" / f"funds_FY{fy}.xlsx", content,
                            creator="CODI welfare fund office")
    return finished
