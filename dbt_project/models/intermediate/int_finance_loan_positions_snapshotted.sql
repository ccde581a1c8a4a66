-- Each loan as it stood at the end of each fiscal year from its contract until it was repaid:
-- the principal still outstanding and the days in arrears of its oldest unpaid installment.
-- Year ends are taken up to the last one the data can speak for: on or before the latest
-- payment recorded (the export's date, in effect), never the wall clock, so a schedule running
-- past the export does not turn into arrears.
-- Repayments (about a million rows nationally) are reduced to the overdue installments per
-- year end before anything is joined to the loans.
--
-- Outstanding principal is pro rata: principal x (amount due not yet paid) / (total amount due),
-- since the installments mix principal and interest. An installment is in arrears at a year end
-- if it fell due before that day and was not paid in full (to within a baht: rounding is not
-- arrears) on or before it.
with loans as (
    select * from {{ ref('int_finance_loans_conformed') }}
),

repayments as (
    select * from {{ ref('stg_finance__repayments') }}
),

data_as_of as (
    select max(paid_date) as as_of_date from repayments
),

fiscal_years as (
    select fiscal_year, last_day from {{ ref('dim_fiscal_year') }}
    where last_day <= (select as_of_date from data_as_of)
),

schedule as (
    select
        loan_no,
        sum(amount_due) as amount_due_total,
        max(due_date) as last_due_date,
        -- the last day anything happened; a loan with nothing left unpaid is off the book after it
        max(greatest(due_date, coalesce(paid_date, due_date))) as last_activity_date,
        bool_or(paid_date is null or coalesce(amount_paid, 0) < amount_due - 1) as has_unpaid
    from repayments
    group by loan_no
),

-- Paid amounts by loan and the fiscal year they were paid in; summed cumulatively below.
paid_by_year as (
    select loan_no, {{ fiscal_year_be('paid_date') }} as fiscal_year, sum(amount_paid) as amount_paid
    from repayments
    where paid_date is not null and amount_paid > 0
    group by all
),

-- The year ends at which each installment was in arrears: from the first 30 September after it
-- fell due to the last one before it was paid in full (or to the last year end while it is not), so
-- only installments late across a year end produce rows.
overdue_spans as (
    select
        loan_no,
        due_date,
        {{ fiscal_year_be('due_date + 1') }} as first_fiscal_year,
        case when paid_date is null or coalesce(amount_paid, 0) < amount_due - 1
             then (select max(fiscal_year) from fiscal_years)
             else {{ fiscal_year_be('paid_date') }} - 1 end as last_fiscal_year
    from repayments
),

overdue as (
    select loan_no, fiscal_year, min(due_date) as oldest_unpaid_due_date
    from (
        select loan_no, due_date, unnest(range(first_fiscal_year, last_fiscal_year + 1)) as fiscal_year
        from overdue_spans
        where first_fiscal_year <= last_fiscal_year
    )
    group by all
),

loan_years as (
    select loans.*, fiscal_years.fiscal_year, fiscal_years.last_day as as_of_date,
           schedule.amount_due_total, schedule.last_due_date
    from loans
    join schedule on schedule.loan_no = loans.loan_no
    join fiscal_years
      on fiscal_years.last_day >= loans.contract_date
     and (schedule.has_unpaid or fiscal_years.fiscal_year <= {{ fiscal_year_be('schedule.last_activity_date') }})
),

positions as (
    select
        loan_years.loan_no,
        loan_years.fiscal_year,
        loan_years.as_of_date,
        loan_years.subdistrict_code,
        loan_years.district_code,
        loan_years.province_code,
        loan_years.region_4_code,
        loan_years.region_6_code,
        loan_years.purpose,
        loan_years.principal,
        loan_years.amount_due_total,
        -- paid to date: a running sum over the loan's years, not a join to every earlier year
        coalesce(sum(paid_by_year.amount_paid) over (
            partition by loan_years.loan_no order by loan_years.fiscal_year
            rows between unbounded preceding and current row), 0) as amount_paid_to_date,
        overdue.oldest_unpaid_due_date,
        coalesce(loan_years.as_of_date - overdue.oldest_unpaid_due_date, 0) as days_in_arrears
    from loan_years
    left join paid_by_year
      on paid_by_year.loan_no = loan_years.loan_no and paid_by_year.fiscal_year = loan_years.fiscal_year
    left join overdue
      on overdue.loan_no = loan_years.loan_no and overdue.fiscal_year = loan_years.fiscal_year
),

final as (
    select
        *,
        round(principal * greatest(amount_due_total - amount_paid_to_date, 0)
              / nullif(amount_due_total, 0), 2) as outstanding_principal
    from positions
)

-- A loan leaves the book once it is repaid and nothing is overdue.
select * from final where outstanding_principal > 0 or days_in_arrears > 0
