"""What `make run` prints at the end: how the run went, and what the warehouse now holds."""

from __future__ import annotations

import duckdb
import dagster as dg

from orchestration import failures, settings


def print_run(result: dg.ExecuteJobResult, instance: dg.DagsterInstance) -> None:
    """How a run went; for each failed step its root error and the file, table, row and column
    where known (orchestration/failures.py), not Dagster's "Error occurred while executing op"."""
    status = "succeeded" if result.success else "FAILED"
    run = instance.get_run_by_id(result.run_id)
    stats = instance.get_run_stats(result.run_id)
    took = (f" in {stats.end_time - stats.start_time:.0f} s"
            if stats.start_time and stats.end_time else "")
    print(f"\n{run.job_name if run else 'Run'} run {result.run_id} {status}{took} "
          f"(DAGSTER_HOME={instance.root_directory}; see it with `make ui`).")
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            failure = failures.describe(event.step_key, event.step_failure_data, limit=600)
            print(f"  failed step {event.step_key}: {failure['error']}{failures.where_text(failure)}")


def stale_tables(instance: dg.DagsterInstance | None) -> dict[str, dict]:
    """Source tables whose latest ingestion attempt failed and has not been resolved since (no
    later load, and the source still differs from the load in the lake): the lake, the
    warehouse and the publication keep their last good load, which is stale. table -> {run_id,
    time, error, ...}."""
    if instance is None:
        return {}
    import schemas
    from ingestion.load import read_reconciliation
    from orchestration import changes

    keys = {dg.AssetKey(["lake", spec.source, spec.table]): spec for spec in schemas.TABLES.values()}
    out = {}
    for record in instance.get_asset_records(list(keys)):
        entry = record.asset_entry
        # The latest run that set out to load the table (Dagster records it when the run plans
        # the asset), if it is not the run of the latest load.
        attempt, done = entry.last_run_id, entry.last_materialization_record
        if attempt is None or (done is not None and done.run_id == attempt):
            continue
        run = instance.get_run_record_by_id(attempt)
        if run is None or run.dagster_run.status in changes.ACTIVE:
            continue
        spec = keys[entry.asset_key]
        rec = read_reconciliation(settings.lake_dir(), spec.source, spec.table)
        if rec is not None and changes.source_matches_load(spec):
            continue   # the export that failed was replaced by the one the lake holds
        step = f"lake__{spec.source}__{spec.table}"
        cause = next((failures.describe(e.step_key, e.dagster_event.step_failure_data, limit=600)
                      for e in instance.all_logs(attempt, of_type=dg.DagsterEventType.STEP_FAILURE)
                      if e.step_key == step), None)
        out[spec.name] = {"run_id": attempt, "time": (run.end_time or run.create_timestamp.timestamp()),
                          "failure": cause or {"step": step, "error": "that run ended without loading it "
                                               "(a step it depends on failed, or the run was killed)"},
                          "load_id": rec.load_id if rec else None,
                          "loaded_at": rec.loaded_at if rec else None}
    return out


def _bangkok(timestamp) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if isinstance(timestamp, str):
        moment = datetime.fromisoformat(timestamp)
    else:
        moment = datetime.fromtimestamp(float(timestamp), ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo("Asia/Bangkok")).strftime("%Y-%m-%d %H:%M")


def print_ingestion(instance: dg.DagsterInstance | None = None) -> None:
    """Per source table, the latest load's reconciliation (lake/loads/): read = valid +
    quarantined + duplicates, and the commonest reasons for quarantine. A table whose latest
    ingestion failed is marked STALE, with the load the lake keeps and the cause."""
    import json

    stale = stale_tables(instance)
    loads = sorted((settings.lake_dir() / "loads").glob("*/*.json"))
    if not loads and not stale:
        print(f"\nNo loads in {settings.lake_dir() / 'loads'} yet.")
        return
    print(f"\nIngestion (lake: {settings.lake_dir()}):")
    print(f"  {'table':<34} {'read':>10} {'valid':>10} {'quarantined':>11} {'duplicates':>10}  top reasons")
    for path in loads:
        rec = json.loads(path.read_text(encoding="utf-8"))
        top = sorted(rec["reasons"].items(), key=lambda kv: -kv[1])[:3]
        balanced = rec["rows_read"] == rec["valid"] + rec["quarantined"] + rec["duplicates"]
        name = rec['source'] + '/' + rec['table']
        print(f"  {name:<34} {rec['rows_read']:>10,} {rec['valid']:>10,} "
              f"{rec['quarantined']:>11,} {rec['duplicates']:>10,}  "
              + ", ".join(f"{code} {n:,}" for code, n in top)
              + ("" if balanced else "  (DOES NOT RECONCILE)")
              + ("  STALE" if name in stale else ""))
    if stale:
        print("  STALE: the latest ingestion failed; the lake, the warehouse and the publication "
              "keep the last good load:")
    for name, info in sorted(stale.items()):
        kept = (f"load {info['load_id']} of {_bangkok(info['loaded_at'])} kept"
                if info["load_id"] else "no load yet")
        failure = info["failure"]
        print(f"    {name}: {kept}; failed in run {info['run_id']} at {_bangkok(info['time'])}: "
              f"{failure['error']}{failures.where_text(failure)}")


