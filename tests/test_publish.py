"""Publishing for BI tools: the read-only copy, the Parquet files and the GeoJSON that the real
`daily_refresh` run wrote as one release, read the way a BI tool reads them (SQLAlchemy with
duckdb-engine) through the stable paths, while other runs switch releases in and delete old ones,
and after a run is killed in the middle of publishing."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from orchestration import settings
from publishing import database, release

PROJECT = settings.PROJECT_ROOT
CITIZEN_ID = r"^[0-9]{13}$"
PSEUDONYM = r"^[0-9a-f]{64}$"


@pytest.fixture(scope="module")
def published(pipeline, codi_env: Path) -> Path:
    assert pipeline.success, "the daily_refresh run failed: see the captured log above"
    return codi_env / "published"


def bi_engine(path: Path) -> sa.Engine:
    """What Superset or Metabase would configure (README): duckdb-engine, read-only. No pool, so
    each dashboard query opens the file as it is now, as a BI tool's new connection does."""
    return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=NullPool)


def _marts(con) -> dict[str, int]:
    tables = [t for (t,) in con.execute("select table_name from information_schema.tables "
                                        "where table_schema = 'marts' order by 1").fetchall()]
    return {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}


def test_publishing_waits_for_every_mart():
    """The release folder opens downstream of every dbt model of the marts and audit groups (and
    nothing else), so a failed dbt test or blocking check on any of them stops the run before
    anything is published; every part is built in it, and the release switches in only after
    every part."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.dbt import codi_dbt_models

    graph = defs.resolve_asset_graph()
    marts = {key for key in codi_dbt_models.keys if graph.get(key).group_name == "marts"}
    audit = {key for key in codi_dbt_models.keys if graph.get(key).group_name == "audit"}
    assert dg.AssetKey(["marts", "mart_kpi"]) in marts and audit
    folder = graph.get(dg.AssetKey(["published", "release_folder"]))
    assert folder.parent_keys == marts | audit
    copy = graph.get(dg.AssetKey(["published", "codi_duckdb"]))
    assert copy.parent_keys == marts | {folder.key}
    for name in ("geo", "reports"):
        assert graph.get(dg.AssetKey(["published", name])).parent_keys == {copy.key}
    docs = graph.get(dg.AssetKey(["published", "docs"]))
    assert docs.parent_keys == marts | audit | {folder.key}
    switch = graph.get(dg.AssetKey(["published", "release"]))
    assert switch.parent_keys == {copy.key, docs.key} | {dg.AssetKey(["published", n]) for n in ("geo", "reports")}
    group = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "published"}
    assert group == {k for k in graph.get_all_asset_keys() if k.path[0] == "published"}


def test_the_run_published_one_release_through_stable_paths(published: Path, pipeline):
    """`published/current` names the run's release; the paths BI tools and people configure are
    links through it; the manifest lists every file of the release with its size and digest."""
    run_id = pipeline.run_id
    assert os.readlink(published / "current") == f"releases/{run_id}"
    for name in ("codi.duckdb", "parquet", "geo", "reports", "docs", "manifest.json"):
        assert os.readlink(published / name) == f"current/{name}", name
    folder = published / "releases" / run_id
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["release"], manifest["run_id"]) == (run_id, run_id)
    assert manifest["parts"] == ["codi_duckdb", "docs", "geo", "reports"]
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {"manifest.json"}
    assert {"codi.duckdb", "reports/index.html", "docs/index.html", "geo/provinces.geojson"} <= on_disk
    for rel in ("codi.duckdb", "reports/index.html"):
        assert (folder / rel).stat().st_size == manifest["files"][rel]["bytes"]
    # the reports open through the links (tests/test_reports.py drives Chromium on this path)
    assert (published / "reports" / "index.html").resolve() == folder / "reports" / "index.html"
    assert [p.name for p in (published / "releases").iterdir() if not p.name.startswith(".")] == [run_id]


def test_run_publishes_every_mart_with_its_manifest(published: Path, warehouse, pipeline):
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == pipeline.run_id
    assert datetime.fromisoformat(manifest["published_at"]).utcoffset().total_seconds() == 7 * 3600
    assert manifest["duckdb_version"] == duckdb.__version__

    expected = _marts(warehouse)
    assert {"dim_area", "mart_kpi", "mart_area_profile"} <= set(expected)
    with duckdb.connect(str(published / "codi.duckdb"), read_only=True) as con:
        assert _marts(con) == expected
        storage = con.execute("select tags['storage_version'] from duckdb_databases() "
                              "where database_name = 'codi'").fetchone()[0]
        assert storage.startswith(manifest["storage_version"])
        assert con.execute("select run_id from meta.publish_info").fetchone()[0] == pipeline.run_id
    assert {t: spec["rows"] for t, spec in manifest["tables"].items()} == expected
    # one Parquet file per mart, the same rows: the way in for a reader with any DuckDB, or none
    files = {p.stem for p in (published / "parquet").glob("*.parquet")}
    assert files == set(expected)
    with duckdb.connect() as con:
        for table, rows in expected.items():
            path = published / manifest["tables"][table]["parquet"]
            assert con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0] == rows
    assert not list(published.rglob(".*.tmp*")), "a temporary file was left behind"
    assert not list(published.glob("releases/*.building")), "a building folder was left behind"


def test_make_run_summary_ends_with_the_reports_index(published: Path, pipeline, capsys):
    from orchestration import summary

    summary.print_published(pipeline.run_id)
    lines = capsys.readouterr().out.strip().splitlines()
    assert pipeline.run_id in lines[0] and "earlier run" not in lines[0]
    assert lines[-1] == f"  Area reports: {published / 'reports' / 'index.html'}"


def test_no_personal_data_in_any_published_table(published: Path):
    """No citizen ID and no pseudonym, in any text column of any published table."""
    with duckdb.connect(str(published / "codi.duckdb"), read_only=True) as con:
        columns = con.execute("""select table_schema, table_name, column_name from information_schema.columns
                                 where data_type = 'VARCHAR'""").fetchall()
        assert columns
        for schema, table, column in columns:
            found = con.execute(
                f'select count(*) from {schema}."{table}" where regexp_matches("{column}", ?) '
                f'or regexp_matches("{column}", ?)', [CITIZEN_ID, PSEUDONYM]).fetchone()[0]
            assert found == 0, f"{schema}.{table}.{column} holds citizen IDs or pseudonyms"


def test_publish_refuses_a_mart_with_personal_columns(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_people as select '1101700203451' as citizen_id, 3 as members")
    with pytest.raises(database.PublishBlocked, match="citizen_id"):
        database.publish(warehouse, tmp_path / "published", "run-x")
    assert not (tmp_path / "published" / "codi.duckdb").exists()
    assert not list((tmp_path / "published").glob(".*"))


def test_geojson_joins_boundaries_with_latest_figures(published: Path, warehouse):
    geo = published / "geo"
    provinces = json.loads((geo / "provinces.geojson").read_text(encoding="utf-8"))
    latest = warehouse.execute("select max(fiscal_year) from marts.mart_province_profile").fetchone()[0]
    assert provinces["fiscal_year"] == latest
    assert len(provinces["features"]) == 77
    chiang_mai = next(f["properties"] for f in provinces["features"] if f["properties"]["area_code"] == "50")
    assert chiang_mai["name_th"] == "เชียงใหม่"
    expected = warehouse.execute("""select housing_households_moved_in from marts.mart_province_profile
                                    where province_code = '50' and fiscal_year = ?""", [latest]).fetchone()[0]
    assert chiang_mai["housing_households_moved_in"] == expected
    kpi_fields = [k for k in chiang_mai if k.startswith("kpi_K")]
    assert kpi_fields, "the provinces carry their indicators"

    subdistricts = json.loads((geo / "subdistricts.geojson").read_text(encoding="utf-8"))
    drawn = {f["properties"]["area_code"] for f in subdistricts["features"] if f["properties"]["is_current_code"]}
    with open(geo / "no_geometry.csv", encoding="utf-8-sig", newline="") as fh:
        listed = {row["area_code"]: row for row in csv.DictReader(fh)}
    missing = {c for (c,) in warehouse.execute(
        "select area_code from marts.dim_area where area_level = 'subdistrict' and not has_geometry").fetchall()}
    assert len(missing) == 14 and missing <= set(listed)
    # every current subdistrict is either on the map or in the list, never dropped
    current = {c for (c,) in warehouse.execute(
        "select area_code from marts.dim_area where area_level = 'subdistrict'").fetchall()}
    assert drawn | set(listed) == current and not drawn & set(listed)
    assert listed["530407"]["province_name_th"] == "อุตรดิตถ์"
    assert (geo / "ATTRIBUTION.md").exists()


def test_dashboard_queries_through_sqlalchemy(published: Path, pipeline):
    engine = bi_engine(published / "codi.duckdb")
    with engine.connect() as con:
        as_of = con.execute(sa.text("select run_id, published_at from meta.publish_info")).one()
        assert as_of.run_id == pipeline.run_id
        # the indicator table of a dashboard: the country's figures against the plan's targets
        kpis = con.execute(sa.text("""
            select kpi_id, kpi_name_th, target, actual, achievement_pct, status from marts.mart_kpi
            where area_level = 'country' and fiscal_year = 2557 order by sort_order""")).all()
        assert [k.kpi_id for k in kpis] == [f"K{i}" for i in range(1, 11)]
        assert {k.kpi_id: k.target for k in kpis}["K2"] == 25000
        # a chart by region, the figures joined to the area dimension
        regions = con.execute(sa.text("""
            select a.region_6_name_th as region, sum(p.housing_households_moved_in) as households
            from marts.mart_province_profile p join marts.dim_area a on a.area_code = p.province_code
            where p.fiscal_year = 2557 group by 1 order by 2 desc""")).all()
        assert len(regions) == 6 and all(r.households >= 0 for r in regions)
        # a filter box of provinces, in Thai
        names = con.execute(sa.text("select name_th from marts.dim_area where area_level = 'province'")).scalars().all()
        assert "กรุงเทพมหานคร" in names and len(names) == 77
        # a reader cannot change the published data
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("create table marts.scratch as select 1"))
    engine.dispose()


def _changed_copy(source: Path, target: Path) -> None:
    """Another warehouse: the same marts with the last plan year's indicators missing."""
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as con:
        con.execute("delete from marts.mart_kpi where fiscal_year = 2559")


