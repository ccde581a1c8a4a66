{{ config(contract={'enforced': true}) }}

with areas as (
    select * from {{ ref('stg_reference__areas') }}
),

boundaries as (
    select * from {{ ref('stg_reference__boundaries') }}
),

provinces as (
    select area_code, name_th, name_en from areas where area_level = 'province'
),

districts as (
    select area_code, name_th, name_en from areas where area_level = 'district'
),

regions as (
    select
        province_code,
        max(case when grouping = 'region_4' then region_code end) as region_4_code,
        max(case when grouping = 'region_4' then region_name_th end) as region_4_name_th,
        max(case when grouping = 'region_4' then region_name_en end) as region_4_name_en,
        max(case when grouping = 'region_6' then region_code end) as region_6_code,
        max(case when grouping = 'region_6' then region_name_th end) as region_6_name_th,
        max(case when grouping = 'region_6' then region_name_en end) as region_6_name_en
    from {{ ref('region_groupings') }}
    group by province_code
),

final as (
    select
        areas.area_code,
        areas.area_level,
        areas.name_th,
        areas.name_en,
        case areas.area_level
            when 'subdistrict' then areas.district_code
            when 'district' then areas.province_code
        end as parent_code,
        case when areas.area_level = 'subdistrict' then areas.district_code end as district_code,
        districts.name_th as district_name_th,
        districts.name_en as district_name_en,
        areas.province_code,
        provinces.name_th as province_name_th,
        provinces.name_en as province_name_en,
        regions.region_4_code,
        regions.region_4_name_th,
        regions.region_4_name_en,
        regions.region_6_code,
        regions.region_6_name_th,
        regions.region_6_name_en,
        boundaries.area_code is not null as has_geometry,
        boundaries.point_lon,
        boundaries.point_lat,
        boundaries.area_km2,
        areas.geothai_data_version
    from areas
    left join districts on districts.area_code = areas.district_code
    left join provinces on provinces.area_code = areas.province_code
    left join regions on regions.province_code = areas.province_code
    left join boundaries on boundaries.area_code = areas.area_code
)

select * from final
