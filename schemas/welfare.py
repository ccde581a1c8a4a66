"""welfare/: the community welfare funds (one workbook per fiscal year, one sheet per region) and
their members (one CSV per province, the largest source)."""

from __future__ import annotations

from schemas.base import (AMOUNT, AREA_NAME, BE_YEAR, CITIZEN_ID, COMMUNITY_HISTORY, COUNT, DATE,
                          LIFETIME_YEAR, Areas, Col, Parent, TableSpec, reason_check)

FUND_AMOUNTS = (
    ("fund_balance", "เงินกองทุนคงเหลือ"),
    ("contrib_members", "เงินสมทบจากสมาชิก"),
    ("contrib_government", "เงินสมทบจากรัฐบาล"),
    ("contrib_local_gov", "เงินสมทบจากอปท."),
    ("benefit_birth", "สวัสดิการเกิด"),
    ("benefit_sickness", "สวัสดิการเจ็บป่วย"),
    ("benefit_elderly", "สวัสดิการผู้สูงอายุ"),
    ("benefit_death", "สวัสดิการเสียชีวิต"),
    ("benefit_education", "สวัสดิการการศึกษา"),
    ("benefit_disaster", "สวัสดิการภัยพิบัติ"),
    ("benefit_other", "สวัสดิการอื่นๆ"),
)
TOTAL_ROW = "รวม"

funds = TableSpec(
    source="welfare", table="funds", format="xlsx", pattern="welfare/funds_FY*.xlsx",
    description="Community welfare funds (กองทุนสวัสดิการชุมชน) per fiscal year, from the yearly "
                "workbooks (one sheet per region): members, balance, contributions and benefits "
                "paid. The Thai headers become English column names.",
    columns=(
        Col("fund_code", header="รหัสกองทุน", required=True),
        Col("fund_name", header="ชื่อกองทุน"),
        Col("subdistrict_name", AREA_NAME, header="ตำบล"),
        Col("district_name", AREA_NAME, header="อำเภอ"),
        Col("province_name", AREA_NAME, header="จังหวัด"),
        Col("established_date", DATE, header="วันที่จัดตั้ง", excel=True, window=COMMUNITY_HISTORY),
        Col("members", COUNT, header="จำนวนสมาชิก"),
        *(Col(name, AMOUNT, header=header) for name, header in FUND_AMOUNTS),
    ),
    # A fund appears in every year's workbook: the key is the fund in a fiscal year.
    key=("fund_code", "fiscal_year"),
    derived={"fiscal_year": "fiscal_year_from_file_name"},
    areas=Areas(code=None, names=("subdistrict_name", "district_name", "province_name")),
    text_checks=(
        reason_check("total_row", lambda d: d["fund_code"] != TOTAL_ROW, columns=("fund_code",),
                     message="the sheet's total row (รวม), not a fund"),
    ),
    table_checks=(
        reason_check("amount_impossible",
                     lambda d: ~((d["members"] == 0) & (d["fund_balance"] > 0)).fillna(False),
                     columns=("members",), message="no members but money in the fund"),
    ),
)

members = TableSpec(
    source="welfare", table="members", format="csv", pattern="welfare/members/*.csv",
    priority=2,     # the largest table (six million rows nationally): its load starts first
    description="Members of the community welfare funds, one CSV per province (citizen IDs are "
                "keyed pseudonyms): gender, birth year, when they joined and their status.",
    columns=(
        Col("member_id", required=True),
        Col("fund_code", required=True),
        Col("citizen_id", CITIZEN_ID),
        Col("gender", allowed=("ช", "ญ")),
        Col("birth_year", BE_YEAR, window=LIFETIME_YEAR),
        Col("joined_date", DATE, window=COMMUNITY_HISTORY),
        Col("status", allowed=("active", "left", "deceased")),
    ),
    key=("member_id",),
    derived={"province_code": "province_code_from_file_name"},
    parent=Parent("welfare", "funds", "fund_code", "fund_code"),
    threshold=0.05,
)

TABLES = (funds, members)
