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

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .design import c_only_columns, formula_columns, formula_rows, patsy_categories, patsy_env

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
    "short_term",
    "IPWResult",
    "FEW_CLUSTERS",
    "EFFECT_COUNTS",
    # samples and counts for publishing
    "first_surveys",
    "baseline",
    "tidy_balance",
    "balance_joint_test",
    "combine",
    "determinants_table",
    "heterogeneity",
    "event_studies",
    "robustness",
    # scoring from the data
    "planted_effects",
    "dimension_indicators",
    "implied_weights",
    "pca_rescore",
    "rank_table",
    # key numbers
    "merge_numbers",
    "interdependence_numbers",
    "mentoring_numbers",
    "weight_numbers",
    # figures
    "plot_overlap",
    "plot_weights",
    "plot_rank_shift",
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
#: Respondent counts of a mentoring-effect row that disclosure control checks (each >= the threshold).
EFFECT_COUNTS: tuple[str, ...] = ("n_clusters", "n_respondents_treated", "n_respondents_control")

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
    # the distribution's methods with its parameters, not a frozen distribution (slow to build, same values)
    dist_args = (df,) if df is not None and np.isfinite(df) and df > 0 else ()
    dist = st.t if dist_args else st.norm
    q = float(dist.ppf((1 + level) / 2, *dist_args))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(ok, 2 * dist.sf(np.abs(b) / np.where(ok, s, 1.0), *dist_args), np.nan)
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
    xs = x / scale
    # fast path: a well-conditioned design is of full rank by the QR criterion below, since
    # |r_kk| / |r_11| >= 1 / cond(X) for a pivoted QR; cond(X'X) = cond(X)^2 comes from a k x k matrix
    if np.linalg.cond(_wcross(xs, np.ones(len(xs)))) < 1e10:
        return x, names
    _, r, piv = qr(xs, mode="economic", pivoting=True)
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
    _require(df, [group, *variables, *(c for c in (weights, cluster, entity) if c)], "balance_table")
    g = _binary(df[group], group)
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
            grp = None if gr_all is None else _groups(gr_all[ok])
            n_cl = None if grp is None else int(grp.max() + 1)
            if grp is None or n_cl > 1:
                res = _ols_fit(x[ok], xx, weights=None if weights is None else w_all[ok], groups=grp)
                with warnings.catch_warnings():  # a degenerate variable (no variation) gives NaN, not a warning
                    warnings.simplefilter("ignore", RuntimeWarning)
                    se, p = float(res.bse[1]), float(res.pvalues[1])
        row = {"variable": name, "n_control": len(x0), "mean_control": m0, "sd_control": s0,
               "n_treated": len(x1), "mean_treated": m1, "sd_treated": s1, "difference": m1 - m0,
               "normalized_difference": nd, "std_error": se, "p_value": p, "n_clusters": n_cl,
               "cov_type": _CR1.format(c=cluster) if cluster else _HC1}
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
    cols = list(dict.fromkeys(formula_columns(formula, df) + extra))
    data = _clean(df, cols).reset_index(drop=True)  # positional rows: the index may repeat labels
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

    use_fast_cov_cluster()
    _require(df, [entity, time], "fit_panel")
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
    dropped: list[str] = field(default_factory=list)


