"""Whether the economic dimension leads: the planted lead in the synthetic data, the within-person
estimator (helpers.stats.lead) and its verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import stats
from helpers.scheme import load_scheme
from helpers.scoring import score
from helpers.synthetic import ECONOMIC_LEAD, simulate

OTHERS = ("score_social", "score_psychosocial")


def _fit(lead: float | None, seed: int, scale: float = 1.0) -> tuple[pd.DataFrame, dict]:
    df, truth = simulate(seed=seed, scale=scale, economic_lead=lead)
    scored = score(df, load_scheme())
    return stats.combine([stats.fit_lead(scored, "score_economic", y) for y in OTHERS]), truth


def _cross(t: pd.DataFrame, x: str, y: str) -> pd.Series:
    r = t[t["cross_lag"].astype(bool) & (t["term"] == f"{x}_lag") & (t["outcome"] == y)]
    assert len(r) == 1
    return r.iloc[0]


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, dict]:
    return _fit(None, seed=11)


def test_truth_records_the_planted_lead(planted):
    _, truth = planted
    assert ECONOMIC_LEAD == pytest.approx(0.10)
    assert truth["economic_lead"]["leads"] == {"social": ECONOMIC_LEAD, "psychosocial": ECONOMIC_LEAD}
    assert truth["economic_lead"]["reverse"] == {"social": 0.0, "psychosocial": 0.0}
    assert truth["latent_model"]["dimensions"]["social"]["economic_lead"] == ECONOMIC_LEAD
    assert truth["latent_model"]["dimensions"]["economic"]["economic_lead"] == 0.0


def test_planted_lead_is_found_and_covered(planted):
    t, truth = planted
    for y in OTHERS:
        fwd, rev = _cross(t, "score_economic", y), _cross(t, y, "score_economic")
        assert fwd["ci_lower"] <= truth["economic_lead"]["leads"][y.removeprefix("score_")] <= fwd["ci_upper"], y
        # nothing is planted in reverse: the reverse lag is not found positive (its coverage of 0, like the
        # forward lags' coverage of the planted size, is the Monte-Carlo's question: make validate)
        assert rev["ci_lower"] <= 0.0, y
        assert fwd["ci_lower"] > 0, y
        assert stats.verdict(t, "score_economic", y) == "leads"
        assert fwd["n_respondents"] > 2000 and fwd["estimator"] == "first_difference_iv"
    assert stats.overall_verdict({y: stats.verdict(t, "score_economic", y) for y in OTHERS}) == "leads"


def test_no_planted_lead_is_not_called_leads():
    t, truth = _fit(0.0, seed=11)
    assert truth["economic_lead"]["leads"] == {"social": 0.0, "psychosocial": 0.0}
    verdicts = {y: stats.verdict(t, "score_economic", y) for y in OTHERS}
    assert "leads" not in verdicts.values()
    assert stats.overall_verdict(verdicts) != "leads"
    for y in OTHERS:
        fwd = _cross(t, "score_economic", y)
        assert fwd["ci_lower"] <= 0.0 <= fwd["ci_upper"], y


def _panel(n: int, x_to_y: float, y_to_x: float, seed: int = 3) -> pd.DataFrame:
    """Three waves, correlated stable levels and noise in both scores, cross-lags as given."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, n)
    b = 0.8 * a + rng.normal(0, 0.6, n)
    x, y = np.zeros((n, 3)), np.zeros((n, 3))
    for t in range(3):
        x[:, t] = a + rng.normal(0, 1, n) + (y_to_x * y[:, t - 1] if t else 0)
        y[:, t] = b + rng.normal(0, 1, n) + (x_to_y * x[:, t - 1] if t else 0)
    return pd.DataFrame({"respondent_id": np.repeat(np.arange(n), 3), "wave": np.tile([1, 2, 3], n),
                         "score_economic": x.ravel(), "score_social": y.ravel()})


def test_reverse_lead_is_not_called_leads():
    t = stats.fit_lead(_panel(6000, 0.0, 0.3), "score_economic", "score_social")
    assert stats.verdict(t, "score_economic", "score_social") != "leads"
    assert stats.verdict(t, "score_social", "score_economic") == "leads"
    rev = _cross(t, "score_social", "score_economic")
    assert rev["ci_lower"] <= 0.3 <= rev["ci_upper"]


def test_levels_model_sees_leads_both_ways_where_within_person_sees_none():
    """Why the model separates stable levels: pooled OLS in levels finds 'leads' in both directions on
    data with none; the first-difference IV does not."""
    d = _panel(6000, 0.0, 0.0)
    levels = stats.cross_lagged(d, "score_economic", "score_social", fe=None)
    lag = levels[levels["cross_lag"]].set_index("direction")
    assert (lag["ci_lower"] > 0).all()
    t = stats.fit_lead(d, "score_economic", "score_social")
    for x, y in (("score_economic", "score_social"), ("score_social", "score_economic")):
        r = _cross(t, x, y)
        assert r["ci_lower"] <= 0.0 <= r["ci_upper"]


@pytest.mark.parametrize(("lo", "hi", "rev_lo", "expected"), [
    (0.02, 0.20, -0.05, "leads"),
    (0.02, 0.20, 0.01, "cannot tell at this size"),    # both directions
    (-0.03, 0.04, -0.05, "does not lead"),
    (-0.03, 0.08, -0.05, "cannot tell at this size"),
])
def test_verdict_rule(lo, hi, rev_lo, expected):
    rows = pd.DataFrame({"outcome": ["y", "x"], "term": ["x_lag", "y_lag"], "cross_lag": [True, True],
                         "estimate": [(lo + hi) / 2, rev_lo + 0.05], "ci_lower": [lo, rev_lo],
                         "ci_upper": [hi, rev_lo + 0.1]})
    assert stats.verdict(rows, "x", "y") == expected


def test_too_few_three_wave_respondents_gives_an_empty_table_and_cannot_tell():
    d = _panel(8, 0.3, 0.0)
    t = stats.fit_lead(d, "score_economic", "score_social")
    assert t.empty
    assert stats.verdict(t, "score_economic", "score_social") == "cannot tell at this size"
    n = stats.lead_numbers(t, min_n=10)
    assert n["economic_leads"] == "cannot tell at this size" and n["headlines"] == []


def test_lead_numbers_state_planted_beside_estimates(planted):
    t, truth = planted
    p = {f"score_{d}": v for d, v in truth["economic_lead"]["leads"].items()}
    n = stats.lead_numbers(t, planted=p, min_n=10)
    assert n["economic_leads"] == "leads" and n["economic_foundational"] is True
    assert n["planted_lead_social"] == ECONOMIC_LEAD and n["lead_covers_planted_social"] is True
    head = n["headlines"][0]
    assert f"social {n['lead_economic_to_social']:.3f}" in head and "planted 0.100" in head
    assert "Verdict: the economic dimension leads" in head
    # under the disclosure threshold nothing is shown
    hidden = stats.lead_numbers(t, planted=p, min_n=10**6)
    assert hidden["lead_economic_to_social"] is None and hidden["economic_leads"] == "cannot tell at this size"
