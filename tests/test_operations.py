"""Daily operations, as the data team lives them: `make run` (python -m orchestration.run, a real
process on a real Dagster instance) on a copy of the demo sources that moves day by day.

The tests share one sequence (module-scoped, in file order): a first full run, a run with no
change, one source changed while another turns bad, a day of new records whose run is killed
during dbt and the next during the area reports, then the publications that are behind: one
killed while switching the release in, one on a full disk, one on a read-only `published/`, and
the run that completes it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

PROJECT = Path(__file__).resolve().parent.parent


class Ops:
    def __init__(self, root: Path):
        self.root = root
        self.sources, self.truth = root / "sources", root / "ground_truth"
        self.published, self.home = root / "published", root / "dagster_home"
        self.alerts = root / "alerts.log"
        self.env = {**os.environ, "DAGSTER_HOME": str(self.home),
                    "CODI_SOURCES_DIR": str(self.sources), "CODI_GROUND_TRUTH_DIR": str(self.truth),
                    "CODI_LAKE_DIR": str(root / "lake"),
                    "CODI_WAREHOUSE": str(root / "warehouse" / "codi.duckdb"),
                    "CODI_PUBLISH_DIR": str(self.published), "CODI_ALERT_LOG": str(self.alerts)}
        self.env.pop("CODI_ALERT_WEBHOOK", None)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "orchestration.run", *args], cwd=PROJECT,
                              env=self.env, capture_output=True, text=True, timeout=1200)

    def advance(self, days: int = 1, *only: str) -> dict:
        subprocess.run([sys.executable, "-m", "ingestion.demo", "--advance-days", str(days),
                        "--out", str(self.sources), "--truth", str(self.truth),
                        *(["--only", *only] if only else [])],
                       cwd=PROJECT, env=self.env, check=True, capture_output=True, text=True)
        return json.loads((self.truth / "advanced.json").read_text(encoding="utf-8"))

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def manifest(self) -> dict:
        return json.loads((self.published / "manifest.json").read_text(encoding="utf-8"))

    def current(self) -> str:
        """The release `published/current` points at."""
        return os.readlink(self.published / "current")

    def releases(self) -> list[str]:
        return sorted(p.name for p in (self.published / "releases").iterdir() if not p.name.startswith("."))

    def alerts_of(self, run_id: str) -> list[dict]:
        lines = self.alerts.read_text(encoding="utf-8").splitlines() if self.alerts.exists() else []
        return [a for a in map(json.loads, lines) if a["run_id"] == run_id]

    def published_whole(self) -> dict:
        """The published copy opens, and holds every table of its manifest with its row count,
        in the database and in Parquet; every file the manifest lists is in the current release
        with its size: a reader sees one whole publication, from one run."""
        manifest = self.manifest()
        release = self.published / self.current()
        assert manifest["release"] == release.name
        for rel, spec in manifest["files"].items():
            assert (release / rel).stat().st_size == spec["bytes"], rel
        with duckdb.connect(str(self.published / "codi.duckdb"), read_only=True) as con:
            assert con.execute("select run_id from meta.publish_info").fetchone()[0] == manifest["run_id"]
            for table, spec in manifest["tables"].items():
                assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] == spec["rows"], table
                parquet = self.published / "parquet" / f"{table}.parquet"
                assert con.execute("select count(*) from read_parquet(?)",
                                   [str(parquet)]).fetchone()[0] == spec["rows"], parquet
        return manifest

    def loads(self) -> dict[str, dict]:
        return {f"{p.parent.name}/{p.stem}": json.loads(p.read_text(encoding="utf-8"))
                for p in (self.root / "lake" / "loads").glob("*/*.json")}

    def kpi(self, kpi_id: str, fiscal_year: int) -> float:
        with duckdb.connect(str(self.published / "codi.duckdb"), read_only=True) as con:
            row = con.execute("""select actual from marts.mart_kpi where kpi_id = ? and fiscal_year = ?
                                 and area_level = 'country'""", [kpi_id, fiscal_year]).fetchone()
        return row[0] if row else 0


def _runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(reversed(instance.get_runs()))   # oldest first


def _materialized(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    from orchestration.changes import materialized_in_run

    return {k.to_user_string() for k in materialized_in_run(instance, run_id)}


@pytest.fixture(scope="module")
def ops(tmp_path_factory, demo_sources: Path, codi_env: Path) -> Ops:
    """A copy of the demo sources, its own lake, warehouse, published folder and Dagster
    instance, after a first full `make run`."""
    o = Ops(tmp_path_factory.mktemp("operations"))
    shutil.copytree(demo_sources, o.sources)
    shutil.copytree(codi_env / "ground_truth", o.truth)
    o.home.mkdir()
    shutil.copyfile(PROJECT / "orchestration" / "dagster.yaml", o.home / "dagster.yaml")
    first = o.run()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    o.published_whole()
    return o


def test_a_run_with_no_change_builds_and_publishes_nothing(ops: Ops):
    with ops.instance() as instance:
        runs = len(_runs(instance))
    before = ops.manifest()
    done = ops.run()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "nothing ingested, built or published" in done.stdout
    with ops.instance() as instance:
        assert len(_runs(instance)) == runs, "no Dagster run was started"
    assert ops.manifest() == before


def test_one_changed_source_refreshes_alone_while_a_bad_source_fails_and_alerts(ops: Ops, monkeypatch):
    """Disaster gets a new event; finance/loans.csv arrives with a column renamed. Only the
    disaster table and its downstream are rebuilt and published; loans fail with a message
    naming the file, the table and the column, keep their last good load, and are alerted."""
    day = ops.advance(1, "disaster")["history"][-1]
    loans = ops.sources / "finance" / "loans.csv"
    good = loans.read_bytes()
    loans.write_bytes(good.replace(b"principal", b"principal_baht", 1))
    lake_loans = (ops.root / "lake" / "loads" / "finance" / "loans.json").read_text(encoding="utf-8")
    try:
        done = ops.run()
    finally:
        loans.write_bytes(good)
    assert done.returncode == 1, "a failed source makes make run exit non-zero"

    with ops.instance() as instance:
        ingest, build = _runs(instance)[-2:]
        assert (ingest.job_name, ingest.status) == ("ingest", dg.DagsterRunStatus.FAILURE)
        assert (build.job_name, build.status) == ("build", dg.DagsterRunStatus.SUCCESS)
        assert _materialized(instance, ingest.run_id) == {"lake/disaster/events"}
        failures = {e.step_key: e.dagster_event.step_failure_data
                    for e in instance.all_logs(ingest.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)}
        assert "lake__finance__loans" in failures
        message = failures["lake__finance__loans"].user_failure_data.description
        assert "finance/loans.csv" in message and "finance/loans" in message and "principal" in message

        # The build ran exactly what depends on the disaster events: no other source's models.
        from orchestration.changes import build_selection
        from orchestration.definitions import defs

        expected = {k.to_user_string() for k in build_selection(
            defs.resolve_asset_graph(), [dg.AssetKey(["lake", "disaster", "events"])])}
        built = _materialized(instance, build.run_id)
        assert built == expected
        assert "marts/fct_disaster_events" in built and "published/codi_duckdb" in built
        assert not any(k.startswith(("staging/stg_finance", "marts/fct_loan", "staging/stg_housing"))
                       for k in built)

        # The sensors a daemon would run, evaluated on the failed ingest run as if the schedule
        # had started it: the alert, and a build of what the other tables loaded.
        from orchestration.defs import sensors

        monkeypatch.setenv("CODI_ALERT_LOG", str(ops.alerts))   # where this test's alerts go
        scheduled = ingest.with_tags({"codi/trigger": "schedule"})
        failure = instance.all_logs(ingest.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
        context = dg.build_run_status_sensor_context(
            sensor_name="build_after_failed_ingest", dagster_event=failure.dagster_event,
            dagster_instance=instance, dagster_run=scheduled,
            repository_def=defs.get_repository_def()).for_run_failure()
        request = sensors.build_after_failed_ingest(context)
        assert {k.to_user_string() for k in request.asset_selection} == expected
        alerts_before = ops.alerts.read_text(encoding="utf-8").count("\n")
        sensors.alert_on_run_failure(context)
        assert ops.alerts.read_text(encoding="utf-8").count("\n") == alerts_before + 1

    assert ops.published_whole()["run_id"] == build.run_id
    with duckdb.connect(str(ops.published / "codi.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_disaster_events where event_id = ?",
                           [day["disaster"]["new_event"]]).fetchone()[0] == 1
    # The bad table keeps its last good load; make run's alert names the run, step and column.
    assert (ops.root / "lake" / "loads" / "finance" / "loans.json").read_text(encoding="utf-8") == lake_loans
    alerts = [json.loads(line) for line in ops.alerts.read_text(encoding="utf-8").splitlines()]
    mine = [a for a in alerts if a["run_id"] == ingest.run_id]
    assert mine and mine[0]["job"] == "ingest"
    step = next(s for s in mine[0]["failed_steps"] if s["step"] == "lake__finance__loans")
    assert step["file"] == "finance/loans.csv" and step["table"] == "finance/loans"
    assert "principal" in step["error"]
    # The summary marks the table stale: the load the lake keeps, and why the new one failed.
    stale = next(line for line in done.stdout.splitlines() if line.strip().startswith("finance/loans:"))
    assert f"load {json.loads(lake_loans)['load_id']}" in stale and "kept" in stale
    assert f"failed in run {ingest.run_id}" in stale and "principal" in stale
    assert re.search(r"finance/loans\s.*STALE$", done.stdout, re.MULTILINE)


def _killed_at(ops: Ops, marker: str) -> str:
    """Start `make run` and SIGKILL its whole process group when `marker` shows in its log.
    Returns what it printed until then."""
    run = subprocess.Popen([sys.executable, "-m", "orchestration.run", "--log-level", "INFO"],
                           cwd=PROJECT, env=ops.env, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caught, log = threading.Event(), []

    def watch():
        for line in run.stdout:
            log.append(line)
            if marker in line:
                caught.set()
    threading.Thread(target=watch, daemon=True).start()
    try:
        assert caught.wait(timeout=900), f"never reached {marker!r}:\n" + "".join(log[-30:])
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == -signal.SIGKILL
    time.sleep(1)   # the killed step processes are gone before anyone looks
    return "".join(log)


def _run_meanwhile(ops: Ops, marker: str, act: Callable[[], None]) -> subprocess.CompletedProcess:
    """`make run` to its end, doing `act` when `marker` shows in its log."""
    run = subprocess.Popen([sys.executable, "-m", "orchestration.run", "--log-level", "INFO"],
                           cwd=PROJECT, env=ops.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    log, done_act = [], []
    for line in run.stdout:
        log.append(line)
        if marker in line and not done_act:
            act()
            done_act.append(True)
    run.wait(timeout=900)
    assert done_act, f"never reached {marker!r}:\n" + "".join(log[-30:])
    return subprocess.CompletedProcess(run.args, run.returncode, "".join(log), "")


def _building(ops: Ops) -> Path:
    [folder] = (ops.published / "releases").glob("*.building")
    return folder


@contextlib.contextmanager
def _full_disk(folder: Path) -> Iterator[str]:
    """`folder` becomes a 64 KiB file system (tmpfs; root only), or else a folder no one may
    write. Yields the error the writer gets."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
        try:
            yield "No space left on device"
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield "Permission denied"
        finally:
            folder.chmod(0o755)


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[str]:
    """`folder` read-only: a read-only bind mount (root, who ignores permissions), or else no
    write permission on it, its releases and their lock."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
            yield "Read-only file system"
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        paths = [folder, folder / "releases", folder / "releases" / ".lock"]
        modes = [p.stat().st_mode for p in paths]
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield "Permission denied"
        finally:
            for p, mode in zip(paths, modes):
                p.chmod(mode)


def _failed_step_line(stdout: str, step: str) -> str:
    return next(line for line in stdout.splitlines() if line.strip().startswith(f"failed step {step}:"))


def _point_settings_at(ops: Ops, monkeypatch) -> None:
    for name in ("CODI_SOURCES_DIR", "CODI_GROUND_TRUTH_DIR", "CODI_LAKE_DIR", "CODI_WAREHOUSE",
                 "CODI_PUBLISH_DIR", "CODI_ALERT_LOG"):
        monkeypatch.setenv(name, ops.env[name])


def _complete_publication_tick(ops: Ops, instance: dg.DagsterInstance):
    from orchestration.definitions import defs

    sensor = defs.resolve_sensor_def("complete_publication")
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def()))


def test_a_day_of_new_records_survives_kills_during_dbt_and_the_reports(ops: Ops):
    """A day of new records arrives. The run is killed while dbt builds, the next one while it
    builds the area reports: the publication stays the last good release, whole, with `current`
    on it; the reports' killed run leaves its building folder, and its good build behind."""
    before = ops.published_whole()
    ops.before_day = before
    ops.kpis_before = ops.kpi("K2", 2559), ops.kpi("K7", 2559)
    ops.loads_before = ops.loads()
    with duckdb.connect(str(ops.published / "codi.duckdb"), read_only=True) as con:
        ops.paid_before = con.execute("select count(paid_date) from marts.fct_loan_repayments").fetchone()[0]
    ops.day = ops.advance(1)["history"][-1]
    current = ops.current()
    # dbt has built some models and not the rest.
    _killed_at(ops, "OK created sql table model intermediate.")
    assert ops.published_whole() == before and ops.current() == current

    # Nothing changed in the sources since, but the records loaded by the killed run were
    # never published: the next run builds them, and is killed building the reports (the copy
    # of the marts, the maps and the docs of the new release are written by then, or being).
    _killed_at(ops, "building the area reports")
    assert ops.published_whole() == before and ops.current() == current
    assert (_building(ops) / "codi.duckdb").exists(), "the new release was being built aside"


