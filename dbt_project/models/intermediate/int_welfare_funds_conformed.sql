{{ config(materialized='view') }}

-- One row per fund and fiscal year (the workbook's year), on the current subdistrict, with the
-- fiscal year the fund was established in (for K1).
with funds as (
    select * from {{ ref('stg_welfare__funds') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        funds.fund_code,
        funds.fiscal_year,
        funds.fund_name,
        funds.region_sheet,
        {{ conformed_area_columns('funds') }},
        funds.established_date,
        funds.established_date_era,
        {{ fiscal_year_be('funds.established_date') }} as established_fiscal_year,
        funds.members,
        funds.fund_balance,
        funds.contrib_members,
        funds.contrib_government,
        funds.contrib_local_gov,
        funds.benefit_birth,
        funds.benefit_sickness,
        funds.benefit_elderly,
        funds.benefit_death,
        funds.benefit_education,
        funds.benefit_disaster,
        funds.benefit_other,
        funds._source_file,
        funds._source_row,
        funds._load_id,
        funds._repairs
    from funds
    left join area on area.code = funds.subdistrict_code
)

select * from conformed
