"""``truth.json``: the record of every planted effect and parameter, rounded as used, so tests and
the report can compare estimates with what was planted.

Imports: helpers.scheme, helpers.synthetic.parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..scheme import Scheme
from .parameters import (
    ASSIST,
    ATTRITION,
    COUNTRIES,
    COUNTRY_EFFECT_SD,
    COVID_PERIOD,
    ECONOMIC_CENTRE,
    FIELDWORK,
    ITEM_CONCENTRATION,
    ITEM_OFFSET_RANGE,
    LATENT_CLIP,
    MISSING_AGE,
    MISSING_RETURN_FROM,
    MISSING_SEX,
    N_WAVES,
    NOT_APPLICABLE,
    PERIOD_END,
    PERIOD_START,
    RATE_98_RANGE,
    RATE_99_RANGE,
    RATE_EMPTY,
    RETURN_FROM,
    RETURN_FROM_EFFECT,
    RETURN_FROM_MIX,
    SELECTION,
    SELECTION_DEFAULT_INTERCEPT,
    TRAJECTORY_TAU_MONTHS,
    WAVE_MONTHS,
    dimension_composite_weights,
    dimension_model,
    foundational_share,
    round_planted,
)


def truth_record(*, seed: int, scale: float, scheme: Scheme, par: dict[str, Any], sizes: np.ndarray, c: np.ndarray,
           n_waves: np.ndarray, mentored: np.ndarray, df: pd.DataFrame,
           leads: dict[str, float] | None = None) -> dict[str, Any]:
    dims: list[str] = par["dims"]
    found = foundational_share(scheme)
    cw = dimension_composite_weights(scheme)
    effect = {d: float(dimension_model(d)["mentoring"]) for d in dims}
    effect["composite"] = round_planted(sum(cw[d] * effect[d] for d in dims) / sum(cw.values()))
    surveys = df.groupby("country", sort=False).size()
    countries = []
    for k, (iso3, name, _base_n, fw, region) in enumerate(COUNTRIES):
        in_c = c == k
        entry = {
            "iso3": iso3, "name": name, "region": region, "fieldwork": fw,
            "n_respondents": int(sizes[k]), "n_surveys": int(surveys.get(iso3, 0)),
            "n_mentored": int(mentored[in_c].sum()),
            "effects": {d: float(par["country_effect"][k, j]) for j, d in enumerate(dims)},
            "sex_F_effects": {d: float(par["sex_effect"][k, j]) for j, d in enumerate(dims)},
            "age_per_10y_effects": {d: float(par["age_effect"][k, j]) for j, d in enumerate(dims)},
            "female_share": float(par["female_share"][k]),
            "assist_share": {a: round_planted(par["assist_share"][k, j]) for j, a in enumerate(ASSIST)},
        }
        if fw:
            entry["selection_intercept"] = float(SELECTION["intercept"].get(iso3, SELECTION_DEFAULT_INTERCEPT))
        countries.append(entry)
    latent = {}
    for d in dims:
        mdl = dimension_model(d)
        latent[d] = {
            "intercept": mdl["intercept"], "trajectory_gain": mdl["trajectory_gain"],
            "ability_loading": mdl["u_loading"], "own_respondent_sd": mdl["own_sd"],
            "transitory_sd": mdl["shock_sd"], "sex_F_base": mdl["sex_F"], "age_per_10y_base": mdl["age_per_10y"],
            "covid_shock": mdl["covid"],
            "assistance": {a: float(mdl["assist"].get(a, 0.0)) for a in ASSIST},
            "return_from": {o: RETURN_FROM_EFFECT[o].get(d, 0.0) for o in RETURN_FROM},
            "economic_loading": 0.0 if d == found else mdl["economic_loading"],
            "economic_lead": 0.0 if d == found else float((leads or {}).get(d, 0.0)),
        }
    items = {q.id: {"dimension": q.dimension, "indicator": q.indicator, "offset": float(par["item_offset"][j]),
                    "p98": float(par["rate98"][j]), "p99": float(par["rate99"][j]), "p_empty": RATE_EMPTY,
                    **({"p97_no_school_age_children": NOT_APPLICABLE[q.id]} if q.id in NOT_APPLICABLE else {})}
             for j, q in enumerate(scheme.questions)}
    waves = df["wave"].to_numpy()
    return {
        "generator": "helpers.synthetic",
        "synthetic": True,
        "note": ("Synthetic data with planted effects; not IOM results. Mentoring effects are in score units "
                 "(item -> indicator -> dimension -> composite of the scheme)."),
        "seed": int(seed),
        "scale": float(scale),
        "scheme": scheme.id,
        "period": {"start": str(PERIOD_START), "end": str(PERIOD_END)},
        "n_respondents": int(sizes.sum()),
        "n_surveys": int(len(df)),
        "n_surveys_by_wave": {str(w): int((waves == w).sum()) for w in range(1, N_WAVES + 1)},
        "n_mentored": int(mentored.sum()),
        "fieldwork_countries": list(FIELDWORK),
        "countries": countries,
        "mentoring_effect": effect,
        "mentoring_effect_sex_heterogeneity": {**{d: 0.0 for d in dims}, "composite": 0.0},
        "naive_bias_direction": "positive",
        "economic_lead": {
            "definition": (f"a 1.0 higher {found} score at wave w-1 (as the scheme scores the answers, net of the "
                           "planted mentoring effect) raises the latent score of each other dimension at wave w by "
                           "this much (at wave 1, the first wave's own score stands for the level before it); nothing is "
                           "planted in reverse"),
            "leads": {d: round_planted((leads or {}).get(d, 0.0)) for d in dims if d != found},
            "reverse": {d: 0.0 for d in dims if d != found},
        },
        "latent_model": {
            "foundational_dimension": found,
            "economic_centre": ECONOMIC_CENTRE,
            "trajectory": "gain * (1 - exp(-months_since_return / tau))",
            "trajectory_tau_months": TRAJECTORY_TAU_MONTHS,
            "covid_period": list(COVID_PERIOD),
            "latent_clip": list(LATENT_CLIP),
            "age_centre": 30,
            "country_effect_sd": COUNTRY_EFFECT_SD,
            "dimensions": latent,
        },
        "items": items,
        "item_noise": {"beta_concentration": ITEM_CONCENTRATION, "offset_range": ITEM_OFFSET_RANGE,
                       "rounding": "randomised between the two item-score levels bracketing the target"},
        "selection": {"model": "logit", "ability_coefficient": SELECTION["u"], "female": SELECTION["female"],
                      "age_per_10y": SELECTION["age_per_10y"],
                      **{a: SELECTION[a] for a in ASSIST},
                      "intercepts": dict(SELECTION["intercept"])},
        "wave_months": dict(WAVE_MONTHS),
        "attrition": {k: dict(v) for k, v in ATTRITION.items()},
        "missingness": {"sex": MISSING_SEX, "age": MISSING_AGE, "return_from": MISSING_RETURN_FROM,
                        "item_p98_range": list(RATE_98_RANGE), "item_p99_range": list(RATE_99_RANGE),
                        "item_p_empty": RATE_EMPTY, "not_applicable": dict(NOT_APPLICABLE)},
        "return_from_mix": {k: dict(zip(RETURN_FROM, v, strict=True)) for k, v in RETURN_FROM_MIX.items()},
        "n_waves_observed": {str(w): int((n_waves == w).sum()) for w in range(1, N_WAVES + 1)},
    }
