"""Great Expectations on the marts as Dagster asset checks, and the docs the auditors read.

- `great_expectations`: one multi-asset check (one step, one GE context) running every suite of
  `orchestration/quality/suites.py` on the dbt assets it targets. Suites marked blocking fail
  with ERROR severity, and Dagster then skips everything downstream of the failing asset in the
  run: the publishing assets and `published/docs` among them.
- `published/docs`: GE Data Docs and the dbt docs (static, one file) under
  `published/docs/`, with a landing page; linked by path from its metadata. A part of the
  run's release (orchestration/defs/publish.py), in the `published` group.
"""

import datetime as dt
import hashlib
import html
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import yaml
from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.dbt_project import dbt_project
from orchestration.defs import publish
from orchestration.defs.dbt import codi_dbt_models
from orchestration.quality import provenance, report, results, runner
from orchestration.quality.suites import Suite, all_suites

DOCS_KEY = dg.AssetKey(["published", "docs"])

# The dbt models the suites may target: exactly the assets dbt defines (a suite for a model that
# does not exist would fail the code location).
DBT_KEYS = sorted(key.to_user_string() for key in codi_dbt_models.keys)
SUITES: list[Suite] = all_suites(DBT_KEYS)


def docs_dir() -> Path:
    """Where readers find the docs: a stable path, through the current release."""
    return settings.publish_dir() / "docs"


def data_docs_index() -> Path:
    return docs_dir() / "great_expectations" / "index.html"


def _check_key(suite: Suite) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey.from_user_string(suite.asset), suite.check)


def previous_row_count(instance: dg.DagsterInstance, key: dg.AssetCheckKey,
                       run_id: str) -> int | None:
    """The row count the same check recorded in the most recent earlier run, if any."""
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=20):
        if record.run_id == run_id or record.event is None or record.event.dagster_event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        value = (getattr(evaluation, "metadata", None) or {}).get("row_count")
        if value is not None:
            return int(value.value)
    return None


def band_parameters(suite: Suite, previous: int | None) -> dict[str, Any]:
    """GE parameters of a row-count band: within the band of the last count, or merely not
    empty on a first run."""
    if previous is None:
        return {"min_rows": 1, "max_rows": None}
    band = suite.meta["band"]
    return {"min_rows": max(1, int(previous * (1 - band))), "max_rows": int(previous * (1 + band)) + 1,
            "previous_row_count": previous}


@dg.multi_asset_check(
    name="great_expectations",
    specs=[dg.AssetCheckSpec(name=s.check, asset=dg.AssetKey.from_user_string(s.asset),
                             description=s.description,
                             blocking=s.blocking) for s in SUITES],
    can_subset=True,
    description="Great Expectations suites on the marts (orchestration/quality/suites.py), on the "
                "warehouse opened read-only.",
)
def great_expectations(context: dg.AssetCheckExecutionContext):
    selected = context.selected_asset_check_keys
    todo = [s for s in SUITES if _check_key(s) in selected]
    parameters = {
        s.name: band_parameters(s, previous_row_count(context.instance, _check_key(s), context.run.run_id))
        for s in todo if s.parameters == "row_count_band"
    }
    outcomes = runner.run_suites(todo, run_name=context.run.run_id, parameters=parameters)
    failed = [o.suite.name for o in outcomes if not o.success]
    context.log.info(f"Great Expectations: {len(outcomes) - len(failed)} of {len(outcomes)} "
                     f"suites passed" + (f"; failed: {', '.join(failed)}" if failed else ""))
    for outcome in outcomes:
        yield results.to_check_result(outcome, data_docs=data_docs_index())


# ---------------------------------------------------------------------------------------------
# Docs
# ---------------------------------------------------------------------------------------------

