-- K7: registered tambon community councils (cumulative): councils whose registered_date is on or
-- before 30 September of the fiscal year, i.e. registered in that fiscal year or earlier.
with items as (
    select council_code, province_code, registered_fiscal_year as first_fiscal_year
    from {{ ref('int_organization_councils_conformed') }}
    where registered_date is not null
),

grid as (
    {{ kpi_grid('K7') }}
),

final as (
    {{ kpi_cumulative_count('grid', 'items') }}
)

select * from final
