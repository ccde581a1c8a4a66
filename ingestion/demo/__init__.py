"""The demo sources: every file and table of DESIGN section 4 in its real format, generated
deterministically from a seed over the real areas (geothai), with the defects real exports have
and a ground-truth manifest of each one (docs/lake.md, "Ground truth of the demo sources").

    ingestion.demo.generate(sources_dir, ground_truth_dir, profile="demo", seed=2555)
    python -m ingestion.demo --profile demo|national --out data/sources

`national` has the full volumes (about six million welfare members, a million loan repayments);
`demo` has the same areas, projects, households, funds, groups, loans and organisation records,
with only the two large registries sampled (members by fund, repayments by loan), so every
indicator is the same in both. `small` keeps four provinces and a few hundred rows per table,
with every defect kind (small.py): for tests that run the pipeline many times. Rates and
formats are in README.md beside this file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from . import disaster, environment, finance, housing, members, organization, small, welfare
from .areas import Areas
from .common import MANIFEST_COLUMNS, SCOPE, Defect
from .plan import Plan, make_plan

PROFILES = ("demo", "national", "small")
DEFAULT_SEED = 2555
# Left in the sources folder: these are the generated demo sources, which the public demo
# pseudonym key may be used on (orchestration.settings.pseudonym_key reads the same name).
MARKER = ".codi-demo-sources"

__all__ = ["DEFAULT_SEED", "MARKER", "PROFILES", "generate", "write_marker"]

_TRUTH_README = """# Ground truth of the demo sources

`defects.csv` (UTF-8) lists every defect `python -m ingestion.demo` injected into the sources
beside this folder, one line each; its columns and the defect kinds are specified in
`docs/lake.md` ("Ground truth of the demo sources"), and the rates in `ingestion/demo/README.md`.
A row of a source table that has no line here is clean (the first copy of an exact duplicate and
the newer record of a conflicting pair are clean).

Profile: {profile}; seed: {seed}; defects: {defects}.
"""


def generate(sources_dir: Path, ground_truth_dir: Path, profile: str = "demo",
             seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the demo sources under `sources_dir` and `defects.csv` under `ground_truth_dir`;
    return the number of rows written per `source/table` (duplicates and total rows included)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    sources = Path(sources_dir)
    truth = Path(ground_truth_dir)
    # Every file is written whole (the same names each time), so nothing stale survives a rerun
    # and nothing else in the folder is touched.
    sources.mkdir(parents=True, exist_ok=True)
    # Every Table made while generating asks the scope which rows to keep (small.py); set here
    # on every call, so a call that failed half-way cannot leave its scope to the next one.
    scope = small.Scope() if profile == "small" else None
    SCOPE.set(scope)
    areas = Areas()
    plan = make_plan(areas, seed)
    # Tables whose rows are not scaled to a national target are only built where kept.
    local = plan if scope is None else Plan(plan.start_year, {
        issue: [(c, y) for c, y in acts if small.in_sample(c)] for issue, acts in plan.activities.items()},
        plan.k1_planned)
    counts: dict[str, int] = {}
    found: list[Defect] = []

    t_projects, t_households, clean_projects = housing.build(areas, plan, seed)
    projects, pd = t_projects.finish()
    households, hd = t_households.finish()
    housing.write(sources / housing.FILE, projects, households)
    counts["housing/projects"], counts["housing/households"] = len(projects), len(households)
    found += pd + hd

    funds = welfare.make_funds(areas, plan, seed)
    # (Funds are sized to the national total first: the kept ones keep their demo sizes.)
    sheets = welfare.build(areas, funds if scope is None else small.funds(funds), seed)
    finished = welfare.write(sources, sheets)
    counts["welfare/funds"] = 0
    for regions in finished.values():
        for rows, defects in regions.values():
            counts["welfare/funds"] += len(rows)
            found += defects
    if scope is None:
        n, md = members.write(sources, members.sampled_funds(funds, seed, profile), funds, seed,
                              areas.province_codes)
    else:
        n, md = members.write(sources, small.sampled_funds(funds, scope), funds, seed,
                              list(scope.provinces), rate_scale=small.MEMBER_RATE_SCALE)
    counts["welfare/members"] = n
    found += md

    t_groups = finance.build_groups(areas, plan, seed)
    t_loans, loans = finance.build_loans(areas, t_groups.rows, clean_projects, seed)
    finance.group_defects(t_groups, areas, {r["borrower_code"] for r in t_loans.rows})
    finance.loan_defects(t_loans, areas)
    groups, gd = t_groups.finish()
    loan_rows, ld = t_loans.finish()
    finance.write_table(sources / "finance" / "savings_groups.csv", finance.GROUP_COLUMNS, groups)
    finance.write_table(sources / "finance" / "loans.csv", finance.LOAN_COLUMNS, loan_rows)
    sampled = (finance.sampled_loans(loans, seed, profile) if scope is None else
               small.sampled_loans(loans, scope, finance._installments_due))
    n, rd = finance.write_repayments(sources / "finance" / "repayments.csv", sampled,
                                     {r["loan_no"] for r in loan_rows}, seed,
                                     rate_scale=1.0 if scope is None else small.REPAYMENT_RATE_SCALE)
    counts["finance/savings_groups"], counts["finance/loans"] = len(groups), len(loan_rows)
    counts["finance/repayments"] = n
    found += gd + ld + rd

    t_events = disaster.build(areas, local, seed)
    events, ed = t_events.finish(keep_hidden=True)
    disaster.write(sources / disaster.FILE,
                   events, {i: r["_malformed"] for i, r in enumerate(events) if "_malformed" in r})
    counts["disaster/events"] = len(events)
    found += ed

    t_sites = environment.build(areas, local, seed)
    sites, sd = t_sites.finish(keep_hidden=True)
    environment.write(sources / environment.FILE, sites)
    counts["environment/sites"] = len(sites)
    found += sd

    for name, t in organization.build(areas, seed).items():
        rows, od = t.finish()
        organization.write(sources / "organization" / f"{name}.csv", name, rows)
        counts[f"organization/{name}"] = len(rows)
        found += od
    SCOPE.set(None)

    write_manifest(truth, found, profile, seed)
    # Freshly generated sources are at day 0 of the daily deltas (advance.py).
    (truth / "advanced.json").unlink(missing_ok=True)
    write_marker(sources, profile, seed)
    return counts


def write_marker(sources_dir: Path, profile: str, seed: int, days_advanced: int = 0) -> Path:
    """The marker of generated demo sources (no date in it: the same seed, the same bytes)."""
    path = Path(sources_dir) / MARKER
    path.write_text(json.dumps({"generated_by": "python -m ingestion.demo", "profile": profile,
                                "seed": seed, "days_advanced": days_advanced,
                                "note": "synthetic demo sources: no real person's data. Do not "
                                        "put real exports in this folder."}, indent=2) + "\n",
                    encoding="utf-8")
    return path


def write_manifest(folder: Path, defects: list[Defect], profile: str, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = sorted((d.as_row() for d in defects),
                  key=lambda r: (r["source"], r["table"], r["file"], r["source_row"]))
    path = folder / "defects.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for i, row in enumerate(rows, start=1):
            writer.writerow({"defect_id": i, **row})
    (folder / "README.md").write_text(
        _TRUTH_README.format(profile=profile, seed=seed, defects=len(rows)), encoding="utf-8")
    return path
