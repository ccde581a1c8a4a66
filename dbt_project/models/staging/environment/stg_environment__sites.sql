with source as (
    select * from {{ source('environment', 'sites') }}
),

renamed as (
    select
        cast(site_code as varchar) as site_code,
        cast(kind as varchar) as kind_th,
        case cast(kind as varchar)
            when 'ป่าชุมชน' then 'community_forest'
            when 'ป่าชายเลน' then 'mangrove_forest'
            when 'แหล่งน้ำ' then 'water_source'
            when 'ต้นน้ำ' then 'watershed'
            when 'แนวปะการัง' then 'coral_reef'
            when 'พื้นที่ชุ่มน้ำ' then 'wetland'
        end as kind,
        cast(name as varchar) as site_name,
        cast(area_rai as double) as area_rai,
        cast(households_involved as bigint) as households_involved,
        cast(established_year as integer) as established_year,
        cast(established_year_era as varchar) as established_year_era,
        {{ area_columns() }},
        cast(geometry_type as varchar) as geometry_type,
        cast(lon as double) as lon,
        cast(lat as double) as lat,
        cast(geometry_wkt as varchar) as geometry_wkt,
        {{ lineage_columns() }}
    from source
)

select * from renamed
