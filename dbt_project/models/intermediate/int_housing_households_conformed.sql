{{ config(materialized='view') }}

-- Households take the area of their project (ingestion quarantines a household of an unknown
-- project), and the fiscal year in which they moved in (K2).
with households as (
    select * from {{ ref('stg_housing__households') }}
),

projects as (
    select * from {{ ref('int_housing_projects_conformed') }}
),

conformed as (
    select
        households.household_id,
        households.project_code,
        projects.subdistrict_code,
        projects.district_code,
        projects.province_code,
        projects.region_4_code,
        projects.region_6_code,
        households.members,
        households.monthly_income,
        households.loan_amount,
        households.moved_in_date,
        households.moved_in_date_era,
        {{ fiscal_year_be('households.moved_in_date') }} as moved_in_fiscal_year,
        households._source_file,
        households._source_row,
        households._load_id,
        households._repairs
    from households
    left join projects on projects.project_code = households.project_code
)

select * from conformed
