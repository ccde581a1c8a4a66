"""Runs bench/floor.sql: the floor of the benchmark. DuckDB does the reading and the counting;
this runner only hands it what DuckDB cannot read or compute here without extensions (SQLite,
xlsx, Windows-874, point in polygon) and geothai's area reference and name matcher.

Usage: python bench/floor.py --sources DIR --boundaries FILE --tmp DIR --out result.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sqlite3
import time
from pathlib import Path

import duckdb
import geothai
import pyarrow as pa
import python_calamine
import shapely
from geothai.abolished import abolished_areas, match_abolished

HERE = Path(__file__).resolve().parent


def _text(v):
    if v is None or v == "":
        return None
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def stages(sql: str) -> dict[str, str]:
    parts = re.split(r"^-- @stage (\w+)\s*$", sql, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def read_sqlite(con, path: Path) -> None:
    db = sqlite3.connect(path)
    for table in ("projects", "households"):
        cur = db.execute(f"select rowid as _row, * from {table}")
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        columns = {n: pa.array([r[i] if n == "_row" else _text(r[i]) for r in rows])
                   for i, n in enumerate(names)}
        con.register(f"raw_{table}_arrow", pa.table(columns))
        con.execute(f"create or replace table raw_{table} as select * from raw_{table}_arrow")
    db.close()


def read_workbooks(con, folder: Path) -> None:
    """Each sheet's header row is found by its first header, รหัสกองทุน; blank rows skipped."""
    columns: dict[str, list] = {}
    extra = {"fiscal_year": [], "_row": [], "_pos": []}
    names = None
    for path in sorted(folder.glob("funds_FY*.xlsx")):
        year = int(re.search(r"FY(\d{4})", path.name).group(1))
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for sheet in book.sheet_names:
            rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            start = next(i for i, r in enumerate(rows) if r and str(r[0]).strip() == "รหัสกองทุน")
            header = [str(h).strip() for h in rows[start]]
            if names is None:
                names = header
                columns = {h: [] for h in header}
            for number, r in enumerate(rows[start + 1:], start=start + 2):
                cells = [_text(v) for v in r]
                if all(c is None for c in cells):
                    continue
                for h, c in zip(header, cells):
                    columns[h].append(c)
                extra["fiscal_year"].append(year)
                extra["_row"].append(number)
                extra["_pos"].append(len(extra["_pos"]))
    english = {"รหัสกองทุน": "fund_code", "ตำบล": "subdistrict_name", "อำเภอ": "district_name",
               "จังหวัด": "province_name", "วันที่จัดตั้ง": "established_date", "จำนวนสมาชิก": "members",
               "เงินกองทุนคงเหลือ": "fund_balance"}
    table = pa.table({english.get(h, h): pa.array(v, pa.string()) for h, v in columns.items()}
                     | {k: pa.array(v) for k, v in extra.items()})
    con.register("raw_funds_arrow", table)
    con.execute("create or replace table raw_funds as select * from raw_funds_arrow")


def read_sites(path: Path) -> tuple[pa.Table, list]:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    props = [f.get("properties") or {} for f in features]
    cols = ("site_code", "kind", "name", "area_rai", "households_involved", "established_year",
            "subdistrict_code")
    geoms = shapely.from_geojson([json.dumps(f.get("geometry")) for f in features], on_invalid="ignore")
    table = pa.table({c: pa.array([_text(p.get(c)) for p in props], pa.string()) for c in cols}
                     | {"_row": pa.array(range(1, len(features) + 1))})
    return table, geoms


def reference(con) -> None:
    current = {s.code for p in geothai.provinces() for d in geothai.districts(p.code)
                   for s in geothai.subdistricts(d.code)}
    con.register("ref_subdistrict_arrow", pa.table({"code": sorted(current)}))
    abolished = [(a.code, [s for s in a.successors if s in current]) for a in abolished_areas()
                 if a.level == "subdistrict"]
    one = [(c, s[0]) for c, s in abolished if len(s) == 1]
    con.register("ref_abolished_arrow", pa.table({"code": [c for c, _ in one],
                                                  "successor": [s for _, s in one]}))
    con.register("ref_province_arrow", pa.table({"code": [p.code for p in geothai.provinces()]}))
    for t in ("subdistrict", "abolished", "province"):
        con.execute(f"create or replace table ref_{t} as select * from ref_{t}_arrow")


