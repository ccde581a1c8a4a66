"""Area codes, resolved once, at ingestion (DESIGN section 5): every row with an area gets the
current 6-digit DOPA subdistrict code and the method that found it.

- a given current code is kept (`given`);
- an abolished code becomes its successor when geothai knows exactly one (`abolished_successor`);
- a missing code is found from the Thai names when the match is unique within district and
  province (`name_match`, with geothai.match);
- a missing code is found from a point, by the subdistrict polygon it falls in
  (`point_in_polygon`, shapely STRtree over reference/boundaries/subdistricts.geojson);
- a code given beside a point is checked against it: kept when the point lies in the code's
  polygon (`given`), or outside it by no more than POINT_TOLERANCE_KM (`given_point_nearby`), or
  when the code has no polygon to check against (`given_point_unchecked`); farther away the row
  is quarantined (`area_point_mismatch`, naming both subdistricts and the distance).

Anything else is not guessed: the row is quarantined with a reason code and the candidates.
The resolver is built once per process; lookups run once per distinct code, name triple or
point, not per row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geothai
import numpy as np
import pandas as pd
import shapely
from geothai.abolished import abolished_areas, match_abolished

from ingestion import normalise

# Methods (docs/lake.md, `area_resolution`).
GIVEN = "given"
ABOLISHED_SUCCESSOR = "abolished_successor"
NAME_MATCH = "name_match"
POINT_IN_POLYGON = "point_in_polygon"
GIVEN_POINT_NEARBY = "given_point_nearby"
GIVEN_POINT_UNCHECKED = "given_point_unchecked"

# Repair codes (docs/lake.md).
AREA_FROM_NAMES = "area_from_names"
AREA_ABOLISHED_SUCCESSOR = "area_abolished_successor"
AREA_FROM_POINT = "area_from_point"
LAT_LON_SWAPPED = "lat_lon_swapped"
GEOMETRY_MADE_VALID = "geometry_made_valid"

# Reason codes (docs/lake.md).
AREA_UNRESOLVED = "area_unresolved"
AREA_CODE_UNKNOWN = "area_code_unknown"
POINT_OUTSIDE_THAILAND = "point_outside_thailand"
AREA_POINT_MISMATCH = "area_point_mismatch"

# How far outside the polygon of its code a point may lie and the code still be believed. GPS
# error is metres, but a reporter may stand across the border from the community they report
# for, and the bundled boundaries are generalised (a median of 7 vertices a subdistrict, about
# 4 km apart), so a border on the map can be a kilometre off the real one. Farther than this, the
# point and the code name different places and neither is guessed to be the right one.
POINT_TOLERANCE_KM = 2.0
# Kilometres per degree of latitude, and of longitude at the equator (WGS 84).
_KM_PER_DEG_LAT, _KM_PER_DEG_LON = 110.574, 111.320

# Thailand's extent, generously: a point outside it whose swap is inside had lat and lon swapped
# (the two ranges do not overlap, so the test cannot misfire).
LAT_RANGE = (5.0, 21.0)
LON_RANGE = (97.0, 106.0)


@dataclass
class Resolution:
    """Per row: the resolved code, the code as given, the method, the repairs applied, and for
    unresolved rows the reason code, the offending column and a sentence with the candidates."""

    code: pd.Series
    original: pd.Series
    method: pd.Series
    repairs: dict[str, pd.Series] = field(default_factory=dict)
    reason: pd.Series | None = None
    column: pd.Series | None = None
    detail: pd.Series | None = None


def clean_code(values: pd.Series) -> pd.Series:
    """A code as digits: Thai digits translated, spaces dropped, a spreadsheet's `.0` removed."""
    out = normalise.digits_only(values)
    return out.str.replace(r"\.0+$", "", regex=True)


