"""finance/: savings groups, CODI loans and their repayment schedule, CSV in Windows-874 (the
agency's accounting system exports TIS-620 text with CRLF line ends).

Repayments are the monthly installments due up to the export date. Most are paid on time, some
late, and a share of loans stops paying (paid_date empty): the arrears a loan officer looks for."""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from . import defects as d
from .areas import Areas
from .common import (CUTOFF, Defect, Table, be_text, community_name, place_name, random_day,
                     random_day_in_fy, rng_for, thai_digits)
from .plan import Plan

GROUP_COLUMNS = ("group_code", "group_name", "org_type", "subdistrict_code", "members",
                 "savings_balance", "loans_outstanding", "report_date")
LOAN_COLUMNS = ("loan_no", "borrower_code", "borrower_name", "borrower_type", "subdistrict_code",
                "purpose", "contract_date", "principal", "annual_interest_rate", "term_months",
                "status")
REPAYMENT_COLUMNS = ("loan_no", "installment_no", "due_date", "amount_due", "paid_date",
                     "amount_paid")
ENCODING = "cp874"

ORG_TYPES = (("กลุ่มออมทรัพย์", "กลุ่มออมทรัพย์เพื่อการผลิตบ้าน", 0.45),
             ("สถาบันการเงินชุมชน", "สถาบันการเงินชุมชนตำบล", 0.25),
             ("สหกรณ์", "สหกรณ์ออมทรัพย์ชุมชน", 0.12),
             ("กลุ่มสัจจะออมทรัพย์", "กลุ่มสัจจะสะสมทรัพย์บ้าน", 0.18))
# purpose: share of loans, term in months (low, high), yearly rate in percent (low, high).
PURPOSES = {"ที่อยู่อาศัย": (0.30, (120, 180), (2.0, 4.0)), "ที่ดิน": (0.12, (60, 180), (2.0, 4.0)),
            "อาชีพ": (0.22, (24, 60), (3.0, 6.0)), "แก้ไขหนี้สิน": (0.14, (36, 84), (1.0, 4.0)),
            "ภัยพิบัติ": (0.07, (12, 36), (0.0, 1.0)), "องค์กรการเงิน": (0.15, (36, 120), (1.0, 4.0))}
NATIONAL_LOANS = 15_000
DEMO_SHARE = 0.015
REPAYMENT_RATES = (("exact_duplicate", 0.002), ("conflicting_duplicate", 0.002),
                   ("ce_year_in_be_date", 0.004), ("thai_digits", 0.004),
                   ("thousands_separator", 0.004), ("unparseable_date", 0.002),
                   ("negative_amount", 0.002), ("orphan_reference", 0.002))


def build_groups(areas: Areas, plan: Plan, seed: int) -> Table:
    rng = rng_for(seed, "finance", "groups")
    rows = []
    for i, (code, fy) in enumerate(sorted(plan.activities["finance"], key=lambda a: (a[0], a[1]))):
        k = int(rng.choice(len(ORG_TYPES), p=[w for *_, w in ORG_TYPES]))
        org_type, stem, _ = ORG_TYPES[k]
        a = areas.by_code[code]
        name = stem + (a.name_th if "ตำบล" in stem else place_name(rng))
        if org_type == "สหกรณ์":
            name += " จำกัด"
        members = int(np.clip(rng.lognormal(4.6, 0.7), 12, 2500))
        savings = members * int(rng.integers(800, 15000))
        s = plan.start_year.get(code)
        rows.append(dict(group_code=f"SG{i + 1:05d}", group_name=name, org_type=org_type,
                         subdistrict_code=code, members=members, savings_balance=savings,
                         loans_outstanding=int(savings * rng.uniform(0.3, 0.95)),
                         report_date=be_text(random_day_in_fy(rng, fy)), _fy=fy,
                         _date=None, _free=s is None or fy > s))
    for r in rows:
        r["_date"] = _parse_be(r["report_date"])
    return Table("finance", "savings_groups", "finance/savings_groups.csv", ("group_code",), rows,
                 rng_for(seed, "finance", "groups", "defects"), first_row=2)


