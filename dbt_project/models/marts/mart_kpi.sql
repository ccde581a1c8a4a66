{{ config(contract={'enforced': true}) }}

-- Grain: one row per indicator, fiscal year of its plan and area (country; each region of
-- every grouping in region_groupings; each province), where the indicator makes sense at that
-- level (kpi_definitions.area_levels). The plan's targets are national: regions and provinces
-- carry their actual with no target (status 'no target').
--
-- No data (DESIGN section 8): an indicator-year with no source records anywhere in the country
-- has a null actual and status 'no data' at every level, and so has a percentage whose
-- denominator is zero; it is a figure of its own, never 'behind', and it publishes. The
-- country row of every indicator and plan year is there even then (the spine).
with definitions as (
    select * from {{ ref('kpi_definitions') }}
),

-- every indicator and fiscal year of its plan
spine as (
    select kpi_id, unnest(range(period_start, period_end + 1)) as fiscal_year
    from definitions
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

parts as (
    select * from {{ ref('int_kpi_actuals_unioned') }}
),

provinces as (
    select area_code, name_th, name_en from {{ ref('dim_area') }} where area_level = 'province'
),

regions as (
    select grouping, province_code, region_code, region_name_th, region_name_en
    from {{ ref('region_groupings') }}
),

country_parts as (
    select kpi_id, fiscal_year, sum(numerator) as numerator, sum(denominator) as denominator,
           sum(records) as records
    from parts
    group by all
),

country as (
    select spine.kpi_id, spine.fiscal_year, 'country' as area_level,
           cast(null as varchar) as region_grouping,
           'TH' as area_code, 'ประเทศไทย' as area_name_th, 'Thailand' as area_name_en,
           country_parts.numerator, country_parts.denominator
    from spine
    left join country_parts
      on country_parts.kpi_id = spine.kpi_id and country_parts.fiscal_year = spine.fiscal_year
),

region as (
    select parts.kpi_id, parts.fiscal_year, 'region' as area_level, regions.grouping as region_grouping,
           regions.region_code as area_code, regions.region_name_th as area_name_th,
           regions.region_name_en as area_name_en,
           sum(parts.numerator) as numerator, sum(parts.denominator) as denominator
    from parts
    join regions on regions.province_code = parts.province_code
    group by all
),

province as (
    select parts.kpi_id, parts.fiscal_year, 'province' as area_level, cast(null as varchar) as region_grouping,
           parts.province_code as area_code, provinces.name_th as area_name_th, provinces.name_en as area_name_en,
           parts.numerator, parts.denominator
    from parts
    join provinces on provinces.area_code = parts.province_code
),

levels as (
    select * from country
    union all select * from region
    union all select * from province
),

actuals as (
    select
        levels.*,
        definitions.plan_id,
        definitions.sort_order,
        definitions.name_th as kpi_name_th,
        definitions.name_en as kpi_name_en,
        definitions.unit_th,
        definitions.unit_en,
        definitions.counting,
        definitions.direction,
        case
            -- no records anywhere in the country that year (or no counting model at all)
            when coalesce(country_parts.records, 0) = 0 then null
            when definitions.counting = 'percent'
            then round(100 * levels.numerator / nullif(levels.denominator, 0), 2)
            else levels.numerator
        end as actual
    from levels
    join definitions
      on definitions.kpi_id = levels.kpi_id
     and levels.fiscal_year between definitions.period_start and definitions.period_end
    left join country_parts
      on country_parts.kpi_id = levels.kpi_id and country_parts.fiscal_year = levels.fiscal_year
    where list_contains(string_split(definitions.area_levels, ';'), levels.area_level)
),

final as (
    select
        actuals.kpi_id,
        cast(actuals.fiscal_year as integer) as fiscal_year,
        actuals.area_level,
        actuals.area_code,
        actuals.region_grouping,
        actuals.area_name_th,
        actuals.area_name_en,
        actuals.plan_id,
        actuals.sort_order,
        actuals.kpi_name_th,
        actuals.kpi_name_en,
        actuals.unit_th,
        actuals.unit_en,
        actuals.counting,
        -- the plan's targets are national
        case when actuals.area_level = 'country' then targets.target end as target,
        actuals.actual,
        actuals.numerator,
        actuals.denominator,
        case when actuals.area_level = 'country' and targets.target > 0
             then round(100 * actuals.actual / targets.target, 1) end as achievement_pct,
        case
            when actuals.actual is null then 'no data'
            when actuals.area_level != 'country' or targets.target is null then 'no target'
            when actuals.direction = 'lower' and actuals.actual <= targets.target then 'met'
            when actuals.direction = 'higher' and actuals.actual >= targets.target then 'met'
            else 'behind'
        end as status
    from actuals
    left join targets
      on targets.kpi_id = actuals.kpi_id and targets.fiscal_year = actuals.fiscal_year
)

select * from final
