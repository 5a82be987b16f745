"""Statistics of the comparative study: balance, regressions, IPW/AIPW, DiD, event study.

Every estimator takes any DataFrame and column names or a formula (not only RSS
columns), so each can be checked against published examples, and returns a tidy
frame whose first columns are exactly :data:`TIDY_COLUMNS` (one row per estimate),
usually together with the results object.  Estimation is kept apart from
formatting and plotting: nothing here prints, writes a file or calls
``plt.show()``; the ``plot_*`` functions return a :class:`matplotlib.figure.Figure`
that is not registered with pyplot.

Covariance choices (spelled out in each row's ``cov_type``)
-------------------------------------------------------------
* Cross-sectional regressions (:func:`fit_ols`, :func:`determinants`,
  :func:`balance_table`): cluster-robust CR1 by respondent with t(G - 1)
  inference, statsmodels' ``cov_type="cluster"`` with ``use_t=True``, which is
  Stata's ``regress, vce(cluster id)``; HC1 when no cluster is given.  With 17
  countries, clustering by country would rest on 17 clusters (and only three
  fieldwork countries for the mentoring effect): the cluster-robust variance is
  then biased downwards and its t(G - 1) reference unreliable (Cameron & Miller
  2015), so the workspace clusters by respondent and absorbs countries as fixed
  effects.
* IPW and AIPW (:func:`fit_ipw`, :func:`fit_aipw`): M-estimation sandwich of the
  stacked estimating equations (propensity logit, outcome regressions, potential
  outcome means), so the estimation of the propensity score is accounted for;
  cluster-robust by respondent with a G/(G - 1) factor and t(G - 1); without
  clusters it is HC0 with normal inference, statsmodels'
  ``TreatmentEffect`` GMM covariance, against which it is tested.
* Difference-in-differences (:func:`fit_did`): ``linearmodels.PanelOLS`` with
  entity and time effects, clustered by entity, ``debiased=True,
  group_debias=True, auto_df=False, count_effects=False``: the small-sample factor
  is G/(G - 1) (N - 1)/(N - K), Stata's ``xtreg, fe vce(cluster id)``; see
  :func:`fit_did` for why the absorbed effects are not counted.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .scheme import Scheme

__all__ = [
    "TIDY_COLUMNS",
    "OUTCOMES",
    "COVARIATES",
    "ESTIMATORS",
    "tidy",
    "balance_table",
    "joint_orthogonality",
    "fit_ols",
    "fit_panel",
    "propensity_score",
    "fit_ipw",
    "fit_aipw",
    "overlap_table",
    "treatment_indicator",
    "event_time",
    "fit_did",
    "event_study",
    "plot_event_study",
    "dimension_correlations",
    "fit_on_economic",
    "cross_lagged",
    "determinants",
    "did_by_group",
    "placebo_timing",
    "effects_by_scheme",
    "pca_weights",
    "scheme_weights",
    "compare_weights",
    "rescore",
    "compare_rankings",
    "cross_section",
    "mentoring_effects",
    "plot_coefficients",
    "IPWResult",
    "FEW_CLUSTERS",
]

#: The columns every estimate row starts with, in this order (extra columns follow).
TIDY_COLUMNS: tuple[str, ...] = ("outcome", "estimator", "estimate", "std_error", "ci_lower", "ci_upper",
                                 "p_value", "n_obs", "n_clusters", "cov_type")
#: Score columns the mentoring analysis reports on.
OUTCOMES: tuple[str, ...] = ("score_composite", "score_economic", "score_social", "score_psychosocial")
#: Default covariates (observed before or at return; not affected by mentoring).
COVARIATES: tuple[str, ...] = ("sex", "age", "months_since_return", "return_from", "assist_economic",
                               "assist_social", "assist_psychosocial")
#: Estimators of :func:`mentoring_effects`, in report order.
ESTIMATORS: tuple[str, ...] = ("raw_difference", "ols_fe", "ipw", "aipw", "did_panel")

_DAYS_PER_MONTH = 365.25 / 12
_CR1 = "cluster-robust CR1 by {c}, t(G-1)"
_HC1 = "heteroskedasticity-robust HC1, t(N-K)"
_NONROBUST = "conventional (homoskedastic), t(N-K)"
_DID_COV = ("cluster-robust by {c} (PanelOLS clustered, debiased, group_debias, absorbed effects not counted: "
            "G/(G-1)*(N-1)/(N-K) as Stata xtreg fe vce(cluster)), t(G-1)")
_M_COV = "M-estimation sandwich (propensity estimated), cluster-robust by {c}, G/(G-1), t(G-1)"
_M_COV_HC0 = "M-estimation sandwich (propensity estimated), HC0, normal"


# ============================================================================ tidy


def tidy(estimates: float | pd.Series | Mapping[str, float], std_errors: float | pd.Series | Mapping[str, float],
         *, outcome: str, estimator: str, n_obs: int, n_clusters: int | None = None, cov_type: str,
         df: float | None = None, level: float = 0.95,
         extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Return estimates as tidy rows: :data:`TIDY_COLUMNS`, then ``term`` and ``extra``.

    Parameters
    ----------
    estimates, std_errors
        A number, or a Series / mapping indexed by term (one row per term).
    outcome, estimator, n_obs, n_clusters, cov_type
        Written to every row (``n_clusters`` missing when there is no clustering).
    df
        Degrees of freedom of the t reference distribution; ``None`` uses the normal.
    level
        Confidence level of ``ci_lower``/``ci_upper``.
    extra
        Further columns (a scalar for every row, or one value per row).

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS` + ``term`` + the ``extra`` columns.

    Notes
    -----
    With :math:`q = F^{-1}((1 + \\mathrm{level})/2)` of t(df) or N(0, 1):
    CI :math:`= \\hat\\beta \\pm q\\,\\mathrm{se}`, p :math:`= 2(1 - F(|\\hat\\beta| / \\mathrm{se}))`.
    A zero or missing standard error gives missing CI and p-value.

    Examples
    --------
    >>> t = tidy(0.5, 0.25, outcome="y", estimator="x", n_obs=10, cov_type="iid", df=None)
    >>> list(t.columns[:10]) == list(TIDY_COLUMNS)
    True
    >>> round(float(t.loc[0, "ci_lower"]), 4), round(float(t.loc[0, "p_value"]), 4)
    (0.01, 0.0455)
    """
    from scipy import stats as st

    if isinstance(estimates, (pd.Series, Mapping)):
        est = pd.Series(estimates, dtype=float)
        se = pd.Series(std_errors, dtype=float).reindex(est.index)
        terms = [str(t) for t in est.index]
    else:
        est = pd.Series([float(estimates)])
        se = pd.Series([float(std_errors)])
        terms = [None]
    b = est.to_numpy(dtype=float)
    s = se.to_numpy(dtype=float)
    ok = np.isfinite(s) & (s > 0)
    dist = st.t(df) if df is not None and np.isfinite(df) and df > 0 else st.norm()
    q = float(dist.ppf((1 + level) / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(ok, 2 * dist.sf(np.abs(b) / np.where(ok, s, 1.0)), np.nan)
    out = pd.DataFrame({
        "outcome": outcome,
        "estimator": estimator,
        "estimate": b,
        "std_error": np.where(ok | (s == 0), s, np.nan),
        "ci_lower": np.where(ok, b - q * s, np.nan),
        "ci_upper": np.where(ok, b + q * s, np.nan),
        "p_value": p,
        "n_obs": pd.array([n_obs] * len(b), dtype="Int64"),
        "n_clusters": pd.array([n_clusters] * len(b), dtype="Int64"),
        "cov_type": cov_type,
        "term": terms,
    })
    for k, v in (extra or {}).items():
        out[k] = v
    return out


def _empty_tidy(extra: Sequence[str] = ()) -> pd.DataFrame:
    return pd.DataFrame(columns=[*TIDY_COLUMNS, "term", *extra])


def _concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_tidy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # all-NA columns in concat
        return pd.concat(frames, ignore_index=True)


# ====================================================================== data prep


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{what} needs column(s) {', '.join(map(repr, missing))}; the data has "
                       f"{', '.join(map(str, list(df.columns)[:12]))}{', ...' if df.shape[1] > 12 else ''}")


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)


