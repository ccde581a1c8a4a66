-- The largest source (about six million rows nationally): a view, read once by the
-- intermediate aggregation, never copied whole.
with source as (
    select * from {{ source('welfare', 'members') }}
),

renamed as (
    select
        cast(member_id as varchar) as member_id,
        cast(fund_code as varchar) as fund_code,
        cast(province_code as varchar) as province_code,
        cast(citizen_pseudonym as varchar) as citizen_pseudonym,
        cast(gender as varchar) as gender_th,
        case cast(gender as varchar) when 'ช' then 'male' when 'ญ' then 'female' end as gender,
        cast(birth_year as integer) as birth_year,
        cast(birth_year_era as varchar) as birth_year_era,
        cast(joined_date as date) as joined_date,
        cast(joined_date_era as varchar) as joined_date_era,
        cast(status as varchar) as status,
        {{ lineage_columns() }}
    from source
)

select * from renamed
