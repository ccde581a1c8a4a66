"""Fault injection: damaged variants of every source format through the real pipeline (issue 13).

On a small copy of the sources (`python -m ingestion.demo --profile small`, a few hundred rows a
table), every variant of tests/faults/variants.py is loaded by the real load
(`ingestion.load.load_table`) on top of a clean load of every table, and must keep its promise:
- the load's rows read equal the records counted from the files' bytes, and every record is one
  row (valid, quarantined) or a counted duplicate: nothing lost, nothing merged;
- a refused table is refused with a message naming the file, the table and the cause, and keeps
  its last good load; a damaged row is quarantined by file and row; the rest loads as before;
- no citizen ID and no personal name from the sources is in the lake or in a message.

Then two full runs of `make run` (`python -m orchestration.run` in a subprocess, with its own
Dagster instance, lake, warehouse and publication), for what only the whole pipeline shows:
- run A, the first, on the small set with the row-level variants ("A"): it publishes; every
  load reconciles with the bytes; nothing personal in any file it wrote (lake, warehouse,
  published/, logs, alerts, Dagster's run storage and compute logs, dbt's target folder, the
  printed summary); the publication comes from one run; nothing implausible is published;
- run B, the next, with the table-level variants ("B"): those tables are refused, the summary
  and the alert name each cause (file, table, column) and mark the tables stale, the last good
  loads and the publication stay, and again nothing personal anywhere;
- run C: sources that are not the demo's, without a pseudonym key, refuse to start.

Run A starts in the background as soon as the small sources exist, and the ingestion-level
variants run meanwhile. The module prints where its time went when it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from faults import checks, physical
from faults.checks import Outcome
from faults.formats import Truth, spec
from faults.variants import FORMATS, QUARANTINED, VARIANTS, Damage, Variant, apply
from privacy import Secrets, report, scan_text, scan_tree

PROJECT = Path(__file__).resolve().parent.parent
KEY = b"fault-suite-pseudonym-key-0123456789abcdef"
TIMES: dict[str, float] = {}
BEGAN: list[float] = []       # when the suite's first fixture started
ALONE = [v for v in VARIANTS if v.alone]
A_VARIANTS = [v for v in VARIANTS if v.e2e == "A"]
B_VARIANTS = [v for v in VARIANTS if v.e2e == "B"]


@dataclass
class Small:
    sources: Path
    truth: Truth
    secrets: Secrets


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Small:
    """The small profile, generated once; its personal values are what the scans look for."""
    from ingestion import demo

    root = tmp_path_factory.mktemp("small")
    began = time.perf_counter()
    BEGAN.append(began)
    demo.generate(root / "sources", root / "ground_truth", profile="small")
    TIMES["generate the small sources"] = time.perf_counter() - began
    return Small(root / "sources", Truth.read(root / "ground_truth"),
                 Secrets.from_sources(root / "sources"))


def test_the_small_sources_are_small_every_format_and_have_their_defects(small: Small, run_a_started):
    """A handful to a few hundred rows a table, every source format, a few defects of each kind;
    and every variant format is covered. (Requesting run A starts it in the background.)"""
    import schemas

    for s in schemas.TABLES.values():
        n = physical.table_records(s, small.sources)
        assert 20 <= n <= 1300, (s.name, n)
    kinds = {(r["table"], r["defect"]) for r in small.truth.rows}
    assert len(kinds) >= 100 and len(small.truth.rows) < 600
    assert {v.fmt for v in VARIANTS} == FORMATS
    assert small.secrets.ids and small.secrets.texts


# -- the ingestion level ----------------------------------------------------------------------------

BOUNDARIES = PROJECT / "reference" / "boundaries" / "subdistricts.geojson"


def _load(table: str, sources: Path, lake: Path):
    """The real load; returns the error: None (loaded), a SourceError (refused) or anything else
    it raised (a crash: neither a clear refusal nor a load)."""
    from ingestion.load import load_table
    from ingestion.readers import SourceError

    try:
        load_table(spec(table), sources, lake, KEY, BOUNDARIES)
    except SourceError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a crash is what some variants find
        return Crash(exc)
    return None


class Crash:
    def __init__(self, exc: Exception):
        self.exc = exc

    def __str__(self) -> str:
        return f"{type(self.exc).__name__}: {self.exc}"


@dataclass
class Baseline:
    lake: Path
    outcomes: dict[str, Outcome]


@pytest.fixture(scope="session")
def baseline(small: Small, tmp_path_factory) -> Baseline:
    """Every table of the clean small sources loaded (parents first): the last good load each
    variant is loaded on top of, and what a harmless change must give again."""
    import schemas

    lake = tmp_path_factory.mktemp("baseline") / "lake"
    began = time.perf_counter()
    outcomes = {}
    for s in schemas.TABLES.values():
        error = _load(s.name, small.sources, lake)
        assert error is None, f"the clean small sources do not load: {s.name}: {error}"
        outcomes[s.name] = Outcome.read(lake, s.name)
    TIMES["load the clean small sources"] = time.perf_counter() - began
    return Baseline(lake, outcomes)


@dataclass
class Loaded:
    variant: Variant
    sources: Path
    lake: Path
    damage: Damage
    before: dict[str, dict | None]
    outcomes: dict[str, Outcome] = field(default_factory=dict)


_LOADED: dict[str, Loaded] = {}


@pytest.fixture
def loaded(request, small: Small, baseline: Baseline, tmp_path_factory):
    """The variant applied to a copy of the small sources and loaded on a copy of the baseline
    lake (once per variant, shared by its tests)."""
    variant: Variant = request.param
    if variant.name not in _LOADED:
        began = time.perf_counter()
        root = tmp_path_factory.mktemp(variant.name)
        sources = shutil.copytree(small.sources, root / "sources")
        lake = shutil.copytree(baseline.lake, root / "lake")
        damage = variant.damage(sources, small.truth)
        before = {t: Outcome.read(lake, t).load for t in variant.tables}
        outcomes = {}
        for table in variant.tables:
            outcomes[table] = Outcome.read(lake, table, _load(table, sources, lake))
        _LOADED[variant.name] = Loaded(variant, sources, lake, damage, before, outcomes)
        TIMES[f"variant {variant.name}"] = time.perf_counter() - began
    return _LOADED[variant.name]


@pytest.mark.parametrize("loaded", ALONE, ids=str, indirect=True)
def test_variant_keeps_its_promise_at_ingestion(loaded: Loaded, baseline: Baseline):
    """Refused with file, table and cause, or loaded with every record accounted for (rows read =
    the physical count), the damaged rows quarantined and the rest as in the clean load."""
    v = loaded.variant
    for table, out in loaded.outcomes.items():
        assert not isinstance(out.error, Crash), (
            f"{v.name}: loading {table} crashed ({out.error}): neither a clear refusal nor a load "
            f"(promise: {v.promise})")
    checks.check_variant(v, loaded.outcomes, loaded.damage, baseline.outcomes, loaded.sources,
                         loaded.before)


@pytest.mark.parametrize("loaded", ALONE, ids=str, indirect=True)
def test_variant_leaves_no_personal_value_in_the_lake_or_a_message(loaded: Loaded, small: Small):
    """The tables' validated and quarantined Parquet, their load records, and the refusal or
    error message: no citizen ID, no personal name, in any form."""
    secrets = _with(small.secrets, loaded.damage.secrets)
    findings = []
    for table in loaded.variant.tables:
        source, name = table.split("/")
        for layer in ("validated", "quarantine"):
            folder = loaded.lake / layer / source / name
            if folder.exists():
                findings += scan_tree(folder, secrets)
        load = loaded.lake / "loads" / source / f"{name}.json"
        if load.exists():
            findings += scan_tree(load.parent, secrets)
        out = loaded.outcomes[table]
        if out.error is not None:
            findings += scan_text(str(out.error), secrets, f"message of {table}")
    assert not findings, report(findings)


def _with(secrets: Secrets, extra: list[str]) -> Secrets:
    """The sources' secrets and what a variant wrote (the same object when it wrote nothing: its
    search pattern is compiled once)."""
    if not extra:
        return secrets
    more = Secrets(ids=secrets.ids, texts=set(secrets.texts))
    for value in extra:
        more.add_text(value)
    return more


# -- the full pipeline --------------------------------------------------------------------------------

class Workdir:
    """A `make run` of its own: sources, lake, warehouse, published/, logs, Dagster instance."""

    def __init__(self, root: Path):
        self.root = root
        self.sources, self.lake, self.published = root / "sources", root / "lake", root / "published"
        self.home, self.logs = root / "dagster_home", root / "logs"
        # Nothing of the calling environment's own CODI_* settings (another test's paths).
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CODI_")}
        self.env = {**inherited, "DAGSTER_HOME": str(self.home), "CODI_SOURCES_DIR": str(self.sources),
                    "CODI_GROUND_TRUTH_DIR": str(root / "ground_truth"), "CODI_LAKE_DIR": str(self.lake),
                    "CODI_WAREHOUSE": str(root / "warehouse" / "codi.duckdb"),
                    "CODI_PUBLISH_DIR": str(self.published), "CODI_ALERT_LOG": str(self.logs / "alerts.log"),
                    "CODI_PSEUDONYM_KEY": KEY.decode()}
        self.home.mkdir(parents=True)
        shutil.copyfile(PROJECT / "orchestration" / "dagster.yaml", self.home / "dagster.yaml")

    def start(self, label: str, env: dict | None = None) -> "Run":
        self.logs.mkdir(exist_ok=True)
        out, err = self.logs / f"{label}.stdout", self.logs / f"{label}.stderr"
        with open(out, "w") as stdout, open(err, "w") as stderr:
            proc = subprocess.Popen([sys.executable, "-m", "orchestration.run", "--log-file",
                                     str(self.logs / "run.log")], cwd=PROJECT, env=env or self.env,
                                    stdout=stdout, stderr=stderr, start_new_session=True)
        return Run(label, proc, out, err, time.perf_counter(), time.time())

    def runs(self) -> list:
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return list(reversed(instance.get_runs()))

    def manifest(self) -> dict | None:
        path = self.published / "manifest.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@dataclass
class Run:
    label: str
    proc: subprocess.Popen
    out: Path
    err: Path
    began: float
    wall: float
    returncode: int | None = None

    def wait(self) -> "Run":
        if self.returncode is None:
            self.returncode = self.proc.wait(timeout=1800)
            TIMES[f"full run {self.label} (python -m orchestration.run)"] = time.perf_counter() - self.began
        return self

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")


@dataclass
class E2E:
    work: Workdir
    damage: Damage
    each: dict[str, Damage]
    run: Run
    sources_copy: Path | None = None       # the sources as this run read them
    loads: dict[str, dict] = field(default_factory=dict)


@pytest.fixture(scope="session")
def run_a_started(small: Small, tmp_path_factory):
    """Run A: the first `make run` on the small sources with every "A" variant applied, started
    in the background (stopped at the end if no test waited for it)."""
    work = Workdir(tmp_path_factory.mktemp("full_run"))
    shutil.copytree(small.sources, work.sources)
    damage, each = apply(A_VARIANTS, work.sources, small.truth)
    copy = shutil.copytree(work.sources, work.root.parent / f"{work.root.name}_sources_a")
    e2e = E2E(work, damage, each, work.start("A"), copy)
    _SESSION["A"] = e2e
    yield e2e
    if e2e.run.proc.poll() is None:
        os.killpg(e2e.run.proc.pid, signal.SIGKILL)
        e2e.run.proc.wait()


@pytest.fixture(scope="session")
def run_a(run_a_started: E2E) -> E2E:
    run_a_started.run.wait()
    run_a_started.loads = _loads(run_a_started.work.lake)
    return run_a_started


def _loads(lake: Path) -> dict[str, dict]:
    return {f"{p.parent.name}/{p.stem}": json.loads(p.read_text(encoding="utf-8"))
            for p in (lake / "loads").glob("*/*.json")}


def _dbt_targets(run_ids) -> list[Path]:
    target = PROJECT / "dbt_project" / "target"
    return [p for p in target.glob("*") if p.is_dir() and any(r[:7] in p.name for r in run_ids)]


@pytest.fixture(scope="module", autouse=True)
def _report_and_tidy(request):
    """After the module's last test: remove the dbt target folders of the full runs, and print
    where the suite's time went (to the terminal, past pytest's output capture)."""
    began = time.perf_counter()
    yield
    for e2e in _SESSION.values():
        for path in _dbt_targets([r.run_id for r in e2e.work.runs()]):
            shutil.rmtree(path, ignore_errors=True)
    if not TIMES:
        return
    total = time.perf_counter() - min([began, *BEGAN])
    lines = [f"  {name:<62} {seconds:6.1f} s" for name, seconds in TIMES.items()
             if not name.startswith("variant ")]
    variants = [s for n, s in TIMES.items() if n.startswith("variant ")]
    if variants:
        lines.append(f"  {f'{len(variants)} variants at the ingestion level':<62} {sum(variants):6.1f} s")
    text = (f"Fault-injection suite (tests/test_faults.py): {total:.0f} s wall time, its first test "
            f"to its last (run A runs beside the ingestion-level variants)\n" + "\n".join(lines))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + text, flush=True)


_SESSION: dict[str, E2E] = {}


def _summary_of(run: Run) -> str:
    return run.stdout + run.stderr


def test_run_a_publishes_the_small_set_with_its_bad_rows(run_a: E2E):
    """The small set of exports, a few hundred rows a table with bad rows in every table,
    publishes whatever is right: both runs succeed and the publication is this run's."""
    work, run = run_a.work, run_a.run
    assert run.returncode == 0, _summary_of(run)[-4000:]
    ingest, build = [r for r in work.runs()][-2:]
    assert (ingest.job_name, build.job_name) == ("ingest", "build")
    assert work.manifest() is not None and work.manifest()["run_id"] == build.run_id


