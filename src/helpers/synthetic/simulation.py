"""Drawing the synthetic survey records: :func:`simulate` draws respondents, their latent
dimensions, waves, mentoring and answers from the planted parameters.

Imports: helpers.scheme, helpers.scoring, helpers.synthetic.parameters, helpers.synthetic.truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..scheme import Scheme
from ..scoring import score
from .parameters import (
    AGE_GAMMA,
    ASSIST,
    ASSIST_SHARE,
    ATTRITION,
    COUNTRIES,
    COUNTRY_AGE_SD,
    COUNTRY_EFFECT_SD,
    COUNTRY_SEX_SD,
    COVID_PERIOD,
    DAYS_PER_MONTH,
    ECONOMIC_CENTRE,
    FEMALE_SHARE_RANGE,
    ITEM_CONCENTRATION,
    ITEM_OFFSET_RANGE,
    LATENT_CLIP,
    MIN_PER_COUNTRY,
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
    answer_levels,
    check_options,
    dimension_model,
    foundational_share,
    resolve_scheme,
    respondent_ids,
    round_planted,
)
from .truth import truth_record


def _draw_parameters(rng: np.random.Generator, scheme: Scheme) -> dict[str, Any]:
    """Draw the per-seed parameters; the number of draws does not depend on ``scale``."""
    dims = list(scheme.dimensions)
    nc, nd = len(COUNTRIES), len(dims)
    country_effect = round_planted(rng.normal(0.0, COUNTRY_EFFECT_SD, size=(nc, nd)))
    country_effect -= round_planted(country_effect.mean(axis=0))  # centred: the intercept is the mean country
    country_effect = round_planted(country_effect)
    sex_dev = round_planted(rng.normal(0.0, COUNTRY_SEX_SD, size=(nc, nd)))
    age_dev = round_planted(rng.normal(0.0, COUNTRY_AGE_SD, size=(nc, nd)))
    female_share = round_planted(rng.uniform(*FEMALE_SHARE_RANGE, size=nc))
    assist_dev = round_planted(rng.uniform(-0.1, 0.1, size=(nc, len(ASSIST))))

    questions = list(scheme.questions)
    offsets = rng.uniform(-ITEM_OFFSET_RANGE, ITEM_OFFSET_RANGE, size=len(questions))
    for d in dims:  # weighted mean 0 inside each dimension: E[dimension score] = eta
        m = np.array([q.dimension == d for q in questions])
        w = np.array([q.weight for q in questions])[m]
        if w.sum() > 0:
            offsets[m] -= (offsets[m] * w).sum() / w.sum()
    offsets = round_planted(offsets)
    rate98 = round_planted(rng.uniform(*RATE_98_RANGE, size=len(questions)))
    rate99 = round_planted(rng.uniform(*RATE_99_RANGE, size=len(questions)))

    base = np.array([[dimension_model(d)["sex_F"] for d in dims]])
    age_base = np.array([[dimension_model(d)["age_per_10y"] for d in dims]])
    return {
        "dims": dims,
        "country_effect": country_effect,
        "sex_effect": round_planted(base + sex_dev),
        "age_effect": round_planted(age_base + age_dev),
        "female_share": female_share,
        "assist_share": np.array([[ASSIST_SHARE[a][0 if c[3] else 1] for a in ASSIST] for c in COUNTRIES]) + assist_dev,
        "item_offset": offsets,
        "rate98": rate98,
        "rate99": rate99,
    }


def _country_sizes(scale: float) -> np.ndarray:
    base = np.array([c[2] for c in COUNTRIES], dtype=float)
    return np.maximum(MIN_PER_COUNTRY, np.rint(base * scale)).astype(np.int64)


def _lead(dim: str, economic_lead: float | None) -> float:
    return float(dimension_model(dim)["economic_lead"] if economic_lead is None else economic_lead)


def _answers(rng: np.random.Generator, q: Any, eta_rows: np.ndarray, par: dict[str, Any], j: int,
             has_children: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Answer codes of question ``q`` (its ``j``-th place in the scheme) for latent scores ``eta_rows``."""
    m_rows = len(eta_rows)
    target = np.clip(eta_rows + par["item_offset"][j], *LATENT_CLIP)
    noisy = rng.beta(target * ITEM_CONCENTRATION, (1.0 - target) * ITEM_CONCENTRATION)
    levels, codes = answer_levels(q.scores)
    if len(levels) == 1:
        answer = np.full(m_rows, codes[0], dtype=np.int64)
    else:
        noisy = np.clip(noisy, levels[0], levels[-1])
        lower = np.clip(np.searchsorted(levels, noisy, side="right") - 1, 0, len(levels) - 2)
        p_up = (noisy - levels[lower]) / (levels[lower + 1] - levels[lower])
        answer = codes[lower + (rng.random(m_rows) < p_up)]
    miss = rng.random(m_rows)
    p98, p99 = par["rate98"][j], par["rate99"][j]
    answer = np.where(miss < p98, 98, answer)
    answer = np.where((miss >= p98) & (miss < p98 + p99), 99, answer)
    empty = (miss >= p98 + p99) & (miss < p98 + p99 + RATE_EMPTY)
    if q.id in NOT_APPLICABLE:
        answer = np.where(~has_children, 97, answer)
        empty &= has_children
    col = pd.array(answer, dtype="Int64")
    col[empty] = pd.NA
    return col


