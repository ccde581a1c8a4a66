{{ config(materialized='view') }}

-- Loans on the current subdistrict and the fiscal year of the contract. The borrower's name
-- pseudonym stops here: no mart needs it.
with loans as (
    select * from {{ ref('stg_finance__loans') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        loans.loan_no,
        loans.borrower_code,
        loans.borrower_type,
        loans.borrower_type_th,
        {{ conformed_area_columns('loans') }},
        loans.purpose,
        loans.purpose_th,
        loans.contract_date,
        loans.contract_date_era,
        {{ fiscal_year_be('loans.contract_date') }} as contract_fiscal_year,
        loans.principal,
        loans.annual_interest_rate_pct,
        loans.term_months,
        loans.status,
        loans.status_th,
        loans._source_file,
        loans._source_row,
        loans._load_id,
        loans._repairs
    from loans
    left join area on area.code = loans.subdistrict_code
)

select * from conformed