def _parse_be(text: str) -> date:
    day, month, year = (int(x) for x in text.split("/"))
    return date(year - 543, month, day)


def group_defects(t: Table, areas: Areas, borrowers: set[str]) -> None:
    # A quarantined group must not change a tambon's first K1 year nor orphan a loan.
    free = lambda r: r["_free"] and r["group_code"] not in borrowers  # noqa: E731
    d.date_defects(t, "report_date", "_date", where_quarantine=free)
    d.thousands(t, ("savings_balance", "loans_outstanding"))
    d.thai_number(t, ("members", "savings_balance"))
    d.abolished_codes(t, areas)
    d.unknown_codes(t, areas, where=free)
    d.negative(t, ("loans_outstanding",), where=free)

    def impossible(row):
        row["members"] = 0
        return "members", ""
    t.inject("impossible_amount", d.n_quarantine(t), impossible, free)

    def older(row):
        row["members"] = max(1, int(row["members"] * t.rng.uniform(0.8, 0.95)))
        row["savings_balance"] = int(row["savings_balance"] * t.rng.uniform(0.7, 0.95))
        return row
    d.duplicates(t, older)


@dataclass
class Loan:
    index: int
    loan_no: str
    contract: date
    principal: int
    rate: float
    term: int
    payment: float
    behaviour: int          # 0 pays on time, 1 often late, 2 stops paying
    stop_at: int            # the installment from which a defaulter stops
    disbursed: bool


