"""The result contract of every estimator: :data:`TIDY_COLUMNS`, the study's outcome, covariate and estimator
lists, the covariance labels written in each row's ``cov_type``, and :func:`tidy`, which builds the rows.

Imports: no other helpers module only.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

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


DAYS_PER_MONTH = 365.25 / 12


CR1_COV = "cluster-robust CR1 by {c}, t(G-1)"


HC1_COV = "heteroskedasticity-robust HC1, t(N-K)"


NONROBUST_COV = "conventional (homoskedastic), t(N-K)"


DID_COV = ("cluster-robust by {c} (PanelOLS clustered, debiased, group_debias, absorbed effects not counted: "
            "G/(G-1)*(N-1)/(N-K) as Stata xtreg fe vce(cluster)), t(G-1)")


M_COV = "M-estimation sandwich (propensity estimated), cluster-robust by {c}, G/(G-1), t(G-1)"


M_COV_HC0 = "M-estimation sandwich (propensity estimated), HC0, normal"


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


def empty_tidy(extra: Sequence[str] = ()) -> pd.DataFrame:
    return pd.DataFrame(columns=[*TIDY_COLUMNS, "term", *extra])


def concat_rows(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_tidy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # all-NA columns in concat
        return pd.concat(frames, ignore_index=True)
