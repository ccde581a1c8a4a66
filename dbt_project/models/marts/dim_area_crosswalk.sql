-- Every abolished code geothai knows, with each current code that took its place. An abolished
-- code whose successor was itself abolished later is followed to today's code.
with recursive abolished as (
    select * from {{ ref('stg_reference__abolished_codes') }}
),

current_codes as (
    select area_code from {{ ref('stg_reference__areas') }}
),

chain(abolished_code, via_code, current_code, depth) as (
    select abolished_code, successor_code, successor_code, 1
    from abolished
    where successor_code is not null
    union all
    select chain.abolished_code, chain.via_code, next.successor_code, chain.depth + 1
    from chain
    join abolished as next on next.abolished_code = chain.current_code
    where next.successor_code is not null and chain.depth < 10
),

resolved as (
    select distinct chain.abolished_code, chain.current_code
    from chain
    join current_codes on current_codes.area_code = chain.current_code
),

final as (
    select distinct
        abolished.abolished_code,
        abolished.area_level,
        abolished.name_th,
        abolished.name_en,
        abolished.parent_code,
        abolished.abolished_on,
        resolved.current_code,
        count(resolved.current_code) over (partition by abolished.abolished_code) as current_code_count,
        abolished.successors_basis,
        abolished.successors_in_force,
        abolished.successors_source,
        resolved.current_code is null as has_no_successor
    from abolished
    left join resolved on resolved.abolished_code = abolished.abolished_code
)

select * from final
