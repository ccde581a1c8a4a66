-- K10: operating areas with joint working and integrated plans, budgets, policy or outcomes,
-- percent: the fiscal year's joint_areas records that meet the rule (numerator) over all of
-- that year's records (denominator); a province-level record counts in its province.
with areas as (
    select
        province_code,
        fiscal_year,
        count(*) filter (where meets_k10) as meeting,
        count(*) as operating
    from {{ ref('int_organization_joint_areas_conformed') }}
    group by all
),

grid as (
    {{ kpi_grid('K10') }}
),

final as (
    select
        grid.kpi_id,
        grid.fiscal_year,
        grid.province_code,
        cast(coalesce(areas.meeting, 0) as double) as numerator,
        cast(coalesce(areas.operating, 0) as double) as denominator,
        cast(coalesce(areas.operating, 0) as bigint) as records
    from grid
    left join areas
      on areas.province_code is not distinct from grid.province_code and areas.fiscal_year = grid.fiscal_year
)

select * from final
