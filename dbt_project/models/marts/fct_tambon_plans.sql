-- Grain: one row per subdistrict and fiscal year (subdistrict_code, fiscal_year).
select
    subdistrict_code,
    fiscal_year,
    subdistrict_code_original,
    area_resolution,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    has_self_analysis_data,
    has_development_plan,
    plan_linked_to_province,
    -- K3: data for self-analysis and a planning process, both in the same year's record
    coalesce(has_self_analysis_data and has_development_plan, false) as meets_k3,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_organization_tambon_plans_conformed') }}
