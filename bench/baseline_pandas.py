"""The baseline: what a team would write without this project. pandas reads each source, runs
the same row checks (DESIGN section 5, docs/lake.md's quarantine rules) in plain pandas, and
groups the valid rows into the country-level `mart_kpi` actuals.

Deliberately independent of the project: nothing is imported from ingestion/, schemas/ or the
dbt project (the rules are written again here, as a team would); geothai and the bundled
boundaries are the area reference, as DESIGN section 5 says to use them. Nothing is written
but the figures: no lake, no warehouse, no pseudonyms, no publishing.

Usage: python bench/baseline_pandas.py --sources DIR --boundaries FILE --out result.json
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
from pathlib import Path

import geothai
import numpy as np
import pandas as pd
import shapely
from geothai.abolished import abolished_areas, match_abolished

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
PLAN_YEARS = range(2555, 2560)

# Per table: where it is, its key, each column's kind (how it is parsed and checked), the
# required and allowed values, its parent and where its area comes from.
TABLES = {
    "housing/projects": dict(
        fmt="sqlite", file="housing/baan_mankong.sqlite", sqlite="projects", key=["project_code"],
        latest_by="updated_at",
        cols={"project_code": "text", "project_name": "text", "community_name": "text",
              "province": "name", "district": "name", "subdistrict": "name",
              "subdistrict_code": "code", "approved_date": "date", "households_planned": "count",
              "households_completed": "count", "land_tenure": "text",
              "infrastructure_budget": "amount", "housing_loan": "amount", "status": "text",
              "updated_at": "timestamp"},
        required=["project_code"],
        allowed={"land_tenure": ["ซื้อที่ดิน", "เช่าระยะยาว", "เช่าที่ดินรัฐ", "กรรมสิทธิ์สหกรณ์", "อื่นๆ"],
                 "status": ["อนุมัติ", "กำลังดำเนินการ", "แล้วเสร็จ", "ยกเลิก"]},
        area=dict(code="subdistrict_code", names=("subdistrict", "district", "province"))),
    "housing/households": dict(
        fmt="sqlite", file="housing/baan_mankong.sqlite", sqlite="households", key=["household_id"],
        cols={"household_id": "text", "project_code": "text", "head_citizen_id": "citizen_id",
              "head_name": "text", "members": "count", "monthly_income": "amount",
              "loan_amount": "amount", "moved_in_date": "date"},
        required=["household_id", "project_code"],
        parent=("housing/projects", "project_code", "project_code")),
    "welfare/funds": dict(
        fmt="xlsx", file="welfare/funds_FY*.xlsx", key=["fund_code", "fiscal_year"],
        headers={"รหัสกองทุน": "fund_code", "ชื่อกองทุน": "fund_name", "ตำบล": "subdistrict_name",
                 "อำเภอ": "district_name", "จังหวัด": "province_name",
                 "วันที่จัดตั้ง": "established_date", "จำนวนสมาชิก": "members",
                 "เงินกองทุนคงเหลือ": "fund_balance", "เงินสมทบจากสมาชิก": "contrib_members",
                 "เงินสมทบจากรัฐบาล": "contrib_government", "เงินสมทบจากอปท.": "contrib_local_gov",
                 "สวัสดิการเกิด": "benefit_birth", "สวัสดิการเจ็บป่วย": "benefit_sickness",
                 "สวัสดิการผู้สูงอายุ": "benefit_elderly", "สวัสดิการเสียชีวิต": "benefit_death",
                 "สวัสดิการการศึกษา": "benefit_education", "สวัสดิการภัยพิบัติ": "benefit_disaster",
                 "สวัสดิการอื่นๆ": "benefit_other"},
        cols={"fund_code": "text", "fund_name": "text", "subdistrict_name": "name",
              "district_name": "name", "province_name": "name", "established_date": "excel_date",
              "members": "count", **{c: "amount" for c in (
                  "fund_balance", "contrib_members", "contrib_government", "contrib_local_gov",
                  "benefit_birth", "benefit_sickness", "benefit_elderly", "benefit_death",
                  "benefit_education", "benefit_disaster", "benefit_other")}},
        required=["fund_code"],
        area=dict(code=None, names=("subdistrict_name", "district_name", "province_name"))),
    "welfare/members": dict(
        fmt="csv", file="welfare/members/*.csv", encoding="utf-8", key=["member_id"],
        cols={"member_id": "text", "fund_code": "text", "citizen_id": "citizen_id",
              "gender": "text", "birth_year": "be_year", "joined_date": "date", "status": "text"},
        required=["member_id", "fund_code"],
        allowed={"gender": ["ช", "ญ"], "status": ["active", "left", "deceased"]},
        parent=("welfare/funds", "fund_code", "fund_code")),
    "finance/savings_groups": dict(
        fmt="csv", file="finance/savings_groups.csv", encoding="cp874", key=["group_code"],
        cols={"group_code": "text", "group_name": "text", "org_type": "text",
              "subdistrict_code": "code", "members": "count", "savings_balance": "amount",
              "loans_outstanding": "amount", "report_date": "date"},
        required=["group_code"], area=dict(code="subdistrict_code")),
    "finance/loans": dict(
        fmt="csv", file="finance/loans.csv", encoding="cp874", key=["loan_no"],
        cols={"loan_no": "text", "borrower_code": "text", "borrower_name": "text",
              "borrower_type": "text", "subdistrict_code": "code", "purpose": "text",
              "contract_date": "date", "principal": "amount", "annual_interest_rate": "rate",
              "term_months": "count", "status": "text"},
        required=["loan_no"],
        allowed={"purpose": ["ที่อยู่อาศัย", "ที่ดิน", "อาชีพ", "แก้ไขหนี้สิน", "ภัยพิบัติ", "องค์กรการเงิน"]},
        area=dict(code="subdistrict_code")),
    "finance/repayments": dict(
        fmt="csv", file="finance/repayments.csv", encoding="cp874", key=["loan_no", "installment_no"],
        cols={"loan_no": "text", "installment_no": "count", "due_date": "date",
              "amount_due": "amount", "paid_date": "date", "amount_paid": "amount"},
        required=["loan_no", "installment_no"], parent=("finance/loans", "loan_no", "loan_no")),
    "disaster/events": dict(
        fmt="ndjson", file="disaster/events.ndjson", key=["event_id"],
        cols={"event_id": "text", "hazard": "text", "started_at": "timestamp",
              "ended_at": "timestamp", "lat": "number", "lon": "number",
              "subdistrict_code": "code", "affected_households": "count",
              "damaged_houses": "count", "community_plan": "bool", "early_warning": "bool",
              "relief_budget": "amount"},
        required=["event_id"],
        allowed={"hazard": ["flood", "drought", "storm", "landslide", "fire", "tsunami", "cold_spell"]},
        area=dict(code="subdistrict_code", point=True)),
    "environment/sites": dict(
        fmt="geojson", file="environment/sites.geojson", key=["site_code"],
        cols={"site_code": "text", "kind": "text", "name": "text", "area_rai": "amount",
              "households_involved": "count", "established_year": "be_year",
              "subdistrict_code": "code"},
        required=["site_code"],
        allowed={"kind": ["ป่าชุมชน", "ป่าชายเลน", "แหล่งน้ำ", "ต้นน้ำ", "แนวปะการัง", "พื้นที่ชุ่มน้ำ"]},
        area=dict(code="subdistrict_code", point=True)),
    "organization/councils": dict(
        fmt="csv", file="organization/councils.csv", encoding="utf-8-sig", key=["council_code"],
        cols={"council_code": "text", "subdistrict_code": "code", "registered_date": "date",
              "status": "text"},
        required=["council_code"], area=dict(code="subdistrict_code")),
    "organization/council_assessments": dict(
        fmt="csv", file="organization/council_assessments.csv", encoding="utf-8-sig",
        key=["council_code", "fiscal_year"],
        cols={"council_code": "text", "fiscal_year": "be_year", "score": "number",
              "quality_passed": "bool"},
        required=["council_code", "fiscal_year"],
        parent=("organization/councils", "council_code", "council_code")),
    "organization/tambon_plans": dict(
        fmt="csv", file="organization/tambon_plans.csv", encoding="utf-8-sig",
        key=["subdistrict_code", "fiscal_year"],
        cols={"subdistrict_code": "code", "fiscal_year": "be_year", "has_self_analysis_data": "bool",
              "has_development_plan": "bool", "plan_linked_to_province": "bool"},
        required=["subdistrict_code", "fiscal_year"], area=dict(code="subdistrict_code")),
    "organization/province_reports": dict(
        fmt="csv", file="organization/province_reports.csv", encoding="utf-8-sig",
        key=["province_code", "fiscal_year"],
        cols={"province_code": "text", "fiscal_year": "be_year", "has_status_assessment": "bool",
              "has_plan_linkage": "bool", "has_development_report": "bool"},
        required=["province_code", "fiscal_year"], area=dict(province="province_code")),
    "organization/leader_training": dict(
        fmt="csv", file="organization/leader_training.csv", encoding="utf-8-sig", key=["training_code"],
        cols={"training_code": "text", "fiscal_year": "be_year", "subdistrict_code": "code",
              "new_leaders": "count", "total_participants": "count"},
        required=["training_code"], area=dict(code="subdistrict_code")),
    "organization/joint_areas": dict(
        fmt="csv", file="organization/joint_areas.csv", encoding="utf-8-sig",
        key=["area_code", "fiscal_year"],
        cols={"area_code": "text", "fiscal_year": "be_year", "has_joint_system": "bool",
              "integrated_plan_or_budget": "bool", "public_policy_driven": "bool",
              "concrete_outcome": "bool"},
        required=["area_code", "fiscal_year"], area=dict(mixed="area_code")),
}

# Cross-column rules (amount_impossible), on the parsed columns.
RULES = {
    "housing/projects": lambda d: d["households_completed"] > d["households_planned"],
    "welfare/funds": lambda d: (d["members"] == 0) & (d["fund_balance"] > 0),
    "finance/savings_groups": lambda d: (d["members"] == 0) & (d["savings_balance"] > 0),
    "finance/loans": lambda d: d["annual_interest_rate"] > 100,
    "disaster/events": lambda d: d["ended_at"] < d["started_at"],
    "organization/council_assessments": lambda d: (d["score"] < 0) | (d["score"] > 100),
    "organization/leader_training": lambda d: d["new_leaders"] > d["total_participants"],
}


# -- reading -------------------------------------------------------------------------------------

def _text(value):
    """A cell as text: whole floats without `.0`, a date (or a midnight timestamp) as ISO."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def read_table(name: str, spec: dict, sources: Path) -> pd.DataFrame:
    fmt, cols = spec["fmt"], list(spec["cols"])
    if fmt == "sqlite":
        con = sqlite3.connect(sources / spec["file"])
        frame = pd.read_sql_query(f'select rowid as _row, {", ".join(cols)} from {spec["sqlite"]}', con)
        con.close()
        for c in cols:
            frame[c] = frame[c].map(_text)
        frame["_file"] = spec["file"]
        return frame
    if fmt == "csv":
        parts = []
        for path in sorted(sources.glob(spec["file"])):
            part = pd.read_csv(path, dtype=str, encoding=spec["encoding"], keep_default_na=False,
                               on_bad_lines="skip")
            part.columns = [c.lstrip("\ufeff").strip() for c in part.columns]
            part = part[cols].replace("", None)
            part["_file"] = path.name
            part["_row"] = np.arange(2, len(part) + 2)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)
    if fmt == "ndjson":
        records, rows = [], []
        with open(sources / spec["file"], encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    record = json.loads(line, parse_float=str, parse_int=str)
                except ValueError:
                    continue            # a malformed line: quarantined, not a record
                if isinstance(record, dict):
                    records.append(record)
                    rows.append(number)
        frame = pd.DataFrame.from_records(records).reindex(columns=cols)
        for c in cols:
            frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                    else ("true" if v is True else "false" if v is False else str(v)))
        frame["_row"] = rows
        return frame
    if fmt == "geojson":
        with open(sources / spec["file"], encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        frame = pd.DataFrame([f.get("properties") or {} for f in features]).reindex(columns=cols)
        for c in cols:
            frame[c] = frame[c].map(_text)
        frame["_geometry"] = [json.dumps(f.get("geometry")) if f.get("geometry") else None for f in features]
        frame["_row"] = np.arange(1, len(frame) + 1)
        return frame
    if fmt == "xlsx":
        parts = []
        for path in sorted(sources.glob(spec["file"])):
            year = int(re.search(r"FY(\d{4})", path.name).group(1))
            for sheet, raw in pd.read_excel(path, sheet_name=None, header=None, engine="calamine").items():
                header_at = raw.index[raw.apply(lambda r: "รหัสกองทุน" in set(r.astype(str).str.strip()), axis=1)][0]
                names = [str(v).strip() for v in raw.loc[header_at]]
                body = raw.loc[header_at + 1:].copy()
                body.columns = names
                body = body[list(spec["headers"])].rename(columns=spec["headers"])
                body = body.dropna(how="all")
                for c in body.columns:
                    body[c] = body[c].map(_text)
                body["fiscal_year"] = str(year)
                body["region_sheet"] = sheet
                body["_row"] = body.index + 1
                parts.append(body)
        return pd.concat(parts, ignore_index=True)
    raise ValueError(fmt)


# -- cleaning and parsing ------------------------------------------------------------------------

def clean(s: pd.Series) -> pd.Series:
    s = s.astype("str").str.normalize("NFC")
    s = s.str.replace(r"[\u200b\u200c\u200d\ufeff]", "", regex=True)
    s = s.str.replace(r"[\s\u00a0\u2000-\u200a\u3000]+", " ", regex=True).str.strip()
    return s.where(s != "")


def arabic(s: pd.Series) -> pd.Series:
    return s.str.translate(THAI_DIGITS)


def parse_number(s: pd.Series, integer=False):
    t = arabic(s)
    grouped = t.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?").fillna(False).astype(bool)
    t = t.where(~grouped, t.str.replace(",", "", regex=False))
    plain = t.str.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)").fillna(False).astype(bool)
    value = pd.to_numeric(t.where(plain), errors="coerce")
    if integer:
        whole = value.isna() | (value == np.floor(value))
        plain &= whole
        value = value.where(whole)
    return value, t.notna() & ~plain


