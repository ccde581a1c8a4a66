"""disaster/events.ndjson: disasters reported from the field app, one JSON object a line."""

from __future__ import annotations

from schemas.base import (AMOUNT, AREA_CODE, BOOL, COUNT, NUMBER, TIMESTAMP, Areas, Col, TableSpec,
                          reason_check)

# Any longitude or latitude: lat and lon share the range, because a pair written the wrong way
# round is repaired after this check (lat_lon_swapped); a point outside Thailand is the area
# resolver's point_outside_thailand.
COORDINATE = (-180, 180)
HAZARDS = ("flood", "drought", "storm", "landslide", "fire", "tsunami", "cold_spell")

events = TableSpec(
    source="disaster", table="events", format="ndjson", pattern="disaster/events.ndjson",
    description="Disaster events (ภัยพิบัติ) reported by communities: hazard, when, where (a point, "
                "placed in its subdistrict when the code is missing), households affected, "
                "whether the community had a plan and a warning system, and the relief budget.",
    columns=(
        Col("event_id", required=True),
        Col("hazard", allowed=HAZARDS),
        Col("started_at", TIMESTAMP),
        Col("ended_at", TIMESTAMP),
        Col("lat", NUMBER, nonnegative=False, bounds=COORDINATE),
        Col("lon", NUMBER, nonnegative=False, bounds=COORDINATE),
        Col("subdistrict_code", AREA_CODE),
        Col("affected_households", COUNT),
        Col("damaged_houses", COUNT),
        Col("community_plan", BOOL),
        Col("early_warning", BOOL),
        Col("relief_budget", AMOUNT),
    ),
    key=("event_id",),
    areas=Areas(code="subdistrict_code", point=("lon", "lat")),
    table_checks=(
        reason_check("amount_impossible",
                     lambda d: ~(d["ended_at"] < d["started_at"]).fillna(False),
                     columns=("ended_at",), message="the event ends before it starts"),
    ),
)

TABLES = (events,)
