"""How the dimensions hang together: correlations, the other dimensions on the economic one,
the cross-lagged regressions across waves and the determinants of each score.

Imports: helpers.stats.contract, helpers.stats.prep, helpers.stats.selection only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .contract import COVARIATES, TIDY_COLUMNS, concat_rows
from .prep import clean_frame, is_numeric, require_columns, term_label, with_months
from .selection import fit_ols


def dimension_correlations(df: pd.DataFrame, columns: Sequence[str], *, by: str | None = None,
                           method: str = "pearson", level: float = 0.95) -> pd.DataFrame:
    """Pairwise correlations of ``columns`` (pooled, or per level of ``by``) as tidy rows.

    Returns
    -------
    pandas.DataFrame
        One row per pair (and group): :data:`TIDY_COLUMNS` (``outcome`` the second
        column of the pair, ``estimator`` ``"<method>_correlation"``), ``term`` (the
        first column), ``group``.

    Notes
    -----
    Pairwise complete rows.  CI and p-value by Fisher's z:
    :math:`z = \\operatorname{artanh} r`, se :math:`1/\\sqrt{n-3}`, CI
    :math:`\\tanh(z \\pm q/\\sqrt{n-3})`; ``std_error`` is the delta-method
    :math:`(1 - r^2)/\\sqrt{n-3}`.  Rows are assumed independent: with several
    waves per respondent the CIs are too narrow; pass one wave (e.g. wave 1) for
    inference.  Spearman uses the same approximation on ranks.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 4, 5, 4, 5]})
    >>> round(float(dimension_correlations(d, ["a", "b"]).loc[0, "estimate"]), 3)
    0.775
    """
    from scipy import stats as st

    cols = list(columns)
    require_columns(df, cols + ([by] if by else []), "dimension_correlations")
    q = float(st.norm.ppf((1 + level) / 2))
    groups = [("all", df)] if by is None else [(str(k), g) for k, g in df.groupby(by, sort=True)]
    rows = []
    for name, g in groups:
        for i, a in enumerate(cols):
            for b in cols[i + 1:]:
                sub = clean_frame(g, [a, b]).dropna()
                n = len(sub)
                r = np.nan
                if n >= 3 and sub[a].std() > 0 and sub[b].std() > 0:
                    r = float(sub[a].corr(sub[b], method=method))
                rr = min(max(r, -0.999999), 0.999999) if np.isfinite(r) else np.nan
                se_z = 1 / math.sqrt(n - 3) if n > 3 else np.nan
                z = math.atanh(rr) if np.isfinite(rr) else np.nan
                p = float(2 * st.norm.sf(abs(z) / se_z)) if np.isfinite(z) and np.isfinite(se_z) else np.nan
                rows.append({"outcome": b, "estimator": f"{method}_correlation", "estimate": r,
                             "std_error": (1 - r ** 2) * se_z if np.isfinite(r) else np.nan,
                             "ci_lower": math.tanh(z - q * se_z) if np.isfinite(z * se_z) else np.nan,
                             "ci_upper": math.tanh(z + q * se_z) if np.isfinite(z * se_z) else np.nan,
                             "p_value": p, "n_obs": n, "n_clusters": None,
                             "cov_type": "Fisher z, independent rows", "term": a, "group": name})
    out = pd.DataFrame(rows, columns=[*TIDY_COLUMNS, "term", "group"])
    out["n_obs"] = pd.array(out["n_obs"], dtype="Int64")
    out["n_clusters"] = pd.array(out["n_clusters"], dtype="Int64")
    return out


def rhs_terms(df: pd.DataFrame, covariates: Sequence[str], fe: str | Sequence[str] | None) -> list[str]:
    terms = [term_label(c, not is_numeric(df[c])) for c in covariates]
    fes = [fe] if isinstance(fe, str) else list(fe or [])
    for f in fes:
        if df[f].nunique() > 1:
            terms.append(term_label(f, True))
    return terms


def fit_on_economic(df: pd.DataFrame, outcomes: Sequence[str] = ("score_social", "score_psychosocial"), *,
                    economic: str = "score_economic", fe: str | Sequence[str] | None = "country",
                    controls: Sequence[str] = (), cluster: str | None = "respondent_id",
                    estimator: str = "ols_on_economic", level: float = 0.95) -> pd.DataFrame:
    """Regress each outcome on the economic score with country fixed effects.

    ``estimator`` labels the rows (e.g. ``"ols_on_economic_controls"`` for a
    specification with ``controls``), so several specifications can be stacked.

    Returns
    -------
    pandas.DataFrame
        One row per outcome for the ``economic`` coefficient (:data:`TIDY_COLUMNS`,
        ``term``); estimator ``ols_on_economic``.

    Notes
    -----
    :math:`y_{id} = \\beta\\,\\mathrm{econ}_i + x_i'\\gamma + \\mu_{c(i)} + e_i`, OLS,
    cluster-robust by respondent (see :func:`fit_ols`).  An association, not an
    effect: both scores share respondent-level determinants (in the synthetic
    data the ability term), so :math:`\\beta` overstates the structural loading.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = rng.random(200)
    >>> d = pd.DataFrame({"score_economic": e, "score_social": 0.5 * e + rng.normal(0, 0.05, 200),
    ...                   "country": np.repeat(["A", "B"], 100), "respondent_id": np.arange(200)})
    >>> round(float(fit_on_economic(d, ["score_social"]).loc[0, "estimate"]), 1)
    0.5
    """
    rows = []
    for y in outcomes:
        cols = [y, economic, *controls, *([fe] if isinstance(fe, str) else list(fe or []))]
        require_columns(df, cols, "fit_on_economic")
        formula = f"{term_label(y, False)} ~ " + " + ".join([term_label(economic, False), *rhs_terms(df, controls, fe)])
        t, _ = fit_ols(df, formula, cluster=cluster, estimator=estimator, level=level)
        t = t[t["term"] == term_label(economic, False)].assign(outcome=y, term=economic)
        rows.append(t)
    return concat_rows(rows)


def cross_lagged(panel: pd.DataFrame, x: str, y: str, *, entity: str = "respondent_id", time: str = "wave",
                 controls: Sequence[str] = (), fe: str | Sequence[str] | None = "country",
                 cluster: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Cross-lagged panel regressions: does x at t-1 predict y at t beyond y at t-1, and vice versa.

    Returns
    -------
    pandas.DataFrame
        Four rows: for ``direction`` ``"x -> y"`` the model of ``y`` (terms
        ``<x>_lag`` (the cross-lag) and ``<y>_lag`` (autoregression)) and for
        ``"y -> x"`` the model of ``x``; :data:`TIDY_COLUMNS`, ``term``,
        ``direction``, ``cross_lag`` (bool).

    Notes
    -----
    Pooled OLS on consecutive periods (the lag of period t is period t - 1 of the
    same entity; other rows are dropped):
    :math:`y_{it} = a\\,y_{i,t-1} + b\\,x_{i,t-1} + z_{it}'\\gamma + \\mu_c + \\lambda_t + e_{it}`.
    Cluster-robust by entity.  No entity fixed effects: with three waves a lagged
    dependent variable with fixed effects is badly biased (Nickell 1981).  Time-
    invariant heterogeneity measured with noise by :math:`y_{i,t-1}` can make
    :math:`b` positive in both directions; compare the two cross-lags rather than
    testing one against 0.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 500
    >>> x1, y1 = rng.normal(size=n), rng.normal(size=n)
    >>> x2, y2 = 0.5 * x1 + rng.normal(size=n), 0.5 * y1 + 0.4 * x1 + rng.normal(size=n)
    >>> d = pd.DataFrame({"id": np.tile(np.arange(n), 2), "t": np.repeat([1, 2], n),
    ...                   "x": np.r_[x1, x2], "y": np.r_[y1, y2]})
    >>> cl = cross_lagged(d, "x", "y", entity="id", time="t", fe=None)
    >>> lag = cl[cl["cross_lag"]].set_index("direction")["estimate"]
    >>> round(float(lag["x -> y"]), 1), bool(abs(lag["y -> x"]) < 0.1)
    (0.4, True)
    """
    require_columns(panel, [entity, time, x, y, *controls], "cross_lagged")
    cluster = cluster or entity
    d = panel.copy()
    tm = pd.to_numeric(d[time], errors="coerce")
    prev = d[[entity, x, y]].assign(**{time: tm + 1})
    prev = prev.rename(columns={x: f"{x}_lag", y: f"{y}_lag"})
    d = d.assign(**{time: tm}).merge(prev, on=[entity, time], how="left")
    rows = []
    for a, b, direction in ((x, y, "x -> y"), (y, x, "y -> x")):
        rhs = [term_label(f"{b}_lag", False), term_label(f"{a}_lag", False), *rhs_terms(d, controls, fe)]
        if d[time].nunique() > 1:
            rhs.append(term_label(time, True))
        t, _ = fit_ols(d, f"{term_label(b, False)} ~ " + " + ".join(rhs), cluster=cluster, estimator="cross_lagged",
                       level=level)
        keep = t["term"].isin([term_label(f"{a}_lag", False), term_label(f"{b}_lag", False)])
        t = t[keep].assign(outcome=b, direction=direction)
        t["term"] = t["term"].str.replace(r"^Q\('(.*)'\)$", r"\1", regex=True)
        t["cross_lag"] = t["term"] == f"{a}_lag"
        rows.append(t.sort_values("cross_lag", ascending=False))
    return concat_rows(rows)


