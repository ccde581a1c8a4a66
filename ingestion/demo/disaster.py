"""disaster/events.ndjson: events reported from the field app, one JSON object a line. The point
is always there; the subdistrict code often is not (the reporter was away from a signal, or the
app's list was out of date). Hazards follow the seasons: floods August-November, droughts
February-May, forest fires in the dry north, cold spells in the north and northeast."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np

from . import defects as d
from .areas import Areas
from .common import CUTOFF, Table, count, iso_ts, random_day_in_fy, rng_for
from .plan import Plan

FILE = "disaster/events.ndjson"
COLUMNS = ("event_id", "hazard", "started_at", "ended_at", "lat", "lon", "subdistrict_code",
           "affected_households", "damaged_houses", "community_plan", "early_warning",
           "relief_budget")
SEASON = {"flood": (8, 9, 10, 11), "drought": (2, 3, 4, 5), "storm": (4, 5, 6, 7, 8, 9, 10),
          "landslide": (8, 9, 10, 11, 12, 1), "fire": (1, 2, 3, 4), "cold_spell": (12, 1, 2),
          "tsunami": tuple(range(1, 13))}
DAYS = {"flood": (4, 60), "drought": (30, 120), "storm": (1, 3), "landslide": (1, 3),
        "fire": (1, 10), "cold_spell": (7, 40), "tsunami": (1, 2)}
# Hazard weights by region (the 4-region grouping).
HAZARDS = {"N": {"flood": 0.35, "drought": 0.15, "storm": 0.12, "landslide": 0.12, "fire": 0.16,
                 "cold_spell": 0.10},
           "NE": {"flood": 0.35, "drought": 0.35, "storm": 0.15, "fire": 0.03, "cold_spell": 0.12},
           "C": {"flood": 0.60, "drought": 0.20, "storm": 0.17, "fire": 0.03},
           "S": {"flood": 0.55, "drought": 0.08, "storm": 0.22, "landslide": 0.14}}
ANDAMAN = frozenset("81 82 83 85 91 92".split())
EXTRA_EVENTS = 4_000          # events in communities without a plan (not K1 activity)
MISSING_CODE_SHARE = 0.25


def _hazard(rng: np.random.Generator, code: str, region: str) -> str:
    if code[:2] in ANDAMAN and rng.random() < 0.01:
        return "tsunami"
    weights = HAZARDS[region]
    names = list(weights)
    p = np.array([weights[h] for h in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def build(areas: Areas, plan: Plan, seed: int) -> Table:
    rng = rng_for(seed, "disaster")
    with_polygon = [c for c in areas.codes if areas.has_polygon(c)]
    events = [(code, fy, True) for code, fy in plan.activities["disaster"]]
    for _ in range(EXTRA_EVENTS):
        code = with_polygon[int(rng.integers(len(with_polygon)))]
        events.append((code, int(rng.integers(2551, 2561)), False))
    draft = []
    for code, fy, planned in events:
        a = areas.by_code[code]
        hazard = _hazard(rng, code, a.region)
        day = random_day_in_fy(rng, fy, SEASON[hazard])
        start = datetime.combine(day, time(int(rng.integers(6, 19)), int(rng.integers(60))))
        lo, hi = DAYS[hazard]
        end = start + timedelta(days=int(rng.integers(lo, hi + 1)), hours=int(rng.integers(0, 5)))
        # Events still going on at the export were closed off on its last day.
        end = max(min(end, datetime.combine(CUTOFF, time(17, 0))), start + timedelta(hours=2))
        draft.append((start, code, hazard, end, planned))
    draft.sort()
    rows, numbers = [], {}
    for start, code, hazard, end, planned in draft:
        fy = start.year + 543 + (start.month >= 10)
        numbers[fy] = numbers.get(fy, 0) + 1
        (lon, lat), = areas.points_in(rng, code)
        affected = int(np.clip(rng.lognormal(4.2, 1.1), 3, 20000))
        rows.append(dict(event_id=f"DS-{fy}-{numbers[fy]:05d}", hazard=hazard,
                         started_at=iso_ts(start), ended_at=iso_ts(end), lat=lat, lon=lon,
                         subdistrict_code=code, affected_households=affected,
                         damaged_houses=int(affected * rng.uniform(0, 0.4)),
                         community_plan=planned,
                         early_warning=bool(rng.random() < (0.7 if planned else 0.25)),
                         relief_budget=affected * int(rng.integers(5, 30)) * 100,
                         _free=not planned))
    t = Table("disaster", "events", FILE, ("event_id",), rows, rng_for(seed, "disaster", "defects"),
              first_row=1)
    _defects(t, areas)
    return t


def _defects(t: Table, areas: Areas) -> None:
    rng = t.rng
    free = lambda r: r["_free"]  # noqa: E731  (losing it changes no K1 year)

    def missing(row):
        code = row["subdistrict_code"]
        row["subdistrict_code"] = None if rng.random() < 0.5 else ...  # ... = key left out
        return "subdistrict_code", code
    t.inject("missing_area_code_point", count(rng, len(t), MISSING_CODE_SHARE), missing)

    def swapped(row):
        row["lat"], row["lon"] = row["lon"], row["lat"]
        return "lat", repr(row["lon"])
    t.inject("swapped_lat_lon", d.n_repair(t), swapped)
    d.abolished_codes(t, areas)
    d.unknown_codes(t, areas, where=free)

    def outside(row):
        row["lon"], row["lat"] = areas.outside_point(rng)
        row["subdistrict_code"] = ...
        return "lat", ""
    t.inject("point_outside_thailand", d.n_quarantine(t), outside, free)
    d.negative(t, ("relief_budget",), where=free)

    def bad_date(row):
        s = row["started_at"]
        options = (s[:5] + "13" + s[7:], s[:8] + "32" + s[10:], s[:10], "เมื่อวาน 14:00")
        row["started_at"] = options[int(rng.integers(len(options)))]
        if row["started_at"] == s[:10]:
            row["started_at"] = s[:5] + "00" + s[7:]
        return "started_at", ""
    t.inject("unparseable_date", d.n_quarantine(t), bad_date, free)

    def malformed(row):
        row["_malformed"] = int(rng.integers(3))
        return "", ""
    t.inject("malformed_json", d.n_quarantine(t), malformed, free)

    def older(row):
        row["affected_households"] = max(1, int(row["affected_households"] * rng.uniform(0.3, 0.8)))
        row["damaged_houses"] = min(row["damaged_houses"], row["affected_households"])
        row["relief_budget"] = 0
        return row
    d.duplicates(t, older)


def line(row: dict, malformed: int | None = None) -> str:
    obj = {c: row[c] for c in COLUMNS if row.get(c, ...) is not ...}
    text = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    if malformed is None:
        return text
    if malformed == 0:
        return text[: len(text) * 2 // 3]                                  # cut off mid-send
    if malformed == 1:
        return text.replace('"', "'")                                       # Python repr quotes
    return text.replace(", \"hazard\"", " \"hazard\"")                    # a lost comma


def write(path: Path, rows: list[dict], malformed: dict[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for i, row in enumerate(rows):
            fh.write(line(row, malformed.get(i)) + "\n")
