"""The faster code paths give exactly what the plain ones gave.

Each test computes the result the straightforward way (plain patsy/statsmodels on
object columns, linearmodels on string entity labels, one group at a time) and
requires the helpers' faster path to give the same numbers, bit for bit (the clustered covariance:
to rounding, as its matrix product sums in another order).
"""

from __future__ import annotations

import copy
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers import describe, design, stats
from helpers.stats import panel as stats_panel
from helpers.stats import prep as stats_prep
from helpers.stats import publish as stats_publish


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _data(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    country = rng.choice(["SEN", "GIN", "NGA", "AFG"], n)
    d = pd.DataFrame({
        "y": rng.normal(size=n),
        "x": rng.normal(size=n),
        "country": pd.Categorical(country, categories=["NGA", "SEN", "ZZZ", "AFG", "GIN"]),  # unsorted, unused
        "sex": pd.array(rng.choice(["F", "M"], n), dtype="str"),
        "wave": rng.integers(1, 4, n),
        "rid": pd.array([f"R{i % 150:04d}" for i in range(n)], dtype="str"),
    })
    d.loc[rng.random(n) < 0.05, "sex"] = None
    d.loc[rng.random(n) < 0.05, "y"] = np.nan
    d.loc[d.index[:3], "country"] = "AFG"
    d.loc[d.index[:3], "y"] = np.nan  # rows of one level dropped for a missing outcome ...
    return d


def _plain_fit(d: pd.DataFrame, formula: str, cluster: str):
    """fit_ols the straightforward way: object columns, statsmodels' own formula handling, twice."""
    import statsmodels.formula.api as smf

    cols = design.formula_columns(formula, d) + [cluster]
    data = stats_prep.clean_frame(d, list(dict.fromkeys(cols))).reset_index(drop=True).dropna(subset=[cluster])
    rows = smf.ols(formula, data=data).data.row_labels
    data = data.loc[rows]
    groups = pd.factorize(data[cluster].astype(str))[0]
    return smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


@pytest.mark.parametrize("formula", [
    "y ~ x + C(country) + C(sex) + C(wave)",
    "y ~ x + C(Q('country')) + wave",
    "y ~ x * C(sex) + C(country)",
    "y ~ wave + C(wave) + C(country)",  # wave used both ways: left as it is
])
def test_fit_ols_categorical_fast_path_is_exact(formula):
    d = _data()
    d.loc[d["country"] == "GIN", "y"] = np.where(d.loc[d["country"] == "GIN", "x"] > 0, np.nan, 1.0)
    t, res = stats.fit_ols(d, formula, cluster="rid")
    ref = _plain_fit(d, formula, "rid")
    assert list(res.params.index) == list(ref.params.index)
    assert np.array_equal(res.params.to_numpy(), ref.params.to_numpy())
    assert np.array_equal(res.bse.to_numpy(), ref.bse.to_numpy())
    assert int(res.nobs) == int(ref.nobs)


def test_booleans_and_mixed_values_are_left_to_patsy():
    d = _data()
    rng = np.random.default_rng(1)
    d["flag"] = pd.Series(rng.random(len(d)) < 0.5, dtype=object).where(rng.random(len(d)) > 0.05, None)
    d["mixed"] = pd.Series(["a" if r < 0.5 else 1 for r in rng.random(len(d))], index=d.index, dtype=object)
    for formula in ("y ~ x + C(flag)", "y ~ x + C(mixed)"):
        _, res = stats.fit_ols(d, formula, cluster="rid")
        ref = _plain_fit(d, formula, "rid")
        assert list(res.params.index) == list(ref.params.index)
        assert np.array_equal(res.params.to_numpy(), ref.params.to_numpy())
        assert np.array_equal(res.bse.to_numpy(), ref.bse.to_numpy())


def test_a_level_only_in_dropped_rows_gets_no_column():
    d = _data()
    d.loc[d["country"] == "NGA", "y"] = np.nan
    _, res = stats.fit_ols(d, "y ~ x + C(country)", cluster="rid")
    assert not any("NGA" in name for name in res.params.index)
    assert not any("ZZZ" in name for name in res.params.index)


def test_c_only_columns():
    d = _data()
    assert design.c_only_columns("y ~ x + C(country) + C(Q('sex'))", d) == ["country", "sex"]
    assert design.c_only_columns("y ~ wave + C(wave) + C(country, Treatment('SEN'))", d) == ["country"]
    assert design.c_only_columns("y ~ np.log(x) + C(nonexistent)", d) == []


def test_patsy_c_passes_other_arguments_to_patsy():
    from patsy.builtins import C

    s = pd.Series(pd.Categorical(["a", "b"]))
    assert design.patsy_c(s) is s
    boxed = design.patsy_c(s, "Sum")
    assert type(boxed) is type(C(s, "Sum")) and boxed.contrast == "Sum"


def test_did_with_integer_entity_codes_is_exact():
    from linearmodels import PanelOLS

    rng = np.random.default_rng(3)
    n = 300
    ids = np.repeat([f"id{i:03d}" for i in rng.permutation(n)], 3)
    wave = np.tile([1, 2, 3], n)
    treated = np.repeat(rng.random(n) < 0.4, 3) & (wave >= 2)
    y = np.repeat(rng.normal(size=n), 3) + 0.3 * treated + 0.1 * wave + rng.normal(0, 0.5, 3 * n)
    d = pd.DataFrame({"id": pd.array(ids, dtype="str"), "wave": wave, "D": treated.astype(int), "y": y})
    d = d.sample(frac=1.0, random_state=1).iloc[5:]  # unordered, unbalanced
    f, res = stats.fit_did(d, "y", entity="id", time="wave", treated="D")
    ref_data = d.assign(wave=d["wave"].astype(float), D=d["D"].astype(float)).set_index(["id", "wave"])
    ref = PanelOLS(ref_data["y"], ref_data[["D"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True, auto_df=False,
        count_effects=False)
    assert res.params["__treated"] == ref.params["D"]
    assert res.std_errors["__treated"] == ref.std_errors["D"]
    assert f.loc[0, "n_clusters"] == ref.entity_info["total"]


def test_the_lean_panel_ols_of_the_did_estimates_exactly_as_panel_ols(monkeypatch):
    """The DiD's PanelOLS skips only the R² variants nobody reads: every number the helpers use is the same."""
    from linearmodels import PanelOLS

    rng = np.random.default_rng(8)
    n = 500
    d = pd.DataFrame({"id": np.repeat(np.arange(n), 3), "wave": np.tile([1, 2, 3], n),
                      "g": np.repeat(rng.choice(["a", "b", "c"], n), 3)})
    d["D"] = (np.repeat(rng.random(n) < 0.4, 3) & (d["wave"] >= 2)).astype(int)
    d["y"] = np.repeat(rng.normal(size=n), 3) + 0.3 * d["D"] + rng.normal(0, 0.4, 3 * n)
    d = d.iloc[7:]  # unbalanced
    lean_did, lean = stats.fit_did(d, "y", entity="id", time="wave", treated="D")
    lean_groups = stats.did_by_group(d, "y", "g", entity="id", time="wave", treated="D")
    monkeypatch.setattr(stats_panel, "_lean_panel_ols", lambda: PanelOLS)
    plain_did, plain = stats.fit_did(d, "y", entity="id", time="wave", treated="D")
    pd.testing.assert_frame_equal(lean_did, plain_did)
    pd.testing.assert_frame_equal(lean_groups, stats.did_by_group(d, "y", "g", entity="id", time="wave", treated="D"))
    assert type(lean).__name__ == "PanelEffectsResults" and lean.model.__class__ is not PanelOLS
    pd.testing.assert_series_equal(lean.params, plain.params)
    pd.testing.assert_frame_equal(lean.cov, plain.cov)
    assert lean.nobs == plain.nobs and lean.rsquared == plain.rsquared
    assert np.isnan(lean.rsquared_between) and not np.isnan(plain.rsquared_between)  # the one thing left out


@pytest.mark.parametrize("n, groups, k", [(9000, 4000, 3), (500, 2, 1), (60, 60, 4), (1000, 7, 2)])
def test_cov_cluster_is_linearmodels_own_to_rounding(n, groups, k):
    from linearmodels.shared.covariance import cov_cluster as loop  # the library's (never replaced)

    rng = np.random.default_rng(n)
    z = rng.normal(size=(n, k))
    clusters = rng.integers(0, groups, n)
    fast = stats.cov_cluster(z, clusters)
    assert fast.shape == (k, k)
    np.testing.assert_allclose(fast, loop(z, clusters), rtol=1e-12, atol=1e-15)
    for bad, message in [(np.zeros(n, dtype=int), "one group"), (np.r_[np.nan, clusters[1:]], "missing")]:
        with pytest.raises(ValueError, match=message):
            stats.cov_cluster(z, bad)
        with pytest.raises(ValueError, match=message):
            loop(z, bad)


def test_fits_use_the_fast_cov_cluster_and_agree_with_the_loop(monkeypatch):
    import linearmodels.panel.covariance as panel_cov
    from linearmodels.shared.covariance import cov_cluster as loop

    rng = np.random.default_rng(5)
    n = 400
    d = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "wave": np.tile([1, 2], n)})
    d["D"] = (np.repeat(rng.random(n) < 0.5, 2) & (d["wave"] == 2)).astype(int)
    d["y"] = np.repeat(rng.normal(size=n), 2) + 0.4 * d["D"] + rng.normal(0, 0.3, 2 * n)
    fast, _ = stats.fit_did(d, "y", entity="id", time="wave", treated="D")
    assert panel_cov.cov_cluster is stats.cov_cluster  # installed by the fit
    monkeypatch.setattr(stats_panel, "use_fast_cov_cluster", lambda: None)
    monkeypatch.setattr(panel_cov, "cov_cluster", loop)
    slow, _ = stats.fit_did(d, "y", entity="id", time="wave", treated="D")
    assert fast.loc[0, "estimate"] == slow.loc[0, "estimate"]
    assert fast.loc[0, "std_error"] == pytest.approx(slow.loc[0, "std_error"], rel=1e-12)


def test_panel_frame_names_duplicates_by_label():
    d = pd.DataFrame({"id": ["a", "a", "b"], "wave": [1, 1, 1], "y": [1.0, 2.0, 3.0], "D": [0, 1, 0]})
    with pytest.raises(ValueError, match=r"\['a', 1"):
        stats.fit_did(d, "y", entity="id", time="wave", treated="D")


# ----------------------------------------------------------------- scheme attrs


def test_scheme_attrs_are_shared_not_copied(scheme):
    df = describe.attach_scheme(pd.DataFrame({"a": [1, 2, 3]}), scheme)
    info = df.attrs[describe.ATTRS_KEY]
    assert isinstance(info, dict) and copy.deepcopy(info) is info
    assert df[df["a"] > 1].attrs[describe.ATTRS_KEY] is info
    plain = json.loads(json.dumps(info))
    assert info == plain and pickle.loads(pickle.dumps(info)) == plain
    with pytest.raises(TypeError, match="read-only"):
        info["id"] = "other"
    with pytest.raises(TypeError, match="read-only"):
        info["dimensions"].append("other")
    with pytest.raises(TypeError, match="read-only"):
        info["indicators"]["E1"]["label"] = "x"
    copied = copy.deepcopy(plain)
    copied["id"] = "other"  # a plain copy is free to change
    assert info["id"] == scheme.id


def test_read_scored_freezes_the_scheme(scheme, tmp_path):
    df = describe.attach_scheme(pd.DataFrame({"a": [1, 2]}), scheme)
    df.to_parquet(tmp_path / "scored.parquet")
    back = describe.read_scored(tmp_path)
    assert back.attrs[describe.ATTRS_KEY] == df.attrs[describe.ATTRS_KEY]
    assert copy.deepcopy(back.attrs[describe.ATTRS_KEY]) is back.attrs[describe.ATTRS_KEY]


# ------------------------------------------------------ tables by group at once


def _grouped(scheme) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 240
    codes = {q: rng.choice([1, 2, 97, 98, 99], n).astype(float) for q in scheme.question_ids}
    df = pd.DataFrame({"respondent_id": [f"r{i % 90}" for i in range(n)],
                       "country": pd.Categorical(rng.choice(["B", "A", "C"], n), categories=["C", "B", "A", "D"]),
                       **codes})
    for q in list(codes)[:5]:
        df.loc[rng.random(n) < 0.1, q] = np.nan
    df[list(codes)] = df[list(codes)].astype("Int8")
    for c in ("economic", "social", "psychosocial", "composite"):
        df[f"score_{c}"] = rng.random(n)
    df.loc[rng.random(n) < 0.2, "score_social"] = np.nan
    df.loc[df["score_social"].isna(), "score_composite"] = np.nan
    df.loc[df["country"] == "C", ["score_economic", "score_composite"]] = np.nan  # C: nothing scored
    return describe.attach_scheme(df, scheme)


def _by_country_equals_each_country_alone(fn, df: pd.DataFrame) -> pd.DataFrame:
    """``fn(df, by="country")`` equals ``fn`` of each country's rows, stacked; return the former."""
    got = fn(df, by="country")
    parts = [fn(sub).assign(country=key) for key, sub in df.groupby("country", sort=True)]
    want = pd.concat(parts, ignore_index=True)[got.columns]
    want["country"] = want["country"].astype(got["country"].dtype)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    return got


def test_missingness_by_group_is_each_group_alone(scheme):
    _by_country_equals_each_country_alone(describe.missingness, _grouped(scheme))


def test_exclusions_by_group_is_each_group_alone(scheme):
    got = _by_country_equals_each_country_alone(describe.exclusions, _grouped(scheme))
    c = got[got["country"] == "C"]
    assert c.iloc[0][["status", "n_surveys"]].tolist() == ["scored", 0]  # a group with nothing scored says so


def test_term_mask_cache_gives_the_same_masks():
    d = _data()
    cache: dict = {}
    for term in ["C(country)[T.GIN]", "C(country)[T.SEN]", "C(sex)[T.M]", "x"]:
        a, b = stats_publish._term_mask(d, term), stats_publish._term_mask(d, term, cache)
        assert (a is None) == (b is None)
        if a is not None:
            assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
