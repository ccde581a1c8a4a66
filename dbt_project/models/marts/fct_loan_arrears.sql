-- Grain: one row per loan and fiscal year end (loan_no, fiscal_year) while the loan was on the
-- book: outstanding principal and days in arrears at 30 September, and whether it is in the
-- portfolio at risk over 30 and over 90 days (PAR30, PAR90).
select
    loan_no,
    fiscal_year,
    as_of_date,
    subdistrict_code,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    purpose,
    principal,
    amount_paid_to_date,
    outstanding_principal,
    oldest_unpaid_due_date,
    cast(days_in_arrears as integer) as days_in_arrears,
    days_in_arrears > 30 as is_par30,
    days_in_arrears > 90 as is_par90
from {{ ref('int_finance_loan_positions_snapshotted') }}
