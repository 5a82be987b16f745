"""Tests of helpers.stats: numbers pinned outside the code under test.

* planted effects of the seeded synthetic data (``truth`` of :func:`helpers.synthetic.simulate`);
* a textbook table (Wooldridge, Example 14.4 / Table 14.2, on linearmodels' ``wage_panel``);
* hand-computed balance statistics (formulas written out here with numpy);
* statsmodels' ``TreatmentEffect`` and an LSDV regression for IPW/AIPW and the DiD covariance;
* small simulated panels whose answer is known by construction.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st

from helpers import stats
from helpers.scheme import load_scheme
from helpers.scoring import score
from helpers.synthetic import simulate

OUTCOMES = list(stats.OUTCOMES)


# ------------------------------------------------------------------- shared data


@pytest.fixture(scope="module")
def synthetic():
    """The default synthetic dataset (seed 20200, scale 1: ~20k surveys), scored once per module."""
    df, truth = simulate(seed=20200, scale=1.0)
    return score(df, load_scheme()), truth


@pytest.fixture(scope="module")
def fieldwork(synthetic):
    scored, truth = synthetic
    return scored[scored["country"].isin(truth["fieldwork_countries"])]


@pytest.fixture(scope="module")
def effects(synthetic):
    scored, _ = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.mentoring_effects(scored)


def planted(truth, outcome):
    return truth["mentoring_effect"][outcome.removeprefix("score_")]


def row(frame, outcome, estimator):
    sub = frame[(frame["outcome"] == outcome) & (frame["estimator"] == estimator)]
    assert len(sub) == 1, (outcome, estimator)
    return sub.iloc[0]


def panel_sim(n=1500, waves=4, start=3, effect=0.4, anticipation=0.0, seed=0):
    """Balanced panel: a random 40% is treated from wave ``start`` on; optional effect one wave early."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n), waves)
    wave = np.tile(np.arange(1, waves + 1), n)
    m = np.repeat(rng.random(n) < 0.4, waves)
    d = m & (wave >= start)
    y = (np.repeat(rng.normal(size=n), waves) + 0.2 * wave + effect * d + anticipation * (m & (wave == start - 1))
         + rng.normal(0, 0.3, n * waves))
    return pd.DataFrame({"id": ids, "wave": wave, "m": m.astype(int), "D": d.astype(int), "y": y})


# ------------------------------------------------------------ tidy contract


def test_tidy_contract(effects):
    assert list(effects.columns[: len(stats.TIDY_COLUMNS)]) == list(stats.TIDY_COLUMNS)
    assert set(effects["estimator"]) == set(stats.ESTIMATORS)
    assert sorted(effects["outcome"].unique()) == sorted(OUTCOMES)
    assert len(effects) == len(OUTCOMES) * len(stats.ESTIMATORS)
    assert (effects["ci_lower"] < effects["estimate"]).all() and (effects["estimate"] < effects["ci_upper"]).all()
    assert (effects["n_clusters"] <= effects["n_obs"]).all()
    assert effects["cov_type"].str.contains("respondent_id").all()


# ------------------------------------------------- synthetic: planted effects


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: o.removeprefix("score_"))
def test_did_ci_covers_planted_effect(effects, synthetic, outcome):
    _, truth = synthetic
    r = row(effects, outcome, "did_panel")
    assert r["ci_lower"] <= planted(truth, outcome) <= r["ci_upper"], r[["estimate", "ci_lower", "ci_upper"]]


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: o.removeprefix("score_"))
def test_raw_difference_biased_upward(effects, synthetic, outcome):
    """Able returnees select into mentoring and score higher: the raw gap overstates the effect."""
    _, truth = synthetic
    assert truth["naive_bias_direction"] == "positive"
    r = row(effects, outcome, "raw_difference")
    assert r["ci_lower"] > planted(truth, outcome)


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: o.removeprefix("score_"))
def test_selection_on_observables_estimators(effects, synthetic, outcome):
    """OLS/IPW/AIPW condition on the observables only, and the unobserved ability drives selection.

    What the design implies: (1) all three stay above the planted effect (the
    ability bias E[u | D=1, X] - E[u | D=0, X] > 0 survives conditioning on X, which
    is independent of u); (2) they condition on the same X and the effect is
    homogeneous, so they agree with each other far more closely than with the
    truth; (3) most of the selection runs through ability (logit coefficient 1 per
    SD, against 0.2-0.5 for binary assistance), so adjusting for X removes only a
    small part of the raw bias, and they stay far above the DiD estimate.  Whether
    they lie below the raw difference depends on the sign of the observable
    selection, which the design does not fix, so that is not asserted.
    """
    _, truth = synthetic
    true = planted(truth, outcome)
    raw = row(effects, outcome, "raw_difference")["estimate"]
    did = row(effects, outcome, "did_panel")
    adjusted = {e: row(effects, outcome, e) for e in ("ols_fe", "ipw", "aipw")}
    for r in adjusted.values():
        assert r["ci_lower"] > true
        assert r["estimate"] - true > 0.5 * (raw - true)
        assert r["ci_lower"] > did["ci_upper"]
    est = [r["estimate"] for r in adjusted.values()]
    assert max(est) - min(est) < 0.2 * (raw - true)