def _clean(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Copy of ``df[cols]`` with plain dtypes: floats (NaN) and objects (NaN) for patsy/numpy."""
    out = {}
    for c in dict.fromkeys(cols):
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s
        elif _is_numeric(s):
            out[c] = s.astype("float64") if not pd.api.types.is_extension_array_dtype(s.dtype) else \
                s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        else:
            out[c] = s.astype(object).where(s.notna(), np.nan)
    return pd.DataFrame(out, index=df.index)


def _with_months(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Add ``months_since_return`` (days / (365.25/12), as the loader does) when asked for and absent."""
    if "months_since_return" in cols and "months_since_return" not in df.columns \
            and {"survey_date", "return_date"} <= set(df.columns):
        days = (pd.to_datetime(df["survey_date"]) - pd.to_datetime(df["return_date"])).dt.days
        df = df.assign(months_since_return=days / _DAYS_PER_MONTH)
    return df


def _binary(s: pd.Series, name: str) -> np.ndarray:
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(x) & (x != 0) & (x != 1)
    if bad.any():
        vals = ", ".join(map(str, pd.unique(x[bad])[:5]))
        raise ValueError(f"column {name!r} must be 0/1 (or boolean); found {vals}")
    return x


def _term(col: str, categorical: bool) -> str:
    name = col if col.isidentifier() else f"Q({col!r})"
    return f"C({name})" if categorical else name


def _formula_columns(formula: str, df: pd.DataFrame) -> list[str]:
    """Column names a patsy formula refers to (names and ``Q("...")`` strings)."""
    names: list[str] = []
    for side in formula.split("~"):
        for piece in side.replace("\n", " ").split("+"):
            piece = piece.strip()
            for part in [piece, *piece.replace(":", "*").split("*")]:
                try:
                    tree = ast.parse(part.strip() or "0", mode="eval")
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Name):
                        names.append(node.id)
                    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                        names.append(node.value)
    cols = [c for c in dict.fromkeys(names) if c in df.columns]
    return cols


def _groups(s: pd.Series) -> np.ndarray:
    return pd.factorize(s.astype(str))[0]


#: Below this many clusters a cluster-robust covariance is flagged as unreliable.
FEW_CLUSTERS = 30


def _warn_few(n_clusters: int, name: str) -> None:
    if n_clusters < FEW_CLUSTERS:
        warnings.warn(f"only {n_clusters} clusters of {name!r}: cluster-robust standard errors are unreliable with "
                      f"fewer than {FEW_CLUSTERS} (cluster by respondent, or use a wild-cluster bootstrap)",
                      UserWarning, stacklevel=3)


def _design(df: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design (no intercept): numeric columns as floats, others as dummies (first level dropped)."""
    parts = []
    for c in covariates:
        s = df[c]
        if _is_numeric(s):
            parts.append(pd.DataFrame({c: s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)},
                                      index=df.index))
        else:
            obj = s.astype(object).where(s.notna(), np.nan)
            d = pd.get_dummies(obj, prefix=c, prefix_sep="=", drop_first=True, dtype=float)
            d[obj.isna().to_numpy()] = np.nan
            parts.append(d)
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)


def _full_rank(x: np.ndarray, names: list[str], *, keep_first: bool = True) -> tuple[np.ndarray, list[str]]:
    """Drop constant (other than the intercept) and linearly dependent columns (pivoted QR)."""
    from scipy.linalg import qr

    sd = x.std(axis=0)
    keep = [j for j in range(x.shape[1]) if sd[j] > 0 or (keep_first and j == 0)]
    x, names = x[:, keep], [names[j] for j in keep]
    if x.shape[1] == 0:
        return x, names
    scale = np.where(np.abs(x).max(axis=0) > 0, np.abs(x).max(axis=0), 1.0)
    _, r, piv = qr(x / scale, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > d.max() * 1e-10).sum()) if d.size else 0
    cols = sorted(piv[:rank])
    if keep_first and 0 not in cols:
        cols = sorted([0, *cols[:-1]])
    return x[:, cols], [names[j] for j in cols]


# ==================================================================== balance


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
        if _is_numeric(s):
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
                  cluster: str | None = None) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        One row per variable: ``variable, n_control, mean_control, sd_control,
        n_treated, mean_treated, sd_treated, difference, normalized_difference,
        std_error, p_value, n_clusters, cov_type``.  ``attrs["joint_test"]`` holds
        the joint test (as :func:`joint_orthogonality` returns it, as a dict).

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
    _require(df, [group, *variables, *(c for c in (weights, cluster) if c)], "balance_table")
    g = _binary(df[group], group)
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
            grp = None if gr_all is None else _groups(gr_all[ok])
            n_cl = None if grp is None else int(grp.max() + 1)
            if grp is None or n_cl > 1:
                res = _ols_fit(x[ok], xx, weights=None if weights is None else w_all[ok], groups=grp)
                se, p = float(res.bse[1]), float(res.pvalues[1])
        rows.append({"variable": name, "n_control": len(x0), "mean_control": m0, "sd_control": s0,
                     "n_treated": len(x1), "mean_treated": m1, "sd_treated": s1, "difference": m1 - m0,
                     "normalized_difference": nd, "std_error": se, "p_value": p, "n_clusters": n_cl,
                     "cov_type": _CR1.format(c=cluster) if cluster else _HC1})
    out = pd.DataFrame(rows)
    out["n_clusters"] = pd.array(out["n_clusters"], dtype="Int64")
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
    _require(df, [group, *variables, *(c for c in (weights, cluster) if c)], "joint_orthogonality")
    y = _binary(df[group], group)
    x = _clean(df, list(variables)).to_numpy(dtype=float)
    w = None if weights is None else pd.to_numeric(df[weights], errors="coerce").to_numpy(float)
    ok = ~np.isnan(y) & ~np.isnan(x).any(axis=1)
    if w is not None:
        ok &= np.isfinite(w) & (w > 0)
    if cluster is not None:
        ok &= df[cluster].notna().to_numpy()
    xx, names = _full_rank(np.column_stack([np.ones(ok.sum()), x[ok]]), ["const", *variables])
    q = len(names) - 1
    grp = None if cluster is None else _groups(df.loc[ok, cluster])
    row = {"test": "F-test: all slopes of group on the variables are 0", "statistic": np.nan, "df_num": q,
           "df_denom": np.nan, "p_value": np.nan, "n_obs": int(ok.sum()),
           "n_clusters": None if grp is None else int(grp.max() + 1),
           "cov_type": _CR1.format(c=cluster) if cluster else _HC1}
    if q > 0 and ok.sum() > len(names):
        res = _ols_fit(y[ok], xx, weights=None if w is None else w[ok], groups=grp)
        r = np.eye(len(names))[1:]
        ft = res.f_test(r)
        row.update(statistic=float(np.squeeze(ft.fvalue)), df_denom=float(ft.df_denom), p_value=float(ft.pvalue))
    out = pd.DataFrame([row])
    out["n_clusters"] = pd.array(out["n_clusters"], dtype="Int64")
    return out


# ==================================================================== regressions


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
    _require(df, extra, "fit_ols")
    cols = list(dict.fromkeys(_formula_columns(formula, df) + extra))
    data = _clean(df, cols).reset_index(drop=True)  # positional rows: the index may repeat labels
    if extra:
        data = data.dropna(subset=extra)
    rows = smf.ols(formula, data=data).data.row_labels
    data = data.loc[rows] if rows is not None else data
    if weights:
        model = smf.wls(formula, data=data, weights=data[weights].to_numpy(float))
    else:
        model = smf.ols(formula, data=data)
    kind = cov_type or ("cluster" if cluster else "HC1")
    n_cl = None
    if kind == "cluster":
        if not cluster:
            raise ValueError("cov_type='cluster' needs a cluster column")
        grp = _groups(data[cluster])
        n_cl = int(grp.max() + 1)
        _warn_few(n_cl, cluster)
        res = model.fit(cov_type="cluster", cov_kwds={"groups": grp}, use_t=True)
        label, dof = _CR1.format(c=cluster), n_cl - 1
    else:
        res = model.fit(cov_type=kind, use_t=True)
        label = {"nonrobust": _NONROBUST, "HC1": _HC1}.get(kind, f"heteroskedasticity-robust {kind}, t(N-K)")
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

    _require(df, [entity, time], "fit_panel")
    cols = list(dict.fromkeys([entity, time, *_formula_columns(formula, df)]))
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


# ======================================================================= IPW / AIPW


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
        hess = (x * (p * (1 - p))[:, None]).T @ x
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
    jac_gg = -(x * (p * (1 - p))[:, None]).T @ x / n
    if augmented:
        b1 = np.linalg.lstsq(x[t == 1], y[t == 1], rcond=None)[0]
        b0 = np.linalg.lstsq(x[t == 0], y[t == 0], rcond=None)[0]
        m1, m0 = x @ b1, x @ b0
        r1, r0 = t * (y - m1), (1 - t) * (y - m0)
        a1 = m1 + r1 / p
        a0 = m0 + r0 / (1 - p)
        mu1, mu0 = float(a1.mean()), float(a0.mean())
        psi = np.column_stack([score_g, r1[:, None] * x, r0[:, None] * x, a1 - mu1, a0 - mu0])
        dim = 3 * k + 2
        jac = np.zeros((dim, dim))
        jac[:k, :k] = jac_gg
        jac[k:2 * k, k:2 * k] = -(x * t[:, None]).T @ x / n
        jac[2 * k:3 * k, 2 * k:3 * k] = -(x * (1 - t)[:, None]).T @ x / n
        jac[3 * k, :k] = (r1 * (-(1 - p) / p)) @ x / n
        jac[3 * k, k:2 * k] = (1 - t / p) @ x / n
        jac[3 * k, 3 * k] = -1.0
        jac[3 * k + 1, :k] = (r0 * (p / (1 - p))) @ x / n
        jac[3 * k + 1, 2 * k:3 * k] = (1 - (1 - t) / (1 - p)) @ x / n
        jac[3 * k + 1, 3 * k + 1] = -1.0
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
    df = _with_months(df, covariates)
    _require(df, [outcome, treatment, *covariates, *([cluster] if cluster else [])], "IPW/AIPW")
    t = _binary(df[treatment], treatment)
    y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    xd = _design(df, covariates)
    ok = ~np.isnan(t) & ~np.isnan(y) & ~xd.isna().any(axis=1).to_numpy()
    if cluster:
        ok &= df[cluster].notna().to_numpy()
    x = np.column_stack([np.ones(ok.sum()), xd.to_numpy(dtype=float)[ok]])
    x, names = _full_rank(x, ["const", *xd.columns])
    groups = _groups(df.loc[ok, cluster]) if cluster else None
    return y[ok], t[ok], x, names, groups, df.index[ok]


def _fit_te(df: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str], *, cluster: str | None,
            trim: float | None, level: float, augmented: bool) -> tuple[pd.DataFrame, IPWResult]:
    name = "aipw" if augmented else "ipw"
    y, t, x, names, groups, index = _te_data(df, outcome, treatment, covariates, cluster)
    if t.sum() < 2 or (1 - t).sum() < 2:
        raise ValueError(f"{name}: need at least 2 treated and 2 control rows with complete data; "
                         f"found {int(t.sum())} and {int((1 - t).sum())}")
    n_trim = 0
    if trim is not None:
        if not 0 < trim < 0.5:
            raise ValueError(f"trim must be in (0, 0.5), got {trim!r}")
        from scipy.special import expit

        p0 = expit(x @ _logit_fit(t, x))
        keep = (p0 >= trim) & (p0 <= 1 - trim)
        n_trim = int((~keep).sum())
        y, t, index = y[keep], t[keep], index[keep]
        x, names = _full_rank(x[keep], names)
        groups = None if groups is None else pd.factorize(groups[keep])[0]
    core = _te_core(y, t, x, groups, augmented=augmented)
    n_cl = core["n_clusters"]
    cov = _M_COV.format(c=cluster) if cluster else _M_COV_HC0
    frame = tidy(core["estimate"], core["se"], outcome=outcome, estimator=name, n_obs=len(y), n_clusters=n_cl,
                 cov_type=cov, df=None if n_cl is None else n_cl - 1, level=level,
                 extra={"estimand": "ATE", "n_trimmed": n_trim, "trim": trim})
    frame["term"] = treatment
    res = IPWResult(estimator=name, estimate=core["estimate"], std_error=core["se"], mu1=core["mu1"],
                    mu0=core["mu0"], n_obs=len(y), n_clusters=n_cl, n_trimmed=n_trim,
                    propensity=pd.Series(core["p"], index=index, name="propensity"), influence=core["phi"],
                    covariates=names[1:])
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
        One row (:data:`TIDY_COLUMNS`, ``term``, ``estimand``, ``n_trimmed``, ``trim``).
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


def propensity_score(df: pd.DataFrame, treatment: str, covariates: Sequence[str]) -> pd.Series:
    """Logit propensity score of ``treatment`` on ``covariates`` (NaN where a covariate is missing).

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1, 0, 1, 1, 0], "x": [0.0, 1, 1, 2, 0, 1]})
    >>> propensity_score(d, "t", ["x"]).round(2).tolist()
    [0.35, 0.53, 0.53, 0.7, 0.35, 0.53]
    """
    from scipy.special import expit

    covariates = list(covariates)
    df = _with_months(df, covariates)
    _require(df, [treatment, *covariates], "propensity_score")
    t = _binary(df[treatment], treatment)
    xd = _design(df, covariates)
    ok = ~np.isnan(t) & ~xd.isna().any(axis=1).to_numpy()
    x, _ = _full_rank(np.column_stack([np.ones(ok.sum()), xd.to_numpy(dtype=float)[ok]]), ["const", *xd.columns])
    out = pd.Series(np.nan, index=df.index, name="propensity")
    out[ok] = expit(x @ _logit_fit(t[ok], x))
    return out


def overlap_table(df: pd.DataFrame, treatment: str, covariates: Sequence[str], *,
                  bounds: tuple[float, float] = (0.05, 0.95)) -> pd.DataFrame:
    """Propensity-score overlap diagnostics by treatment group.

    Returns
    -------
    pandas.DataFrame
        Rows ``treated``, ``control``, ``all``: ``n``, ``mean``, ``sd``, ``min``,
        ``p05``, ``p25``, ``median``, ``p75``, ``p95``, ``max`` of the propensity
        score, ``share_below`` / ``share_above`` / ``share_outside`` of ``bounds``,
        ``ess`` (Kish effective sample size of the ATE weights) and ``ess_share``.

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
    p = propensity_score(df, treatment, covariates)
    t = _binary(df[treatment], treatment)
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
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "group"
    return out


