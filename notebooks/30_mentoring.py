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
# # 30 · Mentoring (ORION) effect
#
# Section 3 of the analysis plan, in the countries where mentoring ran (those with
# any mentored returnee in the data): balance of mentored and not mentored
# returnees before mentoring, overlap of the propensity scores, the effect on the
# composite and each dimension by five estimators, an event study, heterogeneity and
# robustness. Reads the scored records written by `00_prepare`.
#
# Estimators (every row of `mentoring_effects.csv` says which, with its standard
# error, 95% CI, p-value, n and covariance):
#
# * `raw_difference`, `ols_fe`, `ipw`, `aipw`: the surveys after the start of
#   mentoring (wave 2 on), mentored against never-mentored returnees; raw difference
#   of means, regression with covariates and country and wave fixed effects,
#   inverse-probability weighting and its doubly robust version (ATE). They identify
#   the effect only if selection into mentoring runs through the observed
#   characteristics.
# * `did_panel`: difference-in-differences on all waves with respondent and wave
#   effects (`linearmodels.PanelOLS`), treatment timed by `mentoring_start`. It
#   allows selection on any lasting trait (e.g. motivation), under parallel trends.
#
# Standard errors are clustered by respondent, not by country: with three fieldwork
# countries a country-clustered variance would rest on three clusters. The DiD uses
# Stata's `xtreg, fe vce(cluster id)` small-sample factor G/(G-1)·(N-1)/(N-K) with
# t(G-1) (the absorbed respondent effects are nested in the clusters, so they are not
# counted); IPW/AIPW use the M-estimation sandwich, so the estimated propensity score
# is accounted for. No survey weights are used; `PanelOLS(weights=...)` would take
# inverse-variance weights, not survey weights. Bootstrap is off (analytic variances).
#
# Everything but the re-scoring robustness check reads only the countries where
# mentoring ran (`panel`). Those results and their figures are computed once per
# content of their inputs and read back afterwards (`helpers.cache`, in
# `data/processed/.cache`): a change in another country's rows reruns this notebook
# without re-estimating them.

# %% tags=["parameters"]
processed: str = ""  # folder of scored.parquet; empty means data/processed

# %%
from pathlib import Path

from IPython.display import Image

from helpers import cache, describe, nbcheck, outputs, paths, stats

# %%
processed_dir = paths.PROCESSED if processed == "" else Path(processed)
threshold = outputs.disclosure_threshold()
scored = describe.read_scored(processed_dir)
countries = describe.fieldwork_countries(scored)
panel = scored[scored["country"].isin(countries)]
source = paths.data_source()
synthetic = describe.is_synthetic(source)
planted = stats.planted_effects(source) if synthetic else None
{"countries with mentoring": countries, "synthetic data": synthetic, "planted effects": planted}

# %% [markdown]
# ## Balance at baseline
#
# Each returnee's first survey before mentoring started (wave 1 here), in the
# countries where it ran: future mentees against returnees never mentored. Means,
# differences, Imbens-Rubin normalised differences (|value| > 0.25 is the usual flag)
# and the p-value of the difference (CR1 by respondent), then the joint F-test that
# the characteristics do not predict mentoring (as Stata's `iebaltab`). Baseline
# scores are included: a difference there is selection, which the DiD removes and
# the cross-sectional estimators do not. A row with fewer than the threshold of
# respondents in a group, or in a cell of a category, is suppressed.

# %%
base = stats.baseline(panel)
balance = cache.result(stats.balance_table, base, "mentored", [*stats.COVARIATES, *stats.OUTCOMES],
                       cluster="respondent_id", entity="respondent_id")
balance_tidy = stats.tidy_balance(balance, term="mentored")
_ = outputs.write_table(balance_tidy, "mentoring_balance", count_cols=balance.attrs["count_cols"])
outputs.suppress(balance, count_cols=balance.attrs["count_cols"])

# %%
joint = stats.balance_joint_test(balance)
outputs.publish(joint, "mentoring_balance_joint", count_cols=["n_clusters"])

# %% [markdown]
# ## Overlap of the propensity scores
#
# Logit of mentoring on the covariates and country and wave effects, on the surveys
# the IPW and AIPW estimates use. Quantiles only (no single returnee's value); the
# effective sample size says how much the IPW weights concentrate the estimate.

