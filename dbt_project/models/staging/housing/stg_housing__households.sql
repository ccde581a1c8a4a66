with source as (
    select * from {{ source('housing', 'households') }}
),

renamed as (
    select
        cast(household_id as varchar) as household_id,
        cast(project_code as varchar) as project_code,
        -- Keyed pseudonyms only (HMAC in ingestion): the clear values never reach the lake.
        cast(head_citizen_pseudonym as varchar) as head_citizen_pseudonym,
        cast(head_name_pseudonym as varchar) as head_name_pseudonym,
        cast(members as bigint) as members,
        cast(monthly_income as double) as monthly_income,
        cast(loan_amount as double) as loan_amount,
        cast(moved_in_date as date) as moved_in_date,
        cast(moved_in_date_era as varchar) as moved_in_date_era,
        {{ lineage_columns() }}
    from source
)

select * from renamed
