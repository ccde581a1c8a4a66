-- Grain: one row per subdistrict that qualifies for K1, with the first fiscal year in which it
-- had activity in at least `min_issues` of the five issues in that same year. The threshold is
-- data (seed kpi_parameters), not a literal here.
with activity as (
    select * from {{ ref('int_subdistrict_issue_activity_unioned') }}
),

threshold as (
    select cast(value as integer) as min_issues
    from {{ ref('kpi_parameters') }}
    where kpi_id = 'K1' and parameter = 'min_issues'
),

qualifying_years as (
    select subdistrict_code, province_code, fiscal_year, count(distinct issue) as issues_active
    from activity
    group by all
    having count(distinct issue) >= (select min_issues from threshold)
),

final as (
    select
        subdistrict_code,
        province_code,
        min(fiscal_year) as first_fiscal_year,
        arg_min(issues_active, fiscal_year) as issues_active_first_year
    from qualifying_years
    group by all
)

select * from final