def test_run_a_reconciles_every_load_with_the_bytes(run_a: E2E):
    """(a) Every table's rows read equal the records counted from the bytes of the files it
    read, and every record is one row or a counted duplicate."""
    assert len(run_a.loads) == 15, sorted(run_a.loads)
    problems = []
    for table in sorted(run_a.loads):
        try:
            checks.check_reconciled(Outcome.read(run_a.work.lake, table), run_a.sources_copy)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("variant", A_VARIANTS, ids=str)
def test_run_a_keeps_each_row_level_promise(run_a: E2E, variant: Variant):
    """The damaged rows of each "A" variant are quarantined (by file and row) in the run's lake,
    or repaired where the variant allows it; a harmless change loads."""
    damage = run_a.each[variant.name]
    for table in variant.tables:
        out = Outcome.read(run_a.work.lake, table)
        assert out.load is not None, f"{table} was not loaded"
        if variant.expect == QUARANTINED:
            expected = damage.quarantined.get(table, set())
            missing = {r for r in expected if r not in out.quarantined_rows}
            assert not missing, f"{variant.name}: {table}: not quarantined: {sorted(missing)[:10]}"
    if variant.check is not None:
        variant.check({t: Outcome.read(run_a.work.lake, t) for t in variant.tables}, damage)


