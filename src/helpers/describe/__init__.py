"""Describe scored RSS data: sections 0-2 of ``../shared/spec/analyses.md``.

Small pure functions: each takes scored records (one row per survey, as written by
``notebooks/00_prepare`` or ``rss score``) and returns a table (DataFrame), a
mapping of key numbers, or a matplotlib Figure.  None writes a file, prints or
shows anything; publishing is :mod:`helpers.outputs`' job.

Tables declare their disclosure metadata in ``attrs``: ``keys`` (the columns
saying what a row is about), ``count_cols`` (respondent counts) and, where rows
add up to something published, ``groups`` (the key columns identifying such a
group: bands of a score, categories of a variable, countries against the pooled
figures), which :func:`helpers.outputs.write_table` uses to suppress rows built on
fewer respondents than the threshold and, where one hidden row could be recovered
by subtraction, the next-smallest row of its group.  Figures take the unsuppressed
tables and leave out exactly the rows the published table hides (the same rule,
:func:`helpers.outputs.suppressed_rows`), saying so in their title.

Conventions
-----------
* Scores are pooled over waves: a respondent surveyed three times contributes
  three surveys.  Counts give both surveys and distinct respondents; disclosure
  control uses respondents.
* Means are unweighted (the contract's ``weight`` is not used in descriptions).
* Confidence intervals of means are t-based and cluster-robust by respondent
  (:func:`mean_ci`); with one survey per respondent they are the textbook
  :math:`\\bar y \\pm t_{n-1} s / \\sqrt n`.
* The fieldwork countries are those with any ``mentored == 1`` in the data
  (:func:`fieldwork_countries`), never a fixed list.

Modules (one idea each; this package re-exports their public names)
-------------------------------------------------------------------
* :mod:`~helpers.describe.common`: data selection, constants, the table contract.
* :mod:`~helpers.describe.intervals`: means and differences with confidence intervals.
* :mod:`~helpers.describe.coverage`: section 0 (coverage, missingness, exclusions).
* :mod:`~helpers.describe.scores`: section 1 (the sample and its scores, mentored vs not).
* :mod:`~helpers.describe.countries`: section 2 (countries compared).
* :mod:`~helpers.describe.numbers`: key numbers of sections 0-2.
* :mod:`~helpers.describe.figures`: the figures.

Imports: helpers.scored and its own submodules (which import helpers.disclosure, helpers.design,
helpers.paths, helpers.scored; helpers.loader for typing only).
"""

from __future__ import annotations

from ..scored import ATTRS_KEY, attach_scheme, read_scored, scheme_info, score_columns
from .common import ASSIST as ASSIST
from .common import DEFAULT_CONTROLS as DEFAULT_CONTROLS
from .common import MONTH_EDGES as MONTH_EDGES
from .common import POOLED as POOLED
from .common import SPECIAL_CODES as SPECIAL_CODES
from .common import country_data, fieldwork_countries, is_synthetic
from .countries import country_means, dimension_correlations, dimension_profiles, fieldwork_comparison, ranking
from .coverage import exclusions, missingness, surveys_by_country, surveys_by_country_wave
from .figures import (
    plot_band_shares,
    plot_correlations,
    plot_country_means,
    plot_dimension_profiles,
    plot_indicator_profile,
    plot_score_distributions,
    plot_trajectory,
)
from .intervals import mean_ci, welch_diff
from .numbers import country_numbers, cross_numbers, prepare_numbers
from .scores import (
    band_shares,
    by_wave,
    indicator_profile,
    mentored_comparison,
    sample_description,
    score_summary,
    trajectory,
)

__all__ = [
    # data access
    "read_scored", "attach_scheme", "scheme_info", "country_data", "fieldwork_countries", "is_synthetic",
    "score_columns", "ATTRS_KEY",
    # statistics
    "mean_ci", "welch_diff",
    # section 0
    "surveys_by_country", "surveys_by_country_wave", "missingness", "exclusions",
    # section 1
    "sample_description", "score_summary", "band_shares", "indicator_profile", "trajectory", "by_wave",
    "mentored_comparison",
    # section 2
    "country_means", "ranking", "dimension_profiles", "fieldwork_comparison", "dimension_correlations",
    # key numbers
    "prepare_numbers", "country_numbers", "cross_numbers",
    # figures
    "plot_score_distributions", "plot_band_shares", "plot_indicator_profile", "plot_trajectory",
    "plot_country_means", "plot_dimension_profiles", "plot_correlations",
]
