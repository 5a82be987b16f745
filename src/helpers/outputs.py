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

Secondary (complementary) suppression: when the rows of a *group* add up to
something published (counts by category beside their total, shares that sum to 1,
group means beside the pooled mean), one hidden row could be recovered by
subtraction.  So when exactly one row of a group is suppressed, the row with the
next-smallest count of that group is suppressed too (ties: the first in table
order); its counts read ``"x"`` and its values are blanked, ``suppressed = True``.
Groups are declared by the function that built the table, in
``df.attrs["groups"]``: the key columns whose values identify a group (``[]``: the
whole table is one group), or given explicitly; without a declaration rows are not
grouped and only primary suppression applies.  Figures use the same rows
(:func:`suppressed_rows`), so a figure never shows what its table hides.

Limits, stated in the report's methods: groups are one-dimensional (in a table
classified two ways, e.g. country x wave, only the declared way is protected);
differencing *across* tables or against ``numbers.json`` is not audited (a total
published elsewhere is assumed to be the group's own total); and the protection
interval can be narrow: a reader who knows the rule knows the second hidden row
holds at least the threshold, so if two hidden rows sum to ``k`` the small one is
at most ``k - threshold`` (e.g. 1 when they sum to 11).

Which columns are counts and which are keys is declared by the function that built
the table, in ``df.attrs["count_cols"]`` and ``df.attrs["keys"]`` (every table of
:mod:`helpers.describe` does so), or given explicitly.  Without a declaration, the
count columns are those named ``n_respondents*``, and the keys are the non-numeric
columns; a table with no count column at all is refused unless ``count_cols=()``
says it is not built on respondents.

:func:`write_table` records what it applied (threshold, counts, keys, groups) in
``reports/.disclosure/<name>.json``, which ``rss check`` (:mod:`helpers.checks`)
reads to verify every published table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io, paths, settings

__all__ = ["DEFAULT_THRESHOLD", "SECONDARY_MARK", "disclosure_threshold", "suppress", "suppressed_rows",
           "complementary", "write_table", "disclosure_path", "save_figure", "record_numbers", "clean_numbers"]

#: Minimum number of respondents behind a published cell, unless RSS_DISCLOSURE_THRESHOLD says otherwise.
DEFAULT_THRESHOLD = settings.DEFAULT_THRESHOLD
#: What the counts of a row hidden by secondary suppression read.
SECONDARY_MARK = "x"
#: Format of the disclosure records written beside the tables.
DISCLOSURE_FORMAT = 1
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

    Raises :class:`helpers.settings.SettingError` (a ``ValueError``) naming the
    setting when it is not a whole number >= 1.

    Examples
    --------
    >>> disclosure_threshold(5)
    5
    """
    return settings.disclosure_threshold(threshold)


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


def _group_columns(df: pd.DataFrame, groups: Sequence[str] | None) -> list[str] | None:
    if groups is None:
        groups = df.attrs.get("groups")
    if groups is None:
        return None
    if isinstance(groups, str):
        groups = [groups]
    missing = [c for c in groups if c not in df.columns]
    if missing:
        raise KeyError(f"group column(s) {', '.join(map(str, missing))} not in the table (columns: "
                       f"{', '.join(map(str, df.columns))})")
    return list(groups)


def complementary(sizes: Sequence[float], primary: Sequence[bool], groups: Sequence[Any]) -> np.ndarray:
    """Rows to hide besides ``primary`` so that no group has exactly one hidden row.

    Parameters
    ----------
    sizes
        The count that decides each row's suppression (its smallest count column).
    primary
        Rows suppressed for being under the threshold.
    groups
        A group label per row; rows with the same label add up to something
        published (a total, shares summing to 1, a pooled mean).

    Returns
    -------
    numpy.ndarray of bool
        The secondary rows: in every group with exactly one primary row (and other
        rows), the unsuppressed row with the smallest size (the first on ties).

    Examples
    --------
    >>> complementary([5, 40, 12, 30], [True, False, False, False], ["a"] * 4).tolist()
    [False, False, True, False]
    >>> complementary([5, 40, 3, 30], [True, False, True, False], ["a"] * 4).tolist()  # already two hidden
    [False, False, False, False]
    >>> complementary([5, 40, 12, 30], [True, False, False, False], ["a", "a", "b", "b"]).tolist()
    [False, True, False, False]
    """
    sizes = np.asarray(sizes, dtype=float)
    primary = np.asarray(primary, dtype=bool)
    codes = pd.factorize(pd.Series(list(groups), dtype=object), use_na_sentinel=False)[0]
    out = np.zeros(len(sizes), dtype=bool)
    for g in np.unique(codes):
        idx = np.flatnonzero(codes == g)
        if len(idx) > 1 and int(primary[idx].sum()) == 1:
            rest = idx[~primary[idx]]
            out[rest[np.argmin(sizes[rest])]] = True
    return out


def _masks(df: pd.DataFrame, counts: list[str], thr: int, group_cols: list[str] | None) -> tuple[np.ndarray,
                                                                                                np.ndarray]:
    """Primary and secondary suppression masks of ``df``'s rows."""
    if not counts or not len(df):
        none = np.zeros(len(df), dtype=bool)
        return none, none.copy()
    n = df[counts].apply(pd.to_numeric, errors="coerce").fillna(0)
    primary = (n < thr).any(axis=1).to_numpy()
    if group_cols is None:
        return primary, np.zeros(len(df), dtype=bool)
    labels = (df.groupby(group_cols, dropna=False, sort=False).ngroup().to_numpy() if group_cols
              else np.zeros(len(df), dtype=int))
    return primary, complementary(n.min(axis=1).to_numpy(), primary, labels)


def suppressed_rows(df: pd.DataFrame, *, count_cols: Sequence[str] | None = None, threshold: int | None = None,
                    groups: Sequence[str] | None = None) -> pd.Series:
    """Which rows of ``df`` disclosure control hides (primary or secondary), as a boolean Series.

    Figures call this on the unsuppressed table to leave out exactly the rows its
    published version hides.  Arguments as for :func:`suppress`.

    Examples
    --------
    >>> t = pd.DataFrame({"band": ["low", "mid", "high"], "n_respondents": [4, 60, 20]})
    >>> suppressed_rows(t, threshold=10, groups=[]).tolist()
    [True, False, True]
    """
    thr = disclosure_threshold(threshold)
    primary, secondary = _masks(df, _count_columns(df, count_cols), thr, _group_columns(df, groups))
    return pd.Series(primary | secondary, index=df.index)


def suppress(df: pd.DataFrame, *, count_cols: Sequence[str] | None = None, threshold: int | None = None,
             keys: Sequence[str] | None = None, groups: Sequence[str] | None = None) -> pd.DataFrame:
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
    groups
        Key columns whose values identify groups of rows that add up to something
        published (``[]``: the whole table); secondary suppression applies within
        each.  Default ``df.attrs["groups"]``, else none.

    Returns
    -------
    pandas.DataFrame
        A copy with a boolean ``suppressed`` column; in suppressed rows every column
        but the keys is missing, and counts read ``"<threshold"`` (primary) or
        ``"x"`` (secondary).  Count columns are then text (``"25"``, ``"<10"``).
        ``attrs["disclosure"]`` says what was applied.

    Examples
    --------
    >>> t = pd.DataFrame({"country": ["A", "B"], "n_respondents": [9, 10], "mean": [0.5, 0.6]})
    >>> suppress(t, threshold=10)
      country n_respondents  mean  suppressed
    0       A           <10   NaN        True
    1       B            10   0.6       False

    Shares that sum to 1: hiding one band alone would not hide it.

    >>> b = pd.DataFrame({"band": ["low", "mid", "high"], "n_respondents": [4, 60, 20], "share": [.05, .7, .25]})
    >>> suppress(b, threshold=10, groups=[])
       band n_respondents  share  suppressed
    0   low           <10    NaN        True
    1   mid            60    0.7       False
    2  high             x    NaN        True
    """
    thr = disclosure_threshold(threshold)
    counts = _count_columns(df, count_cols)
    key_cols = _key_columns(df, keys)
    group_cols = _group_columns(df, groups)
    out = df.copy()
    if "suppressed" in out.columns:
        raise ValueError("the table already has a 'suppressed' column: suppress a table only once")
    primary, secondary = _masks(out, counts, thr, group_cols)
    small = primary | secondary
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
        out[c] = pd.Series([f"<{thr}" if p else SECONDARY_MARK if s else v
                            for p, s, v in zip(primary, secondary, shown, strict=True)], index=out.index,
                           dtype="object")
    out["suppressed"] = small
    out.attrs = {**df.attrs, "threshold": thr,
                 "disclosure": {"threshold": thr, "count_cols": counts, "keys": key_cols, "groups": group_cols,
                                "primary": int(primary.sum()), "secondary": int(secondary.sum())}}
    return out


def _count_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() else str(f)


def disclosure_path(name: str) -> Path:
    """Where :func:`write_table` records the disclosure control of table ``name``."""
    return paths.TABLES.parent / ".disclosure" / f"{name}.json"


def write_table(df: pd.DataFrame, name: str, *, count_cols: Sequence[str] | None = None,
                threshold: int | None = None, keys: Sequence[str] | None = None,
                groups: Sequence[str] | None = None) -> Path:
    """Write ``reports/tables/<name>.csv`` atomically, after disclosure control.

    Parameters
    ----------
    df
        The table; see :func:`suppress` for how counts, keys and groups are found.
    name
        File name without extension (letters, digits, ``_``, ``-``).
    count_cols, threshold, keys, groups
        Passed to :func:`suppress`.

    Returns
    -------
    pathlib.Path
        The written file.  What disclosure control applied (threshold, count, key
        and group columns, rows suppressed) is recorded in
        :func:`disclosure_path` for ``rss check``.
    """
    _check_name(name)
    return _write(suppress(df, count_cols=count_cols, threshold=threshold, keys=keys, groups=groups), name)


def publish(df: pd.DataFrame, name: str, *, count_cols: Sequence[str] | None = None,
            threshold: int | None = None, keys: Sequence[str] | None = None,
            groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Write a table as :func:`write_table` does and return the published (suppressed) table to display.

    A notebook shows exactly what it published, and disclosure control runs once.
    """
    _check_name(name)
    table = suppress(df, count_cols=count_cols, threshold=threshold, keys=keys, groups=groups)
    _write(table, name)
    return table


def _write(table: pd.DataFrame, name: str) -> Path:
    """Write a suppressed table and its disclosure record (for ``rss check``)."""
    path = io.write_csv(paths.TABLES / f"{name}.csv", table, float_format="%.6g")
    io.write_json(disclosure_path(name), {"format": DISCLOSURE_FORMAT, "table": f"tables/{name}.csv",
                                          "columns": [str(c) for c in table.columns],
                                          **table.attrs["disclosure"]})
    return path


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

    The figure's layout engine (constrained layout, as the helpers' plots use) runs
    once, while the PNG is drawn; the SVG is drawn with the positions it found.
    Left on, the engine would lay the figure out again for the SVG, which costs
    about as much as drawing it (measured: 17 figures of one rerun, 1.1 s of 7.2 s).
    Both files have the same layout, up to the rounding of text extents at the PNG's
    resolution instead of the SVG's 72 points per inch.
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
                if fig.get_layout_engine() is not None:  # laid out by this first draw: keep those positions
                    fig.set_layout_engine("none")
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
