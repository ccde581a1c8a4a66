{{ config(materialized='view') }}

-- Projects on the current subdistrict and on the fiscal year of their approval.
with projects as (
    select * from {{ ref('stg_housing__projects') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        projects.project_code,
        projects.project_name,
        projects.community_name,
        {{ conformed_area_columns('projects') }},
        projects.approved_date,
        projects.approved_date_era,
        {{ fiscal_year_be('projects.approved_date') }} as approved_fiscal_year,
        projects.households_planned,
        projects.households_completed,
        projects.land_tenure,
        projects.land_tenure_th,
        projects.infrastructure_budget,
        projects.housing_loan,
        projects.status,
        projects.status_th,
        projects.updated_at,
        projects._source_file,
        projects._source_row,
        projects._load_id,
        projects._repairs
    from projects
    left join area on area.code = projects.subdistrict_code
)

select * from conformed
