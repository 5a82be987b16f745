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
# # 00 · Data preparation and quality
#
# Section 0 of the analysis plan: read the RSS records (checked against the data
# contract; any problem stops the run before anything is written), score them with
# the scoring scheme, write `scored.parquet` for the other notebooks, and publish the
# data-quality tables: surveys per country and wave, missingness and special codes
# (97 not applicable, 98 does not know, 99 refused) per question, and the surveys
# excluded from the composite and why.
#
# Parameters: `data` (file or folder; empty = `RSS_DATA`, else `data/raw`),
# `scheme` (scheme YAML or name; empty = the workspace default `rss-default`),
# `processed` (output folder; empty = `data/processed`).

# %% tags=["parameters"]
data: str = ""  # RSS file or folder; empty means RSS_DATA, else data/raw
scheme: str = ""  # scheme YAML file or shipped name; empty means rss-default
processed: str = ""  # folder of scored.parquet; empty means data/processed

# %%
from pathlib import Path

from helpers import describe, io, loader, nbcheck, outputs, paths, scoring
from helpers.scheme import load_scheme

# %%
source = paths.data_source() if data == "" else Path(data)
scheme_used = load_scheme(scheme or None)
processed_dir = paths.PROCESSED if processed == "" else Path(processed)
threshold = outputs.disclosure_threshold()

# %% [markdown]
# ## Load, score and save

# %%
result = loader.load(source, scheme=scheme_used)
scored = describe.attach_scheme(scoring.score(result.data, scheme_used), scheme_used)
_ = io.write_parquet(processed_dir / "scored.parquet", scored)
synthetic = describe.is_synthetic(source)
numbers = describe.prepare_numbers(result, scored, source=source, synthetic=synthetic)
_ = outputs.record_numbers("prepare", numbers)

# %% tags=["nbval-check-output"]
print(nbcheck.key_numbers(numbers, ["synthetic", "scheme_id", "scheme_official", "n_surveys", "n_respondents",
                                    "n_countries", "fieldwork_countries", "surveys_by_wave", "n_excluded"]))

# %% [markdown]
# ## Surveys per country and wave
#
# Rows built on fewer respondents than the disclosure threshold are suppressed
# (counts shown as "<10", values blank) here and in every published table.

# %%
by_country = describe.surveys_by_country(scored)
outputs.publish(by_country, "prepare_surveys_by_country")

# %%
by_country_wave = describe.surveys_by_country_wave(scored)
outputs.publish(by_country_wave, "prepare_surveys_by_country_wave")

# %% [markdown]
# ## Missingness and special codes per question

# %%
missing = describe.missingness(scored)
outputs.publish(missing, "prepare_missingness")

# %%
missing_by_country = describe.missingness(scored, by="country")
_ = outputs.write_table(missing_by_country, "prepare_missingness_by_country")

# %% [markdown]
# ## Exclusions
#
# A survey has no composite score when one of its dimension scores is missing: the
# answered indicators of that dimension carry less than the scheme's minimum share of
# its weight.

# %%
excluded = describe.exclusions(scored)
outputs.publish(excluded, "prepare_exclusions")

# %%
excluded_by_country = describe.exclusions(scored, by="country")
_ = outputs.write_table(excluded_by_country, "prepare_exclusions_by_country")
