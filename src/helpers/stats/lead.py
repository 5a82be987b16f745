"""Does the economic dimension lead? Within-person cross-lags by first differences with lagged levels as
instruments (Anderson & Hsiao 1982), in both directions, and a verdict that depends on the estimates only.

Why this model
--------------
A cross-lagged regression in levels (:func:`~helpers.stats.interdependence.cross_lagged`) mixes two things:
stable differences between people (able returnees score high on every dimension at every wave) and change
within a person. The first makes every lagged score predict every other one, in both directions, whether or
not one dimension drives another (Hamaker, Kuiper & Grasman 2015, *Psychological Methods* 20(1), the
argument for the random-intercept cross-lagged panel model). Within-person change is what "the economic
dimension leads" is about, so the respondent's stable level has to go. Two ways do that:

* the random-intercept cross-lagged panel model (RI-CLPM), a structural equation model; it needs a SEM
  package (none among our pinned, registry-maintained dependencies fits a clustered panel with missing
  waves) and, with three waves, leaves its cross-lags barely identified;
* first differences, which remove the respondent's level exactly. With a lagged outcome in the model, the
  differenced lag is correlated with the differenced error, so it is instrumented by levels two waves back
  (Anderson & Hsiao 1982, *Journal of Econometrics* 18(1)); OLS with respondent fixed effects and lags would
  be biased by O(1/T), badly so with three waves (Nickell 1981).

We use the second. For respondent *i* with waves t-2, t-1, t and dimensions x, y:

.. math:: \\Delta y_{it} = a\\,\\Delta y_{i,t-1} + b\\,\\Delta x_{i,t-1} + \\Delta z_{it}'\\gamma + \\Delta e_{it},
          \\qquad \\text{instruments } y_{i,t-2},\\ x_{i,t-2},

estimated by two-stage least squares (``linearmodels.iv.IV2SLS``), standard errors clustered by respondent.
:math:`z` holds months since return and its square, mentoring status at t and t-1, and calendar quarters of
the survey dates (differenced like everything else), so neither the concave path after return, mentoring nor
a calendar shock such as COVID-19 is read as one dimension leading the other. The same model with x and y
swapped gives the reverse cross-lag. Validity needs the wave-t error to be unrelated to levels at t-2 (no
autocorrelated shocks beyond one wave), which ``make validate`` checks on planted data.

The verdict
-----------
For one other dimension, with the 95% intervals of the cross-lag :math:`b` (x -> y) and of the reverse:

* **leads**: the interval of :math:`b` lies above 0 and the reverse one does not;
* **does not lead**: the interval of :math:`b` lies below the smallest effect of interest
  (:data:`SESOI`, 0.05 score points per score point): any lead there is, is negligible;
* **cannot tell at this size**: anything else (too few respondents with three waves, or both directions).

The economic dimension "leads" the others only when it leads each of them (an intersection-union test, so
the false "leads" rate is at most that of one test, 2.5%); it "does not lead" when it does not lead any.

Imports: helpers.stats.contract, helpers.stats.covariance, helpers.stats.prep only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import TIDY_COLUMNS, concat_rows, tidy
from .prep import require_columns

#: The smallest lead of interest (score points per score point of the other dimension, one wave later).
SESOI = 0.05

#: The three verdicts, in the order the report explains them.
VERDICTS = ("leads", "does not lead", "cannot tell at this size")

ESTIMATOR = "first_difference_iv"


def _wide(panel: pd.DataFrame, cols: Sequence[str], entity: str, time: str) -> pd.DataFrame:
    """Rows (respondent, t) with columns ``<col>@0``, ``@1``, ``@2`` for waves t, t-1, t-2 (all present)."""
    d = panel[[entity, time, *cols]].copy()
    d[time] = pd.to_numeric(d[time], errors="coerce")
    d = d.dropna(subset=[time]).drop_duplicates([entity, time])
    out = d.rename(columns={c: f"{c}@0" for c in cols})
    for k in (1, 2):
        back = d.assign(**{time: d[time] + k}).rename(columns={c: f"{c}@{k}" for c in cols})
        out = out.merge(back, on=[entity, time], how="inner")
    return out.dropna().reset_index(drop=True)


def _controls(panel: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Months since return (and squared), mentoring status and the survey's calendar quarter, where known."""
    d = panel.copy()
    names: list[str] = []
    if "survey_date" in d:
        sd = pd.to_datetime(d["survey_date"], errors="coerce")
        if "return_date" in d:
            m = (sd - pd.to_datetime(d["return_date"], errors="coerce")).dt.days / 30.4375
            d["_months"], d["_months_sq"] = m, (m / 10.0) ** 2
            names += ["_months", "_months_sq"]
        if "mentored" in d and "mentoring_start" in d:
            start = pd.to_datetime(d["mentoring_start"], errors="coerce")
            d["_mentoring"] = ((pd.to_numeric(d["mentored"], errors="coerce") == 1) & (sd >= start)).astype(float)
            names.append("_mentoring")
        d["_quarter"] = (sd.dt.year * 4 + sd.dt.quarter - 1).astype("Float64")
    return d, names


