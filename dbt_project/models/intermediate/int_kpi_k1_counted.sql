-- K1: tambons with concrete community revitalisation, cumulative: the subdistricts of
-- int_subdistricts_revitalised counted from their first qualifying fiscal year on.
with items as (
    select * from {{ ref('int_subdistricts_revitalised') }}
),

grid as (
    {{ kpi_grid('K1') }}
),

final as (
    {{ kpi_cumulative_count('grid', 'items') }}
)

select * from final
