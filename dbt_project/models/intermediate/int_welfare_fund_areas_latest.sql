-- Each fund once, on the area of its latest workbook row: the member lists name only the fund.
with fund_years as (
    select * from {{ ref('int_welfare_funds_conformed') }}
),

ranked as (
    select
        fund_code,
        fund_name,
        subdistrict_code,
        district_code,
        province_code,
        region_4_code,
        region_6_code,
        established_fiscal_year,
        fiscal_year as latest_fiscal_year,
        row_number() over (partition by fund_code order by fiscal_year desc, _source_row) as recency
    from fund_years
)

select * exclude (recency) from ranked where recency = 1
