-- Grain: one row per province and fiscal year (province_code, fiscal_year).
select
    province_code,
    fiscal_year,
    region_4_code,
    region_6_code,
    has_status_assessment,
    has_plan_linkage,
    has_development_report,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_organization_province_reports_conformed') }}
