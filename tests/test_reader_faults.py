"""Exports damaged the way real ones are, through the real readers and the real load on copies
of the demo files: no row is lost or merged without a trace (rows read = the records counted
from the file's lines, apart from the parser), no personal value reaches the quarantine or a
message in clear, and no run starts without a pseudonym key outside the demo."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import schemas
from ingestion.load import load_table, loads_path, read_reconciliation
from ingestion.readers import SourceError
from orchestration import settings

KEY = b"a test key of at least thirty-two bytes"
BOUNDARIES = settings.BOUNDARIES_DIR / "subdistricts.geojson"
PROJECT = Path(__file__).resolve().parent.parent
CITIZEN_ID = re.compile(r"(?<!\d)\d{13}(?!\d)")


def spec(name: str):
    return schemas.TABLES[tuple(name.split("/"))]


def copy(demo_sources: Path, root: Path, *rels: str) -> Path:
    """Copies of some demo files under root/sources (the demo folder itself stays clean)."""
    for rel in rels:
        target = root / "sources" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (demo_sources / rel).is_dir() else shutil.copy)(demo_sources / rel, target)
    return root / "sources"


def load(root: Path, name: str, lake: str = "lake"):
    """Load a table as a run does: a child table after its parent (it is judged against the
    parent's current load)."""
    table = spec(name)
    if table.parent is not None and read_reconciliation(
            root / lake, table.parent.source, table.parent.table) is None:
        load(root, f"{table.parent.source}/{table.parent.table}", lake)
    return load_table(table, root / "sources", root / lake, KEY, BOUNDARIES)


def rows(root: Path, layer: str, name: str, lake: str = "lake") -> list[dict]:
    path = root / lake / layer / name / "data.parquet"
    cur = duckdb.connect().execute(f"select * from read_parquet('{path}') order by _source_file, _source_row")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def lines_of(path: Path, encoding: str) -> list[str]:
    return path.read_bytes().decode(encoding).split("\r\n")


def write_lines(path: Path, lines: list[str], encoding: str, sep: str = "\r\n") -> None:
    path.write_bytes(sep.join(lines).encode(encoding))


def reconciled(rec) -> None:
    """What an auditor checks first: every record of the file was read, and every row read
    ended in one place."""
    assert rec.physical_rows == rec.rows_read, (rec.physical_rows, rec.rows_read)
    assert rec.rows_read == rec.valid + rec.quarantined + rec.duplicates
    assert rec.balanced


# -- CSV: one bad line is one quarantined line, and the lines after it are rows ---------------------

PARENTS = {"finance/repayments.csv": ["finance/loans.csv"]}


def _clean_and_damaged(demo_sources: Path, tmp_path: Path, rel: str, name: str, damage) -> tuple:
    copy(demo_sources, tmp_path, rel, *PARENTS.get(rel, []))
    clean = load(tmp_path, name, "clean")
    valid_before = {r["_source_row"] for r in rows(tmp_path, "validated", name, "clean")}
    damage(tmp_path / "sources" / rel)
    return clean, valid_before


def test_a_stray_quote_quarantines_its_line_and_the_lines_after_it_are_rows(demo_sources, tmp_path):
    name, rel = "finance/repayments", "finance/repayments.csv"
    quoted = [i for i, line in enumerate(lines_of(demo_sources / rel, "cp874")) if '"' in line]
    # A clean line near the top, with quoted amounts ("1,500") below it for the quote to pair with.
    target = next(i for i in range(10, 200) if i + 1 not in quoted and i not in quoted)
    assert any(q > target for q in quoted)

    def damage(path):
        lines = lines_of(path, "cp874")
        lines[target] = lines[target].replace(",", ',"', 1)
        write_lines(path, lines, "cp874")

    clean, before = _clean_and_damaged(demo_sources, tmp_path, rel, name, damage)
    rec = load(tmp_path, name)
    reconciled(rec)
    assert rec.rows_read == clean.rows_read
    assert rec.reasons.get("row_malformed") == 1
    bad = [r for r in rows(tmp_path, "quarantine", name)
           if r["reason_codes"] == "row_malformed"]
    assert [(r["_source_row"], r["columns"]) for r in bad] == [(target + 1, "installment_no")]
    assert "quote opened in column 'installment_no'" in bad[0]["message"]
    assert json.loads(bad[0]["original_row"])["raw"] == lines_of(tmp_path / "sources" / rel, "cp874")[target]
    # Every line the clean file had as a valid row is still one, but the damaged line.
    after = {r["_source_row"] for r in rows(tmp_path, "validated", name)}
    assert after == before - {target + 1}
    assert rec.valid == clean.valid - 1


def test_a_quote_never_closed_does_not_crash_and_costs_one_line(demo_sources, tmp_path):
    """The case that crashed with `field larger than field limit`: 200 KB after the quote."""
    name, rel = "finance/repayments", "finance/repayments.csv"
    copy(demo_sources, tmp_path, rel, "finance/loans.csv")
    path = tmp_path / "sources" / rel
    lines = [line for line in lines_of(path, "cp874") if '"' not in line and line]
    assert sum(len(line) for line in lines[20:]) > 200_000
    lines[20] = lines[20].replace(",", ',"', 1)
    write_lines(path, lines + [""], "cp874")
    rec = load(tmp_path, name)
    reconciled(rec)
    assert rec.rows_read == len(lines) - 1                      # every line but the header
    bad = [r for r in rows(tmp_path, "quarantine", name)
           if r["reason_codes"] == "row_malformed"]
    assert [r["_source_row"] for r in bad] == [21]
    assert "is not closed within 100 lines" in bad[0]["message"]
    assert {r["_source_row"] for r in rows(tmp_path, "validated", name)} >= set(range(22, 60))


def test_mixed_line_endings_read_as_the_same_rows(demo_sources, tmp_path):
    name, rel = "organization/councils", "organization/councils.csv"

    def damage(path):
        lines = lines_of(path, "utf-8-sig")
        text = ""
        for i, line in enumerate(lines[:-1]):
            text += line + ("\r\n", "\n", "\r")[i % 3]          # Windows, Unix and old Mac ends
        path.write_bytes(("\ufeff" + text + lines[-1]).encode("utf-8"))

    clean, before = _clean_and_damaged(demo_sources, tmp_path, rel, name, damage)
    rec = load(tmp_path, name)
    reconciled(rec)
    assert (rec.rows_read, rec.valid, rec.quarantined, rec.duplicates) == (
        clean.rows_read, clean.valid, clean.quarantined, clean.duplicates)
    assert {r["_source_row"] for r in rows(tmp_path, "validated", name)} == before


def test_the_header_line_again_in_the_body_is_one_quarantined_line(demo_sources, tmp_path):
    name, rel = "organization/councils", "organization/councils.csv"

    def damage(path):
        lines = lines_of(path, "utf-8-sig")
        lines.insert(49, lines[0].removeprefix("\ufeff"))       # line 50: a second export appended
        write_lines(path, lines, "utf-8-sig")

    clean, before = _clean_and_damaged(demo_sources, tmp_path, rel, name, damage)
    rec = load(tmp_path, name)
    reconciled(rec)
    assert rec.rows_read == clean.rows_read + 1
    assert rec.valid == clean.valid and rec.reasons["row_malformed"] == 1
    bad = next(r for r in rows(tmp_path, "quarantine", name) if r["reason_codes"] == "row_malformed")
    assert bad["_source_row"] == 50 and "the header line again" in bad["message"]
    # The rows below it keep their own line numbers.
    assert {r["_source_row"] for r in rows(tmp_path, "validated", name)} == {
        n if n < 50 else n + 1 for n in before}


def test_quoted_line_breaks_blank_lines_and_empty_records(tmp_path):
    """A legitimately quoted line break is one record over two lines; a blank line is nothing;
    a line of empty fields is a record (quarantined: no key), not silently dropped."""
    path = tmp_path / "sources" / "organization" / "councils.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("council_code,subdistrict_code,registered_date,status\r\n"
                     "CC0001,500108,05/01/2556,\"จดแจ้ง\r\nแล้ว\"\r\n"
                     "\r\n"
                     "   \r\n"
                     ",,,\r\n"
                     "CC0002,500108,05/01/2556,จดแจ้งแล้ว\r\n".encode("utf-8-sig"))
    rec = load(tmp_path, "organization/councils")
    reconciled(rec)
    assert rec.rows_read == 3
    q = rows(tmp_path, "quarantine", "organization/councils")
    assert [(r["_source_row"], r["reason_codes"].split(";")[0]) for r in q] == [(6, "value_missing")]
    valid = rows(tmp_path, "validated", "organization/councils")
    assert [(r["_source_row"], r["council_code"]) for r in valid] == [(2, "CC0001"), (7, "CC0002")]
    assert "จดแจ้ง" in valid[0]["status"] and "แล้ว" in valid[0]["status"]


