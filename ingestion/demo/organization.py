"""organization/: community councils and planning records, CSV in UTF-8 with a BOM and CRLF (saved
from Excel). Generated to the plan's indicators K3-K10 with their counting rules (DESIGN 6)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from . import defects as d
from .areas import Areas
from .common import Table, be_text, noisy, random_day_in_fy, rng_for, thai_digits

COLUMNS = {
    "councils": ("council_code", "subdistrict_code", "registered_date", "status"),
    "council_assessments": ("council_code", "fiscal_year", "score", "quality_passed"),
    "tambon_plans": ("subdistrict_code", "fiscal_year", "has_self_analysis_data",
                     "has_development_plan", "plan_linked_to_province"),
    "province_reports": ("province_code", "fiscal_year", "has_status_assessment",
                         "has_plan_linkage", "has_development_report"),
    "leader_training": ("training_code", "fiscal_year", "subdistrict_code", "new_leaders",
                        "total_participants"),
    "joint_areas": ("area_code", "fiscal_year", "has_joint_system", "integrated_plan_or_budget",
                    "public_policy_driven", "concrete_outcome"),
}
KEYS = {"councils": ("council_code",), "council_assessments": ("council_code", "fiscal_year"),
        "tambon_plans": ("subdistrict_code", "fiscal_year"),
        "province_reports": ("province_code", "fiscal_year"), "leader_training": ("training_code",),
        "joint_areas": ("area_code", "fiscal_year")}

K3_TARGETS = {2555: 1500, 2556: 2500, 2557: 3500, 2558: 4500, 2559: 5500}
K4_TARGETS = {2555: 22, 2556: 50, 2557: 77}
K6_TARGETS = {2555: 11, 2556: 50, 2557: 77}
K7_BY_2554 = 2767
K7_TARGETS = {2555: 3267, 2556: 3767, 2557: 4267, 2558: 5267, 2559: 6267}
K8_TARGETS = {2555: 50, 2556: 60, 2557: 70, 2558: 70, 2559: 70}
K9_TARGETS = {y: 10000 for y in range(2555, 2560)}
K10_TARGETS = {2555: 10, 2556: 20, 2557: 30, 2558: 40, 2559: 50}
UNKNOWN_PROVINCES = ("29", "59", "68", "69", "78", "79", "87", "88", "89", "97", "98", "99")


def _yn(flag: bool, rng: np.random.Generator, variants: float = 0.0) -> str:
    """Y/N, with a few rows in Thai (มี/ไม่มี) where another office typed the sheet."""
    if variants and rng.random() < variants:
        return "มี" if flag else "ไม่มี"
    return "Y" if flag else "N"


def _table(name: str, rows: list[dict], seed: int) -> Table:
    return Table("organization", name, f"organization/{name}.csv", KEYS[name], rows,
                 rng_for(seed, "organization", name, "defects"), first_row=2)


def build(areas: Areas, seed: int) -> dict[str, Table]:
    rng = rng_for(seed, "organization")
    tables = {}
    tables["councils"], tables["council_assessments"] = _councils(areas, rng, seed)
    tables["tambon_plans"] = _tambon_plans(areas, rng, seed)
    tables["province_reports"] = _province_reports(areas, rng, seed)
    tables["leader_training"] = _leader_training(areas, rng, seed)
    tables["joint_areas"] = _joint_areas(areas, rng, seed)
    return tables


def _councils(areas: Areas, rng: np.random.Generator, seed: int) -> tuple[Table, Table]:
    cumulative = {2551: 500, 2552: 1400, 2553: 2200, 2554: K7_BY_2554,
                  **{y: round(v) for y, v in noisy(rng, K7_TARGETS, monotonic=True).items()}}
    cumulative[2560] = cumulative[2559] + 420
    order = [areas.codes[int(i)] for i in rng.permutation(len(areas.codes))]
    draft, previous = [], 0
    for fy in sorted(cumulative):
        for code in order[previous:cumulative[fy]]:
            draft.append((random_day_in_fy(rng, fy), code, fy))
        previous = cumulative[fy]
    draft.sort()
    councils = []
    for i, (registered, code, fy) in enumerate(draft):
        status = "ยุติการดำเนินงาน" if fy <= 2555 and rng.random() < 0.04 else "ดำเนินการ"
        councils.append(dict(council_code=f"CC{i + 1:05d}", subdistrict_code=code,
                             registered_date=be_text(registered), status=status,
                             _date=registered, _fy=fy))
    # Assessed from the year after registration; the best pass, so that passes over all
    # registered councils of the year meet the K8 share.
    quality = {c["council_code"]: rng.normal(0, 1) for c in councils}
    shares = {**noisy(rng, K8_TARGETS, spread=0.07), 2560: 72.0}
    assessments = []
    for fy in range(2555, 2561):
        registered = sum(1 for c in councils if c["_fy"] <= fy)
        pool = [c for c in councils if c["_fy"] < fy]
        latent = np.array([quality[c["council_code"]] + 0.15 * (fy - c["_fy"]) + rng.normal(0, 0.5)
                           for c in pool])
        passes = min(len(pool), round(registered * shares[fy] / 100))
        threshold = np.sort(latent)[::-1][passes - 1]
        for c, x in zip(pool, latent):
            passed = bool(x >= threshold)
            score = 60 + (x - threshold) * 12 if passed else 59 - (threshold - x) * 12
            assessments.append(dict(council_code=c["council_code"], fiscal_year=fy,
                                    score=int(np.clip(round(score), 60 if passed else 20,
                                                      99 if passed else 59)),
                                    quality_passed="Y" if passed else "N"))
    t_councils = _table("councils", councils, seed)
    t_assess = _table("council_assessments", assessments, seed)

    # A council registered in FY2560 has no assessment yet and counts in no plan year (K7):
    # the only ones quarantined.
    late = lambda r: r["_fy"] == 2560  # noqa: E731
    d.date_defects(t_councils, "registered_date", "_date", where_quarantine=late)
    d.abolished_codes(t_councils, areas)
    d.unknown_codes(t_councils, areas, where=late)

    def older_council(row):
        row["status"] = "รอจดแจ้ง"
        return row
    d.duplicates(t_councils, older_council)

    t = t_assess
    codes = {c["council_code"] for c in councils}
    failed = lambda r: r["quality_passed"] == "N"  # noqa: E731  (K8 counts passes only)

    def orphan(row):
        code = f"CC9{int(t.rng.integers(0, 10000)):04d}"
        if code in codes:
            return None
        row["council_code"] = code
        return "council_code", ""
    t.inject("orphan_reference", d.n_quarantine(t), orphan, failed)
    d.thai_number(t, ("score",))

    def impossible(row):
        row["score"] = row["score"] * 10 + int(t.rng.integers(0, 10))   # a slipped decimal point
        return "score", ""
    t.inject("impossible_amount", d.n_quarantine(t), impossible, failed)

    def older_assessment(row):
        row["score"] = max(0, row["score"] - int(t.rng.integers(5, 20)))
        row["quality_passed"] = "Y" if row["score"] >= 60 else "N"
        return row
    d.duplicates(t, older_assessment)
    return t_councils, t_assess


def _year_defects(t: Table, column: str = "fiscal_year") -> None:
    """Fiscal years typed in Thai digits or in the Christian Era."""
    def thai(row):
        year = row[column]
        row[column] = thai_digits(str(year))
        return column, str(year)
    t.inject("thai_digits", d.n_repair(t), thai)

    def ce(row):
        year = row[column]
        row[column] = year - 543
        return column, str(year)
    t.inject("ce_year_in_be_date", d.n_repair(t), ce)


def _tambon_plans(areas: Areas, rng: np.random.Generator, seed: int) -> Table:
    cumulative = {2554: 600, **{y: round(v) for y, v in noisy(rng, K3_TARGETS, monotonic=True).items()}}
    cumulative[2560] = cumulative[2559] + 400
    order = [areas.codes[int(i)] for i in rng.permutation(len(areas.codes))]
    first: dict[str, int] = {}
    previous = 0
    for fy in sorted(cumulative):
        for code in order[previous:cumulative[fy]]:
            first[code] = fy
        previous = cumulative[fy]
    rows = []
    for code in sorted(areas.codes):
        f = first.get(code)
        if f is None:
            if rng.random() < 0.4:
                begin = int(rng.integers(2554, 2561))
                for fy in range(begin, min(2561, begin + int(rng.integers(1, 4)))):
                    self_data = rng.random() < 0.5
                    rows.append(dict(subdistrict_code=code, fiscal_year=fy,
                                     has_self_analysis_data=_yn(self_data, rng, 0.03),
                                     has_development_plan=_yn(not self_data and rng.random() < 0.5, rng),
                                     plan_linked_to_province="N", _neutral=True))
            continue
        for fy in range(max(2554, f - int(rng.integers(0, 3))), 2561):
            both = fy >= f
            rows.append(dict(subdistrict_code=code, fiscal_year=fy,
                             has_self_analysis_data=_yn(True, rng, 0.03),
                             has_development_plan=_yn(both, rng, 0.03),
                             plan_linked_to_province=_yn(both and rng.random() < 0.3 + 0.12 * (fy - f), rng),
                             _neutral=fy > f or not both))
    rows.sort(key=lambda r: (r["fiscal_year"], r["subdistrict_code"]))
    t = _table("tambon_plans", rows, seed)
    neutral = lambda r: r["_neutral"]  # noqa: E731
    d.abolished_codes(t, areas)
    d.unknown_codes(t, areas, where=neutral)
    _year_defects(t)

    def older(row):
        row["has_development_plan"] = "N"
        row["plan_linked_to_province"] = "N"
        return row
    d.duplicates(t, older, where_conflict=lambda r: r["has_development_plan"] == "Y")
    return t


def _province_reports(areas: Areas, rng: np.random.Generator, seed: int) -> Table:
    provinces = areas.province_codes

    def first_years(targets: dict[int, int]) -> dict[str, int]:
        goal = noisy(rng, {y: v for y, v in targets.items() if v < 77}, spread=0.1)
        goal = {y: min(76, round(v)) for y, v in goal.items()}
        goal[max(targets)] = 77
        order = [provinces[int(i)] for i in rng.permutation(len(provinces))]
        out, previous = {}, 0
        for fy in sorted(goal):
            for p in order[previous:goal[fy]]:
                out[p] = fy
            previous = max(previous, goal[fy])
        return out

    status, linkage, report = first_years(K4_TARGETS), first_years(K4_TARGETS), first_years(K6_TARGETS)
    rows = [dict(province_code=p, fiscal_year=fy, has_status_assessment=_yn(fy >= status[p], rng),
                 has_plan_linkage=_yn(fy >= linkage[p], rng),
                 has_development_report=_yn(fy >= report[p], rng), _neutral=fy >= 2558)
            for fy in range(2555, 2561) for p in provinces]
    t = _table("province_reports", rows, seed)

    def unknown(row):
        row["province_code"] = UNKNOWN_PROVINCES[int(t.rng.integers(len(UNKNOWN_PROVINCES)))]
        return "province_code", ""
    t.inject("unknown_area_code", 2, unknown, lambda r: r["_neutral"])
    _year_defects(t)
    t.exact_duplicates(2)

    def older(row):
        row["has_development_report"] = "N"
        return row
    t.conflicting_duplicates(2, older, lambda r: r["_neutral"])
    return t


def _leader_training(areas: Areas, rng: np.random.Generator, seed: int) -> Table:
    goals = {2554: 8000.0, **noisy(rng, K9_TARGETS), 2560: 10500.0}
    rows = []
    for fy, goal in sorted(goals.items()):
        n = int(goal / 26)
        weights = rng.gamma(4, 1, n)
        new = np.maximum(1, np.round(weights / weights.sum() * goal)).astype(int)
        days = sorted(random_day_in_fy(rng, fy) for _ in range(n))
        for k, (leaders, day) in enumerate(zip(new, days)):
            code = areas.codes[int(rng.integers(len(areas.codes)))]
            rows.append(dict(training_code=f"LT{fy}-{k + 1:04d}", fiscal_year=fy,
                             subdistrict_code=code, new_leaders=int(leaders),
                             total_participants=int(leaders + rng.integers(0, max(2, leaders)))))
    t = _table("leader_training", rows, seed)
    d.abolished_codes(t, areas)
    d.unknown_codes(t, areas)
    d.thai_number(t, ("new_leaders", "total_participants"))
    d.negative(t, ("new_leaders",))

    def impossible(row):
        row["new_leaders"], row["total_participants"] = row["total_participants"] + 5, row["new_leaders"]
        return "new_leaders", ""
    t.inject("impossible_amount", d.n_quarantine(t), impossible)

    def older(row):
        row["new_leaders"] = max(1, row["new_leaders"] - int(t.rng.integers(1, 6)))
        return row
    d.duplicates(t, older)
    return t


def _joint_areas(areas: Areas, rng: np.random.Generator, seed: int) -> Table:
    shares = {**noisy(rng, K10_TARGETS, spread=0.1), 2560: 55.0}
    rows = []
    for fy, share in sorted(shares.items()):
        picked = sorted(areas.codes[int(i)] for i in rng.choice(len(areas.codes), 650, replace=False))
        codes = areas.province_codes + picked
        good = np.zeros(len(codes), dtype=bool)
        good[rng.choice(len(codes), round(len(codes) * share / 100), replace=False)] = True
        for code, ok in zip(codes, good):
            if ok:
                others = rng.random(3) < 0.5
                if not others.any():
                    others[int(rng.integers(3))] = True
                joint = True
            else:
                joint = rng.random() < 0.4
                others = np.zeros(3, dtype=bool) if joint else rng.random(3) < 0.2
            rows.append(dict(area_code=code, fiscal_year=fy, has_joint_system=_yn(joint, rng, 0.02),
                             integrated_plan_or_budget=_yn(bool(others[0]), rng),
                             public_policy_driven=_yn(bool(others[1]), rng),
                             concrete_outcome=_yn(bool(others[2]), rng)))
    t = _table("joint_areas", rows, seed)
    six = lambda r: len(r["area_code"]) == 6  # noqa: E731
    d.abolished_codes(t, areas, column="area_code")
    d.unknown_codes(t, areas, column="area_code", where=six)
    _year_defects(t)

    def older(row):
        row["concrete_outcome"] = "N" if row["concrete_outcome"] == "Y" else "Y"
        return row
    d.duplicates(t, older)
    return t


def write(path: Path, name: str, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(COLUMNS[name])
        writer.writerows([("" if r[c] is None else r[c]) for c in COLUMNS[name]] for r in rows)
