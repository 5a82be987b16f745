"""The loader implements the data contract: every format, and a clear line for every bad input."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import make_records

from helpers import cli
from helpers.loader import DataError, load


def write(df: pd.DataFrame, path, *, sep=",", encoding="utf-8"):
    df.to_csv(path, index=False, sep=sep, encoding=encoding)
    return path


def problems_of(path, **kw) -> list[str]:
    with pytest.raises(DataError) as err:
        load(path, **kw)
    return [str(p) for p in err.value.problems]


def score_writes_nothing(path, tmp_path, capsys, expected: str) -> None:
    """`rss score` on the bad input exits 1, prints the line, and writes no output."""
    out = tmp_path / "out" / "scored.parquet"
    assert cli.main(["score", str(path), "-o", str(out)]) == 1
    assert expected in capsys.readouterr().err
    assert not out.parent.exists() or not any(out.parent.iterdir())


# ------------------------------------------------------------------------ good input

def test_csv_comma_semicolon_bom_xlsx_parquet_and_folder_agree(tmp_path, monkeypatch, scheme, records):
    monkeypatch.chdir(tmp_path)  # paths in messages are shown relative to the working folder
    write(records, tmp_path / "a.csv")
    write(records, tmp_path / "b.csv", sep=";", encoding="utf-8-sig")
    records.to_parquet(tmp_path / "c.parquet")
    records.to_excel(tmp_path / "d.xlsx", sheet_name="rss", index=False)
    frames = [load(tmp_path / n, scheme=scheme).data for n in ("a.csv", "b.csv", "c.parquet", "d.xlsx")]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], f)
    # the folder stacks the four files: duplicates across files are an error...
    errs = problems_of(tmp_path)
    assert any("and wave (1) as a.csv row 2" in e for e in errs), errs[:3]


def test_folder_stacks_files_and_skips_documentation(tmp_path, scheme):
    write(make_records(scheme, 5, seed=1), tmp_path / "sen.csv")
    sub = tmp_path / "more"
    sub.mkdir()
    write(make_records(scheme, 4, seed=2, country="GIN"), sub / "gin.csv")
    (tmp_path / "truth.json").write_text("{}")
    (tmp_path / "README.md").write_text("codebook")
    res = load(tmp_path, scheme=scheme)
    assert len(res.data) == 9 and set(res.data["country"]) == {"SEN", "GIN"}
    assert sorted(f.rows for f in res.files) == [4, 5]
    assert len(res.ignored_files) == 2


def test_types_special_codes_and_months_since_return(tmp_path, scheme, records):
    records.loc[0, "eco_food_reduce"] = 98
    records.loc[1, "soc_children_school"] = 97
    records.loc[2, "psy_distress"] = None
    records.loc[3, "sex"] = ""
    records["extra_note"] = "x"
    res = load(write(records, tmp_path / "a.csv"), scheme=scheme)
    d = res.data.set_index(res.data["respondent_id"].astype(str))
    assert d.loc["R0000000", "eco_food_reduce"] == 98
    assert d.loc["R0000001", "soc_children_school"] == 97
    assert pd.isna(d.loc["R0000002", "psy_distress"])
    assert pd.isna(d.loc["R0000003", "sex"])
    # 2020-01-10 -> 2020-06-15 is 157 days
    assert d["months_since_return"].iloc[0] == pytest.approx(157 / (365.25 / 12))
    assert d["survey_date"].dtype.kind == "M" and d["wave"].dtype == "int64"
    assert res.unused_columns == {str(tmp_path / "a.csv"): ["extra_note"]} or \
        list(res.unused_columns.values()) == [["extra_note"]]
    assert (d.loc[d["mentored"] == 0, "mentoring_start"]).isna().all()


def test_answer_labels_are_mapped_through_the_scheme(tmp_path, scheme, records):
    lab = records.astype(object).copy()
    for q in scheme.questions:
        lab[q.id] = [q.labels[c] for c in records[q.id]]
    lab.loc[0, "eco_food_reduce"] = "Does not know"
    lab.loc[1, "eco_satisfaction"] = "  very SATISFIED "
    res = load(write(lab, tmp_path / "labels.csv"), scheme=scheme).data
    base = load(write(records, tmp_path / "codes.csv"), scheme=scheme).data
    assert res.loc[0, "eco_food_reduce"] == 98
    assert res.loc[1, "eco_satisfaction"] == 5
    pd.testing.assert_series_equal(res["psy_belonging"], base["psy_belonging"])


def test_optional_columns_may_be_absent(tmp_path, scheme, records):
    slim = records.drop(columns=["sex", "age", "return_from", "mentoring_start", "assist_economic",
                                 "assist_social", "assist_psychosocial"])
    d = load(write(slim, tmp_path / "a.csv"), scheme=scheme).data
    assert d["sex"].isna().all() and (d["weight"] == 1.0).all()


def test_raw_files_are_never_modified(tmp_path, scheme, records):
    p = write(records, tmp_path / "a.csv")
    p.chmod(0o444)
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    load(p, scheme=scheme)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before


# ------------------------------------------------------------------------- bad input
# Each case: how to break a valid file, and the line a person needs to see.

def _set(col, row, value):
    def f(df):
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df
    return f


BAD_VALUES = {
    "answer code out of range": (_set("eco_food_reduce", 3, 7),
                                 "a.csv row 5, column eco_food_reduce: 7 is not an answer code (allowed 1-5, or 97/98/99)"),
    "unknown answer label": (_set("eco_satisfaction", 0, "Very happy"),
                             "a.csv row 2, column eco_satisfaction: 'Very happy' is not an answer code or label"),
    "unknown country": (_set("country", 2, "XYZ"),
                        "a.csv row 4, column country: 'XYZ' is not an ISO 3166-1 alpha-3 country code"),
    "return after survey": (_set("return_date", 1, "2021-03-01"),
                            "a.csv row 3, column return_date: '2021-03-01' is after survey_date"),
    "unparseable date": (_set("survey_date", 4, "15/06/2020"),
                         "a.csv row 6, column survey_date: '15/06/2020' is not a date YYYY-MM-DD"),
    "impossible date": (_set("survey_date", 4, "2020-02-30"),
                        "a.csv row 6, column survey_date: '2020-02-30' is not a date YYYY-MM-DD"),
    "future date": (_set("survey_date", 4, "2999-01-01"),
                    "a.csv row 6, column survey_date: '2999-01-01' is in the future"),
    "wrong type age": (_set("age", 5, "thirty"),
                       "a.csv row 7, column age: 'thirty' is not an age in years from 15 to 99"),
    "age out of range": (_set("age", 5, 7),
                         "a.csv row 7, column age: 7 is not an age in years from 15 to 99"),
    "wave not integer": (_set("wave", 0, "1.5"),
                         "a.csv row 2, column wave: 1.5 is not a wave number (integer >= 1)"),
    "wave zero": (_set("wave", 0, 0), "a.csv row 2, column wave: 0 is not a wave number"),
    "mentored not binary": (_set("mentored", 0, 2), "a.csv row 2, column mentored: 2 is not 0 or 1"),
    "mentored missing": (_set("mentored", 0, ""), "a.csv row 2, column mentored: empty is missing"),
    "sex unknown value": (_set("sex", 0, "X"), "a.csv row 2, column sex: 'X' is not F or M"),
    "return_from unknown": (_set("return_from", 0, "Mars"),
                            "a.csv row 2, column return_from: 'Mars' is not an ISO3 country code, EU or OTHER"),
    "weight not positive": (lambda df: df.assign(weight=[1.0] * (len(df) - 1) + [0]),
                            "a.csv row 13, column weight: 0.0 is not a survey weight (a number > 0)"),
    "respondent id missing": (_set("respondent_id", 0, ""),
                              "a.csv row 2, column respondent_id: empty is missing"),
    "assist not binary": (_set("assist_social", 0, "yes"), "a.csv row 2, column assist_social: 'yes' is not 0 or 1"),
    "duplicated respondent-wave": (_set("respondent_id", 6, "R0000001"),
                                   "a.csv row 8, column respondent_id: has the same respondent_id and wave (1) as "
                                   "a.csv row 3"),
    "missing required column": (lambda df: df.drop(columns=["return_date", "psy_safety"]),
                                "a.csv: missing required column(s): return_date, psy_safety"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES), ids=list(BAD_VALUES))
def test_bad_value_gets_a_line_with_file_row_column_value(tmp_path, monkeypatch, capsys, scheme, case):
    monkeypatch.chdir(tmp_path)
    mutate, expected = BAD_VALUES[case]
    df = mutate(make_records(scheme))
    write(df, tmp_path / "a.csv")
    errs = problems_of("a.csv", scheme=scheme)
    assert any(expected in e for e in errs), errs
    score_writes_nothing("a.csv", tmp_path, capsys, expected)


def test_every_problem_of_every_file_at_once(tmp_path, monkeypatch, scheme):
    monkeypatch.chdir(tmp_path)
    df = make_records(scheme).astype(object)
    df.loc[0, "eco_food_reduce"] = 7
    df.loc[1, "country"] = "XYZ"
    df.loc[2, "age"] = "old"
    write(df, tmp_path / "a.csv")
    (tmp_path / "b.csv").write_bytes(b"")
    errs = problems_of(tmp_path, scheme=scheme)
    assert len(errs) == 4, errs
    assert errs[-1].endswith("b.csv: empty file: no header and no records")


def test_many_bad_rows_are_listed_then_counted(tmp_path, scheme):
    df = make_records(scheme, 50).astype(object)
    df["psy_safety"] = 9
    errs = problems_of(write(df, tmp_path / "a.csv"), scheme=scheme)
    assert sum("column psy_safety: 9 is not an answer code" in e for e in errs) == 20
    assert any("... and 30 more rows with the same problem" in e for e in errs)


FILE_CASES = {
    "empty file": (lambda p, df: p.with_suffix(".csv").write_bytes(b""), ".csv",
                   "empty file: no header and no records"),
    "header only": (lambda p, df: p.write_text(",".join(df.columns) + "\n"), ".csv",
                    "no records: the file has a header but no data rows"),
    "binary junk named csv": (lambda p, df: p.write_bytes(bytes(range(256)) * 10), ".csv",
                              "binary content, not a CSV text file"),
    "mis-encoded (latin-1)": (lambda p, df: p.write_bytes(df.assign(respondent_id="Zoé").head(2).to_csv(
        index=False).encode("latin-1")), ".csv", "not UTF-8 text: byte 0xe9 at line 2"),
    "wrong delimiter (tab)": (lambda p, df: df.to_csv(p, sep="\t", index=False), ".csv",
                              "only one column was found: is the delimiter a comma or semicolon?"),
    "duplicated columns": (lambda p, df: p.write_text("country," + df.to_csv(index=False)), ".csv",
                           "duplicated column(s) in the header: country"),
    "ragged rows": (lambda p, df: p.write_text(df.to_csv(index=False) + "a,b,c" + ",x" * 60 + "\n"), ".csv",
                    "not a well-formed comma-separated file"),
    "workbook with no data": (lambda p, df: openpyxl.Workbook().save(p), ".xlsx",
                              "workbook has no data"),
    "xlsx that is not a workbook": (lambda p, df: p.write_text("hello"), ".xlsx",
                                    "not a readable .xlsx workbook"),
    "parquet that is not parquet": (lambda p, df: p.write_text("hello"), ".parquet",
                                    "not a readable Parquet file"),
    "unknown file type": (lambda p, df: p.write_text("x"), ".sav",
                          "unknown file type '.sav': expected .csv, .xlsx or .parquet"),
}


@pytest.mark.parametrize("case", list(FILE_CASES), ids=list(FILE_CASES))
def test_bad_file_gets_a_line_naming_it(tmp_path, capsys, scheme, case):
    make, suffix, expected = FILE_CASES[case]
    data = tmp_path / "data"
    data.mkdir()
    p = data / f"input{suffix}"
    make(p, make_records(scheme))
    errs = problems_of(data, scheme=scheme)
    assert any(e.startswith(f"{p}:") for e in errs), errs
    assert any(expected in e for e in errs), errs
    score_writes_nothing(data, tmp_path, capsys, expected)


def test_path_that_does_not_exist_and_empty_folder(tmp_path, scheme):
    errs = problems_of(tmp_path / "nowhere", scheme=scheme)
    assert "no such file or folder" in errs[0]
    (tmp_path / "empty").mkdir()
    errs = problems_of(tmp_path / "empty", scheme=scheme)
    assert "folder holds no data files (.csv, .xlsx, .parquet)" in errs[0]


def test_xlsx_dates_and_numbers_as_spreadsheets_store_them(tmp_path, scheme, records):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "rss"
    ws.append(list(records.columns))
    for r in records.itertuples(index=False):
        row = list(r)
        row[3] = dt.datetime.fromisoformat(row[3])  # survey_date as a real Excel date
        row[2] = float(row[2])  # wave stored as 1.0
        ws.append(row)
    wb.save(tmp_path / "x.xlsx")
    d = load(tmp_path / "x.xlsx", scheme=scheme).data
    assert (d["survey_date"] == pd.Timestamp("2020-06-15")).all() and (d["wave"] == 1).all()


def test_parquet_with_native_types(tmp_path, scheme, records):
    df = records.copy()
    for c in ("survey_date", "return_date"):
        df[c] = pd.to_datetime(df[c])
    df["mentoring_start"] = pd.to_datetime(df["mentoring_start"].replace("", None))
    for q in scheme.question_ids:
        df[q] = df[q].astype("int8")
    df.loc[0, "eco_borrow_freq"] = 6
    df.to_parquet(tmp_path / "n.parquet")
    errs = problems_of(tmp_path / "n.parquet", scheme=scheme)
    assert errs == [f"{tmp_path / 'n.parquet'} row 2, column eco_borrow_freq: 6 is not an answer code "
                    f"(allowed 1-5, or 97/98/99)"] or errs[0].endswith(
        "n.parquet row 2, column eco_borrow_freq: 6 is not an answer code (allowed 1-5, or 97/98/99)")
    assert np.isfinite(len(errs))