# ============================================================= difference in differences


def treatment_indicator(df: pd.DataFrame, *, treatment: str = "mentored", start: str = "mentoring_start",
                        date: str = "survey_date") -> pd.Series:
    """1 where the row is treated (``treatment == 1`` and ``date >= start``), else 0.

    A treated unit without a ``start`` date gets a missing value (its timing is unknown).

    Examples
    --------
    >>> d = pd.DataFrame({"m": [1, 1, 0, 1], "s": pd.to_datetime(["2020-03-01", "2020-03-01", None, None]),
    ...                   "d": pd.to_datetime(["2020-01-01", "2020-06-01", "2020-06-01", "2020-06-01"])})
    >>> treatment_indicator(d, treatment="m", start="s", date="d").tolist()
    [0.0, 1.0, 0.0, nan]
    """
    _require(df, [treatment, start, date], "treatment_indicator")
    m = _binary(df[treatment], treatment)
    s = pd.to_datetime(df[start])
    d = pd.to_datetime(df[date])
    on = (m == 1) & (d >= s).fillna(False).to_numpy(dtype=bool)
    out = np.where(on, 1.0, 0.0)
    out[np.isnan(m) | ((m == 1) & s.isna().to_numpy())] = np.nan
    return pd.Series(out, index=df.index, name="treated")


def _treated_column(panel: pd.DataFrame, treated: str | None, treatment: str, start: str, date: str) -> pd.Series:
    if treated is not None:
        _require(panel, [treated], "fit_did")
        return pd.Series(_binary(panel[treated], treated), index=panel.index, name="treated")
    return treatment_indicator(panel, treatment=treatment, start=start, date=date)


def event_time(panel: pd.DataFrame, *, entity: str = "respondent_id", time: str = "wave",
               treated: str | None = None, treatment: str = "mentored", start: str = "mentoring_start",
               date: str = "survey_date") -> pd.Series:
    """Periods since the first treated period (``time`` units), NaN for never-treated units.

    Notes
    -----
    The event period of a treated unit is its first treated ``time``; if none of its
    observed periods is treated yet (attrition), the period after its last
    untreated one.  Event time is ``time`` minus the event period (so -1 is the last
    period before treatment when periods are consecutive integers).

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 1, 2, 2], "w": [1, 2, 3, 1, 2], "D": [0, 1, 1, 0, 0],
    ...                   "m": [1, 1, 1, 0, 0]})
    >>> event_time(d, entity="id", time="w", treated="D", treatment="m").tolist()
    [-1.0, 0.0, 1.0, nan, nan]
    """
    d = _treated_column(panel, treated, treatment, start, date)
    ever = pd.Series(_binary(panel[treatment], treatment), index=panel.index) if treatment in panel.columns \
        else d.groupby(panel[entity]).transform("max")
    ever = ever.groupby(panel[entity]).transform("max")
    tm = pd.to_numeric(panel[time], errors="coerce")
    first_on = tm.where(d == 1).groupby(panel[entity]).transform("min")
    last_off = tm.where(d == 0).groupby(panel[entity]).transform("max")
    event = first_on.fillna(last_off + 1)
    return (tm - event).where(ever == 1).rename("event_time")


