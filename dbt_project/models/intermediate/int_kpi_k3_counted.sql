-- K3: tambons (cumulative) with data for self-analysis and a planning process: distinct
-- subdistricts with both flags Y in a record of the fiscal year or earlier.
with items as (
    select subdistrict_code, province_code, min(fiscal_year) as first_fiscal_year
    from {{ ref('int_organization_tambon_plans_conformed') }}
    where has_self_analysis_data and has_development_plan
    group by all
),

grid as (
    {{ kpi_grid('K3') }}
),

final as (
    {{ kpi_cumulative_count('grid', 'items') }}
)

select * from final