def _exclude(work: Workdir, copy: Path | None) -> list[Path]:
    return [work.sources, work.root / "ground_truth"] + ([copy] if copy else [])


def test_run_a_writes_no_personal_value_anywhere(run_a: E2E, small: Small):
    """(b) No citizen ID and no personal name in any file the run wrote: the lake, the warehouse,
    published/, the logs and alerts, Dagster's run storage, event log and compute logs, dbt's
    target folder of the run, and what it printed."""
    secrets = _with(small.secrets, run_a.damage.secrets)
    began = time.perf_counter()
    findings = scan_tree(run_a.work.root, secrets, exclude=_exclude(run_a.work, run_a.sources_copy))
    for target in _dbt_targets([r.run_id for r in run_a.work.runs()]):
        findings += scan_tree(target, secrets)
    TIMES["privacy scan of everything run A wrote"] = time.perf_counter() - began
    assert not findings, report(findings)


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STABLE = ("codi.duckdb", "manifest.json", "parquet", "geo", "reports", "docs")


def check_one_release(work: Workdir) -> str:
    """(c) The publication comes from one run: the stable paths resolve into one release (the
    `current` pointer's, where there is one); the manifest, the DuckDB copy's publish_info and
    every file of the release that names a build run name the same one. Returns its run id."""
    published = work.published
    manifest = work.manifest()
    assert manifest is not None, "nothing published"
    run_id = manifest["run_id"]
    current = published / "current"
    release = current.resolve() if current.exists() else published.resolve()
    if current.exists():
        assert release.parent.name == "releases" and release.is_dir(), release
        for name in STABLE:
            path = published / name
            if path.exists() or path.is_symlink():
                assert path.resolve().is_relative_to(release), f"{path} is not in the release {release}"
    with duckdb.connect(str(published / "codi.duckdb"), read_only=True) as con:
        assert con.execute("select run_id from meta.publish_info").fetchone()[0] == run_id
    builds = {r.run_id for r in work.runs() if r.job_name != "ingest"}
    others = builds - {run_id}
    mixed = []
    for path in release.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html", ".csv", ".md", ".txt", ".geojson", ".js"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for found in set(UUID.findall(text)) & others:
                mixed.append(f"{path.relative_to(release)} names run {found}")
        if path.is_file() and path.name.endswith("manifest.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "run_id" in data:
                assert data["run_id"] == run_id, f"{path}: run {data['run_id']} in a release of {run_id}"
    assert not mixed, "the publication mixes runs:\n" + "\n".join(mixed[:20])
    assert not list(published.glob(".*.tmp*")), "a writer's leftovers in published/"
    return run_id


def test_run_a_publication_comes_from_one_run(run_a: E2E):
    builds = [r for r in run_a.work.runs() if r.job_name == "build"]
    assert check_one_release(run_a.work) == builds[-1].run_id


# No record of the programmes predates UCDO, CODI's predecessor (1992, FY2535); none is dated
# beyond the fiscal year after today's.
FIRST_FY = 2535
LAST_FY = time.localtime().tm_year + 543 + 2


def test_run_a_publishes_nothing_implausible(run_a: E2E):
    """No infinity or NaN, no NUL or other control character, no fiscal year outside the data's
    (2600 BE and 1900 must not add years), and an indicator-year without records published as
    `no data` with a null actual."""
    path = run_a.work.published / "codi.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("""select table_name, column_name, data_type from information_schema.columns
                                 where table_schema = 'marts'""").fetchall()
        bad = []
        for table, column, dtype in columns:
            q, c = f'marts."{table}"', f'"{column}"'
            if dtype in ("DOUBLE", "FLOAT", "REAL"):
                n = con.execute(f"select count(*) from {q} where isinf({c}) or isnan({c})").fetchone()[0]
                if n:
                    bad.append(f"{table}.{column}: {n} infinite or NaN")
            elif dtype == "VARCHAR":
                n = con.execute(f"select count(*) from {q} where regexp_matches({c}, '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]')").fetchone()[0]
                if n:
                    bad.append(f"{table}.{column}: {n} values with control characters")
            if column == "fiscal_year" and table.startswith(("fct_", "mart_")):
                lo, hi = con.execute(f"select min({c}), max({c}) from {q}").fetchone()
                if lo is not None and (lo < FIRST_FY or hi > LAST_FY):
                    bad.append(f"{table}.fiscal_year from {lo} to {hi}")
        assert not bad, "\n".join(bad)
        years = dict(con.execute("""select fiscal_year, status from marts.mart_kpi
                                    where kpi_id = 'K10' and area_level = 'country'""").fetchall())
        actual = dict(con.execute("""select fiscal_year, actual from marts.mart_kpi
                                     where kpi_id = 'K10' and area_level = 'country'""").fetchall())
    for year in run_a.damage.info["no_data_years"]:
        assert (years.get(year), actual.get(year, "missing")) == ("no data", None), (year, years.get(year), actual.get(year))


# -- run B: tables refused ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def run_b(run_a: E2E, small: Small) -> E2E:
    """Run B, after A: every "B" variant applied; nothing else changed."""
    work = run_a.work
    snapshot = {"manifest": work.manifest(), "published": _tree_digest(work.published)}
    damage, each = apply(B_VARIANTS, work.sources, small.truth)
    copy = shutil.copytree(work.sources, work.root.parent / f"{work.root.name}_sources_b")
    e2e = E2E(work, damage, each, work.start("B").wait(), copy, _loads(work.lake))
    e2e.damage.info["before"] = snapshot
    _SESSION["B"] = e2e
    return e2e


def _tree_digest(folder: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _failure_lines(text: str, table: str) -> list[str]:
    step = "lake__" + table.replace("/", "__")
    return [line for line in text.splitlines() if table in line or step in line]


def _marked_stale(text: str, table: str) -> bool:
    """The table is named on a line that says "stale", or in a block (lines up to the next blank
    one) that starts with such a line."""
    block_stale = False
    for line in text.splitlines():
        if not line.strip():
            block_stale = False
            continue
        stale = "stale" in line.lower()
        if stale and not line.startswith((" ", "\t")):
            block_stale = True
        if table in line and (stale or block_stale):
            return True
    return False


@pytest.mark.parametrize("variant", B_VARIANTS, ids=str)
def test_run_b_summary_names_the_cause_of_each_refused_table(run_b: E2E, variant: Variant):
    """(d) The summary `make run` prints names the table, the file and the cause (not just "an
    op failed"), and says the table's figures are stale."""
    assert run_b.run.returncode not in (0, None), "a refused table makes make run exit non-zero"
    # What it says once the runs are done (the list of what was due names the files too).
    text = run_b.run.stdout
    text = text[text.find("Running ingest"):]
    lines = _failure_lines(text, variant.table)
    assert lines, f"the summary does not mention {variant.table}:\n{text[-3000:]}"
    said = "\n".join(lines)
    for name in variant.names:
        assert name in said, f"the summary does not name {name!r} for {variant.table}:\n{said}"
    assert "Error occurred while executing" not in said, said
    assert _marked_stale(text, variant.table), f"the summary does not mark {variant.table} stale:\n{said}"


def test_run_b_alert_names_file_table_and_cause(run_b: E2E):
    alerts = [json.loads(line) for line in
              (run_b.work.logs / "alerts.log").read_text(encoding="utf-8").splitlines() if line.strip()]
    ingest = [r for r in run_b.work.runs() if r.job_name == "ingest"][-1]
    mine = [a for a in alerts if a.get("run_id") == ingest.run_id]
    assert mine, "no alert for the failed ingest run"
    text = json.dumps(mine, ensure_ascii=False)
    for v in B_VARIANTS:
        for name in v.names:
            assert name in text, f"the alert does not name {name!r} ({v.name})"
    assert "Error occurred while executing" not in text


def test_run_b_keeps_the_last_good_loads_and_the_publication(run_b: E2E, run_a: E2E):
    """A refused table keeps its last good load; nothing was published, so the publication is
    A's, whole and unchanged."""
    before = run_b.damage.info["before"]
    for v in B_VARIANTS:
        assert run_b.loads[v.table] == run_a.loads[v.table], f"{v.table}: its last good load changed"
    assert run_b.work.manifest() == before["manifest"]
    assert _tree_digest(run_b.work.published) == before["published"]
    check_one_release(run_b.work)


def test_run_b_writes_no_personal_value_anywhere(run_b: E2E, small: Small):
    """(b) again: a member file without its header (its first line a member, citizen ID
    included) is refused without that line reaching a message, a log, an alert or Dagster."""
    findings = scan_tree(run_b.work.root, small.secrets,
                         exclude=_exclude(run_b.work, run_b.sources_copy) + [run_a_copy(run_b)],
                         modified_after=run_b.run.wall - 1)
    for target in _dbt_targets([r.run_id for r in run_b.work.runs()]):
        findings += scan_tree(target, small.secrets, modified_after=run_b.run.wall - 1)
    assert not findings, report(findings)


def run_a_copy(e2e: E2E) -> Path:
    return e2e.work.root.parent / f"{e2e.work.root.name}_sources_a"


def test_run_b_reconciles_what_it_loaded(run_b: E2E):
    """(a) Every load in the lake reconciles with the bytes of the files it read (the refused
    tables' with the files of their last good load)."""
    problems = []
    for table, load in sorted(run_b.loads.items()):
        copies = [run_b.sources_copy, run_a_copy(run_b)]
        source = next((c for c in copies if _same_files(load, c)), None)
        assert source is not None, f"{table}: no copy of the files its load read"
        try:
            checks.check_reconciled(Outcome.read(run_b.work.lake, table), source)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


def _same_files(load: dict, sources: Path) -> bool:
    from ingestion.readers import sha256_file

    return all((sources / rel).exists() and sha256_file(sources / rel) == digest
               for rel, digest in load["files"].items())


# -- run C: real sources without a key -----------------------------------------------------------------

def test_sources_that_are_not_the_demo_need_a_pseudonym_key(run_b: E2E):
    """Sources without the demo generator's marker and no CODI_PSEUDONYM_KEY: make run refuses to
    start, says how to set the key, and starts no run and loads nothing."""
    work = run_b.work
    shutil.rmtree(work.sources)
    shutil.copytree(run_a_copy(run_b), work.sources)     # nothing to ingest but for the key
    for marker in work.sources.glob(".codi-demo*"):
        marker.unlink()
    env = {k: v for k, v in work.env.items() if k != "CODI_PSEUDONYM_KEY"}
    runs, loads = len(work.runs()), _loads(work.lake)
    run = work.start("C", env).wait()
    assert run.returncode != 0, "a run on real sources without a key must not start"
    assert "CODI_PSEUDONYM_KEY" in run.stdout + run.stderr
    assert len(work.runs()) == runs and _loads(work.lake) == loads
