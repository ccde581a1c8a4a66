-- Grain: one row per Baan Mankong project (project_code).
with projects as (
    select * from {{ ref('int_housing_projects_conformed') }}
),

households as (
    select
        project_code,
        count(*) as households_registered,
        count(moved_in_date) as households_moved_in
    from {{ ref('int_housing_households_conformed') }}
    group by project_code
),

final as (
    select
        projects.project_code,
        projects.project_name,
        projects.community_name,
        projects.subdistrict_code,
        projects.subdistrict_code_original,
        projects.area_resolution,
        projects.district_code,
        projects.province_code,
        projects.region_4_code,
        projects.region_6_code,
        projects.approved_date,
        projects.approved_date_era,
        projects.approved_fiscal_year,
        projects.status,
        projects.status_th,
        projects.land_tenure,
        projects.land_tenure_th,
        projects.households_planned,
        projects.households_completed,
        coalesce(households.households_registered, 0) as households_registered,
        coalesce(households.households_moved_in, 0) as households_moved_in,
        projects.infrastructure_budget,
        projects.housing_loan,
        projects.updated_at,
        projects._source_file,
        projects._source_row,
        projects._load_id,
        projects._repairs
    from projects
    left join households on households.project_code = projects.project_code
)

select * from final
