"""Selection on observables: OLS with country fixed effects (:func:`fit_ols`), the pooled panel
regression, the propensity score, IPW and AIPW with the M-estimation sandwich, and the overlap table.

Imports: helpers.design, helpers.stats.contract, helpers.stats.covariance, helpers.stats.prep only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..design import c_only_columns, formula_columns, formula_rows, patsy_categories, patsy_env
from .contract import CR1_COV, HC1_COV, M_COV, M_COV_HC0, NONROBUST_COV, tidy
from .covariance import use_fast_cov_cluster, wcross
from .prep import (
    as_binary,
    clean_frame,
    dummy_design,
    full_rank,
    group_codes,
    require_columns,
    warn_few_clusters,
    with_months,
)


def fit_ols(df: pd.DataFrame, formula: str, *, cluster: str | None = None, weights: str | None = None,
            cov_type: str | None = None, estimator: str = "ols", level: float = 0.95):
    """Fit an OLS (or WLS) formula with a cluster-robust covariance; tidy row per term.

    Parameters
    ----------
    df
        Any data; missing values in the formula's columns drop the row.
    formula
        A patsy formula, e.g. ``"y ~ x + C(country)"`` (fixed effects as ``C()``).
    cluster
        Cluster column (e.g. ``"respondent_id"``).
    weights
        Column of weights (WLS point estimates; with a robust covariance they act
        as probability weights, as Stata's ``[pw]``).
    cov_type
        ``None``: ``"cluster"`` when ``cluster`` is given, else ``"HC1"``; or
        ``"nonrobust"`` (textbook OLS standard errors), ``"HC0"`` ... ``"HC3"``.
    estimator
        Label of the rows.

    Returns
    -------
    frame : pandas.DataFrame
        :data:`TIDY_COLUMNS` + ``term``, one row per coefficient.
    results : statsmodels RegressionResults

    Notes
    -----
    :math:`\\hat\\beta = (X'WX)^{-1}X'Wy`.  Cluster-robust CR1:
    :math:`\\frac{G}{G-1}\\frac{N-1}{N-K}(X'X)^{-1}\\sum_g X_g'u_gu_g'X_g(X'X)^{-1}` with
    t(G - 1) inference (statsmodels ``cov_type="cluster", use_t=True``; Stata
    ``regress, vce(cluster)``).  HC1 uses :math:`N/(N-K)` and t(N - K).

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 5.1, 5.8], "x": [1, 2, 3, 4, 5, 6],
    ...                   "g": ["a", "a", "b", "b", "c", "c"]})
    >>> t, res = fit_ols(d, "y ~ x")
    >>> t[["term", "estimate"]].round(3).values.tolist()
    [['Intercept', 0.087], ['x', 0.98]]
    >>> t.loc[1, "cov_type"]
    'heteroskedasticity-robust HC1, t(N-K)'
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     t, res = fit_ols(d, "y ~ x", cluster="g")
    >>> int(t.loc[1, "n_clusters"]), t.loc[1, "cov_type"], "unreliable" in str(w[0].message)
    (3, 'cluster-robust CR1 by g, t(G-1)', True)
    """
    import statsmodels.formula.api as smf

    extra = [c for c in (cluster, weights) if c]
    require_columns(df, extra, "fit_ols")
    cols = list(dict.fromkeys(formula_columns(formula, df) + extra))
    data = clean_frame(df, cols).reset_index(drop=True)  # positional rows: the index may repeat labels
    if extra:
        data = data.dropna(subset=extra)
    categorical = c_only_columns(formula, data)
    env = patsy_env()
    data = data.loc[formula_rows(formula, patsy_categories(data, categorical), env)]
    design = patsy_categories(data, categorical)  # levels of the rows used, as patsy would find them
    if weights:
        model = smf.wls(formula, data=design, weights=data[weights].to_numpy(float), eval_env=env)
    else:
        model = smf.ols(formula, data=design, eval_env=env)
    kind = cov_type or ("cluster" if cluster else "HC1")
    n_cl = None
    if kind == "cluster":
        if not cluster:
            raise ValueError("cov_type='cluster' needs a cluster column")
        grp = group_codes(data[cluster])
        n_cl = int(grp.max() + 1)
        warn_few_clusters(n_cl, cluster)
        res = model.fit(cov_type="cluster", cov_kwds={"groups": grp}, use_t=True)
        label, dof = CR1_COV.format(c=cluster), n_cl - 1
    else:
        res = model.fit(cov_type=kind, use_t=True)
        label = {"nonrobust": NONROBUST_COV, "HC1": HC1_COV}.get(kind, f"heteroskedasticity-robust {kind}, t(N-K)")
        dof = res.df_resid
    outcome = formula.split("~")[0].strip()
    frame = tidy(res.params, res.bse, outcome=outcome, estimator=estimator, n_obs=int(res.nobs), n_clusters=n_cl,
                 cov_type=label, df=dof, level=level)
    return frame, res


def fit_panel(df: pd.DataFrame, formula: str, *, entity: str, time: str, model: str = "fe",
              cov_type: str = "unadjusted", cluster_entity: bool = False, level: float = 0.95):
    """Fit a linearmodels panel model (pooled, random or fixed effects); tidy row per term.

    Parameters
    ----------
    df
        Long data with ``entity`` and ``time`` columns (time numeric or dates).
    formula
        linearmodels formula, e.g. ``"y ~ 1 + x + C(year)"``; for ``model="fe"``
        ``+ EntityEffects`` is appended (absorbed regressors are dropped, with a
        warning naming them).
    model
        ``"pooled"``, ``"re"`` (``RandomEffects``) or ``"fe"`` (``PanelOLS``).
    cov_type
        linearmodels covariance (``"unadjusted"``: textbook standard errors;
        ``"clustered"`` with ``cluster_entity=True``).

    Returns
    -------
    frame : pandas.DataFrame
        :data:`TIDY_COLUMNS` + ``term``; estimator ``panel_<model>``.
    results : linearmodels results (``results.theta`` for RE).

    Notes
    -----
    RE is the feasible GLS of linearmodels (Swamy-Arora variance components),
    quasi-demeaning by :math:`\\hat\\theta_i = 1 - \\sqrt{\\sigma^2_u/(\\sigma^2_u + T_i\\sigma^2_a)}`.
    Inference uses t with the model's residual degrees of freedom.

    Examples
    --------
    >>> from linearmodels.datasets import wage_panel
    >>> w = wage_panel.load()
    >>> t, res = fit_panel(w, "lwage ~ 1 + married + union", entity="nr", time="year", model="fe")
    >>> t.set_index("term").loc["union", "estimate"].round(3)
    np.float64(0.07)
    """
    from linearmodels import PanelOLS, PooledOLS, RandomEffects

    use_fast_cov_cluster()
    require_columns(df, [entity, time], "fit_panel")
    cols = list(dict.fromkeys([entity, time, *formula_columns(formula, df)]))
    data = df[cols].set_index([entity, time], drop=False)  # the formula may use the time column (C(year))
    data.index.names = [f"__{entity}", f"__{time}"]
    cfg: dict[str, Any] = {"cov_type": cov_type}
    if cov_type == "clustered" and cluster_entity:
        cfg["cluster_entity"] = True
    if model == "pooled":
        res = PooledOLS.from_formula(formula, data).fit(**cfg)
    elif model == "re":
        res = RandomEffects.from_formula(formula, data).fit(**cfg)
    elif model == "fe":
        res = PanelOLS.from_formula(f"{formula} + EntityEffects", data, drop_absorbed=True).fit(**cfg)
    else:
        raise ValueError(f"model must be 'pooled', 're' or 'fe', got {model!r}")
    n_cl = int(res.entity_info["total"]) if cov_type == "clustered" and cluster_entity else None
    frame = tidy(res.params, res.std_errors, outcome=formula.split("~")[0].strip(), estimator=f"panel_{model}",
                 n_obs=int(res.nobs), n_clusters=n_cl, cov_type=f"linearmodels {cov_type}",
                 df=float(res.df_resid), level=level)
    return frame, res


@dataclass
class IPWResult:
    """Details of an IPW/AIPW fit (the tidy frame carries the estimate)."""

    estimator: str
    estimate: float
    std_error: float
    mu1: float
    mu0: float
    n_obs: int
    n_clusters: int | None
    n_trimmed: int
    propensity: pd.Series = field(repr=False)
    influence: np.ndarray = field(repr=False)
    covariates: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _logit_fit(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Logit coefficients by Newton-Raphson with step halving."""
    from scipy.special import expit

    gamma = np.zeros(x.shape[1])
    gamma[0] = math.log(max(t.mean(), 1e-6) / max(1 - t.mean(), 1e-6))

    def loglik(g: np.ndarray) -> float:
        z = x @ g
        return float(np.sum(t * z - np.logaddexp(0.0, z)))

    ll = loglik(gamma)
    for _ in range(100):
        p = expit(x @ gamma)
        grad = x.T @ (t - p)
        hess = wcross(x, p * (1 - p))
        step = np.linalg.solve(hess + 1e-12 * np.eye(len(gamma)), grad)
        s = 1.0
        while s > 1e-8:
            new = gamma + s * step
            ll_new = loglik(new)
            if ll_new >= ll - 1e-12:
                break
            s /= 2
        gamma, ll_old, ll = new, ll, ll_new
        if np.max(np.abs(s * step)) < 1e-10 or abs(ll - ll_old) < 1e-12:
            break
    return gamma


