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
factor at the same wave (the dimensions move together) and a lead of the previous
wave's economic *score* (``ECONOMIC_LEAD`` = 0.10: the economic dimension is
foundational; nothing is planted in reverse):

.. math:: f_{iwd} = \\ldots + \\lambda_d (f_{iwE} - 0.5)
          + \\ell_d (S_{i,w-1,E} - \\delta_E D_{i,w-1} - 0.5),

where :math:`S_{i,w-1,E}` is the economic score the scheme gives the answers drawn
for wave w-1 (at wave 1, with no earlier survey, the first wave's own score stands for
the level before it; 0 contribution where that score is missing), net of the planted
mentoring effect so that :math:`\\delta_d` stays the whole effect of mentoring.  The
wave-1 rule matters: a lead that only switched on at wave 2 would add a step that follows
each returnee's stable economic level, which also drives selection into mentoring, and it
biased the mentoring DiD upwards by about 0.006. Because the lead acts on the measured score, a within-person model of the
scores can recover :math:`\\ell_d` without errors-in-variables bias
(``helpers.stats.lead``); ``simulate(economic_lead=0)`` plants none.

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

from .files import write_dataset
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
    DIMENSION_MODEL,
    ECONOMIC_CENTRE,
    ECONOMIC_LEAD,
    FEMALE_SHARE_RANGE,
    FIELDWORK,
    FIXED_TIMESTAMP,
    GENERIC_DIMENSION,
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
    SEMICOLON_BOM_COUNTRY,
    TRAJECTORY_TAU_MONTHS,
    WAVE_MONTHS,
    XLSX_COUNTRY,
    XLSX_SHEET,
)
from .simulation import simulate

__all__ = [
    "COUNTRIES",
    "FIELDWORK",
    "simulate",
    "write_dataset",
    "AGE_GAMMA",
    "ASSIST",
    "ASSIST_SHARE",
    "ATTRITION",
    "COUNTRY_AGE_SD",
    "COUNTRY_EFFECT_SD",
    "COUNTRY_SEX_SD",
    "COVID_PERIOD",
    "DAYS_PER_MONTH",
    "DIMENSION_MODEL",
    "ECONOMIC_LEAD",
    "ECONOMIC_CENTRE",
    "FEMALE_SHARE_RANGE",
    "FIXED_TIMESTAMP",
    "GENERIC_DIMENSION",
    "ITEM_CONCENTRATION",
    "ITEM_OFFSET_RANGE",
    "LATENT_CLIP",
    "MIN_PER_COUNTRY",
    "MISSING_AGE",
    "MISSING_RETURN_FROM",
    "MISSING_SEX",
    "NOT_APPLICABLE",
    "N_WAVES",
    "PERIOD_END",
    "PERIOD_START",
    "RATE_98_RANGE",
    "RATE_99_RANGE",
    "RATE_EMPTY",
    "RETURN_FROM",
    "RETURN_FROM_EFFECT",
    "RETURN_FROM_MIX",
    "SELECTION",
    "SELECTION_DEFAULT_INTERCEPT",
    "SEMICOLON_BOM_COUNTRY",
    "TRAJECTORY_TAU_MONTHS",
    "WAVE_MONTHS",
    "XLSX_COUNTRY",
    "XLSX_SHEET",
]
