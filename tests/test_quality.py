"""Quality and audit on the session's real run: the Great Expectations checks, the docs, the
completeness and outlier marts, the auditor's metadata; and a corrupted copy of the warehouse on
which the checks fail and publishing is skipped."""

from __future__ import annotations

import shutil
import subprocess

import dagster as dg
import duckdb
import numpy as np
import pytest

from orchestration import settings
from orchestration.defs import quality
from orchestration.quality import runner, suites


def _check_evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name):
            e.event_specific_data
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION}


def _materializations(result) -> dict[str, dg.AssetMaterialization]:
    return {e.asset_key.to_user_string(): e.event_specific_data.materialization
            for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION}


# ---------------------------------------------------------------------------------------------
# The session's run
# ---------------------------------------------------------------------------------------------

def test_every_suite_ran_as_an_asset_check_and_passed(pipeline, warehouse):
    evaluations = _check_evaluations(pipeline)
    expected = {(s.asset, s.check) for s in quality.SUITES}
    # the invariants the issue names, on the marts it names
    for asset, check in [("marts/mart_kpi", "ge_every_province_every_year"),
                         ("marts/mart_kpi", "ge_percentages_within_0_100"),
                         ("marts/mart_kpi", "ge_rollup_equals_sum_of_parts"),
                         ("marts/mart_province_profile", "ge_rollup_equals_sum_of_parts"),
                         ("marts/mart_region_profile", "ge_rollup_equals_sum_of_parts"),
                         ("marts/fct_housing_households", "ge_area_codes_in_dim_area"),
                         ("marts/mart_kpi", "ge_row_count_within_band"),
                         ("audit/audit_kpi_lineage", "ge_lineage_adds_up")]:
        assert (asset, check) in expected
    assert expected <= set(evaluations), expected - set(evaluations)
    failed = {key: ev.metadata.get("summary") for key, ev in evaluations.items()
              if key in expected and not ev.passed}
    assert not failed, failed
    # blocking where a failure must stop publishing; the row-count band only warns
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    specs = {(k.asset_key.to_user_string(), k.name): graph.get_check_spec(k)
             for k in graph.asset_check_keys}
    assert specs[("marts/mart_kpi", "ge_rollup_equals_sum_of_parts")].blocking
    assert not specs[("marts/mart_kpi", "ge_row_count_within_band")].blocking
    # the first run has no band yet: it only asks for a non-empty table, and records the count
    band = evaluations[("marts/mart_kpi", "ge_row_count_within_band")]
    count = warehouse.execute("select count(*) from marts.mart_kpi").fetchone()[0]
    assert band.metadata["row_count"].value == count


def test_ge_runs_on_a_read_only_warehouse_without_progress_bars(warehouse, capfd):
    chosen = [s for s in quality.SUITES if s.asset == "marts/mart_kpi" and s.blocking]
    outcomes = runner.run_suites(chosen, run_name="pytest-progress-bars")
    assert outcomes and all(o.success for o in outcomes)
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out
    assert "it/s]" not in captured.err + captured.out


def test_data_docs_and_dbt_docs_are_published_and_linked(pipeline, codi_env):
    docs = codi_env / "published" / "docs"
    ge_index = docs / "great_expectations" / "index.html"
    dbt_index = docs / "dbt" / "index.html"
    assert ge_index.exists() and dbt_index.exists()
    # one validation page per suite for this run, and the dbt docs know the audit marts
    pages = list((docs / "great_expectations" / "validations").rglob(f"{pipeline.run_id}/*/*.html"))
    assert len(pages) == len(quality.SUITES)
    assert "audit_reporting_completeness" in dbt_index.read_text(encoding="utf-8")
    front = (docs / "index.html").read_text(encoding="utf-8")
    assert pipeline.run_id in front and "ge_rollup_equals_sum_of_parts" in front

    metadata = _materializations(pipeline)["published/docs"].metadata
    assert metadata["data_docs"].value == str(ge_index)
    assert metadata["dbt_docs"].value == str(dbt_index)
    assert metadata["ge_suites"].value == len(quality.SUITES)


