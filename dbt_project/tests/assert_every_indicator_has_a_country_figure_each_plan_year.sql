-- Every indicator of kpi_definitions has its country row in mart_kpi for every fiscal year of its
-- plan period, and a counting model behind it (its rows in int_kpi_actuals_unioned): a new
-- indicator added to the seed without its model, or a plan year left out, fails here instead of
-- vanishing from the reports. A year without records is not a failure: its row says 'no data'
-- with a null actual (DESIGN section 8), and the status agrees with the actual either way.
-- Only the project's own models and seeds can trip this test, never a source row: it blocks.
with expected as (
    select definitions.kpi_id, years.fiscal_year
    from {{ ref('kpi_definitions') }} as definitions
    join {{ ref('dim_fiscal_year') }} as years
      on years.fiscal_year between definitions.period_start and definitions.period_end
),

found as (
    select kpi_id, fiscal_year, actual, status
    from {{ ref('mart_kpi') }}
    where area_level = 'country'
),

counted as (
    select distinct kpi_id, fiscal_year from {{ ref('int_kpi_actuals_unioned') }}
)

select expected.kpi_id, expected.fiscal_year,
       case when found.kpi_id is null then 'no country row'
            when counted.kpi_id is null then 'no counting model in int_kpi_actuals_unioned'
            else 'status ' || found.status || ' with actual ' || coalesce(cast(found.actual as varchar), 'null')
       end as problem
from expected
left join found using (kpi_id, fiscal_year)
left join counted using (kpi_id, fiscal_year)
where found.kpi_id is null
   or counted.kpi_id is null
   or (found.actual is null) != (found.status = 'no data')