def swapped_lat_lon(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """Rows whose latitude and longitude were written the wrong way round."""
    inside = lat.between(*LAT_RANGE) & lon.between(*LON_RANGE)
    swapped = lon.between(*LAT_RANGE) & lat.between(*LON_RANGE)
    return (~inside & swapped).fillna(False).astype(bool)


class AreaResolver:
    """geothai's current and abolished codes and the subdistrict polygons, loaded once."""

    def __init__(self, subdistricts_geojson: Path):
        self.current = {s.code for s in geothai._subdistricts()}  # noqa: SLF001 (a frozen set)
        self.provinces = {p.code for p in geothai.provinces()}
        self.abolished = {a.code: a.successors for a in abolished_areas() if a.level == "subdistrict"}
        with open(subdistricts_geojson, encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        self.polygon_codes = np.array([str(f["properties"]["code"]) for f in features])
        self.polygons = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
        self.tree = shapely.STRtree(self.polygons)
        # A polygon's code is from the boundaries' vintage: the current code each one stands for.
        self.polygons_of: dict[str, list[int]] = {}
        for i, c in enumerate(self.polygon_codes):
            current = self.code_status(c)[0]
            if current is not None:
                self.polygons_of.setdefault(current, []).append(i)

    # -- codes -------------------------------------------------------------------------------

    def current_successors(self, code: str, seen: tuple[str, ...] = ()) -> list[str]:
        """The current codes an abolished code ended up as, following successors that were
        themselves abolished later."""
        if code in self.current:
            return [code]
        if code in seen or code not in self.abolished:
            return []
        found = {c for s in self.abolished[code] for c in self.current_successors(s, seen + (code,))}
        return sorted(found)

    def code_status(self, code: str) -> tuple[str | None, str, str | None, str]:
        """(resolved code, method, reason, detail) for one given subdistrict code."""
        if code in self.current:
            return code, GIVEN, None, ""
        if code in self.abolished:
            successors = self.current_successors(code)
            if len(successors) == 1:
                return successors[0], ABOLISHED_SUCCESSOR, None, ""
            if successors:
                return None, "", AREA_UNRESOLVED, (
                    f"abolished code {code} has {len(successors)} successors "
                    f"({', '.join(successors)}): cannot tell which")
            return None, "", AREA_UNRESOLVED, f"abolished code {code} has no known successor"
        return None, "", AREA_CODE_UNKNOWN, f"{code} is neither a current nor an abolished DOPA subdistrict code"

    # -- names -------------------------------------------------------------------------------

    @lru_cache(maxsize=None)
    def addresses(self, subdistrict: str, district: str | None,
                  province: str | None) -> tuple:
        """geothai.match, once per distinct name triple."""
        return tuple(geothai.match(subdistrict, district=district or None, province=province or None))

    @lru_cache(maxsize=None)
    def match_names(self, subdistrict: str, district: str | None,
                    province: str | None) -> tuple[str | None, str, str | None, str]:
        """(code, method, reason, detail) from Thai names; unique within district and province."""
        found = self.addresses(subdistrict, district, province)
        where = ", ".join(x for x in (subdistrict, district, province) if x)
        if len(found) == 1:
            return found[0].subdistrict.code, NAME_MATCH, None, ""
        if len(found) > 1:
            codes = ", ".join(a.subdistrict.code for a in found[:10])
            return None, "", AREA_UNRESOLVED, f"the names ({where}) match {len(found)} subdistricts: {codes}"
        old = match_abolished(subdistrict, district=district or None, province=province or None)
        successors = sorted({c for a in old for c in self.current_successors(a.code)})
        if len(successors) == 1:
            return successors[0], ABOLISHED_SUCCESSOR, None, ""
        if successors:
            return None, "", AREA_UNRESOLVED, (
                f"the names ({where}) are an abolished subdistrict with successors {', '.join(successors)}")
        return None, "", AREA_UNRESOLVED, f"no subdistrict is named ({where})"

    # -- points ------------------------------------------------------------------------------

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The polygon code each point falls in, else None. No snapping to a nearby polygon:
        along the Mekong a kilometre is another country."""
        out = np.full(len(lon), None, dtype=object)
        ok = ~(np.isnan(lon) | np.isnan(lat))
        if not ok.any():
            return out
        index = np.flatnonzero(ok)
        points = shapely.points(lon[ok], lat[ok])
        hit_point, hit_poly = self.tree.query(points, predicate="intersects")
        # A point on a shared border hits two polygons: keep the lowest code, deterministically.
        order = np.lexsort((self.polygon_codes[hit_poly], hit_point))
        hit_point, hit_poly = hit_point[order], hit_poly[order]
        first = np.unique(hit_point, return_index=True)[1]
        out[index[hit_point[first]]] = self.polygon_codes[hit_poly[first]]
        return out

    # -- a table's area columns --------------------------------------------------------------

    def resolve(self, index: pd.Index, *, code: pd.Series | None = None,
                code_column: str = "subdistrict_code",
                names: tuple[pd.Series | None, pd.Series | None, pd.Series | None] | None = None,
                name_columns: tuple[str, str, str] = ("subdistrict", "district", "province"),
                lon: pd.Series | None = None, lat: pd.Series | None = None) -> Resolution:
        """Resolve every row: a given code first, then the names, then the point. `names` are
        (subdistrict, district, province), already cleaned by normalise.area_name."""
        n = len(index)
        given = clean_code(code) if code is not None else pd.Series(pd.NA, index=index, dtype="str")
        resolved = pd.Series(pd.NA, index=index, dtype="str")
        method = pd.Series(pd.NA, index=index, dtype="str")
        reason = pd.Series(pd.NA, index=index, dtype="str")
        column = pd.Series(pd.NA, index=index, dtype="str")
        detail = pd.Series(pd.NA, index=index, dtype="str")
        repairs = {k: pd.Series(False, index=index)
                   for k in (AREA_ABOLISHED_SUCCESSOR, AREA_FROM_NAMES, AREA_FROM_POINT)}

        def apply(results: pd.Series, col: str, repair: str | None) -> None:
            # results: per row of `rows`, a tuple (code, method, reason, detail)
            parts = pd.DataFrame(results.tolist(), index=results.index,
                                 columns=["code", "method", "reason", "detail"])
            ok = parts["code"].notna()
            resolved[parts.index[ok]] = parts["code"][ok]
            method[parts.index[ok]] = parts["method"][ok]
            if repair:
                repairs[repair][parts.index[ok]] = True
            succ = ok & (parts["method"] == ABOLISHED_SUCCESSOR)
            repairs[AREA_ABOLISHED_SUCCESSOR][parts.index[succ]] = True
            bad = ~ok
            reason[parts.index[bad]] = parts["reason"][bad]
            column[parts.index[bad]] = col
            detail[parts.index[bad]] = parts["detail"][bad]

        has_code = given.notna()
        if has_code.any():
            distinct = given[has_code].unique()
            status = {c: self.code_status(c) for c in distinct}
            apply(given[has_code].map(status), code_column, None)

        todo = ~has_code
        if names is not None and todo.any():
            sub, dist, prov = (s if s is not None else pd.Series(pd.NA, index=index, dtype="str")
                               for s in names)
            named = todo & sub.notna()
            if named.any():
                triples = pd.DataFrame({"s": sub[named], "d": dist[named], "p": prov[named]})
                # geothai.match runs once per distinct name triple, not once per row.
                codes, distinct = pd.MultiIndex.from_frame(triples.astype(object)).factorize()
                found = [self.match_names(*(None if pd.isna(x) else x for x in key))
                         for key in distinct]
                results = pd.Series([found[c] for c in codes], index=triples.index)
                # A table with no code column always goes by its names: that is no repair.
                apply(results, name_columns[0], AREA_FROM_NAMES if code is not None else None)
                todo = todo & ~named

        if lon is not None and lat is not None and (lon.notna() & lat.notna()).any():
            has_point = lon.notna() & lat.notna()
            located = pd.Series(self.locate(lon.to_numpy("float64", na_value=np.nan),
                                            lat.to_numpy("float64", na_value=np.nan)), index=index)
            pointed = todo & has_point
            if pointed.any():
                results = located[pointed].map(
                    lambda c: (None, "", POINT_OUTSIDE_THAILAND, "the point is in no subdistrict of Thailand")
                    if pd.isna(c) else self.point_code(c))
                apply(results, "lon", AREA_FROM_POINT)
                todo = todo & ~pointed
            # A point given beside a code must still be in Thailand: maps are drawn from it.
            outside = has_point & located.isna() & reason.isna()
            reason[outside] = POINT_OUTSIDE_THAILAND
            column[outside] = "lon"
            detail[outside] = "the point is in no subdistrict of Thailand"
            resolved[outside] = pd.NA
            method[outside] = pd.NA
            for mask in repairs.values():
                mask[outside] = False
            # ... and agree with the code.
            coded = has_point & reason.isna() & method.isin([GIVEN, ABOLISHED_SUCCESSOR])
            if coded.any():
                self._check_points(coded, resolved, located, lon, lat, code_column,
                                   method, reason, column, detail, repairs)

        missing = todo & reason.isna()
        if missing.any():
            reason[missing] = AREA_UNRESOLVED
            column[missing] = code_column
            detail[missing] = "no area code, names or point to find the subdistrict from"
        assert len(resolved) == n
        original = (normalise.clean_text(code) if code is not None
                    else pd.Series(pd.NA, index=index, dtype="str"))
        return Resolution(resolved, original, method, repairs, reason, column, detail)

    def point_distance_km(self, code: str, lon: float, lat: float) -> float | None:
        """How far (km) the point lies from the polygon(s) of a current code, 0 inside; None
        when the code has no polygon. Measured on a local plane around the point (equirectangular:
        well under 1 % off at a few kilometres)."""
        found = self.polygons_of.get(code)
        if not found:
            return None
        kx = _KM_PER_DEG_LON * np.cos(np.radians(lat))
        shift = np.array([lon, lat])
        scale = np.array([kx, _KM_PER_DEG_LAT])
        local = shapely.transform(self.polygons[found], lambda c: (c - shift) * scale)
        return float(shapely.distance(local, shapely.Point(0, 0)).min())

    def _check_points(self, rows: pd.Series, resolved: pd.Series, located: pd.Series,
                      lon: pd.Series, lat: pd.Series, code_column: str, method: pd.Series,
                      reason: pd.Series, column: pd.Series, detail: pd.Series,
                      repairs: dict[str, pd.Series]) -> None:
        """Rows with a code and a point: where the point is not in the code's polygon, keep the
        code within POINT_TOLERANCE_KM or where it has no polygon, quarantine it farther away.
        Once per distinct (code, point)."""
        where = located[rows].map(lambda c: self.code_status(c)[0])
        off = rows.copy()
        off[rows] = (where != resolved[rows]).fillna(True).to_numpy()
        if not off.any():
            return
        frame = pd.DataFrame({"code": resolved[off], "lon": lon[off].astype("float64"),
                              "lat": lat[off].astype("float64"), "in": where[off[rows]]})
        for (code, x, y, inside), group in frame.groupby(["code", "lon", "lat", "in"],
                                                         dropna=False, sort=False).groups.items():
            distance = self.point_distance_km(code, x, y)
            if distance is None:
                method[group] = GIVEN_POINT_UNCHECKED
            elif distance == 0:
                continue            # on the shared border: in both polygons
            elif distance <= POINT_TOLERANCE_KM:
                method[group] = GIVEN_POINT_NEARBY
            else:
                reason[group] = AREA_POINT_MISMATCH
                column[group] = code_column
                detail[group] = (
                    f"the point ({x:.6f}, {y:.6f}) lies in subdistrict {_named(inside)}, "
                    f"{distance:,.1f} km from subdistrict {_named(code)} that {code_column} names "
                    f"(more than the {POINT_TOLERANCE_KM:g} km allowed for GPS error and "
                    "generalised borders)")
                resolved[group] = pd.NA
                method[group] = pd.NA
                for mask in repairs.values():
                    mask[group] = False

    def point_code(self, polygon_code: str) -> tuple[str | None, str, str | None, str]:
        """A polygon's code is from the boundaries' vintage: map an abolished one forward."""
        code, _, reason, detail = self.code_status(polygon_code)
        if code is None:
            return None, "", AREA_UNRESOLVED, f"the point is in the polygon of {polygon_code}: {detail}"
        return code, POINT_IN_POLYGON, None, ""

    # -- other levels ------------------------------------------------------------------------

    def province_status(self, code: str) -> tuple[str | None, str | None, str]:
        if code in self.provinces:
            return code, None, ""
        return None, AREA_CODE_UNKNOWN, f"{code} is not a current DOPA province code"


def _named(code) -> str:
    """`500108 สุเทพ (Suthep)`, or the bare code where geothai does not know it."""
    if code is None or pd.isna(code):
        return "(none)"
    found = geothai.subdistrict(code)
    return f"{code} {found.name_th} ({found.name_en})" if found else str(code)


@lru_cache(maxsize=2)
def resolver(subdistricts_geojson: Path) -> AreaResolver:
    """One resolver per boundaries file and process (building it takes about a second)."""
    return AreaResolver(Path(subdistricts_geojson))
