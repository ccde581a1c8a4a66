{{ config(contract={'enforced': true}) }}

-- "The area as the starting point": one row per current subdistrict and fiscal year, with every
-- issue's measures side by side (0 where nothing happened, so gaps show). The years run from
-- the first to the last fiscal year with any recorded activity.
--
-- Flows count what happened in the year (projects approved, funds established, events...);
-- `*_to_date` measures and the loan book are stocks at the end of the year (30 September).
with subdistricts as (
    select * from {{ ref('dim_area') }} where area_level = 'subdistrict'
),

activity as (
    select * from {{ ref('int_subdistrict_issue_activity_unioned') }}
),

bounds as (
    select min(fiscal_year) as first_year, max(fiscal_year) as last_year
    from (
        select fiscal_year from activity
        union all select moved_in_fiscal_year from {{ ref('fct_housing_households') }}
        union all select fiscal_year from {{ ref('fct_welfare_fund_years') }}
        union all select contract_fiscal_year from {{ ref('fct_loans') }}
        union all select registered_fiscal_year from {{ ref('fct_councils') }}
        union all select fiscal_year from {{ ref('fct_council_assessments') }}
        union all select fiscal_year from {{ ref('fct_tambon_plans') }}
        union all select fiscal_year from {{ ref('fct_leader_training') }}
        union all select fiscal_year from {{ ref('fct_joint_areas') }}
    )
),

years as (
    select fiscal_year from {{ ref('dim_fiscal_year') }}, bounds
    where fiscal_year between bounds.first_year and bounds.last_year
),

grid as (
    select subdistricts.area_code as subdistrict_code, years.fiscal_year
    from subdistricts cross join years
),

housing as (
    select subdistrict_code, approved_fiscal_year as fiscal_year,
           count(*) as housing_projects_approved,
           sum(households_planned) as housing_households_planned,
           sum(housing_loan) as housing_loan_approved,
           sum(infrastructure_budget) as housing_infrastructure_budget
    from {{ ref('fct_housing_projects') }}
    group by all
),

households as (
    select subdistrict_code, moved_in_fiscal_year as fiscal_year, count(*) as housing_households_moved_in
    from {{ ref('fct_housing_households') }}
    where moved_in_date is not null
    group by all
),

welfare as (
    select subdistrict_code, fiscal_year,
           count(*) as welfare_funds_reporting,
           sum(members) as welfare_fund_members,
           sum(fund_balance) as welfare_fund_balance,
           sum(contrib_total) as welfare_contributions,
           sum(benefits_total) as welfare_benefits_paid
    from {{ ref('fct_welfare_fund_years') }}
    group by all
),

members_joined as (
    select subdistrict_code, joined_fiscal_year as fiscal_year, sum(members) as welfare_members_joined
    from {{ ref('fct_welfare_members') }}
    group by all
),

savings as (
    select subdistrict_code, report_fiscal_year as fiscal_year,
           count(*) as savings_groups_reporting,
           sum(members) as savings_group_members,
           sum(savings_balance) as savings_balance
    from {{ ref('fct_savings_groups') }}
    group by all
),

loans as (
    select subdistrict_code, contract_fiscal_year as fiscal_year,
           count(*) as loans_contracted, sum(principal) as loan_principal_contracted
    from {{ ref('fct_loans') }}
    group by all
),

loan_book as (
    select subdistrict_code, fiscal_year,
           count(*) as loans_on_book,
           sum(outstanding_principal) as loan_outstanding_principal,
           sum(outstanding_principal) filter (where is_par30) as loan_par30_principal,
           sum(outstanding_principal) filter (where is_par90) as loan_par90_principal
    from {{ ref('fct_loan_arrears') }}
    group by all
),

disasters as (
    select subdistrict_code, fiscal_year,
           count(*) as disaster_events,
           count(*) filter (where has_community_plan) as disaster_events_with_community_plan,
           count(*) filter (where has_early_warning) as disaster_events_with_early_warning,
           sum(affected_households) as disaster_affected_households,
           sum(damaged_houses) as disaster_damaged_houses,
           sum(relief_budget) as disaster_relief_budget
    from {{ ref('fct_disaster_events') }}
    group by all
),

sites as (
    select subdistrict_code, established_fiscal_year as fiscal_year,
           count(*) as environment_sites_established,
           sum(area_rai) as environment_site_area_rai,
           sum(households_involved) as environment_households_involved
    from {{ ref('fct_environment_sites') }}
    group by all
),

