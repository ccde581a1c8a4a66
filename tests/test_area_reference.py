"""The area reference (issue 2): dim_area, the abolished-code crosswalk and the fiscal years,
built by the real pipeline from geothai and the bundled boundaries."""

from __future__ import annotations

import datetime as dt

import geothai
from geothai.abolished import abolished_areas


def test_code_counts_per_level(warehouse):
    counts = dict(warehouse.execute(
        "select area_level, count(*) from marts.dim_area group by area_level").fetchall())
    assert counts == {"province": 77, "district": 928, "subdistrict": 7436}
    lengths = warehouse.execute("""
        select count(*) from marts.dim_area
        where length(area_code) != case area_level when 'province' then 2
                                                   when 'district' then 4 else 6 end
    """).fetchone()[0]
    assert lengths == 0


def test_every_district_and_subdistrict_has_an_existing_parent(warehouse):
    orphans = warehouse.execute("""
        select child.area_code from marts.dim_area child
        left join marts.dim_area parent on parent.area_code = child.parent_code
        where child.area_level != 'province'
          and (parent.area_code is null
               or parent.area_level != case child.area_level when 'district' then 'province'
                                                             else 'district' end
               or not starts_with(child.area_code, parent.area_code))
    """).fetchall()
    assert orphans == []


def test_thai_and_english_names_match_geothai(warehouse):
    name_th, name_en, province = warehouse.execute("""
        select name_th, name_en, province_name_th from marts.dim_area where area_code = '840503'
    """).fetchone()
    assert (name_th, name_en) == (geothai.subdistrict("840503").name_th, "Ko Tao")
    assert province == "สุราษฎร์ธานี"


def test_every_province_is_in_both_region_groupings(warehouse):
    counts = dict(warehouse.execute("""
        select 'region_4', count(distinct region_4_code) from marts.dim_area where area_level = 'province'
          and region_4_code is not null
        union all
        select 'region_6', count(distinct region_6_code) from marts.dim_area where area_level = 'province'
          and region_6_code is not null
    """).fetchall())
    assert counts == {"region_4": 4, "region_6": 6}
    assert warehouse.execute("""select region_6_name_en from marts.dim_area where area_code = '38'""").fetchone() \
        == ("Northeast",)  # Bueng Kan, split from Nong Khai in 2011


def test_each_abolished_code_maps_to_a_current_one_or_says_it_has_none(warehouse):
    known = {a.code for a in abolished_areas()}
    rows = warehouse.execute("""
        select c.abolished_code, c.current_code, c.has_no_successor, a.area_code is not null
        from marts.dim_area_crosswalk c left join marts.dim_area a on a.area_code = c.current_code
    """).fetchall()
    assert {r[0] for r in rows} == known
    for code, current, none_known, current_exists in rows:
        assert current_exists or (current is None and none_known), code
    bang_na = {r[1] for r in rows if r[0] == "104701"}
    assert bang_na == {"104702", "104703"}


def test_areas_without_a_polygon_are_kept_and_flagged(warehouse):
    missing = {r[0] for r in warehouse.execute(
        "select area_code from marts.dim_area where not has_geometry").fetchall()}
    assert missing == {"100910", "101406", "102602", "103402", "103403", "104402", "104403",
                       "104702", "104703", "105002", "105003", "105004", "105005", "530407"}


def test_fiscal_year_boundaries(warehouse):
    row = warehouse.execute("""
        select fiscal_year_ce, first_day, last_day from marts.dim_fiscal_year where fiscal_year = 2556
    """).fetchone()
    assert row == (2013, dt.date(2012, 10, 1), dt.date(2013, 9, 30))
    years = warehouse.execute("select min(fiscal_year), max(fiscal_year) from marts.dim_fiscal_year").fetchone()
    assert years[0] <= 2550 and years[1] >= 2575