def _drop_separating(x: np.ndarray, names: list[str], t: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop 0/1 columns one of whose values occurs in one treatment group only (they separate the groups).

    Such a level (e.g. a country of migration with no mentored returnee) sends its
    logit coefficient to infinity and its propensity to 0 or 1; dropping the column
    merges the level into the reference.  Returns the kept design, its names and
    the names dropped.
    """
    drop = []
    for j in range(1, x.shape[1]):
        col = x[:, j]
        if not np.isin(col, (0.0, 1.0)).all():
            continue
        for v in (0.0, 1.0):
            tv = t[col == v]
            if len(tv) and (tv.min() == tv.max()):
                drop.append(j)
                break
    if not drop:
        return x, names, []
    keep = [j for j in range(x.shape[1]) if j not in drop]
    return x[:, keep], [names[j] for j in keep], [names[j] for j in drop]


def _separating_note(dropped: Sequence[str]) -> str:
    if not dropped:
        return ""
    return (f"{', '.join(dropped)} occur(s) in one group only: left out of the propensity model (rows pooled with "
            "the reference level)")


def _te_core(y: np.ndarray, t: np.ndarray, x: np.ndarray, groups: np.ndarray | None, *,
             augmented: bool) -> dict[str, Any]:
    """IPW (Hajek) or AIPW ATE with the stacked M-estimation sandwich."""
    from scipy.special import expit

    n, k = x.shape
    gamma = _logit_fit(t, x)
    p = expit(x @ gamma)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("estimated propensity scores of 0 or 1: the covariates separate the groups perfectly")
    score_g = (t - p)[:, None] * x
    jac_gg = -wcross(x, p * (1 - p)) / n
    if augmented:
        # outcome regressions within each group, on the columns of full rank there
        idx = [str(j) for j in range(k)]
        x1 = x[:, [int(j) for j in full_rank(x[t == 1], idx)[1]]]
        x0 = x[:, [int(j) for j in full_rank(x[t == 0], idx)[1]]]
        k1, k0 = x1.shape[1], x0.shape[1]
        b1 = np.linalg.lstsq(x1[t == 1], y[t == 1], rcond=None)[0]
        b0 = np.linalg.lstsq(x0[t == 0], y[t == 0], rcond=None)[0]
        m1, m0 = x1 @ b1, x0 @ b0
        r1, r0 = t * (y - m1), (1 - t) * (y - m0)
        a1 = m1 + r1 / p
        a0 = m0 + r0 / (1 - p)
        mu1, mu0 = float(a1.mean()), float(a0.mean())
        psi = np.column_stack([score_g, r1[:, None] * x1, r0[:, None] * x0, a1 - mu1, a0 - mu0])
        e1, e0 = k + k1, k + k1 + k0  # ends of the two outcome blocks
        dim = e0 + 2
        jac = np.zeros((dim, dim))
        jac[:k, :k] = jac_gg
        jac[k:e1, k:e1] = -wcross(x1, t) / n
        jac[e1:e0, e1:e0] = -wcross(x0, 1 - t) / n
        jac[e0, :k] = (r1 * (-(1 - p) / p)) @ x / n
        jac[e0, k:e1] = (1 - t / p) @ x1 / n
        jac[e0, e0] = -1.0
        jac[e0 + 1, :k] = (r0 * (p / (1 - p))) @ x / n
        jac[e0 + 1, e1:e0] = (1 - (1 - t) / (1 - p)) @ x0 / n
        jac[e0 + 1, e0 + 1] = -1.0
    else:
        w1, w0 = t / p, (1 - t) / (1 - p)
        mu1 = float(np.sum(w1 * y) / np.sum(w1))
        mu0 = float(np.sum(w0 * y) / np.sum(w0))
        psi = np.column_stack([score_g, w1 * (y - mu1), w0 * (y - mu0)])
        dim = k + 2
        jac = np.zeros((dim, dim))
        jac[:k, :k] = jac_gg
        jac[k, :k] = (t * (y - mu1) * (-(1 - p) / p)) @ x / n
        jac[k, k] = -w1.mean()
        jac[k + 1, :k] = ((1 - t) * (y - mu0) * (p / (1 - p))) @ x / n
        jac[k + 1, k + 1] = -w0.mean()
    infl = -np.linalg.solve(jac, psi.T).T  # n x dim influence functions
    phi = infl[:, -2] - infl[:, -1]
    if groups is None:
        var = float(np.sum(phi ** 2)) / n ** 2
        n_cl = None
    else:
        sums = np.bincount(groups, weights=phi)
        n_cl = len(sums)
        var = float(np.sum(sums ** 2)) / n ** 2 * n_cl / (n_cl - 1)
    return {"estimate": mu1 - mu0, "se": math.sqrt(var), "mu1": mu1, "mu0": mu0, "p": p, "phi": phi,
            "n_clusters": n_cl}


def _te_data(df: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str],
             cluster: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray | None, pd.Index]:
    covariates = list(covariates)
    df = with_months(df, covariates)
    require_columns(df, [outcome, treatment, *covariates, *([cluster] if cluster else [])], "IPW/AIPW")
    t = as_binary(df[treatment], treatment)
    y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    xd = dummy_design(df, covariates)
    ok = ~np.isnan(t) & ~np.isnan(y) & ~xd.isna().any(axis=1).to_numpy()
    if cluster:
        ok &= df[cluster].notna().to_numpy()
    x = np.column_stack([np.ones(ok.sum()), xd.to_numpy(dtype=float)[ok]])
    x, names = full_rank(x, ["const", *xd.columns])
    groups = group_codes(df.loc[ok, cluster]) if cluster else None
    return y[ok], t[ok], x, names, groups, df.index[ok]


def _fit_te(df: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str], *, cluster: str | None,
            trim: float | None, level: float, augmented: bool) -> tuple[pd.DataFrame, IPWResult]:
    name = "aipw" if augmented else "ipw"
    y, t, x, names, groups, index = _te_data(df, outcome, treatment, covariates, cluster)
    if t.sum() < 2 or (1 - t).sum() < 2:
        raise ValueError(f"{name}: need at least 2 treated and 2 control rows with complete data; "
                         f"found {int(t.sum())} and {int((1 - t).sum())}")
    x, names, dropped = _drop_separating(x, names, t)
    n_trim = 0
    if trim is not None:
        if not 0 < trim < 0.5:
            raise ValueError(f"trim must be in (0, 0.5), got {trim!r}")
        from scipy.special import expit

        p0 = expit(x @ _logit_fit(t, x))
        keep = (p0 >= trim) & (p0 <= 1 - trim)
        n_trim = int((~keep).sum())
        y, t, index = y[keep], t[keep], index[keep]
        x, names = full_rank(x[keep], names)
        x, names, more = _drop_separating(x, names, t)
        dropped += more
        groups = None if groups is None else pd.factorize(groups[keep])[0]
    core = _te_core(y, t, x, groups, augmented=augmented)
    n_cl = core["n_clusters"]
    cov = M_COV.format(c=cluster) if cluster else M_COV_HC0
    frame = tidy(core["estimate"], core["se"], outcome=outcome, estimator=name, n_obs=len(y), n_clusters=n_cl,
                 cov_type=cov, df=None if n_cl is None else n_cl - 1, level=level,
                 extra={"estimand": "ATE", "n_trimmed": n_trim, "trim": trim, "note": _separating_note(dropped)})
    frame["term"] = treatment
    res = IPWResult(estimator=name, estimate=core["estimate"], std_error=core["se"], mu1=core["mu1"],
                    mu0=core["mu0"], n_obs=len(y), n_clusters=n_cl, n_trimmed=n_trim,
                    propensity=pd.Series(core["p"], index=index, name="propensity"), influence=core["phi"],
                    covariates=names[1:], dropped=dropped)
    return frame, res


def fit_ipw(df: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str], *,
            cluster: str | None = None, trim: float | None = None, level: float = 0.95):
    """Estimate the ATE by inverse-probability weighting with normalised (Hajek) weights.

    Parameters
    ----------
    df
        Any data; rows with a missing outcome, treatment, covariate or cluster are dropped.
    outcome, treatment
        Outcome column and 0/1 treatment column.
    covariates
        Columns of the logit propensity model (numeric as they are; others as
        dummies, first level dropped); an intercept is added.  Country or wave
        fixed effects: list ``"country"`` / ``"wave"`` (as strings) here.
    cluster
        Cluster column for the standard error (e.g. ``"respondent_id"``).
    trim
        Drop rows whose estimated propensity is outside ``[trim, 1 - trim]``
        (Crump et al. 2009 use 0.1) and re-estimate everything on the rest; the
        estimand becomes the ATE of the overlap population.

    Returns
    -------
    frame : pandas.DataFrame
        One row (:data:`TIDY_COLUMNS`, ``term``, ``estimand``, ``n_trimmed``, ``trim``, ``note``).
    result : IPWResult

    Notes
    -----
    Estimand: the average treatment effect (ATE).  With :math:`p_i = \\Lambda(x_i'\\gamma)`
    from a logit, :math:`\\hat\\mu_1 = \\sum t_i y_i/p_i / \\sum t_i/p_i`,
    :math:`\\hat\\mu_0 = \\sum (1-t_i) y_i/(1-p_i) / \\sum (1-t_i)/(1-p_i)`,
    :math:`\\widehat{ATE} = \\hat\\mu_1 - \\hat\\mu_0` (the WLS form of statsmodels'
    ``TreatmentEffect.ipw``).  Standard error: the logit score and the two mean
    equations are stacked and the sandwich :math:`J^{-1} B J^{-T}/n` computed with
    analytic :math:`J`, so the estimated propensity is accounted for; :math:`B` sums
    the estimating functions within clusters (times G/(G - 1)), t(G - 1).  Without
    ``cluster`` it is HC0 with normal inference, matching statsmodels' GMM.
    Identification needs selection on the covariates only (no unobservable
    that drives both treatment and outcome) and overlap (:func:`overlap_table`).
    A 0/1 covariate column one of whose values occurs in one group only (e.g. a
    rare category with no treated row) would separate the groups perfectly: it is
    left out (its rows pooled with the reference level) and the row's ``note``
    says so (``result.dropped`` lists it).  AIPW's outcome regressions use, within
    each group, the columns of full rank there.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=2000)
    >>> t = (rng.random(2000) < 1 / (1 + np.exp(-x))).astype(int)
    >>> d = pd.DataFrame({"x": x, "t": t, "y": 1.0 + 0.5 * t + x + rng.normal(size=2000)})
    >>> f, r = fit_ipw(d, "y", "t", ["x"])
    >>> bool(f.loc[0, "ci_lower"] < 0.5 < f.loc[0, "ci_upper"]), f.loc[0, "estimand"]
    (True, 'ATE')
    """
    return _fit_te(df, outcome, treatment, covariates, cluster=cluster, trim=trim, level=level, augmented=False)


def fit_aipw(df: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str], *,
             cluster: str | None = None, trim: float | None = None, level: float = 0.95):
    """Estimate the ATE by augmented IPW (doubly robust).

    Parameters and returns are those of :func:`fit_ipw`.

    Notes
    -----
    Outcome regressions :math:`m_d(x) = x'\\beta_d` by OLS within each treatment
    group (the covariates of the propensity model), then

    .. math:: \\hat\\mu_1 = \\frac1n\\sum \\Big[m_1(x_i) + \\frac{t_i (y_i - m_1(x_i))}{p_i}\\Big],\\quad
              \\hat\\mu_0 = \\frac1n\\sum \\Big[m_0(x_i) + \\frac{(1-t_i)(y_i - m_0(x_i))}{1 - p_i}\\Big],

    :math:`\\widehat{ATE} = \\hat\\mu_1 - \\hat\\mu_0`, consistent when either the
    propensity or the outcome model is right; statsmodels' ``TreatmentEffect.aipw``.
    Standard error from the stacked M-estimation (logit, both OLS, both means) as
    in :func:`fit_ipw`.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=2000)
    >>> t = (rng.random(2000) < 1 / (1 + np.exp(-x))).astype(int)
    >>> d = pd.DataFrame({"x": x, "t": t, "y": 0.5 * t + 2 * x + rng.normal(size=2000)})
    >>> f, r = fit_aipw(d, "y", "t", ["x"])
    >>> bool(abs(f.loc[0, "estimate"] - 0.5) < 3 * f.loc[0, "std_error"])
    True
    """
    return _fit_te(df, outcome, treatment, covariates, cluster=cluster, trim=trim, level=level, augmented=True)


def propensity_score(df: pd.DataFrame, treatment: str, covariates: Sequence[str], *,
                     fe: Sequence[str] = ()) -> pd.Series:
    """Logit propensity score of ``treatment`` on ``covariates`` (NaN where a covariate is missing).

    ``fe`` columns (e.g. ``("country", "wave")``) enter as categories (one dummy
    per level but the first), as in the models of :func:`mentoring_effects`.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1, 0, 1, 1, 0], "x": [0.0, 1, 1, 2, 0, 1]})
    >>> propensity_score(d, "t", ["x"]).round(2).tolist()
    [0.35, 0.53, 0.53, 0.7, 0.35, 0.53]
    """
    from scipy.special import expit

    covariates = list(covariates)
    df = with_months(df, covariates)
    require_columns(df, [treatment, *covariates, *fe], "propensity_score")
    if fe:
        df = df.assign(**{c: df[c].astype(str).where(df[c].notna(), np.nan) for c in fe})
        covariates = [*covariates, *(c for c in fe if c not in covariates)]
    t = as_binary(df[treatment], treatment)
    xd = dummy_design(df, covariates)
    ok = ~np.isnan(t) & ~xd.isna().any(axis=1).to_numpy()
    x, names = full_rank(np.column_stack([np.ones(ok.sum()), xd.to_numpy(dtype=float)[ok]]),
                          ["const", *xd.columns])
    x, _, dropped = _drop_separating(x, names, t[ok])
    out = pd.Series(np.nan, index=df.index, name="propensity")
    out[ok] = expit(x @ _logit_fit(t[ok], x))
    out.attrs["dropped"] = dropped
    return out


def overlap_table(df: pd.DataFrame, treatment: str, covariates: Sequence[str], *,
                  bounds: tuple[float, float] = (0.05, 0.95), fe: Sequence[str] = (),
                  entity: str | None = None) -> pd.DataFrame:
    """Propensity-score overlap diagnostics by treatment group.

    Parameters
    ----------
    fe
        Columns entering the propensity model as categories (see :func:`propensity_score`).
    entity
        Optional respondent column: adds ``n_respondents`` (distinct respondents
        of the group) for disclosure control.

    Returns
    -------
    pandas.DataFrame
        Rows ``treated``, ``control``, ``all``: ``n``, ``mean``, ``sd``, ``min``,
        ``p05``, ``p25``, ``median``, ``p75``, ``p95``, ``max`` of the propensity
        score, ``share_below`` / ``share_above`` / ``share_outside`` of ``bounds``,
        ``ess`` (Kish effective sample size of the ATE weights) and ``ess_share``.
        ``min`` and ``max`` are single rows' values: leave them out of published tables.
        ``note`` names covariate levels left out of the propensity model because
        they occur in one group only (see :func:`fit_ipw`).

    Notes
    -----
    ATE weights are :math:`1/p` for the treated and :math:`1/(1-p)` for controls;
    Kish's effective sample size is :math:`(\\sum w)^2 / \\sum w^2` within a group
    (for ``all`` the sum of the two groups).  A small ``ess_share`` or a large
    ``share_outside`` warns that a few observations carry the IPW estimate; trim
    with ``fit_ipw(..., trim=0.05)`` and compare.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1, 0, 1, 1, 0], "x": [0.0, 1, 1, 2, 0, 1]})
    >>> overlap_table(d, "t", ["x"]).loc["all", ["n", "share_outside"]].tolist()
    [6.0, 0.0]
    """
    if entity is not None:
        require_columns(df, [entity], "overlap_table")
    p = propensity_score(df, treatment, covariates, fe=fe)
    note = _separating_note(p.attrs.get("dropped", []))
    t = as_binary(df[treatment], treatment)
    ok = p.notna().to_numpy()
    lo, hi = bounds
    rows = {}
    ess_total = 0.0
    for name, mask in (("treated", ok & (t == 1)), ("control", ok & (t == 0)), ("all", ok)):
        x = p.to_numpy()[mask]
        if name == "all":
            ess = ess_total
        else:
            w = 1 / x if name == "treated" else 1 / (1 - x)
            ess = float(w.sum() ** 2 / np.sum(w ** 2)) if len(w) else np.nan
            ess_total += 0 if np.isnan(ess) else ess
        q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(x) else [np.nan] * 5
        rows[name] = {"n": float(len(x)), "mean": x.mean() if len(x) else np.nan,
                      "sd": x.std(ddof=1) if len(x) > 1 else np.nan, "min": x.min() if len(x) else np.nan,
                      "p05": q[0], "p25": q[1], "median": q[2], "p75": q[3], "p95": q[4],
                      "max": x.max() if len(x) else np.nan,
                      "share_below": float(np.mean(x < lo)) if len(x) else np.nan,
                      "share_above": float(np.mean(x > hi)) if len(x) else np.nan,
                      "share_outside": float(np.mean((x < lo) | (x > hi))) if len(x) else np.nan,
                      "ess": ess, "ess_share": ess / len(x) if len(x) else np.nan}
        if entity is not None:
            rows[name]["n_respondents"] = int(pd.Series(df[entity].to_numpy()[mask]).nunique())
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["note"] = note
    out.index.name = "group"
    return out
