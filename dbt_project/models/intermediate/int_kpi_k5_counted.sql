-- K5: provinces (cumulative) with tambon plans linked to the province plan: distinct provinces with
-- has_plan_linkage Y in a province_reports record of the fiscal year or earlier.
with items as (
    select province_code, min(fiscal_year) as first_fiscal_year
    from {{ ref('int_organization_province_reports_conformed') }}
    where has_plan_linkage
    group by all
),

-- every province_reports record of the year or earlier, whatever its flags
records as (
    select province_code, fiscal_year, count(*) as records
    from {{ ref('int_organization_province_reports_conformed') }}
    group by all
),

grid as (
    {{ kpi_grid('K5') }}
),

counted as (
    {{ kpi_cumulative_count('grid', 'items') }}
),

final as (
    select counted.*, {{ kpi_records('counted', 'records', cumulative=true) }} as records
    from counted
)

select * from final