def build_loans(areas: Areas, groups: list[dict], projects: list[dict], seed: int
                ) -> tuple[Table, list[Loan]]:
    rng = rng_for(seed, "finance", "loans")
    purposes = list(PURPOSES)
    shares = np.array([PURPOSES[p][0] for p in purposes])
    coops = sorted((p for p in projects if p["housing_loan"] and p["status"] != "ยกเลิก"),
                   key=lambda p: (p["_date"], p["project_code"]))
    approved = [p["_date"] for p in coops]
    draft = []
    for i in range(NATIONAL_LOANS):
        purpose = purposes[int(rng.choice(len(purposes), p=shares))]
        _, (t_lo, t_hi), (r_lo, r_hi) = PURPOSES[purpose]
        # Lending peaked with Baan Mankong's first years: contracts lean to the early years.
        first, last = date(2003, 10, 1), CUTOFF - timedelta(days=75)
        contract = first + timedelta(days=int(rng.beta(1.0, 1.5) * (last - first).days))
        disbursed = rng.random() > 0.04
        if not disbursed:            # approved in the last weeks: nothing due yet
            contract = random_day(rng, CUTOFF - timedelta(days=45), CUTOFF)
        # A housing cooperative borrows after its project was approved.
        ready = bisect.bisect_left(approved, contract - timedelta(days=30))
        if purpose in ("ที่อยู่อาศัย", "ที่ดิน") and ready and rng.random() < 0.7:
            p = coops[int(rng.integers(ready))]
            borrower = (p["project_code"], "สหกรณ์เคหสถานบ้านมั่นคง" + p["community_name"] + " จำกัด",
                        "สหกรณ์เคหสถาน", p["subdistrict_code"])
            principal = int(p["housing_loan"] * rng.uniform(0.3, 1.0)) // 1000 * 1000
        elif purpose in ("อาชีพ", "แก้ไขหนี้สิน", "องค์กรการเงิน") and rng.random() < 0.7:
            g = groups[int(rng.integers(len(groups)))]
            borrower = (g["group_code"], g["group_name"], "กลุ่มออมทรัพย์", g["subdistrict_code"])
            principal = int(rng.lognormal(13.0, 0.7)) // 1000 * 1000
        else:
            code = areas.codes[int(rng.integers(len(areas.codes)))]
            a = areas.by_code[code]
            kind = "เครือข่ายองค์กรชุมชน" if rng.random() < 0.3 else "องค์กรชุมชน"
            name = ("เครือข่ายองค์กรชุมชนตำบล" + a.name_th if kind.startswith("เครือข่าย")
                    else community_name(rng, False, a.name_th))
            borrower = (f"ORG{i + 1:05d}", name, kind, code)
            principal = int(rng.lognormal(13.3, 0.8)) // 1000 * 1000
        principal = max(principal, 50_000)
        rate = round(float(rng.uniform(r_lo, r_hi)) * 4) / 4
        term = int(rng.integers(t_lo // 12, t_hi // 12 + 1)) * 12
        draft.append((contract, purpose, borrower, principal, rate, term, disbursed))
    draft.sort(key=lambda x: (x[0], x[2][0]))
    rows, loans, numbers = [], [], {}
    for i, (contract, purpose, borrower, principal, rate, term, disbursed) in enumerate(draft):
        fy = contract.year + 543 + (contract.month >= 10)
        numbers[fy] = numbers.get(fy, 0) + 1
        loan_no = f"LN{fy}-{numbers[fy]:05d}"
        monthly = rate / 1200
        payment = principal / term if monthly == 0 else principal * monthly / (1 - (1 + monthly) ** -term)
        u = rng.random()
        behaviour = 0 if u < 0.72 else (1 if u < 0.88 else 2)
        due = _installments_due(contract, term) if disbursed else 0
        stop_at = int(rng.integers(max(1, due // 3), max(2, due + 1))) if behaviour == 2 else 10**6
        loans.append(Loan(i, loan_no, contract, principal, rate, term, round(payment, 2),
                          behaviour, stop_at, disbursed))
        if not disbursed:
            status = "อนุมัติ"
        elif behaviour == 2 and stop_at <= due:
            status = "ค้างชำระ" if rng.random() < 0.8 else "ปรับโครงสร้างหนี้"
        elif due >= term:
            status = "ปิดบัญชี"
        else:
            status = "ปกติ"
        rows.append(dict(loan_no=loan_no, borrower_code=borrower[0], borrower_name=borrower[1],
                         borrower_type=borrower[2], subdistrict_code=borrower[3], purpose=purpose,
                         contract_date=be_text(contract), principal=principal,
                         annual_interest_rate=rate, term_months=term, status=status,
                         _date=contract, _free=not disbursed))
    t = Table("finance", "loans", "finance/loans.csv", ("loan_no",), rows,
              rng_for(seed, "finance", "loans", "defects"), first_row=2)
    return t, loans


def loan_defects(t: Table, areas: Areas) -> None:
    # Quarantining a loan would orphan its repayments: only loans not yet disbursed.
    free = lambda r: r["_free"]  # noqa: E731
    d.date_defects(t, "contract_date", "_date", where_quarantine=free)
    d.thousands(t, ("principal",))
    d.thai_number(t, ("principal", "term_months"))
    d.abolished_codes(t, areas)
    d.unknown_codes(t, areas, where=free)
    d.negative(t, ("principal",), where=free)

    def impossible(row):
        # A rate typed without its decimal point: 350 percent for 3.50.
        row["annual_interest_rate"] = int(round(row["annual_interest_rate"] * 100)) or 250
        return "annual_interest_rate", ""
    t.inject("impossible_amount", d.n_quarantine(t), impossible,
             lambda r: free(r) and r["annual_interest_rate"] >= 1.01)

    def older(row):
        row["status"] = "ปกติ" if row["status"] != "ปกติ" else "อนุมัติ"
        return row
    d.duplicates(t, older)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, 28))


def _installments_due(contract: date, term: int) -> int:
    months = (CUTOFF.year - contract.year) * 12 + CUTOFF.month - contract.month
    if _add_months(contract, months) > CUTOFF:
        months -= 1
    return max(0, min(term, months))


def sampled_loans(loans: list[Loan], seed: int, profile: str) -> list[Loan]:
    if profile == "national":
        return loans
    u = rng_for(seed, "finance", "repayments", "sample").random(len(loans))
    return [loan for loan, x in zip(loans, u) if x < DEMO_SHARE]


def write_repayments(path: Path, loans: list[Loan], known: set[str], seed: int,
                     rate_scale: float = 1.0) -> tuple[int, list[Defect]]:
    """Each loan's installments from its own random stream (so the demo's sampled loans have the
    national rows), with that loan's defects; written in loan order. `rate_scale` multiplies
    the defect rates (the small profile)."""
    file = "finance/repayments.csv"
    names = [k for k, _ in REPAYMENT_RATES]
    cum = np.cumsum([r for _, r in REPAYMENT_RATES]) * rate_scale
    defects: list[Defect] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=ENCODING, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(REPAYMENT_COLUMNS)
        written = 0
        for loan in loans:
            lines: list[tuple] = []          # this loan's rows; written when the loan is done
            if not loan.disbursed:
                continue
            rng = rng_for(seed, "finance", "repayments", loan.index)
            due = _installments_due(loan.contract, loan.term)
            kinds = np.searchsorted(cum, rng.random(due), side="right")
            late = rng.random(due)
            delay = rng.integers(30, 120, due)
            early = rng.integers(0, 6, due)
            for n in range(1, due + 1):
                due_date = _add_months(loan.contract, n)
                amount = loan.payment
                paid_date: date | None
                if n >= loan.stop_at:
                    paid_date = None
                elif (loan.behaviour == 1 and late[n - 1] < 0.35) or late[n - 1] < 0.02:
                    paid_date = due_date + timedelta(days=int(delay[n - 1]))
                else:
                    paid_date = due_date - timedelta(days=int(early[n - 1]))
                if paid_date is not None and paid_date > CUTOFF:
                    paid_date = None
                row = [loan.loan_no, str(n), be_text(due_date), f"{amount:.2f}",
                       be_text(paid_date) if paid_date else "", f"{amount:.2f}" if paid_date else ""]
                kind = names[kinds[n - 1]] if kinds[n - 1] < len(names) else None
                column, expected = "", ""
                if kind == "exact_duplicate":
                    lines.append(tuple(row))
                elif kind == "conflicting_duplicate":
                    older = list(row)
                    older[4], older[5] = "", ""            # recorded before the payment came in
                    if row[4] == "":
                        older[5] = "0.00"
                    lines.append(tuple(older))
                    defects.append(Defect("finance", "repayments", file, written + len(lines) + 1,
                                          f"{loan.loan_no}|{n}", "loan_no", kind))
                    kind = None
                elif kind == "ce_year_in_be_date":
                    row[2], column, expected = f"{due_date.day:02d}/{due_date.month:02d}/{due_date.year}", \
                        "due_date", due_date.isoformat()
                elif kind == "thai_digits":
                    row[3], column, expected = thai_digits(row[3]), "amount_due", row[3]
                elif kind == "thousands_separator":
                    if amount >= 1000:
                        row[3], column, expected = f"{amount:,.2f}", "amount_due", f"{amount:.2f}"
                    else:
                        kind = None
                elif kind == "unparseable_date":
                    row[2], column = f"{min(due_date.day + 31, 39)}/{due_date.month:02d}/{due_date.year + 543}", "due_date"
                elif kind == "negative_amount":
                    if row[5]:
                        row[5], column = "-" + row[5], "amount_paid"
                    else:
                        kind = None
                elif kind == "orphan_reference":
                    row[0], column = f"LN{loan.loan_no[2:6]}-9{loan.index % 10000:04d}", "loan_no"
                    if row[0] in known:
                        kind = None
                        row[0] = loan.loan_no
                lines.append(tuple(row))
                if kind is not None:
                    key = f"{row[0]}|{n}"
                    defects.append(Defect("finance", "repayments", file, written + len(lines) + 1, key,
                                          column, kind, expected))
            writer.writerows(lines)
            written += len(lines)
    return written, defects


def _write_csv(path: Path, columns: tuple[str, ...], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=ENCODING, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(rows)


def write_table(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    _write_csv(path, columns, ([("" if r[c] is None else r[c]) for c in columns] for r in rows))
