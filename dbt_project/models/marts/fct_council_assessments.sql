-- Grain: one row per council and fiscal year assessed (council_code, fiscal_year).
select
    council_code,
    fiscal_year,
    subdistrict_code,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    registered_fiscal_year,
    score,
    quality_passed,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_organization_council_assessments_conformed') }}
