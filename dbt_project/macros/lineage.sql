{#- Where a row came from (docs/lake.md): carried unchanged from the lake to the facts so an
    auditor can trace any figure back to the source rows and the load that wrote them. -#}
{% macro lineage_columns(relation_alias=none) -%}
{%- set p = (relation_alias ~ '.') if relation_alias else '' -%}
cast({{ p }}_source_file as varchar) as _source_file,
    cast({{ p }}_source_row as bigint) as _source_row,
    cast({{ p }}_load_id as varchar) as _load_id,
    cast({{ p }}_repairs as varchar) as _repairs
{%- endmacro %}

{#- The area columns ingestion writes on every table with an area (docs/lake.md). -#}
{% macro area_columns() -%}
cast(subdistrict_code as varchar) as subdistrict_code,
        cast(subdistrict_code_original as varchar) as subdistrict_code_original,
        cast(area_resolution as varchar) as area_resolution
{%- endmacro %}

{#- The conformed area of a record: the current subdistrict (as of this run's dim_area) with its
    district, province and regions, from `int_area_codes_mapped` joined as `area_alias`. A code
    that was current when the lake was loaded but has been abolished since is moved to its one
    successor here; the code as the source gave it stays in subdistrict_code_original. -#}
{% macro conformed_area_columns(source_alias, area_alias='area') -%}
coalesce({{ area_alias }}.subdistrict_code, {{ source_alias }}.subdistrict_code) as subdistrict_code,
        {{ source_alias }}.subdistrict_code_original,
        case when {{ area_alias }}.code_status = 'abolished_successor' then 'abolished_successor'
             else {{ source_alias }}.area_resolution end as area_resolution,
        {{ area_alias }}.district_code,
        {{ area_alias }}.province_code,
        {{ area_alias }}.region_4_code,
        {{ area_alias }}.region_6_code
{%- endmacro %}
