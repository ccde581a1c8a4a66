{{ config(materialized='view') }}

-- Operating areas are a subdistrict (6 digits) or a whole province (2 digits). A subdistrict is
-- mapped like every other record; a province keeps its code, with no subdistrict or district.
with joint_areas as (
    select * from {{ ref('stg_organization__joint_areas') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

provinces as (
    select * from {{ ref('dim_area') }} where area_level = 'province'
),

conformed as (
    select
        case when length(joint_areas.area_code) = 6
             then coalesce(area.subdistrict_code, joint_areas.area_code)
             else joint_areas.area_code end as area_code,
        joint_areas.area_code_original,
        case when length(joint_areas.area_code) = 6 then 'subdistrict' else 'province' end as area_level,
        case when area.code_status = 'abolished_successor' then 'abolished_successor'
             else joint_areas.area_resolution end as area_resolution,
        area.subdistrict_code,
        area.district_code,
        coalesce(area.province_code, provinces.area_code) as province_code,
        coalesce(area.region_4_code, provinces.region_4_code) as region_4_code,
        coalesce(area.region_6_code, provinces.region_6_code) as region_6_code,
        joint_areas.fiscal_year,
        joint_areas.has_joint_system,
        joint_areas.integrated_plan_or_budget,
        joint_areas.public_policy_driven,
        joint_areas.concrete_outcome,
        -- K10: joint working plus at least one of plan/budget, policy, outcome
        coalesce(joint_areas.has_joint_system
                 and (joint_areas.integrated_plan_or_budget or joint_areas.public_policy_driven
                      or joint_areas.concrete_outcome), false) as meets_k10,
        joint_areas._source_file,
        joint_areas._source_row,
        joint_areas._load_id,
        joint_areas._repairs
    from joint_areas
    left join area on length(joint_areas.area_code) = 6 and area.code = joint_areas.area_code
    left join provinces on length(joint_areas.area_code) = 2 and provinces.area_code = joint_areas.area_code
)

select * from conformed
