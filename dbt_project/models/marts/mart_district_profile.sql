{{ config(contract={'enforced': true}) }}

-- Grain: one row per current district and fiscal year: mart_area_profile summed over the
-- district's subdistricts (ratios recomputed from the sums).
with profile as (
    select * from {{ ref('mart_area_profile') }}
),

districts as (
    select * from {{ ref('dim_area') }} where area_level = 'district'
),

summed as (
    select
        district_code,
        fiscal_year,
        cast(count(*) as bigint) as subdistricts,
        {{- area_profile_sums() }}
    from profile
    group by all
),

final as (
    select
        summed.district_code,
        summed.fiscal_year,
        districts.name_th as district_name_th,
        districts.name_en as district_name_en,
        districts.province_code,
        districts.province_name_th,
        districts.province_name_en,
        districts.region_4_code,
        districts.region_6_code,
        summed.* exclude (district_code, fiscal_year),
        {{ area_profile_ratios() }}
    from summed
    join districts on districts.area_code = summed.district_code
)

select * from final
