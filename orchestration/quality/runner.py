"""Running the suites with Great Expectations 1.x: an ephemeral context (no GE project on disk),
pandas frames read from the warehouse opened read-only (only dbt writes it), and validation
results kept in a filesystem store, so Data Docs can show this run and the ones before it.

GE is imported here only, when checks run: importing it takes seconds, and the code location
must load fast.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration import settings
from orchestration.quality.suites import Suite

# How much of a failure the result keeps: counts and the first failing rows (with the row_id
# columns that name them), not every failing value.
PARTIAL_UNEXPECTED = 20
DATASOURCE = "warehouse"
SITE_NAME = "codi"
# Validation results of this many most recent runs are kept (and shown in Data Docs).
KEEP_RUNS = 30


def quality_dir() -> Path:
    """GE's validation results, beside the warehouse they describe."""
    return settings.warehouse_path().parent / "quality"


def validations_dir() -> Path:
    return quality_dir() / "validations"


def quiet_environment() -> None:
    """No usage statistics, no progress bars in the run logs, no INFO chatter."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


def make_context(docs_dir: Path | None = None):
    """An ephemeral GE context: suites and data sources in memory, validation results in
    `validations_dir()`, and, if `docs_dir` is given, a Data Docs site there."""
    quiet_environment()
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    in_memory = {"class_name": "InMemoryStoreBackend"}
    config = DataContextConfig(
        stores={
            "expectations_store": {"class_name": "ExpectationsStore", "store_backend": in_memory},
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(validations_dir())},
            },
            "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": in_memory},
            "validation_definition_store": {"class_name": "ValidationDefinitionStore",
                                            "store_backend": in_memory},
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={} if docs_dir is None else {SITE_NAME: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def gx_suite(suite: Suite):
    import great_expectations as gx

    expectations = [getattr(gx.expectations, e.type)(**e.kwargs) for e in suite.expectations]
    return gx.ExpectationSuite(name=suite.name, expectations=expectations,
                               meta={"notes": suite.description, "check": suite.check,
                                     "asset": suite.asset})


@dataclass
class Outcome:
    """One suite's run: the GE validation result, or the error that kept it from running."""

    suite: Suite
    sql: str
    rows: int | None
    result: Any = None  # ExpectationSuiteValidationResult
    error: str | None = None
    parameters: Mapping[str, Any] | None = None
    row_count: int | None = None  # what a row-count suite counted, for the next run's band

    @property
    def success(self) -> bool:
        return self.error is None and bool(self.result and self.result.success)


def run_suites(suites: Iterable[Suite], *, run_name: str,
               parameters: Mapping[str, Mapping[str, Any]] | None = None,
               warehouse: Path | None = None) -> list[Outcome]:
    """Validate each suite against the warehouse. `parameters` maps a suite's name to its GE
    suite parameters (e.g. the row-count band). A suite whose query fails (a missing table) is
    an Outcome with its error, not an exception: one broken query must not hide the others."""
    context = make_context()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    source = context.data_sources.add_pandas(DATASOURCE)
    run_id = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.timezone.utc))
    outcomes = []
    path = warehouse or settings.warehouse_path()
    with duckdb.connect(str(path), read_only=True) as con:
        for suite in suites:
            sql = ""
            try:
                sql = suite.query(con)
                frame = con.execute(sql).df()
            except duckdb.Error as exc:
                outcomes.append(Outcome(suite, sql, None, error=f"{type(exc).__name__}: {exc}"))
                continue
            batch = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("run")
            validation = context.validation_definitions.add(gx.ValidationDefinition(
                name=suite.name, data=batch, suite=context.suites.add(gx_suite(suite))))
            suite_parameters = dict((parameters or {}).get(suite.name, {}))
            result = validation.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=suite_parameters,
                result_format={"result_format": "SUMMARY",
                               "partial_unexpected_count": PARTIAL_UNEXPECTED,
                               "unexpected_index_column_names": list(suite.row_id)},
                run_id=run_id,
            )
            result.meta["sql"] = sql
            row_count = (int(frame["row_count"].iloc[0])
                         if "row_count" in frame.columns and len(frame) == 1 else None)
            outcomes.append(Outcome(suite, sql, len(frame), result=result,
                                    parameters=suite_parameters, row_count=row_count))
    return outcomes


def prune_validations(keep_runs: int = KEEP_RUNS) -> None:
    """Keep the validation results of the most recent runs only. The store's files are
    `<suite name, one folder per dot>/<run name>/<run time>/<batch>.json`."""
    root = validations_dir()
    runs: dict[str, float] = {}
    folders: dict[str, list[Path]] = {}
    for result in root.rglob("*.json") if root.exists() else ():
        run_folder = result.parent.parent
        runs[run_folder.name] = max(runs.get(run_folder.name, 0.0), result.stat().st_mtime)
        folders.setdefault(run_folder.name, []).append(run_folder)
    for run_name in sorted(runs, key=runs.get, reverse=True)[keep_runs:]:
        for folder in folders[run_name]:
            shutil.rmtree(folder, ignore_errors=True)


def build_data_docs(suites: Iterable[Suite], target: Path) -> Path:
    """Render GE Data Docs for `suites` and every stored validation result into `target`;
    returns the site's index.html."""
    prune_validations()
    context = make_context(docs_dir=target)
    for suite in suites:
        context.suites.add(gx_suite(suite))
    context.build_data_docs(site_names=[SITE_NAME])
    return target / "index.html"