def test_dbt_docs_are_kept_until_the_project_or_the_columns_change(pipeline, codi_env):
    """The next run with the same manifest and warehouse columns reuses the page; a change to
    either regenerates it."""
    dbt_docs = codi_env / "published" / "docs" / "dbt"
    key = quality.dbt_docs_key()
    kept = quality.reusable_dbt_docs(dbt_docs, key)
    metadata = _materializations(pipeline)["published/docs"].metadata
    assert kept is not None and kept["invocation_id"] == metadata["dbt_docs_invocation_id"].value
    assert quality.reusable_dbt_docs(dbt_docs, {**key, "catalog_sha256": "0" * 64}) is None
    assert quality.reusable_dbt_docs(dbt_docs, {**key, "manifest_sha256": "0" * 64}) is None


def test_dbt_materialisations_record_commit_invocation_and_row_count(pipeline, warehouse):
    head = subprocess.run(["git", "-C", str(settings.PROJECT_ROOT), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    metadata = _materializations(pipeline)["marts/mart_kpi"].metadata
    assert metadata["code_version/git_commit"].value == head
    assert "build" in metadata["dbt_command"].value
    assert len(metadata["invocation_id"].value) == 36  # dbt's invocation uuid
    count = warehouse.execute("select count(*) from marts.mart_kpi").fetchone()[0]
    assert metadata["dagster/row_count"].value == count


# ---------------------------------------------------------------------------------------------
# The audit marts
# ---------------------------------------------------------------------------------------------

def test_completeness_accounts_for_every_expected_area(warehouse):
    rows = warehouse.execute("""
        select source, fiscal_year, sum(areas_expected), sum(areas_reported), sum(areas_late),
               sum(areas_missing), count(*)
        from audit.audit_reporting_completeness group by all order by all""").fetchall()
    assert {r[0] for r in rows} == {"welfare/funds", "organization/council_assessments",
                                    "organization/tambon_plans", "organization/province_reports"}
    for source, fy, expected, reported, late, missing, provinces in rows:
        assert expected == reported + late + missing, (source, fy)
        assert provinces == 77  # one row per province, even with nothing expected
        if source == "organization/province_reports":
            assert expected == 77
    rates = warehouse.execute("""select min(reporting_rate_pct), max(reporting_rate_pct)
                                 from audit.audit_reporting_completeness""").fetchone()
    assert 0 <= rates[0] <= rates[1] <= 100


def test_a_quarantined_province_report_shows_as_late_or_missing(warehouse, codi_env):
    """The demo quarantines province reports with an unknown province code: the province whose
    report it was has none that year, and the mart names it."""
    validated = warehouse.execute("""
        select province_code, fiscal_year from marts.fct_province_reports""").fetchall()
    expected = {(p, fy) for (p,) in warehouse.execute(
        "select area_code from marts.dim_area where area_level = 'province'").fetchall()
        for fy in {fy for _, fy in validated}}
    absent = expected - set(validated)
    assert absent, "the demo quarantines some province reports"
    for province, fy in absent:
        late, missing = warehouse.execute("""
            select late_area_codes, missing_area_codes from audit.audit_reporting_completeness
            where source = 'organization/province_reports' and province_code = ? and fiscal_year = ?""",
            [province, fy]).fetchone()
        assert province in (late.split(";") + missing.split(";"))


def test_outliers_are_robust_z_scores_beyond_the_threshold_and_stay_in_the_marts(warehouse):
    flagged = warehouse.execute("""
        select measure, area_level, fiscal_year, area_code, value, robust_z
        from audit.audit_outliers where area_level = 'province' and measure not like 'kpi_%'
        order by abs(robust_z) desc limit 1""").fetchone()
    assert flagged is not None, "the demo has province-level outliers"
    measure, level, fy, area, value, z = flagged
    # recompute the robust z-score (on ln of the values above zero) from the mart it came from
    values = np.log([v for (v,) in warehouse.execute(
        f"select cast({measure} as double) from marts.mart_province_profile "
        f"where fiscal_year = ? and {measure} > 0", [fy]).fetchall()])
    median = np.median(values)
    mad = np.median(np.abs(values - median))
    assert z == pytest.approx(0.6745 * (np.log(value) - median) / mad, abs=1e-3)
    assert abs(z) > 3.5
    # flagged, not removed: the value is still in the mart
    kept = warehouse.execute(f"select {measure} from marts.mart_province_profile "
                             f"where province_code = ? and fiscal_year = ?", [area, fy]).fetchone()
    assert kept is not None and kept[0] == pytest.approx(value)
    assert warehouse.execute("select min(abs(robust_z)) from audit.audit_outliers").fetchone()[0] > 3.5


# ---------------------------------------------------------------------------------------------
# A corrupted copy: the checks fail and nothing is published
# ---------------------------------------------------------------------------------------------

def _checks_and_publish_job() -> tuple[dg.Definitions, str]:
    """The GE checks and everything downstream of the marts (publishing, docs), without
    rebuilding the marts: a second run on a warehouse someone tampered with."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    published = [k for k in graph.get_all_asset_keys() if k.path[0] == "published"]
    job = dg.define_asset_job(
        "checks_then_publish",
        selection=dg.AssetSelection.checks(*[quality._check_key(s) for s in quality.SUITES])
        | dg.AssetSelection.assets(*published))
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])), "checks_then_publish"


@pytest.fixture
def corrupted_copy(warehouse, codi_env, tmp_path, monkeypatch):
    copy = tmp_path / "warehouse" / "codi.duckdb"
    copy.parent.mkdir()
    shutil.copy(codi_env / "warehouse" / "codi.duckdb", copy)
    monkeypatch.setenv("CODI_WAREHOUSE", str(copy))
    monkeypatch.setenv("CODI_PUBLISH_DIR", str(tmp_path / "published"))
    return copy


def test_a_rollup_that_no_longer_sums_fails_its_check_and_stops_publishing(corrupted_copy, tmp_path):
    with duckdb.connect(str(corrupted_copy)) as con:
        province, fy = con.execute("""select province_code, fiscal_year from marts.mart_province_profile
                                      where new_leaders > 0 order by all limit 1""").fetchone()
        con.execute("""update marts.mart_province_profile set new_leaders = new_leaders + 5
                       where province_code = ? and fiscal_year = ?""", [province, fy])

    definitions, job_name = _checks_and_publish_job()
    with dg.DagsterInstance.ephemeral() as instance:
        result = definitions.resolve_job_def(job_name).execute_in_process(
            instance=instance, raise_on_error=False)
        log = [entry.user_message for entry in instance.all_logs(result.run_id)]

    assert not result.success
    evaluations = _check_evaluations(result)
    rollup = evaluations[("marts/mart_province_profile", "ge_rollup_equals_sum_of_parts")]
    assert not rollup.passed and rollup.severity == dg.AssetCheckSeverity.ERROR
    [failing] = rollup.metadata["failing_rows_sample"].value
    assert (failing["province_code"], failing["fiscal_year"], failing["measure"], failing["gap"]) \
        == (province, fy, "new_leaders", 5.0)
    # The region roll-up sums the tampered province too; nothing else is affected.
    failed = {key for key, ev in evaluations.items() if not ev.passed}
    assert failed == {("marts/mart_province_profile", "ge_rollup_equals_sum_of_parts"),
                      ("marts/mart_region_profile", "ge_rollup_equals_sum_of_parts")}

    # publishing was skipped: never started, no materialisation, no file
    started = {e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert started == {"great_expectations"}
    assert not [k for k in _materializations(result) if k.startswith("published/")]
    assert any("published__codi_duckdb" in m and "Not executing" in m for m in log)
    assert not (tmp_path / "published" / "codi.duckdb").exists()
    assert not (tmp_path / "published" / "docs").exists()


def test_row_count_band_compares_with_the_last_run(corrupted_copy):
    key = dg.AssetCheckKey(dg.AssetKey(["marts", "mart_kpi"]), "ge_row_count_within_band")
    from orchestration.definitions import defs

    job = dg.define_asset_job("band_only", selection=dg.AssetSelection.checks(key))
    definitions = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        first = definitions.resolve_job_def("band_only").execute_in_process(instance=instance)
        assert _check_evaluations(first)[("marts/mart_kpi", "ge_row_count_within_band")].passed
        with duckdb.connect(str(corrupted_copy)) as con:
            before = con.execute("select count(*) from marts.mart_kpi").fetchone()[0]
            con.execute("delete from marts.mart_kpi where area_level = 'province'")
            after = con.execute("select count(*) from marts.mart_kpi").fetchone()[0]
        assert after < before * (1 - suites.ROW_COUNT_BAND)
        second = definitions.resolve_job_def("band_only").execute_in_process(
            instance=instance, raise_on_error=False)
    band = _check_evaluations(second)[("marts/mart_kpi", "ge_row_count_within_band")]
    assert not band.passed and band.severity == dg.AssetCheckSeverity.WARN
    assert band.metadata["parameter/previous_row_count"].value == before
    assert band.metadata["row_count"].value == after
    assert second.success  # a warning, not a failure: it does not block
