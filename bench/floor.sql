-- The floor: the least work that gives the same marts.mart_kpi actuals (country level, FY2555-2559)
-- from the same source files. No validation, no quarantine, no lineage, no orchestration, no
-- publishing: only the repairs and the record choices that change a figure (Thai digits, BE/CE
-- years, duplicates and superseded records, abolished codes, areas from names or points, rows
-- whose area or parent does not exist).
--
-- Run by bench/floor.py, stage by stage (`-- @stage <name>`). `{sources}` and `{utf8}` are
-- replaced by the sources folder and the folder of the Windows-874 CSVs converted to UTF-8
-- (DuckDB reads no cp874 without an extension that cannot be downloaded here). Before stage
-- `kpi`, the runner has registered what SQL cannot read or compute without extensions:
-- raw_projects, raw_households (SQLite), raw_funds (xlsx), raw_sites (GeoJSON, with a point on
-- each geometry), ref_subdistrict, ref_abolished, ref_province (geothai), name_area (geothai's
-- matcher on the distinct name triples) and point_area (point in subdistrict polygon).

-- @stage load
create or replace table raw_members as
    select * from read_csv('{sources}/welfare/members/*.csv', all_varchar = true, header = true);
create or replace table raw_savings_groups as
    select *, row_number() over () as _row from read_csv('{utf8}/savings_groups.csv', all_varchar = true, header = true);
create or replace table raw_loans as
    select * from read_csv('{utf8}/loans.csv', all_varchar = true, header = true);
create or replace table raw_repayments as
    select * from read_csv('{utf8}/repayments.csv', all_varchar = true, header = true);
create or replace table raw_events as
    select *, row_number() over () as _row
    from read_json('{sources}/disaster/events.ndjson', format = 'newline_delimited', ignore_errors = true,
                   columns = {event_id: 'varchar', hazard: 'varchar', started_at: 'varchar',
                              ended_at: 'varchar', lat: 'varchar', lon: 'varchar',
                              subdistrict_code: 'varchar', affected_households: 'varchar',
                              damaged_houses: 'varchar', community_plan: 'varchar',
                              early_warning: 'varchar', relief_budget: 'varchar'});
create or replace table raw_councils as
    select *, row_number() over () as _row from read_csv('{sources}/organization/councils.csv', all_varchar = true, header = true);
create or replace table raw_council_assessments as
    select *, row_number() over () as _row from read_csv('{sources}/organization/council_assessments.csv', all_varchar = true, header = true);
create or replace table raw_tambon_plans as
    select *, row_number() over () as _row from read_csv('{sources}/organization/tambon_plans.csv', all_varchar = true, header = true);
create or replace table raw_province_reports as
    select *, row_number() over () as _row from read_csv('{sources}/organization/province_reports.csv', all_varchar = true, header = true);
create or replace table raw_leader_training as
    select *, row_number() over () as _row from read_csv('{sources}/organization/leader_training.csv', all_varchar = true, header = true);
create or replace table raw_joint_areas as
    select *, row_number() over () as _row from read_csv('{sources}/organization/joint_areas.csv', all_varchar = true, header = true);

