-- Every subdistrict code a record may carry, mapped to the current subdistrict as of this run:
-- a current code to itself, an abolished code to its one current successor (codes split into
-- several are not guessed: they stay unmapped and fail the facts' tests loudly).
with areas as (
    select * from {{ ref('dim_area') }} where area_level = 'subdistrict'
),

crosswalk as (
    select * from {{ ref('dim_area_crosswalk') }}
    where area_level = 'subdistrict' and current_code_count = 1
),

codes as (
    select area_code as code, area_code as subdistrict_code, 'current' as code_status
    from areas
    union all
    select crosswalk.abolished_code, crosswalk.current_code, 'abolished_successor'
    from crosswalk
    -- a code never both current and abolished, but if geothai ever says so, current wins
    where crosswalk.abolished_code not in (select area_code from areas)
),

final as (
    select
        codes.code,
        codes.subdistrict_code,
        codes.code_status,
        areas.district_code,
        areas.province_code,
        areas.region_4_code,
        areas.region_6_code
    from codes
    join areas on areas.area_code = codes.subdistrict_code
)

select * from final
