-- K8: councils with developed quality, percent: councils with quality_passed Y in the fiscal
-- year's assessment (numerator) over the councils registered by the end of that year (K7,
-- denominator). The percentage is taken after summing, at each area level, in mart_kpi. A
-- council counts in the numerator only once registered (by the end of the year, in its
-- province): the numerator is part of the denominator, so no source row can push K8 past 100.
with passed as (
    select province_code, fiscal_year, count(distinct council_code) as councils
    from {{ ref('int_organization_council_assessments_conformed') }}
    where quality_passed and registered_fiscal_year <= fiscal_year
    group by all
),

assessed as (
    select province_code, fiscal_year, count(*) as assessments
    from {{ ref('int_organization_council_assessments_conformed') }}
    group by all
),

registered as (
    select * from {{ ref('int_kpi_k7_counted') }}
),

grid as (
    {{ kpi_grid('K8') }}
),

final as (
    select
        grid.kpi_id,
        grid.fiscal_year,
        grid.province_code,
        cast(coalesce(passed.councils, 0) as double) as numerator,
        registered.numerator as denominator,
        cast(coalesce(assessed.assessments, 0) as bigint) as records
    from grid
    left join passed
      on passed.province_code is not distinct from grid.province_code and passed.fiscal_year = grid.fiscal_year
    left join assessed
      on assessed.province_code is not distinct from grid.province_code and assessed.fiscal_year = grid.fiscal_year
    left join registered
      on registered.province_code is not distinct from grid.province_code and registered.fiscal_year = grid.fiscal_year
)

select * from final
