"""Tables a reader can read (issue 17): headers and values in words in ``report.html`` and
``tables.xlsx``, suppression marks with their notes, the data dictionary, and ``rss check``
still reading the column names behind the labels.

Hand-made outputs (``build_report`` in process) for the details; the project built by ``rss
run`` with every real notebook (``full_project``) for "every column of every table is
documented" and for a planted small count in a real readable sheet and table.
"""

from __future__ import annotations

import csv
import importlib.resources
import json
import re
import shutil
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from full_project import REPO, full_project  # noqa: F401 (the session fixture)
from openpyxl import load_workbook

from helpers import checks, report
from helpers.checks import tables as check_tables
from helpers.report import catalogue, dictionary, readable, shot, workbook

SAMPLE = ("variable,level,n_surveys,n_respondents,share,mean,suppressed\n"
          "wave,1,500,500,0.618047,,False\n"
          "sex,F,,x,,,True\n"
          "sex,M,664,404,0.808,,False\n"
          "sex,unknown,,<12,,,True\n")
EXCLUSIONS = ("country,fieldwork,status,n_surveys,n_respondents,share_of_surveys,suppressed\n"
              "NER,False,scored,809,500,1,False\n"
              "SEN,True,scored,2743,1500,0.75,False\n")


def build(root: Path, tables: dict[str, str], *, threshold: int = 12) -> dict[str, Path]:
    rep = root / "reports"
    for sub in ("tables", "figures", "numbers"):
        (rep / sub).mkdir(parents=True, exist_ok=True)
    (rep / "numbers" / "prepare.json").write_text(json.dumps({"disclosure_threshold": threshold, "synthetic": True}))
    for stem, text in tables.items():
        (rep / "tables" / f"{stem}.csv").write_text(text)
    return report.build_report(root, manifest={"run": {"countries": ["NER"]}})


@pytest.fixture
def built(tmp_path):
    out = build(tmp_path, {"country_NER_sample": SAMPLE, "prepare_exclusions_by_country": EXCLUSIONS})
    return tmp_path, out["html"].read_text(encoding="utf-8")


def block(html: str, stem: str) -> str:
    start = html.index(f'<div class="tbl" id="table-{stem}">')
    return html[start:html.index("</div>", start)]


def sheet(root: Path, stem: str) -> list[tuple]:
    wb = load_workbook(root / "reports" / "tables.xlsx")
    ws = wb[report.sheet_names([stem])[stem]]
    return [tuple(c for c in r) for r in ws.iter_rows()]


def test_html_headers_in_words_with_the_csv_name_and_countries_by_name(built):
    _root, html = built
    t = block(html, "prepare_exclusions_by_country")
    heads = re.findall(r'<th data-col="([^"]+)" title="([^"]*)">([^<]+)</th>', t)
    assert [(n, label) for n, _d, label in heads] == [
        ("country", "Country"), ("fieldwork", "Fieldwork country"), ("status", "Status"), ("n_surveys", "Surveys"),
        ("n_respondents", "Respondents"), ("share_of_surveys", "Share of surveys (%)"), ("suppressed", "Suppressed")]
    assert all(d for _n, d, _l in heads)  # every header carries its description
    assert '<td class="">Niger (NER)</td>' in t and '<td class="">Senegal (SEN)</td>' in t and ">NER<" not in t
    assert '<td class="n">2,743</td>' in t and '<td class="n">1,500</td>' in t
    assert '<td class="">yes</td>' in t and '<td class="">no</td>' in t and "True" not in t and "False" not in t
    assert "<h4>Niger (NER): Sample</h4>" in block(html, "country_NER_sample")


def test_shares_are_percentages_of_the_right_value(built):
    root, html = built
    t = block(html, "country_NER_sample")
    assert '<td class="n">61.8%</td>' in t and '<td class="n">80.8%</td>' in t and "0.618" not in t
    assert '<td class="n">100.0%</td>' in block(html, "prepare_exclusions_by_country")
    wb = load_workbook(root / "reports" / "tables.xlsx")
    ws = wb[report.sheet_names(["country_NER_sample"])["country_NER_sample"]]
    cell = ws.cell(row=3, column=5)  # row 1 labels, row 2 names, row 3 the first row
    assert cell.value == pytest.approx(0.618047) and cell.number_format == "0.0%"
    assert ws.cell(row=3, column=3).number_format == "#,##0"


