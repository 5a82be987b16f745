"""The bad-input catalogue (``docs/bad-inputs.md``): every bad input gets the message a person needs.

Data files and scheme files are catalogued in ``tests/test_loader.py`` and
``tests/test_scheme.py``; here each of those cases is also run through ``rss score``
into a project that already has outputs, which must stay byte-identical.  The
settings and parameters of ``rss run``, ``rss synth``, ``rss score`` and a few more
data files are catalogued here, each with the message (naming the file, row,
column, option or setting, the value found and what is expected) and the same
check that no output under ``reports/`` or ``data/processed/`` changed.

``rss run`` is called in process, on a copy of the fixture project of
``tests/test_runner.py`` (``helpers.paths`` pointed at it): every case here is
refused before a notebook starts, so each takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import file_hashes, make_records
from test_loader import BAD_VALUES, FILE_CASES
from test_runner import FIXTURES, built  # noqa: F401 (built: the session fixture)
from test_scheme import CASES as SCHEME_CASES
from test_scheme import broken

from helpers import cli, paths

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md"


def state(root: Path) -> dict[str, str]:
    """Every file under reports/ and data/processed/ (the runner's lock aside), with its hash."""
    return {k: v for k, v in file_hashes(root / "reports", root / "data" / "processed").items()
            if not k.endswith("/.run.lock")}


@pytest.fixture
def project(built, tmp_path, monkeypatch) -> Path:  # noqa: F811 (the fixture imported above)
    """A copy of the built fixture project, with helpers.paths pointed at it and no setting from outside."""
    root = Path(shutil.copytree(built, tmp_path / "proj", symlinks=True))
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "RAW", root / "data" / "raw")
    monkeypatch.setattr(paths, "SYNTHETIC", root / "data" / "raw" / "synthetic")
    for var in ("RSS_DATA", "RSS_DISCLOSURE_THRESHOLD"):  # set, then removed: restored after the test
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setenv("RSS_ROOT", str(root))  # were a notebook to start, its kernel would work in the copy
    monkeypatch.chdir(root)
    return root


def rss(*args: str) -> int:
    """``rss ARGS`` in process; argparse's refusals (SystemExit) give their exit status."""
    try:
        return cli.main(list(args))
    except SystemExit as exc:
        return int(exc.code)


# ------------------------------------------------------------------ settings and parameters of rss run


def _empty_folder(root: Path, monkeypatch) -> None:
    (root / "empty").mkdir()
    monkeypatch.setenv("RSS_DATA", str(root / "empty"))


def _docs_only(root: Path, monkeypatch) -> None:
    (root / "export").mkdir()
    (root / "export" / "README.md").write_text("codebook")


def _broken_scheme(root: Path, monkeypatch) -> None:
    text = paths.DEFAULT_SCHEME.read_text(encoding="utf-8")
    (root / "broken.yaml").write_text(text.replace("weight: 0.2", "weight: 0.25", 1), encoding="utf-8")


def _mixed(root: Path, monkeypatch) -> None:
    (root / "data" / "raw" / "synthetic").mkdir()
    (root / "data" / "raw" / "synthetic" / "sen.csv").write_text("respondent_id\n")


def _param_type(root: Path, monkeypatch) -> None:
    p = root / "notebooks" / "20_cross_country.ipynb"
    nb = json.loads(p.read_text())
    nb["cells"][1]["source"] = "processed = 0"
    p.write_text(json.dumps(nb))


def _misspelt_param(root: Path, monkeypatch) -> None:
    shutil.copy(FIXTURES / "bad_parameters.ipynb", root / "notebooks" / "20_cross_country.ipynb")


def _not_a_notebook(root: Path, monkeypatch) -> None:
    (root / "notebooks" / "20_cross_country.ipynb").write_text("print('a script saved as .ipynb')\n")


def _no_prepare(root: Path, monkeypatch) -> None:
    (root / "notebooks" / "00_prepare.ipynb").unlink()


def _setenv(var: str, value: str):
    def setup(root: Path, monkeypatch) -> None:
        monkeypatch.setenv(var, value)
    return setup