def _panel_frame(panel: pd.DataFrame, outcome: str, entity: str, time: str, regressors: pd.DataFrame,
                 controls: Sequence[str]) -> pd.DataFrame:
    data = pd.concat([_clean(panel, [entity, time, outcome]), regressors,
                      _design(panel, list(controls))], axis=1).dropna()
    data[entity] = data[entity].astype(str)
    if data.duplicated([entity, time]).any():
        dup = data.loc[data.duplicated([entity, time], keep=False), [entity, time]].head(3).values.tolist()
        raise ValueError(f"({entity}, {time}) must be unique for a panel; duplicated e.g. {dup}")
    return data.set_index([entity, time])


def _did_fit(data: pd.DataFrame, outcome: str, regressors: list[str], *, entity: str, cluster: str | None):
    from linearmodels import PanelOLS

    exog = data[regressors]
    mod = PanelOLS(data[outcome], exog, entity_effects=True, time_effects=True, drop_absorbed=True)
    if cluster is None or cluster == entity:
        res = mod.fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True,
                      auto_df=False, count_effects=False)
        n_cl = int(res.entity_info["total"])
        label = _DID_COV.format(c=entity)
    else:
        cl = data["__cluster"]
        nested = bool((cl.groupby(level=0).nunique() == 1).all())
        res = mod.fit(cov_type="clustered", clusters=pd.DataFrame({"c": _groups(cl)}, index=data.index),
                      debiased=True, group_debias=True, auto_df=False, count_effects=not nested)
        n_cl = int(cl.nunique())
        _warn_few(n_cl, cluster)
        label = _DID_COV.format(c=cluster) if nested else \
            _DID_COV.format(c=cluster).replace("absorbed effects not counted", "absorbed effects counted")
    return res, n_cl, label


def fit_did(panel: pd.DataFrame, outcome: str, *, entity: str = "respondent_id", time: str = "wave",
            treated: str | None = None, treatment: str = "mentored", treatment_start: str = "mentoring_start",
            date: str = "survey_date", controls: Sequence[str] = (), cluster: str | None = None,
            estimator: str = "did_panel", level: float = 0.95):
    """Difference-in-differences with entity and time fixed effects (``linearmodels.PanelOLS``).

    Parameters
    ----------
    panel
        Long data, one row per entity and period.
    outcome
        Outcome column.
    entity, time
        Entity (respondent) and period (wave, or a calendar period) columns.
    treated
        A 0/1 column that is 1 once the unit is treated; ``None`` builds it as
        ``treatment == 1 and date >= treatment_start`` (:func:`treatment_indicator`).
    controls
        Time-varying controls (numeric, or categorical as dummies).
    cluster
        ``None`` (default): cluster by ``entity``.  Another column (in which the
        entities are nested) is possible but not advised with few clusters.

    Returns
    -------
    frame : pandas.DataFrame
        One row for the treatment coefficient (:data:`TIDY_COLUMNS`, ``term``,
        ``n_treated_entities``).
    results : linearmodels PanelEffectsResults

    Notes
    -----
    Two-way fixed effects :math:`y_{it} = \\alpha_i + \\lambda_t + \\delta D_{it} +
    x_{it}'\\beta + \\varepsilon_{it}` with :math:`D_{it} = 1` from the start of
    treatment on.  With a common start relative to the periods (as here: mentoring
    starts between waves 1 and 2) this is the canonical DiD and :math:`\\delta` is
    the ATT; with staggered adoption and heterogeneous effects TWFE can be biased
    (Goodman-Bacon 2021) and :func:`event_study` should be read instead.

    Covariance: clustered by entity, ``cov_type="clustered", cluster_entity=True,
    debiased=True, group_debias=True, auto_df=False, count_effects=False``.
    linearmodels by default (``auto_df=True``) counts the absorbed effects in the
    degrees of freedom whenever the model has two effects, i.e. scales the
    covariance by :math:`N/(N - K - N_{\\text{entities}} - T)`.  With short panels
    (many respondents observed once or twice) that factor is large: on the
    synthetic data it widens the standard errors about 1.5 times, and Monte-Carlo
    coverage of the 95% CI exceeds 99%.  The entity effects are nested in the
    entity clusters, so they do not use up cluster degrees of freedom (Cameron &
    Miller 2015, sec. VI.C; the argument behind Stata's ``xtreg, fe``, which stopped
    counting them): ``count_effects=False`` with ``group_debias=True`` gives
    :math:`\\frac{G}{G-1}\\frac{N-1}{N-K}`, Stata's ``xtreg, fe vce(cluster id)``
    factor (``areg`` would count the absorbed dummies; ``reghdfe`` drops nested
    ones, as here).  K counts the regressors after demeaning; Stata's K also counts
    the wave dummies and the constant, a difference of (T)/(N) in the factor.
    Inference is t(G - 1), as Stata.  ``validate_mc`` checks the coverage.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> ids = np.repeat(np.arange(n), 2); wave = np.tile([1, 2], n)
    >>> treat = np.repeat(rng.random(n) < 0.5, 2) & (wave == 2)
    >>> y = np.repeat(rng.normal(size=n), 2) + 0.3 * wave + 0.5 * treat + rng.normal(0, 0.2, 2 * n)
    >>> d = pd.DataFrame({"id": ids, "wave": wave, "D": treat.astype(int), "y": y})
    >>> f, res = fit_did(d, "y", entity="id", time="wave", treated="D")
    >>> round(float(f.loc[0, "estimate"]), 2), int(f.loc[0, "n_clusters"])
    (0.48, 400)
    """
    d = _treated_column(panel, treated, treatment, treatment_start, date).rename("__treated")
    regs = pd.DataFrame({"__treated": d})
    if cluster is not None and cluster != entity:
        _require(panel, [cluster], "fit_did")
        regs["__cluster"] = panel[cluster].astype(object).where(panel[cluster].notna(), np.nan)
    data = _panel_frame(panel, outcome, entity, time, regs, controls)
    ctrl_cols = [c for c in data.columns if c not in (outcome, "__treated", "__cluster")]
    if data["__treated"].groupby(level=0).nunique().max() < 2:
        raise ValueError(f"fit_did: no entity changes treatment status over {time}; the effect is not identified")
    res, n_cl, label = _did_fit(data, outcome, ["__treated", *ctrl_cols], entity=entity, cluster=cluster)
    term = treated or treatment
    n_tr = int(data["__treated"].groupby(level=0).max().sum())
    frame = tidy(res.params["__treated"], res.std_errors["__treated"], outcome=outcome, estimator=estimator,
                 n_obs=int(res.nobs), n_clusters=n_cl, cov_type=label, df=n_cl - 1, level=level,
                 extra={"n_treated_entities": n_tr})
    frame["term"] = term
    return frame, res


