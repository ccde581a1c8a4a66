"""The blocking policy (docs/policy.md) on a small set of real exports: a handful of rows per
table, cut from the demo sources in their own formats (SQLite, xlsx, CSV in UTF-8 and
Windows-874, NDJSON, GeoJSON), with a few bad rows put in on purpose. One real refresh (`ingest`
then `build`, as `make run` does) must publish whatever is right:

- a table of 4 rows with 1 bad does not trip its quarantine threshold;
- five housing projects with an unreadable cell are quarantined, and their households with them
  (`parent_quarantined`), so the relationship test in dbt never sees them: dbt passes and the
  rest of the country publishes;
- K10, with no records in FY2557-2559, is 'no data' (a null actual) in the mart, the summary and
  the reports, and does not block.

Around it, focused tests of the rules: the shrink limit and its acceptance, the share not judged
below a minimum, the child's dependency on its parent, the severities in dbt.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import settings

PROJECT = settings.PROJECT_ROOT
KEY = b"test-policy-key"
BOUNDARIES = settings.BOUNDARIES_DIR / "subdistricts.geojson"
BROKEN_PROJECTS = 5
HOUSEHOLDS_PER_PROJECT = 8


# ---------------------------------------------------------------------------------------------
# A small set of exports, cut from the demo in each file's own format

def _manifest_rows(truth: Path) -> set[tuple[str, int]]:
    """(file, source_row) of every row the demo's ground truth names: the rows kept here are
    clean, so the only bad rows are the ones this module puts in."""
    with open(truth / "defects.csv", encoding="utf-8", newline="") as fh:
        return {(r["file"], int(r["source_row"])) for r in csv.DictReader(fh)}


def _cut_csv(path: Path, rel: str, encoding: str, dirty: set, keep, limit: int) -> list[dict]:
    """Keep the header and up to `limit` clean lines for which `keep(row)` holds, byte for byte
    (a record is one line in these exports). Returns the kept rows."""
    text = path.read_bytes().decode(encoding)
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    kept, rows = [lines[0]], []
    for number, line in enumerate(lines[1:], start=2):
        if len(rows) >= limit:
            break
        row = dict(zip(header, next(csv.reader([line]))))
        if (rel, number) not in dirty and keep(row):
            kept.append(line)
            rows.append(row)
    path.write_bytes("".join(kept).encode(encoding))
    return rows


def _clean_rows(path: Path, rel: str, encoding: str, dirty: set) -> list[dict]:
    """The clean rows of a CSV export, without changing it."""
    lines = path.read_bytes().decode(encoding).splitlines()
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    return [dict(zip(header, next(csv.reader([line])))) for n, line in enumerate(lines[1:], start=2)
            if (rel, n) not in dirty]


def _set_field(path: Path, encoding: str, number: int, column: str, value: str) -> None:
    """One field of one line of a CSV export, the other bytes as they were."""
    lines = path.read_bytes().decode(encoding).splitlines(keepends=True)
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    line = lines[number - 1]
    ending = line[len(line.rstrip("\r\n")):]
    fields = next(csv.reader([line]))
    fields[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerow(fields)
    lines[number - 1] = out.getvalue()
    path.write_bytes("".join(lines).encode(encoding))


def _parents_with_children(parents: list[dict], children: list[dict], column: str, n: int) -> set[str]:
    """`n` clean parent keys that clean child rows reference."""
    referenced = {c[column] for c in children}
    return set(sorted({p[column] for p in parents if p[column] in referenced})[:n])


def _cut_sqlite(path: Path, dirty: set) -> dict:
    """40 clean projects with 8 clean households each; five of them get an unreadable approval
    date; one household names a project that does not exist; one project has an older record
    with other values (superseded, its key stays valid)."""
    rel = "housing/baan_mankong.sqlite"
    con = sqlite3.connect(path)
    projects = [(rowid, code) for rowid, code in con.execute(
        "select rowid, project_code from projects order by rowid") if (rel, rowid) not in dirty]
    households: dict[str, list[int]] = {}
    for rowid, code in con.execute("select rowid, project_code from households "
                                   "where moved_in_date is not null and moved_in_date != '' order by rowid"):
        if (rel, rowid) not in dirty:
            households.setdefault(code, []).append(rowid)
    chosen = [(rowid, code) for rowid, code in projects
              if len(households.get(code, [])) >= HOUSEHOLDS_PER_PROJECT][:40]
    keep_households = [r for _, code in chosen for r in households[code][:HOUSEHOLDS_PER_PROJECT]]
    con.execute(f"delete from projects where rowid not in ({','.join(str(r) for r, _ in chosen)})")
    con.execute(f"delete from households where rowid not in ({','.join(map(str, keep_households))})")
    broken = [code for _, code in chosen[:BROKEN_PROJECTS]]
    con.executemany("update projects set approved_date = 'ไม่ทราบ' where project_code = ?",
                    [(c,) for c in broken])
    superseded = chosen[-1][1]
    con.execute("""insert into projects select project_code, project_name || ' (เดิม)', community_name,
                       province, district, subdistrict, subdistrict_code, approved_date,
                       households_planned, households_completed, land_tenure,
                       infrastructure_budget, housing_loan, status, '2000-01-01T00:00:00+07:00'
                   from projects where project_code = ?""", [superseded])
    con.execute("""insert into households select 'HH-NO-SUCH-PROJECT', 'BM-0000-9999', head_citizen_id,
                       head_name, members, monthly_income, loan_amount, moved_in_date
                   from households where rowid = ?""", [keep_households[-1]])
    con.commit()
    con.execute("vacuum")
    con.close()
    return {"projects": [c for _, c in chosen], "broken": broken, "superseded": superseded,
            "households": len(keep_households) + 1}


def _cut_workbooks(folder: Path, dirty: set, wanted: set[str], years=(2555, 2556),
                   per_sheet: int = 4) -> set[str]:
    """Two fiscal years' workbooks, each sheet rewritten with its title, blank row and header, a
    few clean funds (of those `wanted`: funds with members) and its total row, the cells as they
    were (Excel dates stay dates). Returns the funds kept."""
    import openpyxl
    import python_calamine

    funds = set()
    for path in sorted(folder.glob("funds_FY*.xlsx")):
        if int(path.stem[-4:]) not in years:
            path.unlink()
            continue
        source = python_calamine.CalamineWorkbook.from_path(str(path))
        book = openpyxl.Workbook(write_only=True)
        for title in source.sheet_names:
            rows = source.get_sheet_by_name(title).to_python(skip_empty_area=False)
            rel = f"welfare/{path.name}[{title}]"
            header = next(i for i, row in enumerate(rows) if row and row[0] == "รหัสกองทุน")
            data = [(n, row) for n, row in enumerate(rows[header + 1:], start=header + 2)
                    if row and row[0] in wanted and (rel, n) not in dirty][:per_sheet]
            total = [row for row in rows if row and row[0] == "รวม"]
            sheet = book.create_sheet(title)
            for row in rows[:header + 1] + [row for _, row in data] + total:
                sheet.append([None if v == "" else v for v in row])
            funds |= {row[0] for _, row in data}
        book.save(path)
    return funds


def _cut_lines(path: Path, rel: str, dirty: set, limit: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for n, line in enumerate(lines, start=1) if (rel, n) not in dirty][:limit]
    path.write_text("".join(kept), encoding="utf-8")


def _cut_features(path: Path, rel: str, dirty: set, limit: int) -> None:
    collection = json.loads(path.read_text(encoding="utf-8"))
    collection["features"] = [f for n, f in enumerate(collection["features"], start=1)
                              if (rel, n) not in dirty][:limit]
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


def build_small_sources(demo: Path, truth: Path, out: Path) -> dict:
    """A copy of the demo sources, a handful of clean rows per table, and the bad rows this
    module is about. Returns what was put in."""
    shutil.copytree(demo, out)
    dirty = _manifest_rows(truth)
    made = {"housing": _cut_sqlite(out / "housing" / "baan_mankong.sqlite", dirty)}

    with_members = {r["fund_code"] for path in (out / "welfare" / "members").glob("*.csv")
                    for r in _clean_rows(path, f"welfare/members/{path.name}", "utf-8", dirty)}
    funds = _cut_workbooks(out / "welfare", dirty, with_members)
    members_kept = 0
    for path in sorted((out / "welfare" / "members").glob("*.csv")):
        rows = _cut_csv(path, f"welfare/members/{path.name}", "utf-8", dirty,
                        lambda r: r["fund_code"] in funds, 20)
        members_kept += len(rows)
        if not rows:
            path.unlink()
    assert members_kept > 0

    fin = out / "finance"
    _cut_csv(fin / "savings_groups.csv", "finance/savings_groups.csv", "cp874", dirty, lambda r: True, 20)
    loans = _parents_with_children(
        _clean_rows(fin / "loans.csv", "finance/loans.csv", "cp874", dirty),
        _clean_rows(fin / "repayments.csv", "finance/repayments.csv", "cp874", dirty), "loan_no", 15)
    _cut_csv(fin / "loans.csv", "finance/loans.csv", "cp874", dirty, lambda r: r["loan_no"] in loans, 15)
    _cut_csv(fin / "repayments.csv", "finance/repayments.csv", "cp874", dirty,
             lambda r: r["loan_no"] in loans, 60)

    _cut_lines(out / "disaster" / "events.ndjson", "disaster/events.ndjson", dirty, 20)
    _cut_features(out / "environment" / "sites.geojson", "environment/sites.geojson", dirty, 10)

    org = out / "organization"
    enc = "utf-8-sig"
    councils = _parents_with_children(
        _clean_rows(org / "councils.csv", "organization/councils.csv", enc, dirty),
        _clean_rows(org / "council_assessments.csv", "organization/council_assessments.csv", enc, dirty),
        "council_code", 30)
    _cut_csv(org / "councils.csv", "organization/councils.csv", enc, dirty,
             lambda r: r["council_code"] in councils, 30)
    _cut_csv(org / "council_assessments.csv", "organization/council_assessments.csv", enc, dirty,
             lambda r: r["council_code"] in councils, 60)
    _cut_csv(org / "tambon_plans.csv", "organization/tambon_plans.csv", enc, dirty, lambda r: True, 30)
    _cut_csv(org / "leader_training.csv", "organization/leader_training.csv", enc, dirty,
             lambda r: True, 20)
    # K10 has records in FY2555 and FY2556 only (ten each): FY2557-2559 have none.
    per_year = {"2555": 10, "2556": 10}

    def k10_years(row: dict) -> bool:
        if per_year.get(row["fiscal_year"], 0) <= 0:
            return False
        per_year[row["fiscal_year"]] -= 1
        return True

    _cut_csv(org / "joint_areas.csv", "organization/joint_areas.csv", enc, dirty, k10_years, 20)
    # Four province reports, one of them with an unreadable yes/no.
    reports = _cut_csv(org / "province_reports.csv", "organization/province_reports.csv", enc, dirty,
                       lambda r: True, 4)
    assert len(reports) == 4
    _set_field(org / "province_reports.csv", enc, 5, "has_status_assessment", "maybe")
    made["province_reports_bad_row"] = 5
    return made


# ---------------------------------------------------------------------------------------------
# One refresh of the small set

@pytest.fixture(scope="module")
def small(tmp_path_factory, demo_sources: Path, codi_env: Path):
    """The small set, refreshed once as `make run` does (ingest, then build), into its own lake,
    warehouse and publish folder and an ephemeral Dagster instance."""
    from orchestration.definitions import defs
    from orchestration.run import refresh

    root = tmp_path_factory.mktemp("policy")
    made = build_small_sources(demo_sources, codi_env / "ground_truth", root / "sources")
    env = {"CODI_SOURCES_DIR": root / "sources", "CODI_LAKE_DIR": root / "lake",
           "CODI_WAREHOUSE": root / "warehouse" / "codi.duckdb",
           "CODI_PUBLISH_DIR": root / "published", "CODI_ALERT_LOG": root / "alerts.log"}
    with pytest.MonkeyPatch.context() as mp, dg.DagsterInstance.ephemeral() as instance:
        for name, value in env.items():
            mp.setenv(name, str(value))

        def execute(job_name, asset_keys, tags):
            # Every asset, as `make run` runs it: a release is switched in only when whole
            # (docs included).
            return defs.resolve_job_def(job_name).execute_in_process(
                instance=instance, asset_selection=asset_keys, tags=tags, raise_on_error=False)

        started = time.monotonic()
        result = refresh(instance, execute, log=lambda _: None)
        print(f"\nsmall set: refresh (ingest + build + publish) took {time.monotonic() - started:.0f} s")
        yield {"root": root, "made": made, "result": result, "instance": instance}


def _lake(root: Path, layer: str, table: str) -> list[dict]:
    with duckdb.connect() as con:
        cur = con.execute(f"select * from read_parquet('{root}/lake/{layer}/{table}/*.parquet')")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def _load(root: Path, table: str) -> dict:
    source, name = table.split("/")
    return json.loads((root / "lake" / "loads" / source / f"{name}.json").read_text(encoding="utf-8"))


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_check_evaluation_data.asset_key.to_user_string() + ":" +
            e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}


def test_the_small_set_publishes_whatever_is_right(small):
    result = small["result"]
    assert result.ingest.success, [e.message for e in result.ingest.all_events if e.is_failure]
    assert result.build is not None and result.build.success, \
        [e.message for e in result.build.all_events if e.is_failure]
    manifest = json.loads((small["root"] / "published" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == result.build.run_id
    with duckdb.connect(str(small["root"] / "published" / "codi.duckdb"), read_only=True) as con:
        # every source's facts are there, the housing ones without the held-back rows
        for table in ("fct_housing_projects", "fct_housing_households", "fct_welfare_fund_years",
                      "fct_loans", "fct_loan_repayments", "fct_disaster_events",
                      "fct_environment_sites", "fct_councils", "fct_council_assessments",
                      "fct_joint_areas", "fct_province_reports"):
            assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0, table
        broken = small["made"]["housing"]["broken"]
        marks = ",".join("?" * len(broken))
        assert con.execute(f"select count(*) from marts.fct_housing_projects where project_code in ({marks})",
                           broken).fetchone()[0] == 0
        assert con.execute(f"select count(*) from marts.fct_housing_households where project_code in ({marks})",
                           broken).fetchone()[0] == 0


def test_four_rows_with_one_bad_do_not_trip_the_threshold(small):
    root = small["root"]
    load = _load(root, "organization/province_reports")
    assert (load["rows_read"], load["quarantined"]) == (4, 1)
    [bad] = _lake(root, "quarantine", "organization/province_reports")
    assert bad["_source_row"] == small["made"]["province_reports_bad_row"]
    assert bad["reason_codes"] == "boolean_unparseable" and bad["columns"] == "has_status_assessment"
    check = _checks(small["result"].ingest)["lake/organization/province_reports:reconciled_within_threshold"]
    assert check.passed
    assert "share not judged below 200 rows: 4 read, 1 quarantined" in check.description
    assert len(_lake(root, "validated", "organization/province_reports")) == 3


def test_households_of_quarantined_projects_are_held_back_with_them(small):
    root, housing = small["root"], small["made"]["housing"]
    projects = {r["row_key"]: r for r in _lake(root, "quarantine", "housing/projects")}
    for code in housing["broken"]:
        assert projects[code]["reason_codes"] == "date_unparseable", code
    # the superseded older record is quarantined, but its key has a valid latest record
    assert projects[housing["superseded"]]["reason_codes"] == "duplicate_key_superseded"

    held = [r for r in _lake(root, "quarantine", "housing/households")]
    by_reason = {}
    for r in held:
        by_reason.setdefault(r["reason_codes"], []).append(r)
    assert len(by_reason["parent_quarantined"]) == BROKEN_PROJECTS * HOUSEHOLDS_PER_PROJECT
    for r in by_reason["parent_quarantined"]:
        project = json.loads(r["values"])[0]
        assert project in housing["broken"] and r["columns"] == "project_code"
        parent = projects[project]
        # the message names the parent's table, row and reason
        assert (f"its project_code {project} is quarantined in housing/projects "
                f"(housing/baan_mankong.sqlite row {parent['_source_row']}: date_unparseable") in r["message"]
    # a household of a project that is nowhere is an orphan, not a held-back child
    [orphan] = by_reason["orphan_reference"]
    assert json.loads(orphan["values"]) == ["BM-0000-9999"]
    assert set(by_reason) == {"parent_quarantined", "orphan_reference"}
    # the households of the superseded project's key are valid
    valid = {r["project_code"] for r in _lake(root, "validated", "housing/households")}
    assert housing["superseded"] in valid and not valid & set(housing["broken"])

    # 12.5 % of the households are held back, but they are their projects' problem: the
    # households' check passes, and says why
    load = _load(root, "housing/households")
    assert load["rows_read"] == housing["households"] >= 200
    assert load["quarantined"] / load["rows_read"] > 0.05
    check = _checks(small["result"].ingest)["lake/housing/households:reconciled_within_threshold"]
    assert check.passed, check.description
    assert f"({BROKEN_PROJECTS * HOUSEHOLDS_PER_PROJECT} more held back with their quarantined parent)" \
        in check.description


def test_dbt_relationship_tests_hold_and_pass(small):
    """The relationship the held-back households used to fail is now true, and dbt's own
    results say so (a warning would show in the check results)."""
    checks = _checks(small["result"].build)
    relationship = [c for name, c in checks.items()
                    if name.startswith("staging/stg_housing__households:relationships")]
    assert relationship and all(c.passed for c in relationship)
    failed = sorted(name for name, c in checks.items() if not c.passed)
    assert failed == []


def test_an_indicator_year_with_no_records_is_no_data_and_publishes(small, capsys):
    root = small["root"]
    with duckdb.connect(str(root / "published" / "codi.duckdb"), read_only=True) as con:
        rows = con.execute("""select fiscal_year, area_level, actual, achievement_pct, status
                              from marts.mart_kpi where kpi_id = 'K10' order by all""").fetchall()
        country = {y: (a, p, s) for y, level, a, p, s in rows if level == "country"}
        assert set(country) == {2555, 2556, 2557, 2558, 2559}
        for year in (2557, 2558, 2559):
            assert country[year] == (None, None, "no data"), year
            assert {(a, s) for y, level, a, p, s in rows if y == year} == {(None, "no data")}
        assert country[2556][0] is not None and country[2556][2] in ("met", "behind")
        # the status says 'no data' exactly where there is no figure, for every indicator
        assert con.execute("""select count(*) from marts.mart_kpi
                              where (actual is null) != (status = 'no data')""").fetchone()[0] == 0
        statuses = {s for (s,) in con.execute("select distinct status from marts.mart_kpi").fetchall()}
        assert statuses <= {"met", "behind", "no target", "no data"}

        # the summary of make run prints it as such, never as behind
        from orchestration.summary import print_kpis

        print_kpis(con)
    printed = [line for line in capsys.readouterr().out.splitlines() if " 2557 " in line or " 2558 " in line
               or " 2559 " in line]
    k10 = [line for line in printed if "no data" in line]
    assert len(k10) >= 3 and not any("behind" in line for line in k10)

    # the reports show the badge 'no data' (ไม่มีข้อมูล), from the mart's status
    index = (root / "published" / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'title="no data"' in index and "ไม่มีข้อมูล" in index


# ---------------------------------------------------------------------------------------------
# Focused rules, without Dagster

def _councils_copy(small, tmp_path: Path) -> tuple[Path, Path, str]:
    sources = tmp_path / "sources"
    (sources / "organization").mkdir(parents=True)
    shutil.copyfile(small["root"] / "sources" / "organization" / "councils.csv",
                    sources / "organization" / "councils.csv")
    return sources, tmp_path / "lake", "organization/councils"


def test_a_shrunken_export_is_refused_until_this_export_is_accepted(small, tmp_path, monkeypatch):
    import schemas
    from ingestion.load import load_table
    from ingestion.readers import SourceError
    from orchestration import changes, run

    sources, lake, name = _councils_copy(small, tmp_path)
    spec = schemas.TABLES[tuple(name.split("/"))]
    path = sources / "organization" / "councils.csv"
    full = path.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    first = load_table(spec, sources, lake, KEY, BOUNDARIES)
    assert first.rows_read == 30

    # 27 of 30 rows (10 % fewer) is within the table's limit
    path.write_bytes("".join(full[:28]).encode("utf-8-sig"))
    assert load_table(spec, sources, lake, KEY, BOUNDARIES).rows_read == 27
    # 20 of 27 (26 % fewer) is not: refused, the last good load stays, and the message says how
    path.write_bytes("".join(full[:21]).encode("utf-8-sig"))
    kept = (lake / "loads" / "organization" / "councils.json").read_text(encoding="utf-8")
    with pytest.raises(SourceError) as refused:
        load_table(spec, sources, lake, KEY, BOUNDARIES)
    message = str(refused.value)
    for part in ("20 data rows where the last good load", "read 27: 26% fewer, more than the 10% "
                 "the table allows", "make run ACCEPT=organization/councils",
                 "python -m orchestration.run --accept-shrink organization/councils",
                 "file organization/councils.csv", "table organization/councils"):
        assert part in message, message
    assert (lake / "loads" / "organization" / "councils.json").read_text(encoding="utf-8") == kept

    # accepting it (what `make run ACCEPT=...` does first) records these files' sha256; the
    # sensor's run key changes, so it asks for the same files once more
    monkeypatch.setenv("CODI_SOURCES_DIR", str(sources))
    monkeypatch.setenv("CODI_LAKE_DIR", str(lake))
    before = changes.detect(None, sources_dir=sources, lake_dir=lake)
    run.accept_shrink([name])
    accepted = json.loads((lake / "accepted" / "organization" / "councils.json").read_text(encoding="utf-8"))
    assert list(accepted["files"]) == ["organization/councils.csv"]
    assert accepted["last_good_rows_read"] == 27
    after = changes.detect(None, sources_dir=sources, lake_dir=lake)
    assert name in after.tables and after.fingerprint() != before.fingerprint()
    assert load_table(spec, sources, lake, KEY, BOUNDARIES).rows_read == 20

    # it accepted that export only: another file that shrank as much is refused again
    path.write_bytes("".join(full[:12]).encode("utf-8-sig"))
    with pytest.raises(SourceError, match="11 data rows where the last good load"):
        load_table(spec, sources, lake, KEY, BOUNDARIES)


def test_accept_shrink_names_the_tables_it_knows():
    from orchestration import run

    with pytest.raises(SystemExit) as exited:
        run.main(["--accept-shrink", "finance/nope"])
    assert exited.value.code == 2
    # make run ACCEPT=... passes the tables on (a dry run: nothing is executed)
    dry = subprocess.run(["make", "-n", "run", "ACCEPT=finance/repayments"], cwd=PROJECT,
                         capture_output=True, text=True, timeout=120)
    assert "--accept-shrink finance/repayments" in dry.stdout, dry.stdout + dry.stderr


def test_the_share_is_judged_from_the_minimum_row_count(monkeypatch):
    import schemas
    from ingestion.load import Reconciliation
    from orchestration.defs.ingestion import judge_share

    spec = schemas.TABLES[("finance", "loans")]

    def rec(read, quarantined):
        return Reconciliation(source="finance", table="loans", load_id="x", loaded_at="", files={},
                              rows_read=read, valid=read - quarantined, quarantined=quarantined,
                              duplicates=0, reasons={"amount_negative": quarantined})

    assert judge_share(rec(4, 1), spec) == (True, "share not judged below 200 rows: 4 read, 1 quarantined")
    ok, why = judge_share(rec(400, 40), spec)
    assert not ok and "10.00% of the rows quarantined, above the 5% threshold" in why
    assert judge_share(rec(400, 20), spec)[0]
    # a table's own limits, set on its TableSpec
    monkeypatch.setattr(spec, "min_rows_judged", 2)
    monkeypatch.setattr(spec, "threshold", 0.30)
    assert judge_share(rec(4, 1), spec) == (True, "25.00% quarantined, within the 30% threshold")


def test_children_depend_on_their_parents_and_wait_for_them(small, tmp_path):
    """In Dagster the child's asset depends on its parent's; a child whose parent was loaded
    after it is due again (its rows were judged against an older parent)."""
    import schemas
    from ingestion.load import load_table
    from ingestion.readers import SourceError
    from orchestration import changes
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for spec in schemas.TABLES.values():
        if spec.parent:
            parent = dg.AssetKey(["lake", spec.parent.source, spec.parent.table])
            assert parent in graph.get(dg.AssetKey(["lake", spec.source, spec.table])).parent_keys

    sources, lake = tmp_path / "sources", tmp_path / "lake"
    (sources / "organization").mkdir(parents=True)
    for f in ("councils.csv", "council_assessments.csv"):
        shutil.copyfile(small["root"] / "sources" / "organization" / f, sources / "organization" / f)
    child = schemas.TABLES[("organization", "council_assessments")]
    with pytest.raises(SourceError, match="its parent table organization/councils has no load"):
        load_table(child, sources, lake, KEY, BOUNDARIES)
    load_table(schemas.TABLES[("organization", "councils")], sources, lake, KEY, BOUNDARIES)
    load_table(child, sources, lake, KEY, BOUNDARIES)
    due = changes.detect(None, sources_dir=sources, lake_dir=lake)
    assert "organization/council_assessments" not in due.tables
    load_table(schemas.TABLES[("organization", "councils")], sources, lake, KEY, BOUNDARIES)
    due = changes.detect(None, sources_dir=sources, lake_dir=lake)
    assert due.tables.get("organization/council_assessments") == \
        "its parent organization/councils was loaded after it"


def test_two_spellings_of_one_key_are_one_key(tmp_path):
    """A year in the other era and an abolished code stand for the same record as the current
    spelling: the older one is superseded in ingestion, never a second row for dbt's key test."""
    import schemas
    from ingestion.load import load_table

    folder = tmp_path / "sources" / "organization"
    folder.mkdir(parents=True)
    (folder / "tambon_plans.csv").write_text(
        "subdistrict_code,fiscal_year,has_self_analysis_data,has_development_plan,plan_linked_to_province\r\n"
        "500101,2556,Y,N,N\r\n"
        "500101,2013,Y,Y,N\r\n"        # FY2013 CE is FY2556 BE: the same key, a later record
        "100205,2556,N,N,N\r\n"        # an abolished code ...
        "102901,2556,Y,Y,Y\r\n",       # ... and its one current successor
        encoding="utf-8-sig")
    spec = schemas.TABLES[("organization", "tambon_plans")]
    rec = load_table(spec, tmp_path / "sources", tmp_path / "lake", KEY, BOUNDARIES)
    assert (rec.valid, rec.quarantined) == (2, 2)
    quarantined = {r["_source_row"]: r["reason_codes"]
                   for r in _lake(tmp_path, "quarantine", "organization/tambon_plans")}
    assert quarantined == {2: "duplicate_key_superseded", 4: "duplicate_key_superseded"}
    valid = {(r["subdistrict_code"], r["fiscal_year"]) for r in _lake(tmp_path, "validated", "organization/tambon_plans")}
    assert valid == {("500101", 2556), ("102901", 2556)}


