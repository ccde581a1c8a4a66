-- The member lists (about six million rows nationally) read once and aggregated early: one row
-- per fund, fiscal year joined, gender, status and source file. Citizen pseudonyms are not
-- carried (and not counted distinct: that alone would cost more than the rest of the model).
with members as (
    select * from {{ ref('stg_welfare__members') }}
),

aggregated as (
    select
        fund_code,
        {{ fiscal_year_be('joined_date') }} as joined_fiscal_year,
        gender,
        status,
        province_code as list_province_code,
        _source_file,
        _load_id,
        count(*) as members,
        min(_source_row) as first_source_row,
        max(_source_row) as last_source_row
    from members
    group by all
),

funds as (
    select * from {{ ref('int_welfare_fund_areas_latest') }}
),

final as (
    select
        aggregated.fund_code,
        aggregated.joined_fiscal_year,
        aggregated.gender,
        aggregated.status,
        funds.subdistrict_code,
        funds.district_code,
        coalesce(funds.province_code, aggregated.list_province_code) as province_code,
        aggregated.list_province_code,
        funds.region_4_code,
        funds.region_6_code,
        aggregated.members,
        aggregated._source_file,
        aggregated.first_source_row,
        aggregated.last_source_row,
        aggregated._load_id
    from aggregated
    left join funds on funds.fund_code = aggregated.fund_code
)

select * from final
