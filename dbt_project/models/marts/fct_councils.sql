-- Grain: one row per tambon community council (council_code).
select
    council_code,
    subdistrict_code,
    subdistrict_code_original,
    area_resolution,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    registered_date,
    registered_date_era,
    registered_fiscal_year,
    status,
    status_th,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_organization_councils_conformed') }}