def test_a_training_without_a_year_is_quarantined_not_left_to_fail_in_dbt(tmp_path):
    """fct_leader_training.fiscal_year is not_null (blocking): ingestion must hold back a row
    that has none."""
    import schemas
    from ingestion.load import load_table

    folder = tmp_path / "sources" / "organization"
    folder.mkdir(parents=True)
    (folder / "leader_training.csv").write_text(
        "training_code,fiscal_year,subdistrict_code,new_leaders,total_participants\r\n"
        "TR0001,2556,500101,5,20\r\n"
        "TR0002,,500101,3,10\r\n", encoding="utf-8-sig")
    rec = load_table(schemas.TABLES[("organization", "leader_training")], tmp_path / "sources",
                     tmp_path / "lake", KEY, BOUNDARIES)
    assert (rec.valid, rec.quarantined) == (1, 1)
    [row] = _lake(tmp_path, "quarantine", "organization/leader_training")
    assert (row["_source_row"], row["reason_codes"], row["columns"]) == (3, "value_missing", "fiscal_year")


def test_no_test_a_source_row_can_trip_blocks_the_build():
    """The severities of docs/policy.md, read from the dbt manifest: relationships between the
    tables of a parent and its child, the area a child takes from its parent, and every test on
    the audit models warn; the plan-year test blocks (only the project's own code can fail it)."""
    manifest = json.loads(Path(settings.DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    children = {"stg_housing__households", "fct_housing_households", "fct_loan_repayments",
                "fct_council_assessments"}
    for test in tests:
        model = (test.get("attached_node") or "").split(".")[-1]
        kind = (test.get("test_metadata") or {}).get("name")
        severity = test["config"]["severity"].lower()
        if model.startswith("audit_"):
            assert severity == "warn", test["unique_id"]
        if model in children and kind == "relationships":
            assert severity == "warn", test["unique_id"]
    plan_year = next(t for t in tests if t["name"] == "assert_every_indicator_has_a_country_figure_each_plan_year")
    assert plan_year["config"]["severity"].lower() == "error"


def test_the_reports_map_the_four_statuses_exactly():
    from publishing.reports import status_of

    assert status_of("met")[1:] == ("met", "ok")
    assert status_of("behind")[1:] == ("behind", "bad")
    assert status_of("no target")[1:] == ("no target", "none")
    assert status_of("no data") == ("ไม่มีข้อมูล", "no data", "none")
    assert status_of(None) == status_of("no data")
    with pytest.raises(ValueError, match="not met"):
        status_of("not met")
