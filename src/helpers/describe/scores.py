"""Section 1 of ``../shared/spec/analyses.md``: the pooled sample and its scores.

Who the respondents are, how scores and bands are distributed, one country's
indicators against the pooled median, scores over time since return and by wave, and
the (descriptive) mentored-vs-not comparison.

Imports: helpers.scored, helpers.design (lazily), helpers.describe.common, helpers.describe.intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..scored import scheme_info, score_columns
from .common import (
    ASSIST,
    DEFAULT_CONTROLS,
    MONTH_EDGES,
    country_data,
    disclosed_table,
    disclosure_min_n,
    first_survey,
    n_respondents,
    score_label,
)
from .intervals import ci_frame, welch_diff


def sample_description(df: pd.DataFrame) -> pd.DataFrame:
    """Describe a sample: surveys, waves, sex, age, months since return, assistance, mentoring.

    Returns
    -------
    pandas.DataFrame
        Long table: ``variable``, ``level``, ``n_surveys``, ``n_respondents``,
        ``share``, ``mean``, ``sd``, ``median``, ``p25``, ``p75``.  Sex and age are
        taken at each respondent's first survey, months since return over all
        surveys; an assistance type counts as received when any survey says so;
        shares are of respondents (of surveys for waves).
    """
    rows: list[dict[str, Any]] = []
    n_all, r_all = len(df), n_respondents(df)
    rows.append({"variable": "surveys", "level": "all", "n_surveys": n_all, "n_respondents": r_all, "share": 1.0})
    for w, sub in df.groupby("wave", sort=True):
        rows.append({"variable": "wave", "level": str(int(w)), "n_surveys": len(sub), "n_respondents": n_respondents(sub),
                     "share": len(sub) / n_all})
    first = first_survey(df)
    per_resp = df.groupby("respondent_id").size()

    def categorical(variable: str, level_of: pd.Series) -> None:
        for level, ids in level_of.groupby(level_of, sort=True).groups.items():
            rows.append({"variable": variable, "level": level, "n_surveys": int(per_resp.loc[list(ids)].sum()),
                         "n_respondents": len(ids), "share": len(ids) / r_all if r_all else np.nan})

    sex = first.set_index("respondent_id")["sex"].astype(object).where(lambda s: s.notna(), "unknown").astype(str)
    categorical("sex", sex)

    def numeric(variable: str, level: str, values: pd.Series, ids: pd.Series) -> None:
        v = pd.to_numeric(values, errors="coerce").astype(float)
        ok = v.notna()
        rows.append({"variable": variable, "level": level, "n_surveys": int(ok.sum()),
                     "n_respondents": int(ids[ok].nunique()), "share": ok.mean() if len(v) else np.nan,
                     "mean": v.mean(), "sd": v.std(), "median": v.median(), "p25": v.quantile(0.25),
                     "p75": v.quantile(0.75)})

    numeric("age", "years, first survey", first["age"], first["respondent_id"])
    numeric("months_since_return", "months, all surveys", df["months_since_return"], df["respondent_id"])
    for col in [*ASSIST, "mentored"]:
        if col not in df.columns:
            continue
        v = pd.to_numeric(df[col], errors="coerce").groupby(df["respondent_id"]).max()
        categorical(col, v.map({1.0: "yes", 0.0: "no"}).where(v.notna(), "unknown").astype(str))
    out = pd.DataFrame(rows, columns=["variable", "level", "n_surveys", "n_respondents", "share", "mean", "sd",
                                      "median", "p25", "p75"])
    return disclosed_table(out, keys=["variable", "level"], count_cols=["n_respondents"], groups=["variable"])


def score_summary(df: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Distribution of each score: mean with CI, sd and quantiles.

    Returns
    -------
    pandas.DataFrame
        ``score``, ``n_surveys``, ``n_respondents``, ``mean``, ``sd``, ``se``,
        ``ci_low``, ``ci_high`` (:func:`mean_ci`, clustered by respondent),
        ``p10``, ``p25``, ``median``, ``p75``, ``p90``.
    """
    cols = score_columns(df)
    out = ci_frame(df, [], cols, level=level)
    q = df[cols].quantile([0.1, 0.25, 0.5, 0.75, 0.9])
    for name, p in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9)):
        out[name] = q.loc[p].to_numpy()
    return disclosed_table(out, keys=["score"], count_cols=["n_respondents"])


