{{ config(materialized='view') }}

with plans as (
    select * from {{ ref('stg_organization__tambon_plans') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        {{ conformed_area_columns('plans') }},
        plans.fiscal_year,
        plans.has_self_analysis_data,
        plans.has_development_plan,
        plans.plan_linked_to_province,
        plans._source_file,
        plans._source_row,
        plans._load_id,
        plans._repairs
    from plans
    left join area on area.code = plans.subdistrict_code
)

select * from conformed
