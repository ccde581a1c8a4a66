"""Hand-made source files, good and bad, through the real readers and the real load: a table-level
problem (missing or renamed column, wrong encoding, empty file, unreadable file) stops the load
with a message naming the file, table, row and column and keeps the last good load; a bad line
is quarantined with its reason, and the rest of the file loads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pytest

import schemas
from ingestion.load import load_table, loads_path
from ingestion.readers import SourceError
from orchestration.settings import BOUNDARIES_DIR

KEY = b"test-key"
BOUNDARIES = BOUNDARIES_DIR / "subdistricts.geojson"

COUNCILS = ("council_code,subdistrict_code,registered_date,status\r\n"
            "CC0001,500108,05/01/2556,จดแจ้งแล้ว\r\n"
            "CC0002,๕๐๐๑๐๙,05/01/2013,จดแจ้งแล้ว\r\n"
            "CC0003,100205,29/02/2555,จดแจ้งแล้ว\r\n")
LOANS = ("loan_no,borrower_code,borrower_name,borrower_type,subdistrict_code,purpose,contract_date,"
         "principal,annual_interest_rate,term_months,status\r\n"
         "LN2556-00001,ORG1,องค์กรชุมชนบ้านหนองบัว,องค์กรชุมชน,500108,อาชีพ,01/02/2556,\"1,500,000\",4.5,60,ปกติ\r\n"
         "LN2556-00002,ORG2,กลุ่มออมทรัพย์บ้านนา,กลุ่มออมทรัพย์,500108,ที่ดิน,01/03/2556,200000,350,60,ปกติ\r\n")


def spec(name: str):
    source, table = name.split("/")
    return schemas.TABLES[(source, table)]


def write(root: Path, rel: str, text: str | bytes, encoding: str = "utf-8-sig") -> Path:
    path = root / "sources" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def load(root: Path, name: str):
    return load_table(spec(name), root / "sources", root / "lake", KEY, BOUNDARIES)


def lake_rows(root: Path, layer: str, name: str) -> list[dict]:
    path = root / "lake" / layer / name / "data.parquet"
    con = duckdb.connect()
    cur = con.execute(f"select * from read_parquet('{path}') order by _source_row")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def test_a_good_file_loads_with_lineage_types_and_repairs(tmp_path):
    write(tmp_path, "organization/councils.csv", COUNCILS)
    rec = load(tmp_path, "organization/councils")
    assert (rec.rows_read, rec.valid, rec.quarantined, rec.duplicates) == (3, 3, 0, 0)
    rows = lake_rows(tmp_path, "validated", "organization/councils")
    assert [(r["_source_file"], r["_source_row"]) for r in rows] == [
        ("organization/councils.csv", 2), ("organization/councils.csv", 3), ("organization/councils.csv", 4)]
    assert [str(r["registered_date"]) for r in rows] == ["2013-01-05", "2013-01-05", "2012-02-29"]
    assert [r["registered_date_era"] for r in rows] == ["BE", "CE", "BE"]
    assert [r["subdistrict_code"] for r in rows] == ["500108", "500109", "102901"]
    assert [r["area_resolution"] for r in rows] == ["given", "given", "abolished_successor"]
    assert [r["_repairs"] for r in rows] == ["", "thai_digits;be_ce_year", "area_abolished_successor"]
    assert rows[0]["_load_id"] == rec.load_id and rec.load_id.endswith(rec.files["organization/councils.csv"][:8])


def _kept(tmp_path: Path, name: str, before: bytes, load_id: str) -> None:
    source, table = name.split("/")
    assert (tmp_path / "lake" / "validated" / name / "data.parquet").read_bytes() == before
    assert json.loads(loads_path(tmp_path / "lake", source, table).read_text("utf-8"))["load_id"] == load_id


@pytest.mark.parametrize("bad, where", [
    # a column missing
    ("council_code,subdistrict_code,registered_date\r\nCC0001,500108,05/01/2556\r\n",
     ("organization/councils.csv", "organization/councils", "row 1", "column 'status'")),
    # a column renamed: the message points at the likely culprit
    ("council_code,subdistrict_code,reg_date,status\r\nCC0001,500108,05/01/2556,x\r\n",
     ("organization/councils.csv", "column 'registered_date'", "'reg_date': renamed?", "row 1")),
    # an empty file
    ("", ("organization/councils.csv", "organization/councils", "the file is empty")),
    # a header and nothing else
    ("council_code,subdistrict_code,registered_date,status\r\n",
     ("organization/councils.csv", "no data rows", "row 2")),
    # Windows-874 where UTF-8 is the contract: the first Thai byte is named
    ("council_code,subdistrict_code,registered_date,status\r\nCC0001,500108,05/01/2556,จดแจ้งแล้ว\r\n"
     .encode("cp874"),
     ("organization/councils.csv", "not UTF-8 with BOM", "row 2", "column 'status'")),
    # more than the table's 10 % of the rows gone since the last good load: a truncated
    # export, not news; the message says how to accept it
    ("council_code,subdistrict_code,registered_date,status\r\nCC0001,500108,05/01/2556,จดแจ้งแล้ว\r\n",
     ("organization/councils.csv", "organization/councils", "1 data rows where the last good load",
      "read 3: 67% fewer, more than the 10% the table allows",
      "make run ACCEPT=organization/councils")),
])
def test_table_level_problems_name_file_row_column_and_keep_the_last_load(tmp_path, bad, where):
    name = "organization/councils"
    write(tmp_path, "organization/councils.csv", COUNCILS)
    good = load(tmp_path, name)
    before = (tmp_path / "lake" / "validated" / name / "data.parquet").read_bytes()
    write(tmp_path, "organization/councils.csv", bad)
    with pytest.raises(SourceError) as caught:
        load(tmp_path, name)
    message = str(caught.value)
    for part in where:
        assert part in message, message
    _kept(tmp_path, name, before, good.load_id)


def test_utf8_where_windows_874_is_expected(tmp_path):
    write(tmp_path, "finance/loans.csv", LOANS, encoding="cp874")
    good = load(tmp_path, "finance/loans")
    before = (tmp_path / "lake" / "validated" / "finance/loans" / "data.parquet").read_bytes()
    write(tmp_path, "finance/loans.csv", LOANS, encoding="utf-8")
    with pytest.raises(SourceError, match=r"is UTF-8, not Windows-874.*finance/loans\.csv.*"
                                          r"table finance/loans, row 2, column 'borrower_name'"):
        load(tmp_path, "finance/loans")
    _kept(tmp_path, "finance/loans", before, good.load_id)


def test_a_malformed_line_is_quarantined_and_the_rest_loads(tmp_path):
    text = COUNCILS + "CC0004,500108,05/01/2556,จดแจ้งแล้ว,extra\r\nCC0005,500108\r\n" \
                      "CC0006,500108,31/02/2556,จดแจ้งแล้ว\r\n"
    write(tmp_path, "organization/councils.csv", text)
    rec = load(tmp_path, "organization/councils")
    assert (rec.rows_read, rec.valid, rec.quarantined, rec.duplicates) == (6, 3, 3, 0)
    q = lake_rows(tmp_path, "quarantine", "organization/councils")
    assert [(r["_source_row"], r["reason_codes"], r["columns"]) for r in q] == [
        (5, "row_malformed", "status"), (6, "row_malformed", "registered_date"),
        (7, "date_unparseable", "registered_date")]
    assert q[0]["message"].startswith("organization/councils.csv row 5 (table organization/councils) "
                                      "column 'status': 5 fields where the header has 4")
    assert "CC0004,500108,05/01/2556,จดแจ้งแล้ว,extra" in q[0]["original_row"]
    assert q[2]["message"] == ('organization/councils.csv row 7 (table organization/councils): column '
                               'registered_date = "31/02/2556": a date, year or timestamp that cannot be read')
    assert json.loads(q[2]["values"]) == ["31/02/2556"]
    assert json.loads(q[2]["original_row"])["council_code"] == "CC0006"


def test_row_level_failures_carry_every_reason_and_pseudonymise(tmp_path):
    write(tmp_path, "finance/loans.csv", LOANS, encoding="cp874")
    rec = load(tmp_path, "finance/loans")
    assert (rec.valid, rec.quarantined) == (1, 1)
    v = lake_rows(tmp_path, "validated", "finance/loans")[0]
    assert v["principal"] == 1_500_000.0 and v["_repairs"] == "thousands_separator"
    assert "borrower_name" not in v and len(v["borrower_name_pseudonym"]) == 64
    q = lake_rows(tmp_path, "quarantine", "finance/loans")[0]
    assert (q["reason_codes"], q["columns"], q["row_key"]) == (
        "amount_impossible", "annual_interest_rate", "LN2556-00002")
    assert "กลุ่มออมทรัพย์บ้านนา" not in q["original_row"]     # the borrower's name, pseudonymised


def test_malformed_json_lines_and_unreadable_files(tmp_path):
    line = {"event_id": "DS-1", "hazard": "flood", "started_at": "2013-10-05T08:30:00+07:00",
            "ended_at": "2013-10-09T08:30:00+07:00", "lat": 18.79, "lon": 98.95,
            "affected_households": 10, "damaged_houses": 1, "community_plan": True,
            "early_warning": False, "relief_budget": 1000}
    text = json.dumps(line) + "\n" + json.dumps(line)[:40] + "\n\n" + json.dumps({**line, "event_id": "DS-2"}) + "\n"
    write(tmp_path, "disaster/events.ndjson", text, encoding="utf-8")
    rec = load(tmp_path, "disaster/events")
    assert (rec.rows_read, rec.valid, rec.quarantined) == (3, 2, 1)
    q = lake_rows(tmp_path, "quarantine", "disaster/events")[0]
    assert (q["_source_row"], q["reason_codes"]) == (2, "json_malformed")
    v = lake_rows(tmp_path, "validated", "disaster/events")
    assert [(r["_source_row"], r["subdistrict_code"], r["area_resolution"]) for r in v] == [
        (1, "500108", "point_in_polygon"), (4, "500108", "point_in_polygon")]

    write(tmp_path, "housing/baan_mankong.sqlite", b"this is not a database" * 100)
    with pytest.raises(SourceError, match=r"not a readable SQLite database.*housing/baan_mankong\.sqlite"):
        load(tmp_path, "housing/projects")
    write(tmp_path, "welfare/funds_FY2556.xlsx", b"PK\x03\x04 not really a workbook")
    with pytest.raises(SourceError, match=r"not a readable xlsx workbook.*welfare/funds_FY2556\.xlsx"):
        load(tmp_path, "welfare/funds")


def test_a_renamed_workbook_header_names_sheet_row_and_both_names(tmp_path):
    from openpyxl import Workbook

    import schemas.welfare as w
    headers = [c.source_name for c in w.funds.columns]
    wb = Workbook()
    ws = wb.active
    ws.title = "ภาคเหนือ"
    ws.append(["ข้อมูลกองทุนสวัสดิการชุมชน ปีงบประมาณ 2556"])
    ws.append([])
    ws.append([h if h != "จำนวนสมาชิก" else "สมาชิก" for h in headers])
    ws.append(["WF00001", "กองทุน", "สุเทพ", "เมืองเชียงใหม่", "เชียงใหม่", "01/01/2556", 10] + [0] * 11)
    path = tmp_path / "sources" / "welfare" / "funds_FY2556.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    with pytest.raises(SourceError) as caught:
        load(tmp_path, "welfare/funds")
    assert ("column 'จำนวนสมาชิก (members)' is missing; the file has unexpected column(s) 'สมาชิก': "
            "renamed? (file welfare/funds_FY2556.xlsx[ภาคเหนือ], table welfare/funds, row 3, "
            "column 'จำนวนสมาชิก')") == str(caught.value)


def test_sqlite_rowid_is_the_source_row(tmp_path):
    path = tmp_path / "sources" / "housing" / "baan_mankong.sqlite"
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    cols = [c.name for c in spec("housing/projects").columns]
    con.execute(f"create table projects ({', '.join(cols)})")
    row = ["BM-2556-0001", "โครงการ", "ชุมชน", "กทม.", "เขต บางนา", "แขวงบางนาเหนือ", None,
           "05/01/2556", 100, 90, "ซื้อที่ดิน", "1,000,000", 2000000, "แล้วเสร็จ",
           "2013-05-01T10:00:00+07:00"]
    con.execute(f"insert into projects values ({','.join('?' * len(cols))})", row)
    con.execute(f"insert into projects values ({','.join('?' * len(cols))})", row)   # an exact copy
    con.execute("delete from projects where rowid = 1")
    con.execute(f"insert into projects values ({','.join('?' * len(cols))})",
                ["BM-2556-0002"] + row[1:9] + [120] + row[10:])                # completed > planned
    con.commit()
    con.close()
    rec = load(tmp_path, "housing/projects")
    assert (rec.rows_read, rec.valid, rec.quarantined, rec.duplicates) == (2, 1, 1, 0)
    v = lake_rows(tmp_path, "validated", "housing/projects")[0]
    assert (v["_source_row"], v["subdistrict_code"], v["area_resolution"]) == (2, "104702", "name_match")
    assert (v["province"], v["district"], v["subdistrict"]) == ("กรุงเทพมหานคร", "เขตบางนา", "บางนาเหนือ")
    assert v["_repairs"] == "thousands_separator;area_name_normalised;area_from_names"
    q = lake_rows(tmp_path, "quarantine", "housing/projects")[0]
    assert (q["_source_row"], q["reason_codes"], q["columns"]) == (3, "amount_impossible", "households_completed")


def test_the_asset_fails_with_the_message_and_keeps_the_last_good_load(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.ingestion import ingestion_assets

    monkeypatch.setenv("CODI_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.setenv("CODI_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("CODI_PSEUDONYM_KEY", KEY.decode())     # hand-made sources, not the demo's
    asset = next(a for a in ingestion_assets if a.key.path == ["lake", "organization", "councils"])
    write(tmp_path, "organization/councils.csv", COUNCILS)
    first = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral())
    meta = first.asset_materializations_for_node(asset.op.name)[0].metadata
    assert (meta["rows_read"].value, meta["rows_valid"].value) == (3, 3)
    before = (tmp_path / "lake" / "validated" / "organization/councils" / "data.parquet").read_bytes()

    write(tmp_path, "organization/councils.csv", COUNCILS.replace("registered_date", "registration"))
    second = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not second.success
    failure = next(e for e in second.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    text = failure.step_failure_data.user_failure_data.description
    assert "column 'registered_date' is missing" in text and "organization/councils.csv" in text
    assert "The last good load of organization/councils is kept" in text
    _kept(tmp_path, "organization/councils", before, meta["load_id"].value)


def _funds_workbook(root: Path, fy: int, codes: list[str]) -> None:
    from openpyxl import Workbook

    import schemas.welfare as w
    wb = Workbook()
    ws = wb.active
    ws.title = "ภาคเหนือ"
    ws.append([f"ข้อมูลกองทุนสวัสดิการชุมชน ปีงบประมาณ {fy}"])
    ws.append([])
    ws.append([c.source_name for c in w.funds.columns])
    for code in codes:
        ws.append([code, "กองทุน", "สุเทพ", "เมืองเชียงใหม่", "เชียงใหม่", "01/01/2556", 10] + [0] * 11)
    ws.append(["รวม", None, None, None, None, None, 10 * len(codes)] + [0] * 11)
    path = root / "sources" / "welfare" / f"funds_FY{fy}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_a_table_of_many_files_with_duplicates_across_them(tmp_path, monkeypatch):
    """Members come one file per province: a file may be empty, and a member copied into
    another province's file is a duplicate all the same (found across files and slices)."""
    import ingestion.load as load_module

    monkeypatch.setattr(load_module, "CHUNK_ROWS", 2)      # slices of two rows, groups of files
    monkeypatch.setattr(load_module, "KEEP_ROWS", 2)       # and files read again in pass 2
    _funds_workbook(tmp_path, 2556, ["WF00001", "WF00002"])
    header = "member_id,fund_code,citizen_id,gender,birth_year,joined_date,status\n"
    a = "WF00001-00001,WF00001,1234567890121,ช,2500,01/01/2556,active\n"
    b = "WF00001-00002,WF00001,1234567890139,ญ,2501,01/01/2556,active\n"
    older = "WF00002-00001,WF00002,1234567890147,ญ,2502,01/01/2556,active\n"
    newer = "WF00002-00001,WF00002,1234567890147,ญ,2502,01/01/2556,left\n"
    write(tmp_path, "welfare/members/10.csv", header + a + b + older, encoding="utf-8")
    write(tmp_path, "welfare/members/11.csv", header, encoding="utf-8")
    write(tmp_path, "welfare/members/50.csv", header + a + newer + "WF00003-00001,WF00003,,ช,2500,,active\n",
          encoding="utf-8")
    load(tmp_path, "welfare/funds")     # members are judged against the funds' current load
    rec = load(tmp_path, "welfare/members")
    assert (rec.rows_read, rec.valid, rec.quarantined, rec.duplicates) == (6, 3, 2, 1)
    v = lake_rows(tmp_path, "validated", "welfare/members")
    assert sorted((r["_source_file"], r["_source_row"], r["province_code"]) for r in v) == [
        ("welfare/members/10.csv", 2, "10"), ("welfare/members/10.csv", 3, "10"),
        ("welfare/members/50.csv", 3, "50")]
    q = {(r["_source_file"], r["_source_row"]): r for r in lake_rows(tmp_path, "quarantine", "welfare/members")}
    assert q[("welfare/members/10.csv", 4)]["reason_codes"] == "duplicate_key_superseded"
    assert "the latest is welfare/members/50.csv row 3" in q[("welfare/members/10.csv", 4)]["message"]
    assert q[("welfare/members/50.csv", 4)]["reason_codes"] == "orphan_reference"
    assert rec.load_id.split("-")[1] != rec.files["welfare/members/10.csv"][:8]   # several files


