"""Publish results: the one way notebooks write tables, figures and key numbers.

Every output goes under ``reports/`` (paths from :mod:`helpers.paths`, read when a
function is called, so ``RSS_ROOT`` or a test's monkeypatch redirects them), is
written atomically (:mod:`helpers.io`) and, for tables, passes disclosure control
first.

Disclosure control
------------------
Primary suppression: a row whose respondent count is below the threshold (default
10; ``RSS_DISCLOSURE_THRESHOLD`` overrides it) keeps its key columns (what the row
is about: country, score, band, ...), shows its counts as ``"<10"``, has every
other value blanked and gets ``suppressed = True``.  A row with several count
columns (e.g. mentored and not mentored) is suppressed when any of them is below
the threshold; a missing count counts as zero.

Which columns are counts and which are keys is declared by the function that built
the table, in ``df.attrs["count_cols"]`` and ``df.attrs["keys"]`` (every table of
:mod:`helpers.describe` does so), or given explicitly.  Without a declaration, the
count columns are those named ``n_respondents*``, and the keys are the non-numeric
columns; a table with no count column at all is refused unless ``count_cols=()``
says it is not built on respondents.

Not done: secondary (complementary) suppression.  A suppressed count can sometimes
be recovered by subtraction from totals published elsewhere (e.g. surveys of one
wave from a country total).  Tables here do not publish totals beside their parts,
but the report as a whole is not audited for such differencing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io, paths

__all__ = ["DEFAULT_THRESHOLD", "disclosure_threshold", "suppress", "write_table", "save_figure",
           "record_numbers", "clean_numbers"]

#: Minimum number of respondents behind a published cell, unless RSS_DISCLOSURE_THRESHOLD says otherwise.
DEFAULT_THRESHOLD = 10
#: Figure formats written by :func:`save_figure`.
FIGURE_FORMATS = ("png", "svg")
#: Resolution of PNG figures.
PNG_DPI = 150
#: Fixed salt for the ids matplotlib writes into SVG files, so they do not change between runs.
SVG_HASHSALT = "rss-workspace"
#: Decimals kept for floats in numbers files.
NUMBER_DECIMALS = 6


def disclosure_threshold(threshold: int | None = None) -> int:
    """Return the disclosure threshold: ``threshold``, else ``RSS_DISCLOSURE_THRESHOLD``, else 10.

    Examples
    --------
    >>> disclosure_threshold(5)
    5
    """
    if threshold is None:
        env = os.environ.get("RSS_DISCLOSURE_THRESHOLD", "").strip()
        if not env:
            return DEFAULT_THRESHOLD
        try:
            threshold = int(env)
        except ValueError:
            raise ValueError(f"RSS_DISCLOSURE_THRESHOLD must be a whole number of respondents; found {env!r}") \
                from None
    if isinstance(threshold, bool) or int(threshold) != threshold or threshold < 1:
        raise ValueError(f"disclosure threshold must be a whole number >= 1; found {threshold!r}")
    return int(threshold)


def _count_columns(df: pd.DataFrame, count_cols: Sequence[str] | None) -> list[str]:
    if count_cols is None:
        count_cols = df.attrs.get("count_cols")
    if count_cols is None:
        count_cols = [c for c in df.columns if str(c).startswith("n_respondents")]
        if not count_cols:
            raise ValueError(
                "disclosure control needs the column(s) holding respondent counts: none is declared "
                f"(df.attrs['count_cols']) and no column is named n_respondents*; columns are "
                f"{', '.join(map(str, df.columns))}. Pass count_cols=[...], or count_cols=() for a table "
                "that is not built on respondents")
    missing = [c for c in count_cols if c not in df.columns]
    if missing:
        raise KeyError(f"count column(s) {', '.join(missing)} not in the table (columns: "
                       f"{', '.join(map(str, df.columns))})")
    return list(count_cols)


def _key_columns(df: pd.DataFrame, keys: Sequence[str] | None) -> list[str]:
    if keys is None:
        keys = df.attrs.get("keys")
    if keys is None:
        keys = [c for c in df.columns
                if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    missing = [c for c in keys if c not in df.columns]
    if missing:
        raise KeyError(f"key column(s) {', '.join(missing)} not in the table")
    return list(keys)


def suppress(df: pd.DataFrame, *, count_cols: Sequence[str] | None = None, threshold: int | None = None,
             keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Return ``df`` with rows built on fewer respondents than the threshold suppressed.

    Parameters
    ----------
    df
        A results table, one row per group.
    count_cols
        Columns holding respondent counts.  Default ``df.attrs["count_cols"]``, else
        the columns named ``n_respondents*``; ``()`` for a table not built on
        respondents (nothing is suppressed).
    threshold
        Minimum respondents (default :func:`disclosure_threshold`).
    keys
        Columns identifying a row, kept as they are.  Default ``df.attrs["keys"]``,
        else the non-numeric columns.

    Returns
    -------
    pandas.DataFrame
        A copy with a boolean ``suppressed`` column; in suppressed rows every column
        but the keys is missing, and counts read ``"<threshold"``.  Count columns
        are then text (``"25"``, ``"<10"``).

    Examples
    --------
    >>> t = pd.DataFrame({"country": ["A", "B"], "n_respondents": [9, 10], "mean": [0.5, 0.6]})
    >>> suppress(t, threshold=10)
      country n_respondents  mean  suppressed
    0       A           <10   NaN        True
    1       B            10   0.6       False
    """
    thr = disclosure_threshold(threshold)
    counts = _count_columns(df, count_cols)
    key_cols = _key_columns(df, keys)
    out = df.copy()
    if "suppressed" in out.columns:
        raise ValueError("the table already has a 'suppressed' column: suppress a table only once")
    if counts:
        n = out[counts].apply(pd.to_numeric, errors="coerce").fillna(0)
        small = (n < thr).any(axis=1).to_numpy()
    else:
        small = np.zeros(len(out), dtype=bool)
    for c in out.columns:
        if c in key_cols or c in counts:
            continue
        if small.any():
            col = out[c]
            if pd.api.types.is_bool_dtype(col):
                col = col.astype("object")
            elif pd.api.types.is_integer_dtype(col):
                col = col.astype("Int64")
            out[c] = col.mask(pd.Series(small, index=out.index))
    for c in counts:
        shown = [_count_text(v) for v in out[c]]
        out[c] = pd.Series([f"<{thr}" if s else v for s, v in zip(small, shown, strict=True)], index=out.index,
                           dtype="object")
    out["suppressed"] = small
    out.attrs = {**df.attrs, "threshold": thr}
    return out