def test_event_time_and_study_on_synthetic(fieldwork, synthetic):
    _, truth = synthetic
    et = stats.event_time(fieldwork)
    mentored = fieldwork["mentored"] == 1
    # mentoring_start lies between a mentored respondent's wave-1 and wave-2 surveys
    assert (et[mentored] == fieldwork.loc[mentored, "wave"] - 2).all()
    assert et[~mentored].isna().all()
    es = stats.event_study(fieldwork, "score_composite")
    assert es["event_time"].tolist() == [-1, 0, 1]
    ref = es.set_index("event_time")
    assert ref.loc[-1, "estimate"] == 0 and np.isnan(ref.loc[-1, "std_error"])
    for k in (0, 1):
        assert ref.loc[k, "ci_lower"] <= truth["mentoring_effect"]["composite"] <= ref.loc[k, "ci_upper"]


def test_no_sex_heterogeneity_planted(fieldwork, synthetic):
    _, truth = synthetic
    assert truth["mentoring_effect_sex_heterogeneity"]["composite"] == 0.0
    res = stats.did_by_group(fieldwork, "score_composite", "sex")
    assert set(res["group"]) == {"F", "M", "M - F"}
    diff = res[res["estimator"] == "did_difference"].iloc[0]
    assert diff["ci_lower"] <= 0 <= diff["ci_upper"]
    for _, r in res[res["estimator"] == "did_panel"].iterrows():
        assert r["ci_lower"] <= truth["mentoring_effect"]["composite"] <= r["ci_upper"]


def test_placebo_not_identified_with_one_pre_wave(fieldwork):
    """Synthetic mentoring always starts between waves 1 and 2: no placebo period exists."""
    p = stats.placebo_timing(fieldwork, "score_composite")
    assert p.loc[0, "n_identifying_entities"] == 0
    assert np.isnan(p.loc[0, "estimate"]) and "not identified" in p.loc[0, "note"]


def test_another_scoring_scheme(synthetic):
    """PCA-weighted rescoring moves every indicator by the same planted shift: DiD still finds it."""
    scored, truth = synthetic
    scheme = load_scheme()
    sw = stats.scheme_weights(scheme)
    cols = {d: sw.loc[sw["dimension"] == d, "indicator"].tolist() for d in scheme.dimensions}
    pw = stats.pca_weights(scored, cols)
    assert (pw["weight"] >= 0).all()
    assert_allclose(pw.groupby("dimension")["weight"].sum(), 1.0, atol=1e-12)
    pca_scored = stats.rescore(scored, pw)
    res = stats.effects_by_scheme({"default": scored, "pca": pca_scored}, OUTCOMES)
    assert sorted(res["scheme"].unique()) == ["default", "pca"]
    for _, r in res.iterrows():
        assert r["ci_lower"] <= planted(truth, r["outcome"]) <= r["ci_upper"], r[["scheme", "outcome", "estimate"]]
    ranks = stats.compare_rankings(scored, pca_scored).set_index("score")
    assert ranks.loc["score_composite", "n_groups"] == 17
    assert ranks.loc["score_composite", "spearman"] > 0.9


def test_rescore_with_scheme_weights_reproduces_scoring(synthetic):
    """rescore() with the scheme's own weights gives scoring.score()'s dimension and composite scores."""
    scored, _ = synthetic
    scheme = load_scheme()
    sw = stats.scheme_weights(scheme)
    dw = dict(zip(sw["dimension"], sw["dimension_weight"], strict=False))
    again = stats.rescore(scored, sw, dimension_weights=dw, min_weight=scheme.min_dimension_weight)
    for c in scheme.score_columns:
        assert_allclose(again[c].to_numpy(float), scored[c].to_numpy(float), atol=1e-12, equal_nan=True)
    cmp = stats.compare_weights(scheme, stats.pca_weights(scored, {"economic": ["ind_E1", "ind_E2", "ind_E3"]}))
    assert cmp["pca_weight"].notna().sum() == 3 and cmp["scheme_weight"].notna().all()


def test_determinants_recover_planted_coefficients(synthetic):
    """Economic score: assistance +0.06; men vs women = minus the size-weighted mean of country sex effects."""
    scored, truth = synthetic
    t, res = stats.determinants(scored, "score_economic")
    t = t.set_index("term")
    assert not t.index.str.startswith("C(country)").any()
    planted_assist = truth["latent_model"]["dimensions"]["economic"]["assistance"]["assist_economic"]
    assert t.loc["assist_economic", "ci_lower"] <= planted_assist <= t.loc["assist_economic", "ci_upper"]
    c = truth["countries"]
    w = np.array([x["n_surveys"] * x["female_share"] * (1 - x["female_share"]) for x in c])
    sex_f = np.array([x["sex_F_effects"]["economic"] for x in c])
    male = -(w * sex_f).sum() / w.sum()
    assert t.loc["C(sex)[T.M]", "ci_lower"] <= male <= t.loc["C(sex)[T.M]", "ci_upper"]
    assert t["n_clusters"].iloc[0] == scored.dropna(subset=["sex", "age", "return_from", "score_economic"])[
        "respondent_id"].nunique()


def test_interdependence_on_synthetic(synthetic):
    scored, _ = synthetic
    dims = ["score_economic", "score_social", "score_psychosocial"]
    corr = stats.dimension_correlations(scored, dims)
    sub = scored[["score_economic", "score_social"]].dropna()
    r = corr[(corr["term"] == "score_economic") & (corr["outcome"] == "score_social")].iloc[0]
    assert_allclose(r["estimate"], np.corrcoef(sub.to_numpy(float), rowvar=False)[0, 1], rtol=1e-12)
    z, se = np.arctanh(r["estimate"]), 1 / np.sqrt(len(sub) - 3)
    assert_allclose([r["ci_lower"], r["ci_upper"]], np.tanh([z - 1.959963985 * se, z + 1.959963985 * se]),
                    rtol=1e-8)
    by = stats.dimension_correlations(scored, dims, by="country")
    assert len(by) == 3 * 17
    econ = stats.fit_on_economic(scored)
    assert set(econ["outcome"]) == {"score_social", "score_psychosocial"}
    assert (econ["ci_lower"] > 0).all()  # planted economic loadings 0.5 and 0.4
    cl = stats.cross_lagged(scored, "score_economic", "score_social")
    lag = cl[cl["cross_lag"]].set_index("direction")
    assert lag.loc["x -> y", "ci_lower"] > 0  # planted: last wave's economic shock raises social


