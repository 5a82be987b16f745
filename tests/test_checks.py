"""Data protection and reproducibility: secondary suppression, the ``rss check`` scanners, ``make verify``.

The scanners are tested by planting what they must find (a small cell left
unsuppressed, a lone suppressed cell of a group, a respondent id raw and hashed,
an individual-level DataFrame in a notebook output) in a temporary project, and on
the outputs of the real notebooks run on a small synthetic dataset, which must
pass them, leave the raw input byte-identical and leave no temporary file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import file_hashes, published_outputs, run_rss

from helpers import checks, cli, describe, io, outputs, verify

IDS = ["R4822956", "R2A3940D", "R6F05010", "RAB12CD3"]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("RSS_DISCLOSURE_THRESHOLD", raising=False)


@pytest.fixture
def project(tables_project):
    """An empty project whose tables helpers.outputs writes, with scored data holding the ids of IDS."""
    root = tables_project
    pd.DataFrame({"respondent_id": IDS, "country": "SEN"}).to_parquet(root / "data" / "processed" / "scored.parquet")
    return root


def bands(low: int, mid: int, high: int, score: str = "economic") -> pd.DataFrame:
    n = low + mid + high
    df = pd.DataFrame({"score": score, "band": ["low", "medium", "high"], "n_respondents": n,
                       "n_respondents_in_band": [low, mid, high], "share": [low / n, mid / n, high / n]})
    df.attrs = {"keys": ["score", "band"], "count_cols": ["n_respondents", "n_respondents_in_band"],
                "groups": ["score"]}
    return df


def notebook(*outputs_: dict) -> dict:
    return {"cells": [{"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {}, "source": "x",
                       "outputs": list(outputs_)}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="dataframe"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ------------------------------------------------------------------------------------- secondary suppression


def test_one_small_band_hides_the_next_smallest_of_its_score():
    t = pd.concat([bands(4, 60, 20), bands(30, 40, 25, "social")], ignore_index=True)
    t.attrs = bands(1, 1, 1).attrs
    out = outputs.suppress(t, threshold=10)
    assert out["suppressed"].tolist() == [True, False, True, False, False, False]
    assert out["n_respondents_in_band"].tolist() == ["<10", "60", "x", "30", "40", "25"]
    assert out["share"].isna().tolist() == [True, False, True, False, False, False]
    # the hidden share can no longer be had as 1 minus the others
    assert out.loc[1, "share"] < 1


@pytest.mark.parametrize("sizes, hidden", [
    ((4, 8, 50), [True, True, False]),  # two small ones already hide each other: 12 between them
    ((4, 3, 50), [True, True, True]),  # 7 between them: 50 shown would give "7 outside the big band"
    ((4, 12, 12), [True, True, False]),  # ties: the first
    ((30, 40, 50), [False, False, False]),  # nothing small
], ids=["two-small", "two-small-under-threshold", "tie", "none"])
def test_secondary_rule_cases(sizes, hidden):
    assert outputs.suppress(bands(*sizes), threshold=10)["suppressed"].tolist() == hidden


def test_a_group_of_one_row_has_nothing_to_hide_it_with():
    t = pd.DataFrame({"country": ["A", "B"], "n_respondents": [3, 50], "mean": [0.1, 0.2]})
    out = outputs.suppress(t, threshold=10, groups=["country"])
    assert out["suppressed"].tolist() == [True, False]


def test_undeclared_groups_mean_primary_suppression_only():
    t = bands(4, 60, 20)
    t.attrs.pop("groups")
    assert outputs.suppress(t, threshold=10)["suppressed"].tolist() == [True, False, False]


def test_describe_tables_declare_their_groups(scheme):
    from test_describe import scored_frame

    df = scored_frame(scheme, {"AAA": 12, "BBB": 30}, waves=2, mentored=("BBB",))
    declared = {
        "surveys_by_country": (describe.surveys_by_country(df), []),
        "surveys_by_country_wave": (describe.surveys_by_country_wave(df), ["country"]),
        # differences of published totals, coarsened rather than suppressed: no group to protect
        "exclusions": (describe.exclusions(df), None),
        "exclusions by country": (describe.exclusions(df, by="country"), None),
        "sample_description": (describe.sample_description(df), ["variable"]),
        "band_shares": (describe.band_shares(df), ["score"]),
        "trajectory": (describe.trajectory(df), ["score"]),
        "by_wave": (describe.by_wave(df), ["score"]),
        "country_means": (describe.country_means(df), ["score"]),
        "dimension_profiles": (describe.dimension_profiles(df), []),
        "score_summary": (describe.score_summary(df), None),
        "dimension_correlations": (describe.dimension_correlations(df), None),
    }
    for name, (table, groups) in declared.items():
        assert table.attrs.get("groups") == groups, name


def test_write_table_records_what_it_applied(project):
    outputs.write_table(bands(4, 60, 20), "country_SEN_bands", threshold=10)
    rec = json.loads((project / "reports" / ".disclosure" / "country_SEN_bands.json").read_text())
    assert rec["threshold"] == 10 and rec["groups"] == ["score"] and (rec["primary"], rec["secondary"]) == (1, 1)
    assert rec["count_cols"] == ["n_respondents", "n_respondents_in_band"] and rec["keys"] == ["score", "band"]
    assert rec["columns"][-1] == "suppressed"


def test_histogram_hides_the_next_smallest_bin_when_one_bin_is_small(scheme):
    from test_describe import scored_frame

    df = scored_frame(scheme, {"AAA": 53})
    v = np.r_[np.full(30, 0.55), np.full(20, 0.65), np.full(3, 0.95)]  # bins 5, 6 and 9: 30, 20 and 3 respondents
    for c in ("score_economic", "score_social", "score_psychosocial", "score_composite"):
        df[c] = v
    fig = describe.plot_score_distributions(df, min_n=10)
    heights = [round(p.get_height(), 6) for p in fig.axes[0].patches]
    assert heights == [round(30 / 53 * 100, 6)]  # bin 9 (3) hidden, and bin 6 (20), else 100 - the rest gives it
    assert ("4 bin(s) with fewer than 10 respondents not shown, nor 4 more so that they cannot be recovered by "
            "subtraction") in fig._suptitle.get_text()


def test_figures_hide_what_the_published_table_hides(scheme):
    t = bands(4, 60, 20)
    fig = describe.plot_band_shares(t, min_n=10)
    drawn = [p.get_height() for p in fig.axes[0].patches if p.get_height() > 0]
    assert drawn == [pytest.approx(60 / 84 * 100)]
    assert ("bands with fewer than 10 respondents, and the next-smallest, so that none can be recovered by "
            "subtraction): economic low, economic high") in fig.axes[0].get_title().replace("\n", " ")


# -------------------------------------------------------------------------------------------- disclosure scan


def test_tables_written_through_write_table_pass(project):
    outputs.write_table(bands(4, 60, 20), "country_SEN_bands")
    outputs.write_table(pd.DataFrame({"country": ["A", "B"], "n_respondents": [3, 50], "mean": [0.1, 0.2]}),
                        "cross_means")
    hits, summary = checks.check_disclosure(project)
    assert hits == [] and "2 tables (2 with their disclosure record)" in summary


def test_disclosure_scan_finds_every_kind_of_violation(project):
    tables = project / "reports" / "tables"
    # no record: inferred from the n_respondents column
    (tables / "cross_means.csv").write_text("country,n_respondents,mean\nAAA,25,0.5\nBBB,7,0.6\n")
    # a record, and a suppressed row that still shows its mean
    outputs.write_table(pd.DataFrame({"country": ["A", "B"], "n_respondents": [3, 50], "mean": [0.1, 0.2]}),
                        "prepare_x", keys=["country"])
    (tables / "prepare_x.csv").write_text("country,n_respondents,mean,suppressed\nA,<10,0.1,True\nB,50,0.2,False\n")
    # a record with groups, and one band hidden alone (the secondary row was not suppressed)
    outputs.write_table(bands(4, 60, 20), "country_SEN_bands")
    p = tables / "country_SEN_bands.csv"
    p.write_text(p.read_text().replace("x,,True", "20,0.238095,False"))
    hits, _ = checks.check_disclosure(project)
    text = "\n".join(map(str, hits))
    assert "reports/tables/cross_means.csv:3: n_respondents 7: under the disclosure threshold 10" in text
    assert "reports/tables/prepare_x.csv:2: row marked suppressed still shows mean" in text
    assert "reports/tables/country_SEN_bands.csv:2: the only suppressed row of its group (score=economic)" in text
    assert len(hits) == 3, text


def test_disclosure_scan_reads_the_workbook_the_report_and_notebook_outputs(project):
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.create_sheet("contents").append(["sheet", "file", "section"])
    ws = wb.create_sheet("means")
    ws.append(["country", "n_respondents", "mean"])
    ws.append(["AAA", 4, 0.5])
    wb.save(project / "reports" / "tables.xlsx")
    (project / "reports" / "report.html").write_text(
        "<html><body>\n<p>x</p>\n" + html_table(["group", "n", "mean"], [["a", "25", "0.1"], ["b", "3", "0.9"]]))
    nb = notebook({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                   "data": {"text/html": html_table(["", "country", "n_respondents"], [["0", "AAA", "6"]]),
                            "text/plain": "x"}})
    (project / "reports" / "notebooks" / "10_country_profile_AAA.ipynb").write_text(json.dumps(nb))
    text = "\n".join(map(str, checks.check_disclosure(project)[0]))
    assert "reports/tables.xlsx[means]:row 2: n_respondents 4" in text
    assert "reports/report.html:3: n 3: under the disclosure threshold" in text
    assert "reports/notebooks/10_country_profile_AAA.ipynb: cell 1: n_respondents 6" in text


def test_disclosure_scan_reads_the_french_report_in_its_number_format(project):
    """report.fr.html writes 1\u202f234, 0,5 and oui/non: a small count and a row not marked suppressed are seen."""
    (project / "reports" / "report.fr.html").write_text(
        "<html><body>\n<p>x</p>\n"
        + html_table(["group", "n", "mean", "suppressed"],
                     [["a", "1\u202f234", "0,1", "non"], ["b", "7", "0,9", "non"], ["c", "<10", "0,4", "oui"]]))
    text = "\n".join(map(str, checks.check_disclosure(project)[0]))
    assert "reports/report.fr.html:3: n 7: under the disclosure threshold" in text
    assert "n <10" not in text  # "oui" is read as suppressed: the row's "<10" is as it should be
    assert "1234" not in text and "n 1:" not in text  # the thousands are one number, above the threshold
    (project / "reports" / "report.fr.html").write_text(
        "<html><body>\n<p>x</p>\n" + html_table(["group", "n", "suppressed"], [["c", "<10", "non"]]))
    text = "\n".join(map(str, checks.check_disclosure(project)[0]))
    assert "reports/report.fr.html:3: n <10: under the disclosure threshold" in text


# -------------------------------------------------------------------------------------------- identifier scan


def plant(project: Path) -> dict[str, str]:
    """Plant ids in every kind of file; return file -> what was planted."""
    r = project / "reports"
    (r / "tables" / "t.csv").write_text("a,b\n1,2\nx,R4822956\n")  # raw, line 3
    (r / "numbers" / "n.json").write_text('{\n  "who": "r2a3940d"\n}\n')  # lower-cased, line 2
    sha = hashlib.sha256(b"R6F05010").hexdigest()
    (r / "report.html").write_text(f"<html>\n<body>\n<p data-id='{sha}'>x</p>\n")  # sha256, line 3
    md5 = hashlib.md5(b"RAB12CD3").hexdigest().upper()
    (r / "notebooks" / "00_prepare.ipynb").write_text(json.dumps(notebook(
        {"output_type": "stream", "name": "stdout", "text": f"hash {md5}\n"}), indent=1))
    sha1 = hashlib.sha1(b"r4822956").hexdigest()[:16]  # of the lower-cased id, cut to 16 digits
    (r / "figures" / "f.svg").write_text(f'<svg>\n<g id="{sha1}"/>\n</svg>\n')
    (r / ".manifest.json").write_text('{"error": "duplicate R2A3940D"}')  # hidden runner state is read too
    (project / "notebooks" / "00_prepare.ipynb").write_text(json.dumps(notebook(
        {"output_type": "stream", "name": "stdout", "text": "R6F05010\n"})))  # a committed notebook
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.create_sheet("t").append(["id", "RAB12CD3"])
    wb.save(r / "tables.xlsx")
    return {}


def test_identifier_scan_finds_ids_raw_case_folded_and_hashed(project, capsys):
    plant(project)
    hits, summary = checks.check_identifiers(project, IDS)
    text = "\n".join(map(str, hits))
    assert "reports/tables/t.csv:3: a respondent id as written" in text
    assert "reports/numbers/n.json:2: a respondent id in another letter case" in text
    assert "reports/report.html:3: a respondent id as its sha256 hex digest" in text
    assert "reports/notebooks/00_prepare.ipynb" in text and "as its md5 hex digest" in text
    assert "reports/figures/f.svg:2: a respondent id as the first 16 digits of its sha1 hex digest" in text
    assert "reports/.manifest.json:1: a respondent id as written" in text
    assert "notebooks/00_prepare.ipynb:1: a respondent id as written" in text
    assert "reports/tables.xlsx[xl/" in text
    assert len(hits) == 8, text
    # through the command: exit 1, every hit listed, and no id printed
    assert cli.main(["check", "--root", str(project)]) == 1
    out = capsys.readouterr()
    assert "reports/tables/t.csv:3: a respondent id as written" in out.err and "FAILED, 8 problems" in out.err
    assert not any(i.lower() in (out.out + out.err).lower() for i in IDS)


def test_identifier_scan_is_quiet_on_aggregates_and_says_what_it_could_not_search(project):
    (project / "reports" / "tables" / "t.csv").write_text("country,n_respondents\nSEN,1234567\nR4822956X,3\n")
    hits, summary = checks.check_identifiers(project, [*IDS, "17", "12345"])
    assert hits == []
    assert "2 ids too short (or all digits) to search as text were searched as digests" in summary


def test_notebooks_never_display_individual_rows(project):
    rows = notebook({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                     "data": {"text/html": html_table(["", "respondent_id", "score"], [["0", "Z", "0.5"]]),
                              "text/plain": "  respondent_id  score\n0             Z    0.5"}})
    series = notebook({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                       "data": {"text/plain": "0    Z\n1    Y\nName: respondent_id, dtype: object"}})
    mention = notebook({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/plain": "  score        adj_cov\n0  econ  CR1 by respondent_id, t(G-1)"}})
    (project / "reports" / "notebooks" / "a.ipynb").write_text(json.dumps(rows))
    (project / "notebooks" / "b.ipynb").write_text(json.dumps(series))
    (project / "reports" / "notebooks" / "c.ipynb").write_text(json.dumps(mention))
    hits, _ = checks.check_individual_outputs(project)
    assert [str(h).split(":")[0] for h in hits] == ["reports/notebooks/a.ipynb", "notebooks/b.ipynb"]
    assert "cell 1: an output displays rows with a respondent_id column" in str(hits[0])


def test_check_command_exit_codes(project, capsys, tmp_path):
    outputs.write_table(bands(30, 60, 20), "country_SEN_bands")
    assert cli.main(["check", "--root", str(project)]) == 0
    assert "rss check: ok" in capsys.readouterr().out
    empty = tmp_path / "empty"
    (empty / "reports").mkdir(parents=True)
    assert cli.main(["check", "--root", str(empty)]) == 2
    assert "no respondent ids to search for: data/processed/scored.parquet does not exist" in \
        capsys.readouterr().err
    assert cli.main(["check", "--root", str(empty), "--no-identifiers"]) == 0


# ------------------------------------------------------------------------------------------------------- verify


def tree(root: Path, *, html_time: str = "10:00", xlsx_time=None, mean: str = "0.5") -> Path:
    from openpyxl import Workbook

    r = root / "reports"
    (r / "tables").mkdir(parents=True)
    (r / "figures").mkdir()
    (r / "tables" / "t.csv").write_text(f"country,n_respondents,mean\nAAA,25,{mean}\n")
    (r / "figures" / "f.png").write_bytes(b"\x89PNG same")
    (r / "numbers.json").write_text('{"a": 1}\n')
    (r / "report.html").write_text(f"<p>Built 2026-01-02 {html_time} UTC from</p><td data-volatile>{html_time}</td>"
                                   f"<p>mean {mean}</p>")
    wb = Workbook(write_only=True)
    wb.create_sheet("t").append(["country", "mean"])
    if xlsx_time is None:
        io.write_workbook(r / "tables.xlsx", wb)
    else:
        wb.properties.created = xlsx_time
        wb.save(r / "tables.xlsx")
    return r


def test_verify_sets_aside_exactly_the_run_time_provenance(tmp_path):
    import datetime as dt

    a = tree(tmp_path / "a", html_time="10:00")
    b = tree(tmp_path / "b", html_time="11:30")
    res = verify.compare_trees(a, b)
    assert res.ok and res.same == {"tables": 1, "disclosure records": 0, "numbers": 1, "figures": 1,
                                   "tables.xlsx": 1, "report.html": 1}
    assert "reports/tables.xlsx: byte-identical" in res.notes
    c = tree(tmp_path / "c", xlsx_time=dt.datetime(2021, 1, 1), mean="0.6")
    (c / "figures" / "f.png").write_bytes(b"\x89PNG other")
    res = verify.compare_trees(a, c)
    assert not res.ok
    text = "\n".join(res.differ)
    assert "reports/tables/t.csv: line 2: 'AAA,25,0.5' vs 'AAA,25,0.6'" in text
    assert "reports/figures/f.png: bytes differ" in text
    assert "reports/report.html: differs outside its run-time provenance" in text and "mean 0.6" in text
    assert any("identical up to its zip timestamps" in n for n in res.notes)  # only dates differ in the workbook
    (c / "numbers.json").unlink()
    assert "reports/numbers.json: only in build A" in "\n".join(verify.compare_trees(a, c).differ)


# ------------------------------------------------------------------------- the real notebooks on synthetic data


def test_real_pipeline_keeps_raw_data_and_passes_the_scanners(synthetic_project):
    root = synthetic_project
    before = json.loads((root.parent / "raw_before.json").read_text())
    assert file_hashes(root / "data" / "raw") == before["sha256"]  # byte-identical after the run
    assert {str(p): p.stat().st_mtime_ns for p in sorted((root / "data" / "raw").rglob("*"))} == before["mtime_ns"]
    assert io.temporaries([root]) == []
    # every table went through write_table, and the published outputs pass every scan
    tables = sorted(p.stem for p in (root / "reports" / "tables").glob("*.csv"))
    assert tables and tables == sorted(p.stem for p in (root / "reports" / ".disclosure").glob("*.json"))
    r = run_rss(root, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(tables)} tables ({len(tables)} with their disclosure record)" in r.stdout
    # Somalia (8 respondents) is suppressed, and in the country means a second country is hidden with it
    means = pd.read_csv(root / "reports" / "tables" / "cross_means.csv", dtype=str, keep_default_na=False)
    hidden = means.loc[means["suppressed"] == "True", ["country", "n_respondents"]].drop_duplicates()
    assert hidden.values.tolist() == [["CIV", "x"], ["SOM", "<10"]]


def test_bad_input_through_the_real_pipeline_changes_nothing_and_leaks_no_id(synthetic_project, tmp_path):
    root = Path(shutil.copytree(synthetic_project, tmp_path / "proj", symlinks=True))
    mar = root / "data" / "raw" / "synthetic" / "mar.csv"
    lines = mar.read_text(encoding="utf-8-sig").splitlines()
    mar.write_text("\ufeff" + "\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")  # a duplicated survey
    published = published_outputs(root)
    r = run_rss(root, "run", "--jobs", "2", "--timeout", "240")
    assert r.returncode == 1
    assert (f"data/raw/synthetic/mar.csv row {len(lines) + 1}, column respondent_id: has the same respondent_id "
            "and wave") in r.stderr
    assert "as data/raw/synthetic/mar.csv row 2" in r.stderr
    after = published_outputs(root)
    assert {k: after.get(k) for k in published} == published  # every published output as it was
    assert sorted(Path(k).name for k in set(after) - set(published)) == ["FAILED_00_prepare.ipynb"]
    # the failure (summary, failed notebook, manifest, logs) names rows, never the id
    assert run_rss(root, "check").returncode == 0


# ----------------------------------------------------------------------------- incremental passes (reports/.check.json)


def _check(project, capsys, *extra: str) -> tuple[int, str]:
    code = cli.main(["check", "--root", str(project), *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def _clean_project(project) -> None:
    outputs.write_table(bands(30, 40, 25), "bands")
    (project / "reports" / "report.html").write_text("<p>no ids here</p>\n")


def test_a_second_pass_rescans_nothing_and_a_changed_file_only_that_file(project, capsys, monkeypatch):
    _clean_project(project)
    code, text = _check(project, capsys)
    assert code == 0 and "rss check: ok (" in text
    n = int(text.split("rss check: ok (")[1].split(" of ")[1].split()[0])
    assert f"{n} of {n} file scans redone" in text
    # nothing changed: nothing is scanned, and the ids are not even read
    monkeypatch.setattr(checks.identifiers, "respondent_ids", lambda *a, **k: pytest.fail("ids read on a no-op"))
    code, text = _check(project, capsys)
    assert code == 0 and f"0 of {n} file scans redone" in text
    assert "4 respondent ids from data/processed/scored.parquet" in text  # the summary is the same as a full pass
    monkeypatch.undo()
    # one file changes (an id planted in it): its two scans (disclosure, identifiers) run, and find it, and so does
    # the differencing audit, which reads every table together
    csv = project / "reports" / "tables" / "bands.csv"
    csv.write_text(csv.read_text() + f"economic,{IDS[0]},95,5,0.05,False\n")
    code, text = _check(project, capsys)
    assert code == 1 and f"3 of {n} file scans redone" in text
    assert "reports/tables/bands.csv:5: a respondent id as written" in text
    assert "n_respondents_in_band 5: under the disclosure threshold 10" in text
    # unchanged again: the same hits are replayed from the record, with the same exit status
    code, again = _check(project, capsys)
    assert code == 1 and f"0 of {n} file scans redone" in again
    assert again.replace(f"0 of {n}", "") == text.replace(f"3 of {n}", "")
    assert not any(i.lower() in (project / "reports" / ".check.json").read_text().lower() for i in IDS)


def test_new_ids_a_new_threshold_or_new_checks_code_rescan_everything(project, capsys, monkeypatch):
    _clean_project(project)
    code, text = _check(project, capsys)
    n = int(text.split("rss check: ok (")[1].split(" of ")[1].split()[0])
    # the scored data changes (new ids): every identifier scan runs again and finds the id already published
    (project / "reports" / "numbers" / "n.json").write_text('{"x": "R7777777X"}\n')
    pd.DataFrame({"respondent_id": [*IDS, "R7777777X"]}).to_parquet(project / "data" / "processed" / "scored.parquet")
    code, text = _check(project, capsys)
    assert code == 1 and "reports/numbers/n.json:1: a respondent id as written" in text
    redone = int(text.split(" file scans redone")[0].rsplit("(", 1)[1].split(" of ")[0])
    assert redone >= n - 2  # every identifier scan (and the new file's), not only the changed file
    (project / "reports" / "numbers" / "n.json").unlink()
    assert _check(project, capsys)[0] == 0
    # another threshold: every disclosure scan runs again (bands of 25 are small under 30)
    code, text = _check(project, capsys, "--threshold", "30")
    assert code == 1 and "under the disclosure threshold 30" in text
    # the checks code changes: the record is from other code, everything is scanned
    monkeypatch.setattr(checks.state, "code_digest", lambda: "other code")
    code, text = _check(project, capsys)
    assert code == 0 and f"{n} of {n} file scans redone" in text


def test_check_all_ignores_the_record_and_a_deleted_file_is_forgotten(project, capsys):
    _clean_project(project)
    _check(project, capsys)
    code, text = _check(project, capsys, "--all")
    assert code == 0 and "every file scanned (--all)" in text
    # a hit whose file is then removed is not replayed
    bad = project / "reports" / "tables" / "leak.csv"
    bad.write_text(f"country,n_respondents\n{IDS[1]},50\n")
    assert _check(project, capsys)[0] == 1
    bad.unlink()
    code, text = _check(project, capsys)
    assert code == 0 and "leak.csv" not in text
