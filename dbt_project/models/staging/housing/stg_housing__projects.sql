with source as (
    select * from {{ source('housing', 'projects') }}
),

renamed as (
    select
        cast(project_code as varchar) as project_code,
        cast(project_name as varchar) as project_name,
        cast(community_name as varchar) as community_name,
        cast(province as varchar) as province_name,
        cast(district as varchar) as district_name,
        cast(subdistrict as varchar) as subdistrict_name,
        {{ area_columns() }},
        cast(approved_date as date) as approved_date,
        cast(approved_date_era as varchar) as approved_date_era,
        cast(households_planned as bigint) as households_planned,
        cast(households_completed as bigint) as households_completed,
        cast(land_tenure as varchar) as land_tenure_th,
        case cast(land_tenure as varchar)
            when 'ซื้อที่ดิน' then 'land_purchase'
            when 'เช่าระยะยาว' then 'long_lease'
            when 'เช่าที่ดินรัฐ' then 'state_land_lease'
            when 'กรรมสิทธิ์สหกรณ์' then 'cooperative_ownership'
            when 'อื่นๆ' then 'other'
        end as land_tenure,
        cast(infrastructure_budget as double) as infrastructure_budget,
        cast(housing_loan as double) as housing_loan,
        cast(status as varchar) as status_th,
        case cast(status as varchar)
            when 'อนุมัติ' then 'approved'
            when 'กำลังดำเนินการ' then 'in_progress'
            when 'แล้วเสร็จ' then 'completed'
            when 'ยกเลิก' then 'cancelled'
        end as status,
        cast(updated_at as timestamptz) as updated_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
