{{ config(contract={'enforced': true}) }}

-- Grain: one row per region grouping, region and fiscal year: the province profiles summed by
-- every grouping of the region_groupings seed (a new grouping there is new rows here).
with provinces as (
    select * from {{ ref('mart_province_profile') }}
),

regions as (
    select * from {{ ref('region_groupings') }}
),

summed as (
    select
        regions.grouping as region_grouping,
        regions.region_code,
        provinces.fiscal_year,
        any_value(regions.region_name_th) as region_name_th,
        any_value(regions.region_name_en) as region_name_en,
        cast(count(*) as bigint) as provinces,
        cast(sum(provinces.subdistricts) as bigint) as subdistricts,
        {{- area_profile_sums('provinces.') }},
        count(*) filter (where provinces.has_status_assessment) as provinces_with_status_assessment,
        count(*) filter (where provinces.has_plan_linkage) as provinces_with_plan_linkage,
        count(*) filter (where provinces.has_development_report) as provinces_with_development_report,
        cast(sum(provinces.province_joint_area_records) as bigint) as province_joint_area_records,
        cast(sum(provinces.province_joint_area_records_meeting_k10) as bigint) as province_joint_area_records_meeting_k10
    from provinces
    join regions on regions.province_code = provinces.province_code
    group by all
),

final as (
    select *, {{ area_profile_ratios() }} from summed
)

select * from final
