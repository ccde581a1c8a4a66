"""Daily deltas: what the issue databases would export after N more days, applied to the demo
sources in place, so that daily runs can be tested on moving data.

Day d (1, 2, ...) is the export date plus d days. Each day, from its own random stream:
- housing: a new project approved that day, with its households (not moved in yet), and a few
  families of existing projects moving in (`moved_in_date` set to the day);
- finance: repayments of overdue installments arrive (`paid_date`, `amount_paid` filled);
- disaster: a new event reported by the field app that day;
- organization: a new community council registered that day, and one council's subdistrict
  code corrected to another subdistrict of its district (a fix the registry staff make);
- late entries (every office has a backlog): a few families who moved in during FY2559 and one
  council registered in FY2559 are keyed in, so the day shows in the plan's indicators (K2, K7),
  which cover FY2555-2559 only.

The new and changed rows are clean, and rows named in the ground-truth manifest are never
touched, so `defects.csv` stays true as it is. The days already applied are recorded in
`<ground truth>/advanced.json` (outside the sources folder): advancing 1 day twice equals
advancing 2 days once, and the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from . import disaster, housing
from .common import (CUTOFF, be_text, citizen_ids, fy_end, fy_of, fy_start, iso_ts, person_names,
                     random_day, rng_for)

STATE_FILE = "advanced.json"
SOURCES = ("housing", "finance", "disaster", "organization")
# Records keyed in late belong to the plan's last year, where the indicators show them.
LATE_FY = 2559


def _be_date(text: str) -> date | None:
    try:
        d, m, y = (int(p) for p in str(text).split("/"))
        return date(y - 543 if y > 2400 else y, m, d)
    except (ValueError, TypeError):
        return None


def _manifest_rows(truth: Path) -> set[tuple[str, int]]:
    """(file, source row) of every row with a defect: these are never touched."""
    path = truth / "defects.csv"
    if not path.exists():
        return set()
    with open(path, encoding="utf-8", newline="") as fh:
        return {(r["file"].split("[")[0], int(r["source_row"])) for r in csv.DictReader(fh)
                if r["source_row"]}


def read_state(truth: Path) -> dict:
    path = Path(truth) / STATE_FILE
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"days": 0, "history": []}


# -- housing -------------------------------------------------------------------------------------

def _housing(sources: Path, rng: np.random.Generator, day: date, d: int, flawed: set) -> dict:
    path = sources / housing.FILE
    with sqlite3.connect(path) as con:
        projects = con.execute(
            "select rowid, province, district, subdistrict, subdistrict_code from projects "
            "where subdistrict_code is not null and subdistrict_code != '' order by rowid").fetchall()
        projects = [p for p in projects if (housing.FILE, p[0]) not in flawed]
        _, province, district, subdistrict, code = projects[int(rng.integers(len(projects)))]
        fy = fy_of(day)
        taken = con.execute("select count(*) from projects where project_code like ?",
                            [f"BM-{fy}-%"]).fetchone()[0]
        project_code = f"BM-{fy}-{taken + 1:04d}"
        planned = int(rng.integers(10, 41))
        place = subdistrict.strip()
        con.execute(
            f"insert into projects values ({','.join('?' * len(housing.PROJECT_COLUMNS))})",
            (project_code, f"โครงการบ้านมั่นคงชุมชน{place}", f"ชุมชน{place}", province, district,
             subdistrict, code, be_text(day), planned, 0, "ซื้อที่ดิน",
             int(rng.integers(20, 60)) * 10_000, planned * int(rng.integers(15, 40)) * 10_000,
             "อนุมัติ", iso_ts(datetime.combine(day, time(10, 30)))))
        # The families of the new project, not moved in yet.
        last = con.execute("select max(household_id) from households").fetchone()[0]
        first = int(last[2:]) + 1
        bodies = (3 * 10**11 + int(code[:2]) * 10**9
                  + rng.choice(10**9, size=planned, replace=False)).astype(np.int64)
        ids = citizen_ids(bodies)
        names = person_names(rng, planned)
        con.executemany(
            f"insert into households values ({','.join('?' * len(housing.HOUSEHOLD_COLUMNS))})",
            [(f"HH{first + i:07d}", project_code, str(ids[i]), names[i], int(rng.integers(1, 7)),
              int(rng.integers(60, 250)) * 100, 0, None) for i in range(planned)])
        # Families of projects under way moving in today.
        waiting = con.execute(
            "select h.rowid, p.approved_date from households h join projects p using (project_code) "
            "where h.moved_in_date is null and p.status in ('กำลังดำเนินการ', 'แล้วเสร็จ') "
            "order by h.rowid").fetchall()
        waiting = [(r, _be_date(a)) for r, a in waiting if (housing.FILE, r) not in flawed]
        moving = sorted(int(r) for r in rng.choice([r for r, _ in waiting],
                                                   size=min(len(waiting), int(rng.integers(3, 9))),
                                                   replace=False))
        con.executemany("update households set moved_in_date = ? where rowid = ?",
                        [(be_text(day), r) for r in moving])
        # Late entries: the office keys in families who moved in during the plan's last year
        # (FY2559) and were never recorded: they count in that year's K2.
        start, end = fy_start(LATE_FY), fy_end(LATE_FY)
        late_pool = [r for r, approved in waiting if r not in moving and approved is not None
                     and approved < start - timedelta(days=180)]
        late = sorted(int(r) for r in rng.choice(late_pool, size=min(len(late_pool), int(rng.integers(1, 4))),
                                                 replace=False))
        con.executemany("update households set moved_in_date = ? where rowid = ?",
                        [(be_text(random_day(rng, start, end)), r) for r in late])
    return {"new_project": project_code, "new_households": planned, "moved_in": len(moving),
            "late_moved_in": len(late), "late_moved_in_fy": LATE_FY}


# -- CSV files, rewritten line by line so that untouched lines keep their bytes ------------------

def _read_lines(path: Path, encoding: str) -> tuple[list[str], bool]:
    text = path.read_bytes().decode(encoding)
    bom = text.startswith("\ufeff")
    return (text[1:] if bom else text).split("\r\n"), bom


def _write_lines(path: Path, lines: list[str], encoding: str, bom: bool) -> None:
    data = ("\ufeff" if bom else "") + "\r\n".join(lines)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data.encode(encoding))
    tmp.replace(path)   # a reader (or a run's hash) never sees half a file


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _repayments(sources: Path, rng: np.random.Generator, day: date, flawed: set) -> dict:
    rel = "finance/repayments.csv"
    path = sources / rel
    lines, bom = _read_lines(path, "cp874")
    header = _fields(lines[0])
    due_i, amount_i, paid_i, paid_amount_i = (header.index(c) for c in
                                              ("due_date", "amount_due", "paid_date", "amount_paid"))
    overdue = []
    for n, line in enumerate(lines[1:], start=2):   # n: the CSV line, header = 1 (docs/lake.md)
        if not line or (rel, n) in flawed:
            continue
        f = _fields(line)
        due = _be_date(f[due_i])
        if f[paid_i] == "" and due is not None and due <= day:
            overdue.append(n)
    paying = sorted(int(n) for n in rng.choice(overdue, size=min(len(overdue), int(rng.integers(5, 16))),
                                               replace=False))
    for n in paying:
        f = _fields(lines[n - 1])
        f[paid_i], f[paid_amount_i] = be_text(day), f[amount_i]
        lines[n - 1] = _line(f)
    _write_lines(path, lines, "cp874", bom)
    return {"repayments_paid": len(paying)}


def _councils(sources: Path, rng: np.random.Generator, day: date, flawed: set) -> dict:
    rel = "organization/councils.csv"
    path = sources / rel
    lines, bom = _read_lines(path, "utf-8")
    header = _fields(lines[0])
    code_i, area_i = header.index("council_code"), header.index("subdistrict_code")
    rows = {n: _fields(line) for n, line in enumerate(lines[1:], start=2) if line}
    with_council = {f[area_i] for f in rows.values()}
    plans_rel = "organization/tambon_plans.csv"
    plan_lines, _ = _read_lines(sources / plans_rel, "utf-8")
    plan_code = _fields(plan_lines[0]).index("subdistrict_code")
    # Subdistricts without a council, from clean rows only (a defect row may hold a bad code).
    candidates = sorted({f[plan_code] for n, f in ((n, _fields(l)) for n, l in enumerate(plan_lines[1:], start=2) if l)
                         if (plans_rel, n) not in flawed and len(f[plan_code]) == 6 and f[plan_code].isdigit()}
                        - with_council)
    # A correction: a clean council moved to another subdistrict of the same district.
    clean = [n for n, f in rows.items() if (rel, n) not in flawed and f[area_i].isdigit()]
    corrected = None
    for n in rng.permutation(clean):
        old = rows[int(n)][area_i]
        siblings = [c for c in candidates if c[:4] == old[:4] and c != old]
        if siblings:
            new = siblings[int(rng.integers(len(siblings)))]
            rows[int(n)][area_i] = new
            lines[int(n) - 1] = _line(rows[int(n)])
            corrected = {"council": rows[int(n)][code_i], "from": old, "to": new}
            candidates.remove(new)
            break
    # A new council registered today, and one registered in FY2559 whose papers are keyed in
    # only now (late entries count in the year of registration: K7 for FY2559 grows by one).
    number = max(int(f[code_i][2:]) for f in rows.values() if f[code_i][2:].isdigit()) + 1
    trailing = lines and lines[-1] == ""
    body = lines[:-1] if trailing else lines
    added = []
    for registered in (day, random_day(rng, fy_start(LATE_FY), fy_end(LATE_FY))):
        fields = [""] * len(header)
        fields[code_i], fields[area_i] = f"CC{number:05d}", candidates.pop(int(rng.integers(len(candidates))))
        fields[header.index("registered_date")] = be_text(registered)
        fields[header.index("status")] = "ดำเนินการ"
        body.append(_line(fields))
        added.append(fields[code_i])
        number += 1
    lines = body + ([""] if trailing else [])
    _write_lines(path, lines, "utf-8", bom)
    return {"new_council": added[0], "late_council": added[1], "late_council_fy": LATE_FY,
            "corrected_area_code": corrected}


def _disaster(sources: Path, rng: np.random.Generator, day: date, d: int, flawed: set) -> dict:
    path = sources / disaster.FILE
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    clean = []
    for n, line in enumerate(lines, start=1):
        if not line or (disaster.FILE, n) in flawed:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if obj.get("subdistrict_code"):
            clean.append(obj)
    # Copy a reported place (its point lies inside its subdistrict) for the new event.
    place = clean[int(rng.integers(len(clean)))]
    start = datetime.combine(day, time(int(rng.integers(6, 18)), int(rng.integers(0, 60))))
    event = {**place, "event_id": f"DS-{fy_of(day)}-A{d:04d}", "hazard": "flood",
             "started_at": iso_ts(start), "ended_at": iso_ts(start + timedelta(hours=int(rng.integers(6, 72)))),
             "affected_households": int(rng.integers(20, 300)),
             "damaged_houses": int(rng.integers(0, 40)),
             "community_plan": bool(rng.random() < 0.5), "early_warning": bool(rng.random() < 0.4),
             "relief_budget": int(rng.integers(10, 300)) * 1000}
    event = {c: event[c] for c in disaster.COLUMNS if c in event}
    trailing = text.endswith("\n")
    body = text if trailing else text + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(body + json.dumps(event, ensure_ascii=False) + ("\n" if trailing else ""),
                   encoding="utf-8")
    tmp.replace(path)
    return {"new_event": event["event_id"]}


def advance(sources_dir: Path, ground_truth_dir: Path, days: int, seed: int,
            only: tuple[str, ...] = SOURCES) -> dict:
    """Apply the next `days` days of deltas to the sources (only the sources in `only`);
    returns what each day did. The state (days applied) is kept in the ground-truth folder."""
    sources, truth = Path(sources_dir), Path(ground_truth_dir)
    unknown = set(only) - set(SOURCES)
    if unknown:
        raise ValueError(f"no daily deltas for {sorted(unknown)}: use {', '.join(SOURCES)}")
    state = read_state(truth)
    flawed = _manifest_rows(truth)
    done = []
    for d in range(state["days"] + 1, state["days"] + days + 1):
        day = CUTOFF + timedelta(days=d)
        log: dict = {"day": d, "date": day.isoformat()}
        # One stream per day and source: advancing one source never shifts another's rows.
        if "housing" in only:
            log["housing"] = _housing(sources, rng_for(seed, "advance", d, "housing"), day, d, flawed)
        if "finance" in only:
            log["finance"] = _repayments(sources, rng_for(seed, "advance", d, "finance"), day, flawed)
        if "disaster" in only:
            log["disaster"] = _disaster(sources, rng_for(seed, "advance", d, "disaster"), day, d, flawed)
        if "organization" in only:
            log["organization"] = _councils(sources, rng_for(seed, "advance", d, "organization"),
                                            day, flawed)
        done.append(log)
    state = {"days": state["days"] + days, "seed": seed, "history": state["history"] + done}
    truth.mkdir(parents=True, exist_ok=True)
    (truth / STATE_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")
    # Still the generated demo sources, a few days on: the marker stays, with the days.
    _keep_marker(sources, state["days"])
    return {"days": state["days"], "applied": done}


def _keep_marker(sources: Path, days: int) -> None:
    """Update the demo marker's days, if the folder has one (advancing does not make a folder
    the demo's: only generating does)."""
    from . import MARKER, write_marker

    path = sources / MARKER
    if path.exists():
        found = json.loads(path.read_text(encoding="utf-8"))
        write_marker(sources, found["profile"], found["seed"], days)
