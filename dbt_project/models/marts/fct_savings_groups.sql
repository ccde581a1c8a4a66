-- Grain: one row per savings group report (group_code).
select
    group_code,
    group_name,
    org_type,
    org_type_th,
    subdistrict_code,
    subdistrict_code_original,
    area_resolution,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    report_date,
    report_date_era,
    report_fiscal_year,
    members,
    savings_balance,
    loans_outstanding,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_finance_savings_groups_conformed') }}
