"""The registry and the Dagster assets made from it: every table of docs/lake.md, each check
named with a known reason code, one asset and one blocking check per table."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import dagster as dg

import schemas
from schemas import base
from schemas.base import REASONS

CONTRACT = {"housing/projects", "housing/households", "welfare/funds", "welfare/members",
            "finance/savings_groups", "finance/loans", "finance/repayments", "disaster/events",
            "environment/sites", "organization/councils", "organization/council_assessments",
            "organization/tambon_plans", "organization/province_reports",
            "organization/leader_training", "organization/joint_areas"}
# docs/lake.md's reason codes: the schemas may add their own, never rename these.
CONTRACT_REASONS = {"area_unresolved", "area_code_unknown", "point_outside_thailand",
                    "duplicate_key_superseded", "amount_negative", "amount_impossible",
                    "citizen_id_checksum", "orphan_reference", "date_unparseable",
                    "json_malformed", "total_row"}


def test_registry_covers_the_contract_and_names_every_check():
    assert {spec.name for spec in schemas.TABLES.values()} == CONTRACT
    assert CONTRACT_REASONS <= set(REASONS)
    for spec in schemas.TABLES.values():
        assert spec.key and all(k in spec.column_names or k in spec.derived for k in spec.key)
        assert 0 < spec.threshold < 1
        for schema in (spec.text, spec.typed):
            checks = list(schema.checks) + [c for col in schema.columns.values() for c in col.checks]
            assert all(check.name in REASONS for check in checks), spec.name
        if spec.parent:
            parent = schemas.TABLES[(spec.parent.source, spec.parent.table)]
            assert spec.parent.parent_column in parent.column_names


def test_one_asset_and_one_blocking_check_per_table():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for name in CONTRACT:
        source, table = name.split("/")
        node = graph.get(dg.AssetKey(["lake", source, table]))
        assert node.group_name == source
        assert node.is_materializable and node.description
        assert {"python", "parquet"} <= set(node.kinds)
    checks = {key for key in graph.asset_check_keys if key.name == "reconciled_within_threshold"}
    assert {c.asset_key.to_user_string() for c in checks} == {f"lake/{n}" for n in CONTRACT}
    from orchestration.defs.ingestion import ingestion_checks

    specs = [s for d in ingestion_checks for s in d.check_specs]
    assert len(specs) == len(CONTRACT) and all(s.blocking for s in specs)
    # dbt's sources for these tables are the same keys: lineage runs from the lake into staging
    staging = graph.get(dg.AssetKey(["staging", "stg_housing__projects"]))
    assert dg.AssetKey(["lake", "housing", "projects"]) in staging.parent_keys


PLAUSIBILITY = {"number_out_of_range", "date_out_of_range", "text_control_character",
                "geometry_invalid", "area_point_mismatch"}


def test_every_column_has_its_plausibility_check_and_the_codes_are_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "lake.md").read_text("utf-8")
    assert PLAUSIBILITY <= set(REASONS)
    assert [c for c in PLAUSIBILITY if f"`{c}`" not in doc] == []
    expected = {**{k: "number_out_of_range" for k in base.NUMERIC},
                **{k: "date_out_of_range" for k in base.DATED},
                **{k: "text_control_character" for k in base.TEXTUAL}}
    for spec in schemas.TABLES.values():
        for col in spec.columns:
            names = [c.name for c in spec.text.columns[col.name].checks]
            if col.kind in expected:
                assert expected[col.kind] in names, (spec.name, col.name)


def test_bounds_fit_the_lake_types_and_windows_reach_today():
    today = base.run_date()
    for spec in schemas.TABLES.values():
        for col in spec.columns:
            if col.kind in base.NUMERIC:
                lo, hi = col.limits
                assert lo < hi, (spec.name, col.name)
                if col.kind == base.COUNT:      # an Int64 column, read through a float
                    assert hi <= 2 ** 53, (spec.name, col.name)
                elif col.kind != base.NUMBER:
                    assert math.isfinite(hi), (spec.name, col.name)
            elif col.kind in base.DATED:
                w = col.dates
                # every window holds the plan years (FY2555-2559) and today
                assert w.earliest <= dt.date(2011, 10, 1) and w.last_day(today) >= today, col.name
