{#- The Thai fiscal year (Buddhist Era) in which a date falls: FY2556 = 2012-10-01 .. 2013-09-30,
    so October to December belong to the next CE year's fiscal year (CE + 544), the rest to
    CE + 543. Null in, null out. -#}
{% macro fiscal_year_be(date_col) -%}
cast(year({{ date_col }}) + case when month({{ date_col }}) >= 10 then 544 else 543 end as integer)
{%- endmacro %}

{#- The local (Bangkok) calendar date of a timestamp with time zone: an event at 20:00 UTC on
    30 September is on 1 October in Thailand, so in the next fiscal year. -#}
{% macro bangkok_date(ts_col) -%}
cast(timezone('Asia/Bangkok', {{ ts_col }}) as date)
{%- endmacro %}
