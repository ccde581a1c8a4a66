"""Damaged variants of the small sources, the way real exports break (issue 13), each with what a
user must see. A variant changes files of a copy of the clean small sources in place and returns
the `Damage`: which rows must end in the quarantine, the personal values it wrote (for the
privacy scan), and how row numbers moved.

What a user must see (`Variant.expect`):
- REFUSED: the table is refused as a whole (`SourceError`), the message names the file, the
  table and what is wrong (`names`), and the last good load stays;
- QUARANTINED: the table loads; the damaged rows are in the quarantine (by file and row), every
  other row is where it was in the clean load;
- REFUSED_OR_QUARANTINED: either of the two, but never a silent merge or loss: loaded, every
  physical record is one row (valid, quarantined or a counted duplicate) and the damaged rows
  are quarantined;
- SAME: the table loads exactly as the clean one does (a harmless change of form);
- FIXED_OR_QUARANTINED: the damaged rows are quarantined, or valid with the fault repaired and
  the repair recorded (`check`).

`e2e` puts a variant into one of the two full pipeline runs of tests/test_faults.py: "A" (the
first run, row-level damage that must still publish) or "B" (the next run, tables that must be
refused while the rest stays published; not a parent of another "B" table, whose load would
then not even be tried). Every variant is also loaded alone (`alone`), on a clean lake.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from faults.formats import (Lines, Truth, cut, geojson, header_row, rebuild_sqlite_table, sqlite,
                            workbook, write_geojson)

REFUSED = "refused"
QUARANTINED = "quarantined"
REFUSED_OR_QUARANTINED = "refused or quarantined"
SAME = "same as clean"
FIXED_OR_QUARANTINED = "fixed or quarantined"

REPAYMENTS, LOANS, GROUPS = "finance/repayments.csv", "finance/loans.csv", "finance/savings_groups.csv"
HOUSING = "housing/baan_mankong.sqlite"
EVENTS, SITES = "disaster/events.ndjson", "environment/sites.geojson"


@dataclass
class Damage:
    """What a variant did. `quarantined`: table -> (file, row) that must be quarantined;
    `secrets`: personal strings it wrote in a new form (a name with a NUL in it);
    `moved`: table -> function from a clean row (file, row) to its row now (None: gone);
    `info`: anything a variant's own check needs."""

    quarantined: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    moved: dict[str, Callable[[str, int], int | None]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def quarantine(self, table: str, file: str, row: int) -> None:
        self.quarantined.setdefault(table, set()).add((file, row))

    def merge(self, other: "Damage") -> None:
        for table, rows in other.quarantined.items():
            self.quarantined.setdefault(table, set()).update(rows)
        self.secrets += other.secrets
        for table, fn in other.moved.items():
            assert table not in self.moved, f"two variants move the rows of {table}"
            self.moved[table] = fn
        self.info.update(other.info)


@dataclass(frozen=True)
class Variant:
    name: str
    fmt: str                            # the source format damaged
    tables: tuple[str, ...]             # loaded in this order (parents first)
    expect: str
    promise: str                        # what the user sees, in words
    damage: Callable[[Path, Truth], Damage]
    names: tuple[str, ...] = ()         # what a refusal's message must name
    e2e: str | None = None              # "A" or "B"
    check: Callable | None = None       # extra check: check(outcomes, damage)
    moves: bool = False                 # inserts or removes lines (renumbers the rows after)
    hint: str | None = None             # a pattern a refusal's message must match too
    alone: bool = True                  # also loaded alone, on top of a clean load of every table

    @property
    def table(self) -> str:
        """The table judged (the last loaded)."""
        return self.tables[-1]

    def __str__(self) -> str:
        return self.name


# -- CSV in Windows-874 (finance) -------------------------------------------------------------------

def _clean_line(truth: Truth, lines: Lines, file: str, start: int = 5, skip: int = 0) -> int:
    return truth.clean(file, range(start, len(lines.data_lines())), skip=skip)


def stray_quote(sources: Path, truth: Truth) -> Damage:
    """One `"` typed at the start of a field near the top of the repayments: a parser that
    trusts quotes reads the following lines as one field up to the next quote in the file."""
    lines = Lines(sources / REPAYMENTS)
    n = _clean_line(truth, lines, REPAYMENTS)
    f = lines.fields(n)
    lines.lines[n - 1] = ",".join(f[:2]) + ',"' + ",".join(f[2:]) + lines.eol
    lines.save()
    d = Damage()
    d.quarantine("finance/repayments", REPAYMENTS, n)
    d.info["line"] = n
    return d


def truncated_csv(sources: Path, truth: Truth) -> Damage:
    """The repayments cut off in the middle of a line, three lines before the end."""
    lines = Lines(sources / REPAYMENTS)
    last = lines.data_lines()[-4]
    text = lines.lines[last - 1]
    lines.lines = lines.lines[:last - 1] + [text[: len(text) // 2]]
    lines.save()
    d = Damage()
    d.quarantine("finance/repayments", REPAYMENTS, last)
    d.moved["finance/repayments"] = lambda f, r: r if r < last else None
    return d


def reencoded_loans(sources: Path, truth: Truth) -> Damage:
    """The loans exported in UTF-8 where the agency's system writes Windows-874."""
    path = sources / LOANS
    path.write_bytes(path.read_bytes().decode("cp874").encode("utf-8"))
    return Damage()


def reordered_loans(sources: Path, truth: Truth) -> Damage:
    """The loans' columns in another order (a new version of the export query)."""
    lines = Lines(sources / LOANS)
    header = lines.header()
    order = [header.index(c) for c in ("principal", "borrower_name", "loan_no")]
    order += [i for i in range(len(header)) if i not in order]
    for n in [1, *lines.data_lines()]:
        f = lines.fields(n)
        lines.set_fields(n, [f[i] for i in order])
    lines.save()
    return Damage()


def renamed_column(sources: Path, truth: Truth) -> Damage:
    lines = Lines(sources / LOANS)
    lines.lines[0] = lines.lines[0].replace("principal", "principal_baht", 1)
    lines.save()
    return Damage()


def _not_disbursed(lines: Lines, truth: Truth, skip: int = 0) -> int:
    """A loan not disbursed yet (no repayments refer to it): quarantining it orphans nothing."""
    status = lines.header().index("status")
    candidates = [n for n in lines.data_lines() if lines.fields(n)[status] == "อนุมัติ"]
    return truth.clean(LOANS, candidates, skip=skip)


def huge_amount(sources: Path, truth: Truth) -> Damage:
    """A 309-digit principal: beyond a double, it would read as infinity."""
    lines = Lines(sources / LOANS)
    n = _not_disbursed(lines, truth)
    lines.set_field(n, "principal", "1" + "0" * 308)
    lines.save()
    d = Damage()
    d.quarantine("finance/loans", LOANS, n)
    return d


def date_1900(sources: Path, truth: Truth) -> Damage:
    """A contract dated 1900: decades before CODI (or its predecessor) lent anything."""
    lines = Lines(sources / LOANS)
    n = _not_disbursed(lines, truth, skip=1)
    lines.set_field(n, "contract_date", "15/03/1900")
    lines.save()
    d = Damage()
    d.quarantine("finance/loans", LOANS, n)
    return d


def date_2600(sources: Path, truth: Truth) -> Damage:
    """A contract dated 2600 BE (2057): a typing slip that would add forty fiscal years to the
    area marts."""
    lines = Lines(sources / LOANS)
    n = _not_disbursed(lines, truth, skip=2)
    lines.set_field(n, "contract_date", "15/03/2600")
    lines.save()
    d = Damage()
    d.quarantine("finance/loans", LOANS, n)
    return d


def duplicated_header(sources: Path, truth: Truth) -> Damage:
    """Two exports of the savings groups concatenated: the header line again in the middle."""
    lines = Lines(sources / GROUPS)
    at = len(lines.lines) // 2
    lines.lines.insert(at, lines.lines[0])
    lines.save()
    d = Damage()
    d.quarantine("finance/savings_groups", GROUPS, at + 1)
    d.moved["finance/savings_groups"] = lambda f, r: r if r <= at else r + 1
    d.info["header_line"] = at + 1
    return d


def nul_in_name(sources: Path, truth: Truth) -> Damage:
    """A NUL byte inside a savings group's name (a C program's string in the export)."""
    lines = Lines(sources / GROUPS)
    n = _clean_line(truth, lines, GROUPS)
    name = lines.fields(n)[lines.header().index("group_name")]
    lines.set_field(n, "group_name", name[:4] + "\x00" + name[4:])
    lines.save()
    d = Damage()
    d.quarantine("finance/savings_groups", GROUPS, n)
    return d


# -- CSV in UTF-8 (welfare members: personal) --------------------------------------------------------

def _members(sources: Path, province: str) -> tuple[Lines, str]:
    rel = f"welfare/members/{province}.csv"
    return Lines(sources / rel, "utf-8"), rel


def no_closing_quote(sources: Path, truth: Truth) -> Damage:
    """A member's status opened with a quote that never closes: everything after it would read
    as one field, citizen IDs included."""
    lines, rel = _members(sources, "58")
    n = _clean_line(truth, lines, rel, start=10)
    f = lines.fields(n)
    f[-1] = '"' + f[-1]
    lines.lines[n - 1] = ",".join(f) + lines.eol
    lines.save()
    d = Damage()
    d.quarantine("welfare/members", rel, n)
    return d


def extra_fields(sources: Path, truth: Truth) -> Damage:
    """A member row with two fields too many (a comment typed into the sheet, split on commas)."""
    lines, rel = _members(sources, "38")
    n = _clean_line(truth, lines, rel, start=20)
    lines.set_fields(n, lines.fields(n) + ["ย้ายไป", "ต.นาจาน"])
    lines.save()
    d = Damage()
    d.quarantine("welfare/members", rel, n)
    return d


def missing_fields(sources: Path, truth: Truth) -> Damage:
    lines, rel = _members(sources, "83")
    n = _clean_line(truth, lines, rel, start=30)
    lines.set_fields(n, lines.fields(n)[:-2])
    lines.save()
    d = Damage()
    d.quarantine("welfare/members", rel, n)
    return d


def header_missing(sources: Path, truth: Truth) -> Damage:
    """A member file whose header line is missing: its first line is a member, citizen ID
    included, and must not be quoted in any message."""
    lines, rel = _members(sources, "17")
    lines.lines = lines.lines[1:]
    lines.save()
    return Damage(info={"file": rel})


def reencoded_members(sources: Path, truth: Truth) -> Damage:
    """A member file saved in Windows-874 where UTF-8 is expected."""
    path = sources / "welfare/members/38.csv"
    path.write_bytes(path.read_bytes().decode("utf-8").encode("cp874"))
    return Damage()


# -- CSV in UTF-8 with BOM, CRLF (organization) --------------------------------------------------------

def mixed_line_endings(sources: Path, truth: Truth) -> Damage:
    """Every third line of the councils ends in LF instead of CRLF (lines appended by hand)."""
    lines = Lines(sources / "organization/councils.csv", "utf-8")
    for i in range(2, len(lines.lines), 3):
        lines.lines[i] = lines.lines[i].rstrip("\r")
    lines.save()
    return Damage()


def reordered_joint_areas(sources: Path, truth: Truth) -> Damage:
    lines = Lines(sources / "organization/joint_areas.csv", "utf-8")
    lines.lines[0] = lines.lines[0].lstrip("\ufeff")
    header = lines.header()
    order = list(reversed(range(len(header))))
    for n in [1, *lines.data_lines()]:
        f = lines.fields(n)
        lines.set_fields(n, [f[i] for i in order])
    lines.lines[0] = "\ufeff" + lines.lines[0]
    lines.save()
    return Damage()


def no_data_years(sources: Path, truth: Truth) -> Damage:
    """No joint-area records at all for FY2557-2559: indicator K10 has nothing to count in three
    plan years. Its actual is null, its status `no data`, and it publishes."""
    lines = Lines(sources / "organization/joint_areas.csv", "utf-8")
    year = lines.header().index("fiscal_year")
    gone = {n for n in lines.data_lines()
            if lines.fields(n)[year].translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
            in {"2557", "2558", "2559", "2014", "2015", "2016"}}
    kept = [line for i, line in enumerate(lines.lines, start=1) if i not in gone]
    new_row = {}
    for old in range(1, len(lines.lines) + 1):
        if old not in gone:
            new_row[old] = len(new_row) + 1
    lines.lines = kept
    lines.save()
    d = Damage(info={"no_data_years": (2557, 2558, 2559)})
    d.moved["organization/joint_areas"] = lambda f, r: new_row.get(r)
    return d


def shrunk_export(sources: Path, truth: Truth) -> Damage:
    """The tambon plans cut to 60 % of their rows (a filtered query): more than 10 % fewer rows
    than the last good load."""
    lines = Lines(sources / "organization/tambon_plans.csv", "utf-8")
    data = lines.data_lines()
    keep = data[: int(len(data) * 0.6)]
    lines.lines = [lines.lines[0]] + [lines.lines[n - 1] for n in keep] + [""]
    lines.save()
    return Damage()


def truncated_utf8_csv(sources: Path, truth: Truth) -> Damage:
    """The council assessments cut off in the middle of their second-to-last line."""
    rel = "organization/council_assessments.csv"
    lines = Lines(sources / rel, "utf-8")
    last = lines.data_lines()[-2]
    text = lines.lines[last - 1]
    lines.lines = lines.lines[:last - 1] + [text[: len(text) // 2]]
    lines.save()
    d = Damage()
    d.quarantine("organization/council_assessments", rel, last)
    d.moved["organization/council_assessments"] = lambda f, r: r if r < last else None
    return d


# -- SQLite (housing: households are personal) ----------------------------------------------------------

def _completed_projects(con, truth: Truth, n: int, skip: int = 0) -> list[tuple[int, str]]:
    """Completed projects with households, whose rows (and neighbours) carry no defect."""
    rows = con.execute("""select p.rowid, p.project_code from projects p
                          where p.status = 'แล้วเสร็จ'
                            and (select count(*) from projects q where q.project_code = p.project_code) = 1
                            and exists (select 1 from households h where h.project_code = p.project_code)
                          order by p.rowid""").fetchall()
    # Projects and households share the file in the truth: only the projects' rows matter here.
    flawed = {int(r["source_row"]) for r in truth.rows if r["table"] == "projects"}
    ok = [r for r in rows if not {r[0] - 1, r[0], r[0] + 1} & flawed]
    return ok[skip:skip + n]


def _children(con, codes: list[str]) -> set[tuple[str, int]]:
    marks = ",".join("?" * len(codes))
    return {(HOUSING, r[0]) for r in
            con.execute(f"select rowid from households where project_code in ({marks})", codes)}


def quarantined_parents(sources: Path, truth: Truth) -> Damage:
    """Two completed projects with an unreadable cell each (planned households typed in words):
    the projects are quarantined, and so must be their households (`parent_quarantined`), which
    must not then fail a relationship test downstream."""
    d = Damage()
    with sqlite(sources / HOUSING) as con:
        chosen = _completed_projects(con, truth, 2)
        for rowid, _ in chosen:
            con.execute("update projects set households_planned = 'ห้าสิบ' where rowid = ?", [rowid])
            d.quarantine("housing/projects", HOUSING, rowid)
        children = _children(con, [code for _, code in chosen])
    d.quarantined["housing/households"] = children
    d.info["parent_codes"] = [code for _, code in chosen]
    return d


def _clean_households(con, truth: Truth, n: int, skip: int = 0) -> list[int]:
    flawed = {int(r["source_row"]) for r in truth.rows if r["table"] == "households"}
    rows = [r[0] for r in con.execute("select rowid from households order by rowid")]
    ok = [r for r in rows if not {r - 1, r, r + 1} & flawed]
    return ok[skip:skip + n]


def count_20_digits(sources: Path, truth: Truth) -> Damage:
    """A household of 12,345,678,901,234,567,890 members: beyond a 64-bit integer."""
    d = Damage()
    with sqlite(sources / HOUSING) as con:
        [rowid] = _clean_households(con, truth, 1, skip=40)
        con.execute("update households set members = '12345678901234567890' where rowid = ?", [rowid])
        d.quarantine("housing/households", HOUSING, rowid)
    return d


def nul_in_personal_name(sources: Path, truth: Truth) -> Damage:
    """A NUL byte inside a household head's name: quarantined, and the name (with or without its
    NUL) appears nowhere in clear."""
    d = Damage()
    with sqlite(sources / HOUSING) as con:
        [rowid] = _clean_households(con, truth, 1, skip=80)
        name = con.execute("select head_name from households where rowid = ?", [rowid]).fetchone()[0]
        damaged = name[:5] + "\x00" + name[5:]
        con.execute("update households set head_name = ? where rowid = ?", [damaged, rowid])
        d.quarantine("housing/households", HOUSING, rowid)
    d.secrets += [damaged, name[:5], name[5:]] if len(name[5:]) >= 6 else [damaged]
    return d


def truncated_sqlite(sources: Path, truth: Truth) -> Damage:
    cut(sources / HOUSING, 0.7)
    return Damage()


def reordered_sqlite(sources: Path, truth: Truth) -> Damage:
    """The households table rebuilt with its columns in another order (a schema migration)."""
    with sqlite(sources / HOUSING) as con:
        columns = [r[1] for r in con.execute("pragma table_info(households)")]
    rebuild_sqlite_table(sources / HOUSING, "households", columns[::-1])
    return Damage()


# -- xlsx (welfare funds) ----------------------------------------------------------------------------

FIRST_HEADER = "รหัสกองทุน"


def renamed_header_xlsx(sources: Path, truth: Truth) -> Damage:
    """A workbook whose members column is headed สมาชิก instead of จำนวนสมาชิก."""
    path = sources / "welfare/funds_FY2558.xlsx"
    book = workbook(path)
    for sheet in book.worksheets:
        row = header_row(sheet, FIRST_HEADER)
        for cell in sheet[row]:
            if cell.value == "จำนวนสมาชิก":
                cell.value = "สมาชิก"
    book.save(path)
    return Damage()


def reordered_xlsx(sources: Path, truth: Truth) -> Damage:
    """Two columns of every sheet of a workbook swapped (with their headers)."""
    path = sources / "welfare/funds_FY2556.xlsx"
    book = workbook(path)
    for sheet in book.worksheets:
        row = header_row(sheet, FIRST_HEADER)
        names = [c.value for c in sheet[row]]
        a, b = names.index("ชื่อกองทุน") + 1, names.index("จำนวนสมาชิก") + 1
        for r in range(row, sheet.max_row + 1):
            x, y = sheet.cell(r, a), sheet.cell(r, b)
            (x.value, x.number_format), (y.value, y.number_format) = \
                (y.value, y.number_format), (x.value, x.number_format)
    book.save(path)
    return Damage()


def truncated_xlsx(sources: Path, truth: Truth) -> Damage:
    cut(sources / "welfare/funds_FY2556.xlsx", 0.6)
    return Damage()


# -- NDJSON (disaster events) --------------------------------------------------------------------------

def _event_lines(sources: Path) -> Lines:
    return Lines(sources / EVENTS, "utf-8")


def _clean_event(lines: Lines, truth: Truth, want=None, skip: int = 0) -> int:
    candidates = []
    for n in range(1, len(lines.lines) + 1):
        text = lines.lines[n - 1].strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if want is None or want(record):
            candidates.append(n)
    return truth.clean(EVENTS, candidates, skip=skip)


def line_separator_in_string(sources: Path, truth: Truth) -> Damage:
    """A field reporter's note with U+2028 and U+2029 in it (valid JSON, written raw): one
    record, one line; every later line keeps its number."""
    lines = _event_lines(sources)
    n = _clean_event(lines, truth, skip=5)
    record = json.loads(lines.lines[n - 1])
    record["note"] = "น้ำท่วมสูง\u2028ถนนขาด\u2029อพยพแล้ว"
    lines.lines[n - 1] = json.dumps(record, ensure_ascii=False)
    lines.save()
    return Damage(info={"line": n})


def nul_escaped_in_string(sources: Path, truth: Truth) -> Damage:
    r"""A hazard written as "flo\u0000od": valid JSON, a NUL in the value."""
    lines = _event_lines(sources)
    n = _clean_event(lines, truth, skip=10)
    record = json.loads(lines.lines[n - 1])
    record["hazard"] = record["hazard"][:2] + "\x00" + record["hazard"][2:]
    lines.lines[n - 1] = json.dumps(record, ensure_ascii=False)   # the NUL written as \u0000
    lines.save()
    d = Damage()
    d.quarantine("disaster/events", EVENTS, n)
    return d


FAR_CODE = "580101"     # Mae Hong Son's first subdistrict, a thousand kilometres from Phuket


def point_far_from_code(sources: Path, truth: Truth) -> Damage:
    """An event in Phuket whose subdistrict code names a subdistrict in Mae Hong Son."""
    lines = _event_lines(sources)
    n = _clean_event(lines, truth, want=lambda r: str(r.get("subdistrict_code") or "").startswith("83"))
    record = json.loads(lines.lines[n - 1])
    d = Damage(info={"event_line": n, "event_id": record["event_id"],
                     "true_code": record["subdistrict_code"], "point": (record["lon"], record["lat"])})
    d.quarantine("disaster/events", EVENTS, n)      # (or repaired: check_point_far_from_code)
    record["subdistrict_code"] = FAR_CODE
    lines.lines[n - 1] = json.dumps(record, ensure_ascii=False)
    lines.save()
    return d


def check_point_far_from_code(outcomes, damage: Damage) -> None:
    """Quarantined, or kept with the point's own subdistrict and the repair recorded: never
    counted in the subdistrict its wrong code names."""
    out = outcomes["disaster/events"]
    row = (EVENTS, damage.info["event_line"])
    if row in out.quarantined_rows:
        return
    found = out.validated[out.validated["event_id"] == damage.info["event_id"]]
    assert len(found) == 1, f"the event is neither valid nor quarantined at its line {row}"
    valid = found.iloc[0].to_dict()
    assert valid["_source_row"] == row[1], f"the event is valid, but at row {valid['_source_row']}, not {row[1]}"
    assert valid["subdistrict_code"] != FAR_CODE, \
        "the event is counted in the subdistrict its wrong code names, a thousand km from its point"
    assert valid["subdistrict_code"] == damage.info["true_code"], valid["subdistrict_code"]
    assert valid.get("area_resolution") not in (None, "given") or valid.get("_repairs"), \
        "the code was replaced by the point's subdistrict without recording how"


def truncated_ndjson(sources: Path, truth: Truth) -> Damage:
    """The events cut off in the middle of a record, near the end."""
    lines = _event_lines(sources)
    last = len([x for x in lines.lines if x.strip()]) - 3
    text = lines.lines[last - 1]
    lines.lines = lines.lines[:last - 1] + [text[: len(text) // 2]]
    lines.save()
    d = Damage()
    d.quarantine("disaster/events", EVENTS, last)
    d.moved["disaster/events"] = lambda f, r: r if r < last else None
    return d


def crlf_ndjson(sources: Path, truth: Truth) -> Damage:
    """Some event lines end in CRLF (the file passed through a Windows editor)."""
    lines = _event_lines(sources)
    for i in range(0, len(lines.lines) - 1, 2):
        lines.lines[i] += "\r"
    lines.save()
    return Damage()


def empty_file(sources: Path, truth: Truth) -> Damage:
    (sources / EVENTS).write_bytes(b"")
    return Damage()


# -- GeoJSON (environment sites) ---------------------------------------------------------------------

def self_intersecting_polygon(sources: Path, truth: Truth) -> Damage:
    """A site's polygon drawn as a bow tie (its edges cross)."""
    collection = geojson(sources / SITES)
    flawed = truth.flawed(SITES)
    i = next(i for i, f in enumerate(collection["features"], start=1)
             if f["geometry"]["type"] == "Polygon" and i not in flawed)
    feature = collection["features"][i - 1]
    ring = feature["geometry"]["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    feature["geometry"]["coordinates"] = [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]
    write_geojson(sources / SITES, collection)
    d = Damage(info={"feature": i})
    d.quarantine("environment/sites", SITES, i)      # (or repaired: check_polygon)
    return d


def check_polygon(outcomes, damage: Damage) -> None:
    """Quarantined, or kept with a valid geometry and the repair recorded."""
    import shapely

    out = outcomes["environment/sites"]
    row = (SITES, damage.info["feature"])
    if row in out.quarantined_rows:
        return
    valid = out.valid_row(row)
    assert valid is not None, "the site is neither valid nor quarantined"
    geometry = shapely.from_wkt(valid["geometry_wkt"])
    assert geometry.is_valid, "a self-intersecting polygon reached the validated lake as it was"
    assert valid.get("_repairs"), "the polygon was made valid without recording the repair"


def truncated_geojson(sources: Path, truth: Truth) -> Damage:
    cut(sources / SITES, 0.6)
    return Damage()


# -- the catalogue ---------------------------------------------------------------------------------------

VARIANTS: tuple[Variant, ...] = (
    # CSV, Windows-874
    Variant("stray_quote", "csv cp874", ("finance/repayments",), REFUSED_OR_QUARANTINED,
            "one stray quote near the top: that line quarantined (or the file refused), every "
            "other line still one row", stray_quote),
    Variant("truncated_csv_cp874", "csv cp874", ("finance/repayments",), REFUSED_OR_QUARANTINED,
            "cut mid-line: the partial last line quarantined, or the file refused", truncated_csv,
            moves=True),
    Variant("reencoded_to_utf8", "csv cp874", ("finance/loans",), REFUSED,
            "refused: the file is UTF-8, not Windows-874, with its row and column",
            reencoded_loans, names=(LOANS, "finance/loans")),
    Variant("reordered_columns_csv", "csv cp874", ("finance/loans",), SAME,
            "loads as before", reordered_loans, e2e="A"),
    Variant("renamed_column", "csv cp874", ("finance/loans",), REFUSED,
            "refused, naming the file, the table and the column", renamed_column,
            names=(LOANS, "finance/loans", "principal"), e2e="B"),
    Variant("amount_309_digits", "csv cp874", ("finance/loans",), QUARANTINED,
            "the row quarantined (number out of range), never infinity in a mart", huge_amount,
            e2e="A"),
    Variant("date_1900", "csv cp874", ("finance/loans",), QUARANTINED,
            "the row quarantined (date out of range)", date_1900, e2e="A"),
    Variant("date_2600_be", "csv cp874", ("finance/loans",), QUARANTINED,
            "the row quarantined (date out of range), no forty extra fiscal years", date_2600,
            e2e="A"),
    Variant("duplicated_header", "csv cp874", ("finance/savings_groups",), QUARANTINED,
            "the repeated header line quarantined, the rows around it valid", duplicated_header,
            e2e="A", moves=True),
    Variant("nul_in_text", "csv cp874", ("finance/savings_groups",), QUARANTINED,
            "the row quarantined (control character), never published", nul_in_name, e2e="A"),
    # CSV, UTF-8, personal
    Variant("no_closing_quote", "csv utf-8", ("welfare/members",),
            REFUSED_OR_QUARANTINED, "the line quarantined, every later line still one row, no "
            "citizen ID in clear anywhere (or the file refused)", no_closing_quote),
    Variant("extra_fields_personal", "csv utf-8", ("welfare/members",), QUARANTINED,
            "the row quarantined with its line number, its citizen ID pseudonymised or masked",
            extra_fields, e2e="A"),
    Variant("missing_fields_personal", "csv utf-8", ("welfare/members",),
            QUARANTINED, "the row quarantined, its citizen ID pseudonymised or masked",
            missing_fields, e2e="A"),
    Variant("header_missing_personal", "csv utf-8", ("welfare/members",), REFUSED,
            "refused, naming the file and the missing columns, quoting no citizen ID",
            header_missing, names=("welfare/members/17.csv", "welfare/members"), e2e="B"),
    Variant("reencoded_to_cp874", "csv utf-8", ("welfare/members",), REFUSED,
            "refused: not UTF-8, with the row and column", reencoded_members,
            names=("welfare/members/38.csv", "welfare/members")),
    # CSV, UTF-8 with BOM
    Variant("mixed_line_endings", "csv utf-8-sig", ("organization/councils",), SAME,
            "loads as before", mixed_line_endings, e2e="A"),
    Variant("reordered_columns_bom", "csv utf-8-sig", ("organization/joint_areas",), SAME,
            "loads as before", reordered_joint_areas),
    Variant("indicator_years_without_records", "csv utf-8-sig", ("organization/joint_areas",),
            QUARANTINED, "loads; K10 has a null actual and status 'no data' in FY2557-2559, "
            "and publishes", no_data_years, e2e="A", moves=True,
            alone=False),    # (on top of a clean load it is a shrunken export: that is another variant)
    Variant("shrunk_to_60_percent", "csv utf-8-sig", ("organization/tambon_plans",), REFUSED,
            "refused: fewer rows than the last good load, with how to accept it", shrunk_export,
            names=("organization/tambon_plans",), e2e="B", moves=True,
            hint=r"(?i)accept|delete\b.*loads|--[a-z]|CODI_[A-Z_]+"),
    Variant("truncated_csv_utf8", "csv utf-8-sig", ("organization/council_assessments",),
            REFUSED_OR_QUARANTINED, "the partial last line quarantined, or the file refused",
            truncated_utf8_csv, moves=True),
    # SQLite
    Variant("quarantined_parents", "sqlite", ("housing/projects", "housing/households"),
            QUARANTINED, "the projects quarantined and their households with them "
            "(parent_quarantined); dbt does not fail, the rest publishes", quarantined_parents,
            e2e="A"),
    Variant("count_20_digits", "sqlite", ("housing/households",), QUARANTINED,
            "the row quarantined, not the whole table", count_20_digits, e2e="A"),
    Variant("nul_in_personal_name", "sqlite", ("housing/households",),
            QUARANTINED, "the row quarantined, the name nowhere in clear", nul_in_personal_name,
            e2e="A"),
    Variant("truncated_sqlite", "sqlite", ("housing/projects",), REFUSED,
            "refused: not a readable database", truncated_sqlite, names=(HOUSING, "housing/projects"),
            e2e="B"),
    Variant("reordered_columns_sqlite", "sqlite", ("housing/households",), SAME,
            "loads as before", reordered_sqlite),
    # xlsx
    Variant("renamed_header_xlsx", "xlsx", ("welfare/funds",), REFUSED,
            "refused, naming the workbook's sheet, the header row and the column",
            renamed_header_xlsx, names=("welfare/funds_FY2558.xlsx", "welfare/funds", "จำนวนสมาชิก")),
    Variant("reordered_columns_xlsx", "xlsx", ("welfare/funds",), SAME, "loads as before",
            reordered_xlsx, e2e="A"),
    Variant("truncated_xlsx", "xlsx", ("welfare/funds",), REFUSED,
            "refused: not a readable workbook", truncated_xlsx,
            names=("welfare/funds_FY2556.xlsx", "welfare/funds")),
    # NDJSON
    Variant("line_separator_in_string", "ndjson", ("disaster/events",), SAME,
            "one record, one line: later lines keep their numbers", line_separator_in_string,
            e2e="A"),
    Variant("nul_escaped_in_string", "ndjson", ("disaster/events",), QUARANTINED,
            "the record quarantined (control character)", nul_escaped_in_string, e2e="A"),
    Variant("point_far_from_its_code", "ndjson", ("disaster/events",), FIXED_OR_QUARANTINED,
            "quarantined, or placed in the point's own subdistrict with the method recorded",
            point_far_from_code, e2e="A", check=check_point_far_from_code),
    Variant("truncated_ndjson", "ndjson", ("disaster/events",), REFUSED_OR_QUARANTINED,
            "the cut record quarantined, or the file refused", truncated_ndjson, moves=True),
    Variant("crlf_in_ndjson", "ndjson", ("disaster/events",), SAME, "loads as before", crlf_ndjson),
    Variant("empty_file", "ndjson", ("disaster/events",), REFUSED, "refused: the file is empty",
            empty_file, names=(EVENTS, "disaster/events"), e2e="B"),
    # GeoJSON
    Variant("self_intersecting_polygon", "geojson", ("environment/sites",), FIXED_OR_QUARANTINED,
            "quarantined (geometry invalid), or made valid with the repair recorded",
            self_intersecting_polygon, e2e="A", check=check_polygon),
    Variant("truncated_geojson", "geojson", ("environment/sites",), REFUSED,
            "refused: not valid JSON, with the line", truncated_geojson,
            names=(SITES, "environment/sites"), e2e="B"),
)

BY_NAME = {v.name: v for v in VARIANTS}
FORMATS = {"sqlite", "xlsx", "csv cp874", "csv utf-8", "csv utf-8-sig", "ndjson", "geojson"}


def apply(variants, sources: Path, truth: Truth) -> tuple[Damage, dict[str, Damage]]:
    """Several variants on the same sources (the full runs): the damage of all and of each. Each
    variant picks its rows by the clean numbering, so one that moves rows (inserts or removes
    lines) goes last on its file, and renumbers the rows recorded before it."""
    each: dict[str, Damage] = {}
    for v in sorted(variants, key=lambda v: v.moves):
        done = v.damage(sources, truth)
        for table, fn in done.moved.items():
            for earlier in each.values():
                if table in earlier.quarantined:
                    earlier.quarantined[table] = {(f, fn(f, r)) for f, r in earlier.quarantined[table]
                                                  if fn(f, r) is not None}
        each[v.name] = done
    total = Damage()
    for done in each.values():
        total.merge(done)
    return total, each