def _independent(exog: pd.DataFrame, endog: pd.DataFrame) -> pd.DataFrame | None:
    """``exog`` without the control columns that are linear combinations of the earlier ones and the lags
    (small data: a calendar quarter that only one wave pair has); None when the lags themselves are not
    independent of the constant.  On full-rank data nothing is dropped, so the estimates are unchanged."""
    cols = ["const"]
    base = np.column_stack([endog.to_numpy(float), exog[["const"]].to_numpy(float)])
    if np.linalg.matrix_rank(base) < base.shape[1]:
        return None
    for c in exog.columns.drop("const"):
        trial = np.column_stack([base, exog[c].to_numpy(float)])
        if np.linalg.matrix_rank(trial) == trial.shape[1]:
            base, cols = trial, [*cols, c]
    return exog[cols]


def _one_direction(w: pd.DataFrame, x: str, y: str, controls: list[str], entity: str, time: str,
                   level: float) -> pd.DataFrame:
    from linearmodels.iv import IV2SLS

    from .covariance import use_fast_cov_cluster

    use_fast_cov_cluster()
    dep = w[f"{y}@0"] - w[f"{y}@1"]
    endog = pd.DataFrame({f"{y}_lag": w[f"{y}@1"] - w[f"{y}@2"], f"{x}_lag": w[f"{x}@1"] - w[f"{x}@2"]})
    instr = pd.DataFrame({f"{y}_lag2": w[f"{y}@2"], f"{x}_lag2": w[f"{x}@2"]})
    exog = pd.DataFrame({"const": 1.0}, index=w.index)
    for c in controls:
        exog[f"d{c}_t"] = w[f"{c}@0"] - w[f"{c}@1"]
    if "_mentoring" in controls:
        exog["d_mentoring_t1"] = w["_mentoring@1"] - w["_mentoring@2"]
    if "_quarter@0" in w:
        quarters = sorted(set(w["_quarter@0"]) | set(w["_quarter@1"]))
        for q in quarters[1:]:
            exog[f"q{int(q)}"] = (w["_quarter@0"] == q).astype(float) - (w["_quarter@1"] == q).astype(float)
    for t in sorted(w[time].unique())[1:]:
        exog[f"wave{int(t)}"] = (w[time] == t).astype(float)
    exog = exog.loc[:, (exog != 0).any() | (exog.columns == "const")]
    exog = exog.loc[:, ~exog.T.duplicated()]
    exog = _independent(exog, endog)
    if exog is None or np.linalg.matrix_rank(np.column_stack([exog, instr])) < exog.shape[1] + instr.shape[1]:
        return pd.DataFrame()  # the two lags are not identified on these rows (small or degenerate data)
    codes = pd.factorize(w[entity])[0]
    res = IV2SLS(dep, exog, endog, instr).fit(cov_type="clustered", clusters=codes, debiased=True)
    terms = [f"{x}_lag", f"{y}_lag"]
    n_resp = int(w[entity].nunique())
    t = tidy(res.params[terms], res.std_errors[terms], outcome=y, estimator=ESTIMATOR, n_obs=int(res.nobs),
             n_clusters=n_resp, cov_type="cluster", df=n_resp - 1, level=level,
             extra={"direction": f"{x} -> {y}", "cross_lag": [True, False], "n_respondents": n_resp})
    return t


