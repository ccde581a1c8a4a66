"""Plausibility in the schemas, through the real readers and the real load on hand-made files:
a number that is infinite, overflows its type or lies outside its column's bounds, a date outside
its column's window, a value holding a control character, an invalid polygon and a point far
from the subdistrict its code names are each one quarantined row naming its row, column and
reason, and the good rows beside them load."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from pathlib import Path

import duckdb
import pytest
import shapely

import schemas
from ingestion import areas
from ingestion.load import load_table
from orchestration.settings import BOUNDARIES_DIR
from schemas import base

KEY = b"test-key"
BOUNDARIES = BOUNDARIES_DIR / "subdistricts.geojson"
# Validated as on this day, so that the windows' "after the run's date" is fixed.
DAY = dt.date(2026, 6, 15)


def load(root: Path, name: str):
    source, table = name.split("/")
    with base.as_of(DAY):
        return load_table(schemas.TABLES[(source, table)], root / "sources", root / "lake", KEY,
                          BOUNDARIES)


def write(root: Path, rel: str, data: str | bytes, encoding: str = "utf-8") -> None:
    path = root / "sources" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def rows(root: Path, layer: str, name: str) -> list[dict]:
    cur = duckdb.connect().execute(
        f"select * from read_parquet('{root / 'lake' / layer / name / 'data.parquet'}') "
        "order by _source_row")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def quarantined(root: Path, name: str) -> dict[int, dict]:
    return {r["_source_row"]: r for r in rows(root, "quarantine", name)}


def event(**values) -> dict:
    """A clean disaster event (a point in Suthep, Chiang Mai, unless given), with `values`."""
    return {"event_id": "DS-1", "hazard": "flood", "started_at": "2013-10-05T08:30:00+07:00",
            "ended_at": "2013-10-09T08:30:00+07:00", "lat": 18.79819, "lon": 98.890874,
            "affected_households": 10, "damaged_houses": 1, "community_plan": True,
            "early_warning": False, "relief_budget": 1000, **values}


def ndjson(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# -- numbers ------------------------------------------------------------------------------------

LOAN_HEADER = ("loan_no,borrower_code,borrower_name,borrower_type,subdistrict_code,purpose,"
               "contract_date,principal,annual_interest_rate,term_months,status\r\n")


def _loan(no: str, principal: str = "150000", rate: str = "4.5", term: str = "60") -> str:
    return f"{no},ORG1,องค์กรชุมชนบ้านนา,องค์กรชุมชน,500108,อาชีพ,01/02/2556,\"{principal}\",{rate},{term},ปกติ\r\n"


def test_infinite_overflowing_and_implausible_numbers_are_one_row_each(tmp_path):
    write(tmp_path, "finance/loans.csv", LOAN_HEADER
          + _loan("LN-1")                                   # line 2: good
          + _loan("LN-2", principal="9" * 309)              # line 3: inf as a float
          + _loan("LN-3", term="1" * 20)                    # line 4: overflows Int64
          + _loan("LN-4", principal="25,000,000,000")       # line 5: above the bound
          + _loan("LN-5", term="0")                         # line 6: a loan of no months
          + _loan("LN-6", principal="-5000")                # line 7: negative (its own reason)
          + _loan("LN-7", rate="350")                       # line 8: impossible rate (its own)
          + _loan("LN-8", principal="๑,๒๐๐,๐๐๐", term="600"),  # line 9: good, at the bound
          encoding="cp874")
    rec = load(tmp_path, "finance/loans")
    assert (rec.rows_read, rec.valid, rec.quarantined) == (8, 2, 6)
    q = quarantined(tmp_path, "finance/loans")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        3: ("number_out_of_range", "principal"),
        4: ("number_out_of_range", "term_months"),
        5: ("number_out_of_range", "principal"),
        6: ("number_out_of_range", "term_months"),
        7: ("amount_negative", "principal"),
        8: ("amount_impossible", "annual_interest_rate")}
    assert q[4]["message"].startswith("finance/loans.csv row 4 (table finance/loans): column "
                                      "term_months = \"11111111111111111111\": term_months must be "
                                      "a finite number from 1 to 600")
    assert "from 0 to 10,000,000,000" in q[5]["message"]
    assert json.loads(q[3]["values"]) == ["9" * 309]
    valid = rows(tmp_path, "validated", "finance/loans")
    assert [(r["loan_no"], r["principal"], r["term_months"]) for r in valid] == [
        ("LN-1", 150000.0, 60), ("LN-8", 1200000.0, 600)]
    assert rec.reasons == {"amount_impossible": 1, "amount_negative": 1, "number_out_of_range": 4}


def test_coordinates_out_of_any_range_but_swapped_ones_are_repaired(tmp_path):
    inside = _inside("500108")
    write(tmp_path, "disaster/events.ndjson", ndjson([
        event(lat=inside.y, lon=inside.x, subdistrict_code="500108"),
        event(event_id="DS-2", lat=inside.x, lon=inside.y, subdistrict_code="500108"),   # swapped
        event(event_id="DS-3", lat=1e6, subdistrict_code="500108"),
        event(event_id="DS-4", affected_households=int("1" * 20), subdistrict_code="500108")]))
    rec = load(tmp_path, "disaster/events")
    assert (rec.valid, rec.quarantined) == (2, 2)
    q = quarantined(tmp_path, "disaster/events")
    assert q[3]["reason_codes"].split(";")[0] == "number_out_of_range" and q[3]["columns"].startswith("lat")
    assert (q[4]["reason_codes"], q[4]["columns"]) == ("number_out_of_range", "affected_households")
    valid = rows(tmp_path, "validated", "disaster/events")
    assert [(r["event_id"], r["_repairs"]) for r in valid] == [("DS-1", ""), ("DS-2", "lat_lon_swapped")]


# -- dates --------------------------------------------------------------------------------------

def test_dates_outside_their_window_are_quarantined_with_the_window(tmp_path):
    write(tmp_path, "organization/councils.csv",
          "council_code,subdistrict_code,registered_date,status\r\n"
          "CC1,500108,05/01/2556,ดำเนินการ\r\n"          # 2: good
          "CC2,500108,05/01/2600,ดำเนินการ\r\n"          # 3: BE 2600 = 2057
          "CC3,500108,01/01/1900,ดำเนินการ\r\n"          # 4: before UCDO (1992)
          "CC4,500108,14/07/2026,ดำเนินการ\r\n"          # 5: 29 days after the run: within a month
          "CC5,500108,01/09/2569,ดำเนินการ\r\n"          # 6: 78 days after: the future
          "CC6,500108,01/01/2535,ดำเนินการ\r\n", encoding="utf-8-sig")   # 7: the first day
    rec = load(tmp_path, "organization/councils")
    q = quarantined(tmp_path, "organization/councils")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        3: ("date_out_of_range", "registered_date"), 4: ("date_out_of_range", "registered_date"),
        6: ("date_out_of_range", "registered_date")}
    assert ("registered_date must fall from 1992-01-01 to 2026-07-16, 31 days after the run's "
            "date 2026-06-15") in q[3]["message"]
    assert [r["council_code"] for r in rows(tmp_path, "validated", "organization/councils")] == [
        "CC1", "CC4", "CC6"]
    assert rec.reasons == {"date_out_of_range": 3}


def test_the_window_moves_with_the_run_date():
    import pandas as pd

    spec = schemas.TABLES[("organization", "councils")]
    assert spec.text is spec.text                # built once a day
    value = pd.Series(["01/09/2569"], dtype="str")   # 1 September 2026
    for day, ok in ((dt.date(2026, 6, 15), False), (dt.date(2026, 8, 15), True)):
        with base.as_of(day):
            check = next(c for c in spec.text.columns["registered_date"].checks
                         if c.name == "date_out_of_range")
            assert bool(check(value).check_output.all()) is ok, day
            assert f"the run's date {day.isoformat()}" in check.error


def test_years_fiscal_years_and_timestamps_have_their_windows(tmp_path):
    write(tmp_path, "welfare/members/50.csv",
          "member_id,fund_code,citizen_id,gender,birth_year,joined_date,status\n"
          "M1,WF1,,ช,2443,05/01/2550,active\n"          # 2: born 1900: the first year allowed
          "M2,WF1,,ญ,2442,05/01/2550,active\n"          # 3: born 1899
          "M3,WF1,,ญ,2570,05/01/2550,active\n"          # 4: born next year
          "M4,WF1,,ช,1957,05/01/2492,active\n"          # 5: CE birth year; joined 1949
          "M5,WF1,,ช,2500,05/01/2493,active\n")         # 6: joined 1950: allowed
    import openpyxl  # noqa: F401  (the funds workbook is the members' parent)
    _funds_workbook(tmp_path, ["WF1"])
    load(tmp_path, "welfare/funds")        # a child is judged against its parent's load
    load(tmp_path, "welfare/members")
    q = quarantined(tmp_path, "welfare/members")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        3: ("date_out_of_range", "birth_year"), 4: ("date_out_of_range", "birth_year"),
        5: ("date_out_of_range", "joined_date")}
    assert "from BE 2443 to BE 2569 (the year of the run's date 2026-06-15)" in q[3]["message"]
    assert [r["member_id"] for r in rows(tmp_path, "validated", "welfare/members")] == ["M1", "M5"]

    write(tmp_path, "organization/tambon_plans.csv",
          "subdistrict_code,fiscal_year,has_self_analysis_data,has_development_plan,plan_linked_to_province\r\n"
          "500108,2570,Y,Y,N\r\n"           # 2: next fiscal year's plan (FY2569 runs to 30/09/2026)
          "500108,2571,Y,Y,N\r\n"           # 3: the one after
          "500108,2534,Y,Y,N\r\n"           # 4: before UCDO
          "500108,25690,Y,Y,N\r\n"          # 5: a digit typed twice
          "500108,12345678901234567890,Y,Y,N\r\n", encoding="utf-8-sig")   # 6: no year at all
    load(tmp_path, "organization/tambon_plans")
    q = quarantined(tmp_path, "organization/tambon_plans")
    assert {line: r["reason_codes"] for line, r in q.items()} == {
        3: "date_out_of_range", 4: "date_out_of_range", 5: "date_out_of_range", 6: "date_unparseable"}
    assert "from FY2535 to FY2570" in q[3]["message"]

    stamps = ["2026-06-16T23:59:00+07:00", "2026-06-17T00:30:00+07:00", "2600-01-01T00:00:00+07:00",
              "1991-12-31T23:00:00+07:00"]
    write(tmp_path, "disaster/events.ndjson", ndjson([
        event(event_id=f"DS-{i}", started_at=s, ended_at=None) for i, s in enumerate(stamps, start=1)]))
    load(tmp_path, "disaster/events")
    q = quarantined(tmp_path, "disaster/events")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        2: ("date_out_of_range", "started_at"), 3: ("date_out_of_range", "started_at"),
        4: ("date_out_of_range", "started_at")}


def _funds_workbook(root: Path, codes: list[str]) -> None:
    from openpyxl import Workbook

    import schemas.welfare as w
    wb = Workbook()
    ws = wb.active
    ws.title = "ภาคเหนือ"
    ws.append(["กองทุนสวัสดิการชุมชน ปีงบประมาณ 2556"])
    ws.append([])
    ws.append([c.source_name for c in w.funds.columns])
    for code in codes:
        ws.append([code, "กองทุน", "สุเทพ", "เมืองเชียงใหม่", "เชียงใหม่", "01/01/2550", 10] + [0] * 11)
    path = root / "sources" / "welfare" / "funds_FY2556.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


# -- control characters -------------------------------------------------------------------------

def test_control_characters_in_text_are_quarantined_and_line_breaks_are_spaces(tmp_path):
    path = tmp_path / "sources" / "housing" / "baan_mankong.sqlite"
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    con.execute("create table projects (project_code, project_name, community_name, province, "
                "district, subdistrict, subdistrict_code, approved_date, households_planned, "
                "households_completed, land_tenure, infrastructure_budget, housing_loan, status, "
                "updated_at)")
    con.execute("create table households (household_id, project_code, head_citizen_id, head_name, "
                "members, monthly_income, loan_amount, moved_in_date)")
    project = ["BM-1", "โครงการบ้านมั่นคง", "ชุมชน", "เชียงใหม่", "เมืองเชียงใหม่", "สุเทพ",
               "500108", "05/01/2556", 10, 5, "อื่นๆ", 100000, 0, "แล้วเสร็จ",
               "2013-10-05T08:30:00+07:00"]
    con.executemany("insert into projects values (" + ",".join("?" * 15) + ")", [
        project,
        ["BM-2", "บ้าน\x00มั่นคง", *project[2:]],
        ["BM-3", "โครงการ", "ชุมชน\x1bริมคลอง", *project[3:]],
        ["BM-4", "โครงการ", "ชุมชนริมคลอง\r\nซอย 5\tหมู่ 2", *project[3:]],
        ["BM-5", "โครงการ\x85", *project[2:]],
    ])
    con.executemany("insert into households values (?,?,?,?,?,?,?,?)", [
        ["H1", "BM-1", "1234567890121", "นายสมชาย ใจดี", 3, 9000, 150000, "05/01/2557"],
        ["H2", "BM-1", "1234567890121", "นายสม\x00ชาย ใจดี", 3, 9000, 150000, "05/01/2557"],
        ["H3", "BM-1", "1234567890121", "นายสมชาย ใจดี", 300, 9000, 150000, "05/01/2557"],
    ])
    con.commit()
    con.close()

    load(tmp_path, "housing/projects")
    q = quarantined(tmp_path, "housing/projects")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        2: ("text_control_character", "project_name"),
        3: ("text_control_character", "community_name"),
        5: ("text_control_character", "project_name")}
    assert "holds a control character" in q[2]["message"]
    valid = rows(tmp_path, "validated", "housing/projects")
    assert [(r["project_code"], r["community_name"]) for r in valid] == [
        ("BM-1", "ชุมชน"), ("BM-4", "ชุมชนริมคลอง ซอย 5 หมู่ 2")]
    assert not any("\x00" in str(v) for r in valid for v in r.values())

    load(tmp_path, "housing/households")
    q = quarantined(tmp_path, "housing/households")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        2: ("text_control_character", "head_name"), 3: ("number_out_of_range", "members")}
    # the name is personal: the quarantine holds its pseudonym, never the name
    assert "สมชาย" not in q[2]["values"] + q[2]["message"] + q[2]["original_row"]
    assert len(json.loads(q[2]["values"])[0]) == 64


# -- geometry and points ------------------------------------------------------------------------

def _inside(code: str):
    r = areas.resolver(BOUNDARIES)
    return r.polygons[r.polygons_of[code][0]].representative_point()


def _square(x: float, y: float, d: float = 0.001) -> list:
    return [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]


def _sites(features: list[tuple[str, str | None, dict]]) -> str:
    out = []
    for site_code, code, geometry in features:
        props = {"site_code": site_code, "kind": "ป่าชุมชน", "name": "ป่าชุมชนบ้านนา", "area_rai": 10,
                 "households_involved": 20, "established_year": 2550}
        if code:
            props["subdistrict_code"] = code
        out.append({"type": "Feature", "properties": props, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "features": out}, ensure_ascii=False)


def test_invalid_polygons_are_made_valid_or_quarantined(tmp_path):
    p = _inside("500108")
    x, y, d = p.x, p.y, 0.001
    bow_tie = [[x - d, y - d], [x + d, y + d], [x + d, y - d], [x - d, y + d], [x - d, y - d]]
    flat = [[x - d, y], [x, y], [x + d, y], [x - d, y]]                  # no area at all
    write(tmp_path, "environment/sites.geojson", _sites([
        ("ENV-1", "500108", {"type": "Polygon", "coordinates": [_square(x, y)]}),
        ("ENV-2", "500108", {"type": "Polygon", "coordinates": [bow_tie]}),
        ("ENV-3", "500108", {"type": "Polygon", "coordinates": [flat]}),
    ]))
    rec = load(tmp_path, "environment/sites")
    q = quarantined(tmp_path, "environment/sites")
    assert list(q) == [3]
    assert (q[3]["reason_codes"], q[3]["columns"]) == ("geometry_invalid", "geometry")
    assert "Self-intersection" in q[3]["message"] or "Too few points" in q[3]["message"]
    valid = rows(tmp_path, "validated", "environment/sites")
    assert [(r["site_code"], r["_repairs"], r["geometry_type"]) for r in valid] == [
        ("ENV-1", "", "Polygon"), ("ENV-2", "geometry_made_valid", "MultiPolygon")]
    repaired = shapely.from_wkt(valid[1]["geometry_wkt"])
    assert repaired.is_valid and math.isclose(repaired.area, 2 * d * d, rel_tol=1e-3)
    assert rec.repairs == {"geometry_made_valid": 1}


def test_a_point_far_from_its_code_is_quarantined_near_ones_and_unchecked_ones_kept(tmp_path):
    r = areas.resolver(BOUNDARIES)
    suthep = r.polygons[r.polygons_of["500108"][0]]
    inside = suthep.representative_point()
    west = suthep.bounds[0]
    near = (west - 0.01, inside.y)         # about 1 km outside Suthep, in a neighbour
    far = (west - 0.05, inside.y)          # about 5 km outside
    # a point in the old polygon of Bang Na (104701, split into 104702 and 104703, which have none)
    bang_na = r.polygons[list(r.polygon_codes).index("104701")].representative_point()
    write(tmp_path, "disaster/events.ndjson", ndjson([
        event(event_id="DS-1", lon=inside.x, lat=inside.y, subdistrict_code="500108"),
        event(event_id="DS-2", lon=near[0], lat=near[1], subdistrict_code="500108"),
        event(event_id="DS-3", lon=far[0], lat=far[1], subdistrict_code="500108"),
        event(event_id="DS-4", lon=inside.x, lat=inside.y, subdistrict_code="100101"),
        event(event_id="DS-5", lon=bang_na.x, lat=bang_na.y, subdistrict_code="104702"),
        event(event_id="DS-6", lon=far[0], lat=far[1]),                          # no code
        event(event_id="DS-7", lon=inside.y, lat=inside.x, subdistrict_code="500108")]))  # swapped
    rec = load(tmp_path, "disaster/events")
    q = quarantined(tmp_path, "disaster/events")
    assert {line: (r["reason_codes"], r["columns"]) for line, r in q.items()} == {
        3: ("area_point_mismatch", "subdistrict_code"), 4: ("area_point_mismatch", "subdistrict_code")}
    assert json.loads(q[3]["values"]) == ["500108"]
    message = q[3]["message"]
    assert "lies in subdistrict 501510" in message and "from subdistrict 500108 สุเทพ (Suthep)" in message
    assert "more than the 2 km allowed" in message
    distance = float(message.split(" km from")[0].rsplit(", ", 1)[1])
    assert 4.5 < distance < 6
    assert "lies in subdistrict 500108 สุเทพ (Suthep)" in q[4]["message"] and "100101" in q[4]["message"]
    valid = {r["event_id"]: r for r in rows(tmp_path, "validated", "disaster/events")}
    assert {k: (v["subdistrict_code"], v["area_resolution"]) for k, v in valid.items()} == {
        "DS-1": ("500108", "given"), "DS-2": ("500108", "given_point_nearby"),
        "DS-5": ("104702", "given_point_unchecked"), "DS-6": ("501510", "point_in_polygon"),
        "DS-7": ("500108", "given")}
    assert valid["DS-7"]["_repairs"] == "lat_lon_swapped"
    assert rec.area_resolution == {"given": 2, "given_point_nearby": 1, "given_point_unchecked": 1,
                                   "point_in_polygon": 1}

    # a site's point (inside its polygon) is checked the same way
    write(tmp_path, "environment/sites.geojson", _sites([
        ("ENV-1", "500108", {"type": "Polygon", "coordinates": [_square(*far)]}),
        ("ENV-2", "500108", {"type": "Point", "coordinates": list(near)}),
    ]))
    load(tmp_path, "environment/sites")
    q = quarantined(tmp_path, "environment/sites")
    assert [(line, r["reason_codes"]) for line, r in q.items()] == [(1, "area_point_mismatch")]
    assert [(r["site_code"], r["area_resolution"]) for r in rows(tmp_path, "validated", "environment/sites")] \
        == [("ENV-2", "given_point_nearby")]


@pytest.mark.parametrize("code", ["500108"])
def test_point_distance_is_zero_inside_and_grows_outside(code):
    r = areas.resolver(BOUNDARIES)
    p = _inside(code)
    assert r.point_distance_km(code, p.x, p.y) == 0
    west = r.polygons[r.polygons_of[code][0]].bounds[0]
    # 0.01 degree of longitude at 18.8 N is about 1.05 km
    assert 0.9 < r.point_distance_km(code, west - 0.01, p.y) < 1.2
    assert r.point_distance_km("104702", p.x, p.y) is None
