"""The daily refresh as two jobs, and when it runs.

A failed step skips everything downstream of it in the same run, and dbt is one step: if one
source turning bad failed a step of the same run as dbt, the whole country would wait for it.
So the refresh is `ingest` (the lake: reference and source tables, with their checks) and then
`build` (dbt, the quality checks, the docs, publishing), started when `ingest` ends, whether it
succeeded or not: the bad source's last good load stays in the lake and its failure is alerted.
`daily_refresh` (everything in one run) stays for a manual full run from the UI.
"""

import dagster as dg

from orchestration import changes

# Two steps at a time on the two cores. Each step process is forked from a server that has
# already imported the code location and the load (pandas, pandera, pyarrow: the code location
# itself does not import them), instead of importing them afresh in every step.
EXECUTION = {"execution": {"config": {"multiprocess": {
    "max_concurrent": 2,
    "start_method": {"forkserver": {"preload_modules": ["orchestration.definitions",
                                                        "ingestion.load"]}},
}}}}

LAKE = dg.AssetSelection.key_prefixes(["lake"])

ingest = dg.define_asset_job(
    name="ingest",
    selection=LAKE,
    description="Read the sources into the lake (and the area reference), each table checked. "
                "Scheduled and sensor runs select only the tables whose files changed.",
    config=EXECUTION,
)

build = dg.define_asset_job(
    name="build",
    selection=dg.AssetSelection.all() - LAKE,
    description="Build the warehouse with dbt (snapshots included), check it, write the docs and "
                "publish. Started when `ingest` ends, with what is downstream of what it loaded.",
    config=EXECUTION,
)

daily_refresh = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Everything in one run (a manual full refresh). The schedule and `make run` use "
                "`ingest` then `build`, so that one bad source does not hold up the others.",
    config=EXECUTION,
)


@dg.schedule(
    name="daily_refresh_0200_bangkok",
    job=ingest,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Bangkok",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 02:00 Bangkok time, before the working day: ingest the source "
                "tables whose files changed since their last load (the build follows).",
)
def daily_refresh_0200_bangkok(context: dg.ScheduleEvaluationContext):
    due = changes.detect(context.instance)
    # Tables loaded by a run whose build never published (killed, failed) are loaded again, so
    # that the build which follows takes them in.
    unbuilt = changes.unbuilt(context.instance, context.repository_def.asset_graph)
    keys = sorted(set(due.asset_keys) | set(unbuilt), key=lambda k: k.to_user_string())
    if not keys:
        return dg.SkipReason("No source file changed since the lake's current loads, and every "
                             "load is published.")
    return dg.RunRequest(asset_selection=keys,
                         tags={"codi/trigger": "schedule", "codi/due": ",".join(sorted(due.tables))[:4000]})