def test_balance_on_synthetic_cross_section(fieldwork):
    """Mentoring selects on assistance: the joint orthogonality test must reject."""
    cs = stats.cross_section(fieldwork)
    b = stats.balance_table(cs, "treated", ["assist_economic", "assist_social", "age", "sex"],
                            cluster="respondent_id")
    assert b.set_index("variable").loc["assist_economic", "difference"] > 0
    jt = b.attrs["joint_test"]
    assert jt["p_value"] < 1e-3 and jt["df_num"] == 4 and jt["df_denom"] == jt["n_clusters"] - 1


# ---------------------------------------------------- textbook: Wooldridge 14.4


# Wooldridge, J. M., Introductory Econometrics: A Modern Approach, Example 14.4
# ("A Wage Equation Using Panel Data"), Table 14.2 "Three Different Estimators of a
# Wage Equation" (so numbered in the 6th edition), dependent variable log(wage),
# WAGEPAN (Vella & Verbeek 1998; 545 men, 1980-1987, 4,360 obs.), each regression with
# a full set of year dummies.  Coefficient (standard error) as printed.  Source check:
# the 3-decimal figures match a public plm reproduction of the example
# (github.com/thousandoaks/Wooldridge, Chapter 14 notebook), which also quotes the
# text's theta = .643.  The 4-decimal exper^2 entries could not be checked against a
# retrieved copy of the book; they agree with that reproduction to its 3 decimals.
TABLE_14_2 = {
    "pooled": {"educ": (".091", ".005"), "black": ("-.139", ".024"), "hisp": (".016", ".021"),
               "exper": (".067", ".014"), "expersq": ("-.0024", ".0008"), "married": (".108", ".016"),
               "union": (".182", ".017")},
    "re": {"educ": (".092", ".011"), "black": ("-.139", ".048"), "hisp": (".022", ".043"),
           "exper": (".106", ".015"), "expersq": ("-.0047", ".0007"), "married": (".064", ".017"),
           "union": (".106", ".018")},
    "fe": {"expersq": ("-.0052", ".0007"), "married": (".047", ".018"), "union": (".080", ".019")},
}
THETA_RE = ".643"  # text of Example 14.4


def _printed(text: str) -> tuple[float, float]:
    """A printed number and half a unit of its last printed digit."""
    decimals = len(text.split(".")[1])
    return float(text), 0.5 * 10.0 ** -decimals + 1e-12


@pytest.fixture(scope="module")
def wage_fits():
    from linearmodels.datasets import wage_panel

    w = wage_panel.load()
    rhs = "educ + black + hisp + exper + expersq + married + union + C(year)"
    pooled, _ = stats.fit_ols(w, f"lwage ~ {rhs}", cov_type="nonrobust")
    re, re_res = stats.fit_panel(w, f"lwage ~ 1 + {rhs}", entity="nr", time="year", model="re")
    fe, _ = stats.fit_panel(w, "lwage ~ 1 + expersq + married + union + C(year)", entity="nr", time="year",
                            model="fe")
    return {"pooled": pooled, "re": re, "fe": fe}, re_res


@pytest.mark.parametrize("model", ["pooled", "re", "fe"])
def test_wooldridge_table_14_2(wage_fits, model):
    """Pooled OLS (fit_ols, textbook OLS errors), RE and FE (fit_panel) reproduce Wooldridge's Table 14.2.

    Wooldridge, Introductory Econometrics: A Modern Approach (6th ed.), Example
    14.4, Table 14.2; coefficients and standard errors pinned to half a unit of
    their last printed digit.
    """
    fits, _ = wage_fits
    got = fits[model].set_index("term")
    assert got["n_obs"].iloc[0] == 4360
    for term, (b, se) in TABLE_14_2[model].items():
        pb, tol_b = _printed(b)
        pse, tol_se = _printed(se)
        assert abs(got.loc[term, "estimate"] - pb) <= tol_b, (model, term, got.loc[term, "estimate"], b)
        assert abs(got.loc[term, "std_error"] - pse) <= tol_se, (model, term, got.loc[term, "std_error"], se)
    if model == "fe":
        assert not {"educ", "black", "hisp", "exper"} & set(got.index)


def test_wooldridge_re_theta(wage_fits):
    _, re_res = wage_fits
    theta, tol = _printed(THETA_RE)
    assert abs(float(np.asarray(re_res.theta).ravel()[0]) - theta) <= tol


# ------------------------------------------------------------ balance by hand


@pytest.fixture
def small():
    return pd.DataFrame({
        "g": [0, 0, 0, 0, 1, 1, 1, 1],
        "x": [1.0, 2, 3, 4, 2, 4, 6, 8],
        "z": [0.0, 1, 0, 1, 1, 1, 0, 1],
        "w": [1.0, 2, 1, 2, 1, 1, 3, 1],
        "c": ["a", "a", "b", "b", "c", "c", "d", "d"],
        "s": ["F", "M", "M", "M", "F", "F", "M", "F"],
    })


