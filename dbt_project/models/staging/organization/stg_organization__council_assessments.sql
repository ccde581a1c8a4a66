with source as (
    select * from {{ source('organization', 'council_assessments') }}
),

renamed as (
    select
        cast(council_code as varchar) as council_code,
        cast(fiscal_year as integer) as fiscal_year,
        cast(score as double) as score,
        cast(quality_passed as boolean) as quality_passed,
        {{ lineage_columns() }}
    from source
)

select * from renamed
