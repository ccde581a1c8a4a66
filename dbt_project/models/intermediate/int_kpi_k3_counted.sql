-- K3: tambons (cumulative) with data for self-analysis and a planning process: distinct
-- subdistricts with both flags Y in a record of the fiscal year or earlier.
with items as (
    select subdistrict_code, province_code, min(fiscal_year) as first_fiscal_year
    from {{ ref('int_organization_tambon_plans_conformed') }}
    where has_self_analysis_data and has_development_plan
    group by all
),

-- every tambon_plans record of the year or earlier, whatever its flags
records as (
    select province_code, fiscal_year, count(*) as records
    from {{ ref('int_organization_tambon_plans_conformed') }}
    group by all
),

grid as (
    {{ kpi_grid('K3') }}
),

counted as (
    {{ kpi_cumulative_count('grid', 'items') }}
),

final as (
    select counted.*, {{ kpi_records('counted', 'records', cumulative=true) }} as records
    from counted
)

select * from final