def _count_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() else str(f)


def write_table(df: pd.DataFrame, name: str, *, count_cols: Sequence[str] | None = None,
                threshold: int | None = None, keys: Sequence[str] | None = None) -> Path:
    """Write ``reports/tables/<name>.csv`` atomically, after disclosure control.

    Parameters
    ----------
    df
        The table; see :func:`suppress` for how counts and keys are found.
    name
        File name without extension (letters, digits, ``_``, ``-``).
    count_cols, threshold, keys
        Passed to :func:`suppress`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    _check_name(name)
    table = suppress(df, count_cols=count_cols, threshold=threshold, keys=keys)
    return io.write_csv(paths.TABLES / f"{name}.csv", table, float_format="%.6g")


def _check_name(name: str) -> None:
    ok = name and all(ch.isalnum() or ch in "_-" for ch in name)
    if not ok:
        raise ValueError(f"output name {name!r} must be letters, digits, '_' or '-' (no folders or extensions)")


def save_figure(fig: Any, name: str) -> list[Path]:
    """Write ``reports/figures/<name>.png`` and ``.svg`` atomically and reproducibly, then close ``fig``.

    Parameters
    ----------
    fig
        A matplotlib Figure.
    name
        File name without extension.

    Returns
    -------
    list of pathlib.Path
        The PNG then the SVG file.

    Notes
    -----
    The same figure gives byte-identical files on every run: no date or software
    stamp in the metadata, and a fixed ``svg.hashsalt`` for the ids of SVG elements.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    _check_name(name)
    written = []
    meta = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
    try:
        with mpl.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}):
            for fmt in FIGURE_FORMATS:
                target = paths.FIGURES / f"{name}.{fmt}"
                with io.atomic_path(target) as tmp:
                    fig.savefig(tmp, format=fmt, dpi=PNG_DPI, metadata=meta[fmt])
                written.append(target)
    finally:
        plt.close(fig)
    return written


def clean_numbers(obj: Any, *, decimals: int = NUMBER_DECIMALS) -> Any:
    """Return ``obj`` as plain JSON values: floats rounded, NaN as ``None``, numpy types unwrapped.

    Examples
    --------
    >>> clean_numbers({"b": np.float64(1 / 3), "a": [np.int64(2), float("nan")], "c": np.bool_(True)})
    {'b': 0.333333, 'a': [2, None], 'c': True}
    """
    if isinstance(obj, Mapping):
        return {str(k): clean_numbers(v, decimals=decimals) for k, v in obj.items()}
    if isinstance(obj, (str, bytes)):
        return obj if isinstance(obj, str) else obj.decode("utf-8")
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.isoformat()
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if not math.isfinite(f):
            return None
        r = round(f, decimals)
        return 0.0 if r == 0 else r  # no "-0.0"
    if isinstance(obj, (pd.Series, np.ndarray)):
        return [clean_numbers(v, decimals=decimals) for v in obj.tolist()]
    if isinstance(obj, Iterable):
        return [clean_numbers(v, decimals=decimals) for v in obj]
    raise TypeError(f"cannot record {type(obj).__name__} {obj!r} as a number: use str, int, float, bool, None, "
                    "lists or mappings")


def record_numbers(section: str, mapping: Mapping[str, Any]) -> Path:
    """Write the key numbers of one section to ``reports/numbers/<section>.json``.

    Parameters
    ----------
    section
        Section name (e.g. ``prepare``, ``country_SEN``, ``cross_country``).
    mapping
        Numbers (and short texts, lists, nested mappings) the report quotes.

    Returns
    -------
    pathlib.Path
        The written file: sorted keys, floats rounded to 6 decimals, NaN as ``null``.
        The report builder merges all sections into ``reports/numbers.json``.
    """
    _check_name(section)
    if not isinstance(mapping, Mapping):
        raise TypeError(f"record_numbers needs a mapping of name -> value; found {type(mapping).__name__}")
    return io.write_json(paths.NUMBERS / f"{section}.json", clean_numbers(mapping))
