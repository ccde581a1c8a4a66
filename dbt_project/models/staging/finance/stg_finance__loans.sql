with source as (
    select * from {{ source('finance', 'loans') }}
),

renamed as (
    select
        cast(loan_no as varchar) as loan_no,
        cast(borrower_code as varchar) as borrower_code,
        cast(borrower_name_pseudonym as varchar) as borrower_name_pseudonym,
        cast(borrower_type as varchar) as borrower_type_th,
        case cast(borrower_type as varchar)
            when 'กลุ่มออมทรัพย์' then 'savings_group'
            when 'องค์กรชุมชน' then 'community_organisation'
            when 'เครือข่ายองค์กรชุมชน' then 'community_network'
            when 'สหกรณ์เคหสถาน' then 'housing_cooperative'
        end as borrower_type,
        {{ area_columns() }},
        cast(purpose as varchar) as purpose_th,
        case cast(purpose as varchar)
            when 'ที่อยู่อาศัย' then 'housing'
            when 'ที่ดิน' then 'land'
            when 'อาชีพ' then 'livelihood'
            when 'แก้ไขหนี้สิน' then 'debt_relief'
            when 'ภัยพิบัติ' then 'disaster'
            when 'องค์กรการเงิน' then 'finance_organisation'
        end as purpose,
        cast(contract_date as date) as contract_date,
        cast(contract_date_era as varchar) as contract_date_era,
        cast(principal as double) as principal,
        cast(annual_interest_rate as double) as annual_interest_rate_pct,
        cast(term_months as integer) as term_months,
        cast(status as varchar) as status_th,
        case cast(status as varchar)
            when 'อนุมัติ' then 'approved'
            when 'ปกติ' then 'performing'
            when 'ค้างชำระ' then 'in_arrears'
            when 'ปรับโครงสร้างหนี้' then 'restructured'
            when 'ปิดบัญชี' then 'closed'
        end as status,
        {{ lineage_columns() }}
    from source
)

select * from renamed