def event_study(panel: pd.DataFrame, outcome: str, *, entity: str = "respondent_id", time: str = "wave",
                treated: str | None = None, treatment: str = "mentored", treatment_start: str = "mentoring_start",
                date: str = "survey_date", window: tuple[int, int] = (-4, 4), reference: int = -1,
                controls: Sequence[str] = (), level: float = 0.95) -> pd.DataFrame:
    """Event-study coefficients (leads and lags around the start of treatment).

    Parameters
    ----------
    window
        Event times kept as separate dummies; event times beyond it are binned
        into the end points.
    reference
        Omitted event time (normalised to 0), by default -1: the last period
        before treatment.

    Returns
    -------
    pandas.DataFrame
        One row per event time present in the data (the reference included, with
        estimate 0 and missing standard error): :data:`TIDY_COLUMNS`, ``term``,
        ``event_time``, ``n_treated_obs``.

    Notes
    -----
    :math:`y_{it} = \\alpha_i + \\lambda_t + \\sum_{k \\ne -1} \\delta_k 1[t - E_i = k] + \\varepsilon_{it}`
    with :math:`E_i` the event period of :func:`event_time`; never-treated units
    have all dummies 0 and anchor the time effects.  Covariance as in
    :func:`fit_did`.  Leads (k < -1) test for pre-trends and anticipation; they
    exist only for units observed at least twice before treatment.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 300
    >>> ids = np.repeat(np.arange(n), 3); wave = np.tile([1, 2, 3], n)
    >>> m = np.repeat(rng.random(n) < 0.5, 3)
    >>> y = np.repeat(rng.normal(size=n), 3) + 0.4 * (m & (wave >= 2)) + rng.normal(0, 0.1, 3 * n)
    >>> d = pd.DataFrame({"id": ids, "wave": wave, "m": m.astype(int), "D": (m & (wave >= 2)).astype(int), "y": y})
    >>> es = event_study(d, "y", entity="id", time="wave", treated="D", treatment="m")
    >>> es[["event_time", "estimate"]].round(1).values.tolist()
    [[-1.0, 0.0], [0.0, 0.4], [1.0, 0.4]]
    """
    et = event_time(panel, entity=entity, time=time, treated=treated, treatment=treatment, start=treatment_start,
                    date=date)
    lo, hi = window
    if not lo <= reference <= hi:
        raise ValueError(f"reference {reference} must lie inside window {window}")
    binned = et.clip(lower=lo, upper=hi)
    ks = sorted(int(k) for k in binned.dropna().unique())
    dummies = pd.DataFrame({f"__k{k}": (binned == k).astype(float) for k in ks if k != reference}, index=panel.index)
    data = _panel_frame(panel, outcome, entity, time, dummies, controls)
    regs = [c for c in data.columns if c != outcome]
    res, n_cl, label = _did_fit(data, outcome, regs, entity=entity, cluster=None)
    counts = binned.loc[panel[outcome].notna()].value_counts()
    rows = []
    for k in ks:
        name = f"__k{k}"
        if k == reference:
            est, se = 0.0, np.nan
        elif name in res.params.index:
            est, se = float(res.params[name]), float(res.std_errors[name])
        else:
            est, se = np.nan, np.nan
        r = tidy(est, se, outcome=outcome, estimator="event_study", n_obs=int(res.nobs), n_clusters=n_cl,
                 cov_type=label, df=n_cl - 1, level=level,
                 extra={"event_time": k, "n_treated_obs": int(counts.get(k, 0))})
        r["term"] = f"event_time={k}" + (" (reference)" if k == reference else "")
        rows.append(r)
    return _concat(rows)


