"""The real areas the demo data sits in: geothai's current codes and names, its abolished codes,
and the bundled subdistrict polygons for placing points."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geothai
import numpy as np
import shapely
from geothai.abolished import abolished_areas, match_abolished
from shapely.geometry import shape

BOUNDARIES = Path(__file__).resolve().parents[2] / "reference" / "boundaries"

# The four-region grouping (as in the seed region_groupings.csv): one welfare sheet per region.
_REGION_4 = {"C": "10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 70 71 72 73 74 75 76 77",
             "NE": "30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49",
             "N": "50 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 67",
             "S": "80 81 82 83 84 85 86 90 91 92 93 94 95 96"}
REGION_OF = {p: r for r, codes in _REGION_4.items() for p in codes.split()}
REGION_SHEET = {"N": "ภาคเหนือ", "NE": "ภาคตะวันออกเฉียงเหนือ", "C": "ภาคกลาง", "S": "ภาคใต้"}

# The 23 provinces on the sea, and those with coral reefs (Andaman coast, the southern and eastern Gulf).
COASTAL_PROVINCES = frozenset("10 11 20 21 22 23 24 74 75 76 77 80 81 82 83 84 85 86 90 91 92 94 96".split())
CORAL_PROVINCES = frozenset("20 21 23 77 81 82 83 84 85 86 91 92".split())
# Provinces whose capitals and suburbs hold most urban poor communities (Baan Mankong's focus).
URBAN_PROVINCES = frozenset("10 11 12 13 14 20 30 40 50 65 80 83 84 90".split())

# Points far from Thailand (in neighbouring countries and the open sea) whose swap is not in
# Thailand either: a field app's wrong GPS fix.
OUTSIDE_POINTS = ((102.6000, 17.9667), (96.1951, 16.8409), (104.9282, 11.5564),
                  (101.6869, 3.1390), (0.0, 0.0), (106.6297, 10.8231), (92.0, 9.0),
                  (103.8198, 1.3521), (100.0, 25.0))


@dataclass(frozen=True)
class Area:
    code: str
    name_th: str
    district_code: str
    district_th: str
    province_code: str
    province_th: str

    @property
    def region(self) -> str:
        return REGION_OF[self.province_code]


class Areas:
    """The 7,436 current subdistricts with their names, polygons and code history."""

    def __init__(self) -> None:
        self.subdistricts: list[Area] = []
        for p in geothai.provinces():
            for d in geothai.districts(p.code):
                for s in geothai.subdistricts(d.code):
                    self.subdistricts.append(Area(s.code, s.name_th, d.code, d.name_th,
                                                  p.code, p.name_th))
        self.by_code = {a.code: a for a in self.subdistricts}
        self.codes = [a.code for a in self.subdistricts]
        self.province_codes = sorted({a.province_code for a in self.subdistricts})
        self.province_th = {p.code: p.name_th for p in geothai.provinces()}
        with open(BOUNDARIES / "subdistricts.geojson", encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        self._poly_codes = [str(f["properties"]["code"]) for f in features]
        self._polys = [shape(f["geometry"]) for f in features]
        for geom in self._polys:
            shapely.prepare(geom)
        self.polygon = {c: g for c, g in zip(self._poly_codes, self._polys) if c in self.by_code}
        self._tree = shapely.STRtree(self._polys)
        self._neighbour_cache: dict[str, list] = {}

    # -- codes --------------------------------------------------------------------------------
    @cached_property
    def abolished_codes(self) -> frozenset[str]:
        return frozenset(a.code for a in abolished_areas())

    @cached_property
    def predecessors(self) -> dict[str, list[str]]:
        """Current code -> abolished subdistrict codes whose successor chain ends in it alone."""
        by_code = {a.code: a for a in abolished_areas()}

        def ends(code: str, seen: tuple[str, ...] = ()) -> set[str]:
            if code in self.by_code:
                return {code}
            a = by_code.get(code)
            if a is None or code in seen:
                return set()
            return set().union(*(ends(s, seen + (code,)) for s in a.successors)) if a.successors else set()

        out: dict[str, list[str]] = {}
        for a in abolished_areas():
            if a.level == "subdistrict":
                final = ends(a.code)
                if len(final) == 1:
                    out.setdefault(final.pop(), []).append(a.code)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def unknown_code(self, rng: np.random.Generator, near: str) -> str:
        """A 6-digit code in the right province that is neither current nor abolished."""
        known = self.abolished_codes
        while True:
            code = near[:2] + f"{int(rng.integers(0, 100)):02d}" + f"{int(rng.integers(80, 100)):02d}"
            if code not in self.by_code and code not in known:
                return code

    # -- names --------------------------------------------------------------------------------
    def resolves(self, code: str, subdistrict: str, district: str, province: str) -> bool:
        found = geothai.match(subdistrict, district=district, province=province)
        return len(found) == 1 and found[0].subdistrict.code == code

    def prefixed(self, rng: np.random.Generator, code: str, level: str) -> str | None:
        """The name at `level` written as staff type it (จ. อ. ต. เขต แขวง กทม., extra spaces),
        only if geothai still resolves the whole address to `code`."""
        a = self.by_code[code]
        bangkok = a.province_code == "10"
        if level == "province":
            options = (["กทม.", "กทม", "กรุงเทพ"] if bangkok
                       else [f"จ.{a.province_th}", f"จังหวัด{a.province_th}", f"จ. {a.province_th}"])
        elif level == "district":
            bare = a.district_th.removeprefix("เขต")
            options = ([f"เขต {bare}", f"  {a.district_th}"] if bangkok
                       else [f"อ.{a.district_th}", f"อำเภอ{a.district_th}", f"อ. {a.district_th} "])
            if not bangkok and a.district_code.endswith("01"):
                options.append("อ.เมือง")
        else:
            options = ([f"แขวง{a.name_th}", f"แขวง {a.name_th}"] if bangkok
                       else [f"ต.{a.name_th}", f"ตำบล{a.name_th}", f" ต. {a.name_th}  "])
        text = options[int(rng.integers(len(options)))]
        names = {"subdistrict": a.name_th, "district": a.district_th, "province": a.province_th}
        names[level] = text
        ok = self.resolves(code, names["subdistrict"], names["district"], names["province"])
        return text if ok else None

    def misspelt(self, rng: np.random.Generator, code: str) -> str | None:
        """The subdistrict name with a typing slip that no current or abolished name matches."""
        a = self.by_code[code]
        name = a.name_th
        for _ in range(10):
            k = int(rng.integers(0, 3))
            i = int(rng.integers(0, len(name)))
            if k == 0 and len(name) > 2:
                text = name[:i] + name[i + 1:]                      # a letter left out
            elif k == 1:
                text = name[:i] + name[i] + name[i:]                # a letter typed twice
            else:
                text = name[:i] + "ฯลฯ"[int(rng.integers(0, 2))] + name[i:]
            if text == name:
                continue
            if not geothai.match(text, district=a.district_th, province=a.province_th) and \
                    not match_abolished(text, district=a.district_th, province=a.province_th):
                return text
        return None

    # -- geometry -----------------------------------------------------------------------------
    def has_polygon(self, code: str) -> bool:
        return code in self.polygon

    def _neighbours(self, code: str) -> list:
        found = self._neighbour_cache.get(code)
        if found is None:
            geom = self.polygon[code]
            hits = self._tree.query(geom, predicate="intersects")
            found = [self._polys[int(h)] for h in hits if self._polys[int(h)] is not geom]
            self._neighbour_cache[code] = found
        return found

    def points_in(self, rng: np.random.Generator, code: str, n: int = 1,
                  decimals: int = 6) -> list[tuple[float, float]]:
        """`n` points (lon, lat), rounded, inside the subdistrict's polygon and no other one, so
        that point-in-polygon gives the code back."""
        geom = self.polygon[code]
        others = self._neighbours(code)
        minx, miny, maxx, maxy = geom.bounds
        out: list[tuple[float, float]] = []
        for _ in range(200):
            xs = np.round(rng.uniform(minx, maxx, 32), decimals)
            ys = np.round(rng.uniform(miny, maxy, 32), decimals)
            ok = shapely.contains_xy(geom, xs, ys)
            for other in others:
                ok &= ~shapely.contains_xy(other, xs, ys)
            for x, y in zip(xs[ok], ys[ok]):
                out.append((float(x), float(y)))
                if len(out) == n:
                    return out
        # A sliver polygon: its representative point is inside by construction.
        p = geom.representative_point()
        while len(out) < n:
            out.append((round(p.x, decimals), round(p.y, decimals)))
        return out

    def fits(self, code: str, geom) -> bool:
        """The polygon lies inside its subdistrict, and its representative point in no other."""
        if not self.polygon[code].contains(geom):
            return False
        p = geom.representative_point()
        return len(self._tree.query(p, predicate="within")) == 1

    def in_thailand(self, lon: float, lat: float) -> bool:
        return len(self._tree.query(shapely.points(lon, lat), predicate="within")) > 0

    def outside_point(self, rng: np.random.Generator) -> tuple[float, float]:
        """A point near a place abroad that is not in Thailand, nor when lat and lon swap."""
        while True:
            lon, lat = OUTSIDE_POINTS[int(rng.integers(len(OUTSIDE_POINTS)))]
            lon, lat = round(lon + rng.uniform(-0.05, 0.05), 6), round(lat + rng.uniform(-0.05, 0.05), 6)
            if not self.in_thailand(lon, lat) and not self.in_thailand(lat, lon):
                return lon, lat

    @cached_property
    def coastal(self) -> frozenset[str]:
        """Subdistricts of coastal provinces that touch the country's outline (the sea, and for a
        few the land border: the boundaries do not tell them apart)."""
        with open(BOUNDARIES / "provinces.geojson", encoding="utf-8") as fh:
            provinces = [shape(f["geometry"]) for f in json.load(fh)["features"]]
        outline = shapely.union_all(provinces).boundary
        shapely.prepare(outline)
        codes = [c for c in sorted(self.polygon) if c[:2] in COASTAL_PROVINCES]
        near = shapely.dwithin(np.array([self.polygon[c] for c in codes]), outline, 0.004)
        return frozenset(c for c, ok in zip(codes, near) if ok)