def test_the_blocking_check_fails_when_too_much_is_quarantined(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.ingestion import ingestion_assets, ingestion_checks

    monkeypatch.setenv("CODI_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.setenv("CODI_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("CODI_PSEUDONYM_KEY", KEY.decode())     # hand-made sources, not the demo's
    key = ["lake", "organization", "councils"]
    # Six rows are below any sensible minimum for judging a share (tests/test_policy.py): judged
    # here all the same, to see the check fail.
    import schemas

    monkeypatch.setattr(schemas.TABLES[("organization", "councils")], "min_rows_judged", 1)
    asset = next(a for a in ingestion_assets if a.key.path == key)
    check = next(c for c in ingestion_checks if c.check_specs and next(iter(c.check_specs)).asset_key.path == key)
    bad = "".join(f"CC01{i:02d},99{i:02d}99,05/01/2556,จดแจ้งแล้ว\r\n" for i in range(3))
    write(tmp_path, "organization/councils.csv", COUNCILS + bad)
    result = dg.materialize([asset, check], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    evaluation = next(e.asset_check_evaluation_data for e in result.all_events
                      if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    assert evaluation.passed is False
    assert "50.00% of the rows quarantined, above the 5% threshold" in evaluation.description
    assert evaluation.metadata["rows_quarantined"].value == 3
