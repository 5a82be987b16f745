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
# # 40 · Weight sensitivity
#
# Section 4 of the analysis plan: weights derived from the data beside the scoring
# scheme's. Within each dimension, the indicators are re-weighted by the first
# principal component of their correlation matrix (loadings made non-negative and
# scaled to sum to 1), the dimension scores and the composite are recomputed (the
# dimensions keep the scheme's composite weights), and the analysis asks: do the
# country rankings change (Spearman rank correlation, side-by-side ranks), and does
# the mentoring effect change (the same estimators under both scorings)?
#
# The scheme's weights are recovered from the scored data themselves (on surveys
# that answered every indicator, a dimension score is exactly the weighted mean of
# its indicators), so this works for whatever scheme `00_prepare` used. PCA weights
# describe which indicators vary together in these data; they are not "better"
# weights, only a check of how much the conclusions lean on the scheme's choice.

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
source = paths.data_source()
planted = stats.planted_effects(source) if describe.is_synthetic(source) else None

# %% [markdown]
# ## Weights: scheme and first principal component
#
# Weight of each indicator within its dimension. `loading` is the indicator's entry
# in the first eigenvector (standardised indicators). The table is built on every
# survey that answered all indicators of a dimension (thousands of respondents), so
# it carries no respondent count.

# %%
scheme_weights = stats.implied_weights(scored)
pca_weights, pca_scored = stats.pca_rescore(scored)
weights = stats.compare_weights(scheme_weights, pca_weights)
_ = outputs.write_table(weights, "weight_sensitivity_weights", count_cols=())
{"largest misfit of the recovered scheme weights": scheme_weights.attrs["max_abs_residual"]}

# %%
weights

# %%
fig = stats.plot_weights(weights, title="Indicator weights within each dimension")
saved = outputs.save_figure(fig, "weight_sensitivity_weights")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Country rankings under both weightings
#
# Mean of each score by country under the scheme's and the PCA weights, with ranks
# (1 = highest; countries with fewer respondents than the threshold are neither
# ranked nor shown), then the Spearman rank correlation per score.

# %%
ranks = stats.rank_table(scored, pca_scored, min_n=threshold)
outputs.publish(ranks, "weight_sensitivity_rankings")

# %%
rank_correlation = stats.compare_rankings(scored, pca_scored, min_n=threshold)
_ = outputs.write_table(rank_correlation, "weight_sensitivity_rank_correlation", count_cols=())
rank_correlation

# %%
fig = stats.plot_rank_shift(ranks, score="composite")
saved = outputs.save_figure(fig, "weight_sensitivity_ranks")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Mentoring effect under both weightings
#
# Raw difference, regression with fixed effects and difference-in-differences (as in
# section 3) on the scores of each weighting; tidy rows with a `scheme` column. Under
# the scheme's weights these are rows of section 3's table, which `30_mentoring`
# estimates on the countries where mentoring ran: read back from `helpers.cache` when
# it did (the same estimates), else estimated here.

# %%
estimators = ["raw_difference", "ols_fe", "did_panel"]
panel = scored[scored["country"].isin(describe.fieldwork_countries(scored))]
section3 = cache.result(stats.mentoring_effects, panel)
effects = stats.by_scheme({
    "scheme": section3[section3["estimator"].isin(estimators)].reset_index(drop=True),
    "pca": stats.mentoring_effects(pca_scored, estimators=estimators),
})
outputs.publish(effects, "weight_sensitivity", count_cols=stats.EFFECT_COUNTS)

# %%
fig = stats.plot_coefficients(effects, label=["estimator", "scheme"], reference=planted, min_n=threshold,
                              count_cols=stats.EFFECT_COUNTS, title="Mentoring effect under scheme and PCA weights")
saved = outputs.save_figure(fig, "weight_sensitivity_effects")
Image(filename=str(saved[0]))

# %% [markdown]
# ## Key numbers

# %%
numbers = stats.weight_numbers(rank_correlation, effects, weights=weights, min_n=threshold)
_ = outputs.record_numbers("weight_sensitivity", numbers)

# %% tags=["nbval-check-output"]
print(nbcheck.key_numbers(outputs.clean_numbers(numbers), [
    "n_countries_ranked", "spearman_composite", "max_rank_change_composite", "max_weight_difference",
    "did_composite_scheme", "did_composite_pca", "did_composite_change"]))
