"""Synthetic RSS data with planted effects: the workspace's default dataset.

Real RSS records are personal data and never enter the repository.  Every notebook
therefore runs by default on this synthetic dataset, which obeys the data contract
(``../shared/spec/data-contract.md``) and carries effects whose true size is known
and written next to the data in ``truth.json``, so that each analysis can be
checked against the answer it should find.  The figures it gives are synthetic and
are not IOM results.

What is planted
---------------
17 countries of return (``COUNTRIES``): Guinea, Morocco and Senegal are the
fieldwork countries where mentoring (the ORION approach) exists; 14 others of
West/Central Africa, the Horn of Africa, North Africa and Asia have none.  Sizes
vary from 45 respondents (Somalia: disclosure control has work to do) to 2,100
(Guinea): about 12,000 respondents and 20,000 surveys at ``scale=1``.

For respondent *i* at wave *w* (``m`` months after return) a latent score
:math:`\\eta_{iwd} \\in [0, 1]` is built per dimension *d*.  The foundational
(economic) factor is

.. math:: f_{iwE} = \\alpha_E + \\mu_{cE} + s_{cE} F_i + g_{cE} A_{iw}
          + \\textstyle\\sum_k \\beta_{Ek} \\mathrm{assist}_{ik} + \\rho_{E,\\mathrm{from}(i)}
          + \\gamma_E (1 - e^{-m/\\tau}) + \\mathrm{covid}_E
          + \\kappa_E u_i + \\sigma^r_E r_{iE} + \\sigma^\\varepsilon_E \\varepsilon_{iwE}

(country effect :math:`\\mu`, sex and age effects that differ by country, assistance
that raises the dimension it targets, where the returnee came from, a concave
trajectory in months since return, a calendar shock in the COVID-19 months, a
time-invariant "ability" :math:`u_i` shared by all dimensions and by the
selection into mentoring, an own respondent effect and a transitory shock).  The
social and psychosocial factors have the same terms plus a loading on the economic
factor (economic is foundational) and on the previous wave's economic shock (so
cross-lagged models find the economic dimension leading):

.. math:: f_{iwd} = \\ldots + \\lambda_d (f_{iwE} - 0.5)
          + \\lambda^{\\mathrm{lag}}_d \\sigma^\\varepsilon_E \\varepsilon_{i,w-1,E}.

The latent score is :math:`\\eta_{iwd} = \\mathrm{clip}(f_{iwd} + \\delta_d D_{iw},
0.01, 0.99)` with :math:`D_{iw} = 1` once mentoring has started
(``survey_date >= mentoring_start``).  The loading is on the economic factor
*before* mentoring, so :math:`\\delta_d` is the whole effect of mentoring on
dimension *d*; the composite effect is the composite-weighted mean of the
:math:`\\delta_d`.  There is no sex heterogeneity of the mentoring effect.

Answers: linear in score units
------------------------------
Scores are computed from ordinal answers through the scheme (item -> indicator ->
dimension -> composite), which is non-linear in the answer codes.  To make the
planted effects exact in score units, every answer is drawn so that its expected
item score equals a target that is linear in the latent score: for question *q*,

1. the mean target is :math:`t_{iwq} = \\mathrm{clip}(\\eta_{iwd} + b_q, 0.01, 0.99)`
   with an item difficulty offset :math:`b_q` (offsets centred so that their
   weighted mean inside each dimension is 0);
2. an item-specific noise keeps that mean: :math:`\\tilde t \\sim
   \\mathrm{Beta}(t\\kappa, (1 - t)\\kappa)`;
3. "ordered thresholds with randomised rounding": with the question's item-score
   levels :math:`s_1 < \\dots < s_K`, the answer is the code of one of the two
   levels that bracket :math:`\\tilde t`, the upper one with probability
   :math:`(\\tilde t - s_k) / (s_{k+1} - s_k)`.

So :math:`E[\\mathrm{item\\ score}] = t_{iwq}` and, when nothing is missing and no
clipping binds, :math:`E[\\mathrm{dimension\\ score}] = \\eta_{iwd}`: the planted
:math:`\\delta_d` is the effect on the score, up to a small attenuation where
clipping binds (rare: latent scores stay mostly within (0.1, 0.9)).  Missing
answers (98/99, empty cells, 97 where a respondent has no school-age children)
are drawn independently of mentoring, so they do not bias the effect either.

Selection into mentoring
------------------------
Only in fieldwork countries; a logit in sex, age, assistance received and the
unobserved ability :math:`u_i`, which also raises every outcome.  More able
returnees select in, so a cross-sectional mentored-vs-not difference overstates
the effect, while difference-in-differences with respondent fixed effects and wave
effects recovers it.  ``mentoring_start`` lies strictly between a mentored
respondent's wave-1 and (planned) wave-2 survey dates.

Files
-----
:func:`write_dataset` writes one CSV per country (``<iso3>.csv``, UTF-8, comma),
except Morocco's, semicolon-separated with a UTF-8 BOM (as French-locale exports
arrive), and Côte d'Ivoire's, an Excel workbook (``civ.xlsx``, sheet ``rss``) that
carries answer labels instead of codes and real date cells; plus ``truth.json``
with every planted parameter and the file list.  Same seed, byte-identical files.

Examples
--------
>>> df, truth = simulate(seed=1, scale=0.02)
>>> len(truth["countries"]), truth["n_surveys"] == len(df)
(17, True)
>>> sorted(df.loc[df["mentored"] == 1, "country"].unique())
['GIN', 'MAR', 'SEN']
>>> round(truth["mentoring_effect"]["composite"], 3)
0.04
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .io import write_bytes
from .scheme import Scheme, load_scheme

__all__ = ["COUNTRIES", "FIELDWORK", "simulate", "write_dataset"]

# ----------------------------------------------------------------------------- design
#: (iso3, name, respondents at scale 1, fieldwork country, region).
COUNTRIES: tuple[tuple[str, str, int, bool, str], ...] = (
    ("GIN", "Guinea", 2100, True, "west"),
    ("MAR", "Morocco", 1300, True, "north"),
    ("SEN", "Senegal", 1500, True, "west"),
    ("NGA", "Nigeria", 1400, False, "west"),
    ("MLI", "Mali", 1000, False, "west"),
    ("GMB", "Gambia", 900, False, "west"),
    ("CIV", "Côte d'Ivoire", 700, False, "west"),
    ("ETH", "Ethiopia", 600, False, "horn"),
    ("NER", "Niger", 500, False, "west"),
    ("CMR", "Cameroon", 400, False, "west"),
    ("AFG", "Afghanistan", 350, False, "asia"),
    ("BFA", "Burkina Faso", 300, False, "west"),
    ("IRQ", "Iraq", 300, False, "asia"),
    ("SDN", "Sudan", 250, False, "horn"),
    ("EGY", "Egypt", 200, False, "north"),
    ("BGD", "Bangladesh", 155, False, "asia"),
    ("SOM", "Somalia", 45, False, "horn"),
)
FIELDWORK: tuple[str, ...] = tuple(c[0] for c in COUNTRIES if c[3])
#: Fewest respondents a country gets at any scale.
MIN_PER_COUNTRY = 8
#: The country written as a semicolon-separated CSV with a UTF-8 BOM.
SEMICOLON_BOM_COUNTRY = "MAR"
#: The country written as an Excel workbook with answer labels.
XLSX_COUNTRY = "CIV"
XLSX_SHEET = "rss"
#: Fixed timestamp of the workbook's properties and zip entries (byte-determinism).
FIXED_TIMESTAMP = dt.datetime(2020, 1, 1, 0, 0, 0)

PERIOD_START = np.datetime64("2018-01-01", "D")
PERIOD_END = np.datetime64("2021-12-31", "D")
DAYS_PER_MONTH = 365.25 / 12

RETURN_FROM = ("EU", "LBY", "NER", "MAR", "TUR", "DZA", "SAU", "OTHER")
#: Where returnees come from, per region (probabilities over RETURN_FROM; a
#: country's own code is removed and the rest renormalised).
RETURN_FROM_MIX: dict[str, tuple[float, ...]] = {
    "west": (0.12, 0.32, 0.22, 0.12, 0.00, 0.12, 0.00, 0.10),
    "north": (0.45, 0.20, 0.00, 0.00, 0.15, 0.05, 0.05, 0.10),
    "horn": (0.10, 0.25, 0.03, 0.00, 0.05, 0.00, 0.40, 0.17),
    "asia": (0.30, 0.03, 0.00, 0.00, 0.40, 0.00, 0.12, 0.15),
}
#: Effect of where the returnee came from on each dimension's latent score.
RETURN_FROM_EFFECT: dict[str, dict[str, float]] = {
    "EU": {"economic": 0.02, "social": 0.01, "psychosocial": 0.0},
    "LBY": {"economic": -0.02, "social": -0.01, "psychosocial": -0.05},
    "NER": {"economic": -0.01, "social": 0.0, "psychosocial": -0.02},
    "MAR": {"economic": 0.0, "social": 0.0, "psychosocial": -0.01},
    "TUR": {"economic": 0.01, "social": 0.0, "psychosocial": 0.0},
    "DZA": {"economic": -0.01, "social": 0.0, "psychosocial": -0.01},
    "SAU": {"economic": 0.02, "social": 0.0, "psychosocial": -0.01},
    "OTHER": {"economic": 0.0, "social": 0.0, "psychosocial": 0.0},
}

ASSIST = ("assist_economic", "assist_social", "assist_psychosocial")
#: Share receiving each assistance type: (fieldwork, other countries); a country
#: deviates by up to +/- 0.1.
ASSIST_SHARE = {"assist_economic": (0.60, 0.45), "assist_social": (0.35, 0.25), "assist_psychosocial": (0.30, 0.15)}

#: Latent model per dimension (unknown dimension names of another scheme get GENERIC).
DIMENSION_MODEL: dict[str, dict[str, Any]] = {
    "economic": {"intercept": 0.42, "trajectory_gain": 0.12, "u_loading": 0.05, "own_sd": 0.05, "shock_sd": 0.04,
                 "sex_F": -0.04, "age_per_10y": -0.01, "covid": -0.03, "mentoring": 0.05,
                 "assist": {"assist_economic": 0.06}, "economic_loading": 0.0, "lagged_economic_loading": 0.0},
    "social": {"intercept": 0.47, "trajectory_gain": 0.08, "u_loading": 0.03, "own_sd": 0.05, "shock_sd": 0.04,
               "sex_F": 0.0, "age_per_10y": 0.005, "covid": -0.01, "mentoring": 0.03,
               "assist": {"assist_social": 0.05}, "economic_loading": 0.5, "lagged_economic_loading": 0.3},
    "psychosocial": {"intercept": 0.46, "trajectory_gain": 0.10, "u_loading": 0.04, "own_sd": 0.05, "shock_sd": 0.04,
                     "sex_F": -0.01, "age_per_10y": 0.0, "covid": -0.02, "mentoring": 0.04,
                     "assist": {"assist_psychosocial": 0.05}, "economic_loading": 0.4,
                     "lagged_economic_loading": 0.3},
}
GENERIC_DIMENSION: dict[str, Any] = {
    "intercept": 0.46, "trajectory_gain": 0.08, "u_loading": 0.04, "own_sd": 0.05, "shock_sd": 0.04, "sex_F": 0.0,
    "age_per_10y": 0.0, "covid": 0.0, "mentoring": 0.04, "assist": {}, "economic_loading": 0.4,
    "lagged_economic_loading": 0.0,
}
ECONOMIC_CENTRE = 0.5
TRAJECTORY_TAU_MONTHS = 6.0
COVID_PERIOD = ("2020-04-01", "2021-06-30")
LATENT_CLIP = (0.01, 0.99)
#: Spread of country effects, of their sex effects and age slopes around the base.
COUNTRY_EFFECT_SD, COUNTRY_SEX_SD, COUNTRY_AGE_SD = 0.05, 0.015, 0.01
#: Beta concentration of the item noise, and the range of item difficulty offsets.
ITEM_CONCENTRATION = 6.0
ITEM_OFFSET_RANGE = 0.06

#: Months after return of each wave: wave 1 ~ N(3, 1) in [0.5, 6]; each later
#: wave ~6 months after the previous one (sd 1.2, at least 3).
WAVE_MONTHS = {"first_mean": 3.0, "first_sd": 1.0, "first_min": 0.5, "first_max": 6.0,
               "gap_mean": 6.0, "gap_sd": 1.2, "gap_min": 3.0}
N_WAVES = 3
#: P(wave 2 | wave 1), P(wave 3 | wave 2), for fieldwork and other countries.
ATTRITION = {"fieldwork": {"p_wave2": 0.55, "p_wave3_given_wave2": 0.55},
             "other": {"p_wave2": 0.40, "p_wave3_given_wave2": 0.45}}

#: Selection into mentoring (fieldwork countries): logit coefficients.
SELECTION = {"intercept": {"GIN": -1.1, "MAR": -1.3, "SEN": -1.0}, "female": 0.25, "age_per_10y": -0.2,
             "assist_economic": 0.5, "assist_social": 0.3, "assist_psychosocial": 0.4, "u": 1.0}
SELECTION_DEFAULT_INTERCEPT = -1.1

#: Covariates: female share per country ~ U(0.12, 0.38); missing shares.
FEMALE_SHARE_RANGE = (0.12, 0.38)
MISSING_SEX, MISSING_AGE, MISSING_RETURN_FROM = 0.03, 0.01, 0.02
#: Age at return: 15 + Gamma(3, 4.5) years (mostly 18-45), clipped to 15..99 at interview.
AGE_GAMMA = (3.0, 4.5)

#: Item missingness: per question, P(98) ~ U(0.005, 0.03), P(99) ~ U(0.001, 0.01),
#: P(empty) fixed; 97 (not applicable) where a respondent has no school-age children.
RATE_98_RANGE, RATE_99_RANGE, RATE_EMPTY = (0.005, 0.03), (0.001, 0.01), 0.002
NOT_APPLICABLE = {"soc_children_school": 0.30}

_DIGITS = 4  # planted parameters are rounded to this many decimals (and used rounded)
_CONTRACT = ["respondent_id", "country", "wave", "survey_date", "return_date", "sex", "age", "return_from",
             "mentored", "mentoring_start", "assist_economic", "assist_social", "assist_psychosocial", "weight"]
_DATES = ("survey_date", "return_date", "mentoring_start")


def _r(x: Any) -> Any:
    """Round planted parameters (floats or arrays) to ``_DIGITS`` decimals."""
    return np.round(x, _DIGITS) if isinstance(x, np.ndarray) else round(float(x), _DIGITS)


def _resolve_scheme(scheme: Scheme | str | Path | None) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else load_scheme(scheme)


def _check_options(seed: int, scale: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")


def _dim_model(dim: str) -> dict[str, Any]:
    return DIMENSION_MODEL.get(dim, GENERIC_DIMENSION)


def _foundational(scheme: Scheme) -> str:
    return "economic" if "economic" in scheme.dimensions else scheme.dimensions[0]


def _dimension_composite_weights(scheme: Scheme) -> dict[str, float]:
    return {d: float(sum(q.composite_weight for q in scheme.questions if q.dimension == d))
            for d in scheme.dimensions}


def _levels(scores: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct item-score levels of a question (ascending) and one code per level."""
    by_score: dict[float, int] = {}
    for code in sorted(scores):
        by_score.setdefault(float(scores[code]), code)
    lv = sorted(by_score)
    return np.array(lv, dtype=float), np.array([by_score[s] for s in lv], dtype=np.int64)


