with source as (
    select * from {{ source('organization', 'councils') }}
),

renamed as (
    select
        cast(council_code as varchar) as council_code,
        {{ area_columns() }},
        cast(registered_date as date) as registered_date,
        cast(registered_date_era as varchar) as registered_date_era,
        cast(status as varchar) as status_th,
        case cast(status as varchar)
            when 'ดำเนินการ' then 'active'
            when 'ยุติการดำเนินงาน' then 'ceased'
        end as status,
        {{ lineage_columns() }}
    from source
)

select * from renamed
