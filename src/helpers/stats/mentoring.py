"""The mentoring table: every estimator of the mentoring effect on every outcome
(:func:`mentoring_effects`), the cross-section it starts from and the coefficient figure.

Imports: helpers.stats.contract, helpers.stats.figures, helpers.stats.interdependence, helpers.stats.panel, helpers.stats.prep, helpers.stats.selection only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .contract import COVARIATES, EFFECT_COUNTS, ESTIMATORS, OUTCOMES, TIDY_COLUMNS, concat_rows, empty_tidy
from .figures import new_figure
from .interdependence import rhs_terms
from .panel import fit_did, treatment_indicator
from .prep import as_binary, dummy_design, require_columns, term_label, with_months
from .selection import fit_aipw, fit_ipw, fit_ols

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    m = pd.Series(as_binary(panel[treatment], treatment), index=panel.index)
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
    panel = with_months(panel, covariates)
    require_columns(panel, [entity, time, country, treatment, treatment_start, date, *outcomes, *covariates],
             "mentoring_effects")
    d_all = treatment_indicator(panel, treatment=treatment, start=treatment_start, date=date)
    countries = panel.loc[d_all == 1, country].unique()
    if len(countries) == 0:
        return empty_tidy(["sample", "n_respondents_treated", "n_respondents_control", "note"])
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
        sub = sub[dummy_design(sub, covariates).notna().all(axis=1)]
        for est in ESTIMATORS:
            if est not in estimators:
                continue
            rows_used = sub
            note = ""
            if est == "raw_difference":
                f, _ = fit_ols(sub, f"{term_label(y, False)} ~ treated", cluster=entity, estimator=est, level=level)
                f = f[f["term"] == "treated"]
            elif est == "ols_fe":
                rhs = ["treated", *rhs_terms(sub, covariates, fe_cols)]
                f, _ = fit_ols(sub, f"{term_label(y, False)} ~ " + " + ".join(rhs), cluster=entity, estimator=est,
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
    out = concat_rows(frames).reset_index(drop=True)
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
    >>> from helpers.stats import tidy
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
    fig = new_figure(figsize=(max(width, 7.0), (0.45 if n_rows <= 8 else 0.3) * n_rows + 1.6))
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
