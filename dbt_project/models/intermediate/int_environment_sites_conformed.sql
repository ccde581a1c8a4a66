{{ config(materialized='view') }}

-- Sites on the current subdistrict. The source gives only the BE year a site was established;
-- it is taken as the fiscal year of the same number (BE year N and FY N share January to
-- September), and the CE year is kept beside it.
with sites as (
    select * from {{ ref('stg_environment__sites') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        sites.site_code,
        sites.kind,
        sites.kind_th,
        sites.site_name,
        sites.area_rai,
        sites.households_involved,
        sites.established_year,
        sites.established_year_era,
        sites.established_year - 543 as established_year_ce,
        sites.established_year as established_fiscal_year,
        {{ conformed_area_columns('sites') }},
        sites.geometry_type,
        sites.lon,
        sites.lat,
        sites.geometry_wkt,
        sites._source_file,
        sites._source_row,
        sites._load_id,
        sites._repairs
    from sites
    left join area on area.code = sites.subdistrict_code
)

select * from conformed
