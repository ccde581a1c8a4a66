-- K5: provinces (cumulative) with tambon plans linked to the province plan: distinct provinces with
-- has_plan_linkage Y in a province_reports record of the fiscal year or earlier.
with items as (
    select province_code, min(fiscal_year) as first_fiscal_year
    from {{ ref('int_organization_province_reports_conformed') }}
    where has_plan_linkage
    group by all
),

grid as (
    {{ kpi_grid('K5') }}
),

final as (
    {{ kpi_cumulative_count('grid', 'items') }}
)

select * from final