#: id: (setup, arguments of `rss run`, exit status, message excerpt)
RUN_CASES = {
    "--country not in the data": (None, ["--country", "XXX"], 2,
                        "rss run: country 'XXX' is not in the scored data; its countries are GIN, MAR, SEN"),
    "RSS_DATA pointing nowhere": (_setenv("RSS_DATA", "/nonexistent/rss_export"), [], 2,
                                  "input not found: /nonexistent/rss_export (run `make data` for the synthetic "
                                  "default, or set RSS_DATA or --data to a file or folder of RSS records) [input from "
                                  "RSS_DATA=/nonexistent/rss_export]"),
    "RSS_DATA an empty folder": (_empty_folder, [], 2, "empty holds no files (run `make data`, or set RSS_DATA or "
                                                       "--data) [input from RSS_DATA="),
    "input with documentation but no data": (_docs_only, ["--data", "export"], 2,
                                             "input export holds no data files (.csv, .xlsx, .parquet), only "
                                             "README.md [input from --data export]"),
    "--scheme pointing nowhere": (None, ["--scheme", "schemes/official.yaml"], 2,
                                  "rss run: scheme file not found: schemes/official.yaml (--scheme takes a scheme "
                                  "YAML file, or the name of a scheme shipped with the helpers such as rss-default)"),
    "--scheme naming no shipped scheme": (None, ["--scheme", "rss-defualt"], 2,
                                          "rss run: --scheme rss-defualt: no such scheme file, and no scheme of "
                                          "that name ships with the helpers (shipped: rss-default)"),
    "--scheme whose weights do not sum to 1": (_broken_scheme, ["--scheme", "broken.yaml"], 2,
                                               "indicator weights sum to 1.05, expected 1"),
    "real data beside data/raw/synthetic": (_mixed, [], 1,
                                            "holds real data (all.csv) and the synthetic dataset synthetic/: remove "),
    "threshold not a number": (_setenv("RSS_DISCLOSURE_THRESHOLD", "abc"), [], 2,
                               "rss run: RSS_DISCLOSURE_THRESHOLD must be a whole number of respondents >= 1 "
                               "(default 10); found 'abc'"),
    "threshold zero": (_setenv("RSS_DISCLOSURE_THRESHOLD", "0"), [], 2,
                       "RSS_DISCLOSURE_THRESHOLD must be a whole number of respondents >= 1 (default 10); found '0'"),
    "threshold a fraction": (_setenv("RSS_DISCLOSURE_THRESHOLD", "7.5"), [], 2,
                             "RSS_DISCLOSURE_THRESHOLD must be a whole number of respondents >= 1 (default 10); "
                             "found '7.5'"),
    "keep seconds not a number": (_setenv("RSS_KEEP_KERNELS", "ten minutes"), [], 2,
                                  "rss run: RSS_KEEP_KERNELS='ten minutes': expected the seconds a run's kernels are "
                                  "kept for the next run (a number >= 0; 0 turns keeping off)"),
    "keep seconds negative": (_setenv("RSS_KEEP_KERNELS", "-5"), [], 2,
                              "RSS_KEEP_KERNELS='-5': expected the seconds a run's kernels are kept"),
    "--jobs not a number": (None, ["--jobs", "abc"], 2,
                            "argument --jobs/-j: expected the number of notebooks run at once (a whole number >= 1); "
                            "found 'abc'"),
    "--jobs zero": (None, ["--jobs", "0"], 2, "argument --jobs/-j: expected the number of notebooks run at once (a "
                                              "whole number >= 1); found '0'"),
    "--timeout not a number": (None, ["--timeout", "ten"], 2,
                               "argument --timeout: expected seconds one notebook may run (a number > 0); found "
                               "'ten'"),
    "--timeout not positive": (None, ["--timeout", "-5"], 2,
                               "argument --timeout: expected seconds one notebook may run (a number > 0); found "
                               "'-5'"),
    "unknown notebook parameter": (_misspelt_param, [], 2,
                                   "notebooks/20_cross_country.ipynb: unknown parameter 'processed': the runner "
                                   "passes it but the notebook's `parameters` cell declares only procesed"),
    "notebook parameter of the wrong type": (_param_type, [], 2,
                                             "notebooks/20_cross_country.ipynb: parameter 'processed' is declared as "
                                             "int, but the runner passes strings"),
    "notebook that is not a notebook": (_not_a_notebook, [], 2,
                                        "rss run: notebooks/20_cross_country.ipynb cannot be read as a notebook "
                                        "(JSONDecodeError"),
    "prepare notebook missing": (_no_prepare, [], 2,
                                 "rss run: no prepare notebook: notebooks/00_prepare.ipynb not found"),
}