def test_balance_table_by_hand(small):
    b = stats.balance_table(small, "g", ["x", "z"]).set_index("variable")
    x0, x1 = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 6, 8])
    m0, m1 = x0.mean(), x1.mean()  # 2.5, 5
    s0, s1 = x0.std(ddof=1), x1.std(ddof=1)  # 1.29099, 2.58199
    assert_allclose(b.loc["x", ["mean_control", "mean_treated", "sd_control", "sd_treated"]].astype(float),
                    [m0, m1, s0, s1], rtol=1e-12)
    assert_allclose(b.loc["x", "difference"], m1 - m0, rtol=1e-12)
    assert_allclose(b.loc["x", "normalized_difference"], (m1 - m0) / np.sqrt((s1 ** 2 + s0 ** 2) / 2), rtol=1e-12)
    assert_allclose(b.loc["x", "normalized_difference"], 1.224744871391589, rtol=1e-12)  # 2.5 / sqrt(25/6)
    # HC1 standard error of a difference in means: n/(n-2) (sum e1^2 / n1^2 + sum e0^2 / n0^2), t(n-2)
    n = 8
    var = n / (n - 2) * (((x1 - m1) ** 2).sum() / 16 + ((x0 - m0) ** 2).sum() / 16)
    p = 2 * st.t.sf(abs(m1 - m0) / np.sqrt(var), n - 2)
    assert_allclose([b.loc["x", "std_error"], b.loc["x", "p_value"]], [np.sqrt(var), p], rtol=1e-10)
    assert b.loc["x", "n_control"] == 4 and b.loc["x", "n_treated"] == 4


def test_balance_weighted_and_categorical(small):
    b = stats.balance_table(small, "g", ["x", "s"], weights="w").set_index("variable")
    x1, w1 = np.array([2.0, 4, 6, 8]), np.array([1.0, 1, 3, 1])
    m1 = (w1 * x1).sum() / w1.sum()  # 5.666...
    sd1 = np.sqrt(4 / 3 * (w1 * (x1 - m1) ** 2).sum() / w1.sum())  # Stata summarize [aw]
    assert_allclose(b.loc["x", ["mean_treated", "sd_treated"]].astype(float), [m1, sd1], rtol=1e-12)
    assert {"s=F", "s=M"} <= set(b.index)
    assert_allclose(b.loc["s=F", "mean_control"], 1 / 6, rtol=1e-12)  # weights 1,2,1,2; F has weight 1


def test_joint_test_by_hand(small):
    """F = Wald / q with the HC1 covariance of the OLS of g on (1, x, z), F(q, n - k)."""
    jt = stats.joint_orthogonality(small, "g", ["x", "z"])
    X = np.column_stack([np.ones(8), small["x"], small["z"]])
    y = small["g"].to_numpy(float)
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    e = y - X @ beta
    v = 8 / (8 - 3) * xtx_inv @ (X.T * e ** 2) @ X @ xtx_inv
    b = beta[1:]
    f = b @ np.linalg.solve(v[1:, 1:], b) / 2
    assert_allclose(jt.loc[0, "statistic"], f, rtol=1e-10)
    assert_allclose(jt.loc[0, "p_value"], st.f.sf(f, 2, 5), rtol=1e-10)
    assert jt.loc[0, "df_num"] == 2 and jt.loc[0, "df_denom"] == 5


def test_balance_clustered_by_hand(small):
    """CR1: G/(G-1) (N-1)/(N-K) (X'X)^-1 sum_g X_g'e_g e_g'X_g (X'X)^-1, t(G-1)."""
    b = stats.balance_table(small, "g", ["x"], cluster="c").iloc[0]
    X = np.column_stack([np.ones(8), small["g"]])
    y = small["x"].to_numpy(float)
    xtx_inv = np.linalg.inv(X.T @ X)
    e = y - X @ (xtx_inv @ X.T @ y)
    meat = sum(np.outer(X[small["c"] == c].T @ e[small["c"] == c], X[small["c"] == c].T @ e[small["c"] == c])
               for c in "abcd")
    v = 4 / 3 * 7 / 6 * xtx_inv @ meat @ xtx_inv
    se = np.sqrt(v[1, 1])
    assert_allclose(b["std_error"], se, rtol=1e-10)
    assert_allclose(b["p_value"], 2 * st.t.sf(2.5 / se, 3), rtol=1e-10)
    assert b["n_clusters"] == 4


# ------------------------------------------------------------------ IPW / AIPW


@pytest.fixture(scope="module")
def observables():
    """Selection on observables only; heterogeneous effect, so ATE (1.0) differs from the ATT."""
    rng = np.random.default_rng(11)
    n = 4000
    x1 = rng.normal(1.0, 1.0, n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    t = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.9 * x1 + 0.6 * x2)))).astype(int)
    y = 1.0 + t * (0.5 + 0.5 * x1) + x1 + 0.5 * x2 + rng.normal(0, 1, n)
    return pd.DataFrame({"y": y, "t": t, "x1": x1, "x2": x2, "id": np.arange(n)})


@pytest.mark.parametrize("fn", [stats.fit_ipw, stats.fit_aipw], ids=["ipw", "aipw"])
def test_ipw_recovers_known_ate(observables, fn):
    f, res = fn(observables, "y", "t", ["x1", "x2"])
    assert f.loc[0, "ci_lower"] <= 1.0 <= f.loc[0, "ci_upper"], f[["estimate", "ci_lower", "ci_upper"]]
    naive, _ = stats.fit_ols(observables, "y ~ t")
    assert naive.set_index("term").loc["t", "ci_lower"] > 1.0  # the test has teeth: selection matters
    assert res.n_obs == len(observables) and f.loc[0, "estimand"] == "ATE"


