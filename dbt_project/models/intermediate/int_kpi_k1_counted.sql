-- K1: tambons with concrete community revitalisation, cumulative: the subdistricts of
-- int_subdistricts_revitalised counted from their first qualifying fiscal year on. Its records:
-- the issue activities of the year or earlier.
with items as (
    select * from {{ ref('int_subdistricts_revitalised') }}
),

records as (
    select province_code, fiscal_year, sum(activities) as records
    from {{ ref('int_subdistrict_issue_activity_unioned') }}
    group by all
),

grid as (
    {{ kpi_grid('K1') }}
),

counted as (
    {{ kpi_cumulative_count('grid', 'items') }}
),

final as (
    select counted.*, {{ kpi_records('counted', 'records', cumulative=true) }} as records
    from counted
)

select * from final