def band_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Share of surveys in each band of each score.

    Returns
    -------
    pandas.DataFrame
        ``score``, ``band``, ``score_surveys``, ``score_respondents`` (with the score),
        ``n_surveys_in_band``, ``n_respondents_in_band``, ``share`` (of surveys).
        The band's respondents are the disclosure count: a band holding fewer
        respondents than the threshold is suppressed.  The score's own counts are
        the total the bands of a score add up to, published in the scores table
        too, so they are keys, shown in a suppressed row as well (a total
        published anyway is never blanked); they are left empty when the score
        itself has fewer respondents than the threshold.
    """
    thr = disclosure_min_n(None)
    rows = []
    for c in score_columns(df):
        b = df[f"band_{score_label(c)}"]
        ok = b.notna()
        n, n_resp = int(ok.sum()), int(df.loc[ok, "respondent_id"].nunique())
        total = (n, n_resp) if n_resp >= thr else (None, None)
        cats = list(b.cat.categories) if isinstance(b.dtype, pd.CategoricalDtype) else sorted(b.dropna().unique())
        for cat in cats:
            inb = b == cat
            rows.append({"score": score_label(c), "band": str(cat), "score_surveys": total[0], "score_respondents": total[1],
                         "n_surveys_in_band": int(inb.sum()),
                         "n_respondents_in_band": int(df.loc[inb, "respondent_id"].nunique()),
                         "share": inb.sum() / n if n else np.nan})
    out = pd.DataFrame(rows, columns=["score", "band", "score_surveys", "score_respondents", "n_surveys_in_band",
                                      "n_respondents_in_band", "share"])
    out[["score_surveys", "score_respondents"]] = out[["score_surveys", "score_respondents"]].astype("Int64")
    return disclosed_table(out, keys=["score", "band", "score_surveys", "score_respondents"],
                           count_cols=["n_respondents_in_band"], groups=["score"])


def indicator_profile(df: pd.DataFrame, *, country: str) -> pd.DataFrame:
    """Indicator scores of one country against the pooled median of all countries.

    Parameters
    ----------
    df
        Scored records of all countries.
    country
        ISO3 code.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``label``, ``dimension``, ``n_surveys``, ``n_respondents``
        (of the country), ``mean``, ``median`` (of the country),
        ``pooled_median`` (all surveys of all countries, the country included),
        ``diff_mean_vs_pooled_median``, ``share_above_pooled_median`` (of the
        country's surveys, strictly above).
    """
    info = scheme_info(df)
    sub = country_data(df, country)
    rows = []
    for iid, meta in info["indicators"].items():
        col = f"ind_{iid}"
        if col not in df.columns:
            continue
        pooled = float(df[col].median())
        v = sub[col]
        ok = v.notna()
        mean = float(v.mean()) if ok.any() else np.nan
        rows.append({"indicator": iid, "label": meta["label"], "dimension": meta["dimension"],
                     "n_surveys": int(ok.sum()), "n_respondents": int(sub.loc[ok, "respondent_id"].nunique()),
                     "mean": mean, "median": float(v.median()) if ok.any() else np.nan, "pooled_median": pooled,
                     "diff_mean_vs_pooled_median": mean - pooled,
                     "share_above_pooled_median": float((v[ok] > pooled).mean()) if ok.any() else np.nan})
    out = pd.DataFrame(rows)
    return disclosed_table(out, keys=["indicator", "label", "dimension"], count_cols=["n_respondents"])


def _month_labels(edges: Sequence[float]) -> list[str]:
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        out.append(f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi:g}")
    return out


def trajectory(df: pd.DataFrame, *, edges: Sequence[float] = MONTH_EDGES, level: float = 0.95) -> pd.DataFrame:
    """Mean scores by months since return, in bins.

    Parameters
    ----------
    edges
        Bin edges in months; bins are ``[lo, hi)``.

    Returns
    -------
    pandas.DataFrame
        ``months_since_return`` (bin label, e.g. ``3-6``), ``months_from``,
        ``months_to``, ``score``, ``n_surveys``, ``n_respondents``, ``mean``,
        ``sd``, ``se``, ``ci_low``, ``ci_high``; empty bins left out.
    """
    edges = list(edges)
    labels = _month_labels(edges)
    b = pd.cut(df["months_since_return"], bins=edges, right=False, labels=labels)
    work = df.assign(months_since_return=b)
    out = ci_frame(work[work["months_since_return"].notna()], ["months_since_return"], score_columns(df),
                    level=level)
    out["months_since_return"] = out["months_since_return"].astype(str)
    pos = {lab: i for i, lab in enumerate(labels)}
    out.insert(1, "months_from", [edges[pos[lab]] for lab in out["months_since_return"]])
    out.insert(2, "months_to", [edges[pos[lab] + 1] for lab in out["months_since_return"]])
    out = out[out["n_surveys"] > 0]
    return disclosed_table(out, keys=["months_since_return", "months_from", "months_to", "score"],
                  count_cols=["n_respondents"], groups=["score"])


def by_wave(df: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean scores by wave.

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``score``, ``n_surveys``, ``n_respondents``, ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high``.
    """
    out = ci_frame(df, ["wave"], score_columns(df), level=level)
    return disclosed_table(out, keys=["wave", "score"], count_cols=["n_respondents"], groups=["score"])


def _adjusted(d: pd.DataFrame, y: str, controls: Sequence[str], level: float) -> dict[str, Any]:
    import statsmodels.formula.api as smf

    cols = [y, "mentored", "respondent_id", *controls]
    x = d[cols + (["country"] if "country" in d.columns and "country" not in cols else [])].copy()
    for c in controls:
        if c in ("sex", "wave", "country", "return_from"):
            x[c] = x[c].astype(object).where(x[c].notna())
        else:
            x[c] = pd.to_numeric(x[c], errors="coerce").astype(float)
    x[y] = x[y].astype(float)
    x["mentored"] = x["mentored"].astype(float)
    x = x.dropna(subset=cols)
    terms = ["mentored"]
    dropped = []
    for c in controls:
        if x[c].nunique() < 2:
            dropped.append(c)
        elif c in ("sex", "wave", "country", "return_from"):
            terms.append(f"C({c})")
        else:
            terms.append(c)
    if "country" in x.columns and "country" not in controls and x["country"].nunique() > 1:
        x["country"] = x["country"].astype(object)
        terms.append("C(country)")
    formula = f"{y} ~ " + " + ".join(terms)
    res = {"adj_diff": np.nan, "adj_se": np.nan, "adj_ci_low": np.nan, "adj_ci_high": np.nan, "adj_p": np.nan,
           "adj_n_surveys": len(x), "adj_n_clusters": int(x["respondent_id"].nunique()),
           "adj_model": formula + (f" (constant, dropped: {', '.join(dropped)})" if dropped else "")}
    if x["mentored"].nunique() < 2 or res["adj_n_clusters"] < 3:
        return res
    from ..design import c_only_columns, patsy_categories, patsy_env

    groups = pd.factorize(x["respondent_id"].astype(str))[0]
    design = patsy_categories(x, c_only_columns(formula, x))  # same levels, coded without a Python loop
    fit = smf.ols(formula, data=design, eval_env=patsy_env()).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                                                   use_t=True)
    ci = fit.conf_int(alpha=1 - level).loc["mentored"]
    res.update(adj_diff=float(fit.params["mentored"]), adj_se=float(fit.bse["mentored"]),
               adj_ci_low=float(ci.iloc[0]), adj_ci_high=float(ci.iloc[1]), adj_p=float(fit.pvalues["mentored"]))
    return res


