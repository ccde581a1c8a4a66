{{ config(materialized='view') }}

-- Councils on the current subdistrict and the fiscal year of their registration (K7, K8).
with councils as (
    select * from {{ ref('stg_organization__councils') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        councils.council_code,
        {{ conformed_area_columns('councils') }},
        councils.registered_date,
        councils.registered_date_era,
        {{ fiscal_year_be('councils.registered_date') }} as registered_fiscal_year,
        councils.status,
        councils.status_th,
        councils._source_file,
        councils._source_row,
        councils._load_id,
        councils._repairs
    from councils
    left join area on area.code = councils.subdistrict_code
)

select * from conformed
