-- Grain: one row per welfare fund and fiscal year (fund_code, fiscal_year), as reported in that
-- year's workbook.
select
    fund_code,
    fiscal_year,
    fund_name,
    region_sheet,
    subdistrict_code,
    subdistrict_code_original,
    area_resolution,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    established_date,
    established_date_era,
    established_fiscal_year,
    members,
    fund_balance,
    contrib_members,
    contrib_government,
    contrib_local_gov,
    coalesce(contrib_members, 0) + coalesce(contrib_government, 0) + coalesce(contrib_local_gov, 0) as contrib_total,
    coalesce(benefit_birth, 0) + coalesce(benefit_sickness, 0) + coalesce(benefit_elderly, 0)
        + coalesce(benefit_death, 0) + coalesce(benefit_education, 0) + coalesce(benefit_disaster, 0)
        + coalesce(benefit_other, 0) as benefits_total,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_welfare_funds_conformed') }}
