"""Describe scored RSS data: sections 0-2 of ``../shared/spec/analyses.md``.

Small pure functions: each takes scored records (one row per survey, as written by
``notebooks/00_prepare`` or ``rss score``) and returns a table (DataFrame), a
mapping of key numbers, or a matplotlib Figure.  None writes a file, prints or
shows anything; publishing is :mod:`helpers.outputs`' job.

Tables declare their disclosure metadata in ``attrs``: ``keys`` (the columns
saying what a row is about), ``count_cols`` (respondent counts) and, where rows
add up to something published, ``groups`` (the key columns identifying such a
group: bands of a score, categories of a variable, countries against the pooled
figures), which :func:`helpers.outputs.write_table` uses to suppress rows built on
fewer respondents than the threshold and, where one hidden row could be recovered
by subtraction, the next-smallest row of its group.  Figures take the unsuppressed
tables and leave out exactly the rows the published table hides (the same rule,
:func:`helpers.outputs.suppressed_rows`), saying so in their title.

Conventions
-----------
* Scores are pooled over waves: a respondent surveyed three times contributes
  three surveys.  Counts give both surveys and distinct respondents; disclosure
  control uses respondents.
* Means are unweighted (the contract's ``weight`` is not used in descriptions).
* Confidence intervals of means are t-based and cluster-robust by respondent
  (:func:`mean_ci`); with one survey per respondent they are the textbook
  :math:`\\bar y \\pm t_{n-1} s / \\sqrt n`.
* The fieldwork countries are those with any ``mentored == 1`` in the data
  (:func:`fieldwork_countries`), never a fixed list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .loader import LoadResult

from .scored import ATTRS_KEY, attach_scheme, read_scored, scheme_info, score_columns

__all__ = [
    # data access
    "read_scored", "attach_scheme", "scheme_info", "country_data", "fieldwork_countries", "is_synthetic",
    "score_columns", "ATTRS_KEY",
    # statistics
    "mean_ci", "welch_diff",
    # section 0
    "surveys_by_country", "surveys_by_country_wave", "missingness", "exclusions",
    # section 1
    "sample_description", "score_summary", "band_shares", "indicator_profile", "trajectory", "by_wave",
    "mentored_comparison",
    # section 2
    "country_means", "ranking", "dimension_profiles", "fieldwork_comparison", "dimension_correlations",
    # key numbers
    "prepare_numbers", "country_numbers", "cross_numbers",
    # figures
    "plot_score_distributions", "plot_band_shares", "plot_indicator_profile", "plot_trajectory",
    "plot_country_means", "plot_dimension_profiles", "plot_correlations",
]

SPECIAL_CODES = {97: "not applicable", 98: "does not know", 99: "refused"}
#: Months-since-return bins of the trajectory: [0, 3), [3, 6), ... [36, inf).
MONTH_EDGES = (0, 3, 6, 9, 12, 18, 24, 36, math.inf)
#: Controls of the adjusted mentored-vs-not difference.
DEFAULT_CONTROLS = ("sex", "age", "months_since_return", "wave")
ASSIST = ("assist_economic", "assist_social", "assist_psychosocial")
POOLED = "pooled"


# ---------------------------------------------------------------------------- data


def _threshold(min_n: int | None) -> int:
    from .disclosure import disclosure_threshold

    return disclosure_threshold(min_n)


def _table(df: pd.DataFrame, *, keys: Sequence[str], count_cols: Sequence[str],
           groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Attach disclosure metadata; ``groups``: key columns of rows that add up to a published figure."""
    df = df.reset_index(drop=True)
    df.attrs = {"keys": list(keys), "count_cols": list(count_cols)}
    if groups is not None:
        df.attrs["groups"] = list(groups)
    return df


def _label(col: str) -> str:
    return col.removeprefix("score_").removeprefix("ind_")


def country_data(df: pd.DataFrame, country: str) -> pd.DataFrame:
    """Return the surveys of one country (ISO3 code, any case).

    Raises
    ------
    ValueError
        Naming the countries the data holds, when ``country`` is not one of them.
    """
    code = str(country).strip().upper()
    out = df[df["country"] == code]
    if out.empty:
        have = ", ".join(sorted(df["country"].dropna().unique()))
        raise ValueError(f"country {country!r} is not in the data; countries present: {have}")
    return out.reset_index(drop=True)


def fieldwork_countries(df: pd.DataFrame) -> list[str]:
    """Return the countries with any mentored returnee (``mentored == 1``), sorted.

    Examples
    --------
    >>> fieldwork_countries(pd.DataFrame({"country": ["A", "A", "B"], "mentored": [0, 1, 0]}))
    ['A']
    """
    m = pd.to_numeric(df["mentored"], errors="coerce") == 1
    return sorted(str(c) for c in df.loc[m, "country"].dropna().unique())


def is_synthetic(source: str | Path) -> bool:
    """Say whether an input is the synthetic dataset: its folder holds a ``truth.json``.

    A ``truth.json`` beside the data is what :mod:`helpers.synthetic` writes; real
    exports do not carry one.  The file's ``synthetic``/``generator`` keys are not
    required: its presence is enough, so a partial or edited one still flags the run.
    """
    p = Path(source)
    folder = p if p.is_dir() else p.parent
    return (folder / "truth.json").is_file()


def _n_resp(df: pd.DataFrame) -> int:
    return int(df["respondent_id"].nunique())


# ---------------------------------------------------------------------- statistics