def _wcross(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:math:`X' \\mathrm{diag}(w) X` without BLAS threads.

    These small products run many times; multi-threaded BLAS on them is slow when
    several notebooks share the cores (threads oversubscribed), einsum is not.
    """
    return np.einsum("ij,i,ik->jk", x, w, x, optimize=False)


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
        hess = _wcross(x, p * (1 - p))
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
    jac_gg = -_wcross(x, p * (1 - p)) / n
    if augmented:
        # outcome regressions within each group, on the columns of full rank there
        idx = [str(j) for j in range(k)]
        x1 = x[:, [int(j) for j in _full_rank(x[t == 1], idx)[1]]]
        x0 = x[:, [int(j) for j in _full_rank(x[t == 0], idx)[1]]]
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
        jac[k:e1, k:e1] = -_wcross(x1, t) / n
        jac[e1:e0, e1:e0] = -_wcross(x0, 1 - t) / n
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
        x, names = _full_rank(x[keep], names)
        x, names, more = _drop_separating(x, names, t)
        dropped += more
        groups = None if groups is None else pd.factorize(groups[keep])[0]
    core = _te_core(y, t, x, groups, augmented=augmented)
    n_cl = core["n_clusters"]
    cov = _M_COV.format(c=cluster) if cluster else _M_COV_HC0
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
    df = _with_months(df, covariates)
    _require(df, [treatment, *covariates, *fe], "propensity_score")
    if fe:
        df = df.assign(**{c: df[c].astype(str).where(df[c].notna(), np.nan) for c in fe})
        covariates = [*covariates, *(c for c in fe if c not in covariates)]
    t = _binary(df[treatment], treatment)
    xd = _design(df, covariates)
    ok = ~np.isnan(t) & ~xd.isna().any(axis=1).to_numpy()
    x, names = _full_rank(np.column_stack([np.ones(ok.sum()), xd.to_numpy(dtype=float)[ok]]),
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
        _require(df, [entity], "overlap_table")
    p = propensity_score(df, treatment, covariates, fe=fe)
    note = _separating_note(p.attrs.get("dropped", []))
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
        if entity is not None:
            rows[name]["n_respondents"] = int(pd.Series(df[entity].to_numpy()[mask]).nunique())
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["note"] = note
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
    labels = data[entity].astype(str)
    # The entity labels as their positions among the sorted labels (the index levels of the labels themselves):
    # the same codes, order and groups, so the same estimates, but linearmodels' many groupbys and uniques on
    # the index run on integers, not strings.
    data[entity] = pd.factorize(labels, sort=True)[0]
    if data.duplicated([entity, time]).any():
        dup = data.assign(**{entity: labels}).loc[data.duplicated([entity, time], keep=False),
                                                  [entity, time]].head(3).values.tolist()
        raise ValueError(f"({entity}, {time}) must be unique for a panel; duplicated e.g. {dup}")
    return data.set_index([entity, time])


def cov_cluster(z: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """``linearmodels.shared.covariance.cov_cluster`` without its Python loop over the clusters.

    The same estimator -- :math:`\\frac1n\\sum_g z_g z_g'` with :math:`z_g` the sum of
    ``z`` over cluster ``g`` -- and the same checks and messages; the cluster sums
    come from one ``np.add.reduceat`` and the sum of their outer products from one
    matrix product.  linearmodels 7.1 loops over the clusters in Python, which was
    about a third of each panel fit here (one cluster per respondent: thousands of
    clusters).  :func:`use_fast_cov_cluster` installs it in linearmodels; the results
    agree with linearmodels' own to rounding (``tests/test_fast_paths.py``).

    Examples
    --------
    >>> z = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> cov_cluster(z, np.array([0, 1, 0])) * 3
    array([[45., 60.],
           [60., 80.]])
    """
    if pd.isnull(clusters).any():
        raise ValueError("clusters cannot contain missing values.")
    order = np.argsort(clusters)
    clusters = np.asarray(clusters)[order]
    starts = np.flatnonzero(np.r_[True, clusters[:-1] != clusters[1:]])
    if len(starts) < 2:
        raise ValueError("A clustered covariance requires at least two clusters, but clusters has one group.")
    sums = np.add.reduceat(np.asarray(z)[order], starts, axis=0)
    return (sums.T @ sums) / z.shape[0]


def use_fast_cov_cluster() -> None:
    """Make linearmodels' clustered covariances use :func:`cov_cluster` (idempotent; the helpers call it)."""
    import linearmodels.iv.covariance as iv_cov
    import linearmodels.panel.covariance as panel_cov

    for module in (panel_cov, iv_cov):
        if module.cov_cluster is not cov_cluster:
            module.cov_cluster = cov_cluster


_LEAN_PANEL: Any = None


def _lean_panel_ols() -> Any:
    """``linearmodels.PanelOLS`` without the between, overall and correlation R² of its results.

    The DiD reads the coefficients, their covariance, ``nobs`` and ``entity_info``
    only.  PanelOLS computes six R² variants after every fit, a third of its time
    (35 of 110 ms per DiD on the default data, ~30 fits per mentoring run); this
    subclass leaves them NaN (``rsquared_between``, ``rsquared_overall`` and the
    correlation ones; ``rsquared`` itself is PanelOLS's own and stays).  Everything
    else is PanelOLS: ``tests/test_fast_paths.py`` checks that the estimates and
    standard errors are identical.
    """
    global _LEAN_PANEL
    if _LEAN_PANEL is None:
        from linearmodels import PanelOLS

        class LeanPanelOLS(PanelOLS):
            def _rsquared(self, params: Any, reweight: bool = False) -> tuple[float, float, float]:
                return np.nan, np.nan, np.nan

            def _rsquared_corr(self, params: Any) -> tuple[float, float, float]:
                return np.nan, np.nan, np.nan

        _LEAN_PANEL = LeanPanelOLS
    return _LEAN_PANEL


def _did_fit(data: pd.DataFrame, outcome: str, regressors: list[str], *, entity: str, cluster: str | None):
    use_fast_cov_cluster()

    exog = data[regressors]
    mod = _lean_panel_ols()(data[outcome], exog, entity_effects=True, time_effects=True, drop_absorbed=True)
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
        Its entity index holds each entity's position among the sorted entity labels
        (0, 1, ...), not the labels: the same model, faster to fit.

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
        _require(df, cols, "fit_on_economic")
        formula = f"{_term(y, False)} ~ " + " + ".join([_term(economic, False), *_rhs(df, controls, fe)])
        t, _ = fit_ols(df, formula, cluster=cluster, estimator=estimator, level=level)
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
    a missing ``by`` are dropped; levels without a treated row have no effect and
    no difference (the reference is the first level, in sort order, with one).

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
    if len(levels) > 1 and len(rows) > 1:
        level_kw = {k: v for k, v in kwargs.items() if k in ("treated", "treatment", "treatment_start", "date")}
        time = kwargs.get("time", "wave")
        d = _treated_column(sub, level_kw.get("treated"), level_kw.get("treatment", "mentored"),
                            level_kw.get("treatment_start", "mentoring_start"), level_kw.get("date", "survey_date"))
        regs = pd.DataFrame({"__treated": d}, index=sub.index)
        g = sub[by].astype(object)
        # levels without treated rows have no effect to compare: the reference is the first level with some
        with_treated = [lev for lev in levels if (d[g == lev].fillna(0) != 0).any()]
        for lev in with_treated[1:]:
            regs[f"__x{lev}"] = d * (g == lev).astype(float)
        data = _panel_frame(sub, outcome, entity, time, regs, kwargs.get("controls", ()))
        res, n_cl, label = _did_fit(data, outcome, [c for c in data.columns if c != outcome], entity=entity,
                                    cluster=None)
        levels = with_treated
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
        ``shift``, ``n_identifying_entities``, ``n_respondents_treated`` (ever
        treated) and ``n_respondents_control`` (never treated) with a
        pre-treatment row, ``note``).  When no treated unit has
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
    seen = pre[outcome].notna().to_numpy()
    ever = et.loc[keep].notna().to_numpy()
    extra = {"shift": shift, "n_identifying_entities": n_id,
             "n_respondents_treated": int(pre.loc[seen & ever, entity].nunique()),
             "n_respondents_control": int(pre.loc[seen & ~ever, entity].nunique())}
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
        :func:`mentoring_effects` rows with a ``scheme`` column (after ``term``).
    """
    return by_scheme({name: mentoring_effects(frame, outcomes, estimators=estimators, **kwargs)
                      for name, frame in scored.items()})


def by_scheme(effects: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """:func:`mentoring_effects` tables of several scoring schemes as one, with a ``scheme`` column.

    What :func:`effects_by_scheme` returns, from tables already estimated (e.g. one
    read back by :func:`helpers.cache.result`).
    """
    out = _concat([frame.assign(scheme=name) for name, frame in effects.items()])
    if len(out):
        lead = [*TIDY_COLUMNS, "term", "scheme"]
        out = out[[*lead, *(c for c in out.columns if c not in lead)]]
    out.attrs["count_cols"] = list(EFFECT_COUNTS)
    return out


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
        :data:`TIDY_COLUMNS`, ``term``, ``sample``, ``n_respondents_treated``,
        ``n_respondents_control``, ``note`` (e.g. a covariate level left out of the
        propensity model): one row per outcome and estimator (outcomes in
        the order given, estimators in :data:`ESTIMATORS` order).  The two counts
        are the distinct respondents behind each side of the comparison (for
        ``did_panel``: respondents with a treated survey, and the others), so
        disclosure control can suppress an estimate resting on too few of either.

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
        return _empty_tidy(["sample", "n_respondents_treated", "n_respondents_control", "note"])
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
            rows_used = sub
            note = ""
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
                f, res = fn(sub2, y, "treated", cov, cluster=entity, trim=trim, level=level)
                note = str(f["note"].iloc[0])
                f = f[[*TIDY_COLUMNS, "term"]]
                rows_used = sub.loc[res.propensity.index]
            else:
                f, _ = fit_did(in_c, y, entity=entity, time=time, treatment=treatment,
                               treatment_start=treatment_start, date=date, level=level)
                f = f[[*TIDY_COLUMNS, "term"]]
                seen = in_c[y].notna() & d_all.loc[in_c.index].notna()
                rows_used = in_c.loc[seen].assign(treated=d_all.loc[in_c.index][seen])
                rows_used = rows_used.assign(treated=rows_used.groupby(entity)["treated"].transform("max"))
            n_tr = int(rows_used.loc[rows_used["treated"] == 1, entity].nunique())
            n_co = int(rows_used.loc[rows_used["treated"] == 0, entity].nunique())
            f = f[[*TIDY_COLUMNS, "term"]].assign(outcome=y, term="treated",
                                                  sample=did_desc if est == "did_panel" else cs_desc,
                                                  n_respondents_treated=n_tr, n_respondents_control=n_co,
                                                  note=note)
            frames.append(f)
    out = _concat(frames).reset_index(drop=True)
    out.attrs["count_cols"] = list(EFFECT_COUNTS)
    return out


def plot_coefficients(frame: pd.DataFrame, *, reference: Mapping[str, float] | None = None,
                      title: str = "", label: str | Sequence[str] = "estimator", min_n: int | None = None,
                      count_cols: Sequence[str] | None = None) -> Figure:
    """Coefficient plot: one panel per outcome, one line per estimator (or ``label``), with 95% CIs.

    Parameters
    ----------
    frame
        Tidy rows (:data:`TIDY_COLUMNS`), e.g. :func:`mentoring_effects`.
    reference
        Optional ``{outcome: value}`` drawn as a dotted vertical line (e.g. the
        planted effect of synthetic data).
    label
        Column naming the rows of each panel (``"estimator"``, or ``"term"`` for
        the coefficients of one model), or several columns joined with " · ";
        patsy names are shortened (``C(sex)[T.M]`` reads ``sex=M``).
    min_n, count_cols
        Leave out rows whose count columns (default ``frame.attrs["count_cols"]``,
        else ``n_clusters``) are below ``min_n`` (the disclosure threshold), and say
        so in the title.

    Examples
    --------
    >>> f = tidy(0.05, 0.01, outcome="score_composite", estimator="did_panel", n_obs=10, cov_type="x")
    >>> fig = plot_coefficients(f, reference={"score_composite": 0.04})
    >>> len(fig.axes)
    1
    """
    dropped = 0
    if min_n is not None and len(frame):
        cols = list(count_cols or frame.attrs.get("count_cols") or ["n_clusters"])
        n = frame[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
        small = (n < min_n).any(axis=1)
        dropped = int(small.sum())
        frame = frame[~small]
    outcomes = list(dict.fromkeys(frame["outcome"]))
    labels = [label] if isinstance(label, str) else list(label)
    names = frame[labels].astype(str).apply(lambda r: " · ".join(short_term(v) for v in r), axis=1) \
        if len(frame) else pd.Series([], dtype=object)
    n_rows = max(names.nunique(), 1)
    width = 2.6 * max(len(outcomes), 1) + 1.2 + (1.0 if labels != ["estimator"] else 0.0)
    fig = _figure(figsize=(max(width, 7.0), (0.45 if n_rows <= 8 else 0.3) * n_rows + 1.6))
    axes = fig.subplots(1, max(len(outcomes), 1), sharey=True, squeeze=False).ravel()
    ests = list(dict.fromkeys(names))
    pos = {e: len(ests) - 1 - i for i, e in enumerate(ests)}
    for ax, out in zip(axes, outcomes, strict=False):
        sel = (frame["outcome"] == out).to_numpy()
        sub = frame[sel]
        y = names[sel].map(pos).to_numpy(float)
        est = sub["estimate"].to_numpy(float)
        err = np.vstack([np.nan_to_num(est - sub["ci_lower"].to_numpy(float)),
                         np.nan_to_num(sub["ci_upper"].to_numpy(float) - est)])
        ax.errorbar(est, y, xerr=err, fmt="o", capsize=3, color="#1f4e79")
        ax.axvline(0, color="0.5", lw=0.8, ls="--")
        if reference and out in reference and reference[out] is not None:
            ax.axvline(reference[out], color="#c0392b", lw=1, ls=":", label="reference")
        ax.set_title(str(out).removeprefix("score_"), fontsize="medium")
        ax.set_yticks(list(pos.values()), list(pos.keys()))
        ax.set_xlabel("effect (score units)")
    note = f"{dropped} row{'s' if dropped != 1 else ''} under {min_n} respondents left out" if dropped else ""
    if title or note:
        fig.suptitle(title + ("\n" if title and note else "") + note, fontsize="medium")
    return fig


def short_term(term: str) -> str:
    """Shorten a patsy term name for display: ``C(sex)[T.M]`` -> ``sex=M``, ``Q('a b')`` -> ``a b``.

    Examples
    --------
    >>> short_term("C(return_from)[T.EU]"), short_term("Q('x y')"), short_term("age")
    ('return_from=EU', 'x y', 'age')
    """
    import re

    t = re.sub(r"^C\((?:Q\(['\"])?([^)'\"]+)(?:['\"]\))?\)\[T\.(.*)\]$", r"\1=\2", term)
    return re.sub(r"^Q\(['\"](.*)['\"]\)$", r"\1", t)


# ============================================================ samples and counts for publishing


def first_surveys(panel: pd.DataFrame, *, entity: str = "respondent_id", time: str = "wave") -> pd.DataFrame:
    """Each entity's earliest survey (lowest ``time``): one row per respondent, so rows are independent.

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 2], "wave": [2, 1, 1], "y": [0.5, 0.4, 0.9]})
    >>> first_surveys(d, entity="id")["y"].tolist()
    [0.4, 0.9]
    """
    _require(panel, [entity, time], "first_surveys")
    order = panel.sort_values([entity, time], kind="stable")
    return order.drop_duplicates(entity, keep="first").sort_index()


def baseline(panel: pd.DataFrame, *, entity: str = "respondent_id", time: str = "wave", country: str = "country",
             treatment: str = "mentored", treatment_start: str = "mentoring_start",
             date: str = "survey_date") -> pd.DataFrame:
    """Baseline of the mentoring comparison: first untreated survey of each respondent where mentoring ran.

    Returns
    -------
    pandas.DataFrame
        Rows of ``panel`` in the countries with a treated survey, not yet treated
        (:func:`treatment_indicator` is 0), one per respondent (the earliest);
        ``treatment`` says who is mentored later.  A mentored respondent first
        surveyed after the start of mentoring has no baseline and is left out.

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 2, 2, 3], "wave": [1, 2, 1, 2, 1], "country": ["A"] * 4 + ["B"],
    ...                   "m": [1, 1, 0, 0, 0], "s": pd.to_datetime(["2020-02-01"] * 2 + [None] * 3),
    ...                   "d": pd.to_datetime(["2020-01-01", "2020-06-01"] * 2 + ["2020-01-01"])})
    >>> baseline(d, entity="id", treatment="m", treatment_start="s", date="d")[["id", "wave"]].values.tolist()
    [[1, 1], [2, 1]]
    """
    d = treatment_indicator(panel, treatment=treatment, start=treatment_start, date=date)
    countries = panel.loc[d == 1, country].unique()
    sub = panel[panel[country].isin(countries) & (d == 0).to_numpy()]
    return first_surveys(sub, entity=entity, time=time)


def tidy_balance(balance: pd.DataFrame, *, term: str = "treated", level: float = 0.95) -> pd.DataFrame:
    """Turn a :func:`balance_table` into tidy rows: one difference (treated - control) per variable.

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS` (``outcome`` = the variable, ``estimator`` =
        ``"difference_in_means"``, ``n_obs`` = both groups' rows), ``term``, then
        ``mean_control, mean_treated, sd_control, sd_treated,
        normalized_difference, n_control, n_treated`` and the respondent counts
        of the balance table if it has them.  ``attrs`` keep the joint test and
        the count columns.

    Notes
    -----
    The CI uses the balance regression's reference distribution: t(G - 1) when
    clustered, else t(N - 2) (HC1), so the p-value is the balance table's.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1], "x": [1.0, 2, 3, 2, 4, 6]})
    >>> t = tidy_balance(balance_table(d, "t", ["x"]))
    >>> t[["outcome", "estimator", "estimate"]].values.tolist()
    [['x', 'difference_in_means', 2.0]]
    """
    extra_cols = ["mean_control", "mean_treated", "sd_control", "sd_treated", "normalized_difference",
                  "n_control", "n_treated", *[c for c in balance.columns if c.startswith(("n_respondents_", "min_cell_"))]]
    rows = []
    for r in balance.to_dict("records"):
        n = int(r["n_control"]) + int(r["n_treated"])
        g = r["n_clusters"]
        clustered = g is not None and g is not pd.NA and not (isinstance(g, float) and math.isnan(g))
        rows.append(tidy(r["difference"], r["std_error"], outcome=str(r["variable"]), estimator="difference_in_means",
                         n_obs=n, n_clusters=int(g) if clustered else None, cov_type=r["cov_type"],
                         df=(int(g) - 1) if clustered else n - 2, level=level,
                         extra={c: r[c] for c in extra_cols}).assign(term=term))
    out = _concat(rows) if rows else _empty_tidy(extra_cols)
    out.attrs = {"joint_test": balance.attrs.get("joint_test"),
                 "count_cols": balance.attrs.get("count_cols", ["n_control", "n_treated"])}
    return out


def balance_joint_test(balance: pd.DataFrame) -> pd.DataFrame:
    """The joint orthogonality test of a :func:`balance_table`, as a one-row table.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1] * 10, "x": np.arange(20.0)})
    >>> list(balance_joint_test(balance_table(d, "t", ["x"])).columns[:3])
    ['test', 'statistic', 'df_num']
    """
    jt = balance.attrs.get("joint_test") or {}
    out = pd.DataFrame([jt]) if jt else pd.DataFrame(columns=["test", "statistic", "df_num", "df_denom", "p_value",
                                                              "n_obs", "n_clusters", "cov_type"])
    out["n_clusters"] = pd.array(out["n_clusters"], dtype="Int64")
    return out


def combine(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack tidy frames: :data:`TIDY_COLUMNS` first, other columns after; add ``n_respondents``.

    Returns
    -------
    pandas.DataFrame
        The rows of every frame; ``n_respondents`` is ``n_clusters`` where the
        row is clustered (by respondent, as every estimator here is), else
        ``n_obs``, which is a respondent count only when the rows are one per
        respondent (e.g. :func:`first_surveys`).  ``attrs["count_cols"]`` is
        ``["n_respondents"]``.

    Examples
    --------
    >>> a = tidy(0.1, 0.01, outcome="y", estimator="e", n_obs=50, n_clusters=20, cov_type="c")
    >>> b = tidy(0.2, 0.02, outcome="y", estimator="r", n_obs=30, cov_type="iid")
    >>> combine([a, b])["n_respondents"].tolist()
    [20, 30]
    """
    out = _concat(list(frames)).reset_index(drop=True)
    out = out[[*TIDY_COLUMNS, *(c for c in out.columns if c not in TIDY_COLUMNS)]]
    if "n_respondents" not in out.columns:
        ncl = pd.array(out["n_clusters"], dtype="Int64")
        out["n_respondents"] = pd.array(np.where(pd.isna(ncl), pd.array(out["n_obs"], dtype="Int64"), ncl),
                                        dtype="Int64")
    out.attrs["count_cols"] = ["n_respondents"]
    return out


def _term_mask(df: pd.DataFrame, term: str,
               cache: dict[str, tuple[np.ndarray, np.ndarray, str | None]] | None = None
               ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Rows having (mask) a 0/1 term's level, and the reference level's rows; None for a continuous term.

    ``cache`` (a dict kept by the caller for one ``df``) keeps each categorical
    variable's values as text, so the levels of one variable are read once.
    """
    import re

    m = re.match(r"^C\((?:Q\(['\"])?([^)'\"]+)(?:['\"]\))?\)\[T\.(.*)\]$", term)
    if m:
        var, lev = m.group(1), m.group(2)
        if var not in df.columns:
            return None
        cache = {} if cache is None else cache
        if var not in cache:
            s = df[var]
            levels = sorted(pd.unique(s.dropna().astype(object)), key=str)
            cache[var] = (s.astype(str).to_numpy(dtype=object), s.isna().to_numpy(), str(levels[0]) if levels else None)
        vals, miss, ref = cache[var]
        return (vals == lev) & ~miss, (vals == ref) & ~miss
    if term in df.columns and _is_numeric(df[term]):
        x = pd.to_numeric(df[term], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if np.isin(x[~np.isnan(x)], (0.0, 1.0)).all():
            return x == 1, x == 0
    return None


def determinants_table(df: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES, *,
                       covariates: Sequence[str] = COVARIATES, fe: str | Sequence[str] | None = "country",
                       entity: str = "respondent_id", level: float = 0.95) -> pd.DataFrame:
    """:func:`determinants` of every outcome, stacked, with respondent counts for disclosure control.

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS`, ``term``, ``n_respondents`` (clusters = respondents)
        and ``n_respondents_level``: for a category level or a 0/1 variable the
        respondents in the smallest of its cells (with the level, without it, and
        the reference level), since a coefficient on a handful of respondents
        describes them; for a continuous term ``n_respondents``.
        ``attrs["count_cols"]`` names both counts.

    Notes
    -----
    Clustered by ``entity`` (CR1, t(G - 1)), country fixed effects: see
    :func:`determinants` for why not clustered by country.  Cell counts are taken
    over the rows with the outcome and every covariate observed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"y": rng.random(120), "a": rng.integers(0, 2, 120), "country": np.repeat(["A", "B"], 60),
    ...                   "respondent_id": np.arange(120)})
    >>> t = determinants_table(d, ["y"], covariates=["a"])
    >>> t[["term", "n_respondents"]].values.tolist()
    [['a', 120]]
    """
    covariates = list(covariates)
    df = _with_months(df, covariates)
    frames = []
    for y in outcomes:
        t, _ = determinants(df, y, covariates=covariates, fe=fe, cluster=entity, level=level)
        used = df.dropna(subset=[y, *covariates])
        # respondents as integer codes (missing ids share one code, as pd.unique counts them once)
        ent = pd.factorize(used[entity], use_na_sentinel=False)[0]
        cells = []
        cache: dict[str, tuple[np.ndarray, np.ndarray, str | None]] = {}
        for term in t["term"]:
            masks = _term_mask(used, term, cache)
            if masks is None:
                cells.append(None)
                continue
            has, ref = masks
            cells.append(min(len(pd.unique(ent[has])), len(pd.unique(ent[~has])), len(pd.unique(ent[ref]))))
        t = t.assign(n_respondents=t["n_clusters"])
        t["n_respondents_level"] = pd.array([c if c is not None else n for c, n in zip(cells, t["n_clusters"],
                                                                                         strict=True)], dtype="Int64")
        frames.append(t)
    out = _concat(frames).reset_index(drop=True)
    out["n_respondents"] = pd.array(out["n_respondents"], dtype="Int64")
    out.attrs["count_cols"] = ["n_respondents", "n_respondents_level"]
    return out


def heterogeneity(panel: pd.DataFrame, outcome: str = "score_composite",
                  by: Sequence[str] = ("sex", "return_from", "assist_economic", "assist_social",
                                       "assist_psychosocial"), **kwargs: Any) -> pd.DataFrame:
    """Mentoring effect by subgroup (:func:`did_by_group` for each column of ``by``), with respondent counts.

    Returns
    -------
    pandas.DataFrame
        :func:`did_by_group` rows of every ``by`` (``by``, ``group``), plus
        ``label`` (``"sex=F"``, ``"sex: M - F"``) and ``n_respondents_treated`` /
        ``n_respondents_control``: for a subgroup, its respondents with and
        without a treated survey; for a difference between two subgroups, the
        smaller count of the two.  A ``by`` column that is missing, or not
        constant within respondent, is skipped: ``attrs["skipped"]`` says why
        (``{column: reason}``).  ``attrs["count_cols"]`` names the two counts.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> ids = np.repeat(np.arange(n), 2); wave = np.tile([1, 2], n)
    >>> sex = np.repeat(np.where(rng.random(n) < 0.5, "F", "M"), 2)
    >>> treat = np.repeat(rng.random(n) < 0.5, 2) & (wave == 2)
    >>> y = np.repeat(rng.normal(size=n), 2) + 0.5 * treat + rng.normal(0, .1, 2 * n)
    >>> d = pd.DataFrame({"id": ids, "wave": wave, "D": treat.astype(int), "sex": sex, "y": y})
    >>> heterogeneity(d, "y", ["sex"], entity="id", treated="D")["label"].tolist()
    ['sex=F', 'sex=M', 'sex: M - F']
    """
    frames = []
    skipped: dict[str, str] = {}
    for b in by:
        if b not in panel.columns:
            skipped[b] = "no such column"
            continue
        try:
            r = did_by_group(panel, outcome, b, **kwargs)
        except ValueError as exc:
            skipped[b] = str(exc)
            continue
        if not len(r):
            continue
        per = r[r["estimator"] == "did_panel"].set_index("group")
        tr = per["n_treated_entities"].astype(float)
        co = per["n_clusters"].astype(float) - tr
        n_tr, n_co, labels = [], [], []
        for est, grp in zip(r["estimator"], r["group"], strict=True):
            if est == "did_panel":
                n_tr.append(tr.get(grp, 0.0))
                n_co.append(co.get(grp, 0.0))
                labels.append(f"{b}={grp}")
            else:
                lev, ref = grp.split(" - ", 1)
                n_tr.append(min(tr.get(lev, 0.0), tr.get(ref, 0.0)))
                n_co.append(min(co.get(lev, 0.0), co.get(ref, 0.0)))
                labels.append(f"{b}: {grp}")
        r = r.assign(label=labels, n_respondents_treated=pd.array(np.array(n_tr), dtype="Int64"),
                     n_respondents_control=pd.array(np.array(n_co), dtype="Int64"))
        frames.append(r)
    out = _concat(frames).reset_index(drop=True)
    lead = [*TIDY_COLUMNS, "term", "label", "by", "group", "n_respondents_treated", "n_respondents_control"]
    if len(out):
        out = out[[*lead, *(c for c in out.columns if c not in lead)]]
    out.attrs["count_cols"] = ["n_respondents_treated", "n_respondents_control"]
    out.attrs["skipped"] = skipped
    return out


def event_studies(panel: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES, **kwargs: Any) -> pd.DataFrame:
    """:func:`event_study` of every outcome, stacked (``kwargs`` passed on).

    ``attrs["count_cols"]`` is ``n_clusters`` and ``n_treated_obs`` (treated
    respondents observed at that event time).
    """
    out = _concat([event_study(panel, y, **kwargs) for y in outcomes]).reset_index(drop=True)
    out.attrs["count_cols"] = ["n_clusters", "n_treated_obs"]
    return out


def robustness(panel: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES, *, trim: float = 0.1,
               rescored: Mapping[str, pd.DataFrame] | None = None, **kwargs: Any) -> pd.DataFrame:
    """Robustness checks of the mentoring effect, as tidy rows with a ``check`` column.

    Parameters
    ----------
    panel
        Scored long data (as for :func:`mentoring_effects`).
    trim
        Propensity trimming of ``ipw``/``aipw`` (Crump et al. 2009 use 0.1).
    rescored
        ``{scheme name: frame}`` scored otherwise (e.g. :func:`pca_rescore`):
        ``did_panel`` under each.
    **kwargs
        Passed to :func:`mentoring_effects` and :func:`placebo_timing`
        (``entity``, ``time``, ...).

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS`, ``term``, ``check`` (``placebo_timing``,
        ``trimmed_propensity``, ``scheme=<name>``), ``note``, the
        :data:`EFFECT_COUNTS`; ``attrs["count_cols"]`` names the counts.

    Notes
    -----
    * Placebo timing (:func:`placebo_timing`, shift 1): on pre-treatment surveys,
      pretend mentoring started one period earlier.  When no treated respondent
      has two untreated periods, the estimate is missing and ``note`` says it is
      not identified (rather than reporting a number that means nothing).
    * Trimming: ``ipw`` and ``aipw`` on the rows whose estimated propensity lies
      in ``[trim, 1 - trim]``; the estimand becomes the ATE of that population.
    * Another scoring: ``did_panel`` with the scores of each ``rescored`` frame.
    """
    placebo_kw = {k: v for k, v in kwargs.items() if k in ("entity", "time", "treatment", "treatment_start", "date",
                                                            "level")}
    country = kwargs.get("country", "country")
    d = treatment_indicator(panel, treatment=kwargs.get("treatment", "mentored"),
                            start=kwargs.get("treatment_start", "mentoring_start"), date=kwargs.get("date", "survey_date"))
    in_c = panel[panel[country].isin(panel.loc[d == 1, country].unique())]
    frames = []
    for y in outcomes:
        p = placebo_timing(in_c, y, **placebo_kw)
        frames.append(p.assign(check="placebo_timing"))
    trimmed = mentoring_effects(panel, outcomes, estimators=("ipw", "aipw"), trim=trim, **kwargs)
    frames.append(trimmed.assign(check="trimmed_propensity",
                                 note=[f"propensity in [{trim}, {1 - trim}]" + (f"; {n}" if n else "")
                                       for n in trimmed["note"]]))
    for name, frame in (rescored or {}).items():
        e = mentoring_effects(frame, outcomes, estimators=("did_panel",), **kwargs)
        frames.append(e.assign(check=f"scheme={name}", note=f"scores recomputed with the {name} weights"))
    out = _concat(frames).reset_index(drop=True)
    keep = [*TIDY_COLUMNS, "term", "check", "note", "n_respondents_treated", "n_respondents_control"]
    out = out[[*keep, *(c for c in out.columns if c not in keep)]]
    out["note"] = out["note"].fillna("")
    for c in ("n_respondents_treated", "n_respondents_control"):
        out[c] = pd.array(out[c], dtype="Int64")
    out.attrs["count_cols"] = ["n_respondents_treated", "n_respondents_control"]
    return out


# ====================================================================== schemes from the data


def planted_effects(source: str | Any) -> dict[str, float] | None:
    """Planted mentoring effects of the synthetic dataset at ``source``, by score column; None otherwise.

    Parameters
    ----------
    source
        The input file or folder (``helpers.paths.data_source()``).  The synthetic
        generator writes ``truth.json`` beside the data (the file
        :func:`helpers.describe.is_synthetic` looks for); real exports have none.

    Returns
    -------
    dict or None
        ``{"score_composite": 0.04, "score_economic": ...}`` from the file's
        ``mentoring_effect``; None without a readable ``truth.json`` holding it.

    Examples
    --------
    >>> planted_effects("/nonexistent/folder") is None
    True
    """
    import json
    from pathlib import Path

    p = Path(source)
    f = (p if p.is_dir() else p.parent) / "truth.json"
    try:
        truth = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    eff = truth.get("mentoring_effect") if isinstance(truth, dict) else None
    if not isinstance(eff, Mapping):
        return None
    return {f"score_{k}": float(v) for k, v in eff.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def dimension_indicators(scored: pd.DataFrame) -> dict[str, list[str]]:
    """Indicator columns of each dimension of the scheme that scored ``scored`` (``{dim: ["ind_E1", ...]}``).

    Examples
    --------
    >>> from helpers.scheme import load_scheme
    >>> from helpers.describe import attach_scheme
    >>> cols = dimension_indicators(attach_scheme(pd.DataFrame(), load_scheme()))
    >>> list(cols), cols["economic"][:2]
    (['economic', 'social', 'psychosocial'], ['ind_E1', 'ind_E2'])
    """
    from .scored import scheme_info

    info = scheme_info(scored)
    out: dict[str, list[str]] = {d: [] for d in info["dimensions"]}
    for ind, meta in info["indicators"].items():
        out[meta["dimension"]].append(f"ind_{ind}")
    return out


def implied_weights(scored: pd.DataFrame, *, tol: float = 1e-6) -> pd.DataFrame:
    """The weights the data were scored with, recovered from the scores themselves.

    Returns
    -------
    pandas.DataFrame
        As :func:`scheme_weights`: ``dimension, indicator, weight`` (sums to 1 per
        dimension), ``dimension_weight`` (composite weight, sums to 1).
        ``attrs["max_abs_residual"]`` is the largest misfit (about 1e-15 when the
        scores are the weighted means below) and ``attrs["exact"]`` whether it is
        within ``tol``.

    Notes
    -----
    On surveys that answered every indicator of a dimension, the dimension score
    is exactly :math:`\\sum_I w_I\\,\\mathrm{ind}_I` with :math:`\\sum w_I = 1`, and the
    composite :math:`\\sum_d C_d\\,\\mathrm{dim}_d` (when the composite weights are
    proportional to the dimension weights, as in the default scheme); least
    squares on those rows recovers :math:`w` and :math:`C`.  This needs no scheme
    file, so it also works for data scored with an analyst's own scheme.  A
    residual above ``tol`` (e.g. composite weights not proportional to the
    dimension weights) means the weights are least-squares approximations.

    Examples
    --------
    >>> d = pd.DataFrame({"ind_A": [0.0, 1, 0.5, 1], "ind_B": [1.0, 0, 0.5, 1]})
    >>> d["score_x"] = 0.25 * d["ind_A"] + 0.75 * d["ind_B"]; d["score_composite"] = d["score_x"]
    >>> d.attrs["rss_scheme"] = {"dimensions": ["x"], "indicators": {"A": {"dimension": "x"}, "B": {"dimension": "x"}}}
    >>> implied_weights(d)["weight"].round(6).tolist()
    [0.25, 0.75]
    """
    cols = dimension_indicators(scored)
    rows = []
    worst = 0.0
    for d, inds in cols.items():
        sub = _clean(scored, [*inds, f"score_{d}"]).dropna()
        if len(sub) < len(inds):
            raise ValueError(f"implied_weights: only {len(sub)} surveys answered every indicator of {d!r} "
                             f"({', '.join(inds)}); need at least {len(inds)}")
        x = sub[inds].to_numpy(float)
        y = sub[f"score_{d}"].to_numpy(float)
        w, *_ = np.linalg.lstsq(x, y, rcond=None)
        worst = max(worst, float(np.max(np.abs(y - x @ w))))
        rows += [{"dimension": d, "indicator": i, "weight": float(v) / float(w.sum())} for i, v in zip(inds, w,
                                                                                                    strict=True)]
    dims = [f"score_{d}" for d in cols]
    sub = _clean(scored, [*dims, "score_composite"]).dropna()
    c, *_ = np.linalg.lstsq(sub[dims].to_numpy(float), sub["score_composite"].to_numpy(float), rcond=None)
    worst = max(worst, float(np.max(np.abs(sub["score_composite"].to_numpy(float) - sub[dims].to_numpy(float) @ c))))
    dim_w = dict(zip(cols, c / c.sum(), strict=True))
    out = pd.DataFrame(rows)
    out["dimension_weight"] = out["dimension"].map(dim_w).astype(float)
    out.attrs["max_abs_residual"] = worst
    out.attrs["exact"] = worst <= tol
    return out


def pca_rescore(scored: pd.DataFrame, *, min_weight: float = 0.6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rescore with first-principal-component weights per dimension, keeping the scheme's composite weights.

    Returns
    -------
    weights : pandas.DataFrame
        :func:`pca_weights` of each dimension's indicators (:func:`dimension_indicators`).
    rescored : pandas.DataFrame
        :func:`rescore` of ``scored`` with those weights; the dimensions enter the
        composite with the weights the data were scored with (:func:`implied_weights`).

    Notes
    -----
    ``min_weight`` is the share of a dimension's weight that must be answered
    (the default scheme's 0.6).
    """
    pw = pca_weights(scored, dimension_indicators(scored))
    sw = implied_weights(scored)
    dw = dict(zip(sw["dimension"], sw["dimension_weight"], strict=False))
    return pw, rescore(scored, pw, dimension_weights=dw, min_weight=min_weight)


def rank_table(a: pd.DataFrame, b: pd.DataFrame, *, names: tuple[str, str] = ("scheme", "pca"),
               by: str = "country", columns: Sequence[str] = OUTCOMES, entity: str = "respondent_id",
               min_n: int = 1) -> pd.DataFrame:
    """Group means and ranks under two scorings, side by side (e.g. countries under scheme and PCA weights).

    Returns
    -------
    pandas.DataFrame
        One row per group and score: ``<by>, score, n_respondents, mean_<a>,
        mean_<b>, difference, rank_<a>, rank_<b>, rank_change`` (1 = highest mean;
        groups with fewer than ``min_n`` respondents are not ranked).
        ``attrs`` declare the keys and the count column.

    Examples
    --------
    >>> a = pd.DataFrame({"country": list("AABBCC"), "respondent_id": range(6), "s": [1, 2, 3, 4, 5, 6.0]})
    >>> b = a.assign(s=[2, 2, 1, 1, 9, 9.0])
    >>> rank_table(a, b, columns=["s"])[["country", "rank_scheme", "rank_pca", "rank_change"]].values.tolist()
    [['A', 3, 2, 1], ['B', 2, 3, -1], ['C', 1, 1, 0]]
    """
    na, nb = names
    rows = []
    for c in columns:
        if c not in a.columns or c not in b.columns:
            continue
        ga = a[a[c].notna()].groupby(by, observed=True).agg(n=(entity, "nunique"), m=(c, "mean"))
        gb = b[b[c].notna()].groupby(by, observed=True).agg(n=(entity, "nunique"), m=(c, "mean"))
        m = ga.add_suffix("_a").join(gb.add_suffix("_b"), how="outer")
        n = m[["n_a", "n_b"]].fillna(0).min(axis=1).astype(int)
        ok = n >= min_n
        ra = m["m_a"].where(ok).rank(ascending=False, method="min")
        rb = m["m_b"].where(ok).rank(ascending=False, method="min")
        rows.append(pd.DataFrame({by: m.index.astype(str), "score": c.removeprefix("score_"), "n_respondents": n,
                                  f"mean_{na}": m["m_a"], f"mean_{nb}": m["m_b"], "difference": m["m_b"] - m["m_a"],
                                  f"rank_{na}": pd.array(ra, dtype="Int64"), f"rank_{nb}": pd.array(rb, dtype="Int64"),
                                  "rank_change": pd.array(ra - rb, dtype="Int64")}))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    out.attrs = {"keys": [by, "score"], "count_cols": ["n_respondents"]}
    return out


# ================================================================= key numbers and headlines


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _p_text(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _big_enough(r: Mapping[str, Any], cols: Sequence[str], thr: int) -> bool:
    return all((_f(r.get(c)) or 0) >= thr for c in cols)


def merge_numbers(*mappings: Mapping[str, Any]) -> dict[str, Any]:
    """Merge numbers mappings for one section: later keys win; ``headlines`` and ``summary_keys`` lists join.

    Examples
    --------
    >>> merge_numbers({"a": 1, "headlines": ["x"]}, {"b": 2, "headlines": ["y"]})
    {'a': 1, 'headlines': ['x', 'y'], 'b': 2}
    """
    out: dict[str, Any] = {}
    for m in mappings:
        for k, v in m.items():
            if k in ("headlines", "summary_keys") and isinstance(v, list):
                out[k] = [*out.get(k, []), *v]
            else:
                out[k] = v
    return out


def interdependence_numbers(table: pd.DataFrame, *, economic: str = "score_economic",
                            min_n: int | None = None) -> dict[str, Any]:
    """Key numbers and a headline from the interdependence table (correlations, on-economic, cross-lagged).

    Parameters
    ----------
    table
        :func:`combine` of :func:`dimension_correlations` (``group`` ``"all"`` =
        pooled), :func:`fit_on_economic` and :func:`cross_lagged` rows.
    min_n
        Disclosure threshold: rows with fewer respondents give ``None``.

    Returns
    -------
    dict
        ``corr_first_<a>_<b>`` (pooled, first surveys) with ``_ci_low``/``_ci_high``;
        ``on_economic_<dim>`` (and ``on_economic_controls_<dim>``) with CI and p;
        ``cross_lag_<x>_to_<y>`` with CI; ``economic_foundational`` (the economic
        score's cross-lags on every other dimension are positive, with CIs above 0,
        and larger than the reverse ones); ``headlines``.
    """
    from .disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    eco = economic.removeprefix("score_")
    out: dict[str, Any] = {}
    recs = table.to_dict("records")

    def ok(r: Mapping[str, Any]) -> bool:
        return _big_enough(r, ["n_respondents"] if "n_respondents" in r else ["n_obs"], thr)

    for r in recs:
        a, b = str(r.get("term", "")).removeprefix("score_"), str(r["outcome"]).removeprefix("score_")
        est = r["estimator"]
        vals = (r["estimate"], r["ci_lower"], r["ci_upper"], r["p_value"]) if ok(r) else (None,) * 4
        if est.endswith("_correlation") and r.get("group") == "all":
            key = f"corr_first_{a}_{b}"
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2])})
        elif est.startswith("ols_on_economic"):
            key = est.replace("ols_", "", 1) + f"_{b}"
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2]),
                        f"{key}_p": _f(vals[3])})
        elif est == "cross_lagged" and bool(r.get("cross_lag")):
            x = a.removesuffix("_lag")
            key = f"cross_lag_{x}_to_{b}"
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2])})
    others = sorted({k.rsplit("_to_", 1)[1] for k in out if k.startswith(f"cross_lag_{eco}_to_")
                     and not k.endswith(("_ci_low", "_ci_high"))})
    pairs = [(out.get(f"cross_lag_{eco}_to_{d}"), out.get(f"cross_lag_{eco}_to_{d}_ci_low"),
              out.get(f"cross_lag_{d}_to_{eco}")) for d in others]
    known = [p for p in pairs if None not in p]
    found = bool(known) and len(known) == len(pairs) and all(f > 0 and lo > 0 and f > r for f, lo, r in known)
    out["economic_foundational"] = found if known else None
    heads = []
    on = [(d, out.get(f"on_economic_{d}")) for d in ("social", "psychosocial")]
    if all(v is not None for _, v in on):
        h = ("The dimensions move together: surveys with a 0.1 higher economic score have "
             + " and ".join(f"{0.1 * v:.3f} higher {d}" for d, v in on)
             + " scores (country fixed effects; an association, not an effect)")
        if known:
            lagged = ", ".join(f"{d} {out[f'cross_lag_{eco}_to_{d}']:.3f} (reverse "
                               f"{out[f'cross_lag_{d}_to_{eco}']:.3f})" for d in others)
            if found:
                h += (f". Across waves the economic score predicts the next wave's other dimensions beyond their own "
                      f"past more than they predict it ({lagged}): consistent with the economic dimension being "
                      f"foundational")
            else:
                h += (f". Whether the economic dimension leads: across waves it predicts the next wave's other "
                      f"dimensions beyond their own past, but they predict it as much or more ({lagged}), so these "
                      f"data do not single out the economic dimension as foundational")
        heads.append(h + ".")
    out["headlines"] = heads
    return out


def mentoring_numbers(effects: pd.DataFrame, *, planted: Mapping[str, float] | None = None,
                      balance: pd.DataFrame | None = None, robustness: pd.DataFrame | None = None,
                      heterogeneity: pd.DataFrame | None = None, min_n: int | None = None) -> dict[str, Any]:
    """Key numbers and headlines of the mentoring section, under disclosure control.

    Parameters
    ----------
    effects
        :func:`mentoring_effects` rows.
    planted
        :func:`planted_effects` (synthetic data only): each outcome's planted effect.
    balance
        :func:`balance_table` at baseline (its ``attrs["joint_test"]`` too).
    robustness, heterogeneity
        :func:`robustness` and :func:`heterogeneity` rows.
    min_n
        Disclosure threshold: an estimate whose :data:`EFFECT_COUNTS` fall below it gives ``None``.

    Returns
    -------
    dict
        ``countries``; per outcome ``<est>_<dim>`` for every estimator (``raw``,
        ``ols_fe``, ``ipw``, ``aipw``, ``did``), ``did_<dim>_ci_low``/``_ci_high``/``_p``
        and ``raw_<dim>_ci_low``/``_ci_high``; ``planted_<dim>`` and
        ``did_covers_planted_<dim>`` with ``planted``; the DiD sample counts;
        ``baseline_diff_<dim>``, ``baseline_normdiff_<dim>``, ``joint_test_f``,
        ``joint_test_p``; ``placebo_identified``, ``placebo_note``,
        ``trimmed_ipw_composite``, ``trimmed_aipw_composite``,
        ``scheme_<name>_did_composite``; ``sex_difference_composite`` with p;
        ``headlines``; ``summary_keys`` (what the report's summary shows).
    """
    from .disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    short = {"raw_difference": "raw", "did_panel": "did"}
    out: dict[str, Any] = {"disclosure_threshold": thr}
    recs = effects.to_dict("records")
    countries = sorted({c.strip() for r in recs for c in str(r.get("sample", "")).partition("(")[2]
                        .partition(")")[0].split(",") if c.strip()})
    out["countries"] = countries
    for r in recs:
        dim = str(r["outcome"]).removeprefix("score_")
        p = short.get(r["estimator"], r["estimator"])
        big = _big_enough(r, [c for c in EFFECT_COUNTS if c in r], thr)
        out[f"{p}_{dim}"] = _f(r["estimate"]) if big else None
        if p in ("did", "raw"):
            out[f"{p}_{dim}_ci_low"] = _f(r["ci_lower"]) if big else None
            out[f"{p}_{dim}_ci_high"] = _f(r["ci_upper"]) if big else None
            out[f"{p}_{dim}_p"] = _f(r["p_value"]) if big else None
        if p == "did" and dim == "composite":
            for c in ("n_obs", "n_clusters", "n_respondents_treated", "n_respondents_control"):
                out[f"did_{c}"] = int(r[c]) if big and _f(r.get(c)) is not None else None
        if p == "did" and planted and r["outcome"] in planted:
            v = float(planted[r["outcome"]])
            out[f"planted_{dim}"] = v
            lo, hi = out[f"did_{dim}_ci_low"], out[f"did_{dim}_ci_high"]
            out[f"did_covers_planted_{dim}"] = None if lo is None else bool(lo <= v <= hi)
    if balance is not None and len(balance):
        bal_counts = [c for c in balance.attrs.get("count_cols", ["n_control", "n_treated"]) if c in balance]
        for r in balance.to_dict("records"):
            var = str(r["variable"])
            if var.startswith("score_") and _big_enough(r, bal_counts, thr):
                dim = var.removeprefix("score_")
                out[f"baseline_diff_{dim}"] = _f(r["difference"])
                out[f"baseline_normdiff_{dim}"] = _f(r["normalized_difference"])
        jt = balance.attrs.get("joint_test") or {}
        out["joint_test_f"] = _f(jt.get("statistic"))
        out["joint_test_p"] = _f(jt.get("p_value"))
    if robustness is not None and len(robustness):
        rob = robustness.to_dict("records")
        counts = robustness.attrs.get("count_cols", ["n_respondents_treated", "n_respondents_control"])
        plc = [r for r in rob if r["check"] == "placebo_timing" and r["outcome"] == "score_composite"]
        if plc:
            identified = _f(plc[0]["estimate"]) is not None
            out["placebo_identified"] = identified
            out["placebo_note"] = str(plc[0].get("note") or "")
            if identified and _big_enough(plc[0], counts, thr):
                out["placebo_composite"] = _f(plc[0]["estimate"])
                out["placebo_composite_ci_low"] = _f(plc[0]["ci_lower"])
                out["placebo_composite_ci_high"] = _f(plc[0]["ci_upper"])
        for r in rob:
            if r["outcome"] != "score_composite" or not _big_enough(r, counts, thr):
                continue
            if r["check"] == "trimmed_propensity":
                out[f"trimmed_{r['estimator']}_composite"] = _f(r["estimate"])
            elif str(r["check"]).startswith("scheme="):
                out[f"scheme_{r['check'].split('=', 1)[1]}_did_composite"] = _f(r["estimate"])
    if heterogeneity is not None and len(heterogeneity):
        counts = heterogeneity.attrs.get("count_cols", ["n_respondents_treated", "n_respondents_control"])
        for r in heterogeneity.to_dict("records"):
            if r["by"] == "sex" and r["estimator"] == "did_difference" and _big_enough(r, counts, thr):
                out["sex_difference_composite"] = _f(r["estimate"])
                out["sex_difference_composite_p"] = _f(r["p_value"])
    # ---- headlines
    heads = []
    did, lo, hi = out.get("did_composite"), out.get("did_composite_ci_low"), out.get("did_composite_ci_high")
    where = ", ".join(countries) if countries else "the countries where it ran"
    if did is not None and lo is not None:
        h = (f"Mentoring effect on the composite score: {did:.3f} (95% CI {lo:.3f} to {hi:.3f}, "
             f"{_p_text(out.get('did_composite_p'))}; difference-in-differences with respondent and wave effects, "
             f"{out['did_n_respondents_treated']:,} respondents surveyed after their mentoring began and "
             f"{out['did_n_respondents_control']:,} others in {where})")
        if out.get("planted_composite") is not None:
            inside = "inside" if out.get("did_covers_planted_composite") else "outside"
            h += f"; the effect planted in the synthetic data is {out['planted_composite']:.3f}, {inside} the interval"
        heads.append(h + ".")
    else:
        heads.append(f"The difference-in-differences estimate of the mentoring effect on the composite score is not "
                     f"available for {where} (too few respondents, or no mentored respondent observed before and "
                     f"after the start).")
    raw = out.get("raw_composite")
    if raw is not None and did:
        adj = [out.get(f"{e}_composite") for e in ("ols_fe", "ipw", "aipw")]
        adj = [a for a in adj if a is not None]
        h = f"The raw mentored-vs-not difference in the composite ({raw:.3f}) is {raw / did:.1f} times the DiD estimate"
        base = out.get("baseline_diff_composite")
        if base is not None:
            h += (f": before mentoring started, future mentees already scored {abs(base):.3f} "
                  f"{'higher' if base > 0 else 'lower'} (baseline)")
        if adj:
            span = f"{min(adj):.3f}" if f"{min(adj):.3f}" == f"{max(adj):.3f}" else f"{min(adj):.3f} to {max(adj):.3f}"
            h += f"; regression, IPW and AIPW, which adjust for observed characteristics only, give {span}"
        heads.append(h + ".")
    dims = [d for d in ("economic", "social", "psychosocial") if out.get(f"did_{d}") is not None]
    if dims:
        h = "By dimension (DiD): " + ", ".join(
            f"{d} {out[f'did_{d}']:.3f} ({out[f'did_{d}_ci_low']:.3f} to {out[f'did_{d}_ci_high']:.3f})" for d in dims)
        if all(out.get(f"planted_{d}") is not None for d in dims):
            h += "; planted " + ", ".join(f"{out[f'planted_{d}']:.3f}" for d in dims)
        heads.append(h + ".")
    if out.get("placebo_identified") is False:
        heads.append("The placebo-timing check is not identified on these data: no mentored respondent has two "
                     "surveys before mentoring started, so pre-trends cannot be tested; the DiD rests on the "
                     "parallel-trends assumption.")
    elif out.get("placebo_composite") is not None:
        heads.append(f"Placebo timing (mentoring pretended to start one wave early): {out['placebo_composite']:.3f} "
                     f"(95% CI {out['placebo_composite_ci_low']:.3f} to {out['placebo_composite_ci_high']:.3f}).")
    out["headlines"] = heads
    out["summary_keys"] = [k for k in ("did_composite", "did_composite_ci_low", "did_composite_ci_high",
                                       "planted_composite", "raw_composite", "aipw_composite",
                                       "baseline_diff_composite", "did_n_respondents_treated") if k in out]
    return out


def weight_numbers(rank_correlation: pd.DataFrame, effects: pd.DataFrame, *, weights: pd.DataFrame | None = None,
                   names: tuple[str, str] = ("scheme", "pca"), min_n: int | None = None) -> dict[str, Any]:
    """Key numbers and a headline of the weight-sensitivity section.

    Parameters
    ----------
    rank_correlation
        :func:`compare_rankings` of the two scorings.
    effects
        :func:`effects_by_scheme` rows (``scheme`` column with ``names``).
    weights
        :func:`compare_weights` (``scheme_weight``, ``pca_weight``).

    Returns
    -------
    dict
        ``spearman_<dim>``, ``max_rank_change_<dim>``, ``n_countries_ranked``;
        ``<est>_composite_<name>`` (and the DiD CI) under each scoring,
        ``did_composite_change``; ``max_weight_difference`` and its indicator;
        ``headlines``; ``summary_keys``.
    """
    from .disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    a, b = names
    out: dict[str, Any] = {}
    for r in rank_correlation.to_dict("records"):
        dim = str(r["score"]).removeprefix("score_")
        out[f"spearman_{dim}"] = _f(r["spearman"])
        out[f"max_rank_change_{dim}"] = None if _f(r["max_rank_change"]) is None else int(r["max_rank_change"])
        if dim == "composite":
            out["n_countries_ranked"] = int(r["n_groups"])
    short = {"raw_difference": "raw", "did_panel": "did"}
    for r in effects.to_dict("records"):
        if r["outcome"] != "score_composite" or not _big_enough(r, [c for c in EFFECT_COUNTS if c in r], thr):
            continue
        p = short.get(r["estimator"], r["estimator"])
        out[f"{p}_composite_{r['scheme']}"] = _f(r["estimate"])
        if p == "did":
            out[f"did_composite_{r['scheme']}_ci_low"] = _f(r["ci_lower"])
            out[f"did_composite_{r['scheme']}_ci_high"] = _f(r["ci_upper"])
    da, db = out.get(f"did_composite_{a}"), out.get(f"did_composite_{b}")
    out["did_composite_change"] = None if da is None or db is None else db - da
    if weights is not None and len(weights):
        diff = (weights["pca_weight"] - weights["scheme_weight"]).abs()
        i = int(diff.to_numpy().argmax())
        out["max_weight_difference"] = _f(diff.iloc[i])
        out["max_weight_difference_indicator"] = str(weights["indicator"].iloc[i])
    heads = []
    rho, k, n = out.get("spearman_composite"), out.get("max_rank_change_composite"), out.get("n_countries_ranked")
    if rho is not None:
        how = "change little" if rho >= 0.9 else ("change somewhat" if rho >= 0.7 else "change markedly")
        h = (f"With weights derived from the data (first principal component of each dimension's indicators) instead "
             f"of the scheme's, country rankings on the composite {how}: Spearman rank correlation {rho:.3f} over "
             f"{n} countries, largest move {k} place{'s' if k != 1 else ''}")
        if da is not None and db is not None:
            h += (f"; the DiD mentoring effect on the composite is {db:.3f} (95% CI "
                  f"{out[f'did_composite_{b}_ci_low']:.3f} to {out[f'did_composite_{b}_ci_high']:.3f}) against "
                  f"{da:.3f} with the scheme's weights")
        heads.append(h + ".")
    out["headlines"] = heads
    out["summary_keys"] = [k for k in ("spearman_composite", "max_rank_change_composite", f"did_composite_{a}",
                                       f"did_composite_{b}") if k in out]
    return out


# ======================================================================= more figures


def plot_overlap(overlap: pd.DataFrame, *, bounds: tuple[float, float] = (0.05, 0.95), title: str = "") -> Figure:
    """Propensity-score overlap from :func:`overlap_table`: 5-25-50-75-95% quantiles per group.

    Only quantiles are drawn (no single respondent's value such as the min or max).

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1] * 20, "x": np.arange(40.0) % 7})
    >>> type(plot_overlap(overlap_table(d, "t", ["x"]))).__name__
    'Figure'
    """
    from matplotlib.patches import Rectangle

    fig = _figure(figsize=(6.5, 2.4))
    ax = fig.subplots()
    groups = [g for g in ("treated", "control") if g in overlap.index]
    for i, g in enumerate(groups):
        r = overlap.loc[g]
        ax.plot([r["p05"], r["p95"]], [i, i], color="#1f4e79", lw=1.2)
        ax.add_patch(Rectangle((r["p25"], i - 0.2), r["p75"] - r["p25"], 0.4, facecolor="#9ecae1",
                               edgecolor="#1f4e79"))
        ax.plot([r["median"]] * 2, [i - 0.2, i + 0.2], color="#08306b", lw=2)
    for b in bounds:
        ax.axvline(b, color="#c0392b", lw=0.8, ls=":")
    ax.set_yticks(range(len(groups)), [f"{g} (5-95%)" for g in groups])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(groups) - 0.4)
    ax.set_xlabel("estimated propensity score")
    share = overlap.loc["all", "share_outside"] if "all" in overlap.index else np.nan
    ax.set_title(title or f"Overlap: {share:.1%} of rows outside [{bounds[0]}, {bounds[1]}]", fontsize="medium")
    return fig


def plot_weights(weights: pd.DataFrame, *, names: tuple[str, str] = ("scheme_weight", "pca_weight"),
                 title: str = "") -> Figure:
    """Scheme and PCA weights of each indicator side by side (:func:`compare_weights`).

    Examples
    --------
    >>> w = pd.DataFrame({"dimension": ["x", "x"], "indicator": ["ind_A", "ind_B"], "scheme_weight": [0.5, 0.5],
    ...                   "pca_weight": [0.6, 0.4]})
    >>> len(plot_weights(w).axes)
    1
    """
    fig = _figure(figsize=(6.5, 0.28 * len(weights) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(weights))[::-1]
    for k, (col, colour) in enumerate(zip(names, ("#9ecae1", "#1f4e79"), strict=True)):
        ax.barh(y + (0.2 if k == 0 else -0.2), weights[col].to_numpy(float), height=0.4, color=colour,
                label=col.removesuffix("_weight"))
    ax.set_yticks(y, [f"{d[:3]} · {i.removeprefix('ind_')}" for d, i in zip(weights["dimension"],
                                                                          weights["indicator"], strict=True)])
    ax.set_xlabel("weight within the dimension")
    ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title, fontsize="medium")
    return fig


def plot_rank_shift(ranks: pd.DataFrame, *, score: str = "composite", names: tuple[str, str] = ("scheme", "pca"),
                    by: str = "country", title: str = "") -> Figure:
    """Slope chart of group ranks under two scorings (:func:`rank_table`); unranked groups are left out.

    Examples
    --------
    >>> a = pd.DataFrame({"country": list("AABBCC"), "respondent_id": range(6), "score_composite": [1, 2, 3, 4, 5, 6.]})
    >>> len(plot_rank_shift(rank_table(a, a.assign(score_composite=[6, 5, 4, 3, 2, 1.]))).axes)
    1
    """
    a, b = names
    sub = ranks[(ranks["score"] == score) & ranks[f"rank_{a}"].notna() & ranks[f"rank_{b}"].notna()]
    fig = _figure(figsize=(4.8, 0.28 * max(len(sub), 3) + 1.2))
    ax = fig.subplots()
    for r in sub.itertuples(index=False):
        ra, rb = float(getattr(r, f"rank_{a}")), float(getattr(r, f"rank_{b}"))
        ax.plot([0, 1], [ra, rb], color="#c0392b" if ra != rb else "#1f4e79", lw=1, marker="o", ms=3)
        name = str(getattr(r, by))
        ax.text(-0.04, ra, name, ha="right", va="center", fontsize="small")
        ax.text(1.04, rb, name, ha="left", va="center", fontsize="small")
    ax.set_xlim(-0.4, 1.4)
    ax.set_xticks([0, 1], [a, b])
    ax.invert_yaxis()
    ax.set_ylabel("rank (1 = highest mean)")
    ax.set_title(title or f"{score}: rank under {a} and {b} weights", fontsize="medium")
    return fig
