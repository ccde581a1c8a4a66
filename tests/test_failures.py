"""Failures name their cause: what the summary of `make run` and the alert say about a failed
step, from the error Dagster recorded for a real (small) run."""

from __future__ import annotations

import errno
from pathlib import Path

import dagster as dg

from orchestration import failures, summary
from orchestration.defs.publish import naming


def _run(*assets) -> tuple[dg.ExecuteJobResult, dg.DagsterInstance]:
    instance = dg.DagsterInstance.ephemeral()
    job = dg.define_asset_job("failing", selection=dg.AssetSelection.all())
    defs = dg.Definitions(assets=list(assets), jobs=[job])
    result = defs.resolve_job_def("failing").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return result, instance


def test_a_full_disk_is_named_with_its_path_not_as_dagsters_wrapper(tmp_path: Path, capsys):
    folder = tmp_path / "releases" / "run.building" / "reports"

    @dg.asset(key=["published", "reports"])
    def reports():
        with naming(folder):
            # what write() raises on a full disk: no file name of its own
            raise OSError(errno.ENOSPC, "No space left on device")

    result, instance = _run(reports)
    [failure] = failures.step_failures(instance, result.run_id)
    assert failure["error"] == f"OSError: [Errno 28] No space left on device: '{folder}'"
    assert failure["exception"] == "OSError"

    summary.print_run(result, instance)
    out = capsys.readouterr().out
    assert f"failed step published__reports: OSError: [Errno 28] No space left on device: '{folder}'" in out
    assert "Error occurred while executing" not in out


def test_the_root_of_a_chain_of_errors_is_given(tmp_path: Path):
    @dg.asset
    def caused():
        try:
            open(tmp_path / "missing" / "x.csv")   # noqa: SIM115
        except FileNotFoundError as error:
            raise RuntimeError("could not read the export") from error

    @dg.asset
    def raised_while_handling():
        try:
            {}["export"]
        except KeyError:
            raise RuntimeError("no export configured")   # noqa: B904

    result, instance = _run(caused, raised_while_handling)
    found = {f["step"]: f for f in failures.step_failures(instance, result.run_id)}
    assert found["caused"]["error"].startswith("FileNotFoundError: [Errno 2] No such file or directory:")
    assert str(tmp_path / "missing" / "x.csv") in found["caused"]["error"]
    assert found["raised_while_handling"]["error"] == "KeyError: 'export'"


def test_a_bad_source_keeps_its_message_file_table_row_and_column():
    @dg.asset(key=["lake", "finance", "loans"])
    def loans():
        raise dg.Failure(description="column 'principal' is missing (file finance/loans.csv, table "
                                     "finance/loans, row 1, column 'principal')",
                         metadata={"file": "finance/loans.csv", "table": "finance/loans", "row": 1,
                                   "column": "principal"})

    result, instance = _run(loans)
    [failure] = failures.step_failures(instance, result.run_id)
    assert failure["error"].startswith("column 'principal' is missing")
    assert (failure["file"], failure["table"], failure["row"], failure["column"]) == \
        ("finance/loans.csv", "finance/loans", 1, "principal")
    assert failures.where_text(failure) == ""   # the message says it all already


def test_no_personal_value_in_an_unexpected_error_of_a_personal_table():
    import schemas

    members = schemas.TABLES[("welfare", "members")]

    @dg.asset(key=["lake", "welfare", "members"])
    def welfare_members():
        raise ValueError("could not convert '3-1012-00456-78-1' nor 'สมใจ ใจดี' in column 'citizen_id' "
                         "of '/data/welfare/members_10.csv' (pseudonym " + "ab" * 32 + ")")

    result, instance = _run(welfare_members)
    [failure] = failures.step_failures(instance, result.run_id)
    assert "3-1012-00456-78-1" not in failure["error"] and "สมใจ" not in failure["error"]
    assert "ab" * 32 not in failure["error"]
    assert "'citizen_id'" in failure["error"] and "'/data/welfare/members_10.csv'" in failure["error"]
    assert failure["table"] == members.name
    # In a table without personal columns a quoted value is kept, an ID-like number is not.
    assert failures.mask_personal("bad value 'abc' and 1101700203451", schemas.TABLES[("disaster", "events")]) \
        == "bad value 'abc' and [masked]"
