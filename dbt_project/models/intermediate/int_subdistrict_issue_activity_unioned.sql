-- Grain: one row per subdistrict, fiscal year and issue with activity that year (K1, and the
-- "issues active" of the area profile). Activity, as DESIGN section 6 defines it for K1: a
-- housing project approved, a welfare fund established, a savings group reporting, a disaster
-- event with a community plan, an environment site established.
with housing as (
    select subdistrict_code, province_code, approved_fiscal_year as fiscal_year, 'housing' as issue, count(*) as activities
    from {{ ref('int_housing_projects_conformed') }}
    where approved_fiscal_year is not null
    group by all
),

welfare as (
    select subdistrict_code, province_code, established_fiscal_year as fiscal_year, 'welfare' as issue, count(*) as activities
    from {{ ref('int_welfare_fund_areas_latest') }}
    where established_fiscal_year is not null
    group by all
),

finance as (
    select subdistrict_code, province_code, report_fiscal_year as fiscal_year, 'finance' as issue, count(*) as activities
    from {{ ref('int_finance_savings_groups_conformed') }}
    where report_fiscal_year is not null
    group by all
),

disaster as (
    select subdistrict_code, province_code, fiscal_year, 'disaster' as issue, count(*) as activities
    from {{ ref('int_disaster_events_conformed') }}
    where has_community_plan and fiscal_year is not null
    group by all
),

environment as (
    select subdistrict_code, province_code, established_fiscal_year as fiscal_year, 'environment' as issue, count(*) as activities
    from {{ ref('int_environment_sites_conformed') }}
    where established_fiscal_year is not null
    group by all
),

unioned as (
    select * from housing
    union all select * from welfare
    union all select * from finance
    union all select * from disaster
    union all select * from environment
)

select * from unioned