# -- NDJSON ----------------------------------------------------------------------------------------

def test_u2028_in_a_json_string_is_data_and_later_lines_keep_their_numbers(demo_sources, tmp_path):
    name, rel = "disaster/events", "disaster/events.ndjson"

    def damage(path):
        lines = path.read_bytes().split(b"\n")
        good = next(i for i, line in enumerate(lines[5:], start=5) if line.startswith(b"{")
                    and json.loads(line).get("subdistrict_code"))
        record = json.loads(lines[good])
        # Valid JSON: U+2028/2029, NEL and form feed raw inside strings; an unknown key is ignored.
        record["note"] = "น้ำท่วม\u2028ถนนขาด\u2029\u0085"
        lines[good] = json.dumps(record, ensure_ascii=False).encode("utf-8")
        path.write_bytes(b"\n".join(lines))
        return good

    clean, before = _clean_and_damaged(demo_sources, tmp_path, rel, name, damage)
    rec = load(tmp_path, name)
    reconciled(rec)
    assert (rec.rows_read, rec.valid, rec.quarantined) == (clean.rows_read, clean.valid, clean.quarantined)
    assert {r["_source_row"] for r in rows(tmp_path, "validated", name)} == before
    assert "json_malformed" not in rec.reasons or rec.reasons == clean.reasons


