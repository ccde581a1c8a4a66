-- Reporting completeness in the style of DHIS2's reporting rates: for each source that reports
-- periodically (once per area and fiscal year), per province and fiscal year, how many areas
-- were expected to report, how many did, and which are late or missing.
--
-- Who is expected (one rule per source, below):
--   welfare/funds                     a subdistrict whose fund was in an earlier year's workbook
--   organization/council_assessments  a subdistrict whose council was registered in an earlier year
--                                     (councils are assessed from the year after registration)
--   organization/tambon_plans         a subdistrict with a plan record in an earlier year
--   organization/province_reports     every current province, every year
-- An expected area with no validated record for the year (none sent, or quarantined) is
--   late     if it has reported for a later year (it is still reporting: this year's is overdue),
--   missing  if it has reported for no later year either (it has gone silent).
-- Areas that reported without being expected (new reporters) are counted apart, so the rate
-- (reported of expected) stays within 0-100.
with reports as (
    select 'welfare/funds' as source, 'subdistrict' as area_level, subdistrict_code as area_code, fiscal_year
    from {{ ref('fct_welfare_fund_years') }}
    union all
    select 'organization/council_assessments', 'subdistrict', subdistrict_code, fiscal_year
    from {{ ref('fct_council_assessments') }}
    union all
    select 'organization/tambon_plans', 'subdistrict', subdistrict_code, fiscal_year
    from {{ ref('fct_tambon_plans') }}
    union all
    select 'organization/province_reports', 'province', province_code, fiscal_year
    from {{ ref('fct_province_reports') }}
),

reported as (
    select distinct source, area_level, area_code, cast(fiscal_year as integer) as fiscal_year
    from reports
    where area_code is not null and fiscal_year is not null
),

-- Each source is assessed over the fiscal years it covers.
source_years as (
    select reported.source, years.fiscal_year
    from (select source, min(fiscal_year) as first_year, max(fiscal_year) as last_year
          from reported group by all) as reported
    join {{ ref('dim_fiscal_year') }} as years
      on years.fiscal_year between reported.first_year and reported.last_year
),

first_reports as (
    select source, area_level, area_code, min(fiscal_year) as first_year
    from reported group by all
),

last_reports as (
    select source, area_code, max(fiscal_year) as last_year
    from reported group by all
),

councils as (
    select subdistrict_code, min(registered_fiscal_year) as registered_fiscal_year
    from {{ ref('fct_councils') }}
    where subdistrict_code is not null and registered_fiscal_year is not null
    group by all
),

expected as (
    -- reported once, expected every year after
    select source_years.source, first_reports.area_level, first_reports.area_code, source_years.fiscal_year
    from source_years
    join first_reports
      on first_reports.source = source_years.source
     and first_reports.first_year < source_years.fiscal_year
    where source_years.source in ('welfare/funds', 'organization/tambon_plans')
    union all
    select source_years.source, 'subdistrict', councils.subdistrict_code, source_years.fiscal_year
    from source_years
    join councils on councils.registered_fiscal_year < source_years.fiscal_year
    where source_years.source = 'organization/council_assessments'
    union all
    select source_years.source, 'province', provinces.area_code, source_years.fiscal_year
    from source_years
    cross join (select area_code from {{ ref('dim_area') }} where area_level = 'province') as provinces
    where source_years.source = 'organization/province_reports'
),

areas as (
    select area_code, area_level, province_code from {{ ref('dim_area') }}
),

status as (
    select
        coalesce(expected.source, reported.source) as source,
        coalesce(expected.area_level, reported.area_level) as area_level,
        coalesce(expected.area_code, reported.area_code) as area_code,
        coalesce(expected.fiscal_year, reported.fiscal_year) as fiscal_year,
        expected.area_code is not null as is_expected,
        reported.area_code is not null as has_reported
    from expected
    full join reported
      on reported.source = expected.source
     and reported.area_code = expected.area_code
     and reported.fiscal_year = expected.fiscal_year
),

classified as (
    select
        status.*,
        areas.province_code,
        case
            when status.is_expected and status.has_reported then 'reported'
            when status.has_reported then 'reported_unexpected'
            when last_reports.last_year > status.fiscal_year then 'late'
            else 'missing'
        end as reporting_status
    from status
    join areas on areas.area_code = status.area_code and areas.area_level = status.area_level
    left join last_reports
      on last_reports.source = status.source and last_reports.area_code = status.area_code
    -- only the years each source covers (a reporter's first year is in them by construction)
    semi join source_years
      on source_years.source = status.source and source_years.fiscal_year = status.fiscal_year
),

grid as (
    select source_years.source, source_years.fiscal_year, provinces.area_code as province_code,
           provinces.name_th as province_name_th, provinces.name_en as province_name_en
    from source_years
    cross join (select * from {{ ref('dim_area') }} where area_level = 'province') as provinces
),

final as (
    select
        grid.source,
        any_value(case when grid.source = 'organization/province_reports' then 'province'
                       else 'subdistrict' end) as area_level,
        grid.province_code,
        grid.province_name_th,
        grid.province_name_en,
        cast(grid.fiscal_year as integer) as fiscal_year,
        cast(count(*) filter (where classified.is_expected) as bigint) as areas_expected,
        cast(count(*) filter (where classified.reporting_status = 'reported') as bigint) as areas_reported,
        cast(count(*) filter (where classified.reporting_status = 'late') as bigint) as areas_late,
        cast(count(*) filter (where classified.reporting_status = 'missing') as bigint) as areas_missing,
        cast(count(*) filter (where classified.reporting_status = 'reported_unexpected') as bigint)
            as areas_reported_unexpected,
        round(100.0 * count(*) filter (where classified.reporting_status = 'reported')
              / nullif(count(*) filter (where classified.is_expected), 0), 2) as reporting_rate_pct,
        coalesce(string_agg(classified.area_code, ';' order by classified.area_code)
                 filter (where classified.reporting_status = 'late'), '') as late_area_codes,
        coalesce(string_agg(classified.area_code, ';' order by classified.area_code)
                 filter (where classified.reporting_status = 'missing'), '') as missing_area_codes
    from grid
    left join classified
      on classified.source = grid.source
     and classified.fiscal_year = grid.fiscal_year
     and classified.province_code = grid.province_code
    group by grid.source, grid.province_code, grid.province_name_th, grid.province_name_en, grid.fiscal_year
)

select * from final
order by source, fiscal_year, province_code