def fit_lead(panel: pd.DataFrame, x: str = "score_economic", y: str = "score_social", *,
             entity: str = "respondent_id", time: str = "wave", level: float = 0.95) -> pd.DataFrame:
    """Within-person cross-lags of ``x`` on ``y`` and of ``y`` on ``x`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Four rows, :data:`TIDY_COLUMNS` + ``term`` (``<x>_lag`` the cross-lag, ``<y>_lag`` the
        autoregression), ``direction`` (``"x -> y"`` then ``"y -> x"``), ``cross_lag``, ``n_respondents``
        (respondents with three consecutive waves). Empty (with those columns) when fewer than 10 such
        respondents exist or the lags are not identified on them.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n, lead = 4000, 0.4
    >>> a, b = rng.normal(size=n), rng.normal(size=n)     # stable levels: every lag predicts in levels
    >>> x = a[:, None] + rng.normal(size=(n, 3))
    >>> y = b[:, None] + rng.normal(size=(n, 3))
    >>> y[:, 1:] += lead * x[:, :-1]
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), 3), "t": np.tile([1, 2, 3], n),
    ...                   "x": x.ravel(), "y": y.ravel()})
    >>> r = fit_lead(d, "x", "y", entity="id", time="t").set_index("direction")
    >>> bool(r.loc["x -> y", "ci_lower"].min() < lead < r.loc["x -> y", "ci_upper"].max())
    True
    """
    require_columns(panel, [entity, time, x, y], "fit_lead")
    d, controls = _controls(panel)
    cols = [x, y, *controls] + (["_quarter"] if "_quarter" in d else [])
    w = _wide(d, cols, entity, time)
    if w[entity].nunique() < 10:
        return pd.DataFrame(columns=[*TIDY_COLUMNS, "term", "direction", "cross_lag", "n_respondents"])
    fits = [_one_direction(w, x, y, controls, entity, time, level),
            _one_direction(w, y, x, controls, entity, time, level)]
    if any(f.empty for f in fits):
        return pd.DataFrame(columns=[*TIDY_COLUMNS, "term", "direction", "cross_lag", "n_respondents"])
    return concat_rows(fits)


def verdict(table: pd.DataFrame, x: str, y: str, *, sesoi: float = SESOI) -> str:
    """One of :data:`VERDICTS` for "``x`` leads ``y``" from :func:`fit_lead` rows (the rule in the module docstring)."""
    rows = table[table["cross_lag"].astype(bool)] if len(table) else table
    fwd = rows[(rows["term"] == f"{x}_lag") & (rows["outcome"] == y)] if len(rows) else rows
    rev = rows[(rows["term"] == f"{y}_lag") & (rows["outcome"] == x)] if len(rows) else rows
    if len(fwd) != 1 or len(rev) != 1 or pd.isna(fwd["ci_lower"].iloc[0]):
        return VERDICTS[2]
    lo, hi = float(fwd["ci_lower"].iloc[0]), float(fwd["ci_upper"].iloc[0])
    rev_lo = float(rev["ci_lower"].iloc[0])
    if lo > 0 and not rev_lo > 0:
        return VERDICTS[0]
    if hi < sesoi:
        return VERDICTS[1]
    return VERDICTS[2]


def overall_verdict(verdicts: Mapping[str, str]) -> str:
    """"leads" when the dimension leads every other one, "does not lead" when it leads none of them and
    none is uncertain, otherwise "cannot tell at this size"."""
    vs = list(verdicts.values())
    if vs and all(v == VERDICTS[0] for v in vs):
        return VERDICTS[0]
    if vs and all(v == VERDICTS[1] for v in vs):
        return VERDICTS[1]
    return VERDICTS[2]


def planted_lead(source: str | Path) -> dict[str, float] | None:
    """The lead planted in the synthetic dataset at ``source`` (``truth.json``'s ``economic_lead``), per
    other dimension's score column; None for data without it (real exports).

    >>> planted_lead("/nonexistent/folder") is None
    True
    """
    p = Path(source)
    f = (p if p.is_dir() else p.parent) / "truth.json"
    try:
        leads = json.loads(f.read_text())["economic_lead"]["leads"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {f"score_{d}": float(v) for d, v in leads.items()}
