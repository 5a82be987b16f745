"""Checking and typing one column of records: text, numbers, integers, dates, codes from a fixed set.

Each parser takes a column as read (text from CSV/XLSX, native types from Parquet),
reports the bad cells to a :class:`~helpers.loader.problems.Checks` and returns the
typed values.  Text columns are parsed on their distinct values only.

Imports: helpers.loader.problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .problems import Checks


def is_textual(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)


def stripped_text(s: pd.Series) -> pd.Series:
    """Stripped text of a textual column, '' for missing."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s.fillna("").str.strip()
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def factor(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and stripped distinct texts of a textual column (missing -> code -1).

    Columns such as country, dates or answer codes hold few distinct values, so
    parsing the distinct values and mapping back is much cheaper than parsing every cell.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, stripped_text(pd.Series(uniques, dtype=object))


def take(values: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """``values[codes]`` with ``fill`` where the code is -1 (missing)."""
    if len(values) == 0:
        return np.full(len(codes), fill, dtype=object if isinstance(fill, str) else None)
    out = values[np.where(codes >= 0, codes, 0)]
    out[codes < 0] = fill
    return out


def blank_cells(s: pd.Series) -> np.ndarray:
    """Missing cells: NA, or empty text."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:  # arrow-backed: vectorised in C
        return (s.isna() | (s.str.strip() == "")).to_numpy(dtype=bool, na_value=True)
    if is_textual(s):
        codes, uniq = factor(s)
        return take((uniq == "").to_numpy(), codes, True).astype(bool)
    return s.isna().to_numpy()


def parse_numbers(s: pd.Series, labels: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Values as float (NaN when missing) and a mask of non-empty cells that are not numbers (or labels)."""
    if is_textual(s):
        codes, t = factor(s)
        num = pd.to_numeric(t.where(t != ""), errors="coerce").astype(float)
        if labels:
            num = num.where(num.notna(), t.str.lower().map(labels).astype(float))
        uv = num.to_numpy(dtype=float, na_value=np.nan)
        ubad = (t != "").to_numpy() & np.isnan(uv)
        return take(uv, codes, np.nan).astype(float), take(ubad, codes, False).astype(bool)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("Int8")
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return v, np.zeros(len(v), dtype=bool)


def parse_int(s: pd.Series, chk: Checks, column: str, *, lo: int | None, hi: int | None,
               expected: str) -> np.ndarray:
    """Parse an integer column (text or numeric) into float with NaN for missing or bad."""
    v, bad = parse_numbers(s)
    with np.errstate(invalid="ignore"):
        bad |= ~np.isnan(v) & (np.floor(v) != v)
        if lo is not None:
            bad |= v < lo
        if hi is not None:
            bad |= v > hi
    chk.rows_bad(bad, column, s, expected)
    return np.where(bad, np.nan, v)


def check_required(s: pd.Series, chk: Checks, column: str) -> None:
    chk.rows_bad(blank_cells(s), column, s, f"is missing: {column} is required")



def parse_date(s: pd.Series, chk: Checks, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        return s.dt.normalize().astype("datetime64[s]")
    codes, t = factor(s)
    parsed = pd.to_datetime(t.where(t != ""), format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    ubad = (t != "").to_numpy() & parsed.isna().to_numpy()
    chk.rows_bad(take(ubad, codes, False).astype(bool), column, s, "is not a date YYYY-MM-DD")
    return pd.Series(take(parsed.to_numpy(), codes, np.datetime64("NaT")), index=s.index, dtype="datetime64[s]")


def parse_choice(s: pd.Series, chk: Checks, column: str, allowed: set[str], expected: str) -> pd.Series:
    """A column of codes from a fixed set (case-insensitive); missing or bad -> NA."""
    codes, t = factor(s.astype(object) if not is_textual(s) else s)
    t = t.str.upper()
    ubad = (t != "").to_numpy() & ~t.isin(allowed).to_numpy()
    chk.rows_bad(take(ubad, codes, False).astype(bool), column, s, expected)
    # categorical: what pd.Categorical makes of the codes (sorted categories), computed on the distinct values only
    good = pd.Categorical(pd.Series(t.where((t != "") & ~ubad).to_numpy(dtype=object), dtype=object))
    return pd.Series(pd.Categorical.from_codes(take(good.codes, codes, -1), dtype=good.dtype), index=s.index)
