"""The `small` profile: the demo's sources cut down to a few hundred rows per table, mostly in
four provinces (and a sample of the rest), every file in its real format, each table with at least one of each defect kind
that applies to it (exactly one: `common.count`; its quarantined share well under the 5 %
threshold), and the ground truth as
usual. For tests that run the whole pipeline many times (tests/test_faults.py): the demo's 372
thousand rows take two minutes a run.

The rows are the demo's rows (the same generator, the same random streams), chosen before the
defects are injected (`Scope.keep`, called by every `Table`), so that the defects land in rows
that are written. Children follow their parents: households of the kept projects, assessments
of the kept councils, members of a few kept funds, repayments of a few kept loans. The
indicators are of course far from the plan's national targets."""

from __future__ import annotations

from dataclasses import dataclass, field

# One province per region (the welfare workbooks have one sheet per region): Sing Buri (central),
# Bueng Kan (north-east: split from Nong Khai in 2011, so abolished codes), Mae Hong Son
# (north), Phuket (south: coastal, coral reefs, the Andaman coast, urban communities).
PROVINCES = ("17", "38", "58", "83")
# And one subdistrict in SAMPLE_EVERY elsewhere (by its code): four provinces alone give some
# tables a few dozen rows, where one quarantined row is already several percent.
SAMPLE_EVERY = 23
MAX_ROWS = 300                 # per table: evenly spread over its rows
HOUSEHOLDS_PER_PROJECT = 3
# Tables that would be tiny in four provinces take rows from the whole country (thinned): the
# 77 provinces' reports, and the leader trainings.
NATIONAL = {("organization", "province_reports"), ("organization", "leader_training")}
# Welfare: the four provinces' funds and about as many again from elsewhere, so that a sheet
# has a few dozen funds; the defects go into one sheet only. Every one of the 28 sheets gets a
# total row, and every sheet with defects one of each kind: on 28 sheets of a few dozen rows
# that would quarantine a fifth of the table.
OTHER_FUNDS = 150
NOISY_SHEET = "welfare/funds_FY2557.xlsx[ภาคตะวันออกเฉียงเหนือ]"
MEMBER_FUNDS_PER_PROVINCE = 1  # the smallest fund of each province
REPAYMENT_LOANS = 4
# The two large registries have per-row defect rates of a few per thousand: a few hundred rows
# would carry none of most kinds. Scaled up so that most kinds show up.
MEMBER_RATE_SCALE = 2.0
REPAYMENT_RATE_SCALE = 3.0

# What a child table keeps: the rows whose column refers to a kept row of the parent.
CHILDREN = {("housing", "households"): ("project_code", ("housing", "projects")),
            ("organization", "council_assessments"): ("council_code", ("organization", "councils"))}
AREA_COLUMNS = ("_code", "subdistrict_code", "area_code", "province_code")


def in_scope(code: object) -> bool:
    """In one of the four provinces."""
    return isinstance(code, str) and code[:2] in PROVINCES


def in_sample(code: object) -> bool:
    """In the four provinces, or one of the sampled subdistricts (or provinces) elsewhere."""
    return in_scope(code) or (isinstance(code, str) and code.isdigit()
                              and int(code) % SAMPLE_EVERY == 0)


@dataclass
class Scope:
    """Set as `common.SCOPE` while the small profile is generated."""

    provinces: tuple[str, ...] = PROVINCES
    kept: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def keep(self, table) -> list[dict]:
        name = (table.source, table.table)
        if name in CHILDREN:
            column, parent = CHILDREN[name]
            parents = self.kept.get(parent, set())
            limit = HOUSEHOLDS_PER_PROJECT if name == ("housing", "households") else None
            taken: dict[str, int] = {}
            rows = []
            for row in table.rows:
                ref = row.get(column)
                if ref in parents and (limit is None or taken.get(ref, 0) < limit):
                    taken[ref] = taken.get(ref, 0) + 1
                    rows.append(row)
        elif name in NATIONAL or name == ("welfare", "funds"):
            rows = list(table.rows)        # (the funds were chosen before: `funds`)
        else:
            rows = [r for r in table.rows if in_sample(_area(r))]
        if len(rows) > MAX_ROWS and name not in CHILDREN:
            step = len(rows) / MAX_ROWS
            rows = [rows[int(i * step)] for i in range(MAX_ROWS)]
        self.kept.setdefault(name, set()).update(str(r[table.key[0]]) for r in rows)
        return rows

    def quiet(self, table) -> bool:
        """Whether this part of a table gets no defects."""
        return (table.source, table.table) == ("welfare", "funds") and table.file != NOISY_SHEET


def _area(row: dict) -> str | None:
    for column in AREA_COLUMNS:
        value = row.get(column)
        if isinstance(value, str) and value:
            return value
    return None


def funds(all_funds: list) -> list:
    """The four provinces' funds and `OTHER_FUNDS` others, evenly spread over the rest."""
    mine = [f for f in all_funds if in_scope(f.area.code)]
    others = [f for f in all_funds if not in_scope(f.area.code)]
    step = max(1, len(others) // OTHER_FUNDS)
    chosen = {f.index for f in mine} | {f.index for f in others[::step][:OTHER_FUNDS]}
    return [f for f in all_funds if f.index in chosen]


def sampled_funds(all_funds: list, scope: Scope) -> list:
    """The smallest fund of each of the four provinces (members are generated fund by fund)."""
    chosen = []
    for province in scope.provinces:
        group = sorted((f for f in all_funds if f.area.province_code == province),
                       key=lambda f: (f.final_members, f.index))
        chosen += group[:MEMBER_FUNDS_PER_PROVINCE]
    return sorted(chosen, key=lambda f: f.index)


def sampled_loans(loans: list, scope: Scope, due) -> list:
    """A few kept, disbursed loans with one to three years of installments due."""
    kept = scope.kept.get(("finance", "loans"), set())
    fitting = [loan for loan in loans if loan.loan_no in kept and loan.disbursed
               and 12 <= due(loan.contract, loan.term) <= 36]
    step = max(1, len(fitting) // REPAYMENT_LOANS)
    return fitting[::step][:REPAYMENT_LOANS]
