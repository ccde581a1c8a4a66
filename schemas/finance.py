"""finance/: community savings groups, CODI loans and their repayments (CSV in Windows-874)."""

from __future__ import annotations

from schemas.base import (AMOUNT, AREA_CODE, COUNT, DATE, LOAN_SCHEDULE, PERSON_NAME, RATE, Areas,
                          Col, Parent, TableSpec, reason_check)

ENCODING = "cp874"
# A loan runs at most 50 years of monthly installments (CODI's housing loans run 15-20).
MONTHS = (1, 600)
LOAN_PURPOSES = ("ที่อยู่อาศัย", "ที่ดิน", "อาชีพ", "แก้ไขหนี้สิน", "ภัยพิบัติ", "องค์กรการเงิน")

savings_groups = TableSpec(
    source="finance", table="savings_groups", format="csv", pattern="finance/savings_groups.csv",
    encoding=ENCODING,
    description="Community savings groups and finance organisations (องค์กรการเงินชุมชน) as "
                "reported: members, savings and loans outstanding.",
    columns=(
        Col("group_code", required=True),
        Col("group_name"),
        Col("org_type"),
        Col("subdistrict_code", AREA_CODE),
        Col("members", COUNT),
        Col("savings_balance", AMOUNT),
        Col("loans_outstanding", AMOUNT),
        Col("report_date", DATE),
    ),
    key=("group_code",),
    areas=Areas(code="subdistrict_code"),
    table_checks=(
        reason_check("amount_impossible",
                     lambda d: ~((d["members"] == 0) & (d["savings_balance"] > 0)).fillna(False),
                     columns=("members",), message="no members but savings in the group"),
    ),
)

loans = TableSpec(
    source="finance", table="loans", format="csv", pattern="finance/loans.csv", encoding=ENCODING,
    description="CODI loans to community organisations (the borrower's name is a keyed "
                "pseudonym): purpose, contract date, principal, rate, term and status.",
    columns=(
        Col("loan_no", required=True),
        Col("borrower_code"),
        Col("borrower_name", PERSON_NAME),
        Col("borrower_type"),
        Col("subdistrict_code", AREA_CODE),
        Col("purpose", allowed=LOAN_PURPOSES),
        Col("contract_date", DATE),
        Col("principal", AMOUNT),
        Col("annual_interest_rate", RATE),
        Col("term_months", COUNT, bounds=MONTHS),
        Col("status"),
    ),
    key=("loan_no",),
    areas=Areas(code="subdistrict_code"),
)

repayments = TableSpec(
    source="finance", table="repayments", format="csv", pattern="finance/repayments.csv",
    priority=1,     # the second largest (a million rows nationally)
    encoding=ENCODING,
    description="Loan installments: due date and amount, and the payment if one came in.",
    columns=(
        Col("loan_no", required=True),
        Col("installment_no", COUNT, required=True, bounds=MONTHS),
        Col("due_date", DATE, window=LOAN_SCHEDULE),     # a schedule runs into the future
        Col("amount_due", AMOUNT),
        Col("paid_date", DATE),
        Col("amount_paid", AMOUNT),
    ),
    key=("loan_no", "installment_no"),
    parent=Parent("finance", "loans", "loan_no", "loan_no"),
)

TABLES = (savings_groups, loans, repayments)
