-- K7: registered tambon community councils (cumulative): councils whose registered_date is on or
-- before 30 September of the fiscal year, i.e. registered in that fiscal year or earlier.
with items as (
    select council_code, province_code, registered_fiscal_year as first_fiscal_year
    from {{ ref('int_organization_councils_conformed') }}
    where registered_date is not null
),

records as (
    select province_code, first_fiscal_year as fiscal_year, count(*) as records
    from items
    group by all
),

grid as (
    {{ kpi_grid('K7') }}
),

counted as (
    {{ kpi_cumulative_count('grid', 'items') }}
),

final as (
    select counted.*, {{ kpi_records('counted', 'records', cumulative=true) }} as records
    from counted
)

select * from final
