"""What changed since the lake's current loads: the one answer `make run`, the daily schedule
and the sensors share, so they never disagree about what to ingest, build and publish.

A source table is due when the sha256 of its files differs from the files recorded by its
current load (`lake/loads/<source>/<table>.json`, docs/lake.md), when it has no load yet, or
when its parent table is due or was loaded after it (a child's rows are judged against its
parent's current load: households after projects). A reference table is
due when its Parquet is missing or geothai's data version differs from the one its last
materialisation recorded. Everything else is left alone: the build then selects only what is
downstream of what was ingested.

The publication is behind when the last good build (every mart and audit model passed its
blocking checks: `published/release_folder` materialised) is not the current release and the
warehouse has not changed since: its publish was killed or failed. The publishing assets are
then selected, even with nothing due, and complete it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration import settings

REFERENCE_TABLES = ("areas", "abolished_codes", "boundaries")
# The reference tables built from geothai: a new package version may change codes.
GEOTHAI_TABLES = ("areas", "abolished_codes")
# sha256 of each source file by (size, mtime): a sensor that looks every minute re-hashes only
# what was touched (six million members are about a gigabyte).
HASH_CACHE = ".source_hashes.json"


@dataclass
class Changes:
    """The lake tables to ingest, and why each one."""

    tables: dict[str, str] = field(default_factory=dict)      # "housing/projects" -> reason
    reference: dict[str, str] = field(default_factory=dict)   # "areas" -> reason
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> {file: sha256}
    accepted: dict[str, str] = field(default_factory=dict)  # table -> digest of its shrink acceptance

    @property
    def asset_keys(self) -> list[dg.AssetKey]:
        return ([dg.AssetKey(["lake", "reference", t]) for t in sorted(self.reference)]
                + [dg.AssetKey(["lake", *t.split("/")]) for t in sorted(self.tables)])

    def __bool__(self) -> bool:
        return bool(self.tables or self.reference)

    def fingerprint(self) -> str:
        """Digest of what is due and the files it would read: the same change gives the same
        run key, so a sensor asks for it once."""
        state = {"tables": {t: self.files.get(t, {}) for t in sorted(self.tables)},
                 "reference": sorted(self.reference)}
        if self.accepted:   # accepting a shrunken export asks for the same files once more
            state["accepted"] = dict(sorted(self.accepted.items()))
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> list[str]:
        return ([f"lake/reference/{t}: {why}" for t, why in sorted(self.reference.items())]
                + [f"lake/{t}: {why}" for t, why in sorted(self.tables.items())])


class _HashCache:
    """sha256 per file, reused while the file's size and modification time stay the same."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, list] = {}
        if path is not None and path.exists():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}   # a damaged cache only costs a re-hash
        self.dirty = False

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = str(path)
        hit = self.entries.get(key)
        if hit and hit[0] == stat.st_size and hit[1] == stat.st_mtime_ns:
            return hit[2]
        from ingestion.readers import sha256_file   # pandas: not at the code location's import

        digest = sha256_file(path)
        self.entries[key] = [stat.st_size, stat.st_mtime_ns, digest]
        self.dirty = True
        return digest

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.entries), encoding="utf-8")
        os.replace(tmp, self.path)   # the sensor and a run may both save: last one wins, whole


def _current_files(spec, sources_dir: Path, cache: _HashCache) -> dict[str, str]:
    files = sorted(p for p in sources_dir.glob(spec.pattern) if p.is_file())
    return {p.relative_to(sources_dir).as_posix(): cache.sha256(p) for p in files}


def source_matches_load(spec, sources_dir: Path | None = None, lake_dir: Path | None = None) -> bool:
    """Whether a table's source files are the ones its current load in the lake was read from."""
    from ingestion.load import read_reconciliation

    sources_dir = Path(sources_dir or settings.sources_dir())
    lake_dir = Path(lake_dir or settings.lake_dir())
    rec = read_reconciliation(lake_dir, spec.source, spec.table)
    cache = _HashCache(lake_dir / HASH_CACHE)
    matches = rec is not None and _current_files(spec, sources_dir, cache) == rec.files
    cache.save()
    return matches


def _file_changes(current: dict[str, str], loaded: dict[str, str]) -> str:
    new = sorted(set(current) - set(loaded))
    gone = sorted(set(loaded) - set(current))
    changed = sorted(f for f in set(current) & set(loaded) if current[f] != loaded[f])
    parts = ([f"changed {', '.join(changed)}"] if changed else []) + \
            ([f"new {', '.join(new)}"] if new else []) + ([f"removed {', '.join(gone)}"] if gone else [])
    return "; ".join(parts)


