"""Descriptive helpers (sections 0-2) against hand-worked numbers and outside software.

Confidence intervals are checked against ``scipy.stats`` and statsmodels, counts
against frames small enough to count by eye, and figures against the disclosure
rule: a group under the threshold never reaches the plot.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from helpers import describe, outputs
from helpers.scoring import band

DIMS = ["economic", "social", "psychosocial"]


@pytest.fixture(autouse=True)
def _threshold(monkeypatch):
    monkeypatch.delenv("RSS_DISCLOSURE_THRESHOLD", raising=False)


def scored_frame(scheme, sizes: dict[str, int], *, seed: int = 0, waves: int = 1,
                 mentored: tuple[str, ...] = ()) -> pd.DataFrame:
    """Scored-like records: ``sizes`` respondents per country, each surveyed ``waves`` times."""
    rng = np.random.default_rng(seed)
    rows = []
    for country, n in sizes.items():
        for i in range(n):
            for w in range(1, waves + 1):
                rows.append({"respondent_id": f"{country}{i:04d}", "country": country, "wave": w,
                             "mentored": int(country in mentored and i % 2 == 1),
                             "sex": "F" if i % 3 == 0 else "M", "age": 20 + i % 30,
                             "months_since_return": 1.0 + 5 * (w - 1) + (i % 3),
                             "assist_economic": i % 2, "assist_social": 0, "assist_psychosocial": 1})
    df = pd.DataFrame(rows)
    df["sex"] = pd.Categorical(df["sex"], categories=["F", "M"])
    for d in DIMS:
        df[f"score_{d}"] = rng.uniform(0.1, 0.9, len(df))
    df["score_composite"] = df[[f"score_{d}" for d in DIMS]].mean(axis=1)
    for ind in scheme.indicators:
        df[ind.column] = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(df))
    for c in [f"score_{d}" for d in DIMS] + ["score_composite"]:
        df[f"band_{c.removeprefix('score_')}"] = band(df[c], scheme)
    return describe.attach_scheme(df, scheme)


# ----------------------------------------------------------------- statistics


def test_mean_ci_without_clusters_is_the_textbook_t_interval():
    y = np.array([0.2, 0.4, 0.5, 0.9, 0.65])
    r = describe.mean_ci(y)
    se = y.std(ddof=1) / np.sqrt(len(y))
    t = stats.t.ppf(0.975, len(y) - 1)
    assert_allclose([r["mean"], r["se"], r["ci_low"], r["ci_high"], r["df"]],
                    [y.mean(), se, y.mean() - t * se, y.mean() + t * se, 4], rtol=1e-12)


def test_mean_ci_clustered_by_hand():
    # y = 1, 2 (respondent a), 3 (b), 6 (c): mean 3, residual sums -3, 0, 3
    # se^2 = G/(G-1) * sum(sums^2) / N^2 = 3/2 * 18 / 16 = 27/16; t with G - 1 = 2 df
    r = describe.mean_ci([1.0, 2.0, 3.0, 6.0], groups=["a", "a", "b", "c"])
    se = np.sqrt(27 / 16)
    assert_allclose([r["mean"], r["se"], r["df"], r["ci_high"]], [3.0, se, 2, 3 + stats.t.ppf(0.975, 2) * se],
                    rtol=1e-12)
    assert (r["n"], r["n_clusters"]) == (4, 3)


def test_mean_ci_clustered_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(15), 3)
    y = rng.normal(size=len(g)) + g * 0.1
    fit = sm.OLS(y, np.ones(len(y))).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    r = describe.mean_ci(y, groups=g)
    assert_allclose([r["se"], r["ci_low"], r["ci_high"]], [fit.bse[0], *fit.conf_int()[0]], rtol=1e-10)


def test_mean_ci_drops_missing_and_handles_tiny_samples():
    r = describe.mean_ci([np.nan, 0.5])
    assert r["n"] == 1 and r["mean"] == 0.5 and np.isnan(r["ci_low"])


def test_welch_matches_scipy():
    a = np.array([0.61, 0.72, 0.55, 0.80, 0.66, 0.70])
    b = np.array([0.50, 0.58, 0.49, 0.62, 0.47, 0.55, 0.60, 0.52])
    r = describe.welch_diff(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert_allclose([r["diff"], r["p"], r["ci_low"], r["ci_high"], r["df"]],
                    [a.mean() - b.mean(), ref.pvalue, ci.low, ci.high, ref.df], rtol=1e-10)


# ------------------------------------------------------------------- section 0


def test_surveys_by_country_wave_counts(scheme):
    df = scored_frame(scheme, {"AAA": 12, "BBB": 4}, waves=2)
    df = df[~((df["country"] == "AAA") & (df["wave"] == 2) & (df["respondent_id"] >= "AAA0010"))]
    t = describe.surveys_by_country_wave(df)
    assert t[["country", "wave", "n_surveys", "n_respondents"]].values.tolist() == [
        ["AAA", 1, 12, 12], ["AAA", 2, 10, 10], ["BBB", 1, 4, 4], ["BBB", 2, 4, 4]]
    assert t.attrs == {"keys": ["country", "wave"], "count_cols": ["n_respondents"], "groups": ["country"]}


def test_surveys_by_country_derives_fieldwork(scheme):
    df = scored_frame(scheme, {"AAA": 12, "BBB": 12, "CCC": 12}, mentored=("BBB",))
    t = describe.surveys_by_country(df)
    assert dict(zip(t["country"], t["fieldwork"], strict=True)) == {"AAA": False, "BBB": True, "CCC": False}
    assert describe.fieldwork_countries(df) == ["BBB"]
    df.loc[df["country"] == "CCC", "mentored"] = 1  # the data decides, not a constant
    assert describe.fieldwork_countries(df) == ["BBB", "CCC"]


def test_missingness_counts_special_codes(scheme):
    n = 6
    codes = {q: [1] * n for q in scheme.question_ids}
    codes["eco_employed"] = [1, 97, 98, 99, 99, None]
    df = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(n)], **codes})
    df = describe.attach_scheme(df, scheme)
    t = describe.missingness(df).set_index("question")
    row = t.loc["eco_employed"]
    assert (row["n_answered"], row["n_empty"], row["n_97"], row["n_98"], row["n_99"]) == (1, 1, 1, 1, 2)
    assert_allclose(row["share_missing"], 5 / 6)
    assert (row["dimension"], row["indicator"]) == ("economic", "E4")
    assert t.loc["eco_income_sources", "n_answered"] == 6
    assert len(t) == len(scheme.questions)


def test_exclusions_say_why(scheme):
    df = scored_frame(scheme, {"AAA": 20})
    df.loc[0:2, "score_economic"] = np.nan
    df.loc[2, "score_social"] = np.nan
    df.loc[0:2, "score_composite"] = np.nan
    t = describe.exclusions(df)
    got = {r.reason: (r.status, r.n_surveys) for r in t.itertuples()}
    # one row per missing score (overlapping: survey 2 lacks both), each total minus the surveys with the score
    assert got == {"composite scored": ("scored", 17), "no composite score": ("excluded", 3),
                   "no economic score": ("excluded", 3), "no social score": ("excluded", 1),
                   "no psychosocial score": ("excluded", 0)}
    assert t["status"].iloc[0] == "scored"
    for dim in ("economic", "social", "psychosocial"):
        assert got[f"no {dim} score"][1] == len(df) - df[f"score_{dim}"].notna().sum()
    assert set(t["n_respondents_group"]) == {20} and t.attrs["count_cols"] == ["n_respondents_group"]


# ------------------------------------------------------------------- section 1


def test_sample_description(scheme):
    df = scored_frame(scheme, {"AAA": 12}, waves=2)
    t = describe.sample_description(df).set_index(["variable", "level"])
    assert t.loc[("surveys", "all"), ["n_surveys", "n_respondents"]].tolist() == [24, 12]
    assert t.loc[("sex", "F"), "n_respondents"] == 4  # i = 0, 3, 6, 9
    assert t.loc[("sex", "M"), "n_respondents"] == 8
    assert t.loc[("assist_economic", "yes"), "n_respondents"] == 6
    assert_allclose(t.loc[("age", "years, first survey"), "mean"], np.mean([20 + i for i in range(12)]))
    assert t.loc[("wave", "2"), "n_surveys"] == 12


def test_indicator_profile_against_pooled_median(scheme):
    df = scored_frame(scheme, {"AAA": 12, "BBB": 12})
    # AAA all 0.25; BBB three 0 and nine 1: pooled median 0.25 (12th and 13th of 24 values)
    df["ind_E1"] = [0.25] * 12 + [0.0] * 3 + [1.0] * 9
    t = describe.indicator_profile(df, country="bbb").set_index("indicator")
    assert_allclose(t.loc["E1", "pooled_median"], 0.25)
    assert_allclose(t.loc["E1", "mean"], 9 / 12)
    assert_allclose(t.loc["E1", "diff_mean_vs_pooled_median"], 9 / 12 - 0.25)
    assert_allclose(t.loc["E1", "share_above_pooled_median"], 9 / 12)
    assert t.loc["E1", "label"] == "income" and len(t) == 15


def test_trajectory_bins(scheme):
    df = scored_frame(scheme, {"AAA": 12}, waves=3)  # months 1-3, 6-8, 11-13
    t = describe.trajectory(df)
    comp = t[t["score"] == "composite"].set_index("months_since_return")
    assert comp["n_surveys"].to_dict() == {"0-3": 8, "3-6": 4, "6-9": 12, "9-12": 4, "12-18": 8}
    assert_allclose(comp.loc["3-6", "mean"],
                    df.loc[(df["months_since_return"] >= 3) & (df["months_since_return"] < 6), "score_composite"]
                    .mean())
    w = describe.by_wave(df)
    assert w[w["score"] == "economic"]["n_surveys"].tolist() == [12, 12, 12]


def test_mentored_comparison_raw_is_welch_and_adjusted_finds_planted_effect(scheme):
    df = scored_frame(scheme, {"AAA": 400}, seed=5, waves=2, mentored=("AAA",))
    rng = np.random.default_rng(11)
    person = df["respondent_id"].map({r: rng.normal(0, 0.05) for r in df["respondent_id"].unique()})
    df["score_composite"] = (0.4 + 0.08 * df["mentored"] + 0.004 * (df["age"] - 30) + 0.01 * df["wave"]
                             + person + rng.normal(0, 0.05, len(df)))
    t = describe.mentored_comparison(df).set_index("score")
    c = t.loc["composite"]
    ref = stats.ttest_ind(df.loc[df["mentored"] == 1, "score_composite"],
                          df.loc[df["mentored"] == 0, "score_composite"], equal_var=False)
    assert_allclose([c["raw_p"]], [ref.pvalue], rtol=1e-10)
    assert abs(c["adj_diff"] - 0.08) < 3 * c["adj_se"]
    assert c["adj_ci_low"] < 0.08 < c["adj_ci_high"]
    assert (c["adj_n_surveys"], c["adj_n_clusters"]) == (800, 400)
    assert c["n_respondents_mentored"] == 200 and c["n_respondents_not"] == 200


def test_mentored_comparison_empty_without_mentored(scheme):
    t = describe.mentored_comparison(scored_frame(scheme, {"AAA": 20}))
    assert t.empty and "adj_diff" in t.columns


# ------------------------------------------------------------------- section 2


def test_country_means_use_mean_ci(scheme):
    df = scored_frame(scheme, {"AAA": 15, "BBB": 11}, waves=2, mentored=("AAA",))
    t = describe.country_means(df).set_index(["country", "score"])
    sub = df[df["country"] == "BBB"]
    ref = describe.mean_ci(sub["score_social"], groups=sub["respondent_id"])
    got = t.loc[("BBB", "social")]
    assert_allclose([got["mean"], got["ci_low"], got["ci_high"]], [ref["mean"], ref["ci_low"], ref["ci_high"]])
    assert (got["n_surveys"], got["n_respondents"], bool(got["fieldwork"])) == (22, 11, False)
    assert bool(t.loc[("AAA", "social"), "fieldwork"])


def test_ranking_skips_small_countries(scheme):
    df = scored_frame(scheme, {"AAA": 12, "BBB": 12, "CCC": 9})
    df.loc[df["country"] == "AAA", "score_composite"] = 0.3
    df.loc[df["country"] == "BBB", "score_composite"] = 0.6
    df.loc[df["country"] == "CCC", "score_composite"] = 0.9  # best, but under the threshold
    r = describe.ranking(describe.country_means(df), min_n=10).set_index("country")
    assert r.loc["BBB", "rank_composite"] == 1 and r.loc["AAA", "rank_composite"] == 2
    assert pd.isna(r.loc["CCC", "rank_composite"])


def test_fieldwork_comparison_matches_statsmodels(scheme):
    import statsmodels.formula.api as smf

    df = scored_frame(scheme, {"AAA": 30, "BBB": 25, "CCC": 20}, waves=2, mentored=("AAA",))
    t = describe.fieldwork_comparison(df).set_index("score")
    d = df.assign(fw=(df["country"] == "AAA").astype(float))
    fit = smf.ols("score_economic ~ fw", data=d).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["respondent_id"])[0]}, use_t=True)
    e = t.loc["economic"]
    assert_allclose([e["diff"], e["diff_se"], e["diff_p"], e["diff_ci_low"]],
                    [fit.params["fw"], fit.bse["fw"], fit.pvalues["fw"], fit.conf_int().loc["fw", 0]], rtol=1e-8)
    assert e["countries_fieldwork"] == "AAA" and e["countries_other"] == "BBB, CCC"
    assert_allclose(e["mean_of_country_means_other"],
                    np.mean([df.loc[df["country"] == c, "score_economic"].mean() for c in ("BBB", "CCC")]))


def test_dimension_correlations_pooled_and_per_country(scheme):
    df = scored_frame(scheme, {"AAA": 30, "BBB": 30})
    t = describe.dimension_correlations(df)
    pooled = t[(t["scope"] == "pooled") & (t["dim_a"] == "economic") & (t["dim_b"] == "social")]
    assert_allclose(pooled["pearson"].iloc[0], np.corrcoef(df["score_economic"], df["score_social"])[0, 1])
    assert sorted(set(t["scope"])) == ["AAA", "BBB", "pooled"] and len(t) == 9


def test_dimension_profiles_strongest_and_pooled_row(scheme):
    df = scored_frame(scheme, {"AAA": 12})
    df["score_social"] = 0.95
    t = describe.dimension_profiles(df)
    assert t["country"].tolist() == ["AAA", "pooled"] and t.loc[0, "strongest"] == "social"


# --------------------------------------------------------------- key numbers


def test_country_numbers_suppressed_under_threshold(scheme):
    small = describe.country_numbers(scored_frame(scheme, {"AAA": 9}), country="aaa", min_n=10)
    full = describe.country_numbers(scored_frame(scheme, {"AAA": 10}), country="AAA", min_n=10)
    assert full["n_respondents"] == 10 and full["mean_composite"] is not None and not full["suppressed"]
    assert set(small) == set(full)  # same keys, so a report can put countries side by side
    assert (small["country"], small["suppressed"], small["n_respondents"]) == ("AAA", True, "<10")
    assert all(v is None for k, v in small.items() if k not in ("country", "suppressed", "n_respondents"))


def test_is_synthetic(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    assert not describe.is_synthetic(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps({"synthetic": True}))
    assert describe.is_synthetic(tmp_path) and describe.is_synthetic(tmp_path / "a.csv")


def test_scheme_info_falls_back_to_default(scheme):
    df = scored_frame(scheme, {"AAA": 3})
    df.attrs = {}
    assert describe.scheme_info(df)["id"] == scheme.id


# ------------------------------------------------------------------- figures


def _texts(fig) -> str:
    out = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(out)


def _ytick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def test_figures_are_headless_and_not_in_pyplot(scheme):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    fig = describe.plot_score_distributions(scored_frame(scheme, {"AAA": 30}))
    assert isinstance(fig, Figure) and plt.get_fignums() == before


def test_country_means_plot_leaves_out_small_countries(scheme):
    df = scored_frame(scheme, {"AAA": 11, "BBB": 9, "CCC": 25, "DDD": 8}, mentored=("CCC",))
    fig = describe.plot_country_means(describe.country_means(df), min_n=10)
    labels = _ytick_labels(fig.axes[0])
    assert sorted(labels) == ["AAA", "CCC"]
    assert "fewer than 10 respondents): BBB, DDD" in fig._suptitle.get_text()
    # nothing else carries BBB's numbers: one error bar per shown country and score
    assert [len(ax.containers) for ax in fig.axes] == [2, 2, 2, 2]


def test_one_small_country_hides_the_next_smallest_too(scheme):
    # the pooled mean and the other countries' means would give BBB's mean by subtraction
    df = scored_frame(scheme, {"AAA": 10, "BBB": 9, "CCC": 25})
    fig = describe.plot_country_means(describe.country_means(df), min_n=10)
    assert _ytick_labels(fig.axes[0]) == ["CCC"]
    assert "AAA, BBB" in fig._suptitle.get_text()


def test_heatmaps_leave_out_small_countries(scheme):
    df = scored_frame(scheme, {"AAA": 10, "BBB": 9, "CCC": 25})
    # BBB is small; AAA, the next-smallest, goes too: the pooled row would give BBB's means by subtraction
    fig = describe.plot_dimension_profiles(describe.dimension_profiles(df), min_n=10)
    assert _ytick_labels(fig.axes[0]) == ["CCC", "pooled"]
    fig = describe.plot_correlations(describe.dimension_correlations(df), min_n=10)
    assert _ytick_labels(fig.axes[0]) == ["pooled", "AAA", "CCC"]
    assert "BBB" in fig.axes[0].get_title()


def test_trajectory_plot_leaves_out_small_bins(scheme):
    df = scored_frame(scheme, {"AAA": 12}, waves=3)  # bins 3-6 and 9-12 hold 4 respondents
    fig = describe.plot_trajectory(describe.trajectory(df), min_n=5)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["0-3", "6-9", "12-18"]
    assert "3-6, 9-12" in fig.axes[0].get_title()


def test_distribution_plot_drops_small_bins_and_groups(scheme):
    df = scored_frame(scheme, {"AAA": 40})
    fig = describe.plot_score_distributions(df, min_n=10)
    for ax in fig.axes:
        heights = [p.get_height() for p in ax.patches]
        edges = np.linspace(0, 1, 11)
        resp = pd.cut(df[f"score_{ax.get_title()}"], edges, right=False).value_counts()
        assert len(heights) == int((resp >= 10).sum())
    small = describe.plot_score_distributions(scored_frame(scheme, {"AAA": 9}), min_n=10)
    assert all(len(ax.patches) == 0 for ax in small.axes if ax.get_visible())
    assert "fewer than 10 respondents" in _texts(small)


def test_band_plot_drops_small_cells(scheme):
    df = scored_frame(scheme, {"AAA": 30})
    bands = describe.band_shares(df)
    fig = describe.plot_band_shares(bands, min_n=10)
    drawn = sum(1 for p in fig.axes[0].patches if p.get_height() > 0)
    published = outputs.suppress(bands, threshold=10)
    assert drawn == int((~published["suppressed"]).sum())
    # no score shows all its bands but one: the hidden share would be 100% minus the others
    hidden = published.groupby("score")["suppressed"].sum()
    assert not (hidden == 1).any()


def test_prepare_numbers_name_files_relative_to_the_input(tmp_path, scheme):
    from conftest import make_records

    from helpers.loader import file_sha256, load
    from helpers.scoring import score

    (tmp_path / "sub").mkdir()
    make_records(scheme, n=12).to_csv(tmp_path / "sub" / "sen.csv", index=False)
    (tmp_path / "truth.json").write_text(json.dumps({"synthetic": True}))
    result = load(tmp_path, scheme=scheme)
    scored = describe.attach_scheme(score(result.data, scheme), scheme)
    n = describe.prepare_numbers(result, scored, source=tmp_path, synthetic=describe.is_synthetic(tmp_path))
    assert n["input_files"] == [{"file": "sub/sen.csv", "format": "csv", "rows": 12,
                                 "sha256": file_sha256(tmp_path / "sub" / "sen.csv")}]
    assert (n["n_surveys"], n["n_respondents"], n["countries"], n["synthetic"]) == (12, 12, ["SEN"], True)
    assert n["fieldwork_countries"] == ["SEN"] and n["scheme_id"] == scheme.id
    assert str(tmp_path) not in json.dumps(n)


def test_prepare_numbers_publish_the_excluded_surveys_as_a_difference_of_totals(tmp_path, scheme):
    """One survey without a composite is all surveys minus those with one, both published: shown, never blanked."""
    from conftest import make_records

    from helpers.loader import load
    from helpers.scoring import score

    records = make_records(scheme, n=30)
    for q in scheme.questions:
        if q.dimension == "social":
            records.loc[0, q.id] = 98  # no social score -> no composite for this one survey
    records.to_csv(tmp_path / "sen.csv", index=False)
    result = load(tmp_path, scheme=scheme)
    scored = describe.attach_scheme(score(result.data, scheme), scheme)
    n = describe.prepare_numbers(result, scored, source=tmp_path, synthetic=False)
    assert (n["n_excluded"], n["n_with_composite"]) == (1, n["n_surveys"] - 1)
    assert "; 1 survey without a composite" in n["headlines"][0]
    records.loc[1:12, "soc_housing_access"] = 98  # still scored: S1 keeps soc_housing_quality
    for q in scheme.questions:
        if q.dimension == "social":
            records.loc[1:11, q.id] = 98  # now 12 respondents excluded
    records.to_csv(tmp_path / "sen.csv", index=False)
    result = load(tmp_path, scheme=scheme)
    n = describe.prepare_numbers(result, describe.attach_scheme(score(result.data, scheme), scheme),
                                 source=tmp_path, synthetic=False)
    assert (n["n_excluded"], n["n_with_composite"]) == (12, 18)
