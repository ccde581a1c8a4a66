{{ config(materialized='view') }}

with training as (
    select * from {{ ref('stg_organization__leader_training') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        training.training_code,
        training.fiscal_year,
        {{ conformed_area_columns('training') }},
        training.new_leaders,
        training.total_participants,
        training._source_file,
        training._source_row,
        training._load_id,
        training._repairs
    from training
    left join area on area.code = training.subdistrict_code
)

select * from conformed
