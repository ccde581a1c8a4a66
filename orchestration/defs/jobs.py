"""The whole refresh as one job, and when it runs."""

import dagster as dg

daily_refresh = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest every source, build the warehouse, check it and publish: what `make run` does.",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_0200_bangkok",
    job=daily_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Bangkok",
    description="Every day at 02:00 Bangkok time, before the working day.",
)
