with source as (
    select * from {{ source('organization', 'province_reports') }}
),

renamed as (
    select
        cast(province_code as varchar) as province_code,
        cast(fiscal_year as integer) as fiscal_year,
        cast(has_status_assessment as boolean) as has_status_assessment,
        cast(has_plan_linkage as boolean) as has_plan_linkage,
        cast(has_development_report as boolean) as has_development_report,
        {{ lineage_columns() }}
    from source
)

select * from renamed