def _recorded_geothai_version(instance: dg.DagsterInstance | None, table: str) -> str | None:
    if instance is None:
        return None
    event = instance.get_latest_materialization_event(dg.AssetKey(["lake", "reference", table]))
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("geothai_data_version")
    return None if value is None else str(value.value)


def _loaded_after(parent, child) -> bool:
    """Whether the parent's current load is newer than the child's."""
    import datetime as dt

    if parent is None or child is None:
        return False
    return dt.datetime.fromisoformat(parent.loaded_at) > dt.datetime.fromisoformat(child.loaded_at)


def _acceptance(lake_dir: Path, table: str) -> str | None:
    """The digest of a shrink acceptance recorded for the table (ingestion.load.accept_shrink),
    if any: a new acceptance is a new reason to try the same files again."""
    from ingestion.load import acceptance_path

    path = acceptance_path(lake_dir, *table.split("/"))
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def detect(instance: dg.DagsterInstance | None = None, full: bool = False,
           sources_dir: Path | None = None, lake_dir: Path | None = None) -> Changes:
    """The lake tables due for ingestion (all of them with `full`)."""
    import geothai

    import schemas
    from ingestion.load import read_reconciliation

    sources_dir = Path(sources_dir or settings.sources_dir())
    lake_dir = Path(lake_dir or settings.lake_dir())
    cache = _HashCache(lake_dir / HASH_CACHE)
    out = Changes()
    loads = {}
    for spec in schemas.TABLES.values():
        current = _current_files(spec, sources_dir, cache)
        out.files[spec.name] = current
        if full:
            out.tables[spec.name] = "full refresh"
            continue
        rec = loads[spec.name] = read_reconciliation(lake_dir, spec.source, spec.table)
        if rec is None:
            out.tables[spec.name] = "no load yet"
        elif current != rec.files:
            out.tables[spec.name] = _file_changes(current, rec.files) or "files changed"
    # A child is judged against its parent's current load (ingestion.load.parent_keys): it is due
    # when its parent is, and when the parent was loaded after it (the child's own load failed).
    for spec in schemas.TABLES.values():
        parent = spec.parent and f"{spec.parent.source}/{spec.parent.table}"
        if not parent or spec.name in out.tables:
            continue
        if parent in out.tables:
            out.tables[spec.name] = f"its parent {parent} changed"
        elif _loaded_after(loads.get(parent), loads.get(spec.name)):
            out.tables[spec.name] = f"its parent {parent} was loaded after it"
    for table in out.tables:
        if (acceptance := _acceptance(lake_dir, table)) is not None:
            out.accepted[table] = acceptance
    cache.save()

    for table in REFERENCE_TABLES:
        if full:
            out.reference[table] = "full refresh"
        elif not any((lake_dir / "reference" / table).glob("*.parquet")):
            out.reference[table] = "not in the lake"
        elif table in GEOTHAI_TABLES:
            recorded = _recorded_geothai_version(instance, table)
            if recorded is not None and recorded != str(geothai.DATA_VERSION):
                out.reference[table] = f"geothai data {recorded} -> {geothai.DATA_VERSION}"
    return out


def ingest_keys(asset_graph) -> set[dg.AssetKey]:
    """Every asset the ingest job materialises: the lake (reference and source tables)."""
    return {key for key in asset_graph.get_all_asset_keys()
            if key.path[0] == "lake" and asset_graph.get(key).is_materializable}


def publish_keys(asset_graph) -> set[dg.AssetKey]:
    """The publishing assets (group `published`): they run together, as one release."""
    return dg.AssetSelection.groups(PUBLISHED_GROUP).resolve(asset_graph)


def build_selection(asset_graph, ingested: list[dg.AssetKey],
                    instance: dg.DagsterInstance | None = None) -> list[dg.AssetKey]:
    """What a build after ingesting `ingested` must run: their downstream, minus the lake. With
    an instance, also what this instance never materialised (the seeds and everything on a first
    run; a failed model), and its downstream; and the publishing assets when the publication is
    behind the last good build."""
    lake = ingest_keys(asset_graph)
    roots = set(ingested)
    if instance is not None:
        built = (dg.AssetSelection.all() - dg.AssetSelection.assets(*lake)).resolve(asset_graph)
        latest = instance.get_latest_materialization_events(list(built))
        roots |= {key for key in built if latest.get(key) is None}
        if publication_behind(instance, asset_graph) is not None:
            roots |= publish_keys(asset_graph)
    if not roots:
        return []
    keys = dg.AssetSelection.assets(*roots).downstream().resolve(asset_graph)
    return sorted(keys - lake, key=lambda k: k.to_user_string())


