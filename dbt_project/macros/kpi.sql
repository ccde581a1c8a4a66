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
