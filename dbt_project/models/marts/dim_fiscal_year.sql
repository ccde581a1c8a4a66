{{ config(contract={'enforced': true}) }}

-- Thai fiscal years run 1 October to 30 September and are named by the Buddhist Era year they
-- end in: FY2556 = 2012-10-01 .. 2013-09-30 (BE = CE + 543).
with years as (
    select unnest(generate_series({{ var('first_fiscal_year_be') }}, {{ var('last_fiscal_year_be') }})) as fiscal_year
),

final as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast(fiscal_year - 543 as integer) as fiscal_year_ce,
        make_date(cast(fiscal_year - 544 as integer), 10, 1) as first_day,
        make_date(cast(fiscal_year - 543 as integer), 9, 30) as last_day,
        'ปีงบประมาณ ' || fiscal_year as label_th,
        'FY' || fiscal_year || ' (' || (fiscal_year - 544) || '-' || right(cast(fiscal_year - 543 as varchar), 2) || ')' as label_en
    from years
)

select * from final
