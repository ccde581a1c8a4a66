"""organization/: community councils and the planning records behind indicators K3-K10
(CSV, UTF-8 with a BOM, saved from Excel)."""

from __future__ import annotations

from schemas.base import (AREA_CODE, BE_YEAR, BOOL, COUNT, DATE, NUMBER, Areas, Col, Parent,
                          TableSpec, reason_check)

ENCODING = "utf-8-sig"


def _csv(table: str, description: str, columns, key, **kw) -> TableSpec:
    return TableSpec(source="organization", table=table, format="csv",
                     pattern=f"organization/{table}.csv", encoding=ENCODING,
                     description=description, columns=tuple(columns), key=key, **kw)


councils = _csv(
    "councils", "Tambon community councils (สภาองค์กรชุมชนตำบล) with their registration date.",
    (Col("council_code", required=True), Col("subdistrict_code", AREA_CODE),
     Col("registered_date", DATE), Col("status")),
    ("council_code",), areas=Areas(code="subdistrict_code"))

council_assessments = _csv(
    "council_assessments", "Yearly quality assessments of the community councils (score 0-100).",
    (Col("council_code", required=True), Col("fiscal_year", BE_YEAR, required=True),
     Col("score", NUMBER), Col("quality_passed", BOOL)),
    ("council_code", "fiscal_year"),
    parent=Parent("organization", "councils", "council_code", "council_code"),
    table_checks=(
        reason_check("amount_impossible", lambda d: ~((d["score"] < 0) | (d["score"] > 100)).fillna(False),
                     columns=("score",), message="a score outside 0-100"),
    ))

tambon_plans = _csv(
    "tambon_plans", "Per subdistrict and fiscal year: self-analysis data, a development plan, "
                    "and whether the plan is linked to the province's.",
    (Col("subdistrict_code", AREA_CODE, required=True), Col("fiscal_year", BE_YEAR, required=True),
     Col("has_self_analysis_data", BOOL), Col("has_development_plan", BOOL),
     Col("plan_linked_to_province", BOOL)),
    ("subdistrict_code", "fiscal_year"), areas=Areas(code="subdistrict_code"))

province_reports = _csv(
    "province_reports", "Per province and fiscal year: status assessment, plan linkage and a "
                        "provincial development report.",
    (Col("province_code", AREA_CODE, required=True), Col("fiscal_year", BE_YEAR, required=True),
     Col("has_status_assessment", BOOL), Col("has_plan_linkage", BOOL),
     Col("has_development_report", BOOL)),
    ("province_code", "fiscal_year"), areas=Areas(code="province_code", level="province"))

leader_training = _csv(
    "leader_training", "Leader training events: new leaders entering community development and "
                       "all participants, per subdistrict and fiscal year.",
    # The year is required: a training without one cannot count in K9, and would reach the
    # facts with a null fiscal_year, which their not_null test would refuse (docs/policy.md).
    (Col("training_code", required=True), Col("fiscal_year", BE_YEAR, required=True),
     Col("subdistrict_code", AREA_CODE), Col("new_leaders", COUNT), Col("total_participants", COUNT)),
    ("training_code",), areas=Areas(code="subdistrict_code"),
    table_checks=(
        reason_check("amount_impossible",
                     lambda d: ~(d["new_leaders"] > d["total_participants"]).fillna(False),
                     columns=("new_leaders",), message="more new leaders than participants"),
    ))

joint_areas = _csv(
    "joint_areas", "Operating areas (a subdistrict or a province) per fiscal year: joint working "
                   "system, integrated plan or budget, public policy, concrete outcome.",
    (Col("area_code", AREA_CODE, required=True), Col("fiscal_year", BE_YEAR, required=True),
     Col("has_joint_system", BOOL), Col("integrated_plan_or_budget", BOOL),
     Col("public_policy_driven", BOOL), Col("concrete_outcome", BOOL)),
    ("area_code", "fiscal_year"), areas=Areas(code="area_code", level="mixed"))

TABLES = (councils, council_assessments, tambon_plans, province_reports, leader_training,
          joint_areas)
