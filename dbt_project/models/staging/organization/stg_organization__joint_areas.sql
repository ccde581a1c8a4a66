with source as (
    select * from {{ source('organization', 'joint_areas') }}
),

renamed as (
    select
        -- a current 6-digit subdistrict or 2-digit province code, resolved by ingestion
        cast(area_code as varchar) as area_code,
        cast(area_code_original as varchar) as area_code_original,
        cast(area_level as varchar) as area_level,
        cast(area_resolution as varchar) as area_resolution,
        cast(fiscal_year as integer) as fiscal_year,
        cast(has_joint_system as boolean) as has_joint_system,
        cast(integrated_plan_or_budget as boolean) as integrated_plan_or_budget,
        cast(public_policy_driven as boolean) as public_policy_driven,
        cast(concrete_outcome as boolean) as concrete_outcome,
        {{ lineage_columns() }}
    from source
)

select * from renamed
