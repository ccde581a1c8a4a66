"""The dbt project as Dagster assets: one asset per model and seed, dbt tests as asset checks.
The dbt folder (staging, intermediate, marts) gives both the schema and the asset group."""


import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration import settings
from orchestration.dbt_project import dbt_project
from orchestration.quality.provenance import with_dbt_audit_metadata


class CodiTranslator(DagsterDbtTranslator):
    """Asset keys follow one grammar: `lake/<source>/<table>` for what dbt reads from the lake,
    `<schema>/<model>` for what dbt builds."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = self.get_resource_props(manifest, unique_id)
        if node["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey(["lake", node["source_name"], node["name"]]))
        folder = node["fqn"][1] if len(node["fqn"]) > 2 else "reference"
        schema = node.get("schema") or folder
        return spec.replace_attributes(key=dg.AssetKey([schema, node["name"]]), group_name=folder)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CodiTranslator(DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def codi_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build (run and test) the selected dbt models and seeds into the warehouse."""
    os.environ.update(settings.dbt_env())
    settings.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    # git commit, dbt command and row counts on every materialisation (for the auditors)
    yield from with_dbt_audit_metadata(dbt.cli(["build"], context=context))