def _publish_cli(warehouse: Path, out: Path, run_id: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "publishing.database", "--warehouse", str(warehouse),
                             "--out", str(out), "--run-id", run_id], cwd=PROJECT, **kwargs)


HOLDING_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def counts():
    run = con.execute("select run_id from meta.publish_info").fetchone()[0]
    kpi = con.execute("select count(*) from marts.mart_kpi").fetchone()[0]
    print(run, kpi, flush=True)
counts()
sys.stdin.readline()
counts()
"""


def test_readers_keep_reading_while_a_second_run_publishes(published: Path, codi_env: Path, tmp_path: Path):
    """A dashboard queries the published file in a loop while other runs switch new releases in:
    no query fails, and every connection sees one whole publication, never a mix. Two readers
    that opened the first release before (a held SQLAlchemy connection, and a DuckDB client in
    another process) keep reading it after the switches and after it is deleted."""
    a = codi_env / "warehouse" / "codi.duckdb"
    b = tmp_path / "b.duckdb"
    _changed_copy(a, b)
    out = tmp_path / "published"
    expected = {}
    for name, source in (("A", a), ("B", b)):
        with duckdb.connect(str(source), read_only=True) as con:
            expected[name] = _marts(con)
    assert expected["A"]["mart_kpi"] != expected["B"]["mart_kpi"]
    assert _publish_cli(a, out, "first-A").wait() == 0
    held = sa.create_engine(f"duckdb:///{out / 'codi.duckdb'}", connect_args={"read_only": True}).connect()
    assert held.execute(sa.text("select run_id from meta.publish_info")).scalar_one() == "first-A"
    client = subprocess.Popen([sys.executable, "-c", HOLDING_READER, str(out / "codi.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert client.stdout.readline().split() == ["first-A", str(expected["A"]["mart_kpi"])]

    def publish_in_a_loop():
        for i, name in enumerate("BABA"):
            assert _publish_cli(a if name == "A" else b, out, f"loop{i}-{name}").wait() == 0
    publisher = threading.Thread(target=publish_in_a_loop)
    publisher.start()
    engine = bi_engine(out / "codi.duckdb")
    seen, reads = set(), 0
    while publisher.is_alive() or reads == 0:
        with engine.connect() as con:
            run_id = con.execute(sa.text("select run_id from meta.publish_info")).scalar_one()
            kpi = con.execute(sa.text("select count(*) from marts.mart_kpi")).scalar_one()
            areas = con.execute(sa.text("select count(*) from marts.dim_area")).scalar_one()
            listed = dict(con.execute(sa.text("select table_name, row_count from meta.published_tables")).all())
        source = run_id[-1]
        assert (kpi, areas) == (expected[source]["mart_kpi"], expected[source]["dim_area"]), run_id
        assert listed == expected[source]
        seen.add(run_id)
        reads += 1
    publisher.join()
    engine.dispose()
    assert reads >= 10
    assert any(r.endswith("-B") for r in seen) and any(r.endswith("-A") for r in seen), seen
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["run_id"] == "loop3-A"
    # The last three releases are kept; the first one is gone from the disk, not from its readers.
    assert sorted(p.name for p in release.releases(out)) == ["loop1-A", "loop2-B", "loop3-A"]
    assert not (out / "releases" / "first-A").exists()
    assert held.execute(sa.text("select run_id from meta.publish_info")).scalar_one() == "first-A"
    assert held.execute(sa.text("select count(*) from marts.mart_kpi")).scalar_one() == expected["A"]["mart_kpi"]
    held.close()
    out_text, _ = client.communicate("\n", timeout=60)
    assert out_text.split() == ["first-A", str(expected["A"]["mart_kpi"])]


def test_killed_run_leaves_the_previous_release(published: Path, codi_env: Path, tmp_path: Path):
    """SIGKILL a real `make run`-style Dagster run while it copies the marts into its release:
    published/codi.duckdb still opens, with the previous release's data; the next run's clean-up
    removes the killed run's building folder."""
    import dagster as dg

    from orchestration import changes

    a = codi_env / "warehouse" / "codi.duckdb"
    out = tmp_path / "published"
    assert _publish_cli(a, out, "before").wait() == 0
    before = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # A warehouse whose copy takes long enough to be caught in the middle of it.
    big = tmp_path / "big" / "codi.duckdb"
    big.parent.mkdir()
    shutil.copyfile(a, big)
    with duckdb.connect(str(big)) as con:
        con.execute("create table marts.zz_bulk as select range as id, random() as x from range(12000000)")

    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CODI_WAREHOUSE": str(big), "CODI_PUBLISH_DIR": str(out)}
    run = subprocess.Popen([sys.executable, "-m", "orchestration.run", "--select", "published/release_folder",
                            "published/codi_duckdb", "--log-level", "INFO"], cwd=PROJECT, env=env,
                           start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    caught = threading.Event()
    log: list[str] = []

    def watch():
        for line in run.stderr:
            log.append(line)
            if "copy marts.zz_bulk" in line:
                caught.set()
    threading.Thread(target=watch, daemon=True).start()
    try:
        assert caught.wait(timeout=300), "the run never reached the copy:\n" + "".join(log[-30:])
        [building] = list((out / "releases").glob("*.building"))
        assert list(building.glob(".codi.duckdb.*.tmp")), "the new copy is being written in the run's release"
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == -signal.SIGKILL

    with duckdb.connect(str(out / "codi.duckdb"), read_only=True) as con:
        assert con.execute("select run_id from meta.publish_info").fetchone()[0] == "before"
        assert _marts(con) == {t: spec["rows"] for t, spec in before["tables"].items()}
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["run_id"] == "before"
    assert os.readlink(out / "current") == "releases/before"

    # The next run, once the killed steps' processes are gone, cleans up what the run left.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        deadline = time.monotonic() + 60
        while not changes.fail_dead_runs(instance):
            assert time.monotonic() < deadline, "the killed run is still running"
            time.sleep(0.5)
        release.clean_up(out, changes.release_writer_alive(instance))
    assert not building.exists()
    assert [p.name for p in (out / "releases").iterdir() if not p.name.startswith(".")] == ["before"]


def _part(folder: Path, rel: str, text: str) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_release_is_switched_in_only_when_whole(tmp_path: Path):
    """The switch refuses a release with a part missing or a file changed after its part recorded
    it (the previous publication stays); a whole one replaces the layout from before releases
    with the stable links; the last `keep` releases stay; dead builds' folders go."""
    out = tmp_path / "published"
    _part(out, "codi.duckdb", "before releases")
    _part(out, "reports/index.html", "before releases")

    folder = release.open_building(out, "r1")
    release.record_part(folder, "codi_duckdb", [_part(folder, "codi.duckdb", "one")])
    page = _part(folder, "reports/index.html", "one")
    with pytest.raises(release.ReleaseIncomplete, match="missing part"):
        release.finish(out, "r1", "r1", ["codi_duckdb", "reports"])
    release.record_part(folder, "reports", [folder / "reports"])
    page.write_text("changed", encoding="utf-8")
    with pytest.raises(release.ReleaseIncomplete, match="reports/index.html changed"):
        release.finish(out, "r1", "r1", ["codi_duckdb", "reports"])
    assert (out / "codi.duckdb").read_text(encoding="utf-8") == "before releases"
    assert release.current_release(out) is None

    page.write_text("one", encoding="utf-8")
    manifest = release.finish(out, "r1", "r1", ["codi_duckdb", "reports"])
    assert set(manifest["files"]) == {"codi.duckdb", "reports/index.html"}
    assert os.readlink(out / "reports") == "current/reports"
    assert (out / "reports" / "index.html").read_text(encoding="utf-8") == "one"
    assert not folder.exists() and (out / "releases" / "r1" / "manifest.json").exists()

    for n in (2, 3, 4):
        folder = release.open_building(out, f"r{n}")
        release.record_part(folder, "codi_duckdb", [_part(folder, "codi.duckdb", str(n))])
        release.finish(out, f"r{n}", f"r{n}", ["codi_duckdb"], keep=3)
    assert [p.name for p in release.releases(out)] == ["r2", "r3", "r4"]
    assert (out / "codi.duckdb").read_text(encoding="utf-8") == "4"
    assert not (out / "reports").exists() and not (out / "reports").is_symlink(), "r4 has no reports"

    dead = release.open_building(out, "killed")
    _part(dead, "codi.duckdb", "half")
    assert release.clean_up(out, is_live=lambda key: True) == [] and dead.exists()
    assert release.clean_up(out, is_live=lambda key: False) == [dead] and not dead.exists()
