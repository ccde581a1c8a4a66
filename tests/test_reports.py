"""The area reports as a provincial coordinator sees them: the pages that the real run wrote,
opened from the folder (file://, no server, no internet) in headless Chromium."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from chromium import CHROMIUM, Chromium

MAP_PATHS = "document.querySelectorAll('#{} path.choroplethlocation').length"


@pytest.fixture(scope="module")
def reports(pipeline, codi_env: Path) -> Path:
    assert pipeline.success, "the daily_refresh run failed: see the captured log above"
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make browser` installs Debian's chromium package")
    return codi_env / "published" / "reports"


@pytest.fixture(scope="module")
def browser():
    with Chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def screenshots(codi_env: Path) -> Path:
    folder = codi_env / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _opened_offline(browser: Chromium, page: Path) -> None:
    browser.console_errors.clear()
    browser.requests.clear()
    browser.failed_loads.clear()
    browser.open(page.as_uri())


def _check_page_basics(browser: Chromium, pipeline, title: str) -> None:
    assert browser.evaluate("document.getElementById('page-title').textContent.trim()") == title
    # the Thai font shipped with the site, not the machine's
    assert browser.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily").startswith('"Noto Sans Thai"')
    assert browser.evaluate(
        "[...document.fonts].some(f => f.family.replace(/\"/g, '') === 'Noto Sans Thai' && f.status === 'loaded')")
    stamp = browser.evaluate("document.getElementById('published-stamp').textContent")
    assert pipeline.run_id in stamp
    assert re.search(r"ข้อมูลเผยแพร่เมื่อ \d{1,2} \S+ 25\d\d เวลา \d\d:\d\d น\.", stamp), stamp


def _check_offline(browser: Chromium) -> None:
    assert browser.console_errors == []
    assert browser.failed_loads == []
    outside = [url for url in browser.requests if not url.startswith(("file://", "data:"))]
    assert outside == [], "the page fetched something from outside the folder"


def test_national_page(reports: Path, browser: Chromium, screenshots: Path, pipeline, warehouse):
    _opened_offline(browser, reports / "index.html")
    drawn = browser.wait_for(MAP_PATHS.format("map-provinces"))
    shot = browser.screenshot(screenshots / "national.png")
    _check_offline(browser)
    _check_page_basics(browser, pipeline, "รายงานพื้นที่ระดับประเทศ")
    # the choropleth draws all 77 provinces (grey where a province has no figure)
    assert drawn >= 77
    coloured = browser.evaluate("""(() => { const fills = new Set();
        document.querySelectorAll('#map-provinces path.choroplethlocation').forEach(p => fills.add(getComputedStyle(p).fill));
        return fills.size; })()""")
    assert coloured > 5, "the provinces are coloured by their figures"
    # the indicator table: every indicator of the plan with its targets and a status
    rows = browser.evaluate("[...document.querySelectorAll('table.kpi tbody tr')].map(r => r.textContent)")
    assert len(rows) == 10 and rows[0].strip().startswith("K1")
    assert all("เป้า" in r for r in rows)
    assert browser.evaluate("document.querySelectorAll('table.kpi .badge.ok, table.kpi .badge.bad').length") > 0
    # the areas without a polygon are listed, not dropped
    missing = warehouse.execute("select count(*) from marts.dim_area where not has_geometry").fetchone()[0]
    assert browser.evaluate("document.querySelectorAll('#no-geometry-list tbody tr').length") == missing == 14
    # every province has its page
    links = browser.evaluate("[...document.querySelectorAll('.regions a')].map(a => a.getAttribute('href'))")
    assert len(links) == 77 and all((reports / link).exists() for link in links)
    width, height = _png_size(shot)
    assert width == 1280 and height > 2000


def test_province_page(reports: Path, browser: Chromium, screenshots: Path, pipeline, warehouse):
    _opened_offline(browser, reports / "province-50.html")
    districts = browser.wait_for(MAP_PATHS.format("map-districts"))
    subdistricts = browser.wait_for(MAP_PATHS.format("map-subdistricts"))
    browser.wait_for("document.querySelectorAll('#chart-years path.js-line').length")
    browser.screenshot(screenshots / "province-50.png")
    _check_offline(browser)
    _check_page_basics(browser, pipeline, "จังหวัดเชียงใหม่")
    n_districts, n_subdistricts = warehouse.execute("""
        select count(*) filter (where area_level = 'district'), count(*) filter (where area_level = 'subdistrict')
        from marts.dim_area where province_code = '50'""").fetchone()
    assert districts >= n_districts
    assert subdistricts >= n_subdistricts
    # figures by fiscal year: one column per year the province mart holds
    years = [y for (y,) in warehouse.execute(
        "select fiscal_year from marts.mart_province_profile where province_code = '50' order by 1").fetchall()]
    header = browser.evaluate("[...document.querySelectorAll('table.years thead th')].slice(1).map(t => t.textContent)")
    assert [int(y) for y in header] == years
    moved_in = warehouse.execute("""select housing_households_moved_in from marts.mart_province_profile
                                    where province_code = '50' and fiscal_year = ?""", [years[-1]]).fetchone()[0]
    row = browser.evaluate("""[...document.querySelectorAll('table.years tbody tr')]
        .find(r => r.textContent.includes('ครัวเรือนที่เข้าอยู่อาศัย')).lastElementChild.textContent""")
    assert row.strip() == f"{moved_in:,}"
    assert browser.evaluate("document.querySelectorAll('#district-table tbody tr').length") == n_districts
    assert browser.evaluate("document.querySelectorAll('#subdistrict-table tbody tr').length") == n_subdistricts


def test_bangkok_lists_its_subdistricts_without_geometry(reports: Path, browser: Chromium, screenshots: Path,
                                                          warehouse):
    _opened_offline(browser, reports / "province-10.html")
    browser.wait_for(MAP_PATHS.format("map-subdistricts"))
    _check_offline(browser)
    assert browser.evaluate("document.getElementById('page-title').textContent.trim()") == "กรุงเทพมหานคร"
    missing = {c for (c,) in warehouse.execute("""select area_code from marts.dim_area
        where province_code = '10' and area_level = 'subdistrict' and not has_geometry""").fetchall()}
    assert len(missing) == 13
    flagged = browser.evaluate("[...document.querySelectorAll('tr.nogeo td:first-child')].map(t => t.textContent)")
    assert set(flagged) == missing, "each is in the subdistrict table, with its figures"
    noted = browser.evaluate("document.getElementById('no-geometry').textContent")
    assert all(code in noted for code in missing)
