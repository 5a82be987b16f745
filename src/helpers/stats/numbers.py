"""Key numbers and headline sentences for the report: interdependence, mentoring and weight numbers,
with the disclosure threshold applied to every count.

Imports: helpers.disclosure, helpers.stats.contract, helpers.stats.lead only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .contract import EFFECT_COUNTS
from .lead import SESOI, VERDICTS, overall_verdict, verdict


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
        ``cross_lag_<x>_to_<y>`` with CI (pooled OLS in levels: descriptive; whether the economic
        dimension leads is :func:`lead_numbers`' question); ``headlines``.
    """
    from ..disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
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
    heads = []
    on = [(d, out.get(f"on_economic_{d}")) for d in ("social", "psychosocial")]
    if all(v is not None for _, v in on):
        h = ("The dimensions move together: surveys with a 0.1 higher economic score have "
             + " and ".join(f"{0.1 * v:.3f} higher {d}" for d, v in on)
             + " scores (country fixed effects; an association, not an effect)")
        heads.append(h + ".")
    out["headlines"] = heads
    return out


def lead_numbers(table: pd.DataFrame, *, economic: str = "score_economic",
                 planted: Mapping[str, float] | None = None, min_n: int | None = None) -> dict[str, Any]:
    """Key numbers, verdicts and a headline of "does the economic dimension lead" (:func:`fit_lead` rows).

    Parameters
    ----------
    table
        :func:`combine` of :func:`fit_lead` for the economic score and each other dimension.
    planted
        :func:`planted_lead` (synthetic data only): the planted lead per other dimension's score column.
    min_n
        Disclosure threshold: estimates on fewer respondents give ``None``.

    Returns
    -------
    dict
        ``lead_<eco>_to_<d>`` and ``lead_<d>_to_<eco>`` with ``_ci_low``/``_ci_high``,
        ``lead_verdict_<d>`` (one of :data:`VERDICTS`), ``lead_n_respondents``; ``economic_leads``
        (the overall verdict) and ``economic_foundational`` (True when it is "leads"); with ``planted``,
        ``planted_lead_<d>`` and ``lead_covers_planted_<d>``; ``headlines``; ``summary_keys``.
    """
    from ..disclosure import disclosure_threshold

    thr = disclosure_threshold(min_n)
    eco = economic.removeprefix("score_")
    out: dict[str, Any] = {}
    rows = table[table["cross_lag"].astype(bool)] if len(table) else table
    others = [o for o in dict.fromkeys(rows["outcome"]) if o != economic] if len(rows) else []
    verdicts: dict[str, str] = {}
    for o in others:
        d = o.removeprefix("score_")
        sub = table[(table["outcome"].isin([o, economic])) & (table["term"].isin([f"{economic}_lag", f"{o}_lag"]))]
        for x, y in ((economic, o), (o, economic)):
            r = rows[(rows["term"] == f"{x}_lag") & (rows["outcome"] == y)]
            rec = r.iloc[0].to_dict() if len(r) else {}
            big = bool(rec) and _big_enough(rec, ["n_respondents"], thr)
            key = f"lead_{x.removeprefix('score_')}_to_{y.removeprefix('score_')}"
            vals = (rec["estimate"], rec["ci_lower"], rec["ci_upper"]) if big else (None,) * 3
            out.update({key: _f(vals[0]), f"{key}_ci_low": _f(vals[1]), f"{key}_ci_high": _f(vals[2])})
            if big and x == economic:
                out["lead_n_respondents"] = int(rec["n_respondents"])
        verdicts[d] = verdict(sub, economic, o) if out[f"lead_{eco}_to_{d}"] is not None else VERDICTS[2]
        out[f"lead_verdict_{d}"] = verdicts[d]
        if planted and o in planted:
            v = float(planted[o])
            lo, hi = out[f"lead_{eco}_to_{d}_ci_low"], out[f"lead_{eco}_to_{d}_ci_high"]
            out[f"planted_lead_{d}"] = v
            out[f"lead_covers_planted_{d}"] = None if lo is None else bool(lo <= v <= hi)
    overall = overall_verdict(verdicts) if verdicts else VERDICTS[2]
    out["economic_leads"] = overall
    out["economic_foundational"] = overall == VERDICTS[0]
    heads = []
    shown = [d for d in verdicts if out[f"lead_{eco}_to_{d}"] is not None]
    if shown:
        def est(key: str) -> str:
            return f"{out[key]:.3f} (95% CI {out[key + '_ci_low']:.3f} to {out[key + '_ci_high']:.3f})"

        parts = []
        for d in shown:
            p = f"{d} {est(f'lead_{eco}_to_{d}')}"
            if out.get(f"planted_lead_{d}") is not None:
                p += f", planted {out[f'planted_lead_{d}']:.3f}"
            parts.append(p + f"; reverse {est(f'lead_{d}_to_{eco}')}")
        says = {VERDICTS[0]: "the economic dimension leads: its changes are followed by changes of the others, "
                             "not the reverse",
                VERDICTS[1]: "the economic dimension does not lead: any lead is below "
                             f"{SESOI:g} score points per point",
                VERDICTS[2]: "these data cannot tell at this size whether the economic dimension leads"}[overall]
        heads.append(f"Whether the economic dimension is foundational, within each returnee (first differences, "
                     f"lagged levels as instruments, {out.get('lead_n_respondents', 0):,} returnees with three "
                     f"waves): a one-point change of the economic score is followed one wave later by "
                     + " | ".join(parts) + f". Verdict: {says}.")
    out["headlines"] = heads
    out["summary_keys"] = [k for k in (f"lead_{eco}_to_social", f"lead_{eco}_to_social_ci_low",
                                       f"lead_{eco}_to_social_ci_high", "planted_lead_social", "economic_leads")
                           if out.get(k) is not None]
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
