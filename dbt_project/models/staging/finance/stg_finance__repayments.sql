-- About a million rows nationally: a view, aggregated early by the intermediate models.
with source as (
    select * from {{ source('finance', 'repayments') }}
),

renamed as (
    select
        cast(loan_no as varchar) as loan_no,
        cast(installment_no as integer) as installment_no,
        cast(due_date as date) as due_date,
        cast(due_date_era as varchar) as due_date_era,
        cast(amount_due as double) as amount_due,
        cast(paid_date as date) as paid_date,
        cast(paid_date_era as varchar) as paid_date_era,
        cast(amount_paid as double) as amount_paid,
        {{ lineage_columns() }}
    from source
)

select * from renamed
