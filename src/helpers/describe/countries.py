"""Section 2 of ``../shared/spec/analyses.md``: countries compared.

Country means and their ranking, dimension profiles, fieldwork countries against the
others, and the correlations between dimensions.

Imports: helpers.scored, helpers.describe.common, helpers.describe.intervals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..scored import score_columns
from .common import POOLED, disclosed_table, disclosure_min_n, fieldwork_countries, score_label
from .intervals import ci_frame, mean_ci


def country_means(df: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean of each score by country with a t-based CI (cluster-robust by respondent).

    Returns
    -------
    pandas.DataFrame
        ``country``, ``fieldwork``, ``score``, ``n_surveys``, ``n_respondents``,
        ``mean``, ``sd``, ``se``, ``ci_low``, ``ci_high``.
    """
    out = ci_frame(df, ["country"], score_columns(df), level=level)
    out.insert(1, "fieldwork", out["country"].isin(fieldwork_countries(df)))
    return disclosed_table(out, keys=["country", "fieldwork", "score"], count_cols=["n_respondents"], groups=["score"])


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
    thr = disclosure_min_n(min_n)
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
    return disclosed_table(out, keys=["country", "fieldwork"], count_cols=["n_respondents"], groups=[])


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
        means = {score_label(c): float(sub[c].mean()) for c in cols}
        for k, v in means.items():
            r[f"mean_{k}"] = v
        avg = np.nanmean([means[score_label(c)] for c in dims])
        for c in dims:
            r[f"dev_{score_label(c)}"] = means[score_label(c)] - avg
        dm = pd.Series({score_label(c): means[score_label(c)] for c in dims}).dropna()
        r["strongest"] = dm.idxmax() if len(dm) else None
        r["weakest"] = dm.idxmin() if len(dm) else None
        rows.append(r)
    return disclosed_table(pd.DataFrame(rows), keys=["country", "fieldwork"], count_cols=["n_respondents"], groups=[])


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
        row: dict[str, Any] = {"score": score_label(c), "countries_fieldwork": ", ".join(fw),
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
    return disclosed_table(out, keys=["score", "countries_fieldwork", "countries_other"],
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
            rows.append({"scope": key, "dim_a": score_label(a), "dim_b": score_label(b), "n_surveys": int(ok.sum()),
                         "n_respondents": len(pd.unique(ids_ok[ids_ok >= 0])),
                         "pearson": float(x.corr(y)) if enough else np.nan,
                         "spearman": float(x.corr(y, method="spearman")) if enough else np.nan})
    return disclosed_table(pd.DataFrame(rows), keys=["scope", "dim_a", "dim_b"], count_cols=["n_respondents"])
