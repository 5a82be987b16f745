"""The planted design of the synthetic data: countries and sizes, dimension models, waves,
attrition, selection into mentoring, missingness rates, and small helpers shared by the other modules.

Imports: helpers.scheme.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..scheme import Scheme, load_scheme

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


#: The planted lead of the economic dimension: a 0.1 higher economic score (as measured, net of
#: mentoring) at one wave raises the next wave's social and psychosocial latent scores by
#: ECONOMIC_LEAD * 0.1. Nothing leads the economic dimension. Small, like the mentoring effect, but
#: detectable at the default size (see ``make validate``).
ECONOMIC_LEAD = 0.10


#: Latent model per dimension (unknown dimension names of another scheme get GENERIC).
DIMENSION_MODEL: dict[str, dict[str, Any]] = {
    "economic": {"intercept": 0.42, "trajectory_gain": 0.12, "u_loading": 0.05, "own_sd": 0.05, "shock_sd": 0.04,
                 "sex_F": -0.04, "age_per_10y": -0.01, "covid": -0.03, "mentoring": 0.05,
                 "assist": {"assist_economic": 0.06}, "economic_loading": 0.0, "economic_lead": 0.0},
    "social": {"intercept": 0.47, "trajectory_gain": 0.08, "u_loading": 0.03, "own_sd": 0.05, "shock_sd": 0.04,
               "sex_F": 0.0, "age_per_10y": 0.005, "covid": -0.01, "mentoring": 0.03,
               "assist": {"assist_social": 0.05}, "economic_loading": 0.5, "economic_lead": ECONOMIC_LEAD},
    "psychosocial": {"intercept": 0.46, "trajectory_gain": 0.10, "u_loading": 0.04, "own_sd": 0.05, "shock_sd": 0.04,
                     "sex_F": -0.01, "age_per_10y": 0.0, "covid": -0.02, "mentoring": 0.04,
                     "assist": {"assist_psychosocial": 0.05}, "economic_loading": 0.4,
                     "economic_lead": ECONOMIC_LEAD},
}


GENERIC_DIMENSION: dict[str, Any] = {
    "intercept": 0.46, "trajectory_gain": 0.08, "u_loading": 0.04, "own_sd": 0.05, "shock_sd": 0.04, "sex_F": 0.0,
    "age_per_10y": 0.0, "covid": 0.0, "mentoring": 0.04, "assist": {}, "economic_loading": 0.4,
    "economic_lead": ECONOMIC_LEAD,
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


CONTRACT_COLUMNS = ["respondent_id", "country", "wave", "survey_date", "return_date", "sex", "age", "return_from",
             "mentored", "mentoring_start", "assist_economic", "assist_social", "assist_psychosocial", "weight"]


DATE_COLUMNS = ("survey_date", "return_date", "mentoring_start")


def round_planted(x: Any) -> Any:
    """Round planted parameters (floats or arrays) to ``_DIGITS`` decimals."""
    return np.round(x, _DIGITS) if isinstance(x, np.ndarray) else round(float(x), _DIGITS)


def resolve_scheme(scheme: Scheme | str | Path | None) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else load_scheme(scheme)


def check_options(seed: int, scale: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")


def dimension_model(dim: str) -> dict[str, Any]:
    return DIMENSION_MODEL.get(dim, GENERIC_DIMENSION)


def foundational_share(scheme: Scheme) -> str:
    return "economic" if "economic" in scheme.dimensions else scheme.dimensions[0]


def dimension_composite_weights(scheme: Scheme) -> dict[str, float]:
    return {d: float(sum(q.composite_weight for q in scheme.questions if q.dimension == d))
            for d in scheme.dimensions}


def answer_levels(scores: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct item-score levels of a question (ascending) and one code per level."""
    by_score: dict[float, int] = {}
    for code in sorted(scores):
        by_score.setdefault(float(scores[code]), code)
    lv = sorted(by_score)
    return np.array(lv, dtype=float), np.array([by_score[s] for s in lv], dtype=np.int64)


def respondent_ids(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique pseudonymous ids ``R`` + 7 upper-case hex digits (and their integer values)."""
    values = rng.choice(16**7, size=n, replace=False).astype(np.int64)
    shifts = np.arange(24, -1, -4, dtype=np.int64)
    digits = (values[:, None] >> shifts) & 0xF
    chars = np.frombuffer(b"0123456789ABCDEF", dtype="S1")[digits]
    text = np.char.add(b"R", np.ascontiguousarray(chars).view("S7").ravel()).astype(str)
    return text, values
