"""Pieces every demo table uses: random streams, Thai dates and digits, citizen IDs, Thai names,
and the defect injector that keeps the ground-truth manifest in step with the rows."""

from __future__ import annotations

import zlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

BE_OFFSET = 543
FISCAL_YEARS = tuple(range(2554, 2561))      # the years the exports cover
PLAN_YEARS = (2555, 2556, 2557, 2558, 2559)
CUTOFF = date(2017, 9, 30)                   # the export date: the end of FY2560

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """An independent stream per purpose, so adding a table never shifts another one's rows."""
    words = [seed] + [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def thai_digits(text: str) -> str:
    return str(text).translate(THAI_DIGITS)


def fy_of(d: date) -> int:
    """Thai fiscal year (BE) of a date: 1 October to 30 September, named by the year it ends in."""
    return d.year + BE_OFFSET + (1 if d.month >= 10 else 0)


def fy_start(fy: int) -> date:
    return date(fy - BE_OFFSET - 1, 10, 1)


def fy_end(fy: int) -> date:
    return date(fy - BE_OFFSET, 9, 30)


def be_text(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year + BE_OFFSET}"


def ce_text(d: date) -> str:
    """The same date typed with its Christian Era year: the commonest date defect."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def random_day(rng: np.random.Generator, start: date, end: date) -> date:
    span = max((end - start).days, 0)
    return start + timedelta(days=int(rng.integers(0, span + 1)))


def random_day_in_fy(rng: np.random.Generator, fy: int, months: tuple[int, ...] | None = None,
                     not_after: date = CUTOFF) -> date:
    """A day in fiscal year `fy`, optionally in one of `months` (calendar months, 1-12)."""
    start, end = fy_start(fy), min(fy_end(fy), not_after)
    if months:
        month = int(rng.choice(months))
        year = fy - BE_OFFSET - (1 if month >= 10 else 0)
        first = date(year, month, 1)
        last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
        start, end = max(start, first), min(end, last)
        if start > end:
            start, end = fy_start(fy), min(fy_end(fy), not_after)
    return random_day(rng, start, end)


# Dates that no reader can take: impossible days and months, and words typed in a date field.
UNPARSEABLE_DATES = ("31/02/{y}", "30/02/{y}", "15/13/{y}", "32/01/{y}", "00/00/{y}", "ไม่ระบุ",
                     "ไม่ทราบวันที่", "ประมาณปี {yy}", "??/??/{y}")


def unparseable_date(rng: np.random.Generator, be_year: int) -> str:
    pattern = UNPARSEABLE_DATES[int(rng.integers(len(UNPARSEABLE_DATES)))]
    return pattern.format(y=be_year, yy=str(be_year)[-2:])


def noisy(rng: np.random.Generator, targets: dict[int, float], spread: float = 0.08,
          monotonic: bool = False) -> dict[int, float]:
    """Targets moved up or down by 2%..spread, alternating, so the actuals land near the plan,
    some above and some below, as real results do."""
    sign = 1 if rng.random() < 0.5 else -1
    out: dict[int, float] = {}
    for year in sorted(targets):
        out[year] = targets[year] * (1 + sign * rng.uniform(0.02, spread))
        sign = -sign if rng.random() < 0.8 else sign
        if monotonic and out and year - 1 in out and out[year] < out[year - 1]:
            out[year] = out[year - 1] + 1
    return out


# ---------------------------------------------------------------------------------------------
# Thai citizen IDs: 13 digits, the last a check digit (mod 11 over weights 13..2).
_WEIGHTS = np.arange(13, 1, -1, dtype=np.int64)
_POWERS = 10 ** np.arange(11, -1, -1, dtype=np.int64)


def citizen_ids(body12: np.ndarray) -> np.ndarray:
    """Valid 13-digit IDs (as int64) from 12-digit bodies."""
    body12 = np.asarray(body12, dtype=np.int64)
    digits = (body12[:, None] // _POWERS) % 10
    check = (11 - (digits @ _WEIGHTS) % 11) % 10
    return body12 * 10 + check


def citizen_id_valid(text: str) -> bool:
    if len(text) != 13 or not text.isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(text[:12], range(13, 1, -1)))
    return (11 - total % 11) % 10 == int(text[12])


def break_checksum(text: str) -> str:
    """The same ID with a wrong last digit: a typing slip the checksum catches."""
    return text[:12] + str((int(text[12]) + 1 + int(text[5]) % 8) % 10)


def scrambled_bodies(prefix: np.ndarray, serial: np.ndarray, salt: int) -> np.ndarray:
    """12-digit bodies: a 3-digit prefix (first digit and province) and 9 digits from a bijection of
    a serial number, so IDs look random but never collide within a prefix."""
    mixed = (np.asarray(serial, dtype=np.int64) * 387_420_489 + salt) % 1_000_000_000
    return np.asarray(prefix, dtype=np.int64) * 1_000_000_000 + mixed


# ---------------------------------------------------------------------------------------------
# Thai names (common given names and surnames); titles as written on ID cards.
GIVEN_MALE = ("สมชาย", "สมศักดิ์", "ประเสริฐ", "บุญมี", "สมบัติ", "วิชัย", "สุรชัย", "ประยูร",
              "ทองดี", "บุญเลิศ", "สมพงษ์", "มานพ", "ชาญ", "อนันต์", "สุเทพ", "วีระ", "ธีรพงษ์",
              "เกียรติศักดิ์", "ณัฐพล", "กิตติ", "สมหมาย", "บุญส่ง", "ประสิทธิ์", "สำราญ",
              "จำลอง", "ไพโรจน์", "อุดม", "ชัยวัฒน์", "พิชิต", "ศักดิ์ชัย")
GIVEN_FEMALE = ("สมศรี", "บุญเรือน", "มาลี", "สุดา", "ประนอม", "วันเพ็ญ", "จันทร์เพ็ญ",
                "สมใจ", "ละเอียด", "ทองใบ", "บุญมา", "นงลักษณ์", "สุนีย์", "อำไพ", "ราตรี",
                "กาญจนา", "พรทิพย์", "สุภาพ", "ลำดวน", "คำปุน", "เพ็ญศรี", "อรุณี", "ศรีสุดา",
                "ปราณี", "มณี", "บัวผัน", "ยุพิน", "วิไล", "สายสุนีย์", "จิราพร")
SURNAMES = ("ใจดี", "ศรีสุข", "แก้วมณี", "ทองคำ", "บุญมา", "สุขสวัสดิ์", "พรหมมา", "จันทร์แก้ว",
            "รุ่งเรือง", "มั่นคง", "ศรีวงศ์", "คำแหง", "ไชยมงคล", "สีดา", "บุญยืน", "แสงทอง",
            "พึ่งบุญ", "เพชรรัตน์", "อินทร์แก้ว", "ทองสุข", "ประเสริฐสุข", "วงศ์ใหญ่",
            "นาคสวัสดิ์", "เกตุแก้ว", "สุวรรณรัตน์", "ชัยชนะ", "กองแก้ว", "ปัญญาดี", "ยอดยิ่ง",
            "หอมจันทร์", "สมบูรณ์ชัย", "ภูมิใจ", "สิงห์ทอง", "มณีวงศ์", "คงสมบูรณ์", "ดวงดี")

# Syllables for village and community names: "บ้านหนองบัว", "ชุมชนริมคลองบางซื่อ".
_PLACE_A = ("หนอง", "โคก", "ดอน", "นา", "ป่า", "บาง", "ท่า", "ห้วย", "วัง", "บึง", "คลอง",
            "หัว", "ทุ่ง", "เนิน", "สระ", "โนน", "ลำ", "ศาลา", "บ่อ", "เขา")
_PLACE_B = ("บัว", "แก", "ยาง", "ใหญ่", "น้อย", "ทอง", "ไผ่", "ขาม", "กุง", "จาน", "สะแก",
            "มะม่วง", "ตะเคียน", "เตย", "ขี้เหล็ก", "งิ้ว", "ม่วง", "โพธิ์", "ไทร", "ตาล",
            "หว้า", "แดง", "สามัคคี", "พัฒนา", "เจริญ", "สว่าง", "ใหม่", "กลาง")
URBAN_COMMUNITY = ("ชุมชนริมคลอง", "ชุมชนพัฒนา", "ชุมชนสามัคคี", "ชุมชนร่วมใจ", "ชุมชนหลังวัด",
                   "ชุมชนริมทางรถไฟ", "ชุมชนเคหะ", "ชุมชนมั่นคง")


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """`n` names at once (the households table has over a hundred thousand)."""
    female = rng.random(n) < 0.5
    married = rng.random(n) < 0.7
    given_m = rng.integers(len(GIVEN_MALE), size=n)
    given_f = rng.integers(len(GIVEN_FEMALE), size=n)
    family = rng.integers(len(SURNAMES), size=n)
    return [(("นาง" if married[i] else "นางสาว") + GIVEN_FEMALE[given_f[i]] if female[i]
             else "นาย" + GIVEN_MALE[given_m[i]]) + " " + SURNAMES[family[i]] for i in range(n)]


def place_name(rng: np.random.Generator) -> str:
    return _PLACE_A[int(rng.integers(len(_PLACE_A)))] + _PLACE_B[int(rng.integers(len(_PLACE_B)))]


def community_name(rng: np.random.Generator, urban: bool, subdistrict_th: str) -> str:
    if urban and rng.random() < 0.7:
        stem = URBAN_COMMUNITY[int(rng.integers(len(URBAN_COMMUNITY)))]
        return stem + (subdistrict_th if rng.random() < 0.5 else place_name(rng))
    return "ชุมชนบ้าน" + place_name(rng)


def iso_ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"


# ---------------------------------------------------------------------------------------------
# The defect kinds of docs/lake.md: treatment and the reason (quarantine) or repair code.
KINDS: dict[str, tuple[str, str]] = {
    "ce_year_in_be_date": ("repair", "be_ce_year"),
    "thai_digits": ("repair", "thai_digits"),
    "thousands_separator": ("repair", "thousands_separator"),
    "name_prefix": ("repair", "area_name_normalised"),
    "missing_area_code": ("repair", "area_from_names"),
    "abolished_area_code": ("repair", "area_abolished_successor"),
    "swapped_lat_lon": ("repair", "lat_lon_swapped"),
    "missing_area_code_point": ("repair", "area_from_point"),
    "misspelt_area_name": ("quarantine", "area_unresolved"),
    "unknown_area_code": ("quarantine", "area_code_unknown"),
    "point_outside_thailand": ("quarantine", "point_outside_thailand"),
    "exact_duplicate": ("duplicate", ""),
    "conflicting_duplicate": ("quarantine", "duplicate_key_superseded"),
    "negative_amount": ("quarantine", "amount_negative"),
    "impossible_amount": ("quarantine", "amount_impossible"),
    "invalid_citizen_id": ("quarantine", "citizen_id_checksum"),
    "orphan_reference": ("quarantine", "orphan_reference"),
    "unparseable_date": ("quarantine", "date_unparseable"),
    "malformed_json": ("quarantine", "json_malformed"),
    "total_row": ("quarantine", "total_row"),
}
QUARANTINE_KINDS = frozenset(k for k, (t, _) in KINDS.items() if t == "quarantine")

MANIFEST_COLUMNS = ("defect_id", "source", "table", "file", "source_row", "row_key", "column",
                    "defect", "treatment", "expected")


@dataclass
class Defect:
    source: str
    table: str
    file: str
    source_row: int
    row_key: str
    column: str
    defect: str
    expected: str = ""

    def as_row(self) -> dict[str, object]:
        treatment, code = KINDS[self.defect]
        expected = self.expected if treatment == "repair" else code
        return dict(source=self.source, table=self.table, file=self.file,
                    source_row=self.source_row, row_key=self.row_key, column=self.column,
                    defect=self.defect, treatment=treatment, expected=expected)


# The reduced profile in force while `generate` runs (ingestion/demo/small.py), or None.
SCOPE: ContextVar = ContextVar("demo_scope", default=None)


@dataclass
class Table:
    """Rows of one source table (dicts of the values as they go into the file; keys starting with
    `_` are hidden truth kept for the generator), with the defects injected into them.

    One defect per row: a row that carries a defect, or that is the clean original of a duplicate,
    is locked. Duplicates are inserted next to their original (exact copies after it, the older
    conflicting version before it), so file order and `updated_at` agree on which is older."""

    source: str
    table: str
    file: str
    key: tuple[str, ...]
    rows: list[dict]
    rng: np.random.Generator
    first_row: int                       # the source_row of the first data row
    _defects: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    _locked: set[int] = field(default_factory=set)
    _order: list[float] = field(default_factory=list)
    _quiet: bool = False                 # a reduced profile's table part that gets no defects

    def __post_init__(self) -> None:
        # A reduced profile keeps part of the rows before any defect is injected, so that the
        # defects (at least one of each kind, `count`) land in the rows that are written.
        scope = SCOPE.get()
        if scope is not None:
            self.rows = scope.keep(self)
            self._quiet = scope.quiet(self)
        self._order = [float(i) for i in range(len(self.rows))]

    def __len__(self) -> int:
        return len(self.rows)

    def free(self, where=None) -> list[int]:
        return [i for i, row in enumerate(self.rows)
                if i not in self._locked and (where is None or where(row))]

    def pick(self, n: int, where=None) -> list[int]:
        """`n` free rows matching `where`, at random: rows are tried in a random order and the
        test runs only until enough are found (tables have up to a few hundred thousand rows)."""
        if n <= 0 or self._quiet:
            return []
        chosen: list[int] = []
        for i in self.rng.permutation(len(self.rows)).tolist():
            if i not in self._locked and (where is None or where(self.rows[i])):
                chosen.append(i)
                if len(chosen) == n:
                    break
        return sorted(chosen)

    def mark(self, i: int, kind: str, column: str, expected: object = "") -> None:
        assert i not in self._locked, (self.table, i)
        self._locked.add(i)
        self._defects[i] = (kind, column, "" if expected is None else str(expected))

    def lock(self, i: int) -> None:
        self._locked.add(i)

    def inject(self, kind: str, n: int, apply, where=None) -> int:
        """Pick `n` free rows (matching `where`) and call `apply(row) -> (column, expected)` on
        each; `apply` may return None to skip a row it cannot use."""
        done = 0
        for i in self.pick(n * 2 if n else 0, where):
            if done >= n:
                break
            result = apply(self.rows[i])
            if result is None:
                continue
            column, expected = result
            self.mark(i, kind, column, expected)
            done += 1
        return done

    def _insert(self, row: dict, position: float) -> int:
        self.rows.append(row)
        self._order.append(position)
        return len(self.rows) - 1

    def exact_duplicates(self, n: int, where=None) -> None:
        for i in self.pick(n, where):
            self.lock(i)
            copy = self._insert(dict(self.rows[i]), self._order[i] + 0.5)
            self.mark(copy, "exact_duplicate", "")

    def conflicting_duplicates(self, n: int, change, where=None) -> None:
        """`change(row) -> dict` returns the older version of the row (same key, other values)."""
        for i in self.pick(n, where):
            older = change(dict(self.rows[i]))
            if older is None or _visible(older) == _visible(self.rows[i]):
                continue          # not a conflict: the same values would be an exact copy
            self.lock(i)
            j = self._insert(older, self._order[i] - 0.5)
            self.mark(j, "conflicting_duplicate", self.key[0])

    def finish(self, keep_hidden: bool = False) -> tuple[list[dict], list[Defect]]:
        """The rows in file order (hidden keys dropped unless asked) and their defects."""
        order = sorted(range(len(self.rows)), key=lambda i: self._order[i])
        out, defects = [], []
        for position, i in enumerate(order):
            row = self.rows[i]
            if i in self._defects:
                kind, column, expected = self._defects[i]
                key = "|".join("" if row.get(k) is None else str(row.get(k)) for k in self.key)
                defects.append(Defect(self.source, self.table, self.file,
                                      self.first_row + position, key, column, kind, expected))
            out.append(dict(row) if keep_hidden else
                       {k: v for k, v in row.items() if not k.startswith("_")})
        return out, defects


def _visible(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def count(rng: np.random.Generator, n_rows: int, rate: float, minimum: int = 1) -> int:
    """How many rows get a defect kind: the rate, never fewer than `minimum` (small tables). A
    reduced profile takes the minimum: one of each kind in a table of a few hundred rows."""
    if SCOPE.get() is not None:
        return minimum
    return max(minimum, int(round(n_rows * rate * rng.uniform(0.8, 1.2))))