def mentored_comparison(df: pd.DataFrame, *, controls: Sequence[str] = DEFAULT_CONTROLS,
                        level: float = 0.95) -> pd.DataFrame:
    """Mentored vs not mentored: raw difference (Welch) and adjusted difference (OLS).

    Parameters
    ----------
    df
        Scored records (one country, or several: then country fixed effects are added).
    controls
        Control variables; ``sex``, ``wave``, ``country`` and ``return_from`` enter
        as categories, the others linearly.  A control without variation is dropped
        (and named in ``adj_model``).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per score: ``score``, ``n_surveys_mentored``,
        ``n_respondents_mentored``, ``n_surveys_not``, ``n_respondents_not``,
        ``mean_mentored``, ``mean_not``, ``raw_diff``, ``raw_se``, ``raw_df``,
        ``raw_ci_low``, ``raw_ci_high``, ``raw_p``, ``adj_diff``, ``adj_se``,
        ``adj_ci_low``, ``adj_ci_high``, ``adj_p``, ``adj_n_surveys``,
        ``adj_n_clusters``, ``adj_model``, ``adj_cov``.  No rows when the data has no
        mentored or no non-mentored surveys.

    Notes
    -----
    Raw: :func:`welch_diff` over surveys (waves pooled, not clustered).  Adjusted:
    OLS of the score on ``mentored`` and the controls on complete cases,
    cluster-robust (CR1) by ``respondent_id``, t with G - 1 degrees of freedom:
    statsmodels' ``cov_type="cluster"`` with ``use_t=True``, which matches Stata's
    ``regress, vce(cluster respondent_id)``.  Descriptive: mentoring is not
    randomly assigned, so neither difference is an effect (section 3 estimates it).
    """
    cols = ["score", "n_surveys_mentored", "n_respondents_mentored", "n_surveys_not", "n_respondents_not",
            "mean_mentored", "mean_not", "raw_diff", "raw_se", "raw_df", "raw_ci_low", "raw_ci_high", "raw_p",
            "adj_diff", "adj_se", "adj_ci_low", "adj_ci_high", "adj_p", "adj_n_surveys", "adj_n_clusters",
            "adj_model", "adj_cov"]
    m = pd.to_numeric(df["mentored"], errors="coerce")
    rows = []
    if (m == 1).any() and (m == 0).any():
        controls = [c for c in controls if c in df.columns]
        for c in score_columns(df):
            a, b = df.loc[(m == 1) & df[c].notna()], df.loc[(m == 0) & df[c].notna()]
            w = welch_diff(a[c], b[c], level=level)
            row = {"score": score_label(c), "n_surveys_mentored": len(a), "n_respondents_mentored": n_respondents(a),
                   "n_surveys_not": len(b), "n_respondents_not": n_respondents(b),
                   "mean_mentored": a[c].mean(), "mean_not": b[c].mean(),
                   "raw_diff": w["diff"], "raw_se": w["se"], "raw_df": w["df"], "raw_ci_low": w["ci_low"],
                   "raw_ci_high": w["ci_high"], "raw_p": w["p"]}
            row.update(_adjusted(df, c, controls, level))
            row["adj_cov"] = "cluster-robust (CR1) by respondent_id, t(G-1)"
            rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    return disclosed_table(out, keys=["score"], count_cols=["n_respondents_mentored", "n_respondents_not"])