def read_only_profiles_dir(target: Path) -> Path:
    """A copy of the project's dbt profile that opens the warehouse read-only, so `dbt docs
    generate` (which reads the catalog) never takes the write lock BI readers and the publisher
    would trip over."""
    profiles = yaml.safe_load((settings.DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    profile = profiles["codi"]
    output = dict(profile["outputs"][profile["target"]])
    output["config_options"] = {**(output.get("config_options") or {}), "access_mode": "READ_ONLY"}
    output["threads"] = 1
    profiles = {"codi": {"target": "docs", "outputs": {"docs": output}}}
    target.mkdir(parents=True, exist_ok=True)
    (target / "profiles.yml").write_text(yaml.safe_dump(profiles, allow_unicode=True), encoding="utf-8")
    return target


DBT_DOCS_KEY_FILE = "docs_key.json"


def dbt_docs_key() -> dict[str, str]:
    """What the dbt docs are made of: the prepared manifest (models, descriptions, tests, dbt's
    version) and the catalog (the warehouse's tables, columns and types). Neither changes on a
    daily run that only brings new rows, so the docs need not be regenerated then."""
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns order by all").fetchall()
    return {"manifest_sha256": hashlib.sha256(Path(dbt_project.manifest_path).read_bytes()).hexdigest(),
            "catalog_sha256": hashlib.sha256(repr(columns).encode("utf-8")).hexdigest()}


def reusable_dbt_docs(previous: Path, key: dict[str, str]) -> dict[str, Any] | None:
    """The invocation that made the published dbt docs in `previous` if they were made from the
    same manifest and catalog as `key`, else None."""
    try:
        stored = json.loads((previous / DBT_DOCS_KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stored.get("key") != key or not (previous / "index.html").is_file():
        return None
    return stored.get("invocation")


def generate_dbt_docs(dbt: DbtCliResource, out_dir: Path, meanwhile=None) -> dict[str, Any]:
    """`dbt docs generate --static` on the read-only profile, into `out_dir/index.html` (one
    file holding manifest and catalog: it opens from a folder). `meanwhile` runs while dbt
    does (the GE docs), as both take tens of seconds. Returns the dbt invocation."""
    os.environ.update(settings.dbt_env())
    with tempfile.TemporaryDirectory(prefix="codi-dbt-docs-") as tmp:
        tmp_path = Path(tmp)
        docs_dbt = DbtCliResource(project_dir=os.fspath(dbt.project_dir),
                                  profiles_dir=os.fspath(read_only_profiles_dir(tmp_path / "profiles")),
                                  dbt_executable=dbt.dbt_executable)
        invocation = docs_dbt.cli(["docs", "generate", "--static"], target_path=tmp_path / "target")
        # read dbt's output in a thread, so that it never waits on a full pipe meanwhile
        with ThreadPoolExecutor(max_workers=1) as pool:
            finished = pool.submit(invocation.wait)
            if meanwhile is not None:
                meanwhile()
            finished.result()
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "index.html").write_bytes((tmp_path / "target" / "static_index.html").read_bytes())
        run_results = invocation.get_artifact("run_results.json")
        return {"invocation_id": run_results["metadata"]["invocation_id"],
                "command": invocation.dbt_command}


def _landing_page(run_id: str, commit: str, generated: str,
                  validations: list[dict[str, Any]], run_name: str | None) -> str:
    """The docs' front page. It lists the latest validation results itself, as plain HTML: GE's
    own index fills its tables with scripts from CDNs, which an offline reader does not get."""
    rows = "\n".join(
        f"<tr><td><a href=\"great_expectations/validations/{html.escape(v['page'])}\">"
        f"{html.escape(v['suite'] or '')}</a></td>"
        f"<td class=\"{'ok' if v['success'] else 'fail'}\">{'ผ่าน / pass' if v['success'] else 'ไม่ผ่าน / FAIL'}</td>"
        f"<td>{v['failed']}</td></tr>" for v in validations)
    return f"""<!doctype html>
<html lang="th"><head><meta charset="utf-8">
<title>เอกสารคลังข้อมูลชุมชน พอช. / CODI warehouse documentation</title>
<style>
@font-face{{font-family:'Noto Sans Thai';src:url('assets/NotoSansThai.ttf') format('truetype')}}
body{{font-family:'Noto Sans Thai','Noto Sans',sans-serif;max-width:60rem;margin:2rem auto;line-height:1.6;padding:0 1rem}}
table{{border-collapse:collapse}} td,th{{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}}
.ok{{color:#1a7f37}} .fail{{color:#b00020;font-weight:bold}} code{{background:#f4f4f4}}
</style>
</head><body>
<h1>เอกสารคลังข้อมูลชุมชน พอช.<br><small>CODI Community Data Warehouse: documentation</small></h1>
<ul>
<li><a href="great_expectations/index.html">ผลการตรวจคุณภาพข้อมูล / Data quality (Great Expectations Data Docs)</a>:
the suites on the marts and the results of the recent runs (its index needs a network connection
for its scripts; the pages below open offline).</li>
<li><a href="dbt/index.html">แบบจำลองข้อมูล / Models and lineage (dbt docs)</a>:
every table and column of the warehouse, and how each is built.</li>
</ul>
<h2>ตรวจสอบย้อนกลับ / Audit</h2>
<ul>
<li><code>audit.audit_reporting_completeness</code>: per source, province and fiscal year, the areas
expected to report, reported, late and missing.</li>
<li><code>audit.audit_outliers</code>: values with a robust z-score beyond 3.5, flagged, never removed.</li>
<li><code>audit.audit_kpi_lineage</code>: the source rows (file, row, load) behind every figure of
<code>marts.mart_kpi</code>; <code>make trace KPI=K2 FY=2556 AREA=10</code> lists them with the run
that loaded them.</li>
</ul>
<h2>ผลการตรวจล่าสุด / Latest validation results{f" (run {html.escape(run_name)})" if run_name else ""}</h2>
<table><tr><th>suite</th><th>result</th><th>failed expectations</th></tr>
{rows}
</table>
<p>Dagster run <code>{html.escape(run_id)}</code>, code version <code>{html.escape(commit)}</code>,
generated {html.escape(generated)}.</p>
</body></html>
"""


def copy_thai_font(assets: Path) -> None:
    """Noto Sans Thai (OFL) beside the page, as the area reports do: Thai renders the same on
    every machine, with or without a Thai system font."""
    import fontpkg_noto_sans_thai

    assets.mkdir(parents=True, exist_ok=True)
    font = sorted((fontpkg_noto_sans_thai.ROOT / "files").glob("*.ttf"))[0]
    shutil.copyfile(font, assets / "NotoSansThai.ttf")
    shutil.copyfile(fontpkg_noto_sans_thai.ROOT / "LICENSE", assets / "OFL.txt")


def lake_loads() -> list[dict[str, Any]]:
    """The current load of every lake table (lake/loads/<source>/<table>.json): its id and the
    sha256 of each source file."""
    loads = []
    for path in sorted((settings.lake_dir() / "loads").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        loads.append({"table": f"{path.parent.name}/{path.stem}", "load_id": data.get("load_id"),
                      "loaded_at": data.get("loaded_at"), "files": data.get("files", {})})
    return loads


@dg.asset(
    key=DOCS_KEY,
    group_name=publish.GROUP,
    kinds={"great_expectations", "dbt", "html"},
    deps=[*publish.RELEASE_INPUTS, publish.RELEASE_FOLDER_KEY],
    description="GE Data Docs (the quality suites and their recent results) and the dbt docs "
                "(every model, column and its lineage) in published/docs/, rebuilt on each run "
                "after the marts pass their blocking checks, as a part of the run's release; the "
                "dbt docs are regenerated only when the dbt project or the warehouse's columns "
                "changed.",
)
def published_docs(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> dg.MaterializeResult:
    from publishing import release

    target = docs_dir()
    folder = publish.building(context)
    commit = provenance.git_commit()["commit"]
    generated = dt.datetime.now(dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=7)))
    key = dbt_docs_key()
    # The current release's dbt docs, if made from the same manifest and catalog.
    dbt_invocation = reusable_dbt_docs(target / "dbt", key)
    part = release.fresh_part_dir(folder / "docs")
    with publish.naming(part):
        if dbt_invocation is None:
            dbt_invocation = generate_dbt_docs(
                dbt, part / "dbt", meanwhile=lambda: runner.build_data_docs(SUITES, part / "great_expectations"))
            dbt_invocation["generated"] = generated.isoformat(timespec="seconds")
        else:
            # `dbt docs generate` takes tens of seconds and would write the same page.
            context.log.info(f"dbt docs unchanged since {dbt_invocation.get('generated')}: kept")
            (part / "dbt").mkdir()
            shutil.copy2(target / "dbt" / "index.html", part / "dbt" / "index.html")
            runner.build_data_docs(SUITES, part / "great_expectations")
        (part / "dbt" / DBT_DOCS_KEY_FILE).write_text(
            json.dumps({"key": key, "invocation": dbt_invocation}, indent=2), encoding="utf-8")
        run_name, latest = report.latest_validations()
        copy_thai_font(part / "assets")
        (part / "index.html").write_text(
            _landing_page(context.run_id, commit, generated.isoformat(timespec="seconds"),
                          latest, run_name), encoding="utf-8")
        validations = sum(1 for _ in (part / "great_expectations" / "validations").rglob("*.html"))
        loads = lake_loads()
        (part / "audit.json").write_text(json.dumps({
            "dagster_run_id": context.run_id, "git_commit": commit,
            "dbt_docs_invocation": dbt_invocation, "generated": generated.isoformat(),
            "lake_loads": loads,
        }, ensure_ascii=False, indent=2), encoding="utf-8")
        release.record_part(folder, "docs", [part])
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(target / "index.html")),
        "data_docs": dg.MetadataValue.path(str(data_docs_index())),
        "dbt_docs": dg.MetadataValue.path(str(target / "dbt" / "index.html")),
        "url": dg.MetadataValue.url((target / "index.html").as_uri()),
        "ge_validation_pages": validations,
        "ge_latest_run": run_name or "",
        "ge_latest_failed": dg.MetadataValue.json([v["suite"] for v in latest if not v["success"]]),
        "lake_loads": dg.MetadataValue.json(loads),
        "ge_suites": len(SUITES),
        "dbt_docs_invocation_id": dbt_invocation["invocation_id"],
        "dbt_docs_generated": dbt_invocation.get("generated", ""),
        "dbt_command": dbt_invocation["command"],
        **provenance.code_version_metadata(),
    })
