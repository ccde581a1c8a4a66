-- K4: provinces (cumulative) with tambon development status data: distinct provinces with
-- has_status_assessment Y in a province_reports record of the fiscal year or earlier.
with items as (
    select province_code, min(fiscal_year) as first_fiscal_year
    from {{ ref('int_organization_province_reports_conformed') }}
    where has_status_assessment
    group by all
),

grid as (
    {{ kpi_grid('K4') }}
),

final as (
    {{ kpi_cumulative_count('grid', 'items') }}
)

select * from final
