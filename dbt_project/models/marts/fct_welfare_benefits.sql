-- Grain: one row per welfare fund, fiscal year and kind of benefit (fund_code, fiscal_year,
-- benefit_kind): the workbook's seven benefit columns unpivoted, with the Thai header kept.
with fund_years as (
    select * from {{ ref('int_welfare_funds_conformed') }}
),

unpivoted as (
    unpivot fund_years
    on benefit_birth, benefit_sickness, benefit_elderly, benefit_death, benefit_education,
       benefit_disaster, benefit_other
    into name benefit_column value amount
),

final as (
    select
        fund_code,
        fiscal_year,
        replace(benefit_column, 'benefit_', '') as benefit_kind,
        case benefit_column
            when 'benefit_birth' then 'สวัสดิการเกิด'
            when 'benefit_sickness' then 'สวัสดิการเจ็บป่วย'
            when 'benefit_elderly' then 'สวัสดิการผู้สูงอายุ'
            when 'benefit_death' then 'สวัสดิการเสียชีวิต'
            when 'benefit_education' then 'สวัสดิการการศึกษา'
            when 'benefit_disaster' then 'สวัสดิการภัยพิบัติ'
            when 'benefit_other' then 'สวัสดิการอื่นๆ'
        end as benefit_kind_th,
        amount,
        subdistrict_code,
        district_code,
        province_code,
        region_4_code,
        region_6_code,
        _source_file,
        _source_row,
        _load_id
    from unpivoted
)

select * from final
