# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 20 · Cross-country comparison
#
# Section 2 of the analysis plan: mean of each score by country with 95% confidence
# intervals, ranking, dimension profile per country, fieldwork countries against the
# others; the interdependence of the dimensions (correlations, regressions on the
# economic score with country fixed effects, cross-lagged panel models); and the
# determinants of the scores. Reads the scored records written by `00_prepare`.
#
# Standard errors are cluster-robust by respondent (CR1, t with G-1 degrees of
# freedom), never by country: with 17 countries a country-clustered variance rests on
# 17 effective observations and is biased downwards, so countries enter as fixed
# effects instead.
#
# The fieldwork countries are derived from the data: those with any mentored
# returnee. Tables are published through disclosure control (rows built on fewer
# respondents than the threshold suppressed); figures leave such countries out and
# name them in their title.

# %% tags=["parameters"]
processed: str = ""  # folder of scored.parquet; empty means data/processed

# %%
from pathlib import Path

from IPython.display import Image

from helpers import describe, nbcheck, outputs, paths, stats

# %%
processed_dir = paths.PROCESSED if processed == "" else Path(processed)
threshold = outputs.disclosure_threshold()
scored = describe.read_scored(processed_dir)
fieldwork = describe.fieldwork_countries(scored)
fieldwork

# %% [markdown]
# ## Mean scores by country
#
# 95% confidence intervals are t-based and cluster-robust by respondent (surveys of
# all waves pooled).

# %%
means = describe.country_means(scored)
outputs.publish(means, "cross_means")

# %%
fig = describe.plot_country_means(means, min_n=threshold)
saved = outputs.save_figure(fig, "cross_means")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Ranking
#
# 1 = highest mean. Countries under the disclosure threshold are not ranked.

# %%
ranks = describe.ranking(means, min_n=threshold)
outputs.publish(ranks, "cross_ranking")

# %% [markdown]
# ## Dimension profile per country
#
# Mean of each dimension, its departure from the country's own average over the
# dimensions, and the strongest and weakest dimension; the last row pools all
# countries.

# %%
profiles = describe.dimension_profiles(scored)
outputs.publish(profiles, "cross_dimension_profiles")

# %%
fig = describe.plot_dimension_profiles(profiles, min_n=threshold)
saved = outputs.save_figure(fig, "cross_dimension_profiles")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Fieldwork countries against the others
#
# Pooled means weigh countries by their sample size; `mean_of_country_means` weighs
# each country the same. The difference is cluster-robust by respondent: it does not
# account for how much countries differ, and is descriptive, not an effect of
# mentoring.

# %%
fieldwork_table = describe.fieldwork_comparison(scored)
outputs.publish(fieldwork_table, "cross_fieldwork").T

# %% [markdown]
# ## Interdependence: correlation of the dimensions
#
# Pearson and Spearman correlations between the dimension scores, over surveys,
# pooled and per country.

# %%
correlations = describe.dimension_correlations(scored, by="country")
outputs.publish(correlations, "cross_correlations")

# %%
fig = describe.plot_correlations(correlations, min_n=threshold)
saved = outputs.save_figure(fig, "cross_correlations")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Interdependence: estimates with confidence intervals
#
# Published together, as tidy rows, in `dimension_interdependence.csv`:
#
# * **Correlations** of the dimension scores on each respondent's *first* survey
#   (one row per respondent, so rows are independent and Fisher's z interval holds),
#   pooled (`group` = `all`) and per country.
# * **Regressions on the economic score**: social and psychosocial scores on the
#   economic score with country fixed effects (all surveys, CR1 by respondent); then
#   adding sex, age, months since return, where returnees came from, assistance and
#   wave. An association, not an effect: both scores share respondent-level
#   determinants.
# * **Cross-lagged models in levels** (descriptive): does the economic score at one wave
#   predict the social (psychosocial) score at the next, beyond that score's own past,
#   and the reverse? Pooled OLS on consecutive waves with country and wave effects, CR1
#   by respondent. A lagged score also measures a respondent's lasting level, which
#   pushes both cross-lags up, so these rows cannot say which dimension leads: the next
#   section can.