councils as (
    select grid.subdistrict_code, grid.fiscal_year,
           count(*) filter (where fct.registered_fiscal_year = grid.fiscal_year) as councils_registered,
           count(*) as councils_registered_to_date
    from grid
    join {{ ref('fct_councils') }} as fct
      on fct.subdistrict_code = grid.subdistrict_code and fct.registered_fiscal_year <= grid.fiscal_year
    group by all
),

assessments as (
    select subdistrict_code, fiscal_year,
           count(distinct council_code) as councils_assessed,
           count(distinct council_code) filter (where quality_passed) as councils_quality_passed
    from {{ ref('fct_council_assessments') }}
    group by all
),

plans as (
    select grid.subdistrict_code, grid.fiscal_year,
           max(case when fct.fiscal_year = grid.fiscal_year and fct.meets_k3 then 1 else 0 end) as tambon_plans_self_analysis_and_plan,
           max(case when fct.meets_k3 then 1 else 0 end) as tambon_plans_to_date
    from grid
    join {{ ref('fct_tambon_plans') }} as fct
      on fct.subdistrict_code = grid.subdistrict_code and fct.fiscal_year <= grid.fiscal_year
    group by all
),

training as (
    select subdistrict_code, fiscal_year,
           count(*) as leader_trainings,
           sum(new_leaders) as new_leaders,
           sum(total_participants) as training_participants
    from {{ ref('fct_leader_training') }}
    group by all
),

joint as (
    select subdistrict_code, fiscal_year,
           count(*) as joint_area_records,
           count(*) filter (where meets_k10) as joint_area_records_meeting_k10
    from {{ ref('fct_joint_areas') }}
    where area_level = 'subdistrict'
    group by all
),

issues as (
    select subdistrict_code, fiscal_year, count(distinct issue) as issues_active
    from activity
    group by all
),

revitalised as (
    select subdistrict_code, first_fiscal_year from {{ ref('int_subdistricts_revitalised') }}
),

welfare_established as (
    select subdistrict_code, fiscal_year, activities as welfare_funds_established
    from activity where issue = 'welfare'
),

final as (
    select
        grid.subdistrict_code,
        cast(grid.fiscal_year as integer) as fiscal_year,
        subdistricts.name_th as subdistrict_name_th,
        subdistricts.name_en as subdistrict_name_en,
        subdistricts.district_code,
        subdistricts.district_name_th,
        subdistricts.district_name_en,
        subdistricts.province_code,
        subdistricts.province_name_th,
        subdistricts.province_name_en,
        subdistricts.region_4_code,
        subdistricts.region_6_code,
        subdistricts.has_geometry,
        {%- for name, type, cte in area_profile_measures() %}
        {%- if name == 'tambons_revitalised_to_date' %}
        cast(case when revitalised.first_fiscal_year <= grid.fiscal_year then 1 else 0 end as bigint) as {{ name }}{{ "," if not loop.last }}
        {%- else %}
        cast(coalesce({{ cte }}.{{ name }}, 0) as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from grid
    join subdistricts on subdistricts.area_code = grid.subdistrict_code
    left join housing using (subdistrict_code, fiscal_year)
    left join households using (subdistrict_code, fiscal_year)
    left join welfare using (subdistrict_code, fiscal_year)
    left join welfare_established using (subdistrict_code, fiscal_year)
    left join members_joined using (subdistrict_code, fiscal_year)
    left join savings using (subdistrict_code, fiscal_year)
    left join loans using (subdistrict_code, fiscal_year)
    left join loan_book using (subdistrict_code, fiscal_year)
    left join disasters using (subdistrict_code, fiscal_year)
    left join sites using (subdistrict_code, fiscal_year)
    left join councils using (subdistrict_code, fiscal_year)
    left join assessments using (subdistrict_code, fiscal_year)
    left join plans using (subdistrict_code, fiscal_year)
    left join training using (subdistrict_code, fiscal_year)
    left join joint using (subdistrict_code, fiscal_year)
    left join issues using (subdistrict_code, fiscal_year)
    left join revitalised on revitalised.subdistrict_code = grid.subdistrict_code
),

with_ratios as (
    select *, {{ area_profile_ratios() }} from final
)

select * from with_ratios
