"""Disclosure control of one table: primary and secondary (complementary) suppression.

Imports: helpers.settings.

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
subtraction, and so could the sum of several.  So in a group with a suppressed
row, the rows with the next-smallest counts are suppressed too (ties: the first in
table order), one by one, until at least two rows are hidden and they hold at
least the threshold between them; their counts read ``"x"`` and their values are
blanked, ``suppressed = True``.
Groups are declared by the function that built the table, in
``df.attrs["groups"]``: the key columns whose values identify a group (``[]``: the
whole table is one group), or given explicitly; without a declaration rows are not
grouped and only primary suppression applies.  Figures use the same rows
(:func:`suppressed_rows`), so a figure never shows what its table hides.

Limits, stated in the report's methods: groups are one-dimensional (in a table
classified two ways, e.g. country x wave, only the declared way is protected here);
differencing *across* tables and against ``numbers.json`` is the business of the
differencing audit of ``rss check`` (:mod:`helpers.checks.linked`), which solves
for the bounds of every hidden cell from everything published and fails the build
when they are narrower than the threshold; and the protection interval can be
narrow for a reader who knows the rule: the second hidden row holds at least the
threshold, so if two hidden rows sum to ``k`` the small one is at most
``k - threshold`` (e.g. 1 when they sum to 11).

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

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import settings

__all__ = ["DEFAULT_THRESHOLD", "SECONDARY_MARK", "disclosure_threshold", "suppress", "suppressed_rows",
           "complementary"]

#: Minimum number of respondents behind a published cell, unless RSS_DISCLOSURE_THRESHOLD says otherwise.
DEFAULT_THRESHOLD = settings.DEFAULT_THRESHOLD
#: What the counts of a row hidden by secondary suppression read.
SECONDARY_MARK = "x"


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


def complementary(sizes: Sequence[float], primary: Sequence[bool], groups: Sequence[Any],
                  threshold: float = 0) -> np.ndarray:
    """Rows to hide besides ``primary`` so that no hidden row of a group can be recovered from its total.

    Parameters
    ----------
    sizes
        The count that decides each row's suppression (its smallest count column).
    primary
        Rows suppressed for being under the threshold.
    groups
        A group label per row; rows with the same label add up to something
        published (a total, shares summing to 1, a pooled mean).
    threshold
        The disclosure threshold: the hidden rows of a group must hold at least
        this many between them, else their sum -- the total minus the rows shown --
        is itself a count under the threshold (two hidden bands of 4 and 3 give
        "7 outside the middle band").

    Returns
    -------
    numpy.ndarray of bool
        The secondary rows: in every group with a primary row (and other rows),
        the unsuppressed rows with the smallest sizes (the first on ties), one by
        one, until the group has at least two hidden rows holding at least
        ``threshold`` together, or nothing is left to hide.

    Examples
    --------
    >>> complementary([5, 40, 12, 30], [True, False, False, False], ["a"] * 4, 10).tolist()
    [False, False, True, False]
    >>> complementary([5, 40, 13, 30], [True, False, True, False], ["a"] * 4, 10).tolist()  # two hidden, 18
    [False, False, False, False]
    >>> complementary([5, 40, 3, 30], [True, False, True, False], ["a"] * 4, 10).tolist()  # 8 is too few
    [False, False, False, True]
    >>> complementary([5, 40, 12, 30], [True, False, False, False], ["a", "a", "b", "b"], 10).tolist()
    [False, True, False, False]
    """
    sizes = np.asarray(sizes, dtype=float)
    primary = np.asarray(primary, dtype=bool)
    codes = pd.factorize(pd.Series(list(groups), dtype=object), use_na_sentinel=False)[0]
    out = np.zeros(len(sizes), dtype=bool)
    for g in np.unique(codes):
        idx = np.flatnonzero(codes == g)
        if len(idx) < 2 or not primary[idx].any():
            continue
        hidden = primary[idx].copy()
        while not hidden.all() and (hidden.sum() < 2 or sizes[idx][hidden].sum() < threshold):
            rest = np.flatnonzero(~hidden)
            k = rest[np.argmin(sizes[idx][rest])]
            hidden[k] = True
            out[idx[k]] = True
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
    return primary, complementary(n.min(axis=1).to_numpy(), primary, labels, thr)


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
