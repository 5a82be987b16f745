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
# # 10 · Country profile
#
# Section 1 of the analysis plan, for one country of return (run once per country:
# `papermill notebooks/10_country_profile.ipynb OUT.ipynb -r country GIN`).
# Reads the scored records written by `00_prepare`.
#
# Every table is published through disclosure control: a row built on fewer
# respondents than the threshold is suppressed (counts shown as "<10", values
# blank); figures leave such groups out and say so in their title.

# %% tags=["parameters"]
country: str = "SEN"  # ISO3 code of the country of return
processed: str = ""  # folder of scored.parquet; empty means data/processed

# %%
from pathlib import Path

from IPython.display import Image

from helpers import describe, nbcheck, outputs, paths

# %%
iso3 = country.strip().upper()
processed_dir = paths.PROCESSED if processed == "" else Path(processed)
threshold = outputs.disclosure_threshold()
scored = describe.read_scored(processed_dir)
records = describe.country_data(scored, iso3)

# %% [markdown]
# ## Sample
#
# Surveys and respondents, waves, sex and age (at each respondent's first survey),
# months since return (all surveys), assistance received (in any survey) and
# mentoring.

# %%
sample = describe.sample_description(records)
outputs.publish(sample, f"country_{iso3}_sample")

# %% [markdown]
# ## Score distributions and bands
#
# Means with 95% confidence intervals (t-based, cluster-robust by respondent, since a
# respondent surveyed at several waves contributes several surveys).

# %%
scores = describe.score_summary(records)
outputs.publish(scores, f"country_{iso3}_scores")

# %%
fig = describe.plot_score_distributions(records, min_n=threshold, title=f"{iso3}: score distributions")
saved = outputs.save_figure(fig, f"country_{iso3}_distributions")
Image(filename=str(saved[0]))

# %%
bands = describe.band_shares(records)
outputs.publish(bands, f"country_{iso3}_bands")

# %%
fig = describe.plot_band_shares(bands, min_n=threshold, title=f"{iso3}: share of surveys per band")
saved = outputs.save_figure(fig, f"country_{iso3}_bands")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Indicators against the pooled median
#
# The 15 indicator scores of the country against the median of all surveys of all
# countries (this country included).

# %%
indicators = describe.indicator_profile(scored, country=iso3)
outputs.publish(indicators, f"country_{iso3}_indicators")

# %%
fig = describe.plot_indicator_profile(indicators, min_n=threshold,
                                      title=f"{iso3}: indicators against the pooled median")
saved = outputs.save_figure(fig, f"country_{iso3}_indicators")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Trajectory: scores by months since return, and by wave

# %%
trajectory = describe.trajectory(records)
outputs.publish(trajectory, f"country_{iso3}_trajectory")

# %%
fig = describe.plot_trajectory(trajectory, min_n=threshold, title=f"{iso3}: scores by months since return")
saved = outputs.save_figure(fig, f"country_{iso3}_trajectory")
Image(filename=str(saved[0]))

# %%
waves = describe.by_wave(records)
outputs.publish(waves, f"country_{iso3}_waves")

# %%
fig = describe.plot_trajectory(waves, min_n=threshold, title=f"{iso3}: scores by wave")
saved = outputs.save_figure(fig, f"country_{iso3}_waves")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Mentored vs not mentored
#
# Only where the country has mentored returnees (the table is empty otherwise).
# Raw: difference of means with Welch's confidence interval (surveys of all waves,
# not clustered). Adjusted: OLS with sex, age, months since return and wave,
# cluster-robust by respondent (CR1, t with G-1 degrees of freedom, as Stata's
# `vce(cluster)`). Mentoring is not randomly assigned: these are descriptive
# differences, not effects; the mentoring effect is estimated in section 3.

# %%
mentoring = describe.mentored_comparison(records)
outputs.publish(mentoring, f"country_{iso3}_mentoring")

# %% [markdown]
# ## Key numbers

# %%
numbers = describe.country_numbers(records, country=iso3, mentoring=mentoring, min_n=threshold)
_ = outputs.record_numbers(f"country_{iso3}", numbers)

# %% tags=["nbval-check-output"]
print(nbcheck.key_numbers(outputs.clean_numbers(numbers), [
    "n_surveys", "n_respondents", "n_waves", "mean_economic", "mean_social", "mean_psychosocial", "mean_composite",
    "ci_low_composite", "ci_high_composite", "has_mentored", "mentoring_composite_raw_diff",
    "mentoring_composite_adj_diff"]))
