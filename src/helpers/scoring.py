"""Score RSS answers: item -> indicator -> dimension -> composite, and bands.

Notes
-----
Let :math:`s_{iq}` be the item score of respondent-wave *i* on question *q*
(missing for 97/98/99 and empty cells) and :math:`w_q` the question's weight in
its dimension.  For an indicator *I*,

.. math:: \\mathrm{ind}_{iI} = \\frac{\\sum_{q \\in I,\\ \\mathrm{answered}} w_q s_{iq}}
                                 {\\sum_{q \\in I,\\ \\mathrm{answered}} w_q},
          \\qquad W_I = \\sum_{q \\in I} w_q .

A dimension score is :math:`\\sum_I W_I \\mathrm{ind}_{iI} / \\sum_I W_I` over the
indicators that have a score, and is missing when those carry less than the
scheme's ``min_dimension_weight`` of the dimension's weight.  The composite uses the
composite weights :math:`c_q` the same way inside each dimension and then
:math:`\\sum_d C_d \\cdot \\mathrm{dim}^{(c)}_{id}` with :math:`C_d = \\sum_{q \\in d} c_q`;
it is missing when any dimension score is missing.  With the default scheme
(``c_q`` proportional to ``w_q`` inside each dimension) this is the plain weighted
mean of the three dimension scores.  Everything is computed on arrays, in chunks of
rows to bound memory; there is no loop over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scheme import MAX_CODE, Scheme

__all__ = ["item_scores", "score", "band"]

_CHUNK = 250_000
_TOL = 1e-9


def item_scores(codes: pd.DataFrame | np.ndarray, scheme: Scheme) -> np.ndarray:
    """Turn answer codes (one column per question, scheme order) into item scores.

    Special codes 97/98/99 and missing cells give NaN, never 0.

    Examples
    --------
    >>> from helpers.scheme import load_scheme
    >>> s = load_scheme()
    >>> codes = pd.DataFrame({q: [pd.NA] for q in s.question_ids}, dtype="Int16")
    >>> codes.loc[0, "eco_borrow_freq"] = 2
    >>> codes.loc[0, "eco_employed"] = 98
    >>> out = item_scores(codes, s)
    >>> float(out[0, s.question_ids.index("eco_borrow_freq")]), bool(np.isnan(out[0, 4]))
    (0.75, True)
    """
    if isinstance(codes, pd.DataFrame):
        arr = np.column_stack([_codes_array(codes[q]) for q in scheme.question_ids]) if len(codes) else \
            np.empty((0, len(scheme.questions)))
    else:
        arr = np.asarray(codes, dtype=float)
    out = np.empty(arr.shape, dtype=float)
    for j, q in enumerate(scheme.question_ids):
        col = arr[:, j]
        idx = np.where(np.isnan(col) | (col < 0) | (col > MAX_CODE), MAX_CODE + 1, col).astype(np.intp)
        out[:, j] = scheme.score_table(q)[idx]
    return out


def _codes_array(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _structure(scheme: Scheme):
    qids = scheme.question_ids
    ind_ids = [i.id for i in scheme.indicators]
    member = np.zeros((len(qids), len(ind_ids)))  # question -> indicator
    for j, q in enumerate(scheme.questions):
        member[j, ind_ids.index(q.indicator)] = 1.0
    ind_dim = np.zeros((len(ind_ids), len(scheme.dimensions)))  # indicator -> dimension
    for k, ind in enumerate(scheme.indicators):
        ind_dim[k, scheme.dimensions.index(ind.dimension)] = 1.0
    w = np.array([q.weight for q in scheme.questions])
    c = np.array([q.composite_weight for q in scheme.questions])
    return member, ind_dim, w, c


def _aggregate(s: np.ndarray, answered: np.ndarray, weights: np.ndarray, member: np.ndarray,
               ind_dim: np.ndarray, min_share: float):
    """Indicator scores and dimension scores under one set of question weights."""
    num = (np.where(answered, s, 0.0) * weights) @ member
    den = (answered * weights) @ member
    n_ans = answered.astype(float) @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        ind = np.where((n_ans > 0) & (den > 0), num / np.where(den > 0, den, 1.0), np.nan)
    w_ind = weights @ member  # W_I
    has = ~np.isnan(ind)
    dim_num = (np.where(has, ind, 0.0) * w_ind) @ ind_dim
    dim_den = (has * w_ind) @ ind_dim
    dim_total = w_ind @ ind_dim
    with np.errstate(invalid="ignore", divide="ignore"):
        share = dim_den / np.where(dim_total > 0, dim_total, 1.0)
        dim = np.where((dim_den > 0) & (share >= min_share - _TOL), dim_num / np.where(dim_den > 0, dim_den, 1.0),
                       np.nan)
    return ind, dim, dim_total


def _score_block(s: np.ndarray, scheme: Scheme):
    member, ind_dim, w, c = _structure(scheme)
    answered = ~np.isnan(s)
    ind, dim, _ = _aggregate(s, answered, w, member, ind_dim, scheme.min_dimension_weight)
    comp_w = c @ member @ ind_dim  # C_d, the composite weight of each dimension
    if _proportional(w, c, member @ ind_dim):
        dim_c = dim
    else:
        _, dim_c, _ = _aggregate(s, answered, c, member, ind_dim, scheme.min_dimension_weight)
    valid = ~np.isnan(dim).any(axis=1) & ~np.isnan(dim_c).any(axis=1)
    comp = np.where(valid, np.nansum(dim_c * comp_w, axis=1) / comp_w.sum(), np.nan)
    # guard against floating-point drift just outside [0, 1]
    return np.clip(ind, 0.0, 1.0), np.clip(dim, 0.0, 1.0), np.clip(comp, 0.0, 1.0)


def _proportional(w: np.ndarray, c: np.ndarray, q_dim: np.ndarray) -> bool:
    """True when composite weights are proportional to dimension weights inside every dimension."""
    for d in range(q_dim.shape[1]):
        m = q_dim[:, d] > 0
        wd, cd = w[m], c[m]
        if cd.sum() == 0 or wd.sum() == 0:
            return False
        if not np.allclose(wd / wd.sum(), cd / cd.sum(), rtol=0, atol=1e-12):
            return False
    return True


def band(values: pd.Series | np.ndarray, scheme: Scheme) -> pd.Categorical:
    """Classify scores into the scheme's bands (``low < 0.33 <= medium < 0.66 <= high``).

    Examples
    --------
    >>> from helpers.scheme import load_scheme
    >>> list(band(np.array([0.0, 0.3299, 0.33, 0.66, 1.0, np.nan]), load_scheme()))
    ['low', 'low', 'medium', 'high', 'high', nan]
    """
    x = np.asarray(values, dtype=float)
    codes = np.searchsorted(np.asarray(scheme.band_edges), x, side="right")
    codes = np.where(np.isnan(x), -1, codes)
    return pd.Categorical.from_codes(codes, categories=list(scheme.band_names), ordered=True)


def score(df: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Return ``df`` with indicator, dimension, composite score and band columns added.

    Parameters
    ----------
    df
        Survey records with one column of answer codes per question of ``scheme``
        (as returned by :func:`helpers.loader.load`).
    scheme
        The scoring scheme.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` plus ``ind_<indicator>`` (15 with the default scheme),
        ``score_<dimension>``, ``score_composite`` (floats in [0, 1] or NaN) and
        ``band_<score>`` (ordered categoricals) for every score column.

    Examples
    --------
    The worked example of the scheme: only ``eco_employed = 1`` and
    ``eco_satisfaction = 3`` answered in the economic dimension.

    >>> from helpers.scheme import load_scheme
    >>> s = load_scheme()
    >>> row = {q.id: max(q.scores, key=q.scores.get) for q in s.questions}  # best answers
    >>> best = score(pd.DataFrame([row]), s)
    >>> float(best.loc[0, "score_composite"])
    1.0
    >>> ex = dict(row)
    >>> for q in s.question_ids:
    ...     if s.question(q).dimension == "economic":
    ...         ex[q] = 98
    >>> ex["eco_employed"], ex["eco_satisfaction"] = 1, 3
    >>> out = score(pd.DataFrame([ex]), s)
    >>> float(out.loc[0, "ind_E4"]), float(out.loc[0, "ind_E5"])
    (1.0, 0.5)
    >>> bool(np.isnan(out.loc[0, "score_economic"])), bool(np.isnan(out.loc[0, "score_composite"]))
    (True, True)
    """
    missing = [q for q in scheme.question_ids if q not in df.columns]
    if missing:
        raise KeyError(f"scoring needs one column per question of scheme {scheme.id}; missing: {', '.join(missing)}")
    n = len(df)
    n_ind, n_dim = len(scheme.indicators), len(scheme.dimensions)
    ind_all = np.empty((n, n_ind))
    dim_all = np.empty((n, n_dim))
    comp_all = np.empty(n)
    codes = np.column_stack([_codes_array(df[q]) for q in scheme.question_ids]) if n else \
        np.empty((0, len(scheme.questions)))
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        s = item_scores(codes[start:stop], scheme)
        ind_all[start:stop], dim_all[start:stop], comp_all[start:stop] = _score_block(s, scheme)
    new: dict[str, object] = {}
    for k, ind in enumerate(scheme.indicators):
        new[ind.column] = ind_all[:, k]
    for d, dim in enumerate(scheme.dimensions):
        new[f"score_{dim}"] = dim_all[:, d]
    new["score_composite"] = comp_all
    for col in [*scheme.indicator_columns, *scheme.score_columns]:
        new[f"band_{col.removeprefix('score_')}"] = band(new[col], scheme)
    out = pd.concat([df.reset_index(drop=True), pd.DataFrame(new)], axis=1)
    out.index = df.index
    return out
