"""Ingestion as Dagster assets: one asset per source table (key `lake/<source>/<table>`, group
`<source>`), made from the registry `schemas.TABLES` by one factory, each with a blocking check
that the load reconciles and that its quarantined share is within the table's threshold.

The assets share nothing but the read-only sources, so they run in parallel; only dbt, which
depends on them through its sources (same keys), writes the warehouse."""

from typing import TYPE_CHECKING

import dagster as dg

import schemas
from orchestration import settings
from schemas.base import REASONS, TableSpec

# ingestion.load (pandas, pandera, pyarrow) is imported inside the step functions: the code
# location loads in every Dagster process, and most of them never load a table.
if TYPE_CHECKING:
    from ingestion.load import Reconciliation

CHECK_NAME = "reconciled_within_threshold"


def _metadata(rec: "Reconciliation", spec: TableSpec) -> dict:
    from ingestion.load import loads_path

    reasons = dg.MetadataValue.table(
        records=[dg.TableRecord({"reason_code": code, "rows": n, "meaning": REASONS.get(code, "")})
                 for code, n in rec.reasons.items()],
        schema=dg.TableSchema(columns=[dg.TableColumn("reason_code", "string"),
                                       dg.TableColumn("rows", "int"),
                                       dg.TableColumn("meaning", "string")]))
    files = rec.files
    return {
        "rows_read": dg.MetadataValue.int(rec.rows_read),
        "rows_physical": dg.MetadataValue.int(rec.physical_rows),
        "rows_valid": dg.MetadataValue.int(rec.valid),
        "rows_quarantined": dg.MetadataValue.int(rec.quarantined),
        "duplicates": dg.MetadataValue.int(rec.duplicates),
        "quarantined_share": dg.MetadataValue.float(round(rec.quarantined_share, 6)),
        "quarantine_threshold": dg.MetadataValue.float(spec.threshold),
        "min_rows_judged": dg.MetadataValue.int(spec.min_rows_judged),
        "reasons": reasons,
        "reasons_json": dg.MetadataValue.json(rec.reasons),
        "repairs": dg.MetadataValue.json(rec.repairs),
        "area_resolution": dg.MetadataValue.json(rec.area_resolution),
        "load_id": dg.MetadataValue.text(rec.load_id),
        "source_files": dg.MetadataValue.json(files),
        "source_file": dg.MetadataValue.path(str(settings.sources_dir() / next(iter(files))))
        if len(files) == 1 else dg.MetadataValue.text(f"{len(files)} files matching {spec.pattern}"),
        "sha256": dg.MetadataValue.text(next(iter(files.values())) if len(files) == 1 else
                                        rec.load_id.split("-")[-1] + " (combined, see source_files)"),
        "validated_path": dg.MetadataValue.path(rec.validated_path),
        "quarantine_path": dg.MetadataValue.path(rec.quarantine_path),
        "reconciliation_path": dg.MetadataValue.path(
            str(loads_path(settings.lake_dir(), spec.source, spec.table))),
        "seconds": dg.MetadataValue.float(rec.seconds),
    }