def test_a_publication_behind_is_completed_without_a_rebuild_and_killed_while_switching(ops: Ops):
    """No source changed, but the last good build was never published: the next run publishes
    it (the `published` group alone, no dbt), and is killed while it verifies and switches the
    release in. The previous release stays current and whole."""
    log = _killed_at(ops, "verifying release")
    assert "Publication is behind" in log
    assert ops.published_whole() == ops.before_day
    with ops.instance() as instance:
        killed = _runs(instance)[-1]
        assert killed.job_name == "build"
        assert set(killed.asset_selection or []) == {
            dg.AssetKey(["published", n]) for n in
            ("release_folder", "codi_duckdb", "geo", "reports", "docs", "release")}


def test_a_full_disk_in_the_reports_step_names_its_cause_and_keeps_the_release(ops: Ops):
    """The reports' folder of the new release is on a full file system: the run fails, the
    summary and the alert give the root error (not Dagster's "Error occurred while executing
    op") with the path, and the previous release stays current and whole."""
    stack = contextlib.ExitStack()
    expected = []

    def fill_the_disk():
        expected.append(stack.enter_context(_full_disk(_building(ops) / "reports")))
    with stack:
        done = _run_meanwhile(ops, "copy marts.", fill_the_disk)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "was killed: marked failed" in done.stdout
    line = _failed_step_line(done.stdout, "published__reports")
    assert expected[0] in line and "/reports" in line and "Error occurred while executing" not in line
    assert "Publication was behind" in done.stdout and "NOT completed" in done.stdout
    assert ops.published_whole() == ops.before_day

    with ops.instance() as instance:
        failed = _runs(instance)[-1]
    [alert] = ops.alerts_of(failed.run_id)
    step = next(s for s in alert["failed_steps"] if s["step"] == "published__reports")
    assert expected[0] in step["error"] and "/reports" in step["error"]
    assert step["exception"] in ("OSError", "PermissionError")
    assert "published__reports" in alert["message"] and expected[0] in alert["message"]


