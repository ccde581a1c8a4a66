"""The code location loads, with every asset in its group, and dbt tests as asset checks."""

from __future__ import annotations

import dagster as dg


def test_definitions_load_with_groups_and_checks():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}
    assert keys["marts/dim_area"].group_name == "marts"
    assert keys["staging/stg_reference__areas"].group_name == "staging"
    assert keys["lake/reference/areas"].group_name == "reference"
    # lineage: the reference Parquet feeds staging, which feeds the mart
    assert dg.AssetKey(["lake", "reference", "areas"]) in keys["staging/stg_reference__areas"].parent_keys
    assert dg.AssetKey(["staging", "stg_reference__areas"]) in keys["marts/dim_area"].parent_keys
    checks = {check.to_user_string() for check in graph.asset_check_keys}
    assert any(c.startswith("marts/dim_area:unique_dim_area_area_code") for c in checks)
    assert all(spec.description for spec in (keys[k] for k in keys) if spec.key.path[0] in ("marts", "lake"))
    assert defs.resolve_job_def("daily_refresh") is not None
    schedule = defs.resolve_schedule_def("daily_refresh_0200_bangkok")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Bangkok")


def test_code_location_loads_without_the_data_libraries():
    """Every Dagster process (the UI, the daemon, each run) loads the code location, so it must
    not import what only the steps use (bench/README.md: loading it is under 5 s this way)."""
    import subprocess
    import sys

    heavy = ("pandas", "pandera", "pyarrow", "great_expectations", "geothai", "shapely", "plotly")
    code = ("import sys, orchestration.definitions; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
