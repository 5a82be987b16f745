"""Means and differences of means with confidence intervals (cluster-robust by respondent, Welch).

Imports: helpers.describe.common.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .common import score_label


def mean_ci(values: Sequence[float] | pd.Series | np.ndarray, *, groups: Sequence[Any] | None = None,
            level: float = 0.95) -> dict[str, float]:
    """Mean with a t-based confidence interval, cluster-robust when ``groups`` is given.

    Parameters
    ----------
    values
        Observations; missing values are dropped (with their group).
    groups
        Cluster of each observation (e.g. the respondent); default: each its own.
    level
        Confidence level.

    Returns
    -------
    dict
        ``n``, ``n_clusters``, ``mean``, ``sd``, ``se``, ``df``, ``ci_low``, ``ci_high``.

    Notes
    -----
    With :math:`N` observations in :math:`G` clusters and residuals
    :math:`e_i = y_i - \\bar y`,

    .. math:: \\widehat{\\mathrm{se}}^2 = \\frac{G}{G-1} \\frac{1}{N^2}
              \\sum_g \\Big(\\sum_{i \\in g} e_i\\Big)^2,
              \\qquad \\bar y \\pm t_{G-1,\\,(1+\\mathrm{level})/2}\\,\\widehat{\\mathrm{se}},

    the CR1 estimator of an intercept-only regression (as Stata's ``mean, vce(cluster)``).
    With one observation per cluster it is exactly :math:`s/\\sqrt N` with
    :math:`N - 1` degrees of freedom.

    Examples
    --------
    >>> r = mean_ci([1.0, 2.0, 3.0, 4.0])
    >>> round(r["mean"], 3), round(r["se"], 4), round(r["ci_low"], 4)
    (2.5, 0.6455, 0.4457)
    """
    from scipy import stats

    y = np.asarray(values, dtype=float)
    g = np.arange(len(y)) if groups is None else pd.factorize(pd.Series(groups).to_numpy())[0]
    ok = ~np.isnan(y)
    y, g = y[ok], g[ok]
    n = len(y)
    out = {"n": n, "n_clusters": int(len(np.unique(g))), "mean": np.nan, "sd": np.nan, "se": np.nan,
           "df": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if n == 0:
        return out
    m = float(y.mean())
    out["mean"] = m
    G = out["n_clusters"]
    if n < 2 or G < 2:
        return out
    out["sd"] = float(y.std(ddof=1))
    sums = np.bincount(g, weights=y - m)
    se = math.sqrt(G / (G - 1) * float((sums ** 2).sum())) / n
    t = float(stats.t.ppf((1 + level) / 2, G - 1))
    out.update(se=se, df=float(G - 1), ci_low=m - t * se, ci_high=m + t * se)
    return out


def welch_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, *,
               level: float = 0.95) -> dict[str, float]:
    """Difference of means ``mean(a) - mean(b)`` with Welch's t confidence interval.

    Returns
    -------
    dict
        ``diff``, ``se``, ``df`` (Welch-Satterthwaite), ``ci_low``, ``ci_high``, ``p``.

    Notes
    -----
    :math:`\\mathrm{se}^2 = s_a^2/n_a + s_b^2/n_b`, :math:`\\nu = \\mathrm{se}^4 /
    \\big((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)\\big)`.  Observations are
    treated as independent (repeated surveys of one respondent are not clustered).

    Examples
    --------
    >>> r = welch_diff([1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 2.0])
    >>> round(r["diff"], 3), round(r["df"], 2)
    (0.5, 3.0)
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    out = {"diff": np.nan, "se": np.nan, "df": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    if len(a) == 0 or len(b) == 0:
        return out
    out["diff"] = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return out
    df = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    se = math.sqrt(se2)
    t = float(stats.t.ppf((1 + level) / 2, df))
    p = float(2 * stats.t.sf(abs(out["diff"]) / se, df))
    out.update(se=se, df=float(df), ci_low=out["diff"] - t * se, ci_high=out["diff"] + t * se, p=p)
    return out


def ci_frame(df: pd.DataFrame, by: list[str], cols: Sequence[str], *, level: float) -> pd.DataFrame:
    """Long table of cluster-robust mean CIs of ``cols`` per group of ``by``."""
    rows = []
    groups = df.groupby(by, sort=True, observed=True, dropna=False) if by else [((), df)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        for c in cols:
            ok = sub[c].notna()
            r = mean_ci(sub.loc[ok, c], groups=sub.loc[ok, "respondent_id"], level=level)
            rows.append({**dict(zip(by, key, strict=True)), "score": score_label(c), "n_surveys": r["n"],
                         "n_respondents": r["n_clusters"], "mean": r["mean"], "sd": r["sd"], "se": r["se"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows, columns=[*by, "score", "n_surveys", "n_respondents", "mean", "sd", "se", "ci_low",
                                       "ci_high"])
