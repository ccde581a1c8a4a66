"""GeoJSON of the province, district and subdistrict boundaries joined with the latest fiscal
year's area figures (and, for provinces, the indicators), for GIS tools and the reports.

Areas without a polygon are never dropped: they are listed, with their figures, in
`no_geometry.csv`. Polygons whose code is no longer current are kept on the map, marked."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
from shapely.geometry import MultiPolygon, mapping, shape
from shapely.geometry.polygon import orient

from publishing import atomic, marts

LEVEL_FILES = {"province": "provinces.geojson", "district": "districts.geojson",
               "subdistrict": "subdistricts.geojson"}
AREA_COLUMNS = ["area_code", "area_level", "name_th", "name_en", "district_code", "district_name_th",
                "district_name_en", "province_code", "province_name_th", "province_name_en",
                "region_4_code", "region_4_name_th", "region_6_code", "region_6_name_th"]
NO_GEOMETRY_FILE = "no_geometry.csv"


@lru_cache(maxsize=16)
def _read_boundaries(path: Path) -> dict[str, dict]:
    collection = json.loads(Path(path).read_text(encoding="utf-8"))
    return {str(f["properties"]["code"]): f["geometry"] for f in collection["features"]}


def boundaries(boundaries_dir: Path, level: str) -> dict[str, dict]:
    """The polygons of one level, by DOPA code, as GeoJSON geometries."""
    return _read_boundaries(Path(boundaries_dir) / LEVEL_FILES[level])


def _oriented(geometry, sign: float):
    """Rings wound one way throughout: the bundled files mix the two conventions by level."""
    if geometry.geom_type == "Polygon":
        return orient(geometry, sign)
    if geometry.geom_type == "MultiPolygon":
        return MultiPolygon([orient(p, sign) for p in geometry.geoms])
    return geometry


def rfc7946(geometry: dict) -> dict:
    """GeoJSON as RFC 7946 asks: exterior rings counter-clockwise, holes clockwise."""
    return mapping(_oriented(shape(geometry), 1.0))


def _round(coords, digits: int):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], digits), round(coords[1], digits)]
    return [_round(c, digits) for c in coords]


@lru_cache(maxsize=32)
def _simplified(path: Path, tolerance: float, digits: int) -> dict[str, dict]:
    out = {}
    for code, geometry in _read_boundaries(path).items():
        # d3 (and so plotly) reads the other winding: a counter-clockwise exterior would be drawn
        # as the whole globe minus the area.
        simple = mapping(_oriented(shape(geometry).simplify(tolerance, preserve_topology=True), -1.0))
        out[code] = {"type": simple["type"], "coordinates": _round(simple["coordinates"], digits)}
    return out


def simplified_boundaries(boundaries_dir: Path, level: str, tolerance: float,
                          digits: int = 4) -> dict[str, dict]:
    """Lighter polygons for pages in a browser (tolerance in degrees; 0.001 is about 100 m)."""
    return _simplified(Path(boundaries_dir) / LEVEL_FILES[level], tolerance, digits)


def areas(con: duckdb.DuckDBPyConnection, level: str | None = None) -> pd.DataFrame:
    where = "where area_level = ?" if level else ""
    return con.execute(
        f"select {', '.join(AREA_COLUMNS)}, has_geometry from marts.dim_area {where} order by area_code",
        [level] if level else []).df()


def _clean(value):
    """JSON has no NaN: missing figures become null; numpy numbers become plain ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _kpi_wide(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, int | None]:
    """Province indicators of their latest fiscal year, one column per indicator and field."""
    df = marts.kpis(con, "province")
    df = df[df["actual"].notna()] if not df.empty else df
    if df.empty:
        return pd.DataFrame(), None
    year = int(df["fiscal_year"].max())
    df = df[df["fiscal_year"] == year]
    wide = {}
    for row in df.itertuples():
        for field in ("actual", "target", "achievement_pct", "status"):
            wide.setdefault(row.area_code, {})[f"kpi_{row.kpi_id}_{field}"] = getattr(row, field)
    return pd.DataFrame.from_dict(wide, orient="index"), year