def _figure(**kwargs: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def plot_event_study(frame: pd.DataFrame, *, title: str = "") -> Figure:
    """Plot event-study coefficients with their CIs against event time.

    One series per outcome (slightly offset); dashed line at 0, dotted line
    between the reference period and treatment start.

    Examples
    --------
    >>> f = pd.DataFrame({"outcome": "y", "event_time": [-1, 0, 1], "estimate": [0, 0.4, 0.5],
    ...                   "ci_lower": [np.nan, 0.3, 0.4], "ci_upper": [np.nan, 0.5, 0.6]})
    >>> type(plot_event_study(f)).__name__
    'Figure'
    """
    fig = _figure(figsize=(6.5, 3.8))
    ax = fig.subplots()
    outcomes = list(dict.fromkeys(frame["outcome"]))
    width = 0.08 * (len(outcomes) - 1)
    for i, out in enumerate(outcomes):
        sub = frame[frame["outcome"] == out].sort_values("event_time")
        x = sub["event_time"].to_numpy(float) + (i * 0.08 - width / 2 if len(outcomes) > 1 else 0.0)
        est = sub["estimate"].to_numpy(float)
        lo = est - sub["ci_lower"].to_numpy(float)
        hi = sub["ci_upper"].to_numpy(float) - est
        ax.errorbar(x, est, yerr=np.vstack([np.nan_to_num(lo), np.nan_to_num(hi)]), fmt="o-", capsize=3,
                    label=str(out).removeprefix("score_"))
    ax.axhline(0, color="0.4", lw=0.8, ls="--")
    if "term" in frame:
        ref = frame.loc[frame["term"].astype(str).str.contains("reference"), "event_time"]
    else:
        ref = frame.loc[frame["ci_lower"].isna() & (frame["estimate"] == 0), "event_time"]
    if len(ref):
        ax.axvline(float(ref.iloc[0]) + 0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("periods since start of treatment")
    ax.set_ylabel("effect (score units)")
    if len(outcomes) > 1:
        ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return fig


# ======================================================================= dimensions


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
    _require(df, cols + ([by] if by else []), "dimension_correlations")
    q = float(st.norm.ppf((1 + level) / 2))
    groups = [("all", df)] if by is None else [(str(k), g) for k, g in df.groupby(by, sort=True)]
    rows = []
    for name, g in groups:
        for i, a in enumerate(cols):
            for b in cols[i + 1:]:
                sub = _clean(g, [a, b]).dropna()
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


def _rhs(df: pd.DataFrame, covariates: Sequence[str], fe: str | Sequence[str] | None) -> list[str]:
    terms = [_term(c, not _is_numeric(df[c])) for c in covariates]
    fes = [fe] if isinstance(fe, str) else list(fe or [])
    for f in fes:
        if df[f].nunique() > 1:
            terms.append(_term(f, True))
    return terms


def fit_on_economic(df: pd.DataFrame, outcomes: Sequence[str] = ("score_social", "score_psychosocial"), *,
                    economic: str = "score_economic", fe: str | Sequence[str] | None = "country",
                    controls: Sequence[str] = (), cluster: str | None = "respondent_id",
                    level: float = 0.95) -> pd.DataFrame:
    """Regress each outcome on the economic score with country fixed effects.

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
        _require(df, cols, "fit_on_economic")
        formula = f"{_term(y, False)} ~ " + " + ".join([_term(economic, False), *_rhs(df, controls, fe)])
        t, _ = fit_ols(df, formula, cluster=cluster, estimator="ols_on_economic", level=level)
        t = t[t["term"] == _term(economic, False)].assign(outcome=y, term=economic)
        rows.append(t)
    return _concat(rows)


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
    _require(panel, [entity, time, x, y, *controls], "cross_lagged")
    cluster = cluster or entity
    d = panel.copy()
    tm = pd.to_numeric(d[time], errors="coerce")
    prev = d[[entity, x, y]].assign(**{time: tm + 1})
    prev = prev.rename(columns={x: f"{x}_lag", y: f"{y}_lag"})
    d = d.assign(**{time: tm}).merge(prev, on=[entity, time], how="left")
    rows = []
    for a, b, direction in ((x, y, "x -> y"), (y, x, "y -> x")):
        rhs = [_term(f"{b}_lag", False), _term(f"{a}_lag", False), *_rhs(d, controls, fe)]
        if d[time].nunique() > 1:
            rhs.append(_term(time, True))
        t, _ = fit_ols(d, f"{_term(b, False)} ~ " + " + ".join(rhs), cluster=cluster, estimator="cross_lagged",
                       level=level)
        keep = t["term"].isin([_term(f"{a}_lag", False), _term(f"{b}_lag", False)])
        t = t[keep].assign(outcome=b, direction=direction)
        t["term"] = t["term"].str.replace(r"^Q\('(.*)'\)$", r"\1", regex=True)
        t["cross_lag"] = t["term"] == f"{a}_lag"
        rows.append(t.sort_values("cross_lag", ascending=False))
    return _concat(rows)


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
    df = _with_months(df, covariates)
    fes = [fe] if isinstance(fe, str) else list(fe or [])
    _require(df, [outcome, *covariates, *fes], "determinants")
    formula = f"{_term(outcome, False)} ~ " + " + ".join(_rhs(df, covariates, fe) or ["1"])
    t, res = fit_ols(df, formula, cluster=cluster, weights=weights, estimator="determinants", level=level)
    fe_terms = tuple(_term(f, True) for f in fes)
    t = t[(t["term"] != "Intercept") & ~t["term"].str.startswith(fe_terms)].assign(outcome=outcome)
    return t.reset_index(drop=True), res


# ================================================================== heterogeneity, robustness


def did_by_group(panel: pd.DataFrame, outcome: str, by: str, **kwargs: Any) -> pd.DataFrame:
    """Difference-in-differences per level of ``by`` and the differences between levels.

    Parameters
    ----------
    by
        A column constant within entity (``sex``, ``return_from``, ``assist_economic``).
    **kwargs
        Passed to :func:`fit_did` (``entity``, ``time``, ``treated`` ...).

    Returns
    -------
    pandas.DataFrame
        Rows ``did_panel`` per level (``group`` = level) and ``did_difference`` per
        non-reference level (``group`` = ``"<level> - <reference>"``), with ``by``.

    Notes
    -----
    Per level: :func:`fit_did` on that subgroup (its own time effects).
    Differences: one model on all levels with :math:`D_{it}` and
    :math:`D_{it} \\times 1[g_i = l]` for each non-reference level (the first in
    sort order) and common time effects; the interaction coefficient is the
    difference in effects and its p-value the test of no heterogeneity.  Rows with
    a missing ``by`` are dropped.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 600
    >>> ids = np.repeat(np.arange(n), 2); wave = np.tile([1, 2], n)
    >>> sex = np.repeat(np.where(rng.random(n) < 0.5, "F", "M"), 2)
    >>> treat = np.repeat(rng.random(n) < 0.5, 2) & (wave == 2)
    >>> y = np.repeat(rng.normal(size=n), 2) + 0.5 * treat + 0.3 * treat * (sex == "M") + rng.normal(0, .1, 2 * n)
    >>> d = pd.DataFrame({"id": ids, "wave": wave, "D": treat.astype(int), "sex": sex, "y": y})
    >>> r = did_by_group(d, "y", "sex", entity="id", time="wave", treated="D")
    >>> r[["estimator", "group", "estimate"]].round(1).values.tolist()
    [['did_panel', 'F', 0.5], ['did_panel', 'M', 0.8], ['did_difference', 'M - F', 0.3]]
    """
    entity = kwargs.get("entity", "respondent_id")
    _require(panel, [by, entity], "did_by_group")
    sub = panel[panel[by].notna()]
    if (sub.groupby(entity)[by].nunique() > 1).any():
        raise ValueError(f"did_by_group: {by!r} must be constant within each {entity}")
    levels = sorted(pd.unique(sub[by].astype(object)), key=str)
    rows = []
    for lev in levels:
        part = sub[sub[by].astype(object) == lev]
        try:
            f, _ = fit_did(part, outcome, **kwargs)
        except ValueError:
            continue
        rows.append(f.assign(by=by, group=str(lev)))
    if len(levels) > 1:
        level_kw = {k: v for k, v in kwargs.items() if k in ("treated", "treatment", "treatment_start", "date")}
        time = kwargs.get("time", "wave")
        d = _treated_column(sub, level_kw.get("treated"), level_kw.get("treatment", "mentored"),
                            level_kw.get("treatment_start", "mentoring_start"), level_kw.get("date", "survey_date"))
        regs = pd.DataFrame({"__treated": d}, index=sub.index)
        g = sub[by].astype(object)
        for lev in levels[1:]:
            regs[f"__x{lev}"] = d * (g == lev).astype(float)
        data = _panel_frame(sub, outcome, entity, time, regs, kwargs.get("controls", ()))
        res, n_cl, label = _did_fit(data, outcome, [c for c in data.columns if c != outcome], entity=entity,
                                    cluster=None)
        for lev in levels[1:]:
            name = f"__x{lev}"
            if name in res.params.index:
                r = tidy(res.params[name], res.std_errors[name], outcome=outcome, estimator="did_difference",
                         n_obs=int(res.nobs), n_clusters=n_cl, cov_type=label, df=n_cl - 1,
                         level=kwargs.get("level", 0.95))
                r["term"] = f"treated x {by}={lev}"
                rows.append(r.assign(by=by, group=f"{lev} - {levels[0]}"))
    return _concat(rows)


def placebo_timing(panel: pd.DataFrame, outcome: str, *, shift: int = 1, entity: str = "respondent_id",
                   time: str = "wave", treated: str | None = None, treatment: str = "mentored",
                   treatment_start: str = "mentoring_start", date: str = "survey_date",
                   controls: Sequence[str] = (), level: float = 0.95) -> pd.DataFrame:
    """Placebo DiD: pretend treatment started ``shift`` periods earlier, on pre-treatment rows only.

    Returns
    -------
    pandas.DataFrame
        One row, estimator ``placebo_timing`` (:data:`TIDY_COLUMNS`, ``term``,
        ``shift``, ``n_identifying_entities``, ``note``).  When no treated unit has
        an untreated period both before and after the fake start, the effect is
        not identified: the estimate is missing and ``note`` says why.

    Notes
    -----
    Treated rows (true :math:`D = 1`) are dropped; the fake treatment is
    :math:`\\tilde D_{it} = 1[\\text{ever treated}] \\cdot 1[t \\ge E_i - \\text{shift}]`
    with :math:`E_i` the event period (:func:`event_time`); then :func:`fit_did`.
    Under parallel trends and no anticipation the estimate is about 0.  With
    entity effects it needs treated units observed at least twice before
    treatment: with three waves and treatment always starting between waves 1
    and 2 (the synthetic design) it is not identified.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> ids = np.repeat(np.arange(n), 3); wave = np.tile([1, 2, 3], n)
    >>> m = np.repeat(rng.random(n) < 0.5, 3)
    >>> y = np.repeat(rng.normal(size=n), 3) + 0.5 * (m & (wave == 3)) + rng.normal(0, 0.1, 3 * n)
    >>> d = pd.DataFrame({"id": ids, "wave": wave, "m": m.astype(int), "D": (m & (wave == 3)).astype(int), "y": y})
    >>> p = placebo_timing(d, "y", entity="id", time="wave", treated="D", treatment="m")
    >>> bool(p.loc[0, "ci_lower"] < 0 < p.loc[0, "ci_upper"]), int(p.loc[0, "n_identifying_entities"])
    (True, 183)
    """
    d = _treated_column(panel, treated, treatment, treatment_start, date)
    et = event_time(panel, entity=entity, time=time, treated=treated, treatment=treatment, start=treatment_start,
                    date=date)
    keep = (d == 0).to_numpy()
    pre = panel.loc[keep].copy()
    fake = (et.loc[keep] >= -shift).astype(float)
    pre["__placebo"] = fake
    has = pre[[entity]].assign(f=fake).groupby(entity)["f"].agg(["min", "max"])
    n_id = int(((has["min"] == 0) & (has["max"] == 1)).sum())
    extra = {"shift": shift, "n_identifying_entities": n_id}
    if n_id == 0:
        out = tidy(np.nan, np.nan, outcome=outcome, estimator="placebo_timing", n_obs=int(keep.sum()),
                   cov_type=_DID_COV.format(c=entity), level=level,
                   extra={**extra, "note": "not identified: no treated entity has an untreated period both "
                                           "before and after the placebo start"})
        out["term"] = "placebo"
        return out
    f, _ = fit_did(pre, outcome, entity=entity, time=time, treated="__placebo", controls=controls,
                   estimator="placebo_timing", level=level)
    return f.drop(columns=["n_treated_entities"]).assign(term="placebo", **extra, note="")


def effects_by_scheme(scored: Mapping[str, pd.DataFrame], outcomes: Sequence[str] = OUTCOMES, *,
                      estimators: Sequence[str] = ("did_panel",), **kwargs: Any) -> pd.DataFrame:
    """Mentoring effects under several scoring schemes (one scored frame per scheme).

    Parameters
    ----------
    scored
        ``{scheme name: scored frame}``, e.g. the default scheme's scores and
        :func:`rescore` with PCA weights, or the data scored with another scheme file.
    estimators, **kwargs
        Passed to :func:`mentoring_effects`.

    Returns
    -------
    pandas.DataFrame
        :func:`mentoring_effects` rows with a ``scheme`` column.
    """
    rows = [mentoring_effects(frame, outcomes, estimators=estimators, **kwargs).assign(scheme=name)
            for name, frame in scored.items()]
    return _concat(rows)


# ==================================================================== weights (PCA)


def _by_dimension(columns: Mapping[str, Sequence[str]] | Sequence[str]) -> dict[str, list[str]]:
    return {str(k): list(v) for k, v in columns.items()} if isinstance(columns, Mapping) \
        else {"all": list(columns)}


def pca_weights(df: pd.DataFrame, columns: Mapping[str, Sequence[str]] | Sequence[str]) -> pd.DataFrame:
    """First-principal-component weights of indicators, non-negative and summing to 1 per dimension.

    Parameters
    ----------
    columns
        ``{dimension: [indicator columns]}`` (or one list: dimension ``"all"``).

    Returns
    -------
    pandas.DataFrame
        ``dimension, indicator, loading, weight, explained_share, n_obs``.

    Notes
    -----
    Per dimension, PCA of the correlation matrix of the indicators (complete
    rows): the first eigenvector :math:`v` (unit length), its sign chosen so that
    :math:`\\sum_j v_j > 0`.  Weights :math:`w_j = \\max(v_j, 0) / \\sum_k \\max(v_k, 0)`:
    a negative loading (an indicator moving against the others) gets weight 0
    rather than a negative weight, which would reward a worse answer.  The
    loadings are on standardised indicators, the weights are applied to the
    indicator scores as they are (all in [0, 1]) so they stay comparable with
    the scheme's weights.  ``explained_share`` is the first eigenvalue over the
    number of indicators.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=500)
    >>> d = pd.DataFrame({"a": f + rng.normal(size=500), "b": f + rng.normal(size=500), "c": rng.normal(size=500)})
    >>> w = pca_weights(d, {"dim": ["a", "b", "c"]})
    >>> round(float(w["weight"].sum()), 6), bool(w.set_index("indicator").loc["c", "weight"] < 0.2)
    (1.0, True)
    """
    rows = []
    for dim, cols in _by_dimension(columns).items():
        _require(df, cols, "pca_weights")
        sub = _clean(df, cols).dropna()
        if len(cols) == 1:
            rows.append({"dimension": dim, "indicator": cols[0], "loading": 1.0, "weight": 1.0,
                         "explained_share": 1.0, "n_obs": len(sub)})
            continue
        corr = np.corrcoef(sub.to_numpy(dtype=float), rowvar=False)
        vals, vecs = np.linalg.eigh(corr)
        v = vecs[:, -1]
        if v.sum() < 0:
            v = -v
        pos = np.clip(v, 0, None)
        w = pos / pos.sum()
        for c, load, wt in zip(cols, v, w, strict=True):
            rows.append({"dimension": dim, "indicator": c, "loading": float(load), "weight": float(wt),
                         "explained_share": float(vals[-1] / len(cols)), "n_obs": len(sub)})
    return pd.DataFrame(rows)


def scheme_weights(scheme: Scheme) -> pd.DataFrame:
    """Indicator weights inside each dimension, and dimension weights in the composite, of a scheme.

    Returns
    -------
    pandas.DataFrame
        ``dimension, indicator`` (score column, e.g. ``ind_E1``), ``weight`` (sums
        to 1 per dimension), ``dimension_weight`` (composite weight, sums to 1 over
        dimensions).

    Examples
    --------
    >>> from helpers.scheme import load_scheme
    >>> w = scheme_weights(load_scheme())
    >>> w.groupby("dimension")["weight"].sum().round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    rows = []
    dim_w = {d: sum(q.composite_weight for q in scheme.questions if q.dimension == d) for d in scheme.dimensions}
    total = sum(dim_w.values())
    for d in scheme.dimensions:
        inds = [i for i in scheme.indicators if i.dimension == d]
        w = {i.id: sum(scheme.question(q).weight for q in i.questions) for i in inds}
        s = sum(w.values())
        for i in inds:
            rows.append({"dimension": d, "indicator": i.column, "weight": w[i.id] / s if s else np.nan,
                         "dimension_weight": dim_w[d] / total if total else np.nan})
    return pd.DataFrame(rows)


def compare_weights(scheme: Scheme | pd.DataFrame, pca: pd.DataFrame) -> pd.DataFrame:
    """Scheme weights beside PCA weights, per indicator.

    Parameters
    ----------
    scheme
        A :class:`~helpers.scheme.Scheme` or a :func:`scheme_weights` frame.
    pca
        :func:`pca_weights` output.

    Returns
    -------
    pandas.DataFrame
        ``dimension, indicator, scheme_weight, pca_weight, difference, loading``.
    """
    sw = scheme if isinstance(scheme, pd.DataFrame) else scheme_weights(scheme)
    out = sw[["dimension", "indicator", "weight"]].rename(columns={"weight": "scheme_weight"}).merge(
        pca[["dimension", "indicator", "weight", "loading"]].rename(columns={"weight": "pca_weight"}),
        on=["dimension", "indicator"], how="outer")
    out["difference"] = out["pca_weight"] - out["scheme_weight"]
    return out[["dimension", "indicator", "scheme_weight", "pca_weight", "difference", "loading"]]


def rescore(df: pd.DataFrame, weights: pd.DataFrame, *, dimension_weights: Mapping[str, float] | None = None,
            min_weight: float = 0.6) -> pd.DataFrame:
    """Recompute dimension and composite scores from indicator scores with other weights.

    Parameters
    ----------
    df
        Scored data with the indicator columns named in ``weights``.
    weights
        ``dimension, indicator, weight`` (e.g. :func:`pca_weights`).
    dimension_weights
        Composite weight of each dimension; default equal weights.
    min_weight
        A dimension score is missing when the answered indicators carry less than
        this share of its weight (the default scheme's 0.6).

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with ``score_<dimension>`` and ``score_composite``
        replaced; their ``band_*`` columns are dropped (they belonged to the old scores).

    Notes
    -----
    :math:`\\mathrm{dim}_{id} = \\sum_{I \\in d,\\ \\text{answered}} w_I\\,\\mathrm{ind}_{iI} /
    \\sum_{I \\in d,\\ \\text{answered}} w_I`, composite
    :math:`\\sum_d C_d\\,\\mathrm{dim}_{id} / \\sum_d C_d` (missing if a dimension is).

    Examples
    --------
    >>> d = pd.DataFrame({"ind_a": [0.0, 1.0], "ind_b": [1.0, np.nan]})
    >>> w = pd.DataFrame({"dimension": ["x", "x"], "indicator": ["ind_a", "ind_b"], "weight": [0.75, 0.25]})
    >>> rescore(d, w, min_weight=0.5)["score_x"].tolist()
    [0.25, 1.0]
    """
    out = df.copy()
    dims = list(dict.fromkeys(weights["dimension"]))
    cw = {d: 1.0 for d in dims} if dimension_weights is None else {d: float(dimension_weights[d]) for d in dims}
    comp = np.zeros(len(df))
    valid = np.ones(len(df), dtype=bool)
    for d in dims:
        sub = weights[weights["dimension"] == d]
        _require(df, list(sub["indicator"]), "rescore")
        num = np.zeros(len(df))
        den = np.zeros(len(df))
        for ind, w in zip(sub["indicator"], sub["weight"], strict=True):
            v = pd.to_numeric(df[ind], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(v)
            num += np.where(ok, v, 0.0) * w
            den += ok * w
        total = float(sub["weight"].sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where((den > 0) & (den >= min_weight * total - 1e-9), num / np.where(den > 0, den, 1), np.nan)
        out[f"score_{d}"] = score
        valid &= ~np.isnan(score)
        comp += np.nan_to_num(score) * cw[d]
    out["score_composite"] = np.where(valid, comp / sum(cw.values()), np.nan)
    drop = [c for c in (*(f"band_{d}" for d in dims), "band_composite") if c in out.columns]
    return out.drop(columns=drop)


def compare_rankings(a: pd.DataFrame, b: pd.DataFrame, *, by: str = "country",
                     columns: Sequence[str] = OUTCOMES, min_n: int = 1) -> pd.DataFrame:
    """Spearman rank correlation of group means (e.g. country means) between two scorings.

    Returns
    -------
    pandas.DataFrame
        One row per score: ``score, spearman, p_value, n_groups, max_rank_change``.

    Notes
    -----
    Groups with fewer than ``min_n`` non-missing rows in either scoring are left
    out.  ``p_value`` is scipy's test of no association (t approximation).

    Examples
    --------
    >>> a = pd.DataFrame({"country": list("AABBCC"), "s": [1, 2, 3, 4, 5, 6.0]})
    >>> b = a.assign(s=[2, 2, 1, 1, 9, 9.0])
    >>> r = compare_rankings(a, b, columns=["s"])
    >>> float(r.loc[0, "spearman"]), int(r.loc[0, "max_rank_change"])
    (0.5, 1)
    """
    from scipy import stats as st

    rows = []
    for c in columns:
        if c not in a.columns or c not in b.columns:
            continue
        ga = a.groupby(by)[c].agg(["mean", "count"])
        gb = b.groupby(by)[c].agg(["mean", "count"])
        m = ga.add_suffix("_a").join(gb.add_suffix("_b"), how="inner")
        m = m[(m["count_a"] >= min_n) & (m["count_b"] >= min_n)].dropna()
        if len(m) >= 3:
            rho, p = st.spearmanr(m["mean_a"], m["mean_b"])
            change = int((m["mean_a"].rank(ascending=False) - m["mean_b"].rank(ascending=False)).abs().max())
        else:
            rho, p, change = np.nan, np.nan, None
        rows.append({"score": c, "spearman": float(rho), "p_value": float(p), "n_groups": len(m),
                     "max_rank_change": change})
    return pd.DataFrame(rows)


# =========================================================== the mentoring table


def cross_section(panel: pd.DataFrame, *, time: str = "wave", post: int = 2, country: str = "country",
                  treatment: str = "mentored", treatment_start: str = "mentoring_start",
                  date: str = "survey_date") -> pd.DataFrame:
    """Rows for the cross-sectional mentoring comparison, with a 0/1 ``treated`` column.

    Countries with at least one treated unit, periods ``time >= post``, and rows
    either treated (``treated == 1``) or never treated: a treated unit's rows
    before its start are neither treated nor clean controls and are left out.

    Examples
    --------
    >>> d = pd.DataFrame({"country": ["A"] * 4 + ["B"] * 2, "wave": [1, 2, 1, 2, 1, 2], "mentored": [1, 1, 0, 0, 0, 0],
    ...                   "mentoring_start": pd.to_datetime(["2020-02-01"] * 2 + [None] * 4),
    ...                   "survey_date": pd.to_datetime(["2020-01-01", "2020-06-01"] * 3)})
    >>> cross_section(d)[["country", "wave", "treated"]].values.tolist()
    [['A', 2, 1.0], ['A', 2, 0.0]]
    """
    d = treatment_indicator(panel, treatment=treatment, start=treatment_start, date=date)
    m = pd.Series(_binary(panel[treatment], treatment), index=panel.index)
    countries = panel.loc[d == 1, country].unique()
    keep = panel[country].isin(countries) & (pd.to_numeric(panel[time], errors="coerce") >= post) & \
        ((d == 1) | (m == 0))
    return panel.loc[keep].assign(treated=d[keep])


def mentoring_effects(panel: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES, *,
                      covariates: Sequence[str] = COVARIATES, estimators: Sequence[str] = ESTIMATORS,
                      entity: str = "respondent_id", time: str = "wave", country: str = "country",
                      treatment: str = "mentored", treatment_start: str = "mentoring_start",
                      date: str = "survey_date", post: int = 2, trim: float | None = None,
                      level: float = 0.95) -> pd.DataFrame:
    """The mentoring-effect table: every estimator for every outcome, as tidy rows.

    Parameters
    ----------
    panel
        Scored long data (all countries; those without mentoring are left out).
    outcomes
        Score columns (default the composite and the three dimensions).
    covariates
        Controls of ``ols_fe`` and of the propensity/outcome models of ``ipw`` and
        ``aipw`` (``months_since_return`` is derived from the dates if absent).
    estimators
        Any of :data:`ESTIMATORS`.
    post
        First period of the cross-sectional comparison (wave 2: mentoring starts
        between waves 1 and 2).
    trim
        Propensity trimming of ``ipw``/``aipw`` (see :func:`fit_ipw`).

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS`, ``term``, ``sample``: one row per outcome and estimator
        (outcomes in the order given, estimators in :data:`ESTIMATORS` order).

    Notes
    -----
    Sample: countries where mentoring ran.  Cross-sectional estimators
    (``raw_difference``, ``ols_fe``, ``ipw``, ``aipw``) pool the post-treatment
    waves (``wave >= post``) with wave fixed effects (:func:`cross_section`),
    compare treated rows with never-mentored rows, and use the complete cases of
    the covariates, the same rows for all four so that they differ only by
    estimator:

    * ``raw_difference``: OLS of the outcome on the treatment dummy (difference in
      means), CR1 by respondent;
    * ``ols_fe``: + covariates + country and wave fixed effects, CR1 by respondent;
    * ``ipw`` / ``aipw``: ATE with the covariates, country and wave in the models
      (:func:`fit_ipw`, :func:`fit_aipw`), clustered by respondent.

    These identify the effect only under selection on observables.
    ``did_panel``: :func:`fit_did` on all waves of those countries, respondent and
    wave effects, treatment from ``mentoring_start``: identified under parallel
    trends even when an unobserved, time-invariant trait drives selection.

    Examples
    --------
    >>> from helpers.synthetic import simulate
    >>> from helpers.scoring import score
    >>> from helpers.scheme import load_scheme
    >>> df, truth = simulate(seed=3, scale=0.1)
    >>> t = mentoring_effects(score(df, load_scheme()), ["score_composite"], estimators=["raw_difference", "did_panel"])
    >>> t["estimator"].tolist()
    ['raw_difference', 'did_panel']
    """
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator(s) {unknown}; known: {', '.join(ESTIMATORS)}")
    covariates = list(covariates)
    panel = _with_months(panel, covariates)
    _require(panel, [entity, time, country, treatment, treatment_start, date, *outcomes, *covariates],
             "mentoring_effects")
    d_all = treatment_indicator(panel, treatment=treatment, start=treatment_start, date=date)
    countries = panel.loc[d_all == 1, country].unique()
    if len(countries) == 0:
        return _empty_tidy(["sample"])
    in_c = panel[panel[country].isin(countries)]
    cs = cross_section(in_c, time=time, post=post, country=country, treatment=treatment,
                       treatment_start=treatment_start, date=date)
    fe_cols = [c for c in (country, time) if cs[c].nunique() > 1]
    cs_desc = (f"{time} >= {post}, countries with mentoring ({', '.join(map(str, sorted(countries)))}), "
               f"treated vs never treated, complete covariates")
    did_desc = f"all {time}s, countries with mentoring ({', '.join(map(str, sorted(countries)))})"
    frames = []
    for y in outcomes:
        sub = cs.dropna(subset=[y, *covariates, entity])
        sub = sub[_design(sub, covariates).notna().all(axis=1)]
        for est in ESTIMATORS:
            if est not in estimators:
                continue
            if est == "raw_difference":
                f, _ = fit_ols(sub, f"{_term(y, False)} ~ treated", cluster=entity, estimator=est, level=level)
                f = f[f["term"] == "treated"]
            elif est == "ols_fe":
                rhs = ["treated", *_rhs(sub, covariates, fe_cols)]
                f, _ = fit_ols(sub, f"{_term(y, False)} ~ " + " + ".join(rhs), cluster=entity, estimator=est,
                               level=level)
                f = f[f["term"] == "treated"]
            elif est in ("ipw", "aipw"):
                fn = fit_ipw if est == "ipw" else fit_aipw
                cov = [*covariates, *(c for c in fe_cols)]
                sub2 = sub.assign(**{c: sub[c].astype(str) for c in fe_cols})
                f, _ = fn(sub2, y, "treated", cov, cluster=entity, trim=trim, level=level)
                f = f[[*TIDY_COLUMNS, "term"]]
            else:
                f, _ = fit_did(in_c, y, entity=entity, time=time, treatment=treatment,
                               treatment_start=treatment_start, date=date, level=level)
                f = f[[*TIDY_COLUMNS, "term"]]
            f = f[[*TIDY_COLUMNS, "term"]].assign(outcome=y, term="treated",
                                                  sample=did_desc if est == "did_panel" else cs_desc)
            frames.append(f)
    return _concat(frames).reset_index(drop=True)


def plot_coefficients(frame: pd.DataFrame, *, reference: Mapping[str, float] | None = None,
                      title: str = "") -> Figure:
    """Coefficient plot: one panel per outcome, one line per estimator, with 95% CIs.

    Parameters
    ----------
    frame
        Tidy rows (:data:`TIDY_COLUMNS`), e.g. :func:`mentoring_effects`.
    reference
        Optional ``{outcome: value}`` drawn as a dotted vertical line (e.g. the
        planted effect of synthetic data).

    Examples
    --------
    >>> f = tidy(0.05, 0.01, outcome="score_composite", estimator="did_panel", n_obs=10, cov_type="x")
    >>> fig = plot_coefficients(f, reference={"score_composite": 0.04})
    >>> len(fig.axes)
    1
    """
    outcomes = list(dict.fromkeys(frame["outcome"]))
    fig = _figure(figsize=(2.6 * max(len(outcomes), 1) + 1.2, 0.45 * frame["estimator"].nunique() + 1.6))
    axes = fig.subplots(1, max(len(outcomes), 1), sharey=True, squeeze=False).ravel()
    ests = list(dict.fromkeys(frame["estimator"]))
    pos = {e: len(ests) - 1 - i for i, e in enumerate(ests)}
    for ax, out in zip(axes, outcomes, strict=False):
        sub = frame[frame["outcome"] == out]
        y = sub["estimator"].map(pos).to_numpy(float)
        est = sub["estimate"].to_numpy(float)
        err = np.vstack([np.nan_to_num(est - sub["ci_lower"].to_numpy(float)),
                         np.nan_to_num(sub["ci_upper"].to_numpy(float) - est)])
        ax.errorbar(est, y, xerr=err, fmt="o", capsize=3, color="#1f4e79")
        ax.axvline(0, color="0.5", lw=0.8, ls="--")
        if reference and out in reference:
            ax.axvline(reference[out], color="#c0392b", lw=1, ls=":", label="reference")
        ax.set_title(str(out).removeprefix("score_"), fontsize="medium")
        ax.set_yticks(list(pos.values()), list(pos.keys()))
        ax.set_xlabel("effect (score units)")
    if title:
        fig.suptitle(title)
    return fig

