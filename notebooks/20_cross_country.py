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
# # 20 · Cross-country comparison (descriptive)
#
# The descriptive part of section 2 of the analysis plan: mean of each score by
# country with 95% confidence intervals, ranking, dimension profile per country,
# fieldwork countries against the others, and the correlation of the dimensions
# pooled and per country. Reads the scored records written by `00_prepare`.
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

from helpers import describe, outputs, paths

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
_ = outputs.write_table(means, "cross_means")
outputs.suppress(means)

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
_ = outputs.write_table(ranks, "cross_ranking")
outputs.suppress(ranks)

# %% [markdown]
# ## Dimension profile per country
#
# Mean of each dimension, its departure from the country's own average over the
# dimensions, and the strongest and weakest dimension; the last row pools all
# countries.

# %%
profiles = describe.dimension_profiles(scored)
_ = outputs.write_table(profiles, "cross_dimension_profiles")
outputs.suppress(profiles)

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
_ = outputs.write_table(fieldwork_table, "cross_fieldwork")
outputs.suppress(fieldwork_table).T

# %% [markdown]
# ## Interdependence: correlation of the dimensions
#
# Pearson and Spearman correlations between the dimension scores, over surveys,
# pooled and per country.

# %%
correlations = describe.dimension_correlations(scored, by="country")
_ = outputs.write_table(correlations, "cross_correlations")
outputs.suppress(correlations)

# %%
fig = describe.plot_correlations(correlations, min_n=threshold)
saved = outputs.save_figure(fig, "cross_correlations")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Interdependence regressions and cross-lagged models
#
# **Not yet computed: arrives with the statistics issue.** Social and psychosocial
# scores regressed on the economic score with country fixed effects, and the
# cross-lagged panel models (does the economic score at one wave predict the other
# dimensions at the next, beyond their own past?) are not part of this notebook yet.

# %% [markdown]
# ## Determinants
#
# **Not yet computed: arrives with the statistics issue.** Assistance types, sex,
# age, months since return and where returnees came from, with country fixed effects
# and cluster-robust standard errors.

# %% [markdown]
# ## Mentoring effect (section 3) and weight sensitivity (section 4)
#
# **Not yet computed: arrives with the statistics issue.**

# %% [markdown]
# ## Key numbers

# %%
numbers = describe.cross_numbers(scored, means=means, ranking=ranks, fieldwork=fieldwork_table,
                                 correlations=correlations, min_n=threshold)
_ = outputs.record_numbers("cross_country", numbers)
outputs.clean_numbers(numbers)
