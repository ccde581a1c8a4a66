"""Publishing: what BI tools and people read (DESIGN sections 7 and 9, `published/`).

One run, one release (publishing/release.py). `published/release_folder` opens the run's building
folder once every mart and audit model has passed its blocking checks (it sits downstream of all
of them, so a failed dbt test or blocking check skips the whole group); each publishing step
writes its part into that folder; `published/release` verifies the release is whole and switches
`published/current` to it in one rename. A run killed or failed anywhere in between leaves the
previous release current, and the next run completes the publication (orchestration/changes.py).
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from orchestration import changes, settings
from orchestration.defs.dbt import codi_dbt_models, dbt_project
from publishing import database, release

# geo, marts and reports (pandas, shapely, plotly) are imported in the steps that use them: the
# code location is loaded by every Dagster process and should load quickly.

GROUP = "published"
# Every mart dbt builds, read from the dbt assets themselves: a new mart is published without a
# change here.
MART_KEYS = sorted((key for key in codi_dbt_models.keys if key.path[0] == "marts"),
                   key=lambda key: key.to_user_string())
# What a release is made from: the marts (the copy, the maps, the reports) and the audit models
# (the docs).
RELEASE_INPUTS = sorted((key for key in codi_dbt_models.keys if key.path[0] in ("marts", "audit")),
                        key=lambda key: key.to_user_string())
RELEASE_FOLDER_KEY = changes.RELEASE_FOLDER
RELEASE_KEY = changes.RELEASE
# The parts `published/release` waits for, each written by the asset of the same name.
PARTS = ("codi_duckdb", "geo", "reports", "docs")


def build_key(context: dg.AssetExecutionContext) -> str:
    """The run whose release this step builds: a re-execution of a failed run (Dagster's
    "from failure") goes on with its parent's building folder."""
    return context.run.tags.get("dagster/root_run_id") or context.run_id


def building(context: dg.AssetExecutionContext) -> Path:
    folder = release.building_dir(settings.publish_dir(), build_key(context))
    if not folder.is_dir():
        raise release.ReleaseIncomplete(
            f"no release folder {folder} for this run: materialise published/release_folder "
            f"(the whole `published` group) in the same run")
    return folder


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """An OSError without a file name (a full disk fails a write(), not an open()) names the
    folder the step was writing, so the summary and the alert say where."""
    try:
        yield
    except OSError as error:
        if error.filename is None and error.errno is not None:
            error.filename = str(path)
        raise


@dg.asset(key=RELEASE_FOLDER_KEY, group_name=GROUP, deps=RELEASE_INPUTS, kinds={"folder"},
          description="Opens this run's release folder (published/releases/<run>.building/) once "
                      "every mart and audit model passed its blocking checks, and removes what "
                      "killed builds left. Its materialisation is the last good build: a "
                      "publication behind it is completed by the next run.")
def published_release_folder(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    out = settings.publish_dir()
    with naming(release.releases_dir(out)):
        folder = release.open_building(out, build_key(context),
                                       is_live=changes.release_writer_alive(context.instance),
                                       say=context.log.info)
    return dg.MaterializeResult(metadata={
        "release": build_key(context),
        "path": dg.MetadataValue.path(str(folder)),
        "current_before": release.current_release(out) or "",
    })


@dg.asset(key=["published", "codi_duckdb"], group_name=GROUP, deps=[*MART_KEYS, RELEASE_FOLDER_KEY],
          kinds={"duckdb", "parquet"},
          description="The read-only copy of the marts for BI tools (published/codi.duckdb) and one "
                      "Parquet file per mart (published/parquet/), written into this run's release.")
def published_codi_duckdb(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    folder = building(context)
    with naming(folder):
        manifest = database.publish(settings.warehouse_path(), folder, context.run_id,
                                    progress=context.log.info)
        release.record_part(folder, "codi_duckdb",
                            [folder / database.DATABASE_FILE, folder / database.PARQUET_DIR])
    rows = {table: spec["rows"] for table, spec in manifest["tables"].items()}
    out = settings.publish_dir()
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out / database.DATABASE_FILE)),
        "parquet": dg.MetadataValue.path(str(out / database.PARQUET_DIR)),
        "release": build_key(context),
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
def published_geo(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    import duckdb

    from publishing import geo, marts

    folder = building(context)
    out = release.fresh_part_dir(folder / "geo")
    with naming(out), duckdb.connect(str(folder / database.DATABASE_FILE), read_only=True) as con:
        summary = geo.export(con, marts.discover(con), settings.BOUNDARIES_DIR, out)
        release.record_part(folder, "geo", [out])
    stable = settings.publish_dir() / "geo"
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(stable)),
        "fiscal_year": summary["fiscal_year"],
        "features": dg.MetadataValue.json({k: v["features"] for k, v in summary["levels"].items()}),
        "areas_without_geometry": sum(v["without_geometry"] for v in summary["levels"].values()),
        "no_geometry_list": dg.MetadataValue.path(str(stable / geo.NO_GEOMETRY_FILE)),
    })


@dg.asset(key=["published", "reports"], group_name=GROUP, deps=[published_codi_duckdb],
          kinds={"html"},
          description="The area reports: a static HTML site in Thai (national page with maps and the "
                      "plan's indicators, one page per province) that opens from a folder, offline.")
def published_reports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from publishing import reports

    folder = building(context)
    out = release.fresh_part_dir(folder / "reports")
    context.log.info(f"building the area reports in {out}")
    with naming(out):
        built = reports.build(folder / database.DATABASE_FILE, settings.BOUNDARIES_DIR, out,
                              dbt_manifest=dbt_project.manifest_path)
        release.record_part(folder, "reports", [out])
    index = settings.publish_dir() / "reports" / built["index"].name
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(index)),
        "open": dg.MetadataValue.url(index.as_uri()),
        "province_pages": built["province_pages"],
        "fiscal_year": built["fiscal_year"],
        "measures": built["measures"],
        "indicators": built["indicators"],
        "areas_without_geometry": built["areas_without_geometry"],
    })


@dg.asset(key=RELEASE_KEY, group_name=GROUP,
          deps=[published_codi_duckdb, published_geo, published_reports, dg.AssetKey(["published", "docs"])],
          kinds={"folder"},
          description="Verifies this run's release is whole (every part, every file with the size "
                      "and sha256 its part recorded), writes its manifest.json and switches "
                      "published/current to it in one rename; keeps the last few releases "
                      "(CODI_KEEP_RELEASES, default 3) for readers still open.")
def published_release(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    out = settings.publish_dir()
    before = release.current_release(out)
    with naming(release.releases_dir(out)):
        manifest = release.finish(out, build_key(context), context.run_id, PARTS,
                                  keep=settings.keep_releases(),
                                  is_live=changes.release_writer_alive(context.instance),
                                  say=context.log.info)
    kept = [p.name for p in release.releases(out)]
    return dg.MaterializeResult(metadata={
        "release": manifest["release"],
        "path": dg.MetadataValue.path(str(release.releases_dir(out) / manifest["release"])),
        "current": dg.MetadataValue.path(str(out / release.CURRENT)),
        "manifest": dg.MetadataValue.path(str(out / database.MANIFEST_FILE)),
        "previous_release": before or "",
        "files": len(manifest["files"]),
        "bytes": sum(spec["bytes"] for spec in manifest["files"].values()),
        "releases_kept": dg.MetadataValue.json(kept),
    })
