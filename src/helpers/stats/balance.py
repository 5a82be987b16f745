"""Covariate balance between mentored and comparison returnees: standardised differences and
clustered tests per covariate (:func:`balance_table`) and the joint orthogonality test.

Imports: helpers.stats.contract, helpers.stats.prep only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .contract import CR1_COV, HC1_COV
from .prep import as_binary, clean_frame, full_rank, group_codes, is_numeric, require_columns


def _wstats(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and SD (analytic weights, as Stata's ``summarize [aw]``)."""
    n = len(x)
    if n == 0:
        return np.nan, np.nan
    m = float(np.sum(w * x) / np.sum(w))
    if n < 2:
        return m, np.nan
    var = float(np.sum(w * (x - m) ** 2) / np.sum(w)) * n / (n - 1)
    return m, math.sqrt(var)


def _ols_fit(y: np.ndarray, x: np.ndarray, *, weights: np.ndarray | None, groups: np.ndarray | None):
    import statsmodels.api as sm

    mod = sm.WLS(y, x, weights=weights) if weights is not None else sm.OLS(y, x)
    if groups is not None:
        return mod.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    return mod.fit(cov_type="HC1", use_t=True)


def _balance_columns(df: pd.DataFrame, variables: Sequence[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Numeric balance columns: numeric variables as they are, categorical ones as 0/1 per level."""
    cols: dict[str, pd.Series] = {}
    joint: list[str] = []
    for v in variables:
        s = df[v]
        if is_numeric(s):
            cols[v] = s.astype("Float64").astype("float64") if pd.api.types.is_extension_array_dtype(s.dtype) \
                else s.astype(float)
            joint.append(v)
        else:
            obj = s.astype(object).where(s.notna(), np.nan)
            levels = sorted(pd.unique(obj.dropna()), key=str)
            for k, lev in enumerate(levels):
                name = f"{v}={lev}"
                cols[name] = pd.Series(np.where(obj.isna(), np.nan, (obj == lev).astype(float)), index=df.index)
                if k > 0:
                    joint.append(name)
    return pd.DataFrame(cols, index=df.index), list(cols), joint


def balance_table(df: pd.DataFrame, group: str, variables: Sequence[str], *, weights: str | None = None,
                  cluster: str | None = None, entity: str | None = None) -> pd.DataFrame:
    """Balance of ``variables`` between ``group == 1`` and ``group == 0`` (after iebaltab).

    Parameters
    ----------
    df
        Any data.
    group
        A 0/1 (or boolean) column; 1 is the treated group.
    variables
        Numeric columns; a non-numeric column becomes one 0/1 row per level
        (``"sex=F"``), the first level being left out of the joint test.
    weights
        Optional column of analytic/probability weights (means, SDs and the
        regressions are weighted).
    cluster
        Optional cluster column for the p-values and the joint test.
    entity
        Optional respondent column: adds the respondent counts disclosure control
        needs (see Returns).

    Returns
    -------
    pandas.DataFrame
        One row per variable: ``variable, n_control, mean_control, sd_control,
        n_treated, mean_treated, sd_treated, difference, normalized_difference,
        std_error, p_value, n_clusters, cov_type``.  ``attrs["joint_test"]`` holds
        the joint test (as :func:`joint_orthogonality` returns it, as a dict).
        With ``entity``, also ``n_respondents_control``/``n_respondents_treated``
        (distinct respondents behind each group's mean) and
        ``min_cell_control``/``min_cell_treated``: for a 0/1 row (a category level,
        or a 0/1 variable) the respondents in the smaller of its two cells (value 1
        or value 0) in that group, since a share reveals both; for other variables
        the group's respondents.  ``attrs["count_cols"]`` names these four.

    Notes
    -----
    Each variable uses its own non-missing rows.  Means and SDs are weighted like
    Stata's ``summarize [aw]`` (:math:`s^2 = \\frac{n}{n-1} \\sum w(x-\\bar x)^2 / \\sum w`),
    plain sample SDs without weights.  ``difference`` is
    :math:`\\bar x_1 - \\bar x_0`; ``normalized_difference`` is Imbens & Rubin's
    :math:`(\\bar x_1 - \\bar x_0) / \\sqrt{(s_1^2 + s_0^2)/2}` (|value| > 0.25 is the
    usual flag).  The p-value is that of the slope of the (weighted) OLS of the
    variable on the group dummy, cluster-robust CR1 with t(G - 1) when ``cluster``
    is given, else HC1 with t(N - 2): iebaltab with ``vce(cluster)`` /
    ``vce(robust)``.  The joint test is an F-test; see :func:`joint_orthogonality`.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1], "x": [1.0, 2, 3, 2, 4, 6]})
    >>> b = balance_table(d, "t", ["x"])
    >>> b[["mean_control", "mean_treated", "difference"]].round(3).values.tolist()
    [[2.0, 4.0, 2.0]]
    >>> round(float(b.loc[0, "normalized_difference"]), 4)
    1.2649
    """
    require_columns(df, [group, *variables, *(c for c in (weights, cluster, entity) if c)], "balance_table")
    g = as_binary(df[group], group)
    ent = None if entity is None else pd.Series(df[entity].to_numpy())
    w_all = np.ones(len(df)) if weights is None else pd.to_numeric(df[weights], errors="coerce").to_numpy(float)
    num, names, joint = _balance_columns(df, variables)
    gr_all = None if cluster is None else df[cluster]
    rows = []
    for name in names:
        x = num[name].to_numpy(dtype=float)
        ok = ~np.isnan(x) & ~np.isnan(g) & np.isfinite(w_all) & (w_all > 0)
        if gr_all is not None:
            ok &= gr_all.notna().to_numpy()
        x1, x0 = x[ok & (g == 1)], x[ok & (g == 0)]
        w1, w0 = w_all[ok & (g == 1)], w_all[ok & (g == 0)]
        m1, s1 = _wstats(x1, w1)
        m0, s0 = _wstats(x0, w0)
        pooled = math.sqrt((s1 ** 2 + s0 ** 2) / 2) if np.isfinite(s1) and np.isfinite(s0) else np.nan
        nd = (m1 - m0) / pooled if pooled and np.isfinite(pooled) and pooled > 0 else np.nan
        se = p = np.nan
        n_cl = None
        if len(x1) and len(x0) and len(x1) + len(x0) > 2:
            xx = np.column_stack([np.ones(ok.sum()), g[ok]])
            grp = None if gr_all is None else group_codes(gr_all[ok])
            n_cl = None if grp is None else int(grp.max() + 1)
            if grp is None or n_cl > 1:
                res = _ols_fit(x[ok], xx, weights=None if weights is None else w_all[ok], groups=grp)
                with warnings.catch_warnings():  # a degenerate variable (no variation) gives NaN, not a warning
                    warnings.simplefilter("ignore", RuntimeWarning)
                    se, p = float(res.bse[1]), float(res.pvalues[1])
        row = {"variable": name, "n_control": len(x0), "mean_control": m0, "sd_control": s0,
               "n_treated": len(x1), "mean_treated": m1, "sd_treated": s1, "difference": m1 - m0,
               "normalized_difference": nd, "std_error": se, "p_value": p, "n_clusters": n_cl,
               "cov_type": CR1_COV.format(c=cluster) if cluster else HC1_COV}
        if ent is not None:
            binary = bool(np.isin(x[ok], (0.0, 1.0)).all())
            for label, mask in (("control", ok & (g == 0)), ("treated", ok & (g == 1))):
                n_all = int(ent[mask].nunique())
                row[f"n_respondents_{label}"] = n_all
                if binary:
                    ones = int(ent[mask & (x == 1)].nunique())
                    zeros = int(ent[mask & (x == 0)].nunique())
                    row[f"min_cell_{label}"] = min(ones, zeros)
                else:
                    row[f"min_cell_{label}"] = n_all
        rows.append(row)
    out = pd.DataFrame(rows)
    out["n_clusters"] = pd.array(out["n_clusters"], dtype="Int64")
    if ent is not None:
        out.attrs["count_cols"] = ["n_respondents_control", "n_respondents_treated", "min_cell_control",
                                   "min_cell_treated"]
    jdf = num.assign(**{group: g})
    if weights is not None:
        jdf[weights] = w_all
    if cluster is not None:
        jdf[cluster] = df[cluster]
    jt = joint_orthogonality(jdf, group, joint, weights=weights, cluster=cluster)
    out.attrs["joint_test"] = jt.iloc[0].to_dict()
    return out


def joint_orthogonality(df: pd.DataFrame, group: str, variables: Sequence[str], *,
                        weights: str | None = None, cluster: str | None = None) -> pd.DataFrame:
    """F-test that ``variables`` jointly do not predict ``group`` (iebaltab's joint test).

    Returns
    -------
    pandas.DataFrame
        One row: ``test, statistic, df_num, df_denom, p_value, n_obs, n_clusters, cov_type``.

    Notes
    -----
    OLS (linear probability model) of the 0/1 group on an intercept and all the
    numeric ``variables`` on complete cases, weighted if asked, then the Wald test
    that every slope is 0 reported as :math:`F = W/q` on (q, G - 1) degrees of
    freedom with a cluster-robust CR1 covariance, or (q, N - K) with HC1: Stata's
    ``regress group vars, vce(...)`` followed by ``test vars``.  Variables without
    variation or collinear with others are dropped before the test (``df_num`` is
    the number tested).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"t": rng.integers(0, 2, 200), "a": rng.normal(size=200), "b": rng.normal(size=200)})
    >>> r = joint_orthogonality(d, "t", ["a", "b"])
    >>> int(r.loc[0, "df_num"]), bool(r.loc[0, "p_value"] > 0.05)
    (2, True)
    """
    require_columns(df, [group, *variables, *(c for c in (weights, cluster) if c)], "joint_orthogonality")
    y = as_binary(df[group], group)
    x = clean_frame(df, list(variables)).to_numpy(dtype=float)
    w = None if weights is None else pd.to_numeric(df[weights], errors="coerce").to_numpy(float)
    ok = ~np.isnan(y) & ~np.isnan(x).any(axis=1)
    if w is not None:
        ok &= np.isfinite(w) & (w > 0)
    if cluster is not None:
        ok &= df[cluster].notna().to_numpy()
    xx, names = full_rank(np.column_stack([np.ones(ok.sum()), x[ok]]), ["const", *variables])
    q = len(names) - 1
    grp = None if cluster is None else group_codes(df.loc[ok, cluster])
    row = {"test": "F-test: all slopes of group on the variables are 0", "statistic": np.nan, "df_num": q,
           "df_denom": np.nan, "p_value": np.nan, "n_obs": int(ok.sum()),
           "n_clusters": None if grp is None else int(grp.max() + 1),
           "cov_type": CR1_COV.format(c=cluster) if cluster else HC1_COV}
    if q > 0 and ok.sum() > len(names):
        res = _ols_fit(y[ok], xx, weights=None if w is None else w[ok], groups=grp)
        r = np.eye(len(names))[1:]
        ft = res.f_test(r)
        row.update(statistic=float(np.squeeze(ft.fvalue)), df_denom=float(ft.df_denom), p_value=float(ft.pvalue))
    out = pd.DataFrame([row])
    out["n_clusters"] = pd.array(out["n_clusters"], dtype="Int64")
    return out