def test_workbook_labels_in_row_1_names_in_row_2_values_in_words(built):
    root, _html = built
    rows = [tuple(c.value for c in r) for r in sheet(root, "prepare_exclusions_by_country")]
    assert rows[0] == ("Country", "Fieldwork country", "Status", "Surveys", "Respondents", "Share of surveys (%)",
                       "Suppressed")
    assert rows[1] == ("country", "fieldwork", "status", "n_surveys", "n_respondents", "share_of_surveys",
                       "suppressed")
    assert rows[2] == ("Niger (NER)", "no", "scored", 809, 500, 1, "no")
    assert rows[3][:2] == ("Senegal (SEN)", "yes")
    contents = list(load_workbook(root / "reports" / "tables.xlsx")["contents"].iter_rows(values_only=True))
    row = next(r for r in contents if r[1] == "reports/tables/prepare_exclusions_by_country.csv")
    assert row[3:] == ("Prepare exclusions by country", 2, 4)


def test_suppression_marks_carry_footnotes_saying_why_with_the_run_threshold(built):
    root, html = built
    t = block(html, "country_NER_sample")
    assert '&lt;12 <a class="fn" href="#sup-country_NER_sample-s1">[s1]</a>' in t
    assert 'x <a class="fn" href="#sup-country_NER_sample-s2">[s2]</a>' in t
    assert ('<li id="sup-country_NER_sample-s1">&lt;12 [s1]: fewer than 12 respondents, hidden (primary '
            "suppression)</li>") in t
    assert ('<li id="sup-country_NER_sample-s2">x [s2]: hidden so that a hidden small count cannot be recovered by '
            "subtraction from the table&#x27;s total (secondary suppression)</li>") in t
    assert "supnotes" not in block(html, "prepare_exclusions_by_country")  # no mark, no note
    rows = [tuple(c.value for c in r) for r in sheet(root, "country_NER_sample")]
    assert rows[3][3] == "x" and rows[5][3] == "<12" and rows[5][6] == "yes"
    assert rows[6] == (None,) * 7 or not any(rows[6])
    assert rows[7][0] == "<12: fewer than 12 respondents, hidden (primary suppression)"
    assert rows[8][0].startswith("x: hidden so that a hidden small count cannot be recovered by subtraction")


def test_the_data_dictionary_lists_every_published_column(built):
    root, html = built
    rows = list(csv.reader((root / "reports" / "data_dictionary.csv").open(encoding="utf-8")))
    assert rows[0] == ["table", "column", "label", "description"]
    assert ["prepare_exclusions_by_country", "share_of_surveys", "Share of surveys (%)",
            catalogue.lookup("share_of_surveys").description] in rows
    assert len(rows) == 1 + 7 + 7
    wb = load_workbook(root / "reports" / "tables.xlsx")
    assert [list(r) for r in wb["dictionary"].iter_rows(values_only=True)] == rows
    assert '<section id="dictionary">' in html and 'href="#dictionary"' in html
    assert "reports/data_dictionary.csv" in html and "Columns with no description" not in html


def test_an_undocumented_column_is_named_by_the_build(tmp_path, capsys):
    out = build(tmp_path, {"cross_odd": "country,zz_mystery\nNER,1\n"})
    err = capsys.readouterr().err
    assert "column 'zz_mystery' of table cross_odd (reports/tables/cross_odd.csv) has no entry" in err
    assert "Columns with no description in the catalogue: cross_odd.zz_mystery" in out["html"].read_text()
    assert dictionary.dictionary_rows({"cross_odd": tmp_path / "reports/tables/cross_odd.csv"})[1] == [
        ("cross_odd", "zz_mystery")]


def test_rss_check_still_reads_the_names_behind_the_labels_and_bites(built):
    root, _html = built
    hits, summary = checks.check_disclosure(root, threshold=12)
    assert hits == [] and "3 sheets of tables.xlsx" in summary  # 2 tables and the dictionary (contents skipped)
    # a small unsuppressed count planted in the readable sheet (row 3: the first row of the table)
    xlsx = root / "reports" / "tables.xlsx"
    wb = load_workbook(xlsx)
    ws = wb[report.sheet_names(["prepare_exclusions_by_country"])["prepare_exclusions_by_country"]]
    ws.cell(row=3, column=5).value = 3
    wb.save(xlsx)
    page = root / "reports" / "report.html"
    page.write_text(page.read_text().replace('<td class="n">1,500</td>', '<td class="n">7</td>'))
    text = "\n".join(map(str, checks.check_disclosure(root, threshold=12)[0]))
    assert "reports/tables.xlsx[prepare_exclusions_by_country]:row 3: n_respondents 3" in text
    assert re.search(r"reports/report.html:\d+: n_respondents 7: under the disclosure threshold 12", text)


