"""Key numbers and headline sentences for the report: interdependence, mentoring and weight numbers,
with the disclosure threshold applied to every count.

Imports: helpers.disclosure, helpers.stats.contract only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .contract import EFFECT_COUNTS


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _p_text(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _big_enough(r: Mapping[str, Any], cols: Sequence[str], thr: int) -> bool:
    return all((_f(r.get(c)) or 0) >= thr for c in cols)


def merge_numbers(*mappings: Mapping[str, Any]) -> dict[str, Any]:
    """Merge numbers mappings for one section: later keys win; ``headlines`` and ``summary_keys`` lists join.

    Examples
    --------
    >>> merge_numbers({"a": 1, "headlines": ["x"]}, {"b": 2, "headlines": ["y"]})
    {'a': 1, 'headlines': ['x', 'y'], 'b': 2}
    """
    out: dict[str, Any] = {}
    for m in mappings:
        for k, v in m.items():
            if k in ("headlines", "summary_keys") and isinstance(v, list):
                out[k] = [*out.get(k, []), *v]
            else:
                out[k] = v
    return out


def interdependence_numbers(table: pd.DataFrame, *, economic: str = "score_economic",
                            min_n: int | None = None) -> dict[str, Any]:
    """Key numbers and a headline from the interdependence table (correlations, on-economic, cross-lagged).

    Parameters
    ----------
    table
        :func:`combine` of :func:`dimension_correlations` (``group`` ``"all"`` =
        pooled), :func:`fit_on_economic` and :func:`cross_lagged` rows.
    min_n
        Disclosure threshold: rows with fewer respondents give ``None``.

    Returns
    -------
    dict
        ``corr_first_<a>_<b>`` (pooled, first surveys) with ``_ci_low``/``_ci_high``;
        ``on_economic_<dim>`` (and ``on_economic_controls_<dim>``) with CI and p;
        ``cross_lag_<x>_to_<y>`` with CI; ``economic_foundational`` (the economic
        score's cross-lags on every other dimension are positive, with CIs above 0,
        and larger than the reverse ones); ``headlines``.
    """
    from ..disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    eco = economic.removeprefix("score_")
    out: dict[str, Any] = {}
    recs = table.to_dict("records")

    def ok(r: Mapping[str, Any]) -> bool:
        return _big_enough(r, ["n_respondents"] if "n_respondents" in r else ["n_obs"], thr)

    for r in recs:
        a, b = str(r.get("term", "")).removeprefix("score_"), str(r["outcome"]).removeprefix("score_")
        est = r["estimator"]
        vals = (r["estimate"], r["ci_lower"], r["ci_upper"], r["p_value"]) if ok(r) else (None,) * 4
        if est.endswith("_correlation") and r.get("group") == "all":
            key = f"corr_first_{a}_{b}"
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2])})
        elif est.startswith("ols_on_economic"):
            key = est.replace("ols_", "", 1) + f"_{b}"
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2]),
                        f"{key}_p": _f(vals[3])})
        elif est == "cross_lagged" and bool(r.get("cross_lag")):
            x = a.removesuffix("_lag")
            key = f"cross_lag_{x}_to_{b}"
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2])})
    others = sorted({k.rsplit("_to_", 1)[1] for k in out if k.startswith(f"cross_lag_{eco}_to_")
                     and not k.endswith(("_ci_low", "_ci_high"))})
    pairs = [(out.get(f"cross_lag_{eco}_to_{d}"), out.get(f"cross_lag_{eco}_to_{d}_ci_low"),
              out.get(f"cross_lag_{d}_to_{eco}")) for d in others]
    known = [p for p in pairs if None not in p]
    found = bool(known) and len(known) == len(pairs) and all(f > 0 and lo > 0 and f > r for f, lo, r in known)
    out["economic_foundational"] = found if known else None
    heads = []
    on = [(d, out.get(f"on_economic_{d}")) for d in ("social", "psychosocial")]
    if all(v is not None for _, v in on):
        h = ("The dimensions move together: surveys with a 0.1 higher economic score have "
             + " and ".join(f"{0.1 * v:.3f} higher {d}" for d, v in on)
             + " scores (country fixed effects; an association, not an effect)")
        if known:
            lagged = ", ".join(f"{d} {out[f'cross_lag_{eco}_to_{d}']:.3f} (reverse "
                               f"{out[f'cross_lag_{d}_to_{eco}']:.3f})" for d in others)
            if found:
                h += (f". Across waves the economic score predicts the next wave's other dimensions beyond their own "
                      f"past more than they predict it ({lagged}): consistent with the economic dimension being "
                      f"foundational")
            else:
                h += (f". Whether the economic dimension leads: across waves it predicts the next wave's other "
                      f"dimensions beyond their own past, but they predict it as much or more ({lagged}), so these "
                      f"data do not single out the economic dimension as foundational")
        heads.append(h + ".")
    out["headlines"] = heads
    return out


def mentoring_numbers(effects: pd.DataFrame, *, planted: Mapping[str, float] | None = None,
                      balance: pd.DataFrame | None = None, robustness: pd.DataFrame | None = None,
                      heterogeneity: pd.DataFrame | None = None, min_n: int | None = None) -> dict[str, Any]:
    """Key numbers and headlines of the mentoring section, under disclosure control.

    Parameters
    ----------
    effects
        :func:`mentoring_effects` rows.
    planted
        :func:`planted_effects` (synthetic data only): each outcome's planted effect.
    balance
        :func:`balance_table` at baseline (its ``attrs["joint_test"]`` too).
    robustness, heterogeneity
        :func:`robustness` and :func:`heterogeneity` rows.
    min_n
        Disclosure threshold: an estimate whose :data:`EFFECT_COUNTS` fall below it gives ``None``.

    Returns
    -------
    dict
        ``countries``; per outcome ``<est>_<dim>`` for every estimator (``raw``,
        ``ols_fe``, ``ipw``, ``aipw``, ``did``), ``did_<dim>_ci_low``/``_ci_high``/``_p``
        and ``raw_<dim>_ci_low``/``_ci_high``; ``planted_<dim>`` and
        ``did_covers_planted_<dim>`` with ``planted``; the DiD sample counts;
        ``baseline_diff_<dim>``, ``baseline_normdiff_<dim>``, ``joint_test_f``,
        ``joint_test_p``; ``placebo_identified``, ``placebo_note``,
        ``trimmed_ipw_composite``, ``trimmed_aipw_composite``,
        ``scheme_<name>_did_composite``; ``sex_difference_composite`` with p;
        ``headlines``; ``summary_keys`` (what the report's summary shows).
    """
    from ..disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    short = {"raw_difference": "raw", "did_panel": "did"}
    out: dict[str, Any] = {"disclosure_threshold": thr}
    recs = effects.to_dict("records")
    countries = sorted({c.strip() for r in recs for c in str(r.get("sample", "")).partition("(")[2]
                        .partition(")")[0].split(",") if c.strip()})
    out["countries"] = countries
    for r in recs:
        dim = str(r["outcome"]).removeprefix("score_")
        p = short.get(r["estimator"], r["estimator"])
        big = _big_enough(r, [c for c in EFFECT_COUNTS if c in r], thr)
        out[f"{p}_{dim}"] = _f(r["estimate"]) if big else None
        if p in ("did", "raw"):
            out[f"{p}_{dim}_ci_low"] = _f(r["ci_lower"]) if big else None
            out[f"{p}_{dim}_ci_high"] = _f(r["ci_upper"]) if big else None
            out[f"{p}_{dim}_p"] = _f(r["p_value"]) if big else None
        if p == "did" and dim == "composite":
            for c in ("n_obs", "n_clusters", "n_respondents_treated", "n_respondents_control"):
                out[f"did_{c}"] = int(r[c]) if big and _f(r.get(c)) is not None else None
        if p == "did" and planted and r["outcome"] in planted:
            v = float(planted[r["outcome"]])
            out[f"planted_{dim}"] = v
            lo, hi = out[f"did_{dim}_ci_low"], out[f"did_{dim}_ci_high"]
            out[f"did_covers_planted_{dim}"] = None if lo is None else bool(lo <= v <= hi)
    if balance is not None and len(balance):
        bal_counts = [c for c in balance.attrs.get("count_cols", ["n_control", "n_treated"]) if c in balance]
        for r in balance.to_dict("records"):
            var = str(r["variable"])
            if var.startswith("score_") and _big_enough(r, bal_counts, thr):
                dim = var.removeprefix("score_")
                out[f"baseline_diff_{dim}"] = _f(r["difference"])
                out[f"baseline_normdiff_{dim}"] = _f(r["normalized_difference"])
        jt = balance.attrs.get("joint_test") or {}
        out["joint_test_f"] = _f(jt.get("statistic"))
        out["joint_test_p"] = _f(jt.get("p_value"))
    if robustness is not None and len(robustness):
        rob = robustness.to_dict("records")
        counts = robustness.attrs.get("count_cols", ["n_respondents_treated", "n_respondents_control"])
        plc = [r for r in rob if r["check"] == "placebo_timing" and r["outcome"] == "score_composite"]
        if plc:
            identified = _f(plc[0]["estimate"]) is not None
            out["placebo_identified"] = identified
            out["placebo_note"] = str(plc[0].get("note") or "")
            if identified and _big_enough(plc[0], counts, thr):
                out["placebo_composite"] = _f(plc[0]["estimate"])
                out["placebo_composite_ci_low"] = _f(plc[0]["ci_lower"])
                out["placebo_composite_ci_high"] = _f(plc[0]["ci_upper"])
        for r in rob:
            if r["outcome"] != "score_composite" or not _big_enough(r, counts, thr):
                continue
            if r["check"] == "trimmed_propensity":
                out[f"trimmed_{r['estimator']}_composite"] = _f(r["estimate"])
            elif str(r["check"]).startswith("scheme="):
                out[f"scheme_{r['check'].split('=', 1)[1]}_did_composite"] = _f(r["estimate"])
    if heterogeneity is not None and len(heterogeneity):
        counts = heterogeneity.attrs.get("count_cols", ["n_respondents_treated", "n_respondents_control"])
        for r in heterogeneity.to_dict("records"):
            if r["by"] == "sex" and r["estimator"] == "did_difference" and _big_enough(r, counts, thr):
                out["sex_difference_composite"] = _f(r["estimate"])
                out["sex_difference_composite_p"] = _f(r["p_value"])
    # ---- headlines
    heads = []
    did, lo, hi = out.get("did_composite"), out.get("did_composite_ci_low"), out.get("did_composite_ci_high")
    where = ", ".join(countries) if countries else "the countries where it ran"
    if did is not None and lo is not None:
        h = (f"Mentoring effect on the composite score: {did:.3f} (95% CI {lo:.3f} to {hi:.3f}, "
             f"{_p_text(out.get('did_composite_p'))}; difference-in-differences with respondent and wave effects, "
             f"{out['did_n_respondents_treated']:,} respondents surveyed after their mentoring began and "
             f"{out['did_n_respondents_control']:,} others in {where})")
        if out.get("planted_composite") is not None:
            inside = "inside" if out.get("did_covers_planted_composite") else "outside"
            h += f"; the effect planted in the synthetic data is {out['planted_composite']:.3f}, {inside} the interval"
        heads.append(h + ".")
    else:
        heads.append(f"The difference-in-differences estimate of the mentoring effect on the composite score is not "
                     f"available for {where} (too few respondents, or no mentored respondent observed before and "
                     f"after the start).")
    raw = out.get("raw_composite")
    if raw is not None and did:
        adj = [out.get(f"{e}_composite") for e in ("ols_fe", "ipw", "aipw")]
        adj = [a for a in adj if a is not None]
        h = f"The raw mentored-vs-not difference in the composite ({raw:.3f}) is {raw / did:.1f} times the DiD estimate"
        base = out.get("baseline_diff_composite")
        if base is not None:
            h += (f": before mentoring started, future mentees already scored {abs(base):.3f} "
                  f"{'higher' if base > 0 else 'lower'} (baseline)")
        if adj:
            span = f"{min(adj):.3f}" if f"{min(adj):.3f}" == f"{max(adj):.3f}" else f"{min(adj):.3f} to {max(adj):.3f}"
            h += f"; regression, IPW and AIPW, which adjust for observed characteristics only, give {span}"
        heads.append(h + ".")
    dims = [d for d in ("economic", "social", "psychosocial") if out.get(f"did_{d}") is not None]
    if dims:
        h = "By dimension (DiD): " + ", ".join(
            f"{d} {out[f'did_{d}']:.3f} ({out[f'did_{d}_ci_low']:.3f} to {out[f'did_{d}_ci_high']:.3f})" for d in dims)
        if all(out.get(f"planted_{d}") is not None for d in dims):
            h += "; planted " + ", ".join(f"{out[f'planted_{d}']:.3f}" for d in dims)
        heads.append(h + ".")
    if out.get("placebo_identified") is False:
        heads.append("The placebo-timing check is not identified on these data: no mentored respondent has two "
                     "surveys before mentoring started, so pre-trends cannot be tested; the DiD rests on the "
                     "parallel-trends assumption.")
    elif out.get("placebo_composite") is not None:
        heads.append(f"Placebo timing (mentoring pretended to start one wave early): {out['placebo_composite']:.3f} "
                     f"(95% CI {out['placebo_composite_ci_low']:.3f} to {out['placebo_composite_ci_high']:.3f}).")
    out["headlines"] = heads
    out["summary_keys"] = [k for k in ("did_composite", "did_composite_ci_low", "did_composite_ci_high",
                                       "planted_composite", "raw_composite", "aipw_composite",
                                       "baseline_diff_composite", "did_n_respondents_treated") if k in out]
    return out


def weight_numbers(rank_correlation: pd.DataFrame, effects: pd.DataFrame, *, weights: pd.DataFrame | None = None,
                   names: tuple[str, str] = ("scheme", "pca"), min_n: int | None = None) -> dict[str, Any]:
    """Key numbers and a headline of the weight-sensitivity section.

    Parameters
    ----------
    rank_correlation
        :func:`compare_rankings` of the two scorings.
    effects
        :func:`effects_by_scheme` rows (``scheme`` column with ``names``).
    weights
        :func:`compare_weights` (``scheme_weight``, ``pca_weight``).

    Returns
    -------
    dict
        ``spearman_<dim>``, ``max_rank_change_<dim>``, ``n_countries_ranked``;
        ``<est>_composite_<name>`` (and the DiD CI) under each scoring,
        ``did_composite_change``; ``max_weight_difference`` and its indicator;
        ``headlines``; ``summary_keys``.
    """
    from ..disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    a, b = names
    out: dict[str, Any] = {}
    for r in rank_correlation.to_dict("records"):
        dim = str(r["score"]).removeprefix("score_")
        out[f"spearman_{dim}"] = _f(r["spearman"])
        out[f"max_rank_change_{dim}"] = None if _f(r["max_rank_change"]) is None else int(r["max_rank_change"])
        if dim == "composite":
            out["n_countries_ranked"] = int(r["n_groups"])
    short = {"raw_difference": "raw", "did_panel": "did"}
    for r in effects.to_dict("records"):
        if r["outcome"] != "score_composite" or not _big_enough(r, [c for c in EFFECT_COUNTS if c in r], thr):
            continue
        p = short.get(r["estimator"], r["estimator"])
        out[f"{p}_composite_{r['scheme']}"] = _f(r["estimate"])
        if p == "did":
            out[f"did_composite_{r['scheme']}_ci_low"] = _f(r["ci_lower"])
            out[f"did_composite_{r['scheme']}_ci_high"] = _f(r["ci_upper"])
    da, db = out.get(f"did_composite_{a}"), out.get(f"did_composite_{b}")
    out["did_composite_change"] = None if da is None or db is None else db - da
    if weights is not None and len(weights):
        diff = (weights["pca_weight"] - weights["scheme_weight"]).abs()
        i = int(diff.to_numpy().argmax())
        out["max_weight_difference"] = _f(diff.iloc[i])
        out["max_weight_difference_indicator"] = str(weights["indicator"].iloc[i])
    heads = []
    rho, k, n = out.get("spearman_composite"), out.get("max_rank_change_composite"), out.get("n_countries_ranked")
    if rho is not None:
        how = "change little" if rho >= 0.9 else ("change somewhat" if rho >= 0.7 else "change markedly")
        h = (f"With weights derived from the data (first principal component of each dimension's indicators) instead "
             f"of the scheme's, country rankings on the composite {how}: Spearman rank correlation {rho:.3f} over "
             f"{n} countries, largest move {k} place{'s' if k != 1 else ''}")
        if da is not None and db is not None:
            h += (f"; the DiD mentoring effect on the composite is {db:.3f} (95% CI "
                  f"{out[f'did_composite_{b}_ci_low']:.3f} to {out[f'did_composite_{b}_ci_high']:.3f}) against "
                  f"{da:.3f} with the scheme's weights")
        heads.append(h + ".")
    out["headlines"] = heads
    out["summary_keys"] = [k for k in ("spearman_composite", "max_rank_change_composite", f"did_composite_{a}",
                                       f"did_composite_{b}") if k in out]
    return out
