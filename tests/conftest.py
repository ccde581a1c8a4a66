"""Shared fixtures. The expensive one, `pipeline`, runs the real refresh (`ingest`, then `build`)
once per test session on the bundled demo sources, into a temporary lake, warehouse and publish folder."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

ENV_NAMES = ("CODI_SOURCES_DIR", "CODI_GROUND_TRUTH_DIR", "CODI_LAKE_DIR", "CODI_WAREHOUSE",
             "CODI_PUBLISH_DIR")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("codi")


@pytest.fixture(scope="session")
def codi_env(workdir: Path):
    """Point every path of orchestration.settings at the session's temporary folder."""
    saved = {name: os.environ.get(name) for name in ENV_NAMES}
    os.environ.update({
        "CODI_SOURCES_DIR": str(workdir / "sources"),
        "CODI_GROUND_TRUTH_DIR": str(workdir / "ground_truth"),
        "CODI_LAKE_DIR": str(workdir / "lake"),
        "CODI_WAREHOUSE": str(workdir / "warehouse" / "codi.duckdb"),
        "CODI_PUBLISH_DIR": str(workdir / "published"),
    })
    yield workdir
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def demo_sources(codi_env: Path) -> Path:
    """The demo profile generated once per session into the temporary sources folder, with its
    ground truth beside it. Returns the sources folder."""
    from ingestion import demo

    demo.generate(codi_env / "sources", codi_env / "ground_truth", profile="demo")
    return codi_env / "sources"


@pytest.fixture(scope="session")
def dagster_instance():
    """The in-memory Dagster instance of the session's run: its event log (materialisations,
    check results, the run that loaded each load id) stays readable for the tests."""
    import dagster as dg

    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="session")
def pipeline(codi_env: Path, demo_sources: Path, dagster_instance):
    """One real refresh of everything, as `make run` does it (orchestration.run.refresh): the
    `ingest` job, then the `build` job on what it loaded. Returns the `Refresh`: `.success`,
    `.run_id` (the build's, which published), `.ingest` and `.build` (the two runs' results),
    `.all_events` (both runs')."""
    from orchestration.definitions import defs
    from orchestration.run import refresh

    def execute(job_name, asset_keys, tags):
        return defs.resolve_job_def(job_name).execute_in_process(
            instance=dagster_instance, asset_selection=asset_keys, tags=tags, raise_on_error=False)

    return refresh(dagster_instance, execute)


@pytest.fixture(scope="session")
def warehouse(pipeline, codi_env: Path):
    path = codi_env / "warehouse" / "codi.duckdb"
    assert pipeline.success, "the refresh (ingest, build) failed: see the captured log above"
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()
