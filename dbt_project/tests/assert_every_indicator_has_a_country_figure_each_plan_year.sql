-- Every indicator of kpi_definitions has a country row in mart_kpi for every fiscal year of its
-- plan period, with an actual: a new indicator added to the seed without its counting model (or
-- a plan year left out) fails here instead of vanishing from the reports.
with expected as (
    select definitions.kpi_id, years.fiscal_year
    from {{ ref('kpi_definitions') }} as definitions
    join {{ ref('dim_fiscal_year') }} as years
      on years.fiscal_year between definitions.period_start and definitions.period_end
),

found as (
    select kpi_id, fiscal_year, actual
    from {{ ref('mart_kpi') }}
    where area_level = 'country'
)

select expected.kpi_id, expected.fiscal_year
from expected
left join found using (kpi_id, fiscal_year)
where found.actual is null
