"""The area reference in the lake: geothai's current and abolished DOPA codes, and the bundled
boundary polygons. dbt reads these Parquet files to build `marts.dim_area`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from orchestration import settings

# geothai, shapely and pyarrow are imported in the steps: not at the code location's import.
if TYPE_CHECKING:
    import pyarrow as pa

GROUP = "reference"


def _write(name: str, table: pa.Table, **metadata) -> dg.MaterializeResult:
    from ingestion.lake import write_table_atomic

    path = write_table_atomic(table, settings.lake_dir() / "reference" / name)
    return dg.MaterializeResult(metadata={
        "rows": dg.MetadataValue.int(table.num_rows),
        "path": dg.MetadataValue.path(str(path)),
        **metadata,
    })


@dg.asset(key=["lake", "reference", "areas"], group_name=GROUP, kinds={"python", "parquet"},
          description="Current provinces, districts and subdistricts with Thai and English names, "
                      "from the geothai package (DOPA codes).")
def reference_areas() -> dg.MaterializeResult:
    import geothai
    import pyarrow.compute as pc

    from ingestion import reference

    table = reference.areas_table()
    levels = pc.value_counts(table["area_level"]).to_pylist()
    return _write("areas", table, geothai_data_version=geothai.DATA_VERSION,
                  **{f"{v['values']}s": v["counts"] for v in levels})


@dg.asset(key=["lake", "reference", "abolished_codes"], group_name=GROUP,
          kinds={"python", "parquet"},
          description="Abolished DOPA codes with their successors and the date of the change, "
                      "from geothai.abolished.")
def reference_abolished_codes() -> dg.MaterializeResult:
    import geothai

    from ingestion import reference

    return _write("abolished_codes", reference.abolished_table(),
                  geothai_data_version=geothai.DATA_VERSION)


@dg.asset(key=["lake", "reference", "boundaries"], group_name=GROUP, kinds={"python", "parquet"},
          description="One row per polygon of reference/boundaries (RTSD via OCHA, CC BY 3.0 IGO; "
                      "see reference/boundaries/ATTRIBUTION.md): code, point and area.")
def reference_boundaries() -> dg.MaterializeResult:
    from ingestion import reference

    return _write("boundaries", reference.boundaries_table(settings.BOUNDARIES_DIR),
                  attribution=dg.MetadataValue.path(
                      str(settings.BOUNDARIES_DIR / "ATTRIBUTION.md")))