@pytest.mark.parametrize("method", ["ipw", "aipw"])
def test_ipw_matches_statsmodels_treatment_effect(observables, method):
    import statsmodels.api as sm
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    d = observables
    X = sm.add_constant(d[["x1", "x2"]].to_numpy())
    sel = sm.Logit(d["t"].to_numpy(), X).fit(disp=0)
    te = TreatmentEffect(sm.OLS(d["y"].to_numpy(), X), d["t"].to_numpy(), results_select=sel)
    ref = getattr(te, method)().summary_frame().loc["ATE"]
    ours, _ = (stats.fit_ipw if method == "ipw" else stats.fit_aipw)(d, "y", "t", ["x1", "x2"])
    assert_allclose(ours.loc[0, ["estimate", "std_error"]].astype(float), [ref["coef"], ref["std err"]], rtol=1e-5)


def test_ipw_cluster_invariance(observables):
    """Duplicating every row within its cluster leaves estimate and clustered SE (up to G/(G-1)) unchanged."""
    d = observables
    one, _ = stats.fit_aipw(d, "y", "t", ["x1", "x2"])
    two, res = stats.fit_aipw(pd.concat([d, d]), "y", "t", ["x1", "x2"], cluster="id")
    n = len(d)
    assert_allclose(two.loc[0, "estimate"], one.loc[0, "estimate"], rtol=1e-10)
    assert_allclose(two.loc[0, "std_error"], one.loc[0, "std_error"] * np.sqrt(n / (n - 1)), rtol=1e-8)
    assert res.n_clusters == n and two.loc[0, "n_obs"] == 2 * n


def test_trimming_and_overlap(observables):
    import statsmodels.api as sm

    d = observables
    ov = stats.overlap_table(d, "t", ["x1", "x2"])
    p = sm.Logit(d["t"], sm.add_constant(d[["x1", "x2"]])).fit(disp=0).predict()
    t = d["t"].to_numpy()
    w1 = 1 / p[t == 1]
    assert_allclose(ov.loc["treated", "ess"], w1.sum() ** 2 / (w1 ** 2).sum(), rtol=1e-8)
    outside = int(((p < 0.05) | (p > 0.95)).sum())
    assert outside > 0 and round(ov.loc["all", "share_outside"] * len(d)) == outside
    f, res = stats.fit_ipw(d, "y", "t", ["x1", "x2"], trim=0.05)
    assert f.loc[0, "n_trimmed"] == outside and res.n_obs == len(d) - outside


# ------------------------------------------------------- DiD, event study, placebo


def test_did_covariance_is_stata_xtreg_convention():
    """Our clustered SE = LSDV cluster-robust (statsmodels CR1) rescaled from (N-1)/(N-K_lsdv) to (N-1)/(N-1).

    linearmodels' K counts only D after the two-way demeaning: the factor is
    G/(G-1)(N-1)/(N-K) with K = 1, as Stata's xtreg, fe vce(cluster) (up to the
    wave dummies Stata also counts).  The absorbed entity effects are not counted.
    """
    import statsmodels.formula.api as smf

    d = panel_sim(n=150, waves=3, start=2, seed=3)
    d = d.drop(index=d.sample(frac=0.15, random_state=1).index)  # unbalanced
    f, _ = stats.fit_did(d, "y", entity="id", time="wave", treated="D")
    lsdv = smf.ols("y ~ D + C(id) + C(wave)", data=d).fit(cov_type="cluster", cov_kwds={"groups": d["id"]})
    n, k_all = len(d), int(lsdv.df_model) + 1
    assert_allclose(f.loc[0, "estimate"], lsdv.params["D"], rtol=1e-8)
    assert_allclose(f.loc[0, "std_error"], lsdv.bse["D"] * np.sqrt((n - k_all) / (n - 1)), rtol=1e-8)
    g = d["id"].nunique()
    assert f.loc[0, "n_clusters"] == g
    q = st.t.ppf(0.975, g - 1)
    assert_allclose(f.loc[0, "ci_upper"] - f.loc[0, "estimate"], q * f.loc[0, "std_error"], rtol=1e-10)


def test_event_study_leads_and_lags():
    d = panel_sim(seed=5)
    es = stats.event_study(d, "y", entity="id", time="wave", treated="D", treatment="m").set_index("event_time")
    assert list(es.index) == [-2, -1, 0, 1]
    assert es.loc[-2, "ci_lower"] <= 0 <= es.loc[-2, "ci_upper"]
    for k in (0, 1):
        assert es.loc[k, "ci_lower"] <= 0.4 <= es.loc[k, "ci_upper"]
    fig = stats.plot_event_study(es.reset_index())
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) >= 2


@pytest.mark.parametrize("anticipation,detects", [(0.0, False), (0.3, True)], ids=["clean", "anticipation"])
def test_placebo_timing(anticipation, detects):
    d = panel_sim(seed=7, anticipation=anticipation)
    p = stats.placebo_timing(d, "y", entity="id", time="wave", treated="D", treatment="m")
    assert p.loc[0, "n_identifying_entities"] == d.loc[d["m"] == 1, "id"].nunique()
    covers_zero = p.loc[0, "ci_lower"] <= 0 <= p.loc[0, "ci_upper"]
    assert covers_zero is not detects
    if detects:
        assert abs(p.loc[0, "estimate"] - anticipation) < 4 * p.loc[0, "std_error"]


