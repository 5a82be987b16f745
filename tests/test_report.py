"""The report builder (``rss report``) on hand-made outputs, in process (``build_report(root)``)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from helpers import report

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><rect width="2" height="2"/></svg>'
COUNTRIES = ["GIN", "MAR", "SEN"]
LONG = "country_SEN_indicators_against_the_pooled_median"


def make_outputs(root: Path, *, synthetic: bool | None = False, truth: bool = False, sections=("prepare",
                                                                                            "cross_country")) -> dict:
    rep = root / "reports"
    for sub in ("tables", "figures", "numbers"):
        (rep / sub).mkdir(parents=True, exist_ok=True)
    data = root / "input"
    data.mkdir(exist_ok=True)
    (data / "all.csv").write_text("respondent_id,country\nR1,SEN\n")
    if truth:
        (data / "truth.json").write_text("{}")
    if "prepare" in sections:
        prep = {"n_surveys": 1234, "n_respondents": 800, "n_countries": 3, "scheme_id": "rss-default",
                "disclosure_threshold": 10, "surveys_by_wave": {"1": 800, "2": 434}}
        if synthetic is not None:
            prep["synthetic"] = synthetic
        (rep / "numbers" / "prepare.json").write_text(json.dumps(prep))
        (rep / "tables" / "prepare_surveys_by_country.csv").write_text(
            "country,n_respondents,months_median\nGIN,300,4.5\nMAR,497,5.25\nSEN,3,6.123456\n")
    if "cross_country" in sections:
        (rep / "numbers" / "cross_country.json").write_text(json.dumps(
            {"fieldwork_diff_composite": 0.0137, "ci_low_composite": 0.5, "n_countries": 3}))
        (rep / "tables" / "cross_means.csv").write_text("country,n,mean\nGIN,300,0.45\nMAR,497,0.58\n")
        (rep / "figures" / "cross_means.png").write_bytes(PNG)
        (rep / "figures" / "cross_means.svg").write_bytes(SVG)
    for c in COUNTRIES:
        (rep / "numbers" / f"country_{c}.json").write_text(json.dumps({"n_surveys": 100, "mean_composite": 0.5}))
        (rep / "tables" / f"country_{c}_scores.csv").write_text("score,mean\ncomposite,0.5\n")
        (rep / "figures" / f"country_{c}_distributions.svg").write_bytes(SVG)
    (rep / "tables" / f"{LONG}.csv").write_text("indicator,pooled_median\nE1,0.5\n")
    (rep / "tables" / f"{LONG}_wave2.csv").write_text("indicator,pooled_median\nE1,0.5\n")
    (rep / "figures" / "country_SEN_bands.png").write_bytes(PNG)
    return {
        "format": 1,
        "inputs": {"source": str(data), "shown_as": "input", "files": [
            {"path": "all.csv", "bytes": 30, "sha256": "ab" * 32}]},
        "jobs": {"00_prepare": {"notebook": "00_prepare", "country": None, "status": "ok", "duration": 2.5,
                                "params": {"data": "", "processed": ""}, "finished": "2026-01-01T00:00:00+00:00",
                                "git": {"commit": "0123456789abcdef", "dirty": True},
                                "output": "reports/notebooks/00_prepare.ipynb"},
                 **{f"10_country_profile_{c}": {"notebook": "10_country_profile", "country": c, "status": "ok",
                                                "duration": 3.25, "params": {"country": c, "processed": ""}}
                    for c in COUNTRIES}},
        "run": {"countries": COUNTRIES, "jobs": 2, "timeout": 1800, "stale": [],
                "git": {"commit": "0123456789abcdef", "dirty": True}, "started": "2026-01-01T00:00:00+00:00",
                "finished": "2026-01-01T00:01:00+00:00", "missing_notebooks": ["30_mentoring"]},
    }


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict]]:
    p = Tags()
    p.feed(html)
    return p.tags


@pytest.fixture
def built(tmp_path):
    man = make_outputs(tmp_path)
    out = report.build_report(tmp_path, manifest=man)
    return tmp_path, out["html"].read_text(encoding="utf-8"), man


def section(html: str, sid: str) -> str:
    start = html.index(f'<section id="{sid}"')
    return html[start:html.index("</section>", start)]


def test_every_section_and_every_country_page_linked_from_the_country_table(built):
    _root, html, _man = built
    for sid in ("summary", "prepare", "country", "cross_country", "mentoring", "weight_sensitivity", "methods",
                "data-statement", "provenance"):
        assert f'<section id="{sid}"' in html
    table = html[html.index('<table id="countries"'):html.index("</table>", html.index('<table id="countries"'))]
    for c in COUNTRIES:
        assert f'<a href="#country-{c}">{c}</a>' in table
        assert f'<section class="country" id="country-{c}">' in html
    assert "Senegal" in html and "Guinea" in html


def test_sections_without_outputs_say_not_computed_yet(built):
    _root, html, _man = built
    for sid in ("mentoring", "weight_sensitivity"):
        assert "Not computed yet" in section(html, sid)
    assert "Not computed yet" not in section(html, "cross_country")


def test_self_contained_every_image_is_a_data_uri(built):
    _root, html, _man = built
    tags = parse(html)
    imgs = [a for t, a in tags if t == "img"]
    assert len(imgs) == 1 + len(COUNTRIES) + 1  # cross_means (PNG preferred over SVG), 3 distributions, SEN bands
    assert all(a["src"].startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for a in imgs)
    assert all(a.get("alt") for a in imgs)
    assert not [a for t, a in tags if t in ("script", "link", "iframe")]
    assert not [a for t, a in tags if any(str(v).startswith(("http:", "https:", "//")) for v in a.values() if v)]
    # every in-page link points at an anchor that exists
    ids = {a["id"] for _t, a in tags if "id" in a}
    assert {a["href"][1:] for t, a in tags if t == "a" and a.get("href", "").startswith("#")} <= ids


def test_summary_numbers_all_come_from_numbers_json(built):
    root, html, _man = built
    numbers = json.loads((root / "reports" / "numbers.json").read_text())
    assert set(numbers) == {"prepare", "cross_country", *(f"country_{c}" for c in COUNTRIES)}
    summary = section(html, "summary")
    spans = [a for t, a in parse(summary) if t == "span" and a.get("class") == "num"]
    assert len(spans) >= 5
    import re

    for key, text in re.findall(r'<span class="num" data-key="([^"]+)">([^<]*)</span>', summary):
        sec, *path = key.split(".")
        v = numbers[sec]
        for p in path:
            v = v[p]
        assert report.fmt(v) == text.replace("&lt;", "<")
    # every digit of the summary sits inside such a span, or is a section number or a key's name
    prose = re.sub(r'<span class="num"[^>]*>[^<]*</span>|<h4>\d\.|<a [^>]*>\d\.|<tr><td>[^<]*</td>', "", summary)
    assert not re.search(r">[^<]*\d[^<]*<", prose), prose


def test_banner_exactly_when_the_data_is_synthetic(tmp_path):
    cases = {"real": (False, False, False), "flag": (True, False, True), "truth": (None, True, True),
             "truth_overrides_false": (False, True, True), "unknown": (None, False, False)}
    for name, (flag, truth, want) in cases.items():
        root = tmp_path / name
        man = make_outputs(root, synthetic=flag, truth=truth)
        html = report.build_report(root, manifest=man)["html"].read_text()
        assert (report.BANNER in html) is want, name
        assert ('id="synthetic-banner"' in html) is want, name
        statement = section(html, "data-statement")
        assert ("are <b>not</b> IOM results" in statement) is want, name
        assert "No microdata" in statement


def test_provenance_has_commit_checksums_versions_parameters_and_run_times(built):
    _root, html, _man = built
    prov = section(html, "provenance")
    assert "0123456789abcdef" in prov and "<b>dirty</b>" in prov
    assert "ab" * 32 in prov and "all.csv" in prov
    for pkg in ("pandas", "papermill", "python"):
        assert f"<td>{pkg}</td>" in prov
    assert "10_country_profile_SEN" in prov and "3.25" in prov
    assert "&quot;country&quot;: &quot;SEN&quot;" in prov


def test_workbook_one_sheet_per_table_names_short_and_unique(built):
    root, _html, _man = built
    wb = load_workbook(root / "reports" / "tables.xlsx", read_only=True)
    names = wb.sheetnames
    tables = sorted(p.stem for p in (root / "reports" / "tables").glob("*.csv"))
    assert names[0] == "contents" and len(names) == len(tables) + 1
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)
    contents = list(wb["contents"].iter_rows(values_only=True))
    assert sorted(r[1] for r in contents[1:]) == sorted(f"reports/tables/{t}.csv" for t in tables)
    rows = list(wb[report.sheet_names(tables)["cross_means"]].iter_rows(values_only=True))
    assert rows == [("country", "n", "mean"), ("GIN", 300, 0.45), ("MAR", 497, 0.58)]
    wb.close()


def test_rows_under_the_disclosure_threshold_are_suppressed(built):
    root, html, _man = built
    prep = section(html, "prepare")
    assert "6.123456" not in prep and "6.123" not in prep
    assert "&lt;10" in prep and "1 row suppressed: fewer than 10 respondents" in prep
    wb = load_workbook(root / "reports" / "tables.xlsx", read_only=True)
    rows = list(wb[report.sheet_names(["prepare_surveys_by_country"])["prepare_surveys_by_country"]]
                .iter_rows(values_only=True))
    assert rows[-1] == ("SEN", "<10", "suppressed")
    wb.close()


def test_stale_notebooks_are_flagged(tmp_path):
    man = make_outputs(tmp_path)
    man["run"]["stale"] = ["20_cross_country"]
    html = report.build_report(tmp_path, manifest=man)["html"].read_text()
    assert "Out of date" in html and "20_cross_country" in html


def test_writes_are_atomic_and_leave_no_temporary_files(built):
    root, _html, _man = built
    assert not [p for p in (root / "reports").iterdir() if p.name.startswith(".") and p.suffix == ".tmp"]


def test_rss_report_command(tmp_path):
    make_outputs(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "RSS_DATA"}
    r = subprocess.run([sys.executable, "-m", "helpers.cli", "report"], cwd=tmp_path, capture_output=True, text=True,
                       env={**env, "RSS_ROOT": str(tmp_path)}, check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "reports" / "report.html").read_text()
    assert 'id="country-SEN"' in html  # countries found from the files when no run is recorded
    assert "Not recorded: no run of <code>rss run</code> yet" in html
