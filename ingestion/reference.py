"""The area reference, built from geothai (DOPA codes with Thai and English names, and the
abolished codes with their successors) and from the bundled boundary polygons."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geothai
import pyarrow as pa
from geothai.abolished import abolished_areas
from shapely.geometry import shape

LEVEL_BY_LENGTH = {2: "province", 4: "district", 6: "subdistrict"}


def areas_table() -> pa.Table:
    """One row per current province, district and subdistrict."""
    rows = []
    for p in geothai.provinces():
        rows.append(dict(area_code=p.code, area_level="province", name_th=p.name_th,
                         name_en=p.name_en, district_code=None, province_code=p.code))
        for d in geothai.districts(p.code):
            rows.append(dict(area_code=d.code, area_level="district", name_th=d.name_th,
                             name_en=d.name_en, district_code=d.code, province_code=p.code))
            for s in geothai.subdistricts(d.code):
                rows.append(dict(area_code=s.code, area_level="subdistrict", name_th=s.name_th,
                                 name_en=s.name_en, district_code=d.code, province_code=p.code))
    table = pa.Table.from_pylist(rows)
    return table.append_column("geothai_data_version",
                               pa.array([geothai.DATA_VERSION] * len(rows), pa.string()))


def abolished_table() -> pa.Table:
    """One row per abolished code and successor; a row with no successor where none is known."""
    rows = []
    for a in abolished_areas():
        for successor in a.successors or (None,):
            rows.append(dict(
                abolished_code=a.code, area_level=a.level, name_th=a.name_th, name_en=a.name_en,
                parent_code=a.parent_code, abolished_on=a.abolished_on, successor_code=successor,
                successor_count=len(a.successors), successors_basis=a.successors_basis,
                successors_in_force=a.successors_in_force, successors_source=a.successors_source,
            ))
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("abolished_code", pa.string()), ("area_level", pa.string()), ("name_th", pa.string()),
        ("name_en", pa.string()), ("parent_code", pa.string()), ("abolished_on", pa.string()),
        ("successor_code", pa.string()), ("successor_count", pa.int32()),
        ("successors_basis", pa.string()), ("successors_in_force", pa.string()),
        ("successors_source", pa.string()),
    ]))


def _area_km2(geom) -> float:
    # Degrees squared scaled at the polygon's latitude: within a fraction of a percent at
    # Thailand's latitudes, and needs no projection library.
    lat = geom.centroid.y
    return geom.area * 111.32 * 111.32 * math.cos(math.radians(lat))


def boundaries_table(boundaries_dir: Path) -> pa.Table:
    """One row per polygon in the bundled boundary files: its code, level, centroid and area."""
    rows = []
    for name in ("provinces", "districts", "subdistricts"):
        with open(Path(boundaries_dir) / f"{name}.geojson", encoding="utf-8") as fh:
            collection = json.load(fh)
        for feature in collection["features"]:
            code = str(feature["properties"]["code"])
            geom = shape(feature["geometry"])
            point = geom.representative_point()
            rows.append(dict(area_code=code, area_level=LEVEL_BY_LENGTH[len(code)],
                             point_lon=point.x, point_lat=point.y,
                             area_km2=round(_area_km2(geom), 3), boundary_file=f"{name}.geojson"))
    return pa.Table.from_pylist(rows)
