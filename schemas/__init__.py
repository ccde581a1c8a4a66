"""One pandera schema per source table (DESIGN section 4), each check named with its stable
reason code, and the registry `TABLES`: (source, table) -> everything the load and the Dagster
asset need (schemas, reader format, key, file pattern, quarantine threshold)."""

from __future__ import annotations

from schemas import disaster, environment, finance, housing, organization, welfare
from schemas.base import REASONS, TableSpec

TABLES: dict[tuple[str, str], TableSpec] = {
    (spec.source, spec.table): spec
    for module in (housing, welfare, finance, disaster, environment, organization)
    for spec in module.TABLES
}

__all__ = ["REASONS", "TABLES", "TableSpec"]
