-- Grain: one row per figure of mart_kpi (kpi_id, fiscal_year, area_level, region_grouping,
-- area_code) and source row behind it, with what that row contributes to the figure's
-- numerator (and denominator, for a percentage). Summing the contributions gives the figure's
-- numerator and denominator: the check `ge_lineage_adds_up` holds this model to mart_kpi, so
-- a trace (`make trace`) is a query on this table, not a second copy of the KPI logic.
--
-- Built from the same intermediate models as the int_kpi_*_counted models behind mart_kpi.
-- For a distinct count over several records (K3-K6: a tambon or province counted from its
-- first qualifying record on), the record that first qualified carries the count. K1 (two of
-- five issues in one year) is not traced here: int_subdistrict_issue_activity_unioned keeps
-- no row-level lineage.
with definitions as (
    select kpi_id, period_start, period_end from {{ ref('kpi_definitions') }}
),

provinces as (
    select area_code as province_code from {{ ref('dim_area') }} where area_level = 'province'
),

years as (
    select fiscal_year from {{ ref('dim_fiscal_year') }}
),

-- One row per contributing record, at the fiscal year it counts in (`from_year`), and whether
-- it counts on in every later year of the plan (cumulative indicators).
records as (
    -- K2: households that moved in during the fiscal year
    select 'K2' as kpi_id, 'housing/households' as source_table, household_id as record_key,
           province_code, moved_in_fiscal_year as from_year, false as cumulative,
           1.0 as numerator_contribution, cast(null as double) as denominator_contribution,
           _source_file, _source_row, _load_id
    from {{ ref('int_housing_households_conformed') }}
    where moved_in_date is not null

    union all
    -- K3: a tambon's first record with self-analysis data and a development plan
    select 'K3', 'organization/tambon_plans', subdistrict_code || '/' || fiscal_year,
           province_code, fiscal_year, true, 1.0, null, _source_file, _source_row, _load_id
    from {{ ref('int_organization_tambon_plans_conformed') }}
    where has_self_analysis_data and has_development_plan
    qualify row_number() over (partition by subdistrict_code order by fiscal_year, _source_row) = 1

    {% for kpi_id, flag in [('K4', 'has_status_assessment'), ('K5', 'has_plan_linkage'),
                            ('K6', 'has_development_report')] %}
    union all
    -- {{ kpi_id }}: a province's first report with {{ flag }}
    select '{{ kpi_id }}', 'organization/province_reports', province_code || '/' || fiscal_year,
           province_code, fiscal_year, true, 1.0, null, _source_file, _source_row, _load_id
    from {{ ref('int_organization_province_reports_conformed') }}
    where {{ flag }}
    qualify row_number() over (partition by province_code order by fiscal_year, _source_row) = 1
    {% endfor %}

    union all
    -- K7: councils registered in the fiscal year or before
    select 'K7', 'organization/councils', council_code, province_code, registered_fiscal_year,
           true, 1.0, null, _source_file, _source_row, _load_id
    from {{ ref('int_organization_councils_conformed') }}
    where registered_date is not null

    union all
    -- K8 numerator: councils passing the year's quality assessment (each council once a year),
    -- once registered (as int_kpi_k8_counted)
    select 'K8', 'organization/council_assessments', council_code || '/' || fiscal_year,
           province_code, fiscal_year, false, 1.0, 0.0, _source_file, _source_row, _load_id
    from {{ ref('int_organization_council_assessments_conformed') }}
    where quality_passed and registered_fiscal_year <= fiscal_year
    qualify row_number() over (partition by council_code, fiscal_year order by _source_row) = 1

    union all
    -- K8 denominator: councils registered by the end of the year (K7)
    select 'K8', 'organization/councils', council_code, province_code, registered_fiscal_year,
           true, 0.0, 1.0, _source_file, _source_row, _load_id
    from {{ ref('int_organization_councils_conformed') }}
    where registered_date is not null

    union all
    -- K9: new leaders of the year's trainings
    select 'K9', 'organization/leader_training', training_code, province_code, fiscal_year,
           false, cast(coalesce(new_leaders, 0) as double), null, _source_file, _source_row, _load_id
    from {{ ref('int_organization_leader_training_conformed') }}

    union all
    -- K10: the year's joint-area records (denominator), those meeting the rule (numerator)
    select 'K10', 'organization/joint_areas', area_code || '/' || fiscal_year, province_code,
           fiscal_year, false, case when meets_k10 then 1.0 else 0.0 end, 1.0,
           _source_file, _source_row, _load_id
    from {{ ref('int_organization_joint_areas_conformed') }}
),

-- Each record at every fiscal year of its indicator's plan it counts in. A record whose area
-- is unknown (province_code null: say, a household of a quarantined project) counts for the
-- country but no province or region, as in mart_kpi.
by_province as (
    select records.* exclude (from_year, cumulative), years.fiscal_year, records.from_year as record_fiscal_year
    from records
    join definitions on definitions.kpi_id = records.kpi_id
    join years
      on years.fiscal_year between definitions.period_start and definitions.period_end
     and (years.fiscal_year = records.from_year
          or (records.cumulative and years.fiscal_year > records.from_year))
    where records.province_code is null
       or records.province_code in (select province_code from provinces)
),

levels as (
    select kpi_id, fiscal_year, 'province' as area_level, cast(null as varchar) as region_grouping,
           province_code as area_code, by_province.* exclude (kpi_id, fiscal_year)
    from by_province
    where province_code is not null
    union all
    select kpi_id, fiscal_year, 'region', regions.grouping, regions.region_code,
           by_province.* exclude (kpi_id, fiscal_year)
    from by_province
    join {{ ref('region_groupings') }} as regions on regions.province_code = by_province.province_code
    union all
    select kpi_id, fiscal_year, 'country', null, 'TH', by_province.* exclude (kpi_id, fiscal_year)
    from by_province
),

final as (
    select
        levels.kpi_id,
        cast(levels.fiscal_year as integer) as fiscal_year,
        levels.area_level,
        levels.region_grouping,
        levels.area_code,
        levels.province_code,
        levels.source_table,
        levels.record_key,
        cast(levels.record_fiscal_year as integer) as record_fiscal_year,
        levels._source_file,
        levels._source_row,
        levels._load_id,
        cast(levels.numerator_contribution as double) as numerator_contribution,
        cast(levels.denominator_contribution as double) as denominator_contribution
    from levels
    -- only the figures mart_kpi has (each indicator at its own area levels)
    semi join {{ ref('mart_kpi') }} as kpi
      on kpi.kpi_id = levels.kpi_id
     and kpi.fiscal_year = levels.fiscal_year
     and kpi.area_level = levels.area_level
     and kpi.area_code = levels.area_code
     and kpi.region_grouping is not distinct from levels.region_grouping
)

select * from final