def name_area(con) -> None:
    """geothai's matcher on each distinct (subdistrict, district, province) the records name."""
    clean = "nullif(trim(regexp_replace(nfc_normalize({0}), '\\s+', ' ', 'g')), '')"
    triples = con.execute(f"""
        select distinct {clean.format('subdistrict')}, {clean.format('district')}, {clean.format('province')}
        from raw_projects where nullif(trim(subdistrict_code), '') is null
        union
        select distinct {clean.format('subdistrict_name')}, {clean.format('district_name')},
               {clean.format('province_name')} from raw_funds""").fetchall()
    rows = []
    for s, d, p in triples:
        if s is None:
            continue
        found = geothai.match(s, district=d, province=p)
        code = found[0].subdistrict.code if len(found) == 1 else None
        if not found:
            succ = {c for a in match_abolished(s, district=d, province=p) for c in a.successors
                    if geothai.subdistrict(c) is not None}
            code = succ.pop() if len(succ) == 1 else None
        rows.append((s, d, p, code))
    con.register("name_area_arrow", pa.table({k: pa.array([r[i] for r in rows], pa.string())
                                              for i, k in enumerate("sdp")} | {"code": [r[3] for r in rows]}))
    con.execute("create or replace table name_area as select * from name_area_arrow")


def point_area(con, boundaries: Path, site_geoms) -> None:
    """The polygon each event and site point falls in (lat/lon swapped back where the swap is
    the one inside Thailand); the lowest code where a point is on a border."""
    features = json.loads(boundaries.read_text(encoding="utf-8"))["features"]
    codes = [str(f["properties"]["code"]) for f in features]
    tree = shapely.STRtree(shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))
    ev = con.execute("""select _row, try_cast(translate(lon, '๐๑๒๓๔๕๖๗๘๙', '0123456789') as double),
                               try_cast(translate(lat, '๐๑๒๓๔๕๖๗๘๙', '0123456789') as double)
                        from raw_events""").fetchall()
    ok = [g is not None and not shapely.is_empty(g) for g in site_geoms]
    centre = [shapely.get_coordinates(shapely.point_on_surface(g))[0] if o else (None, None)
              for g, o in zip(site_geoms, ok)]
    points = [("events", r, x, y) for r, x, y in ev] + \
             [("sites", i + 1, c[0], c[1]) for i, c in enumerate(centre)]
    source, rows, lon, lat = [], [], [], []
    for s, r, x, y in points:
        if x is not None and y is not None and not (5 <= y <= 21 and 97 <= x <= 106) \
                and 5 <= x <= 21 and 97 <= y <= 106:
            x, y = y, x
        source.append(s), rows.append(r), lon.append(x), lat.append(y)
    has = [x is not None and y is not None for x, y in zip(lon, lat)]
    idx = [i for i, h in enumerate(has) if h]
    found: dict[int, str] = {}
    hit_p, hit_g = tree.query(shapely.points([lon[i] for i in idx], [lat[i] for i in idx]),
                              predicate="intersects")
    for p, g in zip(hit_p.tolist(), hit_g.tolist()):
        i = idx[p]
        found[i] = min(found.get(i, codes[g]), codes[g])
    con.register("point_area_arrow", pa.table({
        "source": source, "_row": rows, "has_point": has,
        "polygon_code": pa.array([found.get(i) for i in range(len(source))], pa.string())}))
    con.execute("create or replace table point_area as select * from point_area_arrow")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--boundaries", type=Path, required=True)
    parser.add_argument("--tmp", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sql = stages((HERE / "floor.sql").read_text(encoding="utf-8"))
    timings = {}

    def timed(label, fn):
        t = (time.perf_counter(), time.process_time())
        fn()
        timings[label] = {"wall_s": time.perf_counter() - t[0], "cpu_s": time.process_time() - t[1]}

    con = duckdb.connect()
    args.tmp.mkdir(parents=True, exist_ok=True)
    site_table = {}

    def convert_and_read():
        for name in ("savings_groups", "loans", "repayments"):
            text = (args.sources / "finance" / f"{name}.csv").read_bytes().decode("cp874")
            (args.tmp / f"{name}.csv").write_text(text, encoding="utf-8")
        read_sqlite(con, args.sources / "housing" / "baan_mankong.sqlite")
        read_workbooks(con, args.sources / "welfare")
        table, geoms = read_sites(args.sources / "environment" / "sites.geojson")
        con.register("raw_sites_arrow", table)
        con.execute("create or replace table raw_sites as select * from raw_sites_arrow")
        site_table["geoms"] = geoms

    timed("read (python: sqlite, xlsx, cp874, geojson)", convert_and_read)
    timed("read (sql)", lambda: con.execute(sql["load"].replace("{sources}", str(args.sources))
                                            .replace("{utf8}", str(args.tmp))))

    def areas():
        reference(con)
        name_area(con)
        point_area(con, args.boundaries, site_table["geoms"])

    timed("areas (python: geothai, polygons)", areas)
    timed("kpi (sql)", lambda: con.execute(sql["kpi"]))
    actuals = con.execute("select kpi_id, fiscal_year, actual from kpi_actuals order by all").fetchall()
    args.out.write_text(json.dumps({
        "stages": timings,
        "actuals": [{"kpi_id": k, "fiscal_year": int(y), "actual": a} for k, y, a in actuals],
    }, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
