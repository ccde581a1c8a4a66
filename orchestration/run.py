"""`make run`: the daily refresh in the project's Dagster instance (so the runs show in
`make ui`): ingest the source tables whose files changed (`orchestration.changes`), then build,
check and publish what is downstream of what was loaded, then print the summary. A publication
that is behind its last good build (a publish killed or failed) is completed, even with nothing
due. Nothing changed: nothing is ingested, built or published. `--full` ingests and builds
everything.

Usage: python -m orchestration.run [--full | --select ASSET_KEY ...] [--accept-shrink TABLE ...]
       [--log-level LEVEL]
(`--select`: just these assets, in one run of `daily_refresh`, whatever changed.
`--accept-shrink finance/repayments`: accept that table's current export although it has fewer
rows than its last good load allows, then run; `make run ACCEPT=finance/repayments`.)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from dataclasses import dataclass, field

import dagster as dg

from orchestration import changes, settings, summary

# Tagged on run.py's ingest runs: the build_after_ingest sensor (if a daemon runs) leaves
# them alone, as the build follows here.
INLINE_TAGS = {"codi/build": "inline", "codi/alert": "inline", "codi/trigger": "make run"}


@dataclass
class Refresh:
    """One refresh: what was due, the ingest run and the build run (None when not needed)."""

    due: changes.Changes
    ingest: object | None = None
    build: object | None = None
    built: list[dg.AssetKey] = field(default_factory=list)
    # The publication was behind this good build when the refresh started (its publish killed
    # or failed); the build completes it.
    behind: changes.Behind | None = None

    @property
    def success(self) -> bool:
        return all(r is None or r.success for r in (self.ingest, self.build))

    @property
    def run_id(self) -> str | None:
        """The run that published (or would have): the build's, else the ingest's."""
        run = self.build or self.ingest
        return run.run_id if run is not None else None

    @property
    def all_events(self) -> list:
        return [e for r in (self.ingest, self.build) if r is not None for e in r.all_events]


def refresh(instance: dg.DagsterInstance, execute: Callable[..., object], full: bool = False,
            log: Callable[[str], None] = print) -> Refresh:
    """Ingest what changed, then build what depends on what was loaded (or loaded earlier and
    never published). `execute(job_name, asset_keys, tags)` runs one job and returns its
    result: `execute_job` for `make run`, `execute_in_process` in tests."""
    from orchestration.definitions import defs

    from publishing import release

    graph = defs.resolve_asset_graph()
    for run_id in changes.fail_dead_runs(instance):
        log(f"Run {run_id} was killed: marked failed; what it loaded is built now.")
    try:
        release.clean_up(settings.publish_dir(), changes.release_writer_alive(instance),
                         say=lambda message: log(message[:1].upper() + message[1:] + "."))
    except OSError as error:   # e.g. a read-only published/: the publishing step will say so
        log(f"Could not remove the leftovers of killed builds: {error}")
    tags = {**INLINE_TAGS, **changes.process_tags()}
    out = Refresh(due=changes.detect(instance, full=full))
    out.behind = changes.publication_behind(instance, graph)
    if out.behind is not None:
        log(f"Publication is behind: {out.behind.describe()}. Completing it.")
    if out.due:
        log("Due for ingestion:\n  " + "\n  ".join(out.due.describe()))
        out.ingest = execute("ingest", out.due.asset_keys, tags)
        loaded = changes.materialized_in_run(instance, out.ingest.run_id)
    else:
        loaded = []
    pending = set(loaded) | set(changes.unbuilt(instance, graph))
    if full:
        pending |= changes.ingest_keys(graph)
    out.built = changes.build_selection(graph, sorted(pending, key=lambda k: k.to_user_string()),
                                        instance)
    if out.built:
        out.build = execute("build", out.built, {**tags, **({"codi/ingest_run": out.ingest.run_id}
                                                            if out.ingest is not None else {})})
    return out


def alert_failed_runs(instance: dg.DagsterInstance, result: Refresh) -> None:
    """Write the alert of each failed run, as the run-failure sensor does for scheduled runs."""
    from orchestration.defs.sensors import run_alert, write_alert

    for run in (result.ingest, result.build):
        if run is not None and not run.success:
            alert = run_alert(instance, instance.get_run_by_id(run.run_id))
            write_alert(alert)
            print(f"  alert written to {settings.alert_log()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="ingest every source table and rebuild everything")
    parser.add_argument("--select", nargs="*", help="asset keys such as marts/dim_area: run just "
                        "these, in one run of daily_refresh, without looking at what changed")
    parser.add_argument("--accept-shrink", nargs="+", default=[], metavar="SOURCE/TABLE",
                        help="accept the current export of these tables although it shrank by "
                        "more than the table allows (these files only), then run")
    parser.add_argument("--log-level", default="WARNING", help="Dagster console log level")
    parser.add_argument("--log-file", type=Path, help="send the steps' output (dbt's log, "
                        "warnings) to this file instead of the terminal; the summary still prints")
    args = parser.parse_args(argv)
    # Before any run: real data is never pseudonymised with the public demo key.
    try:
        settings.pseudonym_key()
    except settings.PseudonymKeyMissing as exc:
        print(f"Refusing to start: {exc}.", file=sys.stderr)
        return 2
    if args.accept_shrink:
        try:
            accept_shrink([t for arg in args.accept_shrink for t in arg.replace(",", " ").split()])
        except ValueError as exc:
            parser.error(str(exc))
    if not os.environ.get("CODI_PSEUDONYM_KEY"):
        print(f"Note: {settings.sources_dir()} holds the generated demo sources, so pseudonyms use "
              "the public demo key. Set CODI_PSEUDONYM_KEY before loading real data.")

    def _job(name: str) -> Callable[[], dg.JobDefinition]:
        return dg.reconstructable({"ingest": _ingest_job, "build": _build_job,
                                   "daily_refresh": _daily_refresh_job}[name])

    with dg.DagsterInstance.get() as instance:
        def execute(name, keys, tags):
            print(f"Running {name} ({len(keys)} assets)" +
                  (f"; step output in {args.log_file}" if args.log_file else "") + " ...", flush=True)
            with _output_to(args.log_file):
                return dg.execute_job(
                    _job(name), instance=instance, tags=tags, asset_selection=keys,
                    run_config={"loggers": {"console": {"config": {"log_level": args.log_level}}}})

        if args.select:
            keys = [dg.AssetKey.from_user_string(k) for k in args.select]
            # Tagged with this process, so that a killed run is marked failed by the next one.
            tags = {**changes.process_tags(), "codi/alert": "inline", "codi/trigger": "make run --select"}
            result = Refresh(due=changes.Changes(), build=execute("daily_refresh", keys, tags))
        else:
            result = refresh(instance, execute, full=args.full)
        if not args.select and not result.due and result.build is None:
            print("\nNo source file changed since the lake's current loads, and every load is "
                  "published: nothing ingested, built or published.")
        for run in (result.ingest, result.build):
            if run is not None:
                summary.print_run(run, instance)
        from orchestration.definitions import defs

        still_behind = changes.publication_behind(instance, defs.resolve_asset_graph())
        if result.behind is not None and result.build is not None:
            if still_behind is None and result.build.success:
                print(f"\nPublication was behind run {result.behind.run_id}: completed by run "
                      f"{result.build.run_id}.")
            else:
                print(f"\nPublication was behind run {result.behind.run_id}: NOT completed "
                      f"(see the failed step above); the previous release stays current.")
        alert_failed_runs(instance, result)
        summary.print_warehouse(instance)
    summary.print_published(result.run_id, behind=still_behind)  # ends with the reports' index
    return 0 if result.success else 1


def accept_shrink(tables: list[str]) -> None:
    """Record the acceptance of each table's current export (ingestion.load.accept_shrink)."""
    import getpass

    import schemas
    from ingestion.load import accept_shrink as record

    specs = []
    for name in tables:
        spec = schemas.TABLES.get(tuple(name.split("/", 1)))
        if spec is None:
            raise ValueError(f"--accept-shrink: no table {name!r}; the tables are "
                             + ", ".join(sorted(s.name for s in schemas.TABLES.values())))
        specs.append(spec)
    for spec in specs:
        accepted = record(spec, settings.sources_dir(), settings.lake_dir(), by=getpass.getuser())
        files = ", ".join(f"{f} (sha256 {h[:12]})" for f, h in accepted["files"].items())
        print(f"Accepted the current export of {spec.name} although it may have shrunk: {files}. "
              f"This export only: other files are judged again.")


@contextlib.contextmanager
def _output_to(path: Path | None) -> Iterator[None]:
    """Point this process's stdout and stderr (and so its step processes') at `path`."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _ingest_job() -> dg.JobDefinition:
    from orchestration.definitions import defs

    return defs.resolve_job_def("ingest")


def _daily_refresh_job() -> dg.JobDefinition:
    from orchestration.definitions import defs

    return defs.resolve_job_def("daily_refresh")


def _build_job() -> dg.JobDefinition:
    from orchestration.definitions import defs

    return defs.resolve_job_def("build")


if __name__ == "__main__":
    sys.exit(main())
