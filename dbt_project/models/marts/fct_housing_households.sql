-- Grain: one row per household in a Baan Mankong project (household_id). No personal data:
-- the head's pseudonyms stay in staging.
select
    household_id,
    project_code,
    subdistrict_code,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    members,
    monthly_income,
    loan_amount,
    moved_in_date,
    moved_in_date_era,
    moved_in_fiscal_year,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_housing_households_conformed') }}
