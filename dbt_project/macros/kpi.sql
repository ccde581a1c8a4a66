{#- Every (fiscal year, province) an indicator is reported for: the fiscal years of its plan
    period (kpi_definitions) times the current provinces, so a province with nothing to count
    still gets its zero; plus a null province for records whose area is unknown (say, a
    household of a project that was quarantined), which count for the country but no province.
    Join to it with `is not distinct from`. -#}
{% macro kpi_grid(kpi_id) -%}
select
        definitions.kpi_id,
        years.fiscal_year,
        provinces.province_code
    from {{ ref('kpi_definitions') }} as definitions
    join {{ ref('dim_fiscal_year') }} as years
      on years.fiscal_year between definitions.period_start and definitions.period_end
    cross join (
        select area_code as province_code from {{ ref('dim_area') }} where area_level = 'province'
        union all
        select cast(null as varchar)
    ) as provinces
    where definitions.kpi_id = '{{ kpi_id }}'
{%- endmacro %}

{#- A cumulative count: the items (one row per item with its province_code and the
    first_fiscal_year it counts from) counted in every grid year on or after that year. -#}
{% macro kpi_cumulative_count(grid, items) -%}
select
        {{ grid }}.kpi_id,
        {{ grid }}.fiscal_year,
        {{ grid }}.province_code,
        cast(count({{ items }}.first_fiscal_year) as double) as numerator,
        cast(null as double) as denominator
    from {{ grid }}
    left join {{ items }}
      on {{ items }}.province_code is not distinct from {{ grid }}.province_code
     and {{ items }}.first_fiscal_year <= {{ grid }}.fiscal_year
    group by all
{%- endmacro %}

{#- The source records a grid row's figure rests on (the `records` of int_kpi_actuals_unioned):
    from `records` (one row per province_code and fiscal_year with its `records` count), those of
    the grid row's year, or with `cumulative` of that year and every earlier one. An indicator-year
    with no records at all has no data (mart_kpi: actual null, status 'no data'), which a count of
    zero cannot say. -#}
{% macro kpi_records(grid, records, cumulative=false) -%}
cast(coalesce((
            select sum(r.records) from {{ records }} as r
            where r.province_code is not distinct from {{ grid }}.province_code
              and r.fiscal_year {{ '<=' if cumulative else '=' }} {{ grid }}.fiscal_year
        ), 0) as bigint)
{%- endmacro %}