def _asset(spec: TableSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey(["lake", spec.source, spec.table])
    # A child table is judged against its parent's current load (ingestion.load.parent_keys):
    # it runs after its parent, and waits for it when the parent fails in the same run.
    parent = [dg.AssetKey(["lake", spec.parent.source, spec.parent.table])] if spec.parent else []

    @dg.asset(
        key=key,
        deps=parent,
        group_name=spec.source,
        kinds={"python", "parquet"},
        description=(f"{spec.description}\n\nRead from `{spec.pattern}` ({spec.format}); valid rows "
                     f"to `lake/validated/{spec.source}/{spec.table}/`, rejected rows with their "
                     f"reason codes to `lake/quarantine/{spec.source}/{spec.table}/`. Key: "
                     f"{', '.join(spec.key)}."),
        metadata={"quarantine_threshold": spec.threshold, "min_rows_judged": spec.min_rows_judged,
                  "max_shrink": spec.max_shrink, "file_pattern": spec.pattern},
        op_tags={"dagster/priority": str(spec.priority)},
    )
    def _load(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from ingestion.load import load_table
        from ingestion.readers import SourceError

        try:
            key = settings.pseudonym_key()
        except settings.PseudonymKeyMissing as exc:
            raise dg.Failure(description=f"{exc}. Nothing of {spec.name} was loaded.") from exc
        try:
            rec = load_table(spec, settings.sources_dir(), settings.lake_dir(), key,
                             settings.BOUNDARIES_DIR / "subdistricts.geojson")
        except SourceError as exc:
            # The whole table is unusable: fail, and leave the last good load in the lake.
            raise dg.Failure(
                description=f"{exc}. The last good load of {spec.name} is kept.",
                metadata={"file": exc.file, "table": exc.table, "row": exc.row or 0,
                          "column": exc.column or ""},
            ) from exc
        context.log.info(f"{spec.name}: read {rec.rows_read:,}, valid {rec.valid:,}, quarantined "
                         f"{rec.quarantined:,}, duplicates {rec.duplicates:,} ({rec.load_id})")
        return dg.MaterializeResult(metadata=_metadata(rec, spec))

    return _load


def judge_share(rec: "Reconciliation", spec: TableSpec) -> tuple[bool, str]:
    """The quarantine part of the blocking policy (docs/policy.md): (passed, why). Rows held back
    because their parent was quarantined are the parent's problem, judged at the parent's table
    (one also bad on its own counts as held); below the table's minimum row count a share says
    nothing about an export and is not judged."""
    from ingestion.load import PARENT_QUARANTINED

    held = rec.reasons.get(PARENT_QUARANTINED, 0)
    own = rec.quarantined - held
    share = own / rec.rows_read if rec.rows_read else 0.0
    held_note = f" ({held:,} more held back with their quarantined parent)" if held else ""
    if rec.rows_read < spec.min_rows_judged:
        return True, (f"share not judged below {spec.min_rows_judged:,} rows: {rec.rows_read:,} "
                      f"read, {own:,} quarantined{held_note}")
    if share > spec.threshold:
        return False, (f"{share:.2%} of the rows quarantined, above the {spec.threshold:.0%} "
                       f"threshold{held_note} (reasons: {rec.reasons})")
    return True, f"{share:.2%} quarantined, within the {spec.threshold:.0%} threshold{held_note}"


def _check(spec: TableSpec) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(["lake", spec.source, spec.table])

    @dg.asset_check(
        asset=key, name=CHECK_NAME, blocking=True,
        description=f"Every record the files hold (counted apart from the parser) is read, every "
                    f"row read is valid, quarantined or a counted duplicate, and at most "
                    f"{spec.threshold:.0%} of the rows are quarantined (not judged below "
                    f"{spec.min_rows_judged:,} rows; rows held back with a quarantined parent "
                    f"count at the parent).",
    )
    def _reconciles() -> dg.AssetCheckResult:
        from ingestion.load import read_reconciliation

        rec = read_reconciliation(settings.lake_dir(), spec.source, spec.table)
        if rec is None:
            return dg.AssetCheckResult(passed=False, description=f"no load of {spec.name} yet")
        problems = []
        if not rec.physically_balanced:
            # A parser that merged or skipped lines: rows were lost without a reason code.
            problems.append(f"read {rec.rows_read:,} rows but the files hold {rec.physical_rows:,} "
                            f"records counted on their own (lines, sheet rows, features): "
                            f"{abs(rec.physical_rows - rec.rows_read):,} "
                            f"{'missing' if rec.rows_read < rec.physical_rows else 'too many'}")
        if not rec.split_balanced:
            problems.append(f"read {rec.rows_read} != valid {rec.valid} + quarantined "
                            f"{rec.quarantined} + duplicates {rec.duplicates}")
        share_ok, share_note = judge_share(rec, spec)
        if not share_ok:
            problems.append(share_note)
        return dg.AssetCheckResult(
            passed=not problems,
            description="; ".join(problems) or f"reconciled; {share_note}",
            metadata={"rows_read": rec.rows_read, "rows_valid": rec.valid,
                      "rows_quarantined": rec.quarantined, "duplicates": rec.duplicates,
                      "quarantined_share": round(rec.quarantined_share, 6),
                      "threshold": spec.threshold, "min_rows_judged": spec.min_rows_judged,
                      "share_judged": rec.rows_read >= spec.min_rows_judged,
                      "load_id": rec.load_id,
                      **({"rows_physical": rec.physical_rows} if rec.physical_rows is not None else {})},
        )

    return _reconciles


# Module-level lists: dg.load_from_defs_folder picks them up (this module has no @definitions).
ingestion_assets = [_asset(spec) for spec in schemas.TABLES.values()]
ingestion_checks = [_check(spec) for spec in schemas.TABLES.values()]
