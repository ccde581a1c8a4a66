-- Grain: one row per indicator, fiscal year and province: the parts each indicator's actual is
-- made of (a count in numerator; for percentages also the denominator), summed to any area
-- level in mart_kpi before the percentage is taken, and the source records the figure rests
-- on (`records`: none in the whole country makes the indicator-year 'no data').
{% set kpi_models = ['int_kpi_k1_counted', 'int_kpi_k2_counted', 'int_kpi_k3_counted',
                     'int_kpi_k4_counted', 'int_kpi_k5_counted', 'int_kpi_k6_counted',
                     'int_kpi_k7_counted', 'int_kpi_k8_counted', 'int_kpi_k9_counted',
                     'int_kpi_k10_counted'] %}
{% for model in kpi_models %}
select kpi_id, fiscal_year, province_code, numerator, denominator, records from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
