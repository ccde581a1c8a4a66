-- K6: provinces (cumulative) with a provincial development report: distinct provinces with
-- has_development_report Y in a province_reports record of the fiscal year or earlier.
with items as (
    select province_code, min(fiscal_year) as first_fiscal_year
    from {{ ref('int_organization_province_reports_conformed') }}
    where has_development_report
    group by all
),

grid as (
    {{ kpi_grid('K6') }}
),

final as (
    {{ kpi_cumulative_count('grid', 'items') }}
)

select * from final