def ce_year(year: pd.Series) -> pd.Series:
    """A year above 2400 is BE, below 2200 CE; anything between is no year."""
    return year.where(year < 2200, year - 543).where((year > 2400) | (year < 2200))


def parse_date(s: pd.Series, excel=False):
    t = arabic(s)
    dmy = t.str.extract(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
    iso = t.str.extract(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
    day = pd.to_numeric(dmy[0].fillna(iso[2]))
    month = pd.to_numeric(dmy[1].fillna(iso[1]))
    year = ce_year(pd.to_numeric(dmy[2].fillna(iso[0])))
    value = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")
    if excel:
        serial = pd.to_numeric(t.where(t.str.fullmatch(r"\d{5}(?:\.0+)?").fillna(False).astype(bool)))
        serial = serial.where((serial >= 10_000) & (serial <= 80_000))
        value = value.where(serial.isna(), pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D"))
    return value, t.notna() & value.isna()


def parse_be_year(s: pd.Series):
    value, bad = parse_number(s, integer=True)
    be = ce_year(value) + 543
    return be, bad | (value.notna() & be.isna())


def parse_timestamp(s: pd.Series):
    t = arabic(s)
    aware = t.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).astype(bool)
    value = pd.to_datetime(t.where(aware), utc=True, format="ISO8601", errors="coerce")
    naive = pd.to_datetime(t.where(~aware), format="ISO8601", errors="coerce")
    value = value.fillna(naive.dt.tz_localize("Asia/Bangkok").dt.tz_convert("UTC"))
    return value, t.notna() & value.isna()


def parse_bool(s: pd.Series):
    low = s.str.lower()
    value = pd.Series(pd.NA, index=s.index, dtype="boolean")
    value[low.isin(["y", "yes", "true", "t", "1", "ใช่", "มี", "จริง"]).to_numpy()] = True
    value[low.isin(["n", "no", "false", "f", "0", "ไม่ใช่", "ไม่มี", "เท็จ"]).to_numpy()] = False
    return value, s.notna() & value.isna()


def citizen_id_ok(s: pd.Series) -> pd.Series:
    t = arabic(s).str.replace(r"[\s\-]", "", regex=True)
    ok = t.str.fullmatch(r"\d{13}").fillna(False).astype(bool)
    digits = np.stack([t[ok].str[i].astype("int64").to_numpy() for i in range(13)], axis=1)
    check = (11 - (digits[:, :12] * np.arange(13, 1, -1)).sum(axis=1) % 11) % 10
    out = pd.Series(False, index=s.index)
    out[ok] = check == digits[:, 12]
    return out | s.isna()


# -- areas ---------------------------------------------------------------------------------------

class Areas:
    """geothai's codes and the boundary polygons."""

    def __init__(self, boundaries: Path):
        self.current = {s.code for p in geothai.provinces() for d in geothai.districts(p.code)
                   for s in geothai.subdistricts(d.code)}
        self.provinces = {p.code for p in geothai.provinces()}
        self.abolished = {a.code: [c for c in a.successors if c in self.current]
                          for a in abolished_areas() if a.level == "subdistrict"}
        features = json.loads(Path(boundaries).read_text(encoding="utf-8"))["features"]
        self.codes = np.array([str(f["properties"]["code"]) for f in features])
        self.tree = shapely.STRtree(shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))

    def code(self, code):
        if code in self.current:
            return code
        successors = self.abolished.get(code, [])
        return successors[0] if len(successors) == 1 else None

    def code_reason(self, code):
        return "area_unresolved" if code in self.abolished else "area_code_unknown"

    def names(self, sub, dist, prov):
        strip = lambda x: None if x is None or pd.isna(x) else re.sub(  # noqa: E731
            r"^(?:จังหวัด|กิ่งอำเภอ|อำเภอ|ตำบล|แขวง|เขต|จ\.|อ\.|ต\.)\s*", "", x) or x
        sub, dist, prov = strip(sub), strip(dist), strip(prov)
        if prov in ("กทม.", "กทม", "กรุงเทพฯ", "กรุงเทพ", "กรุงเทพ ฯ"):
            prov = "กรุงเทพมหานคร"
        found = geothai.match(sub, district=dist or None, province=prov or None)
        if len(found) == 1:
            return found[0].subdistrict.code
        if found:
            return None
        successors = {c for a in match_abolished(sub, district=dist or None, province=prov or None)
                      for c in a.successors if c in self.current}
        return successors.pop() if len(successors) == 1 else None

    def locate(self, lon: pd.Series, lat: pd.Series) -> pd.Series:
        out = pd.Series(None, index=lon.index, dtype=object)
        ok = lon.notna() & lat.notna()
        if ok.any():
            pts, polys = self.tree.query(shapely.points(lon[ok].to_numpy(float), lat[ok].to_numpy(float)),
                                         predicate="intersects")
            hits = pd.DataFrame({"p": pts, "c": self.codes[polys]}).sort_values(["p", "c"]).drop_duplicates("p")
            out.iloc[np.flatnonzero(ok.to_numpy())[hits["p"].to_numpy()]] = hits["c"].to_numpy()
        return out


# -- the checks ----------------------------------------------------------------------------------

def check_table(name: str, spec: dict, raw: pd.DataFrame, areas: Areas, parents: dict) -> pd.DataFrame:
    """The valid rows, parsed; every other row is dropped (quarantined or a duplicate)."""
    text = pd.DataFrame({c: clean(raw[c]) for c in raw.columns if not c.startswith("_")})
    if "_geometry" in raw:
        text["_geometry"] = raw["_geometry"]
    bad = pd.Series(False, index=raw.index)

    # duplicates: exact copies dropped; of the records of one key only the latest is kept
    identity = [c for c in text.columns if c != "region_sheet"]
    exact = text[identity].duplicated(keep="first")
    keys = pd.DataFrame({k: arabic(text[k]) for k in spec["key"]})
    order = pd.Series(np.arange(len(text)), index=text.index)
    if spec.get("latest_by"):
        stamp, _ = parse_timestamp(text[spec["latest_by"]])
        order = pd.Series(stamp.astype("int64").where(stamp.notna(), np.iinfo(np.int64).min)
                          .to_numpy(), index=text.index)
    ranked = keys[~exact & keys.notna().all(axis=1)].assign(_o=order, _p=np.arange(len(text))[
        (~exact & keys.notna().all(axis=1)).to_numpy()]).sort_values(["_o", "_p"])
    superseded = ranked.duplicated(spec["key"], keep="last")
    bad[superseded[superseded].index] = True

    data = pd.DataFrame(index=raw.index)
    for col in spec.get("required", []):
        bad |= text[col].isna()
    for col, kind in spec["cols"].items():
        s = text[col]
        invalid = pd.Series(False, index=raw.index)
        if kind in ("date", "excel_date"):
            data[col], invalid = parse_date(s, excel=kind == "excel_date")
        elif kind == "be_year":
            data[col], invalid = parse_be_year(s)
        elif kind == "timestamp":
            data[col], invalid = parse_timestamp(s)
        elif kind in ("count", "amount", "rate", "number"):
            data[col], invalid = parse_number(s, integer=kind == "count")
            if kind != "number":
                invalid |= data[col] < 0
            if kind == "rate":
                invalid |= data[col] > 100
        elif kind == "bool":
            data[col], invalid = parse_bool(s)
        elif kind == "citizen_id":
            invalid = ~citizen_id_ok(s)
        elif kind == "code":
            data[col] = arabic(s).str.replace(r"[\s\-]", "", regex=True).str.replace(r"\.0+$", "", regex=True)
        else:
            data[col] = s
        bad |= invalid.fillna(False).astype(bool)
    for col, allowed in spec.get("allowed", {}).items():
        bad |= text[col].notna() & ~text[col].isin(allowed)
    if "fiscal_year" in text and "fiscal_year" not in spec["cols"]:    # a workbook's, from its name
        data["fiscal_year"] = pd.to_numeric(text["fiscal_year"])
    if name in RULES:
        bad |= RULES[name](data).fillna(False).astype(bool)
    if name == "welfare/funds":
        bad |= text["fund_code"] == "รวม"
    if "parent" in spec:
        parent, child_col, parent_col = spec["parent"]
        bad |= text[child_col].notna() & ~text[child_col].isin(parents[parent])

    area = spec.get("area")
    if area and "province" in area:
        bad |= ~data[area["province"]].isin(areas.provinces)
    elif area and "mixed" in area:
        code = data[area["mixed"]]
        prov = code.str.len() == 2
        digits = arabic(code).str.replace(r"[\s\-]", "", regex=True)
        resolved = digits[~prov].map(areas.code)
        bad |= (prov & ~code.isin(areas.provinces)) | (~prov & resolved.reindex(code.index).isna())
        data["subdistrict_code"] = resolved
    elif area:
        resolved = pd.Series(None, index=raw.index, dtype=object)
        if area.get("point"):
            if name == "environment/sites":
                geoms = shapely.from_geojson(text["_geometry"].fillna("null").tolist(), on_invalid="ignore")
                ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
                bad |= ~pd.Series(ok, index=raw.index)
                xy = np.full((len(geoms), 2), np.nan)
                xy[ok] = shapely.get_coordinates(shapely.point_on_surface(geoms[ok]))
                data["lon"], data["lat"] = xy[:, 0], xy[:, 1]
            lon, lat = data["lon"], data["lat"]
            swap = (~(lat.between(5, 21) & lon.between(97, 106)) & lon.between(5, 21) & lat.between(97, 106))
            lon, lat = lon.where(~swap, lat), lat.where(~swap, lon)
            located = areas.locate(lon, lat)
            # a point must lie in Thailand, code or not
            bad |= lon.notna() & lat.notna() & located.isna()
        code = data[area["code"]] if area.get("code") else pd.Series(None, index=raw.index, dtype=object)
        has = code.notna()
        resolved[has] = code[has].map(areas.code)
        bad |= has & resolved.isna()
        todo = ~has
        if area.get("names"):
            sub, dist, prov = (text[c] for c in area["names"])
            named = todo & sub.notna()
            triples = pd.DataFrame({"s": sub, "d": dist, "p": prov})[named]
            lookup = {t: areas.names(*t) for t in set(map(tuple, triples.astype(object).where(triples.notna(), None).to_numpy()))}
            resolved[named] = [lookup[t] for t in map(tuple, triples.astype(object).where(triples.notna(), None).to_numpy())]
            todo &= ~named
        if area.get("point"):
            pointed = todo & located.notna()
            resolved[pointed] = located[pointed].map(areas.code)
        bad |= resolved.isna()
        data["subdistrict_code"] = resolved
    return data[~(exact | bad).to_numpy()]


# -- the indicators ------------------------------------------------------------------------------

def fiscal_year(d: pd.Series) -> pd.Series:
    return d.dt.year + np.where(d.dt.month >= 10, 544, 543)


def cumulative(first: pd.Series) -> dict[int, float]:
    return {y: float((first <= y).sum()) for y in PLAN_YEARS}


def kpis(valid: dict[str, pd.DataFrame]) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    p, f, g = valid["housing/projects"], valid["welfare/funds"], valid["finance/savings_groups"]
    e, s = valid["disaster/events"], valid["environment/sites"]
    latest = f.sort_values(["fiscal_year", "_order"], ascending=[False, True]).drop_duplicates("fund_code")
    bangkok = e["started_at"].dt.tz_convert("Asia/Bangkok")
    activity = pd.concat([
        pd.DataFrame({"sub": p["subdistrict_code"], "fy": fiscal_year(p["approved_date"]), "issue": "housing"}),
        pd.DataFrame({"sub": latest["subdistrict_code"], "fy": fiscal_year(latest["established_date"]), "issue": "welfare"}),
        pd.DataFrame({"sub": g["subdistrict_code"], "fy": fiscal_year(g["report_date"]), "issue": "finance"}),
        pd.DataFrame({"sub": e["subdistrict_code"], "fy": bangkok.dt.year + np.where(bangkok.dt.month >= 10, 544, 543),
                      "issue": "disaster"})[e["community_plan"].fillna(False).to_numpy(bool)],
        pd.DataFrame({"sub": s["subdistrict_code"], "fy": s["established_year"], "issue": "environment"}),
    ]).dropna()
    issues = activity.groupby(["sub", "fy"])["issue"].nunique()
    first = issues[issues >= 2].reset_index().groupby("sub")["fy"].min()
    out.update({("K1", y): v for y, v in cumulative(first).items()})

    h = valid["housing/households"]
    moved = fiscal_year(h["moved_in_date"]).value_counts()
    out.update({("K2", y): float(moved.get(y, 0)) for y in PLAN_YEARS})

    t = valid["organization/tambon_plans"]
    first = t[t["has_self_analysis_data"].fillna(False) & t["has_development_plan"].fillna(False)] \
        .groupby("subdistrict_code")["fiscal_year"].min()
    out.update({("K3", y): v for y, v in cumulative(first).items()})

    r = valid["organization/province_reports"]
    for kpi, flag in (("K4", "has_status_assessment"), ("K5", "has_plan_linkage"),
                      ("K6", "has_development_report")):
        first = r[r[flag].fillna(False)].groupby("province_code")["fiscal_year"].min()
        out.update({(kpi, y): v for y, v in cumulative(first).items()})

    c = valid["organization/councils"]
    registered = cumulative(fiscal_year(c["registered_date"].dropna()))
    out.update({("K7", y): v for y, v in registered.items()})

    a = valid["organization/council_assessments"]
    passed = a[a["quality_passed"].fillna(False)].groupby("fiscal_year")["council_code"].nunique()
    out.update({("K8", y): round(100 * passed.get(y, 0) / registered[y], 2) if registered[y] else None
                for y in PLAN_YEARS})

    lt = valid["organization/leader_training"]
    leaders = lt.groupby("fiscal_year")["new_leaders"].sum()
    out.update({("K9", y): float(leaders.get(y, 0)) for y in PLAN_YEARS})

    j = valid["organization/joint_areas"]
    meets = (j["has_joint_system"] & (j["integrated_plan_or_budget"] | j["public_policy_driven"]
                                      | j["concrete_outcome"])).fillna(False)
    share = meets.groupby(j["fiscal_year"]).agg(["sum", "count"])
    out.update({("K10", y): round(100 * share.loc[y, "sum"] / share.loc[y, "count"], 2)
                if y in share.index else None for y in PLAN_YEARS})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--boundaries", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    stages, rows = {}, {}

    def stage(label, started):
        stages[label] = {"wall_s": time.perf_counter() - started[0], "cpu_s": time.process_time() - started[1]}

    t0 = (time.perf_counter(), time.process_time())
    raws = {name: read_table(name, spec, args.sources) for name, spec in TABLES.items()}
    stage("read", t0)
    t0 = (time.perf_counter(), time.process_time())
    areas = Areas(args.boundaries)
    parents = {name: set(clean(raws[name][col]).dropna())
               for name, col in (("housing/projects", "project_code"), ("welfare/funds", "fund_code"),
                                 ("finance/loans", "loan_no"), ("organization/councils", "council_code"))}
    valid = {}
    for name, spec in TABLES.items():
        valid[name] = check_table(name, spec, raws[name], areas, parents)
        valid[name]["_order"] = raws[name]["_row"].reindex(valid[name].index)
        rows[name] = {"read": len(raws[name]), "valid": len(valid[name])}
        raws[name] = None       # a team's script would keep going with the checked frames
    stage("checks", t0)
    t0 = (time.perf_counter(), time.process_time())
    actuals = kpis(valid)
    stage("aggregate", t0)
    args.out.write_text(json.dumps({
        "stages": stages, "rows": rows,
        "actuals": [{"kpi_id": k, "fiscal_year": y, "actual": v} for (k, y), v in sorted(actuals.items())],
    }, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
