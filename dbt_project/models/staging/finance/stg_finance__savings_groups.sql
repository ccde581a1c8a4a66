with source as (
    select * from {{ source('finance', 'savings_groups') }}
),

renamed as (
    select
        cast(group_code as varchar) as group_code,
        cast(group_name as varchar) as group_name,
        cast(org_type as varchar) as org_type_th,
        case cast(org_type as varchar)
            when 'กลุ่มออมทรัพย์' then 'savings_group'
            when 'กลุ่มสัจจะออมทรัพย์' then 'sajja_savings_group'
            when 'สถาบันการเงินชุมชน' then 'community_finance_institution'
            when 'สหกรณ์' then 'cooperative'
        end as org_type,
        {{ area_columns() }},
        cast(members as bigint) as members,
        cast(savings_balance as double) as savings_balance,
        cast(loans_outstanding as double) as loans_outstanding,
        cast(report_date as date) as report_date,
        cast(report_date_era as varchar) as report_date_era,
        {{ lineage_columns() }}
    from source
)

select * from renamed
