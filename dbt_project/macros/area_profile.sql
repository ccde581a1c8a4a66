{#- The additive measures of the area profile, in column order, as [name, type, the CTE of
    mart_area_profile it comes from]: the profile and its roll-ups to district, province and
    region are all generated from this list, so a new measure is added here once. -#}
{% macro area_profile_measures() -%}
{{ return([
    ['housing_projects_approved', 'bigint', 'housing'],
    ['housing_households_planned', 'bigint', 'housing'],
    ['housing_loan_approved', 'double', 'housing'],
    ['housing_infrastructure_budget', 'double', 'housing'],
    ['housing_households_moved_in', 'bigint', 'households'],
    ['welfare_funds_reporting', 'bigint', 'welfare'],
    ['welfare_funds_established', 'bigint', 'welfare_established'],
    ['welfare_fund_members', 'bigint', 'welfare'],
    ['welfare_fund_balance', 'double', 'welfare'],
    ['welfare_contributions', 'double', 'welfare'],
    ['welfare_benefits_paid', 'double', 'welfare'],
    ['welfare_members_joined', 'bigint', 'members_joined'],
    ['savings_groups_reporting', 'bigint', 'savings'],
    ['savings_group_members', 'bigint', 'savings'],
    ['savings_balance', 'double', 'savings'],
    ['loans_contracted', 'bigint', 'loans'],
    ['loan_principal_contracted', 'double', 'loans'],
    ['loans_on_book', 'bigint', 'loan_book'],
    ['loan_outstanding_principal', 'double', 'loan_book'],
    ['loan_par30_principal', 'double', 'loan_book'],
    ['loan_par90_principal', 'double', 'loan_book'],
    ['disaster_events', 'bigint', 'disasters'],
    ['disaster_events_with_community_plan', 'bigint', 'disasters'],
    ['disaster_events_with_early_warning', 'bigint', 'disasters'],
    ['disaster_affected_households', 'bigint', 'disasters'],
    ['disaster_damaged_houses', 'bigint', 'disasters'],
    ['disaster_relief_budget', 'double', 'disasters'],
    ['environment_sites_established', 'bigint', 'sites'],
    ['environment_site_area_rai', 'double', 'sites'],
    ['environment_households_involved', 'bigint', 'sites'],
    ['councils_registered', 'bigint', 'councils'],
    ['councils_registered_to_date', 'bigint', 'councils'],
    ['councils_assessed', 'bigint', 'assessments'],
    ['councils_quality_passed', 'bigint', 'assessments'],
    ['tambon_plans_self_analysis_and_plan', 'bigint', 'plans'],
    ['tambon_plans_to_date', 'bigint', 'plans'],
    ['leader_trainings', 'bigint', 'training'],
    ['new_leaders', 'bigint', 'training'],
    ['training_participants', 'bigint', 'training'],
    ['joint_area_records', 'bigint', 'joint'],
    ['joint_area_records_meeting_k10', 'bigint', 'joint'],
    ['issues_active', 'bigint', 'issues'],
    ['tambons_revitalised_to_date', 'bigint', 'revitalised']
]) }}
{%- endmacro %}

{#- sum() of a measure in a roll-up, kept at the measure's type (DuckDB widens bigint sums to
    hugeint, which BI drivers read badly). -#}
{% macro area_profile_sums(prefix='') -%}
{%- for name, type, cte in area_profile_measures() %}
        cast(sum({{ prefix }}{{ name }}) as {{ type }}) as {{ name }}{{ "," if not loop.last }}
{%- endfor %}
{%- endmacro %}

{#- The ratios, computed after summing (never averaged): portfolio at risk over 30 and 90 days
    as a percent of the outstanding principal. -#}
{% macro area_profile_ratios() -%}
round(100 * loan_par30_principal / nullif(loan_outstanding_principal, 0), 2) as loan_par30_pct,
        round(100 * loan_par90_principal / nullif(loan_outstanding_principal, 0), 2) as loan_par90_pct
{%- endmacro %}
