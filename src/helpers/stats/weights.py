"""Scoring schemes from the data: PCA weights, the scheme's own weights, their comparison,
rescoring, rank comparisons, the planted effects of the synthetic data and implied indicator weights.

Imports: helpers.scheme, helpers.scored, helpers.stats.contract, helpers.stats.prep only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .contract import OUTCOMES
from .prep import clean_frame, require_columns

if TYPE_CHECKING:

    from ..scheme import Scheme


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
        require_columns(df, cols, "pca_weights")
        sub = clean_frame(df, cols).dropna()
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
        require_columns(df, list(sub["indicator"]), "rescore")
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
    from ..scored import scheme_info

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
        sub = clean_frame(scored, [*inds, f"score_{d}"]).dropna()
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
    sub = clean_frame(scored, [*dims, "score_composite"]).dropna()
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
