-- Grain: one row per CODI loan contract (loan_no), with its repayment record to date. No
-- personal data: the borrower's name pseudonym stays in staging.
with loans as (
    select * from {{ ref('int_finance_loans_conformed') }}
),

repayments as (
    select
        loan_no,
        count(*) as installments,
        count(paid_date) as installments_paid,
        sum(amount_due) as amount_due_total,
        coalesce(sum(amount_paid), 0) as amount_paid_total,
        min(due_date) filter (where paid_date is null) as oldest_unpaid_due_date,
        max(due_date) as last_due_date
    from {{ ref('stg_finance__repayments') }}
    group by loan_no
),

final as (
    select
        loans.loan_no,
        loans.borrower_code,
        loans.borrower_type,
        loans.borrower_type_th,
        loans.subdistrict_code,
        loans.subdistrict_code_original,
        loans.area_resolution,
        loans.district_code,
        loans.province_code,
        loans.region_4_code,
        loans.region_6_code,
        loans.purpose,
        loans.purpose_th,
        loans.contract_date,
        loans.contract_date_era,
        loans.contract_fiscal_year,
        loans.principal,
        loans.annual_interest_rate_pct,
        loans.term_months,
        loans.status,
        loans.status_th,
        coalesce(repayments.installments, 0) as installments,
        coalesce(repayments.installments_paid, 0) as installments_paid,
        repayments.amount_due_total,
        coalesce(repayments.amount_paid_total, 0) as amount_paid_total,
        repayments.oldest_unpaid_due_date,
        repayments.last_due_date,
        loans._source_file,
        loans._source_row,
        loans._load_id,
        loans._repairs
    from loans
    left join repayments on repayments.loan_no = loans.loan_no
)

select * from final