-- @stage kpi
create or replace macro clean(x) as nullif(trim(regexp_replace(nfc_normalize(cast(x as varchar)), '\s+', ' ', 'g')), '');
create or replace macro digits(x) as translate(clean(x), '๐๑๒๓๔๕๖๗๘๙', '0123456789');
create or replace macro code(x) as regexp_replace(regexp_replace(digits(x), '[\s-]', '', 'g'), '\.0+$', '');
create or replace macro ce_year(y) as case when y > 2400 then y - 543 when y < 2200 then y end;
create or replace macro num(x) as try_cast(replace(digits(x), ',', '') as double);
create or replace macro be_year(x) as ce_year(try_cast(num(x) as integer)) + 543;
create or replace macro yes(x) as upper(clean(x)) in ('Y', 'YES', 'TRUE', 'T', '1', 'ใช่', 'มี', 'จริง');
-- dd/mm/yyyy in either era, ISO yyyy-mm-dd, or an Excel serial day, from text already through
-- digits() (a macro repeats its argument at each use: callers pass a column, not an expression)
create or replace macro date_t(t) as coalesce(
    list_transform([regexp_extract(t, '^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$', ['d', 'm', 'y'])],
        lambda p: try(make_date(ce_year(try_cast(p.y as integer)), try_cast(p.m as integer), try_cast(p.d as integer))))[1],
    list_transform([regexp_extract(t, '^(\d{4})-(\d{1,2})-(\d{1,2})', ['y', 'm', 'd'])],
        lambda p: try(make_date(ce_year(try_cast(p.y as integer)), try_cast(p.m as integer), try_cast(p.d as integer))))[1],
    case when regexp_full_match(t, '\d{5}(\.0+)?') and try_cast(t as double) between 10000 and 80000
         then cast(date '1899-12-30' + cast(try_cast(t as double) as integer) as date) end);
create or replace macro be_date(x) as list_transform([digits(x)], lambda t: date_t(t))[1];
create or replace macro fy(d) as year(d) + case when month(d) >= 10 then 544 else 543 end;

-- every code a record may carry, to the current subdistrict
create or replace table code_map as
    select code, code as subdistrict_code from ref_subdistrict
    union all
    select code, successor from ref_abolished where code not in (select code from ref_subdistrict);

-- A row whose text is there but reads as nothing, a negative amount, a checksum that fails.
create or replace macro unreadable_date(x) as list_transform([digits(x)], lambda t: t is not null and date_t(t) is null)[1];
create or replace macro negative(x) as coalesce(num(x) < 0, false);
create or replace macro cid_ok(id) as regexp_full_match(id, '\d{13}')
    and (11 - ((ascii(id[1]) - 48) * 13 + (ascii(id[2]) - 48) * 12 + (ascii(id[3]) - 48) * 11 + (ascii(id[4]) - 48) * 10 + (ascii(id[5]) - 48) * 9 + (ascii(id[6]) - 48) * 8 + (ascii(id[7]) - 48) * 7 + (ascii(id[8]) - 48) * 6 + (ascii(id[9]) - 48) * 5 + (ascii(id[10]) - 48) * 4 + (ascii(id[11]) - 48) * 3 + (ascii(id[12]) - 48) * 2) % 11) % 10 = ascii(id[13]) - 48;

-- Each table: the latest record of each key first (a later row, or for projects a later
-- updated_at: the older records are superseded whatever they hold), then the rows whose area,
-- parent or values the pipeline would quarantine are left out.
create or replace table projects as
    select p.*, coalesce(m.subdistrict_code, case when code(p.subdistrict_code) is null then n.code end) as sub,
           fy(be_date(p.approved_date)) as approved_fy
    from (select * from raw_projects
          qualify row_number() over (partition by digits(project_code)
                                     order by try_cast(digits(updated_at) as timestamptz) desc nulls last, _row desc) = 1) p
    left join code_map m on m.code = code(p.subdistrict_code)
    left join name_area n on n.s is not distinct from clean(p.subdistrict)
                         and n.d is not distinct from clean(p.district)
                         and n.p is not distinct from clean(p.province)
    where not unreadable_date(p.approved_date)
      and not (negative(p.infrastructure_budget) or negative(p.housing_loan) or negative(p.households_planned)
               or coalesce(num(p.households_completed) > num(p.households_planned), false));

create or replace table households as
    select *, fy(be_date(moved_in_date)) as moved_in_fy
    from (select * from raw_households qualify row_number() over (partition by digits(household_id) order by _row desc) = 1)
    where clean(project_code) in (select clean(project_code) from raw_projects)
      and list_transform([regexp_replace(digits(head_citizen_id), '[\s-]', '', 'g')], lambda id: id is null or cid_ok(id))[1]
      and not (negative(members) or negative(monthly_income) or negative(loan_amount) or unreadable_date(moved_in_date));