# %%
cross_section = stats.cross_section(panel)
overlap = cache.result(stats.overlap_table, cross_section, "treated", stats.COVARIATES, fe=("country", "wave"),
                       entity="respondent_id")
outputs.publish(overlap.drop(columns=["min", "max"]).reset_index(), "mentoring_overlap",
                count_cols=["n_respondents"])

# %%
saved = cache.figure("mentoring_overlap", stats.plot_overlap, overlap)
Image(filename=str(saved[0]))

# %% [markdown]
# ## Effect of mentoring: five estimators, four scores
#
# One row per outcome and estimator. `n_respondents_treated` / `_control` count the
# returnees behind each side; an estimate with fewer than the threshold on either
# side is suppressed. On synthetic data the dotted red line is the planted effect.

# %%
effects = cache.result(stats.mentoring_effects, panel)
outputs.publish(effects, "mentoring_effects", count_cols=stats.EFFECT_COUNTS)

# %%
saved = cache.figure("mentoring_coefficients", stats.plot_coefficients, effects, reference=planted,
                     min_n=threshold, count_cols=stats.EFFECT_COUNTS, title="Mentoring effect by estimator (95% CI)")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Event study
#
# Effects by waves since the start of mentoring, relative to the last wave before it
# (-1); same covariance as the DiD. Leads (before -1) would test for pre-trends; they
# exist only for returnees surveyed at least twice before mentoring.

# %%
events = cache.result(stats.event_studies, panel)
outputs.publish(events, "mentoring_event_study", count_cols=["n_clusters", "n_treated_obs"])

# %%
saved = cache.figure("mentoring_event_study", stats.plot_event_study, events,
                     title="Event study: effect by waves since mentoring started")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Heterogeneity
#
# DiD on the composite within each group (sex, where returnees came from, each type
# of assistance), and the difference from the first group in one model with common
# wave effects (its p-value tests for no heterogeneity). Groups with fewer than the
# threshold of mentored or other returnees are suppressed.

# %%
heterogeneity = cache.result(stats.heterogeneity, panel, "score_composite")
outputs.publish(heterogeneity, "mentoring_heterogeneity", count_cols=heterogeneity.attrs["count_cols"])

# %%
{"groupings not estimated, and why": heterogeneity.attrs["skipped"]}

# %%
saved = cache.figure("mentoring_heterogeneity", stats.plot_coefficients, heterogeneity, label="label",
                     min_n=threshold, count_cols=heterogeneity.attrs["count_cols"],
                     title="Effect on the composite by group, and differences (DiD)")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Robustness
#
# * Placebo timing: on the surveys before mentoring, pretend it started one wave
#   earlier. It needs mentored returnees surveyed twice before mentoring; when there
#   are none the check is *not identified* and the table says so instead of showing a
#   number.
# * Trimming: IPW and AIPW on the surveys whose propensity score lies in [0.1, 0.9]
#   (Crump et al. 2009).
# * Another scoring: the DiD with dimension scores re-weighted by the first principal
#   component of their indicators (section 4 compares the weights).

# %%
pca_weights, pca_scored = stats.pca_rescore(scored)
robustness = stats.robustness(scored, trim=0.1, rescored={"pca": pca_scored})
outputs.publish(robustness, "mentoring_robustness", count_cols=robustness.attrs["count_cols"])

# %% [markdown]
# ## Key numbers

# %%
numbers = stats.mentoring_numbers(effects, planted=planted, balance=balance, robustness=robustness,
                                  heterogeneity=heterogeneity, min_n=threshold)
_ = outputs.record_numbers("mentoring", {**numbers, "synthetic": synthetic})

# %% tags=["nbval-check-output"]
print(nbcheck.key_numbers(outputs.clean_numbers(numbers), [
    "raw_composite", "ols_fe_composite", "ipw_composite", "aipw_composite", "did_composite", "did_composite_ci_low",
    "did_composite_ci_high", "did_economic", "did_social", "did_psychosocial", "did_n_obs", "did_n_clusters",
    "joint_test_p"]))
