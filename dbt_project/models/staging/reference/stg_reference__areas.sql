with source as (
    select * from {{ source('reference', 'areas') }}
),

renamed as (
    select
        area_code,
        area_level,
        trim(name_th) as name_th,
        trim(name_en) as name_en,
        district_code,
        province_code,
        geothai_data_version
    from source
)

select * from renamed