def test_catalogue_is_package_data_and_the_checker_reads_the_workbook_layout_it_is_written_with():
    assert importlib.resources.files("helpers.report").joinpath("columns.yml").is_file()
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["helpers"]
    assert any(fnmatch("report/columns.yml", p) for p in patterns)
    assert tuple(workbook.CONTENTS[-2:]) == (check_tables.NAMES_ROW, check_tables.LAST_ROW)
    assert readable.reader_text(catalogue.column("share_missing"), "0.0240725") == "2.4%"
    assert catalogue.column("zz_mystery").documented is False


# ------------------------------------------------------------------ the full build of every notebook

@pytest.mark.slow
def test_the_dictionary_covers_every_column_of_every_table_of_a_full_build(full_project):  # noqa: F811
    reports = full_project / "reports"
    published = {(p.stem, c) for p in (reports / "tables").glob("*.csv")
                 for c in next(csv.reader(p.open(encoding="utf-8")), [])}
    undocumented = sorted(f"{t}.{c}" for t, c in published if catalogue.lookup(c) is None)
    assert not undocumented, f"columns with no entry in {dictionary.CATALOGUE}: {undocumented}"
    rows = list(csv.DictReader((reports / "data_dictionary.csv").open(encoding="utf-8")))
    assert {(r["table"], r["column"]) for r in rows} == published and len(rows) == len(published)
    assert all(r["label"] and r["description"] for r in rows)
    assert len(published) > 500 and len({c for _t, c in published}) > 150


@pytest.mark.slow
def test_rss_check_bites_on_a_planted_small_count_in_a_real_readable_sheet_and_table(full_project, tmp_path):  # noqa: F811
    root = tmp_path / "copy"
    shutil.copytree(full_project / "reports", root / "reports")
    hits, summary = checks.check_disclosure(root, threshold=10)
    assert hits == [], hits
    assert re.search(r"\d{2,} sheets of tables.xlsx", summary)
    # Somalia's sample has a primary-suppressed row: show its count and say it is not suppressed
    stem = "country_SOM_sample"
    xlsx = root / "reports" / "tables.xlsx"
    wb = load_workbook(xlsx)
    ws = wb[report.sheet_names([stem])[stem]]
    names = [c.value for c in ws[2]]
    assert names[:4] == ["variable", "level", "n_surveys", "n_respondents"] and ws.cell(1, 4).value == "Respondents"
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 4).value == "<10")
    ws.cell(row, 4).value = 4
    ws.cell(row, names.index("suppressed") + 1).value = "no"
    wb.save(xlsx)
    page = root / "reports" / "report.html"
    html = page.read_text(encoding="utf-8")
    t = block(html, stem)
    planted = re.sub(r'<td class="n sup">&lt;10 <a class="fn" [^>]*>\[s1\]</a></td>(.*?)<td class="">yes</td></tr>',
                     r'<td class="n">4</td>\1<td class="">no</td></tr>', t, count=1)
    assert planted != t
    page.write_text(html.replace(t, planted), encoding="utf-8")
    text = "\n".join(map(str, checks.check_disclosure(root, threshold=10)[0]))
    assert f"reports/tables.xlsx[{stem}]:row {row}: n_respondents 4: under the disclosure threshold" in text
    assert re.search(r"reports/report.html:\d+: n_respondents 4: under the disclosure threshold", text)


def test_screenshot_of_one_table(built, tmp_path):
    root, _html = built
    if not shot.CHROMIUM.is_file():
        pytest.fail(f"{shot.CHROMIUM} is missing: `make browser` installs it (`make test` does so first)")
    png = shot.element_png(root / "reports" / "report.html", "table-prepare_exclusions_by_country",
                           tmp_path / "t.png")
    data = png.read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 300 < width <= 1280 and 80 < height < 1000
    with pytest.raises(LookupError):
        shot.element_png(root / "reports" / "report.html", "table-no_such_table", tmp_path / "u.png")
