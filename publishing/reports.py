"""The area reports: a static HTML site in `published/reports/` that a provincial coordinator
opens from a folder, without a server and without the internet.

- `index.html`: the national page, with choropleth maps of the area figures by province, the
  plan's indicators against their targets, every province, and the areas without a polygon;
- `province-<code>.html`: one page per province, with its districts and subdistricts on maps and
  its figures by fiscal year.

Everything a page needs ships in `assets/`: plotly.js (drawn on the page's own boundaries, no
basemap tiles), and the Noto Sans Thai font (OFL), so Thai renders the same on every machine."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import fontpkg_noto_sans_thai
import jinja2
import pandas as pd
import plotly

from publishing import database, geo, marts

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
FONT_FAMILY = "Noto Sans Thai"
PLOT_FONT = f"'{FONT_FAMILY}', sans-serif"
THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
               "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
# Degrees: about 500 m for the national map, 100 m for a province's districts and subdistricts.
NATIONAL_TOLERANCE = 0.005
PROVINCE_TOLERANCE = 0.001
BANGKOK_CODE = "10"
# YlGnBu, light for little and dark for much (ColorBrewer).
COLORSCALE = [[0, "#ffffd9"], [0.125, "#edf8b1"], [0.25, "#c7e9b4"], [0.375, "#7fcdbb"], [0.5, "#41b6c4"],
              [0.625, "#1d91c0"], [0.75, "#225ea8"], [0.875, "#253494"], [1, "#081d58"]]
NO_DATA_COLOUR = "#e4e4e4"
PLOT_CONFIG = {
    "displaylogo": False, "responsive": True, "scrollZoom": False,
    # Never used (offline.js provides the empty basemap), but never a CDN either.
    "topojsonURL": "assets/",
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"],
}


# ---------------------------------------------------------------- formatting (also Jinja filters)

def thai_datetime(value: datetime) -> str:
    """`26 พฤศจิกายน 2569 เวลา 14:05 น.`: Buddhist Era, as a Thai reader expects."""
    return f"{value.day} {THAI_MONTHS[value.month - 1]} {value.year + 543} เวลา {value:%H:%M} น."


def number(value, digits: int = 2) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "ใช่" if value else "ไม่ใช่"
    value = float(value)
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


STATUS = {  # mart_kpi.status (its accepted values, DESIGN section 8) -> (Thai, English, css class)
    "met": ("บรรลุเป้าหมาย", "met", "ok"),
    "behind": ("ต่ำกว่าเป้าหมาย", "behind", "bad"),
    "no target": ("ไม่มีเป้าหมาย", "no target", "none"),
    "no data": ("ไม่มีข้อมูล", "no data", "none"),
}


def status_of(value) -> tuple[str, str, str]:
    """The mart's status, mapped exactly: a status the mart does not have is a bug to report,
    not a word to guess at (mart_kpi's accepted_values test keeps the list)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return STATUS["no data"]
    try:
        return STATUS[str(value)]
    except KeyError:
        raise ValueError(f"mart_kpi status {value!r} is none of {', '.join(STATUS)}") from None


# ---------------------------------------------------------------- maps and charts

@dataclass
class MapLayer:
    """The areas of one map: codes, names and polygons, and per measure the figures to colour."""
    codes: list[str]
    names_th: list[str]
    names_en: list[str]
    geometries: dict[str, dict]


def _feature_collection(codes: list[str], geometries: dict[str, dict]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": code, "properties": {}, "geometry": geometries[code]}
        for code in codes if code in geometries]}


def _json(value) -> str:
    # Inside <script>: no "</" may close the element early.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def plot_html(div_id: str, data: list[dict], layout: dict, shapes: dict[str, dict] | None = None) -> str:
    """A plotly.js figure as a div and the script that draws it. Traces name their boundaries
    ("geojson": "@name") so that several traces share one copy of the polygons in the page."""
    shapes = shapes or {}
    return (f'<div id="{div_id}" class="plot"></div>\n<script>(function () {{\n'
            f"var shapes = {_json(shapes)};\n"
            f"var data = {_json(data)};\n"
            "data.forEach(function (t) { if (typeof t.geojson === 'string') t.geojson = shapes[t.geojson.slice(1)]; });\n"
            # Draw once the shipped Thai font is in, so plotly measures labels with the right glyphs.
            "var ready = document.fonts ? document.fonts.load(\"13px 'Noto Sans Thai'\") : Promise.resolve();\n"
            f"ready.then(function () {{ Plotly.newPlot({_json(div_id)}, data, {_json(layout)}, {_json(PLOT_CONFIG)}); }});\n"
            "})();</script>")