def test_a_read_only_published_folder_names_its_cause(ops: Ops, monkeypatch):
    with _read_only(ops.published) as expected:
        done = ops.run()
    assert done.returncode == 1, done.stdout[-3000:]
    line = _failed_step_line(done.stdout, "published__release_folder")
    assert expected in line and str(ops.published / "releases") in line
    assert ops.published_whole() == ops.before_day
    with ops.instance() as instance:
        failed = _runs(instance)[-1]
        # What the daemon would do meanwhile: publish the last good build, the group alone.
        _point_settings_at(ops, monkeypatch)
        [request] = _complete_publication_tick(ops, instance).run_requests
        assert {k.path[0] for k in request.asset_selection} == {"published"}
        assert len(request.asset_selection) == 6 and request.tags["codi/trigger"] == "publication_behind"
    [alert] = ops.alerts_of(failed.run_id)
    [step] = alert["failed_steps"]
    assert step["step"] == "published__release_folder" and expected in step["error"]
    assert str(ops.published / "releases") in step["error"]


def test_the_next_run_completes_the_publication_and_the_day_reaches_mart_kpi(ops: Ops, monkeypatch):
    """The next run, with no source changed, completes the publication from the last good build
    (no rebuild): the day's records reach the published marts, from one run, and nothing the
    killed and failed runs left remains."""
    before, day = ops.before_day, ops.day
    done = ops.run()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"Publication was behind run \S+: completed by run \S+", done.stdout), done.stdout[-3000:]
    after = ops.published_whole()
    assert after["run_id"] != before["run_id"]
    assert ops.current() == f"releases/{after['release']}"
    with duckdb.connect(str(ops.published / "codi.duckdb"), read_only=True) as con:
        assert con.execute("select count(paid_date) from marts.fct_loan_repayments").fetchone()[0] \
            == ops.paid_before + day["finance"]["repayments_paid"]
        assert con.execute("select count(*) from marts.fct_disaster_events where event_id = ?",
                           [day["disaster"]["new_event"]]).fetchone()[0] == 1
    # The families and the council keyed in late (FY2559, the plan's last year) count in K2
    # and K7; today's own records (FY2561) are beyond the plan's years, in the facts.
    k2, k7 = ops.kpis_before
    assert day["housing"]["late_moved_in"] > 0
    assert ops.kpi("K2", 2559) == k2 + day["housing"]["late_moved_in"]
    assert ops.kpi("K7", 2559) == k7 + 1
    # The day's records are clean: the ground-truth manifest (unchanged) stays true, every
    # table quarantines and drops exactly what it did before, and keeps the new rows.
    loads, loads_before = ops.loads(), ops.loads_before
    for table in ("housing/projects", "housing/households", "disaster/events", "organization/councils"):
        assert (loads[table]["quarantined"], loads[table]["duplicates"]) == \
            (loads_before[table]["quarantined"], loads_before[table]["duplicates"]), table
        assert loads[table]["valid"] > loads_before[table]["valid"], table
    # The corrected council has its new area, and the warehouse keeps its old one as history.
    fix = day["organization"]["corrected_area_code"]
    with duckdb.connect(ops.env["CODI_WAREHOUSE"], read_only=True) as con:
        versions = con.execute("""select subdistrict_code, dbt_valid_to is null from snapshots.snap_council_registrations
                                  where council_code = ? order by dbt_valid_from""", [fix["council"]]).fetchall()
    assert versions == [(fix["from"], False), (fix["to"], True)]
    with ops.instance() as instance:
        # The killed runs are in the history as failed, not running forever; the day's tables
        # were loaded once, by the first killed run, and the untouched ones not at all.
        assert not [r.run_id for r in _runs(instance) if r.status == dg.DagsterRunStatus.STARTED]
        ingests = [r for r in _runs(instance) if r.job_name == "ingest"]
        loaded = _materialized(instance, ingests[-1].run_id)
        assert {"lake/finance/repayments", "lake/disaster/events"} <= loaded
        assert "lake/welfare/members" not in loaded
        builds = [r for r in _runs(instance) if r.job_name == "build"][-6:]
        assert [r.status for r in builds] == [dg.DagsterRunStatus.FAILURE] * 5 + [dg.DagsterRunStatus.SUCCESS]
        # dbt ran in the first two (killed) builds only: the last good build was published as it was.
        assert not [k for k in _materialized(instance, builds[-1].run_id) if not k.startswith("published/")]
        _point_settings_at(ops, monkeypatch)
        assert "last good build's" in _complete_publication_tick(ops, instance).skip_message
    # Nothing the killed and failed runs left: no building folder, no temporary file; the last
    # three releases kept, the newest current.
    assert not list(ops.published.rglob("*.building")) and not list(ops.published.rglob(".*.tmp*"))
    assert len(ops.releases()) <= 3 and after["release"] in ops.releases()


def test_source_sensor_and_schedule_ask_for_the_changed_table_once(ops: Ops, monkeypatch):
    """What the daemon would do: nothing while the sources match the lake; after a new disaster
    event, an ingest of that table alone, under one run key however often the sensor looks."""
    from orchestration.definitions import defs

    _point_settings_at(ops, monkeypatch)
    sensor = defs.resolve_sensor_def("source_files_changed")
    schedule = defs.resolve_schedule_def("daily_refresh_0200_bangkok")
    repo = defs.get_repository_def()
    with ops.instance() as instance:
        quiet = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repo))
        assert not quiet.run_requests and "No source file changed" in quiet.skip_message
        ops.advance(1, "disaster")
        ticks = [sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repo))
                 for _ in range(2)]
        for tick in ticks:
            [request] = tick.run_requests
            assert [k.to_user_string() for k in request.asset_selection] == ["lake/disaster/events"]
        assert ticks[0].run_requests[0].run_key == ticks[1].run_requests[0].run_key
        scheduled = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, repository_def=repo))
        [request] = scheduled.run_requests
        assert [k.to_user_string() for k in request.asset_selection] == ["lake/disaster/events"]
