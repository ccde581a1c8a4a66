{#- The Parquet files of one lake table: `lake/<layer>/<source>/<table>/`. -#}
{% macro lake_path(layer, source, table) -%}
{{ env_var('CODI_LAKE_DIR', '../lake') }}/{{ layer }}/{{ source }}/{{ table }}/*.parquet
{%- endmacro %}