def _values(rows: dict[str, dict], column: str) -> dict[str, float]:
    return {code: float(row[column]) for code, row in rows.items() if row.get(column) is not None}


def choropleth(div_id: str, layer: MapLayer, rows: dict[str, dict], measures: list[marts.Measure],
               *, height: int, outline: MapLayer | None = None) -> str:
    """A map of the layer's areas coloured by one measure, with a menu to switch measures.
    Areas without a figure stay on the map, grey; areas without a polygon are listed elsewhere."""
    drawn = [c for c in layer.codes if c in layer.geometries]
    shapes = {"areas": _feature_collection(drawn, layer.geometries)}
    names = dict(zip(layer.codes, zip(layer.names_th, layer.names_en)))
    line = {"color": "white", "width": 0.6}
    data = [{
        "type": "choropleth", "geojson": "@areas", "locations": drawn, "z": [0] * len(drawn),
        "featureidkey": "id", "colorscale": [[0, NO_DATA_COLOUR], [1, NO_DATA_COLOUR]],
        "showscale": False, "marker": {"line": line}, "name": "base",
        "customdata": [[names[c][0], names[c][1]] for c in drawn],
        "hovertemplate": "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>ไม่มีข้อมูล (no data)<extra></extra>"}]

    def series(measure: marts.Measure):
        values = _values(rows, measure.column)
        codes = [c for c in drawn if c in values]
        return {"locations": codes, "z": [values[c] for c in codes],
                "customdata": [[names[c][0], names[c][1], number(values[c])] for c in codes]}

    buttons = []
    if measures:
        data.append({
            "type": "choropleth", "geojson": "@areas", "featureidkey": "id", **series(measures[0]),
            "colorscale": COLORSCALE, "marker": {"line": line}, "name": "measure",
            "colorbar": {"thickness": 14, "len": 0.8},
            "hovertemplate": "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>"})
        for measure in measures:
            part = series(measure)
            buttons.append({"label": _short(measure), "method": "restyle", "args": [
                {"locations": [part["locations"]], "z": [part["z"]], "customdata": [part["customdata"]]},
                [1]]})
    if outline is not None:
        outer = [c for c in outline.codes if c in outline.geometries]
        shapes["outline"] = _feature_collection(outer, outline.geometries)
        data.append({
            "type": "choropleth", "geojson": "@outline", "locations": outer, "z": [0] * len(outer),
            "featureidkey": "id", "showscale": False, "hoverinfo": "skip",
            "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            "marker": {"line": {"color": "#33415c", "width": 1.6}}, "name": "outline"})
    layout = {
        "height": height, "margin": {"l": 0, "r": 0, "t": 40 if buttons else 0, "b": 0},
        "showlegend": False, "font": {"family": PLOT_FONT, "size": 13},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "geo": {"visible": False, "fitbounds": "locations", "projection": {"type": "mercator"},
                "bgcolor": "rgba(0,0,0,0)"},
        "updatemenus": [{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.0,
                         "yanchor": "bottom", "showactive": True, "bgcolor": "white"}] if len(buttons) > 1 else [],
    }
    return plot_html(div_id, data, layout, shapes)


def _short(measure: marts.Measure) -> str:
    return measure.label_th or measure.label_en


def trend_chart(div_id: str, rows: list[dict], measures: list[marts.Measure]) -> str:
    """The province's figures by fiscal year, one measure at a time (a menu switches)."""
    years = [int(r["fiscal_year"]) for r in rows]
    data, buttons = [], []
    for i, measure in enumerate(measures):
        values = [None if r.get(measure.column) is None else float(r[measure.column]) for r in rows]
        data.append({"type": "scatter", "x": years, "y": values, "mode": "lines+markers+text",
                     "name": _short(measure), "text": [number(v) for v in values],
                     "textposition": "top center", "visible": i == 0, "cliponaxis": False,
                     "line": {"color": "#1d6fa5", "width": 3},
                     "hovertemplate": "ปีงบประมาณ %{x}<br>%{text}<extra></extra>"})
        buttons.append({"label": _short(measure), "method": "update", "args": [
            {"visible": [j == i for j in range(len(measures))]}]})
    layout = {
        "height": 360, "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "showlegend": False,
        "font": {"family": PLOT_FONT, "size": 13}, "plot_bgcolor": "white",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"title": {"text": "ปีงบประมาณ (fiscal year, BE)"}, "tickmode": "array",
                  "tickvals": years, "gridcolor": "#eee"},
        "yaxis": {"gridcolor": "#eee", "rangemode": "tozero"},
        "updatemenus": [{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.12,
                         "yanchor": "bottom", "bgcolor": "white"}] if len(buttons) > 1 else [],
    }
    return plot_html(div_id, data, layout)


# ---------------------------------------------------------------- the site

def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["number"] = number
    env.filters["thai_datetime"] = thai_datetime
    env.globals["status_of"] = status_of
    return env


def _copy_assets(assets: Path) -> None:
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    for name in ("offline.js", "report.css"):
        shutil.copyfile(STATIC_DIR / name, assets / name)
    fonts = assets / "fonts"
    fonts.mkdir()
    font_files = sorted((fontpkg_noto_sans_thai.ROOT / "files").glob("*.ttf"))
    shutil.copyfile(font_files[0], fonts / "NotoSansThai.ttf")
    shutil.copyfile(fontpkg_noto_sans_thai.ROOT / "LICENSE", fonts / "OFL.txt")


def _province_title(code: str, name_th: str) -> str:
    return name_th if code == BANGKOK_CODE else f"จังหวัด{name_th}"


def _layer(rows: list[dict], geometries: dict[str, dict]) -> MapLayer:
    return MapLayer([r["area_code"] for r in rows], [r["name_th"] for r in rows],
                    [r["name_en"] for r in rows], geometries)


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _records(table: pd.DataFrame) -> list[dict]:
    """Plain dicts (None for missing): pages are rendered from these, not from DataFrames."""
    columns = list(table.columns)
    return [{k: (None if _missing(v) else (v.item() if hasattr(v, "item") else v))
             for k, v in zip(columns, row)} for row in table.itertuples(index=False, name=None)]


def _by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return groups


def _kpi_rows(records: list[dict]) -> tuple[list[int], list[dict]]:
    """Indicators as rows with a cell per fiscal year: what the plan's table looks like."""
    years = sorted({int(r["fiscal_year"]) for r in records})
    rows: dict[str, dict] = {}
    for r in records:
        row = rows.setdefault(r["kpi_id"], {
            "kpi_id": r["kpi_id"], "name_th": r["name_th"], "name_en": r["name_en"],
            "unit": " / ".join(u for u in (r["unit"], r.get("unit_en")) if u), "cells": {}})
        row["cells"][int(r["fiscal_year"])] = {k: r[k] for k in ("target", "actual", "achievement_pct", "status")}
    return years, list(rows.values())


def _issue_groups(measures: list[marts.Measure]) -> list[dict]:
    groups: list[dict] = []
    for measure in measures:
        if not groups or groups[-1]["issue"] != measure.issue:
            th, en = marts.ISSUES.get(measure.issue, marts.ISSUES["other"])
            groups.append({"issue": measure.issue, "name_th": th, "name_en": en, "measures": []})
        groups[-1]["measures"].append(measure)
    return groups


def build(published_db: Path, boundaries_dir: Path, out_dir: Path,
          dbt_manifest: Path | None = None) -> dict:
    """Build the whole site into `out_dir` (a part of the release being built, which is switched
    in whole: publishing/release.py); return what was made."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    site = out_dir
    publish = database.read_manifest(Path(published_db).parent) or {}
    stamp = {
        "run_id": publish.get("run_id", "–"),
        "published_at": datetime.fromisoformat(publish["published_at"]) if publish.get("published_at") else None,
    }
    env = _environment()
    with duckdb.connect(str(published_db), read_only=True) as con:
        catalog = marts.discover(con, dbt_manifest)
        year = marts.latest_fiscal_year(con, catalog)
        _copy_assets(site / "assets")
        shutil.copyfile(Path(boundaries_dir) / "ATTRIBUTION.md", site / "assets" / "BOUNDARIES-ATTRIBUTION.md")

        provinces, districts, subdistricts = (
            _records(geo.level_table(con, catalog, level, year).reset_index(drop=True))
            for level in ("province", "district", "subdistrict"))
        by_year = _by(_records(marts.figures(con, catalog.area_marts["province"])), "area_code") \
            if "province" in catalog.area_marts else {}
        kpi_country = _records(marts.kpis(con, "country")) if catalog.has_kpi else []
        kpi_province = _by(_records(marts.kpis(con, "province")), "area_code") if catalog.has_kpi else {}
        # From here on: plain Python on those records.
        main = {level: catalog.main_measures(level) for level in ("province", "district", "subdistrict")}
        kpi_years, kpi_rows = _kpi_rows(kpi_country)
        no_geometry = [r for r in provinces + districts + subdistricts if not r["has_geometry"]]
        common = {"stamp": stamp, "fiscal_year": year, "catalog": catalog, "root": ""}

        national_map = choropleth(
            "map-provinces",
            _layer(provinces, geo.simplified_boundaries(boundaries_dir, "province", NATIONAL_TOLERANCE)),
            {r["area_code"]: r for r in provinces}, main["province"], height=760)
        regions = [{"code": rows[0]["region_6_code"], "name_th": rows[0]["region_6_name_th"], "provinces": rows}
                   for rows in _by(provinces, "region_6_code").values()]
        html = env.get_template("national.html.j2").render(
            **common, map_html=national_map, measures=main["province"],
            kpi_years=kpi_years, kpi_rows=kpi_rows, regions=regions, provinces=provinces,
            no_geometry=no_geometry, page_title="รายงานพื้นที่ระดับประเทศ")
        (site / "index.html").write_text(html, encoding="utf-8")

        district_shapes = geo.simplified_boundaries(boundaries_dir, "district", PROVINCE_TOLERANCE)
        subdistrict_shapes = geo.simplified_boundaries(boundaries_dir, "subdistrict", PROVINCE_TOLERANCE)
        districts_of, subdistricts_of = _by(districts, "province_code"), _by(subdistricts, "province_code")
        current = {r["area_code"] for r in subdistricts}
        # The by-year table lists every measure, grouped by issue; the maps only the main ones.
        issues = _issue_groups(catalog.level_measures("province"))
        template = env.get_template("province.html.j2")
        pages = []
        for province in provinces:
            code = province["area_code"]
            its_districts, its_subdistricts = districts_of.get(code, []), subdistricts_of.get(code, [])
            district_layer = _layer(its_districts, district_shapes)
            district_map = choropleth("map-districts", district_layer,
                                      {r["area_code"]: r for r in its_districts}, main["district"], height=560)
            subdistrict_layer = _layer(its_subdistricts, subdistrict_shapes)
            # Polygons whose code DOPA has abolished are still land: grey, named as such.
            for stale in sorted(c for c in subdistrict_shapes if c[:2] == code and c not in current):
                subdistrict_layer.codes.append(stale)
                subdistrict_layer.names_th.append(f"รหัสเดิม {stale} (ยกเลิกแล้ว)")
                subdistrict_layer.names_en.append("a former code, no longer current")
            subdistrict_map = choropleth(
                "map-subdistricts", subdistrict_layer,
                {r["area_code"]: r for r in its_subdistricts}, main["subdistrict"], height=620,
                outline=district_layer)
            years_rows = by_year.get(code, [])
            trend = trend_chart("chart-years", years_rows, main["province"]) if years_rows else ""
            k_years, k_rows = _kpi_rows(kpi_province.get(code, []))
            title = _province_title(code, province["name_th"])
            html = template.render(
                **common, province=province, title=title, page_title=title,
                district_map=district_map, subdistrict_map=subdistrict_map, trend_html=trend,
                years=[r["fiscal_year"] for r in years_rows], by_year=years_rows, issues=issues,
                district_measures=main["district"], subdistrict_measures=main["subdistrict"],
                districts=its_districts, subdistricts=its_subdistricts,
                no_geometry=[r for r in its_subdistricts if not r["has_geometry"]],
                kpi_years=k_years, kpi_rows=k_rows)
            page = f"province-{code}.html"
            (site / page).write_text(html, encoding="utf-8")
            pages.append(page)
    return {"index": out_dir / "index.html", "province_pages": len(pages), "fiscal_year": year,
            "measures": len(main["province"]), "indicators": len(kpi_rows),
            "areas_without_geometry": len(no_geometry)}