def _lagged_score(scheme: Scheme, items: dict[str, Any], dim: str, ri: np.ndarray, wi: np.ndarray, n: int,
                  mentoring: np.ndarray) -> np.ndarray:
    """The previous wave's ``dim`` score as the scheme scores the drawn answers, net of the planted mentoring
    effect and centred, per respondent and wave (0 where that score is missing).

    At wave 1 no earlier survey exists: the level before it is taken to be the first wave's own score, so
    the lead adds no step between waves 1 and 2 that differs between returnees (a step that follows their
    stable economic level would be correlated with selection into mentoring and bias its estimates)."""
    answered = pd.DataFrame({q.id: items.get(q.id, pd.array([pd.NA] * len(ri), dtype="Int64"))
                             for q in scheme.questions})
    measured = score(answered, scheme)[f"score_{dim}"].to_numpy(dtype=float)
    by_wave = np.full((n, N_WAVES), np.nan)
    by_wave[ri, wi] = measured
    lagged = np.zeros((n, N_WAVES))
    lagged[:, 1:] = by_wave[:, :-1] - mentoring[:, :-1] - ECONOMIC_CENTRE
    lagged[:, 0] = by_wave[:, 0] - mentoring[:, 0] - ECONOMIC_CENTRE
    return np.nan_to_num(lagged, nan=0.0)