def test_cross_lagged_known_direction():
    rng = np.random.default_rng(4)
    n = 3000
    x1, y1 = rng.normal(size=n), rng.normal(size=n)
    x2 = 0.5 * x1 + rng.normal(size=n)
    y2 = 0.3 * y1 + 0.4 * x1 + rng.normal(size=n)
    d = pd.DataFrame({"id": np.tile(np.arange(n), 2), "t": np.repeat([1, 2], n), "x": np.r_[x1, x2],
                      "y": np.r_[y1, y2]})
    cl = stats.cross_lagged(d, "x", "y", entity="id", time="t", fe=None).set_index(["direction", "term"])
    checks = {("x -> y", "x_lag"): 0.4, ("x -> y", "y_lag"): 0.3, ("y -> x", "y_lag"): 0.0,
              ("y -> x", "x_lag"): 0.5}
    for key, true in checks.items():
        assert cl.loc[key, "ci_lower"] <= true <= cl.loc[key, "ci_upper"], key
    assert cl.loc[("x -> y", "x_lag"), "n_obs"] == n


def test_fit_ols_weights_are_frequency_consistent():
    """WLS with integer weights = OLS on rows repeated that many times (point estimates)."""
    rng = np.random.default_rng(9)
    d = pd.DataFrame({"y": rng.normal(size=50), "x": rng.normal(size=50), "k": rng.integers(1, 4, 50)})
    wls, _ = stats.fit_ols(d, "y ~ x", weights="k")
    rep, _ = stats.fit_ols(d.loc[d.index.repeat(d["k"])], "y ~ x")
    assert_allclose(wls["estimate"], rep["estimate"], rtol=1e-10)
    assert wls.loc[0, "cov_type"].startswith("heteroskedasticity-robust HC1")


def test_plot_coefficients(effects, synthetic):
    _, truth = synthetic
    ref = {o: planted(truth, o) for o in OUTCOMES}
    fig = stats.plot_coefficients(effects, reference=ref)
    assert len(fig.axes) == len(OUTCOMES)
    ax = fig.axes[0]
    top_down = [lab.get_text() for _, lab in sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True),
                                                     key=lambda z: -z[0])]
    assert top_down == list(stats.ESTIMATORS)


def test_errors_name_the_problem(small):
    with pytest.raises(KeyError, match="nope"):
        stats.balance_table(small, "g", ["nope"])
    with pytest.raises(ValueError, match="0/1"):
        stats.fit_ipw(small.assign(g=small["g"] + 1), "x", "g", ["z"])
    with pytest.raises(ValueError, match="unique"):
        stats.fit_did(pd.concat([panel_sim(n=20), panel_sim(n=20)]), "y", entity="id", time="wave", treated="D")


# ------------------------------------------------- publishing: counts, samples, tidy tables


def test_effect_rows_count_both_sides(effects, fieldwork):
    """Every effect row says how many respondents stand behind each side; the sides partition the clusters."""
    assert list(effects.attrs["count_cols"]) == list(stats.EFFECT_COUNTS)
    assert (effects["n_respondents_treated"] + effects["n_respondents_control"] == effects["n_clusters"]).all()
    did = effects[effects["estimator"] == "did_panel"].iloc[0]
    treated_ever = stats.treatment_indicator(fieldwork).groupby(fieldwork["respondent_id"]).max()
    assert did["n_respondents_treated"] == int((treated_ever == 1).sum())
    assert (effects["note"] == "").all()


def test_balance_counts_and_tidy_rows_by_hand():
    """Respondent counts behind each group and the smaller cell of a 0/1 row; tidy CI with t(G-1)."""
    d = pd.DataFrame({"id": [f"r{i}" for i in range(12)], "g": [1] * 5 + [0] * 7,
                      "sex": ["F", "M", "M", "M", "M", "F", "F", "M", "M", "M", "F", "M"],
                      "age": [20.0, 31, 25, 40, 33, 29, 30, 21, 44, 38, 27, 35]})
    b = stats.balance_table(d, "g", ["sex", "age"], cluster="id", entity="id").set_index("variable")
    assert b.loc["sex=F", ["n_respondents_treated", "min_cell_treated"]].tolist() == [5, 1]  # one woman treated
    assert b.loc["sex=F", ["n_respondents_control", "min_cell_control"]].tolist() == [7, 3]
    assert b.loc["age", "min_cell_treated"] == 5
    t = stats.tidy_balance(b.reset_index())
    assert list(t.columns[:10]) == list(stats.TIDY_COLUMNS)
    r = t.set_index("outcome").loc["age"]
    q = st.t.ppf(0.975, 12 - 1)
    assert_allclose([r["ci_lower"], r["ci_upper"]], [r["estimate"] - q * r["std_error"],
                                                     r["estimate"] + q * r["std_error"]], rtol=1e-12)
    assert_allclose(r["p_value"], b.loc["age", "p_value"], rtol=1e-8)
    assert r["n_obs"] == 12 and r["estimator"] == "difference_in_means"
    assert stats.balance_joint_test(b).loc[0, "df_num"] == 2


def test_baseline_is_first_untreated_survey_where_mentoring_ran(fieldwork, synthetic):
    scored, truth = synthetic
    base = stats.baseline(scored)
    assert base["respondent_id"].is_unique
    assert set(base["country"]) == set(truth["fieldwork_countries"])
    assert (base["wave"] == 1).all()  # mentoring starts between waves 1 and 2
    assert (stats.treatment_indicator(base) == 0).all()
    assert base["mentored"].sum() == truth["n_mentored"]
    first = stats.first_surveys(scored)
    assert len(first) == scored["respondent_id"].nunique() and first["respondent_id"].is_unique


