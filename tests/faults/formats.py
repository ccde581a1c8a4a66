"""Editing source files in their own formats, as a damaged export would have them: text lines of a
CSV or NDJSON file (in the file's encoding, line ends kept), rows of a SQLite table, cells of a
workbook (openpyxl), features of a GeoJSON file. And the ground truth of the small sources, to
pick rows that carry no defect of their own."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import schemas


def encoding_of(rel: str) -> str:
    """The encoding each CSV source is exported in (DESIGN section 4): finance in Windows-874,
    organization in UTF-8 with a BOM, welfare members in UTF-8."""
    return "cp874" if rel.startswith("finance/") else "utf-8"


class Lines:
    """A text file as its lines: `lines[0]` is line 1 (a CSV's header); each keeps its `\\r`.
    A byte order mark stays in front of line 1."""

    def __init__(self, path: Path, encoding: str | None = None):
        self.path = Path(path)
        self.encoding = encoding or encoding_of(self.path.parent.name + "/" + self.path.name)
        self.lines = self.path.read_bytes().decode(self.encoding).split("\n")

    @property
    def eol(self) -> str:
        return "\r" if self.lines[0].endswith("\r") else ""

    def header(self) -> list[str]:
        return next(csv.reader([self.lines[0].lstrip("\ufeff").rstrip("\r")]))

    def fields(self, line: int) -> list[str]:
        """The fields of a line (1-based) as the csv module reads it alone."""
        return next(csv.reader([self.lines[line - 1].rstrip("\r")]))

    def set_fields(self, line: int, fields: list[str]) -> None:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(fields)
        self.lines[line - 1] = out.getvalue() + self.eol

    def set_field(self, line: int, column: str, value: str) -> str:
        fields = self.fields(line)
        i = self.header().index(column)
        old, fields[i] = fields[i], value
        self.set_fields(line, fields)
        return old

    def data_lines(self) -> list[int]:
        """Line numbers of the non-blank lines after the header."""
        return [i + 1 for i, line in enumerate(self.lines) if i and line.strip()]

    def save(self, encoding: str | None = None) -> None:
        self.path.write_bytes("\n".join(self.lines).encode(encoding or self.encoding))


@contextlib.contextmanager
def sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(path)
    try:
        yield con
        con.commit()
    finally:
        con.close()


def rebuild_sqlite_table(path: Path, table: str, columns: list[str]) -> None:
    """The table again with its columns in another order (rowids kept)."""
    with sqlite(path) as con:
        types = {r[1]: r[2] for r in con.execute(f'pragma table_info("{table}")')}
        cols = ", ".join(f'"{c}" {types[c]}' for c in columns)
        con.execute(f'create table "{table}_new" ({cols})')
        names = ", ".join(f'"{c}"' for c in columns)
        con.execute(f'insert into "{table}_new" (rowid, {names}) select rowid, {names} from "{table}"')
        con.execute(f'drop table "{table}"')
        con.execute(f'alter table "{table}_new" rename to "{table}"')
        con.commit()
        con.execute("vacuum")


def workbook(path: Path):
    import openpyxl

    return openpyxl.load_workbook(path)


def header_row(sheet, first_header: str) -> int:
    for row in sheet.iter_rows(min_row=1, max_row=20):
        for cell in row:
            if cell.value is not None and str(cell.value).strip() == first_header:
                return cell.row
    raise LookupError(first_header)


def geojson(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_geojson(path: Path, collection: dict) -> None:
    # One feature a line, as the export writes it.
    features = collection["features"]
    head = {k: v for k, v in collection.items() if k != "features"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'
    text += ",\n".join(json.dumps(f, ensure_ascii=False) for f in features) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def cut(path: Path, share: float) -> int:
    """Keep the first `share` of the file's bytes (a transfer cut off); returns the bytes kept."""
    data = path.read_bytes()
    n = int(len(data) * share)
    path.write_bytes(data[:n])
    return n


# -- the ground truth ------------------------------------------------------------------------------

@dataclass
class Truth:
    """The small sources' defects (data/ground_truth/defects.csv): rows to stay away from."""

    rows: list[dict]

    @classmethod
    def read(cls, folder: Path) -> "Truth":
        with open(Path(folder) / "defects.csv", encoding="utf-8", newline="") as fh:
            return cls(list(csv.DictReader(fh)))

    def flawed(self, file: str) -> set[int]:
        """Rows of a file (as in `_source_file`) with a defect, and their neighbours (an exact
        copy follows its original, an older record precedes the newer one)."""
        out = set()
        for r in self.rows:
            if r["file"] == file:
                n = int(r["source_row"])
                out |= {n - 1, n, n + 1}
        return out

    def clean(self, file: str, candidates, skip: int = 0) -> int:
        """The first candidate row (in the order given) that carries no defect, after `skip`
        clean ones."""
        flawed = self.flawed(file)
        for row in candidates:
            if row not in flawed:
                if skip == 0:
                    return row
                skip -= 1
        raise LookupError(f"no clean row in {file}")


def spec(name: str) -> schemas.TableSpec:
    source, table = name.split("/")
    return schemas.TABLES[(source, table)]
