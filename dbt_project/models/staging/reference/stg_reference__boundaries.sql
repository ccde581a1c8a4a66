with source as (
    select * from {{ source('reference', 'boundaries') }}
),

renamed as (
    select
        area_code,
        area_level,
        point_lon,
        point_lat,
        area_km2,
        boundary_file
    from source
)

select * from renamed
