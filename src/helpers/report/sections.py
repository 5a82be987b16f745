"""The report's sections (:data:`SECTIONS`): which files go where, by their names, and the
report-wide settings (banner, default disclosure threshold, rows shown).

Imports: helpers.report.translate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .translate import N_

BANNER = N_("SYNTHETIC DATA — figures are synthetic and are not IOM results")


DEFAULT_THRESHOLD = 10


MAX_ROWS_SHOWN = 200


N_COLUMNS = ("n", "n_respondents")


COUNTRY_STEM = re.compile(r"^country_([A-Z]{3})(?:_|$)")


INVALID_SHEET = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Section:
    id: str
    number: str
    title: str
    notebook: str
    prefixes: tuple[str, ...]
    intro: str
    lead: tuple[str, ...] = ()


SECTIONS: tuple[Section, ...] = (
    Section("prepare", "0", N_("Data preparation and quality"), "00_prepare", ("prepare_", "quality_", "data_"),
            N_("Surveys per country and wave, respondents, months since return; missingness and special codes "
            "(97/98/99) per question; rows excluded and why; the scoring scheme used.")),
    Section("country", "1", N_("Country profiles"), "10_country_profile", ("country_",),
            N_("One profile per country, from one parameterised notebook: sample, score distributions and bands, "
            "indicator scores against the pooled median, scores by months since return and wave, and mentored "
            "versus not where the country has mentored returnees.")),
    Section("cross_country", "2", N_("Cross-country comparison"), "20_cross_country",
            ("cross_country_", "cross_", "dimension_interdependence", "determinants"),
            N_("Mean (95% CI) of each score by country, ranking and dimension profiles; fieldwork countries versus "
            "the others; interdependence of the dimensions (correlations, regressions on the economic score with "
            "country fixed effects, cross-lagged panel models); determinants with country fixed effects."),
            ("cross_means", "cross_ranking", "cross_dimension_profiles", "cross_fieldwork", "cross_correlations",
             "dimension_interdependence", "determinants")),
    Section("mentoring", "3", N_("Mentoring (ORION) effect"), "30_mentoring", ("mentoring_",),
            N_("In the countries where it ran: balance of mentored versus not; raw, regression-adjusted, "
            "inverse-probability-weighted and difference-in-differences estimates with an event study; "
            "heterogeneity and robustness."),
            ("mentoring_coefficients", "mentoring_effects", "mentoring_event_study", "mentoring_balance",
             "mentoring_balance_joint", "mentoring_overlap", "mentoring_heterogeneity", "mentoring_robustness")),
    Section("weight_sensitivity", "4", N_("Weight sensitivity"), "40_weight_sensitivity",
            ("weight_sensitivity", "weights_", "weight_"),
            N_("Data-derived weights (first principal component per dimension) beside the scheme's: do country "
            "rankings and the mentoring effect change?"),
            ("weight_sensitivity_weights", "weight_sensitivity_ranks", "weight_sensitivity_rank_correlation",
             "weight_sensitivity_rankings", "weight_sensitivity_effects", "weight_sensitivity")),
)