# -- workbooks and SQLite --------------------------------------------------------------------------

def test_a_workbook_row_with_values_only_outside_the_header_is_quarantined_not_dropped(tmp_path):
    from openpyxl import Workbook

    import schemas.welfare as w
    wb = Workbook()
    ws = wb.active
    ws.title = "ภาคเหนือ"
    ws.append(["ข้อมูลกองทุนสวัสดิการชุมชน ปีงบประมาณ 2556"])
    ws.append([])
    ws.append([c.source_name for c in w.funds.columns])
    ws.append(["WF00001", "กองทุน", "สุเทพ", "เมืองเชียงใหม่", "เชียงใหม่", "01/01/2556", 10] + [0] * 11)
    ws.append([])
    ws.append([None] * 19 + ["หมายเหตุ: ข้อมูล ณ 30 ก.ย."])      # a note right of the table
    path = tmp_path / "sources" / "welfare" / "funds_FY2556.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    rec = load(tmp_path, "welfare/funds")
    reconciled(rec)
    assert (rec.rows_read, rec.valid, rec.reasons) == (2, 1, {"row_malformed": 1})
    q = rows(tmp_path, "quarantine", "welfare/funds")[0]
    assert (q["_source_file"], q["_source_row"]) == ("welfare/funds_FY2556.xlsx[ภาคเหนือ]", 6)
    assert "หมายเหตุ" in q["original_row"]


def test_sqlite_rows_read_are_the_tables_count(tmp_path):
    path = tmp_path / "sources" / "housing" / "baan_mankong.sqlite"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as con:
        cols = [c.name for c in spec("housing/households").columns]
        con.execute(f"create table households ({', '.join(cols)})")
        con.executemany(f"insert into households values ({','.join('?' * len(cols))})",
                        [(f"HH{i:07d}", "BM-2556-0001", "1101700203451", "นายสมชาย ใจดี", 3, 12000, 0, None)
                         for i in range(5)])
        project = [c.name for c in spec("housing/projects").columns]
        con.execute(f"create table projects ({', '.join(project)})")
        con.execute(f"insert into projects values ({','.join('?' * len(project))})",
                    ["BM-2556-0001", "โครงการ", "ชุมชน", "กทม.", "เขต บางนา", "แขวงบางนาเหนือ", None,
                     "05/01/2556", 100, 90, "ซื้อที่ดิน", "1,000,000", 2000000, "แล้วเสร็จ",
                     "2013-05-01T10:00:00+07:00"])
    rec = load(tmp_path, "housing/households")
    assert rec.physical_rows == rec.rows_read == 5 and rec.balanced


