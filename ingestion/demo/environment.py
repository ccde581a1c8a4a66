"""environment/sites.geojson: community-managed natural resource sites, as points or polygons.
Mangroves and coral reefs only on the coast; headwater forests mostly in the north."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from shapely.geometry import Point, Polygon, mapping

from . import defects as d
from .areas import CORAL_PROVINCES, Areas
from .common import Table, count, place_name, rng_for, thai_digits
from .plan import Plan

FILE = "environment/sites.geojson"
PROPERTIES = ("site_code", "kind", "name", "area_rai", "households_involved", "established_year",
              "subdistrict_code")
RAI_M2 = 1600.0
MISSING_CODE_SHARE = 0.10
# kind: (name stem, area in rai (low, high))
KINDS = {"ป่าชุมชน": ("ป่าชุมชนบ้าน", (50, 3000)), "ป่าชายเลน": ("ป่าชายเลนชุมชนบ้าน", (30, 2000)),
         "แหล่งน้ำ": ("แหล่งน้ำหนอง", (5, 300)), "ต้นน้ำ": ("ป่าต้นน้ำห้วย", (200, 5000)),
         "แนวปะการัง": ("แนวปะการังอ่าว", (20, 800)), "พื้นที่ชุ่มน้ำ": ("พื้นที่ชุ่มน้ำบึง", (20, 1500))}


def _kind(rng: np.random.Generator, code: str, coastal: bool, region: str) -> str:
    weights = {"ป่าชุมชน": 0.45, "แหล่งน้ำ": 0.25, "ต้นน้ำ": 0.25 if region == "N" else 0.05,
               "พื้นที่ชุ่มน้ำ": 0.10}
    if coastal:
        weights["ป่าชายเลน"] = 0.6
        if code[:2] in CORAL_PROVINCES:
            weights["แนวปะการัง"] = 0.2
    names = list(weights)
    p = np.array([weights[k] for k in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _disc(lon: float, lat: float, rai: float):
    """A rough 12-sided polygon of `rai` around a point, in degrees."""
    radius_m = math.sqrt(rai * RAI_M2 / math.pi)
    dx = radius_m / (111_320 * math.cos(math.radians(lat)))
    dy = radius_m / 110_574
    ring = [(round(lon + dx * math.cos(a), 6), round(lat + dy * math.sin(a), 6))
            for a in np.linspace(0, 2 * math.pi, 13)[:-1]]
    ring.append(ring[0])
    return Polygon(ring)


def build(areas: Areas, plan: Plan, seed: int) -> Table:
    rng = rng_for(seed, "environment")
    coastal = areas.coastal
    rows = []
    acts = sorted(plan.activities["environment"], key=lambda a: (a[1], a[0]))
    for i, (code, fy) in enumerate(acts):
        a = areas.by_code[code]
        kind = _kind(rng, code, code in coastal, a.region)
        stem, (lo, hi) = KINDS[kind]
        rai = float(int(rng.uniform(lo, hi)))
        (lon, lat), = areas.points_in(rng, code)
        geometry = Point(lon, lat)
        if rng.random() < 0.3:
            for _ in range(6):
                disc = _disc(lon, lat, rai)
                if areas.fits(code, disc):
                    geometry = disc
                    rai = round(_rai(disc), 1)
                    break
                rai = max(1.0, rai / 3)
        s = plan.start_year.get(code)
        rows.append(dict(site_code=f"ENV-{i + 1:05d}", kind=kind,
                         name=stem + place_name(rng),
                         area_rai=rai, households_involved=int(np.clip(rng.lognormal(4.0, 0.8), 5, 3000)),
                         established_year=fy, subdistrict_code=code, _geometry=geometry,
                         _free=s is None or fy > s))
    t = Table("environment", "sites", FILE, ("site_code",), rows,
              rng_for(seed, "environment", "defects"), first_row=1)
    _defects(t, areas)
    return t


def _rai(polygon) -> float:
    lat = polygon.centroid.y
    m2 = polygon.area * 111_320 * math.cos(math.radians(lat)) * 110_574
    return m2 / RAI_M2


def _defects(t: Table, areas: Areas) -> None:
    rng = t.rng
    free = lambda r: r["_free"]  # noqa: E731
    point = lambda r: r["_geometry"].geom_type == "Point"  # noqa: E731

    def missing(row):
        code = row["subdistrict_code"]
        row["subdistrict_code"] = None if rng.random() < 0.5 else ...
        return "subdistrict_code", code
    t.inject("missing_area_code_point", count(rng, len(t), MISSING_CODE_SHARE), missing)

    def swapped(row):
        p = row["_geometry"]
        row["_geometry"] = Point(p.y, p.x)
        return "lat", repr(p.y)
    t.inject("swapped_lat_lon", d.n_repair(t), swapped, point)
    d.abolished_codes(t, areas)
    d.unknown_codes(t, areas, where=free)

    def outside(row):
        row["_geometry"] = Point(*areas.outside_point(rng))
        row["subdistrict_code"] = ...
        return "lat", ""
    t.inject("point_outside_thailand", d.n_quarantine(t), outside, lambda r: free(r) and point(r))

    def ce(row):
        year = row["established_year"]
        row["established_year"] = year - 543
        return "established_year", str(year)
    t.inject("ce_year_in_be_date", d.n_repair(t), ce)

    def thai(row):
        year = row["established_year"]
        row["established_year"] = thai_digits(str(year))
        return "established_year", str(year)
    t.inject("thai_digits", d.n_repair(t), thai)
    d.negative(t, ("area_rai",), where=free)

    def older(row):
        row["households_involved"] = max(1, int(row["households_involved"] * rng.uniform(0.5, 0.9)))
        return row
    d.duplicates(t, older)


def write(path: Path, rows: list[dict]) -> None:
    features = []
    for row in rows:
        props = {k: row[k] for k in PROPERTIES if row.get(k, ...) is not ...}
        features.append({"type": "Feature", "properties": props, "geometry": mapping(row["_geometry"])})
    path.parent.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection", "name": "codi_environment_sites",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                  "features": features}
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        # One feature a line: diffable, and a person can count features as the contract does.
        fh.write('{"type": "FeatureCollection", "name": "codi_environment_sites", '
                 '"crs": ' + json.dumps(collection["crs"]) + ', "features": [\n')
        fh.write(",\n".join(json.dumps(f, ensure_ascii=False) for f in features))
        fh.write("\n]}\n")
