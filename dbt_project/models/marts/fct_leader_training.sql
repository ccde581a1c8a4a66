-- Grain: one row per leader training (training_code).
select
    training_code,
    fiscal_year,
    subdistrict_code,
    subdistrict_code_original,
    area_resolution,
    district_code,
    province_code,
    region_4_code,
    region_6_code,
    new_leaders,
    total_participants,
    _source_file,
    _source_row,
    _load_id,
    _repairs
from {{ ref('int_organization_leader_training_conformed') }}