# -- personal data ---------------------------------------------------------------------------------

def _member_ids(path: Path) -> set[str]:
    return set(CITIZEN_ID.findall(path.read_text(encoding="utf-8")))


def _every_text(parquet: Path) -> str:
    cur = duckdb.connect().execute(f"select * from read_parquet('{parquet}')")
    return "\n".join(str(v) for row in cur.fetchall() for v in row)


@pytest.mark.parametrize("damage", ["extra", "missing", "quote", "elsewhere"])
def test_a_malformed_member_row_keeps_its_line_but_no_citizen_id_in_clear(demo_sources, tmp_path, damage):
    name = "welfare/members"
    copy(demo_sources, tmp_path, "welfare")
    member_file = sorted((tmp_path / "sources" / "welfare" / "members").glob("*.csv"))[0]
    ids = _member_ids(member_file)
    lines = member_file.read_text(encoding="utf-8").split("\n")
    fields = lines[3].split(",")
    citizen = fields[2]
    if damage == "extra":
        lines[3] += ",x,y"                                       # two extra fields
    elif damage == "missing":
        lines[3] = ",".join(fields[1:])                          # no member_id: the ID moved left
    elif damage == "elsewhere":
        # A row split right but wrong (gender "x"), with the ID typed into its member_id too.
        lines[3] = ",".join([fields[0] + " " + citizen] + fields[1:3] + ["x"] + fields[4:])
    else:
        # A stray quote, and the ID once more, dashed, where a status should be.
        dashed = f"{citizen[0]}-{citizen[1:5]}-{citizen[5:10]}-{citizen[10:12]}-{citizen[12]}"
        lines[3] = ",".join(fields[:1] + ['"' + fields[1]] + fields[2:6] + [dashed])
    member_file.write_text("\n".join(lines), encoding="utf-8")
    rec = load(tmp_path, name)
    reconciled(rec)
    quarantine = tmp_path / "lake" / "quarantine" / name / "data.parquet"
    bad = [r for r in rows(tmp_path, "quarantine", name)
           if r["reason_codes"] == ("value_not_allowed" if damage == "elsewhere" else "row_malformed")]
    assert [(r["_source_file"], r["_source_row"]) for r in bad][0] == (
        member_file.relative_to(tmp_path / "sources").as_posix(), 4)
    text = _every_text(quarantine)
    assert not ids & set(CITIZEN_ID.findall(text)), "a citizen ID in clear in the quarantine"
    assert citizen not in text and citizen.encode() not in quarantine.read_bytes()
    assert "[pseudonym:" in bad[0]["original_row"] or damage == "elsewhere"
    # Linkable: the pseudonym in the raw line is the lake's pseudonym of the same ID.
    from ingestion.pseudonym import pseudonymise
    import pandas as pd
    if damage in ("extra", "missing", "elsewhere"):
        assert pseudonymise(pd.Series([citizen], dtype="str"), "id", KEY)[0] in bad[0]["original_row"]
    else:
        assert dashed not in text and citizen[1:5] + "-" + citizen[5:10] not in text
    # The pseudonyms of the file's invalid IDs are left whole by the search for IDs elsewhere.
    checksum = [json.loads(r["values"]) for r in rows(tmp_path, "quarantine", name)
                if r["reason_codes"] == "citizen_id_checksum"]
    assert checksum and all(re.fullmatch(r"[0-9a-f]{64}", v[0]) for v in checksum)
    # The validated rows have no ID either.
    assert not ids & set(CITIZEN_ID.findall(_every_text(tmp_path / "lake" / "validated" / name / "data.parquet")))


def test_a_member_file_without_its_header_line_says_so_without_a_value(demo_sources, tmp_path):
    name = "welfare/members"
    copy(demo_sources, tmp_path, "welfare")
    member_file = sorted((tmp_path / "sources" / "welfare" / "members").glob("*.csv"))[0]
    lines = member_file.read_text(encoding="utf-8").split("\n")
    member_file.write_text("\n".join(lines[1:]), encoding="utf-8")
    first = lines[1].split(",")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, name)
    message = str(caught.value)
    assert "line 1 is not a header: it has 7 field(s) and names none of the columns member_id, " \
           "fund_code, citizen_id" in message
    assert member_file.name in message
    for value in first:
        if len(value) > 2:                                      # the ID, the member and fund codes, dates
            assert value not in message, value


