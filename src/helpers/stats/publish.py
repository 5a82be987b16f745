"""Tables as the notebooks publish them: first surveys and the baseline sample, tidy balance,
combined estimates with respondent counts, determinants, heterogeneity, event studies and robustness.

Imports: helpers.stats.contract, helpers.stats.interdependence, helpers.stats.mentoring, helpers.stats.panel, helpers.stats.prep, helpers.stats.sensitivity only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .contract import COVARIATES, OUTCOMES, TIDY_COLUMNS, concat_rows, empty_tidy, tidy
from .interdependence import determinants
from .mentoring import mentoring_effects
from .panel import event_study, treatment_indicator
from .prep import is_numeric, require_columns, with_months
from .sensitivity import did_by_group, placebo_timing


def first_surveys(panel: pd.DataFrame, *, entity: str = "respondent_id", time: str = "wave") -> pd.DataFrame:
    """Each entity's earliest survey (lowest ``time``): one row per respondent, so rows are independent.

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 2], "wave": [2, 1, 1], "y": [0.5, 0.4, 0.9]})
    >>> first_surveys(d, entity="id")["y"].tolist()
    [0.4, 0.9]
    """
    require_columns(panel, [entity, time], "first_surveys")
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
    >>> from helpers.stats import balance_table
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
    out = concat_rows(rows) if rows else empty_tidy(extra_cols)
    out.attrs = {"joint_test": balance.attrs.get("joint_test"),
                 "count_cols": balance.attrs.get("count_cols", ["n_control", "n_treated"])}
    return out


def balance_joint_test(balance: pd.DataFrame) -> pd.DataFrame:
    """The joint orthogonality test of a :func:`balance_table`, as a one-row table.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1] * 10, "x": np.arange(20.0)})
    >>> from helpers.stats import balance_table
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
    >>> from helpers.stats import tidy
    >>> a = tidy(0.1, 0.01, outcome="y", estimator="e", n_obs=50, n_clusters=20, cov_type="c")
    >>> b = tidy(0.2, 0.02, outcome="y", estimator="r", n_obs=30, cov_type="iid")
    >>> combine([a, b])["n_respondents"].tolist()
    [20, 30]
    """
    out = concat_rows(list(frames)).reset_index(drop=True)
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
    if term in df.columns and is_numeric(df[term]):
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
    df = with_months(df, covariates)
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
    out = concat_rows(frames).reset_index(drop=True)
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
    out = concat_rows(frames).reset_index(drop=True)
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
    out = concat_rows([event_study(panel, y, **kwargs) for y in outcomes]).reset_index(drop=True)
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
    out = concat_rows(frames).reset_index(drop=True)
    keep = [*TIDY_COLUMNS, "term", "check", "note", "n_respondents_treated", "n_respondents_control"]
    out = out[[*keep, *(c for c in out.columns if c not in keep)]]
    out["note"] = out["note"].fillna("")
    for c in ("n_respondents_treated", "n_respondents_control"):
        out[c] = pd.array(out[c], dtype="Int64")
    out.attrs["count_cols"] = ["n_respondents_treated", "n_respondents_control"]
    return out
