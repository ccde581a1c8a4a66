"""The whole refresh as one job, and when it runs."""

import dagster as dg

daily_refresh = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest every source, build the warehouse, check it and publish: what `make run` does.",
    # Two steps at a time on the two cores. Each step process is forked from a server that has
    # already imported the code location, instead of importing dagster, dbt and pandera afresh.
    config={"execution": {"config": {"multiprocess": {
        "max_concurrent": 2,
        "start_method": {"forkserver": {"preload_modules": ["orchestration.definitions"]}},
    }}}},
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_0200_bangkok",
    job=daily_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Bangkok",
    description="Every day at 02:00 Bangkok time, before the working day.",
)