def test_a_renamed_personal_header_quotes_names_but_never_a_value(demo_sources, tmp_path):
    name = "welfare/members"
    copy(demo_sources, tmp_path, "welfare")
    member_file = sorted((tmp_path / "sources" / "welfare" / "members").glob("*.csv"))[0]
    lines = member_file.read_text(encoding="utf-8").split("\n")
    # A header with one column renamed and one data value where a name should be.
    lines[0] = lines[0].replace("citizen_id", "เลขประจำตัวประชาชน").replace("status", "3101700203451")
    member_file.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load(tmp_path, name)
    message = str(caught.value)
    assert "column 'citizen_id' is missing" in message and "'เลขประจำตัวประชาชน'" in message
    assert "3101700203451" not in message and "field 7, not quoted" in message


def test_a_wrong_byte_in_a_member_file_without_header_names_no_value(demo_sources, tmp_path):
    copy(demo_sources, tmp_path, "welfare")
    member_file = sorted((tmp_path / "sources" / "welfare" / "members").glob("*.csv"))[0]
    data = member_file.read_bytes().split(b"\n", 1)[1]          # no header line
    first = data.split(b"\n", 1)[0].decode().split(",")
    lines = data.split(b"\n")
    lines[2] = lines[2].replace(b",active", b",\xff\xfe", 1)
    member_file.write_bytes(b"\n".join(lines))
    with pytest.raises(SourceError) as caught:
        load(tmp_path, "welfare/members")
    message = str(caught.value)
    assert "byte 0xff cannot be decoded" in message and "row 3" in message and "field 7" in message
    assert not any(v in message for v in first if len(v) > 2)


def test_protect_masks_personal_json_values_and_id_tokens():
    """The JSON side of the protection (no NDJSON table has personal columns yet: a new one
    would be covered)."""
    from ingestion.pseudonym import Protect

    p = Protect({"citizen_id": "id"}, KEY)
    line = '{"member_id": "WF1-1", "citizen_id": "1-1017-00203-45-1", "note": "นายสมชาย ใจดี", "x": 3'
    out = p.json_texts([line], {"member_id"})[0]
    assert '"member_id": "WF1-1"' in out and '"x": 3' in out
    assert "1017" not in out and "สมชาย" not in out and out.count("[pseudonym:") == 2
    assert Protect({"citizen_id": "id"}).json_texts([line], {"member_id"})[0].count("[masked]") == 2


# -- reconciliation --------------------------------------------------------------------------------

