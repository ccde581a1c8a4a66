{{ config(materialized='view') }}

-- Province reports with the province's regions.
with reports as (
    select * from {{ ref('stg_organization__province_reports') }}
),

provinces as (
    select * from {{ ref('dim_area') }} where area_level = 'province'
),

conformed as (
    select
        reports.province_code,
        provinces.region_4_code,
        provinces.region_6_code,
        reports.fiscal_year,
        reports.has_status_assessment,
        reports.has_plan_linkage,
        reports.has_development_report,
        reports._source_file,
        reports._source_row,
        reports._load_id,
        reports._repairs
    from reports
    left join provinces on provinces.area_code = reports.province_code
)

select * from conformed
