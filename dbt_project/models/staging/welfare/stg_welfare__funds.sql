with source as (
    select * from {{ source('welfare', 'funds') }}
),

renamed as (
    select
        cast(fund_code as varchar) as fund_code,
        cast(fiscal_year as integer) as fiscal_year,
        cast(fund_name as varchar) as fund_name,
        cast(subdistrict_name as varchar) as subdistrict_name,
        cast(district_name as varchar) as district_name,
        cast(province_name as varchar) as province_name,
        cast(region_sheet as varchar) as region_sheet,
        {{ area_columns() }},
        cast(established_date as date) as established_date,
        cast(established_date_era as varchar) as established_date_era,
        cast(members as bigint) as members,
        cast(fund_balance as double) as fund_balance,
        cast(contrib_members as double) as contrib_members,
        cast(contrib_government as double) as contrib_government,
        cast(contrib_local_gov as double) as contrib_local_gov,
        cast(benefit_birth as double) as benefit_birth,
        cast(benefit_sickness as double) as benefit_sickness,
        cast(benefit_elderly as double) as benefit_elderly,
        cast(benefit_death as double) as benefit_death,
        cast(benefit_education as double) as benefit_education,
        cast(benefit_disaster as double) as benefit_disaster,
        cast(benefit_other as double) as benefit_other,
        {{ lineage_columns() }}
    from source
)

select * from renamed