def test_combine_counts_respondents():
    a = stats.tidy(0.1, 0.01, outcome="y", estimator="e", n_obs=50, n_clusters=20, cov_type="c")
    b = stats.tidy(0.2, 0.02, outcome="y", estimator="r", n_obs=30, cov_type="iid").assign(group="A")
    c = stats.combine([a, b])
    assert list(c.columns[:10]) == list(stats.TIDY_COLUMNS)
    assert c["n_respondents"].tolist() == [20, 30] and c.attrs["count_cols"] == ["n_respondents"]


def test_determinants_table_counts_the_smallest_cell(synthetic):
    scored, _ = synthetic
    t = stats.determinants_table(scored, ["score_economic"])
    assert t.attrs["count_cols"] == ["n_respondents", "n_respondents_level"]
    row = t.set_index("term")
    used = scored.dropna(subset=["score_economic", *(c for c in stats.COVARIATES if c in scored)])  # dates: complete
    sau = used.loc[used["return_from"] == "SAU", "respondent_id"].nunique()
    ref = used.loc[used["return_from"] == "DZA", "respondent_id"].nunique()
    assert row.loc["C(return_from)[T.SAU]", "n_respondents_level"] == min(sau, ref)
    assert row.loc["age", "n_respondents_level"] == row.loc["age", "n_respondents"]
    n_assist = used.groupby("assist_economic")["respondent_id"].nunique().min()
    assert row.loc["assist_economic", "n_respondents_level"] == n_assist


def test_heterogeneity_labels_counts_and_levels_without_treated():
    """A level without treated respondents has no effect and no difference; the others are compared."""
    rng = np.random.default_rng(11)
    n = 900
    ids = np.repeat(np.arange(n), 2)
    wave = np.tile([1, 2], n)
    grp = np.repeat(rng.choice(["a", "b", "c"], n, p=[0.1, 0.45, 0.45]), 2)
    m = np.repeat(rng.random(n) < 0.4, 2) & (grp != "a")  # nobody in "a" is treated
    y = np.repeat(rng.normal(size=n), 2) + 0.5 * (m & (wave == 2)) + rng.normal(0, 0.1, 2 * n)
    d = pd.DataFrame({"id": ids, "wave": wave, "m": m.astype(int), "D": (m & (wave == 2)).astype(int), "g": grp,
                      "y": y})
    h = stats.heterogeneity(d, "y", ["g", "missing_column"], entity="id", treated="D", treatment="m")
    assert h["label"].tolist() == ["g=b", "g=c", "g: c - b"]
    assert h.attrs["skipped"] == {"missing_column": "no such column"}
    per = h.set_index("label")
    for lev in ("b", "c"):
        sub = d[d["g"] == lev]
        assert per.loc[f"g={lev}", "n_respondents_treated"] == sub.loc[sub["m"] == 1, "id"].nunique()
    assert per.loc["g: c - b", "n_respondents_treated"] == per.loc[["g=b", "g=c"], "n_respondents_treated"].min()
    assert per.loc["g: c - b", "ci_lower"] <= 0 <= per.loc["g: c - b", "ci_upper"]


def test_separating_level_is_left_out_and_said():
    rng = np.random.default_rng(12)
    n = 600
    d = pd.DataFrame({"x": rng.normal(size=n), "cat": rng.choice(["u", "v", "w"], n, p=[0.48, 0.48, 0.04]),
                      "id": np.arange(n)})
    d["t"] = ((rng.random(n) < 0.4) & (d["cat"] != "w")).astype(int)  # no treated row in level w
    d["y"] = 0.3 * d["t"] + d["x"] + rng.normal(size=n)
    for fn in (stats.fit_ipw, stats.fit_aipw):
        f, res = fn(d, "y", "t", ["x", "cat"], cluster="id")
        assert res.dropped == ["cat=w"] and "cat=w" in f.loc[0, "note"]
        assert f.loc[0, "ci_lower"] <= 0.3 <= f.loc[0, "ci_upper"]
    assert "cat=w" in stats.overlap_table(d, "t", ["x", "cat"]).loc["all", "note"]


def test_robustness_placebo_trimming_and_rescoring(synthetic):
    scored, truth = synthetic
    _, pca_scored = stats.pca_rescore(scored)
    r = stats.robustness(scored, ["score_composite"], trim=0.1, rescored={"pca": pca_scored})
    assert r["check"].tolist() == ["placebo_timing", "trimmed_propensity", "trimmed_propensity", "scheme=pca"]
    plc = r.iloc[0]
    assert np.isnan(plc["estimate"]) and plc["note"].startswith("not identified")
    assert plc["n_respondents_treated"] == truth["n_mentored"]  # every mentored respondent has a baseline survey
    pca = r.iloc[3]
    assert pca["ci_lower"] <= truth["mentoring_effect"]["composite"] <= pca["ci_upper"]
    assert r.iloc[1]["note"].startswith("propensity in [0.1, 0.9]")


def test_planted_effects_only_from_a_truth_file(tmp_path):
    assert stats.planted_effects(tmp_path) is None
    (tmp_path / "truth.json").write_text('{"mentoring_effect": {"composite": 0.04, "economic": 0.05}}')
    assert stats.planted_effects(tmp_path / "any.csv") == {"score_composite": 0.04, "score_economic": 0.05}
    (tmp_path / "truth.json").write_text("{}")
    assert stats.planted_effects(tmp_path) is None


