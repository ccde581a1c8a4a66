{{ config(materialized='view') }}

-- Events on the current subdistrict and on the fiscal year of the day they started in Thailand.
with events as (
    select * from {{ ref('stg_disaster__events') }}
),

area as (
    select * from {{ ref('int_area_codes_mapped') }}
),

conformed as (
    select
        events.event_id,
        events.hazard,
        events.started_at,
        events.ended_at,
        -- the day in Thailand decides the fiscal year, not the UTC day
        {{ bangkok_date('events.started_at') }} as started_on,
        {{ fiscal_year_be(bangkok_date('events.started_at')) }} as fiscal_year,
        events.lat,
        events.lon,
        {{ conformed_area_columns('events') }},
        events.affected_households,
        events.damaged_houses,
        events.has_community_plan,
        events.has_early_warning,
        events.relief_budget,
        events._source_file,
        events._source_row,
        events._load_id,
        events._repairs
    from events
    left join area on area.code = events.subdistrict_code
)

select * from conformed
