-- Outliers, flagged and shown, never removed from the marts: one row per value whose robust
-- z-score among the same measure's values at the same area level and fiscal year is beyond the
-- threshold. Robust z = 0.6745 (x - median) / MAD (Iglewicz and Hoaglin's modified z-score),
-- taken on x = ln(value): money and counts per area are skewed (many small funds, a few large
-- ones), and on the raw scale every large but ordinary fund would look extreme; on the log
-- scale a value is flagged when it is many times the typical ratio away from the median.
--
-- Measures: every additive measure of the area profiles (area_profile_measures(), at
-- subdistrict, district and province level) and every indicator of mart_kpi by province. Only
-- areas with activity (a value above zero) are compared: most tambons have no disaster or
-- housing project in a year, and against a crowd of zeros any activity would look extreme.
-- Where more than half the values are equal (MAD = 0, e.g. one fund per tambon) there is no
-- spread to measure against, and nothing is scored.
{%- set threshold = var('outlier_robust_z_threshold', 3.5) %}
{%- set min_values = var('outlier_min_values', 10) %}
{#- the macro lists [name, type, cte] (or bare names): only the names are needed here -#}
{%- set measures = [] %}
{%- for m in area_profile_measures() %}{% do measures.append(m if m is string else m[0]) %}{% endfor %}
{%- set levels = [
    ('subdistrict', 'mart_area_profile', 'subdistrict_code'),
    ('district', 'mart_district_profile', 'district_code'),
    ('province', 'mart_province_profile', 'province_code'),
] %}

with observations as (
    {% for level, model, key in levels %}
    select '{{ level }}' as area_level, {{ key }} as area_code, fiscal_year, measure, value
    from (
        unpivot (
            select {{ key }}, fiscal_year,
                   {% for m in measures %}cast({{ m }} as double) as {{ m }}{{ "," if not loop.last }}{% endfor %}
            from {{ ref(model) }}
        )
        on {{ measures | join(', ') }}
        into name measure value value
    )
    union all
    {% endfor %}
    select 'province', area_code, fiscal_year, 'kpi_' || kpi_id, cast(actual as double)
    from {{ ref('mart_kpi') }}
    where area_level = 'province'
),

active as (
    select *, ln(value) as log_value from observations where value > 0
),

medians as (
    select measure, area_level, fiscal_year, count(*) as n_values, median(value) as median_value,
           median(log_value) as log_median
    from active
    group by all
),

deviations as (
    select active.measure, active.area_level, active.fiscal_year,
           median(abs(active.log_value - medians.log_median)) as log_mad
    from active
    join medians using (measure, area_level, fiscal_year)
    group by all
),

scored as (
    select
        active.*,
        medians.n_values,
        medians.median_value,
        medians.log_median,
        deviations.log_mad,
        0.6745 * (active.log_value - medians.log_median) / deviations.log_mad as robust_z
    from active
    join medians using (measure, area_level, fiscal_year)
    join deviations using (measure, area_level, fiscal_year)
    where medians.n_values >= {{ min_values }} and deviations.log_mad > 0
),

final as (
    select
        scored.measure,
        scored.area_level,
        scored.area_code,
        areas.name_th as area_name_th,
        areas.name_en as area_name_en,
        areas.province_code,
        cast(scored.fiscal_year as integer) as fiscal_year,
        scored.value,
        scored.median_value,
        round(scored.value / nullif(scored.median_value, 0), 4) as times_median,
        scored.robust_z,
        case when scored.robust_z > 0 then 'high' else 'low' end as direction,
        scored.n_values,
        scored.log_median,
        scored.log_mad,
        cast({{ threshold }} as double) as threshold
    from scored
    left join {{ ref('dim_area') }} as areas
      on areas.area_code = scored.area_code and areas.area_level = scored.area_level
    where abs(scored.robust_z) > {{ threshold }}
)

select * from final
order by measure, area_level, fiscal_year, abs(robust_z) desc
