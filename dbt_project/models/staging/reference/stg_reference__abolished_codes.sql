with source as (
    select * from {{ source('reference', 'abolished_codes') }}
),

renamed as (
    select
        abolished_code,
        area_level,
        name_th,
        name_en,
        parent_code,
        cast(abolished_on as date) as abolished_on,
        successor_code,
        successor_count,
        successors_basis,
        cast(successors_in_force as date) as successors_in_force,
        successors_source
    from source
)

select * from renamed