def print_warehouse(instance: dg.DagsterInstance | None = None) -> None:
    print_ingestion(instance)
    path = settings.warehouse_path()
    if not path.exists():
        print(f"No warehouse at {path}.")
        return
    with duckdb.connect(str(path), read_only=True) as con:
        print(f"\nWarehouse: {path}")
        rows = con.execute("""
            select area_level, count(*) as areas, count(*) filter (where not has_geometry) as no_geometry
            from marts.dim_area group by area_level
            order by case area_level when 'province' then 1 when 'district' then 2 else 3 end
        """).fetchall()
        print("  marts.dim_area: " + ", ".join(
            f"{n:,} {level}s ({missing} without a polygon)" for level, n, missing in rows))
        print_kpis(con)
        print_quality(con)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "percent":
        return f"{value:,.2f} %"
    return f"{value:,.0f}"


def print_kpis(con: duckdb.DuckDBPyConnection, first_year: int = 2555, last_year: int = 2559) -> None:
    """The plan's indicators for the country: target, actual, achievement and status per year."""
    exists = con.execute("""select count(*) from information_schema.tables
                            where table_schema = 'marts' and table_name = 'mart_kpi'""").fetchone()[0]
    if not exists:
        print("  marts.mart_kpi: not built.")
        return
    rows = con.execute("""
        select kpi_id, kpi_name_en, unit_en, fiscal_year, target, actual, achievement_pct, status
        from marts.mart_kpi
        where area_level = 'country' and fiscal_year between ? and ?
        order by sort_order, fiscal_year
    """, [first_year, last_year]).fetchall()
    print(f"\nIndicators of the plan, FY{first_year}-{last_year}, whole country (marts.mart_kpi; "
          f"'no data': no records that year, not a zero):")
    print(f"  {'id':<4} {'indicator':<44} {'FY':>4} {'target':>10} {'actual':>10} {'achieved':>9}  status")
    previous = None
    for kpi_id, name, unit, year, target, actual, pct, status in rows:
        label = (name if len(name) <= 44 else name[:43] + "…") if kpi_id != previous else ""
        shown_id = kpi_id if kpi_id != previous else ""
        achieved = f"{pct:,.1f} %" if pct is not None else "-"
        # The mart's own status (met, behind, no target, no data): a year with no figure is
        # never shown as behind.
        print(f"  {shown_id:<4} {label:<44} {year:>4} {_number(target, unit):>10} "
              f"{_number(actual, unit) if actual is not None else 'no data':>10} {achieved:>9}  {status}")
        previous = kpi_id


def print_quality(con: duckdb.DuckDBPyConnection) -> None:
    """Where the data docs and the audit marts are, and the latest Great Expectations results."""
    from orchestration.quality import report

    docs = report.docs_paths()
    print("\nQuality and audit:")
    if docs["index"].exists():
        print(f"  Data docs: {docs['index']} (Great Expectations: {docs['great_expectations']}; "
              f"dbt: {docs['dbt']})")
    else:
        print(f"  Data docs: not built ({docs['index']}; skipped when a blocking check fails).")
    run_name, results = report.latest_validations()
    if results:
        failed = [r["suite"] for r in results if not r["success"]]
        print(f"  Great Expectations (run {run_name}): {len(results) - len(failed)} of "
              f"{len(results)} suites passed" + (f"; failed: {', '.join(failed)}" if failed else ""))
    for line in report.headlines(con):
        print(f"  {line}")


def print_published(run_id: str | None = None, behind=None) -> None:
    """Where BI tools and people find what was published, and which release it is; the last
    line is the reports' index. `behind`: the publication is behind that good build."""
    from publishing import database, release

    out = settings.publish_dir()
    manifest = database.read_manifest(out)
    if manifest is None:
        print(f"\nNothing published in {out} yet (publishing waits for every blocking check to pass).")
        if behind is not None:
            print(f"  The publication is behind: {behind.describe()}; the next run completes it.")
        return
    earlier = "" if run_id in (None, manifest["run_id"]) else " (an earlier run: this one did not publish)"
    print(f"\nPublished {manifest['published_at']} by run {manifest['run_id']}{earlier}:")
    current = release.current_release(out)
    if current is not None:
        kept = release.releases(out)
        print(f"  Release {current} ({out / release.CURRENT} -> {release.RELEASES_DIR}/{current}); "
              f"{len(kept)} kept in {release.releases_dir(out)}/ for readers still open.")
    if behind is not None:
        print(f"  The publication is behind: {behind.describe()}; the next run completes it.")
    print(f"  BI tools, read-only: {out / database.DATABASE_FILE} (written by DuckDB "
          f"{manifest['duckdb_version']}, storage {manifest['storage_version']}); "
          f"Parquet: {out / database.PARQUET_DIR}/; GeoJSON: {out / 'geo'}/")
    index = out / "reports" / "index.html"
    print(f"  Area reports: {index}" if index.exists() else f"  Area reports: not built ({index})")
