with source as (
    select * from {{ source('organization', 'tambon_plans') }}
),

renamed as (
    select
        {{ area_columns() }},
        cast(fiscal_year as integer) as fiscal_year,
        cast(has_self_analysis_data as boolean) as has_self_analysis_data,
        cast(has_development_plan as boolean) as has_development_plan,
        cast(plan_linked_to_province as boolean) as plan_linked_to_province,
        {{ lineage_columns() }}
    from source
)

select * from renamed