# %%
dims = ["score_economic", "score_social", "score_psychosocial"]
first = stats.first_surveys(scored)
correlations_tidy = stats.combine([stats.dimension_correlations(first, dims),
                                   stats.dimension_correlations(first, dims, by="country")])
on_economic = stats.combine([
    stats.fit_on_economic(scored),
    stats.fit_on_economic(scored, fe=["country", "wave"], controls=stats.COVARIATES,
                          estimator="ols_on_economic_controls"),
])
lagged = stats.combine([stats.cross_lagged(scored, "score_economic", d) for d in dims[1:]])
interdependence = stats.combine([correlations_tidy, on_economic, lagged])
_ = outputs.write_table(interdependence, "dimension_interdependence", count_cols=["n_respondents"])
outputs.suppress(on_economic, count_cols=["n_respondents"])

# %%
outputs.suppress(lagged, count_cols=["n_respondents"])

# %%
fig = stats.plot_coefficients(stats.combine([on_economic, lagged[lagged["cross_lag"]]]),
                              label=["estimator", "term"], min_n=threshold, count_cols=["n_respondents"],
                              title="Economic score and the other dimensions")
saved = outputs.save_figure(fig, "dimension_interdependence")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Does the economic dimension lead?
#
# The study's second finding: the economic dimension is foundational. Within each
# returnee, is a change of the economic score followed one wave later by a change of
# the social (psychosocial) score, and not the reverse? First differences remove each
# returnee's stable level (the reason the level models above cannot answer); the
# differenced lags are instrumented by the levels two waves back (Anderson & Hsiao
# 1982), with months since return, mentoring status and calendar quarter as controls,
# clustered by respondent (`helpers.stats.lead` says why this model and not the
# RI-CLPM). The verdict depends on the intervals only: "leads" (interval above 0 and
# the reverse's not), "does not lead" (interval below 0.05), otherwise "cannot tell at
# this size". On synthetic data the planted lead is shown beside the estimates.

# %%
source = paths.data_source()
planted_lead = stats.planted_lead(source) if describe.is_synthetic(source) else None
lead = stats.combine([stats.fit_lead(scored, "score_economic", d) for d in dims[1:]])
outputs.publish(lead, "economic_lead", count_cols=["n_respondents"])

# %% [markdown]
# ## Determinants
#
# Each score regressed on assistance received (economic, social, psychosocial),
# sex, age, months since return and where returnees came from, with country fixed
# effects; all surveys, CR1 by respondent. A coefficient resting on fewer
# respondents than the threshold in one of its cells (e.g. a rare country of
# migration) is suppressed. Associations: assistance is not randomly assigned.

# %%
determinants = stats.determinants_table(scored)
outputs.publish(determinants, "determinants", count_cols=["n_respondents", "n_respondents_level"])

# %%
fig = stats.plot_coefficients(determinants, label="term", min_n=threshold,
                              count_cols=["n_respondents", "n_respondents_level"],
                              title="Determinants of the scores (country fixed effects)")
saved = outputs.save_figure(fig, "determinants")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Key numbers
#
# The descriptive numbers, then those of the interdependence analysis (with a
# headline for the report's executive summary).

# %%
numbers = stats.merge_numbers(
    describe.cross_numbers(scored, means=means, ranking=ranks, fieldwork=fieldwork_table,
                           correlations=correlations, min_n=threshold),
    stats.interdependence_numbers(interdependence, min_n=threshold),
    stats.lead_numbers(lead, planted=planted_lead, min_n=threshold),
)
_ = outputs.record_numbers("cross_country", numbers)

# %% tags=["nbval-check-output"]
print(nbcheck.key_numbers(outputs.clean_numbers(numbers), [
    "n_countries", "countries_shown", "mean_composite", "ci_low_composite", "ci_high_composite", "highest_composite",
    "lowest_composite", "fieldwork_diff_composite", "corr_first_economic_social", "on_economic_social",
    "cross_lag_economic_to_social", "cross_lag_social_to_economic", "lead_economic_to_social",
    "lead_social_to_economic", "economic_leads"]))
