"""Sensors for the daily operation: ingest a source table when its files change, build what
depends on an ingest run's tables when it ends (succeeded or failed), complete a publication
that is behind its last good build, and report every failed run with its cause."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import dagster as dg

from orchestration import changes, failures, settings
from orchestration.defs.jobs import build, ingest


# run.py runs its own build right after its ingest: the sensor leaves those alone.
INLINE_BUILD_TAG = "codi/build"


# A run killed with its process (SIGKILL, a reboot) stays "started" in the run storage: after
# this long without an event it no longer holds the sensor back.
STALE_AFTER = changes.STALE_AFTER


def _refresh_in_progress(instance: dg.DagsterInstance) -> bool:
    changes.fail_dead_runs(instance)
    since = dt.datetime.now(dt.timezone.utc) - STALE_AFTER
    return bool(instance.get_run_ids(dg.RunsFilter(statuses=changes.ACTIVE, updated_after=since), limit=1))


@dg.sensor(
    name="source_files_changed",
    job=ingest,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a source table's files differ from its current load (sha256), ingest that "
                "table; the build that follows rebuilds only what depends on it.",
)
def source_files_changed(context: dg.SensorEvaluationContext):
    if _refresh_in_progress(context.instance):
        return dg.SkipReason("A run is queued or in progress: looking again after it.")
    due = changes.detect(context.instance)
    if not due:
        return dg.SkipReason("No source file changed since the lake's current loads.")
    # The same files give the same run key: a change is ingested once, and a source that fails
    # is not retried every minute (the schedule retries it daily; a new export retries it now).
    return dg.RunRequest(run_key=due.fingerprint(), asset_selection=due.asset_keys,
                         tags={"codi/trigger": "source_files_changed",
                               "codi/due": ",".join(sorted(due.tables))[:4000]})


def build_request(context: dg.RunStatusSensorContext):
    """After an ingest run, whether it succeeded or failed: build what is downstream of the
    tables it loaded. A table that failed keeps its last good load, so the rest can go on."""
    run = context.dagster_run
    if run.tags.get(INLINE_BUILD_TAG) == "inline":
        return dg.SkipReason(f"Run {run.run_id} builds on its own (make run).")
    graph = context.repository_def.asset_graph
    # What this run loaded, and anything loaded earlier whose build never published.
    loaded = set(changes.materialized_in_run(context.instance, run.run_id))
    keys = changes.build_selection(graph, sorted(loaded | set(changes.unbuilt(context.instance, graph)),
                                                 key=lambda k: k.to_user_string()), context.instance)
    if not keys:
        return dg.SkipReason(f"Ingest run {run.run_id} loaded nothing: nothing to build or publish.")
    return dg.RunRequest(run_key=f"build-after-{run.run_id}", asset_selection=keys,
                         tags={"codi/trigger": "after_ingest", "codi/ingest_run": run.run_id})


@dg.run_status_sensor(
    name="build_after_ingest",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest],
    request_job=build,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When `ingest` succeeds, build, check and publish what depends on what it loaded.",
)
def build_after_ingest(context: dg.RunStatusSensorContext):
    return build_request(context)


@dg.run_failure_sensor(
    name="build_after_failed_ingest",
    monitored_jobs=[ingest],
    request_job=build,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When `ingest` fails (a source turned bad), build what the other tables loaded: "
                "the bad table's last good load stays in the lake.",
)
def build_after_failed_ingest(context: dg.RunFailureSensorContext):
    return build_request(context)


@dg.sensor(
    name="complete_publication",
    job=build,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When the publication is behind the last good build (its publish was killed or "
                "failed) and nothing runs, publish that build: the `published` group alone.",
)
def complete_publication(context: dg.SensorEvaluationContext):
    if _refresh_in_progress(context.instance):
        return dg.SkipReason("A run is queued or in progress: looking again after it.")
    graph = context.repository_def.asset_graph
    behind = changes.publication_behind(context.instance, graph)
    if behind is None:
        return dg.SkipReason("The current release is the last good build's.")
    # Once a day per build: a publish that keeps failing (a full disk) is alerted, not hammered.
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return dg.RunRequest(run_key=f"complete-publication-{behind.build}-{day}",
                         asset_selection=sorted(changes.publish_keys(graph), key=lambda k: k.to_user_string()),
                         tags={"codi/trigger": "publication_behind", "codi/behind_run": behind.run_id})


def write_alert(alert: dict) -> None:
    """Append the alert to the alert log and, if a webhook is configured, POST it there. A broken
    webhook must not hide the alert: the log line is written first."""
    path = settings.alert_log()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(alert, ensure_ascii=False) + "\n")
    url = settings.alert_webhook()
    if url:
        request = urllib.request.Request(url, data=json.dumps(alert, ensure_ascii=False).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass


# run.py writes the alert of its own runs (no daemon needed); the sensor leaves those alone.
INLINE_ALERT_TAG = "codi/alert"


def run_alert(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str = "") -> dict:
    """The alert for a failed run, from its event log: each failed step with its root error
    (e.g. `OSError: [Errno 28] No space left on device: '/path'`, not Dagster's wrapper) and,
    where known, the file, table, row and column (orchestration/failures.py)."""
    failed_steps = failures.step_failures(instance, run.run_id)
    if failed_steps:
        first = failed_steps[0]
        headline = (f"Run {run.run_id} of {run.job_name} failed: {len(failed_steps)} step(s) "
                    f"failed; {first['step']}: {first['error'][:300]}")
    else:
        # No step failed: the run itself did (killed, a resource that would not start).
        headline = failures.run_failure(instance, run.run_id) or message \
            or f"Run {run.run_id} of {run.job_name} failed"
    return {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "message": headline,
        "failed_steps": failed_steps,
    }


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes every failed run to the alert log (CODI_ALERT_LOG) and, if "
                "CODI_ALERT_WEBHOOK is set, posts it there.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    if run.tags.get(INLINE_ALERT_TAG) == "inline":
        return dg.SkipReason(f"Run {run.run_id} was alerted by make run.")
    write_alert(run_alert(context.instance, run, context.failure_event.message or ""))