def level_table(con: duckdb.DuckDBPyConnection, catalog: marts.MartCatalog, level: str,
                fiscal_year: int | None) -> pd.DataFrame:
    """One row per current area of the level: names, parents, and its figures of the year."""
    table = areas(con, level).set_index("area_code", drop=False)
    mart = catalog.area_marts.get(level)
    table["fiscal_year"] = fiscal_year
    if mart is not None and fiscal_year is not None:
        figures = marts.figures(con, mart, fiscal_year).drop(columns="fiscal_year").set_index("area_code")
        table = table.join(figures, how="left")
        for column, dtype in figures.dtypes.items():
            if pd.api.types.is_integer_dtype(dtype):  # an area without figures keeps whole numbers
                table[column] = table[column].astype("Int64")
    return table


def export(con: duckdb.DuckDBPyConnection, catalog: marts.MartCatalog, boundaries_dir: Path,
           out_dir: Path) -> dict:
    """Write `<level>s.geojson` per level and the list of areas without geometry; return counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic.remove_stale_temps(out_dir)
    year = marts.latest_fiscal_year(con, catalog)
    kpi, kpi_year = _kpi_wide(con) if catalog.has_kpi else (pd.DataFrame(), None)
    summary = {"fiscal_year": year, "kpi_fiscal_year": kpi_year, "levels": {}}
    missing: list[pd.DataFrame] = []
    for level, filename in LEVEL_FILES.items():
        table = level_table(con, catalog, level, year)
        if level == "province" and not kpi.empty:
            table = table.join(kpi, how="left")
            table["kpi_fiscal_year"] = kpi_year
        polygons = boundaries(boundaries_dir, level)
        features = []
        for code, row in table.iterrows():
            geometry = polygons.get(code)
            if geometry is None:
                continue
            props = {k: _clean(v) for k, v in row.items() if k != "has_geometry"}
            props["is_current_code"] = True
            features.append({"type": "Feature", "properties": props, "geometry": rfc7946(geometry)})
        # A polygon whose code DOPA has since abolished: still land on the map, but no area now.
        stale = sorted(set(polygons) - set(table.index))
        for code in stale:
            features.append({"type": "Feature", "properties": {
                "area_code": code, "area_level": level, "is_current_code": False,
                "note": "รหัสนี้ถูกยกเลิกแล้ว (code no longer current)"}, "geometry": rfc7946(polygons[code])})
        collection = {"type": "FeatureCollection", "name": filename.removesuffix(".geojson"),
                      "fiscal_year": year, "features": features}
        atomic.write_text(out_dir / filename,
                          json.dumps(collection, ensure_ascii=False, separators=(",", ":")))
        without = table[~table.index.isin(list(polygons))]
        missing.append(without)
        summary["levels"][level] = {"features": len(features), "areas": len(table),
                                    "without_geometry": len(without), "polygons_not_current": len(stale)}
    _write_no_geometry(pd.concat(missing) if missing else pd.DataFrame(), out_dir / NO_GEOMETRY_FILE)
    attribution = Path(boundaries_dir) / "ATTRIBUTION.md"
    if attribution.exists():  # the boundaries' licence travels with every copy
        with atomic.replacing(out_dir / "ATTRIBUTION.md") as tmp:
            shutil.copyfile(attribution, tmp)
    return summary


def _write_no_geometry(table: pd.DataFrame, path: Path) -> None:
    buffer = io.StringIO()
    columns = [c for c in table.columns if c != "has_geometry"]
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in table[columns].itertuples(index=False):
        writer.writerow(["" if _clean(v) is None else _clean(v) for v in row])
    # With a byte-order mark, so that Excel opens the Thai names as UTF-8.
    atomic.write_text(path, "\ufeff" + buffer.getvalue())
