"""housing/baan_mankong.sqlite: the Baan Mankong projects and the households that move in."""

from __future__ import annotations

from schemas.base import (AMOUNT, AREA_CODE, AREA_NAME, CITIZEN_ID, COUNT, DATE, PERSON_NAME,
                          TIMESTAMP, Areas, Col, Parent, TableSpec, reason_check)

# A household's size and income: above these, a digit was typed twice (Baan Mankong houses
# low-income families; a household of 50 people is already a community).
HOUSEHOLD_MEMBERS = (0, 50)
MONTHLY_INCOME = (0, 1_000_000)

FILE = "housing/baan_mankong.sqlite"
LAND_TENURE = ("ซื้อที่ดิน", "เช่าระยะยาว", "เช่าที่ดินรัฐ", "กรรมสิทธิ์สหกรณ์", "อื่นๆ")
PROJECT_STATUS = ("อนุมัติ", "กำลังดำเนินการ", "แล้วเสร็จ", "ยกเลิก")

projects = TableSpec(
    source="housing", table="projects", format="sqlite", pattern=FILE, sqlite_table="projects",
    description="Baan Mankong (บ้านมั่นคง) housing projects: one row per project, with its area, "
                "approval date, planned and completed households and budgets.",
    columns=(
        Col("project_code", required=True),
        Col("project_name"),
        Col("community_name"),
        Col("province", AREA_NAME),
        Col("district", AREA_NAME),
        Col("subdistrict", AREA_NAME),
        Col("subdistrict_code", AREA_CODE),
        Col("approved_date", DATE),
        Col("households_planned", COUNT),
        Col("households_completed", COUNT),
        Col("land_tenure", allowed=LAND_TENURE),
        Col("infrastructure_budget", AMOUNT),
        Col("housing_loan", AMOUNT),
        Col("status", allowed=PROJECT_STATUS),
        Col("updated_at", TIMESTAMP),
    ),
    key=("project_code",),
    latest_by="updated_at",
    areas=Areas(code="subdistrict_code", names=("subdistrict", "district", "province")),
    table_checks=(
        reason_check("amount_impossible",
                     lambda d: ~(d["households_completed"] > d["households_planned"]).fillna(False),
                     columns=("households_completed",),
                     message="more households completed than planned"),
    ),
)

households = TableSpec(
    source="housing", table="households", format="sqlite", pattern=FILE, sqlite_table="households",
    description="Households of Baan Mankong projects (the head's citizen ID and name are keyed "
                "pseudonyms), with the date each family moved in.",
    columns=(
        Col("household_id", required=True),
        Col("project_code", required=True),
        Col("head_citizen_id", CITIZEN_ID),
        Col("head_name", PERSON_NAME),
        Col("members", COUNT, bounds=HOUSEHOLD_MEMBERS),
        Col("monthly_income", AMOUNT, bounds=MONTHLY_INCOME),
        Col("loan_amount", AMOUNT),
        Col("moved_in_date", DATE),
    ),
    key=("household_id",),
    parent=Parent("housing", "projects", "project_code", "project_code"),
)

TABLES = (projects, households)