def test_implied_weights_recover_the_scheme_and_pca_rescore(synthetic):
    from helpers.describe import attach_scheme

    scored, _ = synthetic
    scheme = load_scheme()
    scored = attach_scheme(scored, scheme)
    iw = stats.implied_weights(scored)
    sw = stats.scheme_weights(scheme)
    assert_allclose(iw["weight"], sw["weight"], atol=1e-10)
    assert_allclose(iw["dimension_weight"], sw["dimension_weight"], atol=1e-10)
    assert iw.attrs["exact"] and iw.attrs["max_abs_residual"] < 1e-9
    pw, again = stats.pca_rescore(scored)
    by_hand = stats.rescore(scored, stats.pca_weights(scored, stats.dimension_indicators(scored)),
                            dimension_weights=dict(zip(sw["dimension"], sw["dimension_weight"], strict=False)))
    assert_allclose(again["score_composite"], by_hand["score_composite"], equal_nan=True)
    assert set(pw["dimension"]) == set(scheme.dimensions)


def test_rank_table_side_by_side():
    a = pd.DataFrame({"country": list("AABBCCD"), "respondent_id": range(7), "score_x": [1, 2, 3, 4, 5, 6, 9.0]})
    b = a.assign(score_x=[2, 2, 1, 1, 9, 9, 0.0])
    r = stats.rank_table(a, b, columns=["score_x"], min_n=2).set_index("country")
    assert r.loc["D", "n_respondents"] == 1 and pd.isna(r.loc["D", "rank_scheme"])  # under min_n: not ranked
    assert r.loc["A", ["rank_scheme", "rank_pca", "rank_change"]].tolist() == [3, 2, 1]
    assert_allclose(r.loc["C", "difference"], 9 - 5.5)
    fig = stats.plot_rank_shift(r.reset_index(), score="x")
    assert len(fig.axes) == 1


def test_numbers_and_headlines_come_from_the_tables(effects, synthetic, fieldwork):
    scored, truth = synthetic
    planted_map = {f"score_{k}": v for k, v in truth["mentoring_effect"].items()}
    base = stats.baseline(scored)
    bal = stats.balance_table(base, "mentored", ["age", "score_composite"], cluster="respondent_id",
                              entity="respondent_id")
    num = stats.mentoring_numbers(effects, planted=planted_map, balance=bal, min_n=10)
    did = row(effects, "score_composite", "did_panel")
    assert num["did_composite"] == did["estimate"] and num["planted_composite"] == 0.04
    assert num["did_covers_planted_composite"] is True and num["countries"] == truth["fieldwork_countries"]
    assert f"{did['estimate']:.3f}" in num["headlines"][0] and "0.040, inside the interval" in num["headlines"][0]
    raw = row(effects, "score_composite", "raw_difference")["estimate"]
    assert f"({raw:.3f}) is {raw / did['estimate']:.1f} times" in num["headlines"][1]
    assert num["summary_keys"][0] == "did_composite"
    # too few respondents on one side: the number is withheld
    small = effects.assign(n_respondents_treated=5)
    assert stats.mentoring_numbers(small, min_n=10)["did_composite"] is None
    # merge keeps both headline lists
    merged = stats.merge_numbers({"a": 1, "headlines": ["x"]}, num)
    assert merged["headlines"][0] == "x" and len(merged["headlines"]) == len(num["headlines"]) + 1


def test_interdependence_numbers_cross_lags_and_headline():
    def lag(y, x, est, lo):
        return stats.tidy(est, 0.01, outcome=f"score_{y}", estimator="cross_lagged", n_obs=100, n_clusters=80,
                          cov_type="c").assign(term=f"score_{x}_lag", cross_lag=True, ci_lower=lo)

    on = [stats.tidy(v, 0.01, outcome=f"score_{d}", estimator="ols_on_economic", n_obs=100, n_clusters=80,
                     cov_type="c").assign(term="score_economic") for d, v in (("social", 0.3), ("psychosocial", 0.2))]
    lags = stats.combine([*on, lag("social", "economic", 0.2, 0.1), lag("economic", "social", 0.05, -0.01),
                          lag("psychosocial", "economic", 0.15, 0.05), lag("economic", "psychosocial", 0.02, -0.02)])
    n = stats.interdependence_numbers(lags, min_n=10)
    assert n["cross_lag_economic_to_social"] == 0.2 and n["cross_lag_social_to_economic"] == 0.05
    assert n["cross_lag_economic_to_social_ci_low"] == 0.1
    assert "0.030 higher social" in n["headlines"][0] and "0.020 higher psychosocial" in n["headlines"][0]
    # the verdict on the lead is lead_numbers' alone (tests/test_lead.py): the pooled levels say nothing of it
    assert "economic_foundational" not in n and "foundational" not in n["headlines"][0]
    assert stats.interdependence_numbers(lags, min_n=100)["on_economic_social"] is None  # 80 respondents < 100


def test_weight_numbers_and_plots(effects):
    rc = pd.DataFrame({"score": ["score_composite"], "spearman": [0.95], "p_value": [0.0], "n_groups": [17],
                       "max_rank_change": [2]})
    eff = pd.concat([effects.assign(scheme="scheme"), effects.assign(scheme="pca")], ignore_index=True)
    n = stats.weight_numbers(rc, eff, min_n=10)
    assert n["spearman_composite"] == 0.95 and n["did_composite_change"] == 0
    assert "change little" in n["headlines"][0] and "largest move 2 places" in n["headlines"][0]
    fig = stats.plot_coefficients(eff, label=["estimator", "scheme"], min_n=10)
    assert len(fig.axes[0].get_yticklabels()) == 2 * len(stats.ESTIMATORS)
    fig = stats.plot_coefficients(effects.assign(n_respondents_control=3), min_n=10)
    assert "left out" in fig.get_suptitle()
    w = pd.DataFrame({"dimension": ["x", "x"], "indicator": ["ind_A", "ind_B"], "scheme_weight": [0.5, 0.5],
                      "pca_weight": [0.6, 0.4]})
    assert len(stats.plot_weights(w).axes) == 1
