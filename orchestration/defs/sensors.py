"""Sensors for the daily operation: refresh what depends on a source folder when its files
change, and report every failed run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.request

import dagster as dg

from orchestration import settings
from orchestration.defs.jobs import daily_refresh


def source_fingerprints() -> dict[str, str]:
    """One digest per source folder (housing, welfare, ...) over its files' paths, sizes and
    modification times: cheap enough to run every minute on six million rows' worth of files."""
    root = settings.sources_dir()
    digests: dict[str, str] = {}
    if not root.is_dir():
        return digests
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        h = hashlib.sha256()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            stat = path.stat()
            h.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        digests[folder.name] = h.hexdigest()
    return digests


@dg.sensor(
    name="source_files_changed",
    job=daily_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When files in a source folder change, ingest that source and rebuild only what "
                "depends on it (its lake tables and their downstream models, checks and publish).",
)
def source_files_changed(context: dg.SensorEvaluationContext):
    current = source_fingerprints()
    previous = json.loads(context.cursor) if context.cursor else None
    context.update_cursor(json.dumps(current, sort_keys=True))
    if previous is None:
        return dg.SkipReason("First look at the sources folder: state recorded; the schedule "
                             "does full refreshes.")
    changed = sorted(s for s in current if current[s] != previous.get(s))
    if not changed:
        return dg.SkipReason("No source file changed.")
    selection = dg.AssetSelection.key_prefixes(*[["lake", s] for s in changed]).downstream()
    keys = sorted(selection.resolve(context.repository_def.asset_graph), key=str)
    if not keys:
        return dg.SkipReason(f"Changed sources {changed} feed no asset.")
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, asset_selection=keys,
                         tags={"codi/trigger": "source_files_changed",
                               "codi/changed_sources": ",".join(changed)})


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


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes every failed run to the alert log (CODI_ALERT_LOG) and, if "
                "CODI_ALERT_WEBHOOK is set, posts it there.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    failed_steps = [
        {"step": e.step_key, "error": (e.step_failure_data.error.message.strip()
                                        if e.step_failure_data and e.step_failure_data.error else "")}
        for e in context.get_step_failure_events()
    ]
    write_alert({
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "run_id": context.dagster_run.run_id,
        "job": context.dagster_run.job_name,
        "message": context.failure_event.message,
        "failed_steps": failed_steps,
    })