def _respondent_ids(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique pseudonymous ids ``R`` + 7 upper-case hex digits (and their integer values)."""
    values = rng.choice(16**7, size=n, replace=False).astype(np.int64)
    shifts = np.arange(24, -1, -4, dtype=np.int64)
    digits = (values[:, None] >> shifts) & 0xF
    chars = np.frombuffer(b"0123456789ABCDEF", dtype="S1")[digits]
    text = np.char.add(b"R", np.ascontiguousarray(chars).view("S7").ravel()).astype(str)
    return text, values


# ------------------------------------------------------------------------- parameters


def _draw_parameters(rng: np.random.Generator, scheme: Scheme) -> dict[str, Any]:
    """Draw the per-seed parameters; the number of draws does not depend on ``scale``."""
    dims = list(scheme.dimensions)
    nc, nd = len(COUNTRIES), len(dims)
    country_effect = _r(rng.normal(0.0, COUNTRY_EFFECT_SD, size=(nc, nd)))
    country_effect -= _r(country_effect.mean(axis=0))  # centred: the intercept is the mean country
    country_effect = _r(country_effect)
    sex_dev = _r(rng.normal(0.0, COUNTRY_SEX_SD, size=(nc, nd)))
    age_dev = _r(rng.normal(0.0, COUNTRY_AGE_SD, size=(nc, nd)))
    female_share = _r(rng.uniform(*FEMALE_SHARE_RANGE, size=nc))
    assist_dev = _r(rng.uniform(-0.1, 0.1, size=(nc, len(ASSIST))))

    questions = list(scheme.questions)
    offsets = rng.uniform(-ITEM_OFFSET_RANGE, ITEM_OFFSET_RANGE, size=len(questions))
    for d in dims:  # weighted mean 0 inside each dimension: E[dimension score] = eta
        m = np.array([q.dimension == d for q in questions])
        w = np.array([q.weight for q in questions])[m]
        if w.sum() > 0:
            offsets[m] -= (offsets[m] * w).sum() / w.sum()
    offsets = _r(offsets)
    rate98 = _r(rng.uniform(*RATE_98_RANGE, size=len(questions)))
    rate99 = _r(rng.uniform(*RATE_99_RANGE, size=len(questions)))

    base = np.array([[_dim_model(d)["sex_F"] for d in dims]])
    age_base = np.array([[_dim_model(d)["age_per_10y"] for d in dims]])
    return {
        "dims": dims,
        "country_effect": country_effect,
        "sex_effect": _r(base + sex_dev),
        "age_effect": _r(age_base + age_dev),
        "female_share": female_share,
        "assist_share": np.array([[ASSIST_SHARE[a][0 if c[3] else 1] for a in ASSIST] for c in COUNTRIES]) + assist_dev,
        "item_offset": offsets,
        "rate98": rate98,
        "rate99": rate99,
    }


def _country_sizes(scale: float) -> np.ndarray:
    base = np.array([c[2] for c in COUNTRIES], dtype=float)
    return np.maximum(MIN_PER_COUNTRY, np.rint(base * scale)).astype(np.int64)


# ---------------------------------------------------------------------------- simulate


def simulate(*, seed: int = 20200, scale: float = 1.0,
             scheme: Scheme | str | Path | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
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
    _check_options(seed, scale)
    scheme = _resolve_scheme(scheme)
    rng = np.random.default_rng(seed)
    par = _draw_parameters(rng, scheme)
    dims: list[str] = par["dims"]
    found = _foundational(scheme)
    nd = len(dims)

    # ------------------------------------------------------------ respondents
    sizes = _country_sizes(scale)
    n = int(sizes.sum())
    c = np.repeat(np.arange(len(COUNTRIES)), sizes)
    fieldwork = np.array([x[3] for x in COUNTRIES])[c]
    ids, id_values = _respondent_ids(rng, n)
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

    # ------------------------------------------------------------ latent scores
    covid_lo, covid_hi = (np.datetime64(x, "D").astype(np.int64) for x in COVID_PERIOD)
    covid = (survey_day >= covid_lo) & (survey_day <= covid_hi)
    trajectory = 1.0 - np.exp(-months_exact / TRAJECTORY_TAU_MONTHS)
    shocks = rng.standard_normal((n, N_WAVES, nd))
    order = [dims.index(found)] + [k for k, d in enumerate(dims) if d != found]
    factor = np.empty((n, N_WAVES, nd))
    eta = np.empty((n, N_WAVES, nd))
    for k in order:
        d = dims[k]
        mdl = _dim_model(d)
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
            kf = dims.index(found)
            f += mdl["economic_loading"] * (factor[:, :, kf] - ECONOMIC_CENTRE)
            lag = np.zeros((n, N_WAVES))
            lag[:, 1:] = _dim_model(found)["shock_sd"] * shocks[:, :-1, kf]
            f += mdl["lagged_economic_loading"] * lag
        factor[:, :, k] = f
        eta[:, :, k] = np.clip(f + _dim_model(d)["mentoring"] * treated, *LATENT_CLIP)

    # ------------------------------------------------------------ long format
    observed = np.arange(N_WAVES)[None, :] < n_waves[:, None]
    ri, wi = np.nonzero(observed)  # row-major: respondent, then wave
    m_rows = len(ri)
    eta_rows = eta[ri, wi, :]

    items: dict[str, np.ndarray] = {}
    for j, q in enumerate(scheme.questions):
        k = dims.index(q.dimension)
        target = np.clip(eta_rows[:, k] + par["item_offset"][j], *LATENT_CLIP)
        noisy = rng.beta(target * ITEM_CONCENTRATION, (1.0 - target) * ITEM_CONCENTRATION)
        levels, codes = _levels(q.scores)
        if len(levels) == 1:
            answer = np.full(m_rows, codes[0], dtype=np.int64)
        else:
            noisy = np.clip(noisy, levels[0], levels[-1])
            lower = np.clip(np.searchsorted(levels, noisy, side="right") - 1, 0, len(levels) - 2)
            p_up = (noisy - levels[lower]) / (levels[lower + 1] - levels[lower])
            answer = codes[lower + (rng.random(m_rows) < p_up)]
        miss = rng.random(m_rows)
        answer = np.where(miss < par["rate98"][j], 98, answer)
        answer = np.where((miss >= par["rate98"][j]) & (miss < par["rate98"][j] + par["rate99"][j]), 99, answer)
        empty = (miss >= par["rate98"][j] + par["rate99"][j]) & (miss < par["rate98"][j] + par["rate99"][j]
                                                                  + RATE_EMPTY)
        if q.id in NOT_APPLICABLE:
            answer = np.where(~has_children[ri], 97, answer)
            empty &= has_children[ri]
        col = pd.array(answer, dtype="Int64")
        col[empty] = pd.NA
        items[q.id] = col

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

    truth = _truth(seed=seed, scale=scale, scheme=scheme, par=par, sizes=sizes, c=c, n_waves=n_waves,
                   mentored=mentored, df=df)
    return df, truth


def _truth(*, seed: int, scale: float, scheme: Scheme, par: dict[str, Any], sizes: np.ndarray, c: np.ndarray,
           n_waves: np.ndarray, mentored: np.ndarray, df: pd.DataFrame) -> dict[str, Any]:
    dims: list[str] = par["dims"]
    found = _foundational(scheme)
    cw = _dimension_composite_weights(scheme)
    effect = {d: float(_dim_model(d)["mentoring"]) for d in dims}
    effect["composite"] = _r(sum(cw[d] * effect[d] for d in dims) / sum(cw.values()))
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
            "assist_share": {a: _r(par["assist_share"][k, j]) for j, a in enumerate(ASSIST)},
        }
        if fw:
            entry["selection_intercept"] = float(SELECTION["intercept"].get(iso3, SELECTION_DEFAULT_INTERCEPT))
        countries.append(entry)
    latent = {}
    for d in dims:
        mdl = _dim_model(d)
        latent[d] = {
            "intercept": mdl["intercept"], "trajectory_gain": mdl["trajectory_gain"],
            "ability_loading": mdl["u_loading"], "own_respondent_sd": mdl["own_sd"],
            "transitory_sd": mdl["shock_sd"], "sex_F_base": mdl["sex_F"], "age_per_10y_base": mdl["age_per_10y"],
            "covid_shock": mdl["covid"],
            "assistance": {a: float(mdl["assist"].get(a, 0.0)) for a in ASSIST},
            "return_from": {o: RETURN_FROM_EFFECT[o].get(d, 0.0) for o in RETURN_FROM},
            "economic_loading": 0.0 if d == found else mdl["economic_loading"],
            "lagged_economic_loading": 0.0 if d == found else mdl["lagged_economic_loading"],
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


# ------------------------------------------------------------------------------ files


def _file_frame(sub: pd.DataFrame, scheme: Scheme, *, labels: bool) -> pd.DataFrame:
    """The columns as written: contract columns then items; codes or labels."""
    out = sub[_CONTRACT + scheme.question_ids].copy()
    if labels:
        special = {int(k): v for k, v in scheme.special_codes.items()}
        for q in scheme.questions:
            table = {**q.labels, **special}
            out[q.id] = out[q.id].map(table).astype(object).where(out[q.id].notna(), None)
    return out


def _csv_bytes(sub: pd.DataFrame, scheme: Scheme, *, sep: str, bom: bool) -> bytes:
    out = _file_frame(sub, scheme, labels=False)
    for col in _DATES:
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    text = out.to_csv(index=False, sep=sep, lineterminator="\n", na_rep="")
    return ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")


def _xlsx_bytes(sub: pd.DataFrame, scheme: Scheme) -> bytes:
    from openpyxl import Workbook

    from .io import workbook_bytes

    out = _file_frame(sub, scheme, labels=True)
    wb = Workbook(write_only=True)
    wb.properties.creator = "helpers.synthetic"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    ws = wb.create_sheet(XLSX_SHEET)
    ws.append(list(out.columns))
    cols = []
    for name in out.columns:
        s = out[name]
        if name in _DATES:
            vals = [None if pd.isna(v) else v.date() for v in s]
        elif name == "weight":
            vals = [float(v) for v in s]
        else:
            vals = [None if pd.isna(v) else (int(v) if not isinstance(v, str) else v) for v in s.astype(object)]
        cols.append(vals)
    for row in zip(*cols, strict=True):  # writing one workbook row at a time is openpyxl's API
        ws.append(row)
    # openpyxl stamps the clock into the workbook and its zip entries: helpers.io fixes both
    return workbook_bytes(wb, timestamp=FIXED_TIMESTAMP)


def write_dataset(out_dir: str | Path, *, seed: int = 20200, scale: float = 1.0,
                  scheme: Scheme | str | Path | None = None) -> list[Path]:
    """Write the synthetic dataset: one file per country and ``truth.json``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).  Files of the same names are
        replaced atomically; nothing else in the folder is touched.
    seed, scale, scheme
        As for :func:`simulate`.

    Returns
    -------
    list of pathlib.Path
        The data files (in ``COUNTRIES`` order), then ``truth.json``.

    Notes
    -----
    Every country is a UTF-8 comma-separated ``<iso3>.csv`` (ISO dates, empty cell
    for missing) except ``SEMICOLON_BOM_COUNTRY`` (semicolon-separated, with a BOM)
    and ``XLSX_COUNTRY`` (``<iso3>.xlsx``, sheet ``rss``, answer labels instead of
    codes, date cells).  Each file is written to a temporary file in ``out_dir`` and
    renamed into place; the same seed gives byte-identical files.

    Examples
    --------
    >>> import tempfile
    >>> files = write_dataset(tempfile.mkdtemp(), seed=3, scale=0.02)
    >>> [f.name for f in files][:3], files[-1].name
    (['gin.csv', 'mar.csv', 'sen.csv'], 'truth.json')
    """
    scheme = _resolve_scheme(scheme)
    df, truth = simulate(seed=seed, scale=scale, scheme=scheme)
    # Everything is rendered in memory first: a failure while generating leaves the
    # folder untouched; then each file is replaced atomically, truth.json last.
    payloads: list[tuple[str, bytes]] = []
    files: list[dict[str, Any]] = []
    country = df["country"].to_numpy()
    for iso3, *_ in COUNTRIES:
        sub = df.loc[country == iso3]
        if iso3 == XLSX_COUNTRY:
            name, data = f"{iso3.lower()}.xlsx", _xlsx_bytes(sub, scheme)
            meta = {"format": "xlsx", "sheet": XLSX_SHEET, "answers": "labels"}
        else:
            sep, bom = (";", True) if iso3 == SEMICOLON_BOM_COUNTRY else (",", False)
            name, data = f"{iso3.lower()}.csv", _csv_bytes(sub, scheme, sep=sep, bom=bom)
            meta = {"format": "csv", "sep": sep, "bom": bom, "answers": "codes"}
        payloads.append((name, data))
        files.append({"name": name, "country": iso3, "n_rows": int(len(sub)),
                      "n_respondents": int(sub["respondent_id"].nunique()), **meta})
    truth["files"] = files
    text = json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    payloads.append(("truth.json", text.encode("utf-8")))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [write_bytes(out / name, data) for name, data in payloads]
