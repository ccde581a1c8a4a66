-- Grain: one row per loan installment (loan_no, installment_no), with how late it was paid.
with repayments as (
    select * from {{ ref('stg_finance__repayments') }}
),

loans as (
    select loan_no, subdistrict_code, district_code, province_code, region_4_code, region_6_code
    from {{ ref('int_finance_loans_conformed') }}
),

final as (
    select
        repayments.loan_no,
        repayments.installment_no,
        loans.subdistrict_code,
        loans.district_code,
        loans.province_code,
        loans.region_4_code,
        loans.region_6_code,
        repayments.due_date,
        repayments.due_date_era,
        {{ fiscal_year_be('repayments.due_date') }} as due_fiscal_year,
        repayments.amount_due,
        repayments.paid_date,
        repayments.paid_date_era,
        repayments.amount_paid,
        -- negative when paid early; null while unpaid
        repayments.paid_date - repayments.due_date as days_late,
        repayments._source_file,
        repayments._source_row,
        repayments._load_id,
        repayments._repairs
    from repayments
    left join loans on loans.loan_no = repayments.loan_no
)

select * from final