def determinants(df: pd.DataFrame, outcome: str, *, covariates: Sequence[str] = COVARIATES,
                 fe: str | Sequence[str] | None = "country", cluster: str | None = "respondent_id",
                 weights: str | None = None, level: float = 0.95):
    """Regress a score on its determinants with country fixed effects, cluster-robust by respondent.

    Parameters
    ----------
    covariates
        Numeric columns enter linearly, others (``sex``, ``return_from``) as
        categories; ``months_since_return`` is derived from the dates if absent.
    fe
        Fixed-effect column(s) (``C()``), default ``"country"``.
    cluster
        Default ``"respondent_id"`` (waves of one respondent are correlated).

    Returns
    -------
    frame : pandas.DataFrame
        One row per term except the intercept and fixed effects; estimator ``determinants``.
    results : statsmodels RegressionResults

    Notes
    -----
    OLS :math:`y_{it} = x_{it}'\\beta + \\mu_{c} + e_{it}`, CR1 by respondent,
    t(G - 1).  Why not cluster by country: with 17 countries the cluster-robust
    variance rests on 17 effective observations; it is biased downwards and t(16)
    over-rejects, more so with unbalanced country sizes (Cameron, Gelbach & Miller
    2008; MacKinnon & Webb 2017).  Country differences are absorbed by the fixed
    effects; a wild-cluster bootstrap by country would be the check if
    country-level shocks were a concern.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"y": rng.random(120), "age": rng.integers(18, 60, 120),
    ...                   "country": np.repeat(["A", "B", "C"], 40), "respondent_id": np.arange(120)})
    >>> t, res = determinants(d, "y", covariates=["age"])
    >>> t["term"].tolist()
    ['age']
    """
    covariates = list(covariates)
    df = with_months(df, covariates)
    fes = [fe] if isinstance(fe, str) else list(fe or [])
    require_columns(df, [outcome, *covariates, *fes], "determinants")
    formula = f"{term_label(outcome, False)} ~ " + " + ".join(rhs_terms(df, covariates, fe) or ["1"])
    t, res = fit_ols(df, formula, cluster=cluster, weights=weights, estimator="determinants", level=level)
    fe_terms = tuple(term_label(f, True) for f in fes)
    t = t[(t["term"] != "Intercept") & ~t["term"].str.startswith(fe_terms)].assign(outcome=outcome)
    return t.reset_index(drop=True), res
