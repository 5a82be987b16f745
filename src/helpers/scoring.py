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
mean of the three dimension scores.  Everything is computed on whole columns
(one array per question, indicator and dimension); there is no loop over rows.

Imports: helpers.scheme.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .scheme import MAX_CODE, Scheme, code_slots

__all__ = ["item_scores", "score", "band"]

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
        out[:, j] = _item(arr[:, j], scheme.score_table(q))
    return out


def _codes_array(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _column_items(s: pd.Series, table: np.ndarray) -> np.ndarray:
    """Item scores of one question column (any dtype).

    Integer codes (the loader's Int8) are looked up directly; other columns go through
    floats, as :func:`item_scores` does: the scores are the same either way.
    """
    if pd.api.types.is_signed_integer_dtype(s.dtype):
        return table.take(code_slots(s))  # missing or out of range -> the table's slot of no score
    return _item(_codes_array(s), table)


def _item(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Item scores of one question from its codes through its lookup table."""
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(codes) & (codes >= 0) & (codes <= MAX_CODE)
    idx = np.full(codes.shape, MAX_CODE + 1, dtype=np.intp)
    idx[ok] = codes[ok].astype(np.intp)
    return table[idx]


def _weighted_mean(parts: list[tuple[np.ndarray, float]], n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted mean over the parts that are present; returns (mean, present weight, total weight).

    Summed in place (``num += where(present, values, 0) * w``, ``den += present * w``):
    no temporary array per part.
    """
    num = np.zeros(n)
    den = np.zeros(n)
    term = np.empty(n)
    total = 0.0
    for values, w in parts:
        present = ~np.isnan(values)
        term.fill(0.0)
        np.copyto(term, values, where=present)
        term *= w
        num += term
        np.multiply(present, w, out=term)
        den += term
        total += w
    answered = den > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(num, den, out=num, where=answered)
    num[~answered] = np.nan
    return num, den, total


def _dimensions(item: Callable[[str], np.ndarray], scheme: Scheme, weight: str, n: int):
    """Indicator and dimension scores under one set of question weights (``weight`` or ``composite_weight``).

    ``item(qid)`` gives a question's item scores; they are asked for one indicator at a
    time, so that only that indicator's items are held.
    """
    inds: dict[str, np.ndarray] = {}
    ind_w: dict[str, float] = {}
    for ind in scheme.indicators:
        qs = [scheme.question(q) for q in ind.questions]
        parts = [(item(q.id), getattr(q, weight)) for q in qs]
        if sum(w for _, w in parts) == 0:  # an indicator without weight here: plain mean, no weight
            parts = [(v, 1.0) for v, _ in parts]
            inds[ind.id], _, _ = _weighted_mean(parts, n)
            ind_w[ind.id] = 0.0
        else:
            inds[ind.id], _, ind_w[ind.id] = _weighted_mean(parts, n)
    dims: dict[str, np.ndarray] = {}
    dim_w: dict[str, float] = {}
    for d in scheme.dimensions:
        parts = [(inds[i.id], ind_w[i.id]) for i in scheme.indicators if i.dimension == d]
        mean, present, total = _weighted_mean(parts, n)
        covered = present >= (scheme.min_dimension_weight - _TOL) * total
        dims[d] = np.where(covered & (total > 0), mean, np.nan)
        dim_w[d] = total
    return inds, dims, dim_w


def _proportional(scheme: Scheme) -> bool:
    """True when composite weights are proportional to dimension weights inside every dimension."""
    for d in scheme.dimensions:
        w = np.array([q.weight for q in scheme.questions if q.dimension == d])
        c = np.array([q.composite_weight for q in scheme.questions if q.dimension == d])
        if w.sum() == 0 or c.sum() == 0 or not np.allclose(w / w.sum(), c / c.sum(), rtol=0, atol=1e-12):
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
    codes = np.zeros(x.shape, dtype=np.int8)
    for edge in scheme.band_edges:
        codes += x >= edge
    codes[np.isnan(x)] = -1
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
    tables = {q: scheme.score_table(q) for q in scheme.question_ids}

    def item(q: str) -> np.ndarray:
        return _column_items(df[q], tables[q])

    inds, dims, _ = _dimensions(item, scheme, "weight", n)
    dims_c, comp_w = (dims, None) if _proportional(scheme) else _dimensions(item, scheme, "composite_weight", n)[1:]
    if comp_w is None:
        comp_w = {d: sum(q.composite_weight for q in scheme.questions if q.dimension == d) for d in scheme.dimensions}
    total = sum(comp_w.values())
    comp = np.zeros(n)
    valid = np.ones(n, dtype=bool)
    for d in scheme.dimensions:
        valid &= ~np.isnan(dims[d]) & ~np.isnan(dims_c[d])
        comp += np.nan_to_num(dims_c[d]) * comp_w[d]
    comp = np.where(valid, comp / total, np.nan)

    cols = [*scheme.indicator_columns, *scheme.score_columns]
    # the arrays computed above become the columns as they are: no copy into one two-dimensional block
    scores = [*(inds[ind.id] for ind in scheme.indicators), *(dims[d] for d in scheme.dimensions), comp]
    for values in scores:
        np.clip(values, 0.0, 1.0, out=values)  # floating-point drift just outside [0, 1]
    new = pd.DataFrame(dict(zip(cols, scores, strict=True)), index=df.index, copy=False)
    bands = pd.DataFrame({f"band_{c.removeprefix('score_')}": band(values, scheme)
                          for c, values in zip(cols, scores, strict=True)}, index=df.index)
    return pd.concat([df, new, bands], axis=1)
