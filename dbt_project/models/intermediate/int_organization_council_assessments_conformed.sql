{{ config(materialized='view') }}

-- Assessments take the area of their council.
with assessments as (
    select * from {{ ref('stg_organization__council_assessments') }}
),

councils as (
    select * from {{ ref('int_organization_councils_conformed') }}
),

conformed as (
    select
        assessments.council_code,
        assessments.fiscal_year,
        councils.subdistrict_code,
        councils.district_code,
        councils.province_code,
        councils.region_4_code,
        councils.region_6_code,
        councils.registered_fiscal_year,
        assessments.score,
        assessments.quality_passed,
        assessments._source_file,
        assessments._source_row,
        assessments._load_id,
        assessments._repairs
    from assessments
    left join councils on councils.council_code = assessments.council_code
)

select * from conformed
