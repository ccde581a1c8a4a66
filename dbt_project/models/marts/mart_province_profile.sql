{{ config(contract={'enforced': true}) }}

-- Grain: one row per province and fiscal year: mart_area_profile summed over the province's
-- subdistricts, plus what only exists at province level: the province reports (K4-K6 flags,
-- true if Y in that year's report) and joint-working records for the whole province.
with profile as (
    select * from {{ ref('mart_area_profile') }}
),

provinces as (
    select * from {{ ref('dim_area') }} where area_level = 'province'
),

summed as (
    select
        province_code,
        fiscal_year,
        cast(count(*) as bigint) as subdistricts,
        {{- area_profile_sums() }}
    from profile
    group by all
),

reports as (
    select province_code, fiscal_year,
           bool_or(has_status_assessment) as has_status_assessment,
           bool_or(has_plan_linkage) as has_plan_linkage,
           bool_or(has_development_report) as has_development_report
    from {{ ref('fct_province_reports') }}
    group by all
),

province_joint as (
    select province_code, fiscal_year,
           count(*) as province_joint_area_records,
           count(*) filter (where meets_k10) as province_joint_area_records_meeting_k10
    from {{ ref('fct_joint_areas') }}
    where area_level = 'province'
    group by all
),

final as (
    select
        summed.province_code,
        summed.fiscal_year,
        provinces.name_th as province_name_th,
        provinces.name_en as province_name_en,
        provinces.region_4_code,
        provinces.region_4_name_en,
        provinces.region_6_code,
        provinces.region_6_name_en,
        summed.* exclude (province_code, fiscal_year),
        {{ area_profile_ratios() }},
        coalesce(reports.has_status_assessment, false) as has_status_assessment,
        coalesce(reports.has_plan_linkage, false) as has_plan_linkage,
        coalesce(reports.has_development_report, false) as has_development_report,
        cast(coalesce(province_joint.province_joint_area_records, 0) as bigint) as province_joint_area_records,
        cast(coalesce(province_joint.province_joint_area_records_meeting_k10, 0) as bigint) as province_joint_area_records_meeting_k10
    from summed
    join provinces on provinces.area_code = summed.province_code
    left join reports on reports.province_code = summed.province_code and reports.fiscal_year = summed.fiscal_year
    left join province_joint on province_joint.province_code = summed.province_code and province_joint.fiscal_year = summed.fiscal_year
)

select * from final
