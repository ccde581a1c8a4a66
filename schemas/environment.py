"""environment/sites.geojson: community-managed natural resource sites (points or polygons)."""

from __future__ import annotations

from schemas.base import AMOUNT, AREA_CODE, BE_YEAR, COUNT, LIFETIME_YEAR, Areas, Col, TableSpec

# A million rai (1,600 km2) is the size of a national park: no one community's site is larger.
SITE_AREA_RAI = (0, 1_000_000)

SITE_KINDS = ("ป่าชุมชน", "ป่าชายเลน", "แหล่งน้ำ", "ต้นน้ำ", "แนวปะการัง", "พื้นที่ชุ่มน้ำ")

sites = TableSpec(
    source="environment", table="sites", format="geojson", pattern="environment/sites.geojson",
    description="Community-managed natural resource sites (community forests, mangroves, water "
                "sources, headwaters, reefs, wetlands) with their area in rai, a point inside "
                "each site and its geometry as WKT.",
    columns=(
        Col("site_code", required=True),
        Col("kind", allowed=SITE_KINDS),
        Col("name"),
        Col("area_rai", AMOUNT, bounds=SITE_AREA_RAI),
        Col("households_involved", COUNT),
        # a forest or a water source managed by its community for generations
        Col("established_year", BE_YEAR, window=LIFETIME_YEAR),
        Col("subdistrict_code", AREA_CODE),
    ),
    key=("site_code",),
    derived={"geometry": "geometry_columns"},
    areas=Areas(code="subdistrict_code", point=("lon", "lat")),
)

TABLES = (sites,)
