-- Grain: one row per operating area and fiscal year (area_code, fiscal_year); an area is a
-- subdistrict or a whole province.
select
    area_code,
    fiscal_year,
    area_level,
    area_code_original,
    area_resolution,
    subdistrict_code,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    has_joint_system,
    integrated_plan_or_budget,
    public_policy_driven,
    concrete_outcome,
    meets_k10,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_organization_joint_areas_conformed') }}
