"""The panel difference-in-differences: the treatment indicator and event time, :func:`fit_did`
(linearmodels PanelOLS and its lean subclass), the event study and its figure.

Imports: helpers.stats.contract, helpers.stats.covariance, helpers.stats.figures, helpers.stats.prep only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .contract import DID_COV, concat_rows, tidy
from .covariance import use_fast_cov_cluster
from .figures import new_figure
from .prep import as_binary, clean_frame, dummy_design, group_codes, require_columns, warn_few_clusters

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    require_columns(df, [treatment, start, date], "treatment_indicator")
    m = as_binary(df[treatment], treatment)
    s = pd.to_datetime(df[start])
    d = pd.to_datetime(df[date])
    on = (m == 1) & (d >= s).fillna(False).to_numpy(dtype=bool)
    out = np.where(on, 1.0, 0.0)
    out[np.isnan(m) | ((m == 1) & s.isna().to_numpy())] = np.nan
    return pd.Series(out, index=df.index, name="treated")


def treated_column(panel: pd.DataFrame, treated: str | None, treatment: str, start: str, date: str) -> pd.Series:
    if treated is not None:
        require_columns(panel, [treated], "fit_did")
        return pd.Series(as_binary(panel[treated], treated), index=panel.index, name="treated")
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
    d = treated_column(panel, treated, treatment, start, date)
    ever = pd.Series(as_binary(panel[treatment], treatment), index=panel.index) if treatment in panel.columns \
        else d.groupby(panel[entity]).transform("max")
    ever = ever.groupby(panel[entity]).transform("max")
    tm = pd.to_numeric(panel[time], errors="coerce")
    first_on = tm.where(d == 1).groupby(panel[entity]).transform("min")
    last_off = tm.where(d == 0).groupby(panel[entity]).transform("max")
    event = first_on.fillna(last_off + 1)
    return (tm - event).where(ever == 1).rename("event_time")


def panel_frame(panel: pd.DataFrame, outcome: str, entity: str, time: str, regressors: pd.DataFrame,
                 controls: Sequence[str]) -> pd.DataFrame:
    data = pd.concat([clean_frame(panel, [entity, time, outcome]), regressors,
                      dummy_design(panel, list(controls))], axis=1).dropna()
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


def did_fit(data: pd.DataFrame, outcome: str, regressors: list[str], *, entity: str, cluster: str | None):
    use_fast_cov_cluster()

    exog = data[regressors]
    mod = _lean_panel_ols()(data[outcome], exog, entity_effects=True, time_effects=True, drop_absorbed=True)
    if cluster is None or cluster == entity:
        res = mod.fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True,
                      auto_df=False, count_effects=False)
        n_cl = int(res.entity_info["total"])
        label = DID_COV.format(c=entity)
    else:
        cl = data["__cluster"]
        nested = bool((cl.groupby(level=0).nunique() == 1).all())
        res = mod.fit(cov_type="clustered", clusters=pd.DataFrame({"c": group_codes(cl)}, index=data.index),
                      debiased=True, group_debias=True, auto_df=False, count_effects=not nested)
        n_cl = int(cl.nunique())
        warn_few_clusters(n_cl, cluster)
        label = DID_COV.format(c=cluster) if nested else \
            DID_COV.format(c=cluster).replace("absorbed effects not counted", "absorbed effects counted")
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
    d = treated_column(panel, treated, treatment, treatment_start, date).rename("__treated")
    regs = pd.DataFrame({"__treated": d})
    if cluster is not None and cluster != entity:
        require_columns(panel, [cluster], "fit_did")
        regs["__cluster"] = panel[cluster].astype(object).where(panel[cluster].notna(), np.nan)
    data = panel_frame(panel, outcome, entity, time, regs, controls)
    ctrl_cols = [c for c in data.columns if c not in (outcome, "__treated", "__cluster")]
    if data["__treated"].groupby(level=0).nunique().max() < 2:
        raise ValueError(f"fit_did: no entity changes treatment status over {time}; the effect is not identified")
    res, n_cl, label = did_fit(data, outcome, ["__treated", *ctrl_cols], entity=entity, cluster=cluster)
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
    data = panel_frame(panel, outcome, entity, time, dummies, controls)
    regs = [c for c in data.columns if c != outcome]
    res, n_cl, label = did_fit(data, outcome, regs, entity=entity, cluster=None)
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
    return concat_rows(rows)


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
    fig = new_figure(figsize=(6.5, 3.8))
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
