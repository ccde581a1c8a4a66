"""What `make run` prints at the end: how the run went, and what the warehouse now holds."""

from __future__ import annotations

import duckdb
import dagster as dg

from orchestration import settings


def print_run(result: dg.ExecuteJobResult, instance: dg.DagsterInstance, seconds: float) -> None:
    status = "succeeded" if result.success else "FAILED"
    print(f"\nRun {result.run_id} {status} in {seconds:.0f} s "
          f"(DAGSTER_HOME={instance.root_directory}; see it with `make ui`).")
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            message = error.message.strip().splitlines()[-1] if error else ""
            print(f"  failed step {event.step_key}: {message}")


def print_warehouse() -> None:
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
