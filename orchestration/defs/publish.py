"""Publishing: what BI tools and people read (DESIGN section 7, `published/`).

The assets sit downstream of every dbt model in the `marts` group, so a failed dbt test or a
failed blocking check upstream stops the run before anything here replaces the last good copy."""

import dagster as dg

from orchestration import settings
from orchestration.defs.dbt import codi_dbt_models, dbt_project
from publishing import database

# geo, marts and reports (pandas, shapely, plotly) are imported in the steps that use them: the
# code location is loaded by every Dagster process and should load quickly.

GROUP = "published"
# Every mart dbt builds, read from the dbt assets themselves: a new mart is published without a
# change here.
MART_KEYS = sorted((key for key in codi_dbt_models.keys if key.path[0] == "marts"),
                   key=lambda key: key.to_user_string())


@dg.asset(key=["published", "codi_duckdb"], group_name=GROUP, deps=MART_KEYS,
          kinds={"duckdb", "parquet"},
          description="The read-only copy of the marts for BI tools (published/codi.duckdb), one "
                      "Parquet file per mart (published/parquet/) and published/manifest.json. "
                      "Built as a new file and renamed into place: readers never see half a file.")
def published_codi_duckdb(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    out = settings.publish_dir()
    manifest = database.publish(settings.warehouse_path(), out, context.run_id,
                                progress=context.log.info)
    rows = {table: spec["rows"] for table, spec in manifest["tables"].items()}
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out / database.DATABASE_FILE)),
        "parquet": dg.MetadataValue.path(str(out / database.PARQUET_DIR)),
        "manifest": dg.MetadataValue.path(str(out / database.MANIFEST_FILE)),
        "published_at": manifest["published_at"],
        "duckdb_version": manifest["duckdb_version"],
        "storage_version": manifest["storage_version"],
        "tables": len(rows),
        "row_counts": dg.MetadataValue.json(rows),
        "dagster/row_count": sum(rows.values()),
    })


@dg.asset(key=["published", "geo"], group_name=GROUP, deps=[published_codi_duckdb],
          kinds={"geojson"},
          description="GeoJSON of the province, district and subdistrict boundaries with the latest "
                      "fiscal year's area figures (and the provinces' indicators); areas without a "
                      "polygon listed in no_geometry.csv, never dropped.")
def published_geo() -> dg.MaterializeResult:
    import duckdb

    from publishing import geo, marts

    out = settings.publish_dir() / "geo"
    with duckdb.connect(str(settings.publish_dir() / database.DATABASE_FILE), read_only=True) as con:
        summary = geo.export(con, marts.discover(con), settings.BOUNDARIES_DIR, out)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out)),
        "fiscal_year": summary["fiscal_year"],
        "features": dg.MetadataValue.json({k: v["features"] for k, v in summary["levels"].items()}),
        "areas_without_geometry": sum(v["without_geometry"] for v in summary["levels"].values()),
        "no_geometry_list": dg.MetadataValue.path(str(out / geo.NO_GEOMETRY_FILE)),
    })


@dg.asset(key=["published", "reports"], group_name=GROUP, deps=[published_codi_duckdb],
          kinds={"html"},
          description="The area reports: a static HTML site in Thai (national page with maps and the "
                      "plan's indicators, one page per province) that opens from a folder, offline.")
def published_reports() -> dg.MaterializeResult:
    from publishing import reports

    out = settings.publish_dir() / "reports"
    built = reports.build(settings.publish_dir() / database.DATABASE_FILE, settings.BOUNDARIES_DIR,
                          out, dbt_manifest=dbt_project.manifest_path)
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(built["index"])),
        "open": dg.MetadataValue.url(built["index"].as_uri()),
        "province_pages": built["province_pages"],
        "fiscal_year": built["fiscal_year"],
        "measures": built["measures"],
        "indicators": built["indicators"],
        "areas_without_geometry": built["areas_without_geometry"],
    })
