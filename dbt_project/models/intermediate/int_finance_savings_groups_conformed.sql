{{ config(materialized='view') }}

-- Savings group reports on the current subdistrict and on the fiscal year of the report.
with groups as (
    select * from {{ ref('stg_finance__savings_groups') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        groups.group_code,
        groups.group_name,
        groups.org_type,
        groups.org_type_th,
        {{ conformed_area_columns('groups') }},
        groups.members,
        groups.savings_balance,
        groups.loans_outstanding,
        groups.report_date,
        groups.report_date_era,
        {{ fiscal_year_be('groups.report_date') }} as report_fiscal_year,
        groups._source_file,
        groups._source_row,
        groups._load_id,
        groups._repairs
    from groups
    left join area on area.code = groups.subdistrict_code
)

select * from conformed
