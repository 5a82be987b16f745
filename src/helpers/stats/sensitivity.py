"""Sensitivity of the mentoring effect: by subgroup (:func:`did_by_group`), placebo timing, and
under other scoring schemes.

Imports: helpers.stats.contract, helpers.stats.mentoring, helpers.stats.panel, helpers.stats.prep only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .contract import DID_COV, EFFECT_COUNTS, OUTCOMES, TIDY_COLUMNS, concat_rows, tidy
from .mentoring import mentoring_effects
from .panel import did_fit, event_time, fit_did, panel_frame, treated_column
from .prep import require_columns


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
    require_columns(panel, [by, entity], "did_by_group")
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
        d = treated_column(sub, level_kw.get("treated"), level_kw.get("treatment", "mentored"),
                            level_kw.get("treatment_start", "mentoring_start"), level_kw.get("date", "survey_date"))
        regs = pd.DataFrame({"__treated": d}, index=sub.index)
        g = sub[by].astype(object)
        # levels without treated rows have no effect to compare: the reference is the first level with some
        with_treated = [lev for lev in levels if (d[g == lev].fillna(0) != 0).any()]
        for lev in with_treated[1:]:
            regs[f"__x{lev}"] = d * (g == lev).astype(float)
        data = panel_frame(sub, outcome, entity, time, regs, kwargs.get("controls", ()))
        res, n_cl, label = did_fit(data, outcome, [c for c in data.columns if c != outcome], entity=entity,
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
    return concat_rows(rows)


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
    d = treated_column(panel, treated, treatment, treatment_start, date)
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
                   cov_type=DID_COV.format(c=entity), level=level,
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
    out = concat_rows([frame.assign(scheme=name) for name, frame in effects.items()])
    if len(out):
        lead = [*TIDY_COLUMNS, "term", "scheme"]
        out = out[[*lead, *(c for c in out.columns if c not in lead)]]
    out.attrs["count_cols"] = list(EFFECT_COUNTS)
    return out