def mean_ci(values: Sequence[float] | pd.Series | np.ndarray, *, groups: Sequence[Any] | None = None,
            level: float = 0.95) -> dict[str, float]:
    """Mean with a t-based confidence interval, cluster-robust when ``groups`` is given.

    Parameters
    ----------
    values
        Observations; missing values are dropped (with their group).
    groups
        Cluster of each observation (e.g. the respondent); default: each its own.
    level
        Confidence level.

    Returns
    -------
    dict
        ``n``, ``n_clusters``, ``mean``, ``sd``, ``se``, ``df``, ``ci_low``, ``ci_high``.

    Notes
    -----
    With :math:`N` observations in :math:`G` clusters and residuals
    :math:`e_i = y_i - \\bar y`,

    .. math:: \\widehat{\\mathrm{se}}^2 = \\frac{G}{G-1} \\frac{1}{N^2}
              \\sum_g \\Big(\\sum_{i \\in g} e_i\\Big)^2,
              \\qquad \\bar y \\pm t_{G-1,\\,(1+\\mathrm{level})/2}\\,\\widehat{\\mathrm{se}},

    the CR1 estimator of an intercept-only regression (as Stata's ``mean, vce(cluster)``).
    With one observation per cluster it is exactly :math:`s/\\sqrt N` with
    :math:`N - 1` degrees of freedom.

    Examples
    --------
    >>> r = mean_ci([1.0, 2.0, 3.0, 4.0])
    >>> round(r["mean"], 3), round(r["se"], 4), round(r["ci_low"], 4)
    (2.5, 0.6455, 0.4457)
    """
    from scipy import stats

    y = np.asarray(values, dtype=float)
    g = np.arange(len(y)) if groups is None else pd.factorize(pd.Series(groups).to_numpy())[0]
    ok = ~np.isnan(y)
    y, g = y[ok], g[ok]
    n = len(y)
    out = {"n": n, "n_clusters": int(len(np.unique(g))), "mean": np.nan, "sd": np.nan, "se": np.nan,
           "df": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if n == 0:
        return out
    m = float(y.mean())
    out["mean"] = m
    G = out["n_clusters"]
    if n < 2 or G < 2:
        return out
    out["sd"] = float(y.std(ddof=1))
    sums = np.bincount(g, weights=y - m)
    se = math.sqrt(G / (G - 1) * float((sums ** 2).sum())) / n
    t = float(stats.t.ppf((1 + level) / 2, G - 1))
    out.update(se=se, df=float(G - 1), ci_low=m - t * se, ci_high=m + t * se)
    return out


def welch_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, *,
               level: float = 0.95) -> dict[str, float]:
    """Difference of means ``mean(a) - mean(b)`` with Welch's t confidence interval.

    Returns
    -------
    dict
        ``diff``, ``se``, ``df`` (Welch-Satterthwaite), ``ci_low``, ``ci_high``, ``p``.

    Notes
    -----
    :math:`\\mathrm{se}^2 = s_a^2/n_a + s_b^2/n_b`, :math:`\\nu = \\mathrm{se}^4 /
    \\big((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)\\big)`.  Observations are
    treated as independent (repeated surveys of one respondent are not clustered).

    Examples
    --------
    >>> r = welch_diff([1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 2.0])
    >>> round(r["diff"], 3), round(r["df"], 2)
    (0.5, 3.0)
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    out = {"diff": np.nan, "se": np.nan, "df": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    if len(a) == 0 or len(b) == 0:
        return out
    out["diff"] = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return out
    df = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    se = math.sqrt(se2)
    t = float(stats.t.ppf((1 + level) / 2, df))
    p = float(2 * stats.t.sf(abs(out["diff"]) / se, df))
    out.update(se=se, df=float(df), ci_low=out["diff"] - t * se, ci_high=out["diff"] + t * se, p=p)
    return out


def _ci_frame(df: pd.DataFrame, by: list[str], cols: Sequence[str], *, level: float) -> pd.DataFrame:
    """Long table of cluster-robust mean CIs of ``cols`` per group of ``by``."""
    rows = []
    groups = df.groupby(by, sort=True, observed=True, dropna=False) if by else [((), df)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        for c in cols:
            ok = sub[c].notna()
            r = mean_ci(sub.loc[ok, c], groups=sub.loc[ok, "respondent_id"], level=level)
            rows.append({**dict(zip(by, key, strict=True)), "score": _label(c), "n_surveys": r["n"],
                         "n_respondents": r["n_clusters"], "mean": r["mean"], "sd": r["sd"], "se": r["se"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows, columns=[*by, "score", "n_surveys", "n_respondents", "mean", "sd", "se", "ci_low",
                                       "ci_high"])


# ------------------------------------------------------------------- section 0


def surveys_by_country(df: pd.DataFrame) -> pd.DataFrame:
    """Surveys, respondents, waves and months since return per country.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``fieldwork`` (any mentored returnee), ``n_surveys``,
        ``n_respondents``, ``n_waves`` (highest wave), ``months_median``,
        ``months_p25``, ``months_p75``.
    """
    fw = set(fieldwork_countries(df))
    g = df.groupby("country", sort=True)
    out = pd.DataFrame({
        "n_surveys": g.size(),
        "n_respondents": g["respondent_id"].nunique(),
        "n_waves": g["wave"].max(),
        "months_median": g["months_since_return"].median(),
        "months_p25": g["months_since_return"].quantile(0.25),
        "months_p75": g["months_since_return"].quantile(0.75),
    }).reset_index()
    out.insert(1, "fieldwork", out["country"].isin(fw))
    return _table(out, keys=["country", "fieldwork"], count_cols=["n_respondents"], groups=[])


def surveys_by_country_wave(df: pd.DataFrame) -> pd.DataFrame:
    """Surveys and respondents per country and wave, with months since return.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``wave``, ``n_surveys``, ``n_respondents``, ``months_median``,
        ``months_p25``, ``months_p75``.
    """
    g = df.groupby(["country", "wave"], sort=True)
    out = pd.DataFrame({
        "n_surveys": g.size(),
        "n_respondents": g["respondent_id"].nunique(),
        "months_median": g["months_since_return"].median(),
        "months_p25": g["months_since_return"].quantile(0.25),
        "months_p75": g["months_since_return"].quantile(0.75),
    }).reset_index()
    return _table(out, keys=["country", "wave"], count_cols=["n_respondents"], groups=["country"])


def missingness(df: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Answered, empty and special codes (97/98/99) per question.

    Parameters
    ----------
    df
        Loaded or scored records (item columns hold raw codes).
    by
        Optional grouping column (e.g. ``"country"``); default pooled.

    Returns
    -------
    pandas.DataFrame
        [``by``], ``question``, ``dimension``, ``indicator``, ``n_surveys``,
        ``n_respondents``, ``n_answered``, ``n_empty``, ``n_97``, ``n_98``,
        ``n_99``, ``share_missing`` (empty or special, of surveys).
    """
    info = scheme_info(df)
    qs = [q for q in info["questions"] if q in df.columns]
    codes = df[qs].apply(pd.to_numeric, errors="coerce")
    counted = {"empty": codes.isna(), **{c: codes == c for c in SPECIAL_CODES}}
    if by:  # counts of every group at once (one groupby per count), the groups in the order of df.groupby
        grouped = df.groupby(by, sort=True)
        sizes, respondents = grouped.size(), grouped["respondent_id"].nunique()
        sums = {k: v.groupby(df[by], sort=True).sum() for k, v in counted.items()}
        groups = [(key, int(sizes[key]), int(respondents[key]), {k: v.loc[key] for k, v in sums.items()})
                  for key in sizes.index]
    else:
        groups = [(None, len(df), _n_resp(df), {k: v.sum() for k, v in counted.items()})]
    rows = []
    for key, n, n_resp, sums_of in groups:
        empty = sums_of["empty"]
        spec = {c: sums_of[c] for c in SPECIAL_CODES}
        for q in qs:
            r = {} if by is None else {by: key}
            n_missing = int(empty[q]) + sum(int(spec[c][q]) for c in SPECIAL_CODES)
            r.update(question=q, dimension=info["questions"][q]["dimension"],
                     indicator=info["questions"][q]["indicator"], n_surveys=n, n_respondents=n_resp,
                     n_answered=n - n_missing, n_empty=int(empty[q]),
                     **{f"n_{c}": int(spec[c][q]) for c in SPECIAL_CODES},
                     share_missing=n_missing / n if n else np.nan)
            rows.append(r)
    out = pd.DataFrame(rows)
    keys = ([by] if by else []) + ["question", "dimension", "indicator"]
    # by group: the groups of a question add up to its pooled row (published in the pooled table)
    return _table(out, keys=keys, count_cols=["n_respondents"], groups=["question"] if by else None)