create or replace table funds as
    select f.*, n.code as sub, fy(be_date(f.established_date)) as established_fy
    from (select * from raw_funds where clean(fund_code) != 'รวม'
          qualify row_number() over (partition by digits(fund_code), fiscal_year order by _pos desc) = 1) f
    left join name_area n on n.s is not distinct from clean(f.subdistrict_name)
                         and n.d is not distinct from clean(f.district_name)
                         and n.p is not distinct from clean(f.province_name)
    where not unreadable_date(f.established_date)
      and not (negative(f.fund_balance) or coalesce(num(f.members) = 0 and num(f.fund_balance) > 0, false));

create or replace table savings_groups as
    select g.*, m.subdistrict_code as sub, fy(be_date(g.report_date)) as report_fy
    from (select * from raw_savings_groups qualify row_number() over (partition by digits(group_code) order by _row desc) = 1) g
    join code_map m on m.code = code(g.subdistrict_code)
    where not unreadable_date(g.report_date)
      and not (negative(g.savings_balance) or negative(g.loans_outstanding) or negative(g.members)
               or coalesce(num(g.members) = 0 and num(g.savings_balance) > 0, false));

create or replace table events as
    select e.*, coalesce(m.subdistrict_code, case when code(e.subdistrict_code) is null then pm.subdistrict_code end) as sub,
           try_cast(digits(e.started_at) as timestamptz) as started
    from (select * from raw_events qualify row_number() over (partition by digits(event_id) order by _row desc) = 1) e
    left join code_map m on m.code = code(e.subdistrict_code)
    left join point_area pa on pa.source = 'events' and pa._row = e._row
    left join code_map pm on pm.code = pa.polygon_code
    -- a point must be in Thailand, code or not
    where not coalesce(pa.has_point and pa.polygon_code is null, false)
      and (clean(e.started_at) is null or try_cast(digits(e.started_at) as timestamptz) is not null)
      and not negative(e.relief_budget);

create or replace table sites as
    select s.*, coalesce(m.subdistrict_code, case when code(s.subdistrict_code) is null then pm.subdistrict_code end) as sub
    from (select * from raw_sites qualify row_number() over (partition by digits(site_code) order by _row desc) = 1) s
    left join code_map m on m.code = code(s.subdistrict_code)
    left join point_area pa on pa.source = 'sites' and pa._row = s._row
    left join code_map pm on pm.code = pa.polygon_code
    where not coalesce(pa.has_point and pa.polygon_code is null, false)
      and not negative(s.area_rai);

create or replace table councils as
    select c.*, fy(be_date(c.registered_date)) as registered_fy
    from (select * from raw_councils qualify row_number() over (partition by digits(council_code) order by _row desc) = 1) c
    join code_map m on m.code = code(c.subdistrict_code)
    where not unreadable_date(c.registered_date);

create or replace table assessments as
    select * from (select * from raw_council_assessments
                   qualify row_number() over (partition by digits(council_code), digits(fiscal_year) order by _row desc) = 1)
    where clean(council_code) in (select clean(council_code) from raw_councils)
      and not coalesce(num(score) < 0 or num(score) > 100, false);

create or replace table plans as
    select p.*, m.subdistrict_code as sub
    from (select * from raw_tambon_plans
          qualify row_number() over (partition by digits(subdistrict_code), digits(fiscal_year) order by _row desc) = 1) p
    join code_map m on m.code = code(p.subdistrict_code);

create or replace table province_reports as
    select * from (select * from raw_province_reports
                   qualify row_number() over (partition by digits(province_code), digits(fiscal_year) order by _row desc) = 1)
    where clean(province_code) in (select code from ref_province);