def materialized_in_run(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetKey]:
    """The assets a run materialised, from its event log."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100_000).records
    keys = {r.event_log_entry.dagster_event.asset_key for r in records}
    return sorted(keys, key=lambda k: k.to_user_string())


PUBLISHED_GROUP = "published"
# Materialised when a build's marts and audit models all passed their blocking checks and its
# release folder is open: the last good build. `published/release` switches the release in.
RELEASE_FOLDER = dg.AssetKey(["published", "release_folder"])
RELEASE = dg.AssetKey(["published", "release"])


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey):
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None


def unbuilt(instance: dg.DagsterInstance, asset_graph) -> list[dg.AssetKey]:
    """Lake tables loaded since the last good build: a build that was killed, or failed, or
    never started after their load. The next build takes them in, so nothing loaded is lost
    between the lake and `published/`. (A good build whose publish did not finish needs no
    rebuild: `publication_behind` completes its publication.)"""
    good = _latest(instance, RELEASE_FOLDER)
    out = []
    for key in sorted(ingest_keys(asset_graph), key=lambda k: k.to_user_string()):
        record = _latest(instance, key)
        if record is None:
            continue
        if good is None or record.storage_id > good.storage_id:
            out.append(key)
    return out


@dataclass
class Behind:
    """The publication is behind the last good build `run_id` (release `build`)."""

    run_id: str
    build: str
    current: str | None   # the release readers get now (None: no release yet)

    def describe(self) -> str:
        now = f"release {self.current} is current" if self.current else "no release is current"
        return (f"the last good build, run {self.run_id}, passed every blocking check but its "
                f"publication did not finish ({now})")


def publication_behind(instance: dg.DagsterInstance, asset_graph,
                       publish_dir: Path | None = None) -> Behind | None:
    """Whether the current release is not from the last good build while the warehouse still
    holds that build's marts (nothing upstream of the release was materialised since: a later
    build that failed its checks must not be published). None when up to date, when a run is
    publishing that build right now, or when there is no good build to publish."""
    from publishing import release

    good = _latest(instance, RELEASE_FOLDER)
    if good is None or good.asset_materialization is None:
        return None
    value = good.asset_materialization.metadata.get("release")
    build = str(value.value) if value is not None else good.run_id
    manifest = release.current_manifest(Path(publish_dir or settings.publish_dir()))
    if manifest is not None and manifest.get("build") == build:
        return None
    if release_writer_alive(instance)(build):
        return None
    upstream = dg.AssetSelection.assets(RELEASE_FOLDER).upstream().resolve(asset_graph)
    upstream -= ingest_keys(asset_graph) | {RELEASE_FOLDER}
    for record in instance.get_asset_records(list(upstream)):
        last = record.asset_entry.last_materialization_record
        if last is not None and last.storage_id > good.storage_id:
            return None
    return Behind(run_id=good.run_id, build=build,
                  current=manifest.get("release") if manifest else None)


ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
          dg.DagsterRunStatus.STARTED]
# `make run` tags its runs with the process that runs them, so that a later look can tell a
# run that is still going from one whose process was killed.
PID_TAG, HOST_TAG = "codi/pid", "codi/host"


def process_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


# A run killed with its process (SIGKILL, a reboot) stays "started" in the run storage: after
# this long without an event it no longer counts as running.
STALE_AFTER = dt.timedelta(hours=6)


def release_writer_alive(instance: dg.DagsterInstance) -> Callable[[str], bool]:
    """Whether the run that builds a release (by its build key: the run, or the root of the
    runs re-executing it) is still going: its building folder is then not a leftover."""
    def alive(build: str) -> bool:
        since = dt.datetime.now(dt.timezone.utc) - STALE_AFTER
        for runs_filter in (dg.RunsFilter(run_ids=[build], statuses=ACTIVE, updated_after=since),
                            dg.RunsFilter(tags={"dagster/root_run_id": build}, statuses=ACTIVE,
                                          updated_after=since)):
            if instance.get_run_ids(runs_filter, limit=1):
                return True
        return False
    return alive


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs whose `make run` process died (SIGKILL, a reboot): Dagster would show
    them as running forever, and the source sensor would wait for them. Returns their ids."""
    from publishing.atomic import process_alive

    dead = []
    for run in instance.get_runs(dg.RunsFilter(statuses=ACTIVE)):
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid and host == socket.gethostname() and not process_alive(int(pid)):
            instance.report_run_failed(run, f"The process that ran it ({pid}) is gone: killed.")
            dead.append(run.run_id)
    return dead