def exclusions(df: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Surveys with and without a composite score, and why one is missing.

    A composite is missing when a dimension score is; a dimension score is missing
    when its answered indicators carry less than the scheme's minimum share of the
    dimension's weight (too many empty or 97/98/99 answers).

    Returns
    -------
    pandas.DataFrame
        [``by``], ``status`` (``scored`` or ``excluded``), ``reason``
        (``composite scored`` or ``no <dimension> score`` joined by ``; ``),
        ``n_surveys``, ``n_respondents``, ``share_of_surveys``.  Every group has a
        ``scored`` row, even with zero surveys.
    """
    dims = [c for c in score_columns(df) if c != "score_composite"]
    text = np.full(len(df), "", dtype=object)
    for c in dims:
        part = np.where(df[c].isna().to_numpy(), f"no {_label(c)} score", "")
        text = np.where((text != "") & (part != ""), text + "; " + part, text + part)
    excluded = df["score_composite"].isna().to_numpy()
    reason = np.where(excluded, np.where(text == "", "composite missing", text), "composite scored")
    work = df.assign(status=np.where(excluded, "excluded", "scored"), reason=reason)
    agg = {"n_surveys": ("respondent_id", "size"), "n_respondents": ("respondent_id", "nunique")}
    if by:  # one groupby for all groups, then each group's rows as a groupby of the group alone gives them
        sizes = work.groupby(by, sort=True).size()
        every = work.groupby([by, "status", "reason"], sort=True).agg(**agg)
        present = set(every.index.get_level_values(0))
        empty = every.iloc[:0].reset_index(level=0, drop=True)
        groups = [(key, int(sizes[key]), (every.loc[key] if key in present else empty).reset_index())
                  for key in sizes.index]
    else:
        groups = [(None, len(work), work.groupby(["status", "reason"], sort=True).agg(**agg).reset_index())]
    rows = []
    for key, n, counts in groups:
        if not (counts["status"] == "scored").any():
            counts = pd.concat([pd.DataFrame({"status": ["scored"], "reason": ["composite scored"],
                                              "n_surveys": [0], "n_respondents": [0]}), counts])
        counts = counts.sort_values(["status", "reason"], ascending=[False, True], kind="stable")
        for r in counts.to_dict("records"):
            row = {} if by is None else {by: key}
            row.update(status=r["status"], reason=r["reason"], n_surveys=int(r["n_surveys"]),
                       n_respondents=int(r["n_respondents"]), share_of_surveys=r["n_surveys"] / n if n else np.nan)
            rows.append(row)
    out = pd.DataFrame(rows)
    return _table(out, keys=([by] if by else []) + ["status", "reason"], count_cols=["n_respondents"],
                  groups=[by] if by else [])


# ------------------------------------------------------------------- section 1


def _first_survey(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["respondent_id", "wave"], kind="stable").drop_duplicates("respondent_id")


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
    n_all, r_all = len(df), _n_resp(df)
    rows.append({"variable": "surveys", "level": "all", "n_surveys": n_all, "n_respondents": r_all, "share": 1.0})
    for w, sub in df.groupby("wave", sort=True):
        rows.append({"variable": "wave", "level": str(int(w)), "n_surveys": len(sub), "n_respondents": _n_resp(sub),
                     "share": len(sub) / n_all})
    first = _first_survey(df)
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
    return _table(out, keys=["variable", "level"], count_cols=["n_respondents"], groups=["variable"])


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
    out = _ci_frame(df, [], cols, level=level)
    q = df[cols].quantile([0.1, 0.25, 0.5, 0.75, 0.9])
    for name, p in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9)):
        out[name] = q.loc[p].to_numpy()
    return _table(out, keys=["score"], count_cols=["n_respondents"])


def band_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Share of surveys in each band of each score.

    Returns
    -------
    pandas.DataFrame
        ``score``, ``band``, ``n_surveys``, ``n_respondents`` (with the score),
        ``n_surveys_in_band``, ``n_respondents_in_band``, ``share`` (of surveys).
        Both respondent counts are disclosure counts: a band holding fewer
        respondents than the threshold is suppressed, not only a small group.
    """
    rows = []
    for c in score_columns(df):
        b = df[f"band_{_label(c)}"]
        ok = b.notna()
        n, n_resp = int(ok.sum()), int(df.loc[ok, "respondent_id"].nunique())
        cats = list(b.cat.categories) if isinstance(b.dtype, pd.CategoricalDtype) else sorted(b.dropna().unique())
        for cat in cats:
            inb = b == cat
            rows.append({"score": _label(c), "band": str(cat), "n_surveys": n, "n_respondents": n_resp,
                         "n_surveys_in_band": int(inb.sum()),
                         "n_respondents_in_band": int(df.loc[inb, "respondent_id"].nunique()),
                         "share": inb.sum() / n if n else np.nan})
    out = pd.DataFrame(rows, columns=["score", "band", "n_surveys", "n_respondents", "n_surveys_in_band",
                                      "n_respondents_in_band", "share"])
    return _table(out, keys=["score", "band"], count_cols=["n_respondents", "n_respondents_in_band"],
                  groups=["score"])


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
    return _table(out, keys=["indicator", "label", "dimension"], count_cols=["n_respondents"])


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
    out = _ci_frame(work[work["months_since_return"].notna()], ["months_since_return"], score_columns(df),
                    level=level)
    out["months_since_return"] = out["months_since_return"].astype(str)
    pos = {lab: i for i, lab in enumerate(labels)}
    out.insert(1, "months_from", [edges[pos[lab]] for lab in out["months_since_return"]])
    out.insert(2, "months_to", [edges[pos[lab] + 1] for lab in out["months_since_return"]])
    out = out[out["n_surveys"] > 0]
    return _table(out, keys=["months_since_return", "months_from", "months_to", "score"],
                  count_cols=["n_respondents"], groups=["score"])


def by_wave(df: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean scores by wave.

    Returns
    -------
    pandas.DataFrame
        ``wave``, ``score``, ``n_surveys``, ``n_respondents``, ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high``.
    """
    out = _ci_frame(df, ["wave"], score_columns(df), level=level)
    return _table(out, keys=["wave", "score"], count_cols=["n_respondents"], groups=["score"])


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
    from .design import c_only_columns, patsy_categories, patsy_env

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
            row = {"score": _label(c), "n_surveys_mentored": len(a), "n_respondents_mentored": _n_resp(a),
                   "n_surveys_not": len(b), "n_respondents_not": _n_resp(b),
                   "mean_mentored": a[c].mean(), "mean_not": b[c].mean(),
                   "raw_diff": w["diff"], "raw_se": w["se"], "raw_df": w["df"], "raw_ci_low": w["ci_low"],
                   "raw_ci_high": w["ci_high"], "raw_p": w["p"]}
            row.update(_adjusted(df, c, controls, level))
            row["adj_cov"] = "cluster-robust (CR1) by respondent_id, t(G-1)"
            rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    return _table(out, keys=["score"], count_cols=["n_respondents_mentored", "n_respondents_not"])


# ------------------------------------------------------------------- section 2


def country_means(df: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean of each score by country with a t-based CI (cluster-robust by respondent).

    Returns
    -------
    pandas.DataFrame
        ``country``, ``fieldwork``, ``score``, ``n_surveys``, ``n_respondents``,
        ``mean``, ``sd``, ``se``, ``ci_low``, ``ci_high``.
    """
    out = _ci_frame(df, ["country"], score_columns(df), level=level)
    out.insert(1, "fieldwork", out["country"].isin(fieldwork_countries(df)))
    return _table(out, keys=["country", "fieldwork", "score"], count_cols=["n_respondents"], groups=["score"])


def ranking(means: pd.DataFrame, *, min_n: int | None = None) -> pd.DataFrame:
    """Rank countries on each score (1 = highest mean), from :func:`country_means`.

    Countries with fewer respondents than ``min_n`` (default: the disclosure
    threshold) are not ranked, and do not take a rank from the others.

    Returns
    -------
    pandas.DataFrame
        One row per country, best composite first: ``country``, ``fieldwork``,
        ``n_respondents`` (fewest over the scores), then ``rank_<score>`` and
        ``mean_<score>`` per score.  Ties share the lower rank.
    """
    thr = _threshold(min_n)
    scores = list(dict.fromkeys(means["score"]))
    wide = means.pivot(index="country", columns="score", values="mean")[scores]
    n = means.groupby("country")["n_respondents"].min()
    fw = means.groupby("country")["fieldwork"].first()
    out = pd.DataFrame({"country": wide.index, "fieldwork": fw.reindex(wide.index).to_numpy(),
                        "n_respondents": n.reindex(wide.index).to_numpy()})
    ok = out["n_respondents"].to_numpy() >= thr
    for s in scores:
        v = wide[s].to_numpy()
        r = pd.Series(np.where(ok, v, np.nan)).rank(ascending=False, method="min")
        out[f"rank_{s}"] = r.astype("Float64").to_numpy()
        out[f"mean_{s}"] = v
    first = "rank_composite" if "composite" in scores else f"rank_{scores[0]}"
    out = out.sort_values([first, "country"], na_position="last", kind="stable")
    return _table(out, keys=["country", "fieldwork"], count_cols=["n_respondents"], groups=[])


def dimension_profiles(df: pd.DataFrame) -> pd.DataFrame:
    """Mean dimension scores per country, and how each departs from the country's own average.

    Returns
    -------
    pandas.DataFrame
        One row per country then a ``pooled`` row: ``country``, ``fieldwork``,
        ``n_respondents`` (respondents with a composite), ``mean_<dim>`` and
        ``mean_composite``, ``dev_<dim>`` (dimension mean minus the average of
        the dimension means of that row), ``strongest``, ``weakest`` dimension.
    """
    cols = score_columns(df)
    dims = [c for c in cols if c != "score_composite"]
    fw = set(fieldwork_countries(df))
    rows = []
    for key, sub in [*df.groupby("country", sort=True), (POOLED, df)]:
        r = {"country": key, "fieldwork": key in fw,
             "n_respondents": int(sub.loc[sub[cols[-1]].notna(), "respondent_id"].nunique())}
        means = {_label(c): float(sub[c].mean()) for c in cols}
        for k, v in means.items():
            r[f"mean_{k}"] = v
        avg = np.nanmean([means[_label(c)] for c in dims])
        for c in dims:
            r[f"dev_{_label(c)}"] = means[_label(c)] - avg
        dm = pd.Series({_label(c): means[_label(c)] for c in dims}).dropna()
        r["strongest"] = dm.idxmax() if len(dm) else None
        r["weakest"] = dm.idxmin() if len(dm) else None
        rows.append(r)
    return _table(pd.DataFrame(rows), keys=["country", "fieldwork"], count_cols=["n_respondents"], groups=[])


def fieldwork_comparison(df: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Fieldwork countries (any mentored returnee) vs the other countries, per score.

    Returns
    -------
    pandas.DataFrame
        One row per score: ``score``, ``countries_fieldwork``,
        ``countries_other`` (comma-separated), and for each group (``fieldwork``,
        ``other``): ``n_countries_*``, ``n_surveys_*``, ``n_respondents_*``,
        ``mean_*``, ``ci_low_*``, ``ci_high_*``, ``mean_of_country_means_*``
        (each country weighing the same); then ``diff`` (fieldwork minus other),
        ``diff_se``, ``diff_ci_low``, ``diff_ci_high``, ``diff_p``.

    Notes
    -----
    Descriptive.  The pooled group means weigh countries by their sample sizes;
    ``mean_of_country_means`` does not.  The difference is the OLS coefficient of a
    fieldwork dummy, cluster-robust (CR1) by respondent with t(G-1): respondents,
    not countries, are the clusters, so the CI says nothing about how much
    countries vary (with 3 against 14 countries a country-level inference would
    not be reliable).
    """
    fw = fieldwork_countries(df)
    is_fw = df["country"].isin(fw).to_numpy()
    rows = []
    for c in score_columns(df):
        ok = df[c].notna().to_numpy()
        row: dict[str, Any] = {"score": _label(c), "countries_fieldwork": ", ".join(fw),
                               "countries_other": ", ".join(sorted(set(df.loc[~is_fw, "country"])))}
        for name, mask in (("fieldwork", is_fw), ("other", ~is_fw)):
            sub = df.loc[mask & ok]
            r = mean_ci(sub[c], groups=sub["respondent_id"], level=level)
            row.update({f"n_countries_{name}": int(sub["country"].nunique()), f"n_surveys_{name}": r["n"],
                        f"n_respondents_{name}": r["n_clusters"], f"mean_{name}": r["mean"],
                        f"ci_low_{name}": r["ci_low"], f"ci_high_{name}": r["ci_high"],
                        f"mean_of_country_means_{name}": float(sub.groupby("country")[c].mean().mean())
                        if len(sub) else np.nan})
        row.update(_dummy_diff(df.loc[ok, c].to_numpy(float), is_fw[ok], df.loc[ok, "respondent_id"], level))
        rows.append(row)
    out = pd.DataFrame(rows)
    return _table(out, keys=["score", "countries_fieldwork", "countries_other"],
                  count_cols=["n_respondents_fieldwork", "n_respondents_other"])


def _dummy_diff(y: np.ndarray, d: np.ndarray, groups: pd.Series, level: float) -> dict[str, float]:
    """OLS of y on a constant and a dummy, CR1 by group, t(G-1)."""
    from scipy import stats

    out = {"diff": np.nan, "diff_se": np.nan, "diff_ci_low": np.nan, "diff_ci_high": np.nan, "diff_p": np.nan}
    if d.all() or not d.any():
        return out
    X = np.column_stack([np.ones(len(y)), d.astype(float)])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta
    g = pd.factorize(pd.Series(groups).astype(str).to_numpy())[0]
    G, n, k = int(g.max()) + 1, len(y), 2
    if G < 2:
        return out
    bread = np.linalg.inv(X.T @ X)
    s = np.column_stack([np.bincount(g, weights=X[:, j] * e, minlength=G) for j in range(k)])
    V = G / (G - 1) * (n - 1) / (n - k) * bread @ (s.T @ s) @ bread
    se = math.sqrt(V[1, 1])
    t = float(stats.t.ppf((1 + level) / 2, G - 1))
    out.update(diff=float(beta[1]), diff_se=se, diff_ci_low=beta[1] - t * se, diff_ci_high=beta[1] + t * se,
               diff_p=float(2 * stats.t.sf(abs(beta[1]) / se, G - 1)) if se > 0 else np.nan)
    return out


def dimension_correlations(df: pd.DataFrame, *, by: str | None = "country") -> pd.DataFrame:
    """Correlations between the dimension scores, pooled and per group.

    Returns
    -------
    pandas.DataFrame
        ``scope`` (``pooled`` or the group, e.g. a country), ``dim_a``, ``dim_b``,
        ``n_surveys``, ``n_respondents`` (with both scores), ``pearson``,
        ``spearman``.  Surveys are pooled over waves.
    """
    dims = [c for c in score_columns(df) if c != "score_composite"]
    pairs = [(a, b) for i, a in enumerate(dims) for b in dims[i + 1:]]
    scopes = [(POOLED, df)] + (list(df.groupby(by, sort=True)) if by else [])
    rows = []
    for key, sub in scopes:
        # the scope's columns as arrays once; each pair's values as plain Series (same pandas statistics)
        values = {d: sub[d].astype(float).to_numpy() for d in dims}
        present = {d: sub[d].notna().to_numpy() for d in dims}
        ids = pd.factorize(sub["respondent_id"])[0]  # missing ids: -1, not counted (as nunique)
        for a, b in pairs:
            ok = present[a] & present[b]
            x, y = pd.Series(values[a][ok]), pd.Series(values[b][ok])
            enough = ok.sum() >= 3 and x.std() > 0 and y.std() > 0
            ids_ok = ids[ok]
            rows.append({"scope": key, "dim_a": _label(a), "dim_b": _label(b), "n_surveys": int(ok.sum()),
                         "n_respondents": len(pd.unique(ids_ok[ids_ok >= 0])),
                         "pearson": float(x.corr(y)) if enough else np.nan,
                         "spearman": float(x.corr(y, method="spearman")) if enough else np.nan})
    return _table(pd.DataFrame(rows), keys=["scope", "dim_a", "dim_b"], count_cols=["n_respondents"])


# ------------------------------------------------------------------ key numbers


def _relative(path: str, source: Path) -> str:
    """``path`` (as the loader shows it) relative to the input folder, else its name."""
    from . import paths

    p = Path(path)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, paths.ROOT / p]
    found = next((c for c in candidates if c.exists()), candidates[0])
    base = source if source.is_dir() else source.parent
    try:
        return found.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.name


def prepare_numbers(result: LoadResult, scored: pd.DataFrame, *, source: str | Path,
                    synthetic: bool) -> dict[str, Any]:
    """Key numbers of data preparation (no absolute paths: files relative to the input folder).

    Returns
    -------
    dict
        ``headlines`` (sentences for the executive summary), ``n_surveys``,
        ``n_respondents``, ``n_countries``, ``countries``,
        ``fieldwork_countries``, ``surveys_by_wave``, ``n_with_composite``,
        ``n_excluded`` (both suppressed when the excluded surveys come from fewer
        respondents than the disclosure threshold), ``scheme_id``, ``scheme_title``, ``scheme_official``,
        ``synthetic``, ``input_files`` (``file``, ``format``, ``rows``,
        ``sha256``), ``unused_columns``, ``ignored_files``, ``disclosure_threshold``.
    """
    src = Path(source)
    countries = sorted(str(c) for c in scored["country"].unique())
    n_comp = int(scored["score_composite"].notna().sum())
    # the excluded surveys are a cell like any other: under the threshold (in respondents) they are not published,
    # and neither is their complement (the total number of surveys is)
    thr = _threshold(None)
    n_excl_resp = scored.loc[scored["score_composite"].isna(), "respondent_id"].nunique()
    small = 0 < n_excl_resp < thr
    n_excluded: int | str = f"<{thr}" if small else len(scored) - n_comp
    n_with: int | str = "suppressed" if small else n_comp
    scheme_text = result.scheme.id + ("" if result.scheme.official else " (not the official IOM weights)")
    excl_text = f"surveys of fewer than {thr} respondents" if small else f"{len(scored) - n_comp:,} surveys"
    headlines = [f"{len(scored):,} surveys of {_n_resp(scored):,} respondents in {len(countries)} countries, "
                 f"scored with the scheme {scheme_text}; {excl_text} without a composite score."]
    if synthetic:
        headlines.insert(0, "Synthetic data: the figures are not IOM results.")
    return {
        "headlines": headlines,
        "n_surveys": len(scored), "n_respondents": _n_resp(scored), "n_countries": len(countries),
        "countries": countries, "fieldwork_countries": fieldwork_countries(scored),
        "surveys_by_wave": {str(int(w)): int(n) for w, n in scored["wave"].value_counts().sort_index().items()},
        "n_with_composite": n_with, "n_excluded": n_excluded,
        "scheme_id": result.scheme.id, "scheme_title": result.scheme.title,
        "scheme_official": bool(result.scheme.official), "synthetic": bool(synthetic),
        "input_files": [{"file": _relative(f.path, src), "format": f.format, "rows": f.rows, "sha256": f.sha256}
                        for f in result.files],
        "unused_columns": {_relative(f, src): cols for f, cols in result.unused_columns.items()},
        "ignored_files": [_relative(f, src) for f in result.ignored_files],
        "disclosure_threshold": thr,
    }


def country_numbers(df: pd.DataFrame, *, country: str, mentoring: pd.DataFrame | None = None,
                    min_n: int | None = None, level: float = 0.95) -> dict[str, Any]:
    """Key numbers of one country's profile, under disclosure control.

    Parameters
    ----------
    df
        The country's scored records.
    country
        Its ISO3 code (recorded as given, upper case).
    mentoring
        Its :func:`mentored_comparison` table, if any.
    min_n
        Disclosure threshold (default :func:`helpers.outputs.disclosure_threshold`).

    Returns
    -------
    dict
        ``country``, ``suppressed``, ``n_surveys``, ``n_respondents`` (``"<10"``
        when suppressed, with every statistic ``None``), ``n_waves``,
        ``mean_<score>``/``ci_low_<score>``/``ci_high_<score>``, ``share_female``
        (of respondents with a known sex), ``median_age``,
        ``median_months_since_return``, ``has_mentored``, ``mentoring_<score>_raw``
        and ``_adj`` differences with their CI and p (``None`` when either group is
        under the threshold).
    """
    thr = _threshold(min_n)
    n_resp = _n_resp(df)
    out: dict[str, Any] = {"country": str(country).upper(), "suppressed": n_resp < thr}
    first = _first_survey(df)
    sex = first["sex"].dropna().astype(str)
    known = sex[sex.isin(["F", "M"])]
    out.update(n_surveys=len(df), n_respondents=n_resp, n_waves=int(df["wave"].max()),
               share_female=float((known == "F").mean()) if len(known) >= thr else None,
               median_age=float(pd.to_numeric(first["age"], errors="coerce").median()),
               median_months_since_return=float(df["months_since_return"].median()))
    for c in score_columns(df):
        ok = df[c].notna()
        r = mean_ci(df.loc[ok, c], groups=df.loc[ok, "respondent_id"], level=level)
        big = r["n_clusters"] >= thr
        for k in ("mean", "ci_low", "ci_high"):
            out[f"{k}_{_label(c)}"] = r[k] if big else None
    m = pd.to_numeric(df["mentored"], errors="coerce") == 1
    out["has_mentored"] = bool(m.any())
    n_m = int(df.loc[m, "respondent_id"].nunique())
    out["n_respondents_mentored"] = n_m if n_m == 0 or n_m >= thr else f"<{thr}"
    if mentoring is not None and len(mentoring):
        for r in mentoring.itertuples(index=False):
            big = r.n_respondents_mentored >= thr and r.n_respondents_not >= thr
            for kind in ("raw", "adj"):
                for stat in ("diff", "ci_low", "ci_high", "p"):
                    key = f"mentoring_{r.score}_{kind}_{stat}"
                    out[key] = getattr(r, f"{kind}_{stat}") if big else None
    if out["suppressed"]:  # same keys as any other country, so reports can tabulate them side by side
        out = {k: (v if k in ("country", "suppressed") else None) for k, v in out.items()}
        out["n_respondents"] = f"<{thr}"
    return out


def cross_numbers(df: pd.DataFrame, *, means: pd.DataFrame, ranking: pd.DataFrame,
                  fieldwork: pd.DataFrame, correlations: pd.DataFrame, min_n: int | None = None,
                  level: float = 0.95) -> dict[str, Any]:
    """Key numbers of the descriptive cross-country comparison, under disclosure control.

    Returns
    -------
    dict
        ``headlines`` (sentences for the executive summary), ``n_countries``,
        ``countries_shown``, ``countries_suppressed`` (fewer
        respondents than the threshold), ``fieldwork_countries``, pooled
        ``mean_<score>`` with CI, ``highest_<score>``/``lowest_<score>`` (country
        among those shown), ``fieldwork_mean_<score>``, ``other_mean_<score>``,
        ``fieldwork_diff_<score>`` with CI and p, ``pearson_<a>_<b>`` pooled and
        ``median_country_pearson_<a>_<b>`` over the countries shown.
    """
    thr = _threshold(min_n)
    shown = ranking.loc[ranking["n_respondents"] >= thr, "country"].tolist()
    out: dict[str, Any] = {
        "n_countries": int(ranking["country"].nunique()), "countries_shown": sorted(shown),
        "countries_suppressed": sorted(set(ranking["country"]) - set(shown)),
        "fieldwork_countries": fieldwork_countries(df), "disclosure_threshold": thr,
    }
    for c in score_columns(df):
        s = _label(c)
        ok = df[c].notna()
        r = mean_ci(df.loc[ok, c], groups=df.loc[ok, "respondent_id"], level=level)
        out.update({f"mean_{s}": r["mean"], f"ci_low_{s}": r["ci_low"], f"ci_high_{s}": r["ci_high"]})
        sub = means[(means["score"] == s) & means["country"].isin(shown)].sort_values("mean", kind="stable")
        out[f"highest_{s}"] = sub["country"].iloc[-1] if len(sub) else None
        out[f"lowest_{s}"] = sub["country"].iloc[0] if len(sub) else None
    for r in fieldwork.itertuples(index=False):
        big = r.n_respondents_fieldwork >= thr and r.n_respondents_other >= thr
        for k, v in (("fieldwork_mean", r.mean_fieldwork), ("other_mean", r.mean_other), ("fieldwork_diff", r.diff),
                     ("fieldwork_diff_ci_low", r.diff_ci_low), ("fieldwork_diff_ci_high", r.diff_ci_high),
                     ("fieldwork_diff_p", r.diff_p)):
            out[f"{k}_{r.score}"] = v if big else None
    hi, lo = out.get("highest_composite"), out.get("lowest_composite")
    if hi and lo:
        m = means[means["score"] == "composite"].set_index("country")["mean"]
        out["headlines"] = [f"Mean composite score by country ranges from {m[lo]:.2f} ({lo}) to {m[hi]:.2f} ({hi}) "
                            f"over the {len(shown)} countries with at least {thr} respondents."]
    if out.get("fieldwork_diff_composite") is not None:
        out.setdefault("headlines", []).append(
            f"Fieldwork countries ({', '.join(out['fieldwork_countries'])}) against the others: composite "
            f"{out['fieldwork_mean_composite']:.3f} vs {out['other_mean_composite']:.3f}, difference "
            f"{out['fieldwork_diff_composite']:.3f} (95% CI {out['fieldwork_diff_ci_low_composite']:.3f} to "
            f"{out['fieldwork_diff_ci_high_composite']:.3f}); descriptive, not an effect of mentoring.")
    corr = correlations[correlations["n_respondents"] >= thr]
    for (a, b), sub in corr.groupby(["dim_a", "dim_b"], sort=False):
        pooled = sub.loc[sub["scope"] == POOLED, "pearson"]
        out[f"pearson_{a}_{b}"] = float(pooled.iloc[0]) if len(pooled) else None
        per = sub.loc[sub["scope"] != POOLED, "pearson"].dropna()
        out[f"median_country_pearson_{a}_{b}"] = float(per.median()) if len(per) else None
    return out


# --------------------------------------------------------------------- figures

_BAND_COLOURS = {"low": "#d7301f", "medium": "#fdae61", "high": "#1a9850"}
_SCORE_COLOURS = {"economic": "#1b9e77", "social": "#d95f02", "psychosocial": "#7570b3", "composite": "#333333"}


def _figure(**kwargs: Any) -> Figure:
    """A Figure not registered with pyplot: no global state, works headless."""
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def _big(table: pd.DataFrame, thr: int, count_cols: Sequence[str] | None = None) -> pd.Series:
    """Rows a figure may draw: those the published table shows (primary and secondary suppression)."""
    from .disclosure import suppressed_rows

    cols = list(count_cols or table.attrs.get("count_cols") or ["n_respondents"])
    return ~suppressed_rows(table, count_cols=cols, threshold=thr)


def _complement(table: pd.DataFrame, keep: pd.Series, thr: int) -> bool:
    """Whether a figure leaves out a row that is not small itself (hidden by secondary suppression)."""
    cols = list(table.attrs.get("count_cols") or ["n_respondents"])
    n = table[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
    return bool((~keep & (n >= thr).all(axis=1)).any())


def _note(dropped: Sequence[str], thr: int, what: str = "groups", *, complement: bool = False) -> str:
    """Title line naming what a figure leaves out under the disclosure threshold."""
    import textwrap

    if not len(dropped):
        return ""
    items = list(dict.fromkeys(str(d) for d in dropped))
    shown = ", ".join(items[:12]) + (f", ... ({len(items)} in all)" if len(items) > 12 else "")
    why = f"{what} with fewer than {thr} respondents" + (
        ", and the next-smallest, so that none can be recovered by subtraction" if complement else "")
    return "\n" + "\n".join(textwrap.wrap(f"not shown ({why}): {shown}", 90))


def _colour(score: str, i: int = 0) -> str:
    return _SCORE_COLOURS.get(score, f"C{i}")


def plot_score_distributions(df: pd.DataFrame, *, min_n: int | None = None, title: str = "",
                             bins: int = 10) -> Figure:
    """Histogram of each score (share of surveys), one panel per score.

    A bin holding fewer respondents than ``min_n`` is not drawn, nor, when it would be
    the only bin hidden, the next-smallest one (shares sum to 100%, so one hidden bin
    would be 100% minus the others); a score with fewer respondents in all is not
    drawn at all.  The title says what was left out.
    """
    from .disclosure import complementary

    thr = _threshold(min_n)
    cols = score_columns(df)
    fig = _figure(figsize=(9, 6))
    axes = fig.subplots(2, math.ceil(len(cols) / 2), sharex=True, squeeze=False).ravel()
    edges = np.linspace(0, 1, bins + 1)
    dropped_bins = hidden_with = 0
    dropped_scores = []
    for i, (ax, c) in enumerate(zip(axes, cols, strict=False)):
        ok = df[c].notna()
        v, ids = df.loc[ok, c].to_numpy(float), df.loc[ok, "respondent_id"].to_numpy()
        ax.set_title(_label(c))
        ax.set_xlim(0, 1)
        if pd.Series(ids).nunique() < thr:
            dropped_scores.append(_label(c))
            ax.text(0.5, 0.5, f"fewer than {thr} respondents", ha="center", va="center", transform=ax.transAxes)
            continue
        which = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, bins - 1)
        resp = pd.Series(ids).groupby(which).nunique().reindex(range(bins), fill_value=0).to_numpy()
        share = np.bincount(which, minlength=bins) / len(v) * 100
        # shares sum to 100%: one hidden bin would be 100 minus the others, so hide the next-smallest too
        nonempty = resp > 0
        small = nonempty & (resp < thr)
        small[nonempty] |= complementary(resp[nonempty], small[nonempty], np.zeros(int(nonempty.sum())))
        keep = nonempty & ~small
        dropped_bins += int((nonempty & (resp < thr)).sum())
        hidden_with += int((small & (resp >= thr)).sum())
        ax.bar(edges[:-1][keep], share[keep], width=np.diff(edges)[keep], align="edge", color=_colour(_label(c), i),
               alpha=0.8, edgecolor="white")
        ax.axvline(float(v.mean()), color="black", lw=1, ls="--")
        ax.set_ylabel("% of surveys")
    for ax in axes[len(cols):]:
        ax.set_visible(False)
    note = f"\n{dropped_bins} bin(s) with fewer than {thr} respondents not shown" if dropped_bins else ""
    if hidden_with:
        note += f", nor {hidden_with} more so that they cannot be recovered by subtraction"
    note += _note(dropped_scores, thr, "scores")
    fig.suptitle((title or "Score distributions") + " (dashed: mean)" + note, fontsize=10)
    return fig


def plot_band_shares(bands: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Bars of the share of surveys in each band, per score, from :func:`band_shares`.

    Bands (cells) with fewer respondents than ``min_n`` are not drawn, nor the bands
    the published table hides by secondary suppression (shares sum to 100%).
    """
    thr = _threshold(min_n)
    keep = _big(bands, thr)
    scores = list(dict.fromkeys(bands["score"]))
    names = list(dict.fromkeys(bands["band"]))
    fig = _figure(figsize=(8, 4.5))
    ax = fig.subplots()
    width = 0.8 / max(len(names), 1)
    x = {s: i for i, s in enumerate(scores)}
    from matplotlib.patches import Patch

    handles = []
    for j, band in enumerate(names):
        colour = _BAND_COLOURS.get(band, f"C{j}")
        sub = bands[(bands["band"] == band) & keep]
        ax.bar([x[s] + (j - (len(names) - 1) / 2) * width for s in sub["score"]], sub["share"] * 100, width=width,
               color=colour, edgecolor="white")
        handles.append(Patch(color=colour, label=band))
    ax.set_xticks(range(len(scores)), scores)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of surveys")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=handles, ncols=len(names), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    dropped = [f"{r.score} {r.band}" for r in bands[~keep].itertuples(index=False)]
    ax.set_title((title or "Band shares") + _note(dropped, thr, "bands", complement=_complement(bands, keep, thr)), fontsize=10, pad=22)
    return fig


def plot_indicator_profile(profile: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Country mean of each indicator (dot) against the pooled median (bar), from :func:`indicator_profile`."""
    thr = _threshold(min_n)
    keep = _big(profile, thr)
    p = profile[keep]
    fig = _figure(figsize=(7, 0.32 * max(len(profile), 3) + 1.5))
    ax = fig.subplots()
    labels = [f"{r.indicator} {r.label}" for r in p.itertuples(index=False)]
    y = np.arange(len(p))
    colours = [_colour(d, i) for i, d in enumerate(p["dimension"])]
    ax.scatter(p["pooled_median"], y, marker="|", s=250, color="grey", label="pooled median, all countries", zorder=2)
    ax.scatter(p["mean"], y, color=colours, label="country mean", zorder=3)
    ax.set_yticks(y, labels)
    ax.set_xlim(-0.02, 1.02)
    ax.invert_yaxis()
    ax.set_xlabel("indicator score")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title((title or "Indicators against the pooled median")
                 + _note(profile.loc[~keep, "indicator"].tolist(), thr, "indicators"), fontsize=10, pad=26)
    return fig


def plot_trajectory(table: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Mean scores with 95% CI along :func:`trajectory` bins or :func:`by_wave` waves."""
    thr = _threshold(min_n)
    xcol = table.attrs.get("keys", [table.columns[0]])[0]
    keep = _big(table, thr)
    order = list(dict.fromkeys(table.loc[keep, xcol].astype(str)))
    pos = {k: i for i, k in enumerate(order)}
    fig = _figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for i, (s, sub) in enumerate(table[keep].groupby("score", sort=False)):
        x = np.array([pos[str(v)] for v in sub[xcol]]) + (i - 1.5) * 0.06
        ax.errorbar(x, sub["mean"], yerr=[sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]],
                    marker="o", capsize=3, color=_colour(s, i), label=s, lw=2 if s == "composite" else 1.2)
    ax.set_xticks(range(len(order)), order)
    ax.set_xlabel("months since return" if xcol == "months_since_return" else xcol)
    ax.set_ylabel("mean score (95% CI)")
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    dropped = table.loc[~keep, xcol].astype(str).tolist()
    ax.set_title((title or f"Scores by {xcol.replace('_', ' ')}")
                 + _note(dropped, thr, "bins", complement=_complement(table, keep, thr)), fontsize=10, pad=22)
    return fig


def plot_country_means(means: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Forest plot: mean and 95% CI of each score per country, from :func:`country_means`.

    Countries are sorted by their composite mean; fieldwork countries are drawn in
    colour, the others in grey.  Countries under ``min_n`` respondents are left out.
    """
    thr = _threshold(min_n)
    keep = _big(means, thr)
    m = means[keep]
    scores = list(dict.fromkeys(means["score"]))
    sort_on = "composite" if "composite" in scores else scores[0]
    order = m[m["score"] == sort_on].sort_values("mean", kind="stable")["country"].tolist()
    order += sorted(set(m["country"]) - set(order))
    y = {c: i for i, c in enumerate(order)}
    fig = _figure(figsize=(3 * len(scores), 0.3 * max(len(order), 4) + 1.6))
    axes = fig.subplots(1, len(scores), sharey=True, squeeze=False).ravel()
    for ax, s in zip(axes, scores, strict=True):
        sub = m[m["score"] == s]
        for r in sub.itertuples(index=False):
            colour = "#c51b7d" if r.fieldwork else "#555555"
            ax.errorbar(r.mean, y[r.country], xerr=[[r.mean - r.ci_low], [r.ci_high - r.mean]], fmt="o",
                        color=colour, capsize=2, ms=4)
        ax.set_title(s)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("mean (95% CI)")
    axes[0].set_yticks(range(len(order)), order)
    dropped = sorted(set(means["country"]) - set(order))
    fig.suptitle((title or "Mean scores by country (fieldwork countries in colour)") + _note(dropped, thr,
                 "countries", complement=_complement(means, keep, thr)), fontsize=10)
    return fig


def plot_dimension_profiles(profiles: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Heatmap of mean scores per country, from :func:`dimension_profiles`.

    Cells show the mean; their colour is the difference from the pooled mean of the
    same score, so each column reads as "above or below the pooled average".
    """
    import seaborn as sns

    thr = _threshold(min_n)
    keep = _big(profiles, thr)
    p = profiles[keep].set_index("country")
    cols = [c for c in profiles.columns if c.startswith("mean_")]
    data = p[cols].rename(columns=lambda c: c.removeprefix("mean_"))
    pooled = profiles.set_index("country").loc[POOLED, cols].to_numpy(float) if POOLED in set(profiles["country"]) \
        else data.mean().to_numpy()
    diff = data - pooled
    lim = max(float(np.nanmax(np.abs(diff.to_numpy(float)))) if diff.size else 0.0, 0.01)
    fig = _figure(figsize=(6.5, 0.35 * max(len(data), 4) + 1.8))
    ax = fig.subplots()
    sns.heatmap(diff, annot=data, fmt=".2f", cmap="RdBu", vmin=-lim, vmax=lim, center=0, ax=ax,
                cbar_kws={"label": "difference from the pooled mean"}, linewidths=0.5)
    ax.set_ylabel("")
    ax.set_title((title or "Mean scores per country (colour: difference from the pooled mean)")
                 + _note(profiles.loc[~keep, "country"].tolist(), thr, "countries",
                         complement=_complement(profiles, keep, thr)), fontsize=10)
    return fig


def plot_correlations(corr: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Heatmap of the Pearson correlations of dimension pairs, pooled and per country."""
    import seaborn as sns

    thr = _threshold(min_n)
    keep = _big(corr, thr)
    c = corr[keep].assign(pair=lambda d: d["dim_a"] + " -\n" + d["dim_b"])
    scopes = list(dict.fromkeys(c["scope"]))
    pairs = list(dict.fromkeys(c["pair"]))
    data = c.pivot(index="scope", columns="pair", values="pearson").reindex(index=scopes, columns=pairs)
    fig = _figure(figsize=(6.5, 0.35 * max(len(data), 4) + 1.8))
    ax = fig.subplots()
    sns.heatmap(data, annot=True, fmt=".2f", cmap="RdBu_r", vmin=-1, vmax=1, center=0, ax=ax,
                cbar_kws={"label": "Pearson r"}, linewidths=0.5)
    ax.tick_params(axis="x", labelrotation=0)
    ax.set_ylabel("")
    ax.set_xlabel("")
    dropped = sorted(set(corr["scope"]) - set(scopes))
    ax.set_title((title or "Correlation of the dimensions") + _note(dropped, thr, "countries"), fontsize=10)
    return fig