create or replace table leader_training as
    select t.* from (select * from raw_leader_training
                     qualify row_number() over (partition by digits(training_code) order by _row desc) = 1) t
    join code_map m on m.code = code(t.subdistrict_code)
    where not (negative(t.new_leaders) or negative(t.total_participants)
               or coalesce(num(t.new_leaders) > num(t.total_participants), false));

create or replace table joint_areas as
    select * from (select * from raw_joint_areas
                   qualify row_number() over (partition by digits(area_code), digits(fiscal_year) order by _row desc) = 1)
    where clean(area_code) in (select code from ref_province) or code(area_code) in (select code from code_map);

-- the indicators
create or replace table plan_years as select unnest(range(2555, 2560)) as fiscal_year;

create or replace table activity as
    select sub, approved_fy as fiscal_year, 'housing' as issue from projects
    union all
    select sub, established_fy, 'welfare'
    -- each fund on its latest good row (a later row may be a quarantined one)
    from (select * from funds where sub is not null
          qualify row_number() over (partition by digits(fund_code) order by fiscal_year desc, _row) = 1)
    union all
    select sub, report_fy, 'finance' from savings_groups
    union all
    select sub, fy(cast(timezone('Asia/Bangkok', started) as date)), 'disaster'
    from events where yes(community_plan)
    union all
    select sub, be_year(established_year), 'environment' from sites;

create or replace table first_years as
    select 'K1' as kpi_id, sub as item, min(fiscal_year) as first_fy
    from (select sub, fiscal_year from activity where sub is not null and fiscal_year is not null
          group by all having count(distinct issue) >= 2)
    group by all
    union all
    select 'K3', sub, min(be_year(fiscal_year)) from plans
    where yes(has_self_analysis_data) and yes(has_development_plan) group by all
    union all
    select 'K4', clean(province_code), min(be_year(fiscal_year)) from province_reports where yes(has_status_assessment) group by all
    union all
    select 'K5', clean(province_code), min(be_year(fiscal_year)) from province_reports where yes(has_plan_linkage) group by all
    union all
    select 'K6', clean(province_code), min(be_year(fiscal_year)) from province_reports where yes(has_development_report) group by all
    union all
    select 'K7', digits(council_code), registered_fy from councils where registered_fy is not null;

create or replace table kpi_actuals as
    with cumulative as (
        select f.kpi_id, y.fiscal_year, cast(count(*) filter (where f.first_fy <= y.fiscal_year) as double) as actual
        from first_years f cross join plan_years y group by all
    ),
    k2 as (
        select 'K2' as kpi_id, y.fiscal_year, cast(count(h.household_id) as double) as actual
        from plan_years y left join households h on h.moved_in_fy = y.fiscal_year group by all
    ),
    k8 as (
        select 'K8' as kpi_id, y.fiscal_year,
               round(100 * count(distinct digits(a.council_code)) / nullif(any_value(k7.actual), 0), 2) as actual
        from plan_years y
        join cumulative k7 on k7.kpi_id = 'K7' and k7.fiscal_year = y.fiscal_year
        left join assessments a on be_year(a.fiscal_year) = y.fiscal_year and yes(a.quality_passed)
        group by all
    ),
    k9 as (
        select 'K9' as kpi_id, y.fiscal_year, cast(coalesce(sum(num(t.new_leaders)), 0) as double) as actual
        from plan_years y left join leader_training t on be_year(t.fiscal_year) = y.fiscal_year group by all
    ),
    k10 as (
        select 'K10' as kpi_id, y.fiscal_year,
               round(100 * count(*) filter (where yes(j.has_joint_system) and (yes(j.integrated_plan_or_budget)
                   or yes(j.public_policy_driven) or yes(j.concrete_outcome))) / nullif(count(j.area_code), 0), 2) as actual
        from plan_years y left join joint_areas j on be_year(j.fiscal_year) = y.fiscal_year group by all
    )
    select * from cumulative union all select * from k2 union all select * from k8
    union all select * from k9 union all select * from k10;