def test_old_loads_stay_readable_and_a_physical_mismatch_fails_the_check(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.ingestion import ingestion_assets, ingestion_checks

    key = ["lake", "organization", "councils"]
    path = tmp_path / "sources" / "organization" / "councils.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("council_code,subdistrict_code,registered_date,status\r\n"
                     "CC0001,500108,05/01/2556,จดแจ้งแล้ว\r\n".encode("utf-8-sig"))
    monkeypatch.setenv("CODI_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.setenv("CODI_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("CODI_PSEUDONYM_KEY", KEY.decode())
    asset = next(a for a in ingestion_assets if a.key.path == key)
    check = next(c for c in ingestion_checks if next(iter(c.check_specs)).asset_key.path == key)
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([asset, check], instance=instance).success

    json_path = loads_path(tmp_path / "lake", "organization", "councils")
    saved = json.loads(json_path.read_text(encoding="utf-8"))
    old = {k: v for k, v in saved.items() if k != "physical_rows"}
    json_path.write_text(json.dumps({**old, "a_later_field": 1}), encoding="utf-8")
    rec = read_reconciliation(tmp_path / "lake", "organization", "councils")
    assert rec.physical_rows is None and rec.balanced           # a load made before the count

    json_path.write_text(json.dumps({**saved, "physical_rows": 291}), encoding="utf-8")
    result = dg.materialize([asset, check], instance=instance, raise_on_error=False,
                            selection=dg.AssetSelection.checks_for_assets(asset))
    evaluation = next(e.asset_check_evaluation_data for e in result.all_events
                      if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    assert evaluation.passed is False
    assert "read 1 rows but the files hold 291 records" in evaluation.description
    assert "290 missing" in evaluation.description


# -- the key ---------------------------------------------------------------------------------------

def test_no_key_outside_the_demo_is_refused_with_how_to_set_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CODI_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("CODI_SOURCES_DIR", str(tmp_path / "exports"))
    (tmp_path / "exports").mkdir()
    with pytest.raises(settings.PseudonymKeyMissing) as caught:
        settings.pseudonym_key()
    message = str(caught.value)
    assert "CODI_PSEUDONYM_KEY is not set" in message and str(tmp_path / "exports") in message
    assert "export CODI_PSEUDONYM_KEY=" in message and "secrets.token_hex(32)" in message
    # The public demo key is no key either, outside the demo.
    monkeypatch.setenv("CODI_PSEUDONYM_KEY", settings.DEMO_PSEUDONYM_KEY)
    with pytest.raises(settings.PseudonymKeyMissing, match="is the public demo key"):
        settings.pseudonym_key()
    monkeypatch.setenv("CODI_PSEUDONYM_KEY", "k" * 64)
    assert settings.pseudonym_key() == b"k" * 64


def test_the_demo_sources_carry_their_marker_and_get_the_demo_key(demo_sources, monkeypatch):
    from ingestion import demo

    monkeypatch.delenv("CODI_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("CODI_SOURCES_DIR", str(demo_sources))
    marker = json.loads((demo_sources / demo.MARKER).read_text(encoding="utf-8"))
    assert demo.MARKER == settings.DEMO_MARKER and marker["profile"] == "demo"
    assert settings.pseudonym_key() == settings.DEMO_PSEUDONYM_KEY.encode()


def test_advancing_the_demo_keeps_its_marker(demo_sources, tmp_path):
    from ingestion import demo
    from ingestion.demo import advance

    copy(demo_sources, tmp_path, ".")
    shutil.copytree(demo_sources.parent / "ground_truth", tmp_path / "truth")
    advance.advance(tmp_path / "sources", tmp_path / "truth", 1, demo.DEFAULT_SEED, ("disaster",))
    marker = json.loads((tmp_path / "sources" / demo.MARKER).read_text(encoding="utf-8"))
    assert marker["days_advanced"] == 1 and marker["profile"] == "demo"


def test_make_run_refuses_to_start_without_a_key_on_real_exports(tmp_path):
    """`python -m orchestration.run` exits 2 with the message, before any Dagster run."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (tmp_path / "exports" / "finance").mkdir(parents=True)
    env = {k: v for k, v in __import__("os").environ.items() if k != "CODI_PSEUDONYM_KEY"}
    env.update({"DAGSTER_HOME": str(home), "CODI_SOURCES_DIR": str(tmp_path / "exports"),
                "CODI_LAKE_DIR": str(tmp_path / "lake")})
    done = subprocess.run([sys.executable, "-m", "orchestration.run"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Refusing to start: CODI_PSEUDONYM_KEY is not set" in done.stderr
    assert "export CODI_PSEUDONYM_KEY=" in done.stderr
    assert not (tmp_path / "lake").exists() and not any(home.iterdir()), "something ran"


def test_the_ingestion_asset_fails_with_the_key_message(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.ingestion import ingestion_assets

    path = tmp_path / "sources" / "organization" / "councils.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("council_code,subdistrict_code,registered_date,status\r\n"
                     "CC0001,500108,05/01/2556,จดแจ้งแล้ว\r\n".encode("utf-8-sig"))
    monkeypatch.delenv("CODI_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("CODI_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.setenv("CODI_LAKE_DIR", str(tmp_path / "lake"))
    asset = next(a for a in ingestion_assets if a.key.path == ["lake", "organization", "councils"])
    result = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    text = failure.step_failure_data.user_failure_data.description
    assert "CODI_PSEUDONYM_KEY is not set" in text and "Nothing of organization/councils was loaded" in text
    assert not (tmp_path / "lake" / "validated").exists()
