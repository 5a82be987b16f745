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
    assert names[:2] == ["contents", "dictionary"] and len(names) == len(tables) + 2
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)
    contents = list(wb["contents"].iter_rows(values_only=True))
    assert sorted(r[1] for r in contents[1:]) == sorted(f"reports/tables/{t}.csv" for t in tables)
    assert contents[0][-2:] == ("column names in row", "last row of the table")
    rows = list(wb[report.sheet_names(tables)["cross_means"]].iter_rows(values_only=True))
    # row 1 the labels, row 2 the names of the CSV, then the rows (countries by name)
    assert rows == [("Country", "Surveys", "Mean"), ("country", "n", "mean"), ("Guinea (GIN)", 300, 0.45),
                    ("Morocco (MAR)", 497, 0.58)]
    assert next(r for r in contents if r[1] == "reports/tables/cross_means.csv")[-2:] == (2, 4)
    wb.close()


def test_rows_under_the_disclosure_threshold_are_suppressed(built):
    root, html, _man = built
    prep = section(html, "prepare")
    assert "6.123456" not in prep and "6.123" not in prep
    assert "&lt;10" in prep and "1 row suppressed: fewer than 10 respondents" in prep
    wb = load_workbook(root / "reports" / "tables.xlsx", read_only=True)
    rows = list(wb[report.sheet_names(["prepare_surveys_by_country"])["prepare_surveys_by_country"]]
                .iter_rows(values_only=True))
    assert rows[-3] == ("Senegal (SEN)", "<10", "suppressed")
    assert rows[-1] == ("<10: fewer than 10 respondents, hidden (primary suppression)", None, None)
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


# ------------------------------------------------------------------ sections 2-4 with estimates

TIDY_HEAD = "outcome,estimator,estimate,std_error,ci_lower,ci_upper,p_value,n_obs,n_clusters,cov_type,term"
DID_COV = ("cluster-robust by respondent_id (PanelOLS clustered, debiased, group_debias, absorbed effects not "
           "counted), t(G-1)")


def add_statistics(root: Path) -> None:
    """Outputs of 20 (regression parts), 30 and 40 as the notebooks write them (tidy rows)."""
    rep = root / "reports"
    (rep / "tables" / "dimension_interdependence.csv").write_text(
        f"{TIDY_HEAD},group,n_respondents\n"
        "score_social,pearson_correlation,0.2326,0.0086,0.2156,0.2494,0,12000,,\"Fisher z, independent rows\","
        "score_economic,all,12000\n"
        "score_social,ols_on_economic,0.2705,0.0067,0.2574,0.2837,0,20188,12000,\"cluster-robust CR1 by "
        "respondent_id, t(G-1)\",score_economic,,12000\n")
    (rep / "tables" / "determinants.csv").write_text(
        f"{TIDY_HEAD},n_respondents,n_respondents_level\n"
        "score_economic,determinants,0.0615,0.0025,0.0566,0.0664,0,18926,11319,\"cluster-robust CR1 by "
        "respondent_id, t(G-1)\",assist_economic,11319,5551\n")
    (rep / "figures" / "determinants.png").write_bytes(PNG)
    rows = [("raw_difference", 0.093284, 0.004664, 0.084139, 0.102429, 3812, 2471, "CR1 by respondent_id, t(G-1)"),
            ("did_panel", 0.040095, 0.003602, 0.033034, 0.047156, 8994, 4900, DID_COV)]
    (rep / "tables" / "mentoring_effects.csv").write_text(
        f"{TIDY_HEAD},n_respondents_treated,n_respondents_control,suppressed\n"
        + "".join(f"score_composite,{e},{b},{se},{lo},{hi},0,{n},{g},\"{cov}\",treated,1040,3860,False\n"
                  for e, b, se, lo, hi, n, g, cov in rows))
    (rep / "tables" / "mentoring_balance.csv").write_text(
        f"{TIDY_HEAD},n_respondents_control,n_respondents_treated,suppressed\n"
        "score_composite,difference_in_means,0.051,0.0034,0.0443,0.0576,0,4900,4900,CR1,mentored,2944,1956,False\n")
    (rep / "figures" / "mentoring_coefficients.png").write_bytes(PNG)
    (rep / "figures" / "mentoring_event_study.png").write_bytes(PNG)
    (rep / "numbers" / "mentoring.json").write_text(json.dumps({
        "did_composite": 0.040095, "did_composite_ci_low": 0.033034, "did_composite_ci_high": 0.047156,
        "planted_composite": 0.04, "raw_composite": 0.093284, "placebo_identified": False,
        "headlines": ["Mentoring effect on the composite score: 0.040 (95% CI 0.033 to 0.047).",
                      "The raw mentored-vs-not difference in the composite (0.093) is 2.3 times the DiD estimate."],
        "summary_keys": ["did_composite", "did_composite_ci_low", "did_composite_ci_high", "planted_composite",
                         "not_there"]}))
    (rep / "tables" / "weight_sensitivity.csv").write_text(
        f"{TIDY_HEAD},scheme,n_respondents_treated,n_respondents_control,suppressed\n"
        f"score_composite,did_panel,0.040374,0.0035,0.033472,0.047276,0,8994,4900,\"{DID_COV}\",treated,pca,1040,"
        "3860,False\n")
    (rep / "tables" / "weight_sensitivity_rankings.csv").write_text(
        "country,score,n_respondents,mean_scheme,mean_pca,rank_scheme,rank_pca,rank_change\n"
        "MAR,composite,1300,0.5700,0.5695,1,1,0\nSOM,composite,<10,,,,,\n")
    (rep / "figures" / "weight_sensitivity_ranks.png").write_bytes(PNG)
    (rep / "numbers" / "weight_sensitivity.json").write_text(json.dumps({
        "spearman_composite": 0.997549, "max_rank_change_composite": 1,
        "headlines": ["Country rankings on the composite change little: Spearman rank correlation 0.998."],
        "summary_keys": ["spearman_composite", "max_rank_change_composite"]}))


