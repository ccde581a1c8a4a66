"""A small writer for plain .xlsx workbooks (text, numbers and dates in cells; nothing else).

openpyxl took most of the demo's run time writing the welfare workbooks and stamps the save
time into them; this writes the same Office Open XML parts directly, with fixed timestamps, so
the same rows give the same bytes. Anything that reads Excel files (openpyxl, pandas, DuckDB)
reads them: cell types are the standard ones (shared strings, numbers, dates as serial numbers
with a date format)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

STAMP = (2017, 10, 1, 0, 0, 0)           # zip entry times and document properties
_EPOCH = date(1899, 12, 30)

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>{sheets}<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"""
_CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>{creator}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2017-10-01T00:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2017-10-01T00:00:00Z</dcterms:modified></cp:coreProperties>"""
_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application></Properties>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Tahoma"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def write_workbook(path: Path, sheets: list[tuple[str, list[list]]], creator: str = "") -> None:
    """`sheets`: (name, rows); a row is a list of cell values (str, int, float, date or None)."""
    strings: dict[str, int] = {}
    parts: list[tuple[str, str]] = []
    letters = [_column(i) for i in range(64)]
    for n, (_, rows) in enumerate(sheets, start=1):
        width = max((len(row) for row in rows), default=1)
        # The dimension lets readers size the sheet without scanning it (openpyxl's max_row).
        out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               f'<dimension ref="A1:{letters[width - 1]}{max(len(rows), 1)}"/><sheetData>']
        for r, row in enumerate(rows, start=1):
            cells = []
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                ref = f"{letters[c]}{r}"
                if isinstance(value, bool):
                    cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
                elif isinstance(value, (int, float)):
                    cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
                elif isinstance(value, (date, datetime)):
                    day = value.date() if isinstance(value, datetime) else value
                    cells.append(f'<c r="{ref}" s="1"><v>{(day - _EPOCH).days}</v></c>')
                else:
                    k = strings.setdefault(str(value), len(strings))
                    cells.append(f'<c r="{ref}" t="s"><v>{k}</v></c>')
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
        out.append("</sheetData></worksheet>")
        parts.append((f"xl/worksheets/sheet{n}.xml", "".join(out)))
    shared = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
              f'count="{len(strings)}" uniqueCount="{len(strings)}">']
    shared += [f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings]
    shared.append("</sst>")
    sheet_entries = "".join(f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
                            for n, (name, _) in enumerate(sheets, start=1))
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'<sheets>{sheet_entries}</sheets></workbook>')
    k = len(sheets)
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
                      f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
                      for n in range(1, k + 1))
            + f'<Relationship Id="rId{k + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
              f'2006/relationships/styles" Target="styles.xml"/>'
            + f'<Relationship Id="rId{k + 2}" Type="http://schemas.openxmlformats.org/officeDocument/'
              f'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
                        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                        for n in range(1, k + 1))
    files = [("[Content_Types].xml", _CONTENT_TYPES.format(sheets=overrides)),
             ("_rels/.rels", _ROOT_RELS),
             ("docProps/core.xml", _CORE.format(creator=escape(creator))),
             ("docProps/app.xml", _APP),
             ("xl/workbook.xml", workbook),
             ("xl/_rels/workbook.xml.rels", rels),
             ("xl/styles.xml", _STYLES),
             ("xl/sharedStrings.xml", "".join(shared)),
             *parts]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files:
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
