with source as (
    select * from {{ source('organization', 'leader_training') }}
),

renamed as (
    select
        cast(training_code as varchar) as training_code,
        cast(fiscal_year as integer) as fiscal_year,
        {{ area_columns() }},
        cast(new_leaders as bigint) as new_leaders,
        cast(total_participants as bigint) as total_participants,
        {{ lineage_columns() }}
    from source
)

select * from renamed