@pytest.mark.parametrize("case", list(RUN_CASES), ids=list(RUN_CASES))
def test_rss_run_refuses_with_a_clear_message_and_changes_nothing(project, monkeypatch, capsys, case):
    setup, args, code, expected = RUN_CASES[case]
    if setup:
        setup(project, monkeypatch)
    before = state(project)
    assert rss("run", *args) == code
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err
    assert state(project) == before


def test_a_second_run_while_one_is_running_is_refused(project, capsys):
    before = state(project)
    with open(project / "reports" / ".run.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the running `rss run` holds it
        assert rss("run") == 2
    assert "another `rss run` is running in this project (reports/.run.lock); wait for it" in capsys.readouterr().err
    assert state(project) == before


# ------------------------------------------------------------------- parameters of the other commands


#: id: (arguments, exit status, message excerpt); "{tmp}" is the test's temporary folder
CLI_CASES = {
    "synth --scale not positive": (["synth", "-o", "{tmp}/out", "--scale", "0"], 2,
                                   "argument --scale: expected a size multiplier (a number > 0); found '0'"),
    "synth --scale not a number": (["synth", "-o", "{tmp}/out", "--scale", "big"], 2,
                                   "argument --scale: expected a size multiplier (a number > 0); found 'big'"),
    "synth --seed negative": (["synth", "-o", "{tmp}/out", "--seed", "-1"], 2,
                              "argument --seed: expected a random seed (a whole number >= 0); found '-1'"),
    "synth -o an existing file": (["synth", "-o", "{tmp}/a.csv", "--scale", "0.01"], 2,
                                  "rss synth: -o {tmp}/a.csv: expected a folder to write the dataset into; it is a "
                                  "file"),
    "score -o a folder": (["score", "{tmp}/a.csv", "-o", "{tmp}"], 2,
                          "rss score: -o {tmp}: expected the path of a .parquet file to write (it is a folder)"),
    "score -o not .parquet": (["score", "{tmp}/a.csv", "-o", "{tmp}/scored.csv"], 2,
                              "rss score: -o {tmp}/scored.csv: expected the path of a .parquet file to write"),
    "score --scheme pointing nowhere": (["score", "{tmp}/a.csv", "-o", "{tmp}/s.parquet", "--scheme",
                                        "{tmp}/nope.yaml"], 1, "file not found"),
    "check --threshold not a number": (["check", "--threshold", "few"], 2,
                                       "argument --threshold: invalid int value: 'few'"),
}


@pytest.mark.parametrize("case", list(CLI_CASES), ids=list(CLI_CASES))
def test_command_options_are_refused_with_a_clear_message(project, scheme, capsys, tmp_path, case):
    args, code, expected = CLI_CASES[case]
    make_records(scheme).to_csv(tmp_path / "a.csv", index=False)
    before, files = state(project), sorted(tmp_path.iterdir())
    assert rss(*(a.replace("{tmp}", str(tmp_path)) for a in args)) == code
    err = capsys.readouterr().err
    assert expected.replace("{tmp}", str(tmp_path)) in err, err
    assert state(project) == before and sorted(tmp_path.iterdir()) == files


# ------------------------------------------------------------------------------- more bad data files


def _xlsx_mixed_types(path: Path, records) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "rss"
    ws.append(list(records.columns))
    age = list(records.columns).index("age")
    for i, r in enumerate(records.astype(object).itertuples(index=False)):
        row = list(r)
        row[age] = {2: "thirty", 4: dt.datetime(2020, 1, 1)}.get(i, row[age])
        ws.append(row)
    wb.save(path)


def _xlsx_other_sheet(path: Path, records) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("Data")
    ws.append(list(records.columns))
    for r in records.astype(object).itertuples(index=False):
        ws.append(list(r))
    wb.save(path)


def _repeated_header(path: Path, records) -> None:
    lines = records.to_csv(index=False).splitlines()
    path.write_text("\n".join(lines[:7] + lines[:1] + lines[7:]) + "\n")  # two exports pasted together


def _numeric_dates(path: Path, records) -> None:
    import pandas as pd

    df = records.copy()
    df["survey_date"] = (pd.to_datetime(df["survey_date"]) - pd.Timestamp("1970-01-01")).dt.days
    df.to_parquet(path)


#: id: (make the file, suffix, message excerpt)
DATA_CASES = {
    "mixed types in a workbook column": (_xlsx_mixed_types, ".xlsx",
                                         "input.xlsx row 4, column age: 'thirty' is not an age in years from 15 to 99"),
    "mixed types: a date in a number column": (_xlsx_mixed_types, ".xlsx",
                                               "input.xlsx row 6, column age: '2020-01-01' is not an age in years"),
    "records on a sheet that is neither rss nor the first": (
        _xlsx_other_sheet, ".xlsx", "workbook has no data (sheet 'Notes' is empty; the records are read from the "
                                    "sheet named 'rss', else the first sheet (this workbook also has 'Data': rename "
                                    "the one holding the records to 'rss'))"),
    "header row repeated inside the file": (_repeated_header, ".csv",
                                            "input.csv row 8, column wave: 'wave' is not a wave number"),
    "dates stored as numbers (Parquet)": (_numeric_dates, ".parquet",
                                          "input.parquet row 2, column survey_date: 18428 is not a date YYYY-MM-DD"),
}


@pytest.fixture
def outputs_project(tmp_path) -> Path:
    """A project folder that already holds outputs: ``rss score`` must leave them as they are."""
    root = tmp_path / "proj"
    (root / "data" / "processed").mkdir(parents=True)
    (root / "data" / "processed" / "scored.parquet").write_bytes(b"previous scored data")
    (root / "reports" / "tables").mkdir(parents=True)
    (root / "reports" / "tables" / "t.csv").write_text("country,n_respondents\nSEN,25\n")
    return root


def score_into(root: Path, data: Path, *extra: str) -> int:
    return rss("score", str(data), "-o", str(root / "data" / "processed" / "scored.parquet"), *extra)


@pytest.mark.parametrize("case", list(DATA_CASES), ids=list(DATA_CASES))
def test_more_bad_data_files(outputs_project, scheme, capsys, case):
    make, suffix, expected = DATA_CASES[case]
    data = outputs_project / "incoming"
    data.mkdir()
    make(data / f"input{suffix}", make_records(scheme))
    before = state(outputs_project)
    assert score_into(outputs_project, data) == 1
    err = capsys.readouterr().err
    assert expected in err, err
    assert state(outputs_project) == before


# --------------------------------------- the catalogued data-file and scheme cases change no output either


@pytest.mark.parametrize("case", [*BAD_VALUES, *FILE_CASES], ids=[*BAD_VALUES, *FILE_CASES])
def test_bad_data_file_changes_no_output(outputs_project, scheme, monkeypatch, capsys, case):
    monkeypatch.chdir(outputs_project)
    data = outputs_project / "incoming"
    data.mkdir()
    if case in BAD_VALUES:
        mutate, expected = BAD_VALUES[case]
        mutate(make_records(scheme)).to_csv(data / "a.csv", index=False)
        expected = expected.replace("a.csv", "incoming/a.csv")
    else:
        make, suffix, expected = FILE_CASES[case]
        make(data / f"input{suffix}", make_records(scheme))
    before = state(outputs_project)
    assert score_into(outputs_project, data) == 1
    assert expected in capsys.readouterr().err
    assert state(outputs_project) == before


@pytest.mark.parametrize("case", list(SCHEME_CASES), ids=list(SCHEME_CASES))
def test_bad_scheme_changes_no_output(outputs_project, scheme, capsys, case):
    mutate, expected = SCHEME_CASES[case]
    (outputs_project / "my-scheme.yaml").write_text(yaml.safe_dump(broken(mutate), sort_keys=False),
                                                    encoding="utf-8")
    make_records(scheme).to_csv(outputs_project / "a.csv", index=False)
    before = state(outputs_project)
    assert score_into(outputs_project, outputs_project / "a.csv", "--scheme",
                      str(outputs_project / "my-scheme.yaml")) == 1
    err = capsys.readouterr().err
    assert expected in err and "my-scheme.yaml" in err, err
    assert state(outputs_project) == before


# ------------------------------------------------------------------------------------------------ catalogue


def test_catalogue_lists_every_case_and_counts_them():
    text = DOC.read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if re.match(r"^\| \d+ \|", ln)]
    listed = "\n".join(rows)
    cases = [*BAD_VALUES, *FILE_CASES, *SCHEME_CASES, *RUN_CASES, *CLI_CASES, *DATA_CASES]
    missing = [c for c in cases if f"`{c}`" not in listed and f"[{c}]" not in listed]
    assert not missing, f"not in {DOC.name}: {missing}"
    assert [int(r.split("|")[1]) for r in rows] == list(range(1, len(rows) + 1))
    assert f"{len(rows)} bad inputs" in text and len(rows) >= 30
