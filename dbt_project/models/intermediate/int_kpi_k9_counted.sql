-- K9: new leaders entering community development, per year: the sum of new_leaders over the
-- fiscal year's trainings.
with leaders as (
    select province_code, fiscal_year, sum(new_leaders) as new_leaders, count(*) as trainings
    from {{ ref('int_organization_leader_training_conformed') }}
    group by all
),

grid as (
    {{ kpi_grid('K9') }}
),

final as (
    select
        grid.kpi_id,
        grid.fiscal_year,
        grid.province_code,
        cast(coalesce(leaders.new_leaders, 0) as double) as numerator,
        cast(null as double) as denominator,
        cast(coalesce(leaders.trainings, 0) as bigint) as records
    from grid
    left join leaders
      on leaders.province_code is not distinct from grid.province_code and leaders.fiscal_year = grid.fiscal_year
)

select * from final