def simulate(*, seed: int = 20200, scale: float = 1.0, scheme: Scheme | str | Path | None = None,
             economic_lead: float | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate RSS survey records with planted effects.

    Parameters
    ----------
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same data.
    scale
        Multiplies every country's number of respondents (``1``: about 12,000
        respondents and 20,000 surveys; every country keeps at least
        ``MIN_PER_COUNTRY`` respondents).
    scheme
        The scoring scheme whose questions are answered (default ``rss-default``);
        a :class:`~helpers.scheme.Scheme`, a file or a shipped scheme's name.
    economic_lead
        The planted lead of the economic score on the next wave's other dimensions
        (default ``ECONOMIC_LEAD`` = 0.10 for social and psychosocial; ``0`` plants none).

    Returns
    -------
    data : pandas.DataFrame
        One row per respondent-wave with the data-contract columns (dates as
        ``datetime64``, missing as ``NaT``/``<NA>``) and one column of integer answer
        codes per question (nullable ``Int64``; 97/98/99 special codes included),
        sorted by country (``COUNTRIES`` order), survey date and respondent.
    truth : dict
        Every planted parameter (JSON-serialisable): see the module docstring.

    Examples
    --------
    >>> df, truth = simulate(seed=7, scale=0.05)
    >>> int(df["respondent_id"].nunique()) == truth["n_respondents"]
    True
    >>> bool(df[["respondent_id", "wave"]].duplicated().any())
    False
    >>> bool((df["return_date"] <= df["survey_date"]).all())
    True
    """
    check_options(seed, scale)
    scheme = resolve_scheme(scheme)
    rng = np.random.default_rng(seed)
    par = _draw_parameters(rng, scheme)
    dims: list[str] = par["dims"]
    found = foundational_share(scheme)
    nd = len(dims)

    # ------------------------------------------------------------ respondents
    sizes = _country_sizes(scale)
    n = int(sizes.sum())
    c = np.repeat(np.arange(len(COUNTRIES)), sizes)
    fieldwork = np.array([x[3] for x in COUNTRIES])[c]
    ids, id_values = respondent_ids(rng, n)
    female = rng.random(n) < par["female_share"][c]
    age_return = 15.0 + rng.gamma(AGE_GAMMA[0], AGE_GAMMA[1], size=n)
    assist = (rng.random((n, len(ASSIST))) < par["assist_share"][c]).astype(np.int64)

    mix = np.array([RETURN_FROM_MIX[x[4]] for x in COUNTRIES], dtype=float)
    for k, x in enumerate(COUNTRIES):
        if x[0] in RETURN_FROM:
            mix[k, RETURN_FROM.index(x[0])] = 0.0
    mix /= mix.sum(axis=1, keepdims=True)
    cum = np.cumsum(mix, axis=1)
    cum[:, -1] = 1.0
    origin = (rng.random(n)[:, None] >= cum[c]).sum(axis=1)

    u = rng.standard_normal(n)  # ability: drives outcomes and selection
    r_own = rng.standard_normal((n, nd))
    has_children = rng.random(n) >= NOT_APPLICABLE.get("soc_children_school", 0.0)

    # ------------------------------------------------------------ panel and dates
    wm = WAVE_MONTHS
    months = np.empty((n, N_WAVES))
    months[:, 0] = np.clip(rng.normal(wm["first_mean"], wm["first_sd"], n), wm["first_min"], wm["first_max"])
    gaps = np.maximum(rng.normal(wm["gap_mean"], wm["gap_sd"], (n, N_WAVES - 1)), wm["gap_min"])
    months[:, 1:] = months[:, [0]] + np.cumsum(gaps, axis=1)
    offset_days = np.rint(months * DAYS_PER_MONTH).astype(np.int64)
    start = PERIOD_START.astype(np.int64)
    end = PERIOD_END.astype(np.int64)
    lo = start - offset_days[:, 0]
    hi = end - offset_days[:, -1]
    return_day = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    survey_day = return_day[:, None] + offset_days
    months_exact = offset_days / DAYS_PER_MONTH

    p_w2 = np.where(fieldwork, ATTRITION["fieldwork"]["p_wave2"], ATTRITION["other"]["p_wave2"])
    p_w3 = np.where(fieldwork, ATTRITION["fieldwork"]["p_wave3_given_wave2"],
                    ATTRITION["other"]["p_wave3_given_wave2"])
    att = rng.random((n, 2))
    n_waves = 1 + (att[:, 0] < p_w2) + ((att[:, 0] < p_w2) & (att[:, 1] < p_w3))

    age_survey = np.minimum(np.floor(age_return[:, None] + months_exact / 12.0), 99).astype(np.int64)
    age_c = (age_survey - 30.0) / 10.0

    # ------------------------------------------------------------ selection into mentoring
    sel = SELECTION
    intercepts = np.array([sel["intercept"].get(x[0], SELECTION_DEFAULT_INTERCEPT) for x in COUNTRIES])
    logit = (intercepts[c] + sel["female"] * female + sel["age_per_10y"] * age_c[:, 0]
             + sum(sel[a] * assist[:, k] for k, a in enumerate(ASSIST)) + sel["u"] * u)
    p_mentor = 1.0 / (1.0 + np.exp(-logit))
    mentored = fieldwork & (rng.random(n) < p_mentor)
    gap12 = survey_day[:, 1] - survey_day[:, 0]  # >= 3 months
    mentoring_day = survey_day[:, 0] + 1 + np.floor(rng.random(n) * (gap12 - 1)).astype(np.int64)
    treated = mentored[:, None] & (survey_day >= mentoring_day[:, None])

    # ------------------------------------------------------------ latent scores and answers
    covid_lo, covid_hi = (np.datetime64(x, "D").astype(np.int64) for x in COVID_PERIOD)
    covid = (survey_day >= covid_lo) & (survey_day <= covid_hi)
    trajectory = 1.0 - np.exp(-months_exact / TRAJECTORY_TAU_MONTHS)
    shocks = rng.standard_normal((n, N_WAVES, nd))
    kf = dims.index(found)
    factor = np.empty((n, N_WAVES, nd))
    eta = np.empty((n, N_WAVES, nd))
    observed = np.arange(N_WAVES)[None, :] < n_waves[:, None]
    ri, wi = np.nonzero(observed)  # row-major: respondent, then wave
    m_rows = len(ri)
    items: dict[str, np.ndarray] = {}
    leads = {d: _lead(d, economic_lead) for d in dims if d != found}
    lagged_economic = np.zeros((n, N_WAVES))  # set from the foundational dimension's answers, drawn first
    # the foundational dimension first: its answers, as scored, drive the next wave's other dimensions
    for k in [kf] + [k for k, d in enumerate(dims) if d != found]:
        d = dims[k]
        mdl = dimension_model(d)
        f = (mdl["intercept"] + par["country_effect"][c, k][:, None]
             + (par["sex_effect"][c, k] * female)[:, None] + par["age_effect"][c, k][:, None] * age_c
             + mdl["trajectory_gain"] * trajectory + mdl["covid"] * covid
             + (mdl["u_loading"] * u + mdl["own_sd"] * r_own[:, k])[:, None]
             + mdl["shock_sd"] * shocks[:, :, k])
        f += sum(mdl["assist"].get(a, 0.0) * assist[:, j] for j, a in enumerate(ASSIST))[:, None] \
            if mdl["assist"] else 0.0
        rf = np.array([RETURN_FROM_EFFECT[o].get(d, 0.0) for o in RETURN_FROM])
        f += rf[origin][:, None]
        if d != found:
            f += mdl["economic_loading"] * (factor[:, :, kf] - ECONOMIC_CENTRE)
            f += leads[d] * lagged_economic
        factor[:, :, k] = f
        eta[:, :, k] = np.clip(f + dimension_model(d)["mentoring"] * treated, *LATENT_CLIP)
        for j, q in enumerate(scheme.questions):
            if q.dimension == d:
                items[q.id] = _answers(rng, q, eta[ri, wi, k], par, j, has_children[ri])
        if d == found:
            lagged_economic = _lagged_score(scheme, items, found, ri, wi, n,
                                            dimension_model(found)["mentoring"] * treated)
    items = {q.id: items[q.id] for q in scheme.questions}

    # ------------------------------------------------------------ long format
    sex = np.where(female, "F", "M").astype(object)
    sex[rng.random(n) < MISSING_SEX] = None
    age_missing = rng.random(m_rows) < MISSING_AGE
    from_code = np.array(RETURN_FROM, dtype=object)[origin]
    from_code[rng.random(n) < MISSING_RETURN_FROM] = None

    def dates(days: np.ndarray) -> np.ndarray:
        return days.astype("datetime64[D]").astype("datetime64[s]")

    ment_start = np.where(mentored, mentoring_day, np.iinfo(np.int64).min)
    ms = dates(ment_start[ri])
    ms[~mentored[ri]] = np.datetime64("NaT")
    age_col = pd.array(age_survey[ri, wi], dtype="Int64")
    age_col[age_missing] = pd.NA
    iso3 = np.array([x[0] for x in COUNTRIES], dtype=object)
    frame = {
        "respondent_id": ids[ri].astype(object),
        "country": iso3[c[ri]],
        "wave": (wi + 1).astype(np.int64),
        "survey_date": dates(survey_day[ri, wi]),
        "return_date": dates(return_day[ri]),
        "sex": sex[ri],
        "age": age_col,
        "return_from": from_code[ri],
        "mentored": mentored[ri].astype(np.int64),
        "mentoring_start": ms,
        "assist_economic": assist[ri, 0],
        "assist_social": assist[ri, 1],
        "assist_psychosocial": assist[ri, 2],
        "weight": np.ones(m_rows),
        **items,
    }
    sort = np.lexsort((wi, id_values[ri], survey_day[ri, wi], c[ri]))
    df = pd.DataFrame(frame).iloc[sort].reset_index(drop=True)
    for col in ("respondent_id", "country", "sex", "return_from"):
        df[col] = df[col].astype("string")

    truth = truth_record(seed=seed, scale=scale, scheme=scheme, par=par, sizes=sizes, c=c, n_waves=n_waves,
                   mentored=mentored, df=df, leads=leads)
    return df, truth
