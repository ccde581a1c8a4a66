with source as (
    select * from {{ source('disaster', 'events') }}
),

renamed as (
    select
        cast(event_id as varchar) as event_id,
        cast(hazard as varchar) as hazard,
        cast(started_at as timestamptz) as started_at,
        cast(ended_at as timestamptz) as ended_at,
        cast(lat as double) as lat,
        cast(lon as double) as lon,
        {{ area_columns() }},
        cast(affected_households as bigint) as affected_households,
        cast(damaged_houses as bigint) as damaged_houses,
        cast(community_plan as boolean) as has_community_plan,
        cast(early_warning as boolean) as has_early_warning,
        cast(relief_budget as double) as relief_budget,
        {{ lineage_columns() }}
    from source
)

select * from renamed
