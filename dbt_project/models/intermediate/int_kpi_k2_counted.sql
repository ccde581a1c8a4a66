-- K2: households with improved housing and land, per year: Baan Mankong households whose
-- moved_in_date falls in the fiscal year.
with households as (
    select province_code, moved_in_fiscal_year as fiscal_year, count(*) as households
    from {{ ref('int_housing_households_conformed') }}
    where moved_in_date is not null
    group by all
),

grid as (
    {{ kpi_grid('K2') }}
),

final as (
    select
        grid.kpi_id,
        grid.fiscal_year,
        grid.province_code,
        cast(coalesce(households.households, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(households.households, 0) as bigint) as records
    from grid
    left join households
      on households.province_code is not distinct from grid.province_code and households.fiscal_year = grid.fiscal_year
)

select * from final
