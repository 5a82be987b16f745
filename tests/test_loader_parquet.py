"""Parquet is read column by column with integer columns narrowed: same records, same messages as ever."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_records

from helpers.loader import DataError, load, read_parquet


def native(records: pd.DataFrame) -> pd.DataFrame:
    """``records`` as a pandas user would save them to Parquet: dates as dates, codes as integers."""
    df = records.copy()
    for c in ("survey_date", "return_date"):
        df[c] = pd.to_datetime(df[c])
    df["mentoring_start"] = pd.to_datetime(df["mentoring_start"].replace("", None))
    return df


def problems(path, scheme) -> list[str]:
    with pytest.raises(DataError) as err:
        load(path, scheme=scheme)
    return [str(p) for p in err.value.problems]


def test_integer_kinds_of_parquet_load_as_the_same_csv(tmp_path, monkeypatch, scheme):
    """int64, nullable Int64 with gaps, int8, int16 and uint8 codes give the records the CSV gives."""
    monkeypatch.chdir(tmp_path)
    records = make_records(scheme, 40, seed=4)
    records.loc[3, "eco_food_reduce"] = 98
    df = native(records)
    qids = scheme.question_ids
    for i, q in enumerate(qids):
        df[q] = df[q].astype(["int64", "Int64", "int8", "int16", "uint8"][i % 5])
    df["age"] = df["age"].astype("Int64")
    for q, row in ((qids[1], 0), (qids[6], 5), ("age", 7)):  # Int64 columns with missing answers
        df.loc[row, q] = pd.NA
        records[q] = records[q].astype(object)
        records.loc[row, q] = ""
    df.to_parquet("a.parquet")
    records.to_csv("a.csv", index=False)
    pd.testing.assert_frame_equal(load("a.parquet", scheme=scheme).data, load("a.csv", scheme=scheme).data,
                                  check_exact=True)


def test_bad_integers_in_parquet_get_the_lines_of_the_same_csv(tmp_path, monkeypatch, scheme):
    monkeypatch.chdir(tmp_path)
    records = make_records(scheme, 60, seed=5)
    df = native(records)
    df["psy_distress"] = df["psy_distress"].astype("Int64")
    bad = {("eco_borrow_freq", 0): 300, ("eco_borrow_freq", 1): -5, ("psy_distress", 2): 1000,
           ("psy_distress", 3): 2**40, ("wave", 4): 0, ("mentored", 5): 2, ("age", 6): 120}
    for (col, row), value in bad.items():
        df.loc[row, col] = value
        records.loc[row, col] = value
    df.loc[30:, "psy_safety"] = 9  # more rows than are listed
    records.loc[30:, "psy_safety"] = 9
    df.to_parquet("a.parquet")
    records.to_csv("a.csv", index=False)
    got = problems("a.parquet", scheme)
    assert got == [p.replace("a.csv", "a.parquet") for p in problems("a.csv", scheme)]
    assert "a.parquet row 2, column eco_borrow_freq: 300 is not an answer code (allowed 1-5, or 97/98/99)" in got
    assert "a.parquet row 5, column psy_distress: 1099511627776 is not an answer code" in " ".join(got)


def test_parquet_header_problems_are_reported_as_ever(tmp_path, monkeypatch, scheme, records):
    monkeypatch.chdir(tmp_path)
    native(records).assign(Country="SEN").to_parquet("dup.parquet")
    assert problems("dup.parquet", scheme) == ["dup.parquet: duplicated column(s) in the header: country"]


def test_narrowed_columns_keep_the_values_and_kind_of_the_whole_file_read(tmp_path):
    df = pd.DataFrame({
        "codes": [1, 2, 98],  # int64 -> int8
        "nullable": pd.array([1, None, 300], dtype="Int64"),  # -> Int16, still nullable
        "big": [0, 1, 2**40],  # needs int64: unchanged
        "huge": pd.array([0, 1, 2**63 + 5], dtype="uint64"),  # beyond int64: unchanged
        "int32": pd.array([-70000, 0, 5], dtype="int32"),
        "text": ["a", None, "c"],
        "when": pd.to_datetime(["2020-01-01", None, "2021-06-30"]),
        "flag": [True, False, True],
        "weight": [1.5, 2.0, 0.5],
    }, index=["x", "y", "z"])
    df.to_parquet(tmp_path / "with_meta.parquet")
    # no pandas metadata, and an integer column with a gap: pandas makes it float64 (left as it is)
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, tmp_path / "no_meta.parquet")
    for name in ("with_meta.parquet", "no_meta.parquet"):
        raw = (tmp_path / name).read_bytes()
        whole = pq.read_table(tmp_path / name).to_pandas()
        got = read_parquet(raw)
        assert list(got.columns) == list(whole.columns)
        pd.testing.assert_index_equal(got.index, whole.index)
        for c in whole.columns:
            a, b = got[c], whole[c]
            assert a.astype(object).equals(b.astype(object)), c
            assert a.dtype.kind == b.dtype.kind, (c, a.dtype, b.dtype)
            if b.dtype.kind in "iu":
                assert a.dtype.itemsize <= b.dtype.itemsize, (c, a.dtype, b.dtype)
            else:
                assert a.dtype == b.dtype, (c, a.dtype, b.dtype)
            assert isinstance(a.dtype, pd.api.extensions.ExtensionDtype) == \
                isinstance(b.dtype, pd.api.extensions.ExtensionDtype), (c, a.dtype, b.dtype)
    got = read_parquet((tmp_path / "with_meta.parquet").read_bytes())
    assert str(got["codes"].dtype) == "int8" and str(got["nullable"].dtype) == "Int16"
    assert str(got["big"].dtype) == "int64" and str(got["huge"].dtype) == "uint64"