@pytest.fixture
def with_statistics(tmp_path):
    man = make_outputs(tmp_path)
    add_statistics(tmp_path)
    html = report.build_report(tmp_path, manifest=man)["html"].read_text(encoding="utf-8")
    return tmp_path, html


def test_sections_3_and_4_show_the_estimates(with_statistics):
    _root, html = with_statistics
    men = section(html, "mentoring")
    assert "Not computed yet" not in men
    assert 'id="table-mentoring_effects"' in men and 'id="figure-mentoring_coefficients"' in men
    assert "0.04009" in men and "0.03303" in men and "did_panel" in men  # the DiD row, 4 significant digits
    assert '<div class="findings">' in men and "Mentoring effect on the composite score: 0.040" in men
    # lead order: the coefficient plot, the effects table, then the event study and the balance
    order = [men.index(f'id="{x}"') for x in ("figure-mentoring_coefficients", "table-mentoring_effects",
                                               "figure-mentoring_event_study", "table-mentoring_balance")]
    assert order == sorted(order)
    # long covariance texts become lettered notes under the table, once each
    effects = men[men.index('id="table-mentoring_effects"'):]
    effects = effects[:effects.index("</ol>")]
    assert effects.count(DID_COV) == 1 and "<td class=\"\">[b]</td>" in effects
    ws = section(html, "weight_sensitivity")
    assert "Not computed yet" not in ws and "0.04037" in ws and 'id="table-weight_sensitivity"' in ws
    assert 'id="table-weight_sensitivity_rankings"' in ws and 'id="figure-weight_sensitivity_ranks"' in ws
    assert "Spearman rank correlation 0.998" in ws


def test_interdependence_and_determinants_go_to_section_2(with_statistics):
    _root, html = with_statistics
    cross = section(html, "cross_country")
    for stem in ("table-dimension_interdependence", "table-determinants", "figure-determinants"):
        assert f'id="{stem}"' in cross
    assert '<section id="other"' not in html


def test_summary_has_the_headlines_and_keyed_numbers(with_statistics):
    root, html = with_statistics
    summary = section(html, "summary")
    assert "Mentoring effect on the composite score: 0.040" in summary and "(mentoring.json)" in summary
    assert "Spearman rank correlation 0.998" in summary
    numbers = json.loads((root / "reports" / "numbers.json").read_text())
    import re

    keyed = dict(re.findall(r'<span class="num" data-key="([^"]+)">([^<]*)</span>', summary))
    for key in ("mentoring.did_composite", "mentoring.did_composite_ci_low", "mentoring.planted_composite",
                "weight_sensitivity.spearman_composite"):
        sec, k = key.split(".")
        assert keyed[key] == report.fmt(numbers[sec][k])
    assert "mentoring.not_there" not in keyed
    assert "DiD composite CI low" in summary
    assert "Not computed yet" not in summary  # every section has its numbers


def test_methods_state_the_covariance_choices(with_statistics):
    _root, html = with_statistics
    methods = section(html, "methods")
    for phrase in ("clustered by respondent</b>", "<b>not by country</b>", "xtreg, fe vce(cluster id)",
                   "count_effects=False", "inverse-variance (precision) weights, not survey weights",
                   "M-estimation sandwich", "Fisher's z", "Nickell", "placebo check is <b>not identified</b>",
                   "What is not claimed", "not causal effects of one dimension on another"):
        assert phrase in methods, phrase


def test_placebo_sentence_only_when_not_identified(tmp_path):
    man = make_outputs(tmp_path)
    html = report.build_report(tmp_path, manifest=man)["html"].read_text()
    assert "not identified" not in section(html, "methods")
