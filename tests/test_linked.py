"""The differencing audit (``rss check``, :mod:`helpers.checks.linked`): disclosure across linked tables.

Each case builds the published tables with the real helpers (``helpers.describe`` and
``helpers.outputs``) from a generated dataset whose small cells are linked through
several tables, then runs the audit twice: on the tables as the workspace published
them before the fix (reproduced here: the old rule in a few lines), which it must
fail naming the tables that reveal the hidden cell, and on the tables as it publishes
them now, which it must pass.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_checks import _no_env  # noqa: F401 (fixture: no threshold from the environment)
from test_describe import scored_frame

from helpers import checks, describe, disclosure, outputs
from helpers.checks.cells import register
from helpers.checks.linked import audit

THR = 10


@pytest.fixture
def project(tables_project):
    return tables_project


def _hits(root):
    _bounds, hits, _counts = audit(register(root), THR)
    return hits


def _fake_load(scheme):
    return SimpleNamespace(scheme=scheme, files=[], unused_columns={}, ignored_files=[])


def _country_tables(df, iso):
    sub = describe.country_data(df, iso)
    outputs.write_table(describe.sample_description(sub), f"country_{iso}_sample")
    outputs.write_table(describe.score_summary(sub), f"country_{iso}_scores")
    outputs.write_table(describe.by_wave(sub), f"country_{iso}_waves")
    outputs.write_table(describe.band_shares(sub), f"country_{iso}_bands")
    return describe.country_numbers(sub, country=iso, min_n=THR)


def _old_exclusions(df, by="country"):
    """The exclusions table as it was published before: disjoint reasons, suppressed, secondary by country."""
    dims = ["economic", "social", "psychosocial"]
    text = df.apply(lambda r: "; ".join(f"no {d} score" for d in dims if pd.isna(r[f"score_{d}"])), axis=1)
    scored = df["score_composite"].notna()
    work = df.assign(status=np.where(scored, "scored", "excluded"),
                     reason=np.where(scored, "composite scored", text))
    t = (work.groupby([by, "status", "reason"]).agg(n_surveys=("respondent_id", "size"),
                                                   n_respondents=("respondent_id", "nunique")).reset_index()
         .sort_values([by, "status"], ascending=[True, False]))
    t.attrs = {"keys": [by, "status", "reason"], "count_cols": ["n_respondents"], "groups": [by]}
    return t


# ---------------------------------------------------------------------------- the Niger case of the issue


def _niger(scheme):
    df = scored_frame(scheme, {"NER": 60, "SEN": 40}, waves=2)
    first = df.index[df["country"] == "NER"][0]
    df.loc[first, ["score_social", "score_composite", "band_social", "band_composite"]] = np.nan
    return df


def test_niger_suppressed_exclusion_recovered_by_subtraction_fails_the_audit(project, scheme):
    """Before: NER's one survey without a social score is hidden (<10) and its scored count too (x), yet the
    profile's 120 surveys minus its 119 social scores give 1."""
    df = _niger(scheme)
    outputs.write_table(describe.surveys_by_country(df), "prepare_surveys_by_country")
    outputs.write_table(_old_exclusions(df), "prepare_exclusions_by_country")
    for iso in ("NER", "SEN"):
        _country_tables(df, iso)
    old = pd.read_csv(project / "reports" / "tables" / "prepare_exclusions_by_country.csv", dtype=str)
    assert old.loc[old["country"] == "NER", "n_respondents"].tolist() == ["x", "<10"]  # what the issue saw
    hits = [h for h in _hits(project) if "prepare_exclusions_by_country" in h.path]
    assert hits, "the audit must find the recovered exclusion"
    text = str(hits[0])
    assert "country=NER" in text and "between 1 and 1" in text
    assert "country_NER_scores.csv" in text or "country_NER_waves.csv" in text  # the table that reveals it


def test_niger_exclusions_are_published_as_differences_of_totals_and_pass(project, scheme):
    df = _niger(scheme)
    outputs.write_table(describe.surveys_by_country(df), "prepare_surveys_by_country")
    outputs.publish(describe.exclusions(df), "prepare_exclusions")
    outputs.write_table(describe.exclusions(df, by="country"), "prepare_exclusions_by_country")
    outputs.write_table(describe.country_means(df), "cross_means")
    for iso in ("NER", "SEN"):
        _country_tables(df, iso)
    n = describe.prepare_numbers(_fake_load(scheme), df, source=project, synthetic=True)
    outputs.record_numbers("prepare", n)
    assert _hits(project) == []
    t = pd.read_csv(project / "reports" / "tables" / "prepare_exclusions_by_country.csv")
    ner = t[t["country"] == "NER"].set_index("reason")
    assert ner.loc["no social score", "n_surveys"] == 1 and ner.loc["composite scored", "n_surveys"] == 119
    assert not t["suppressed"].any()
    pooled = pd.read_csv(project / "reports" / "tables" / "prepare_exclusions.csv").set_index("reason")
    # the scored total is never blanked: the summary prints the same number
    assert pooled.loc["composite scored", "n_surveys"] == n["n_with_composite"] == len(df) - 1
    hits, summary = checks.check_linked(project, threshold=THR)
    assert hits == [] and "differencing audit" in summary


# ------------------------------------------------- small cells linked through three tables: waves pooled


def _small_wave(scheme):
    df = scored_frame(scheme, {"AAA": 40, "BBB": 60}, waves=3)
    i = df["respondent_id"].str[3:].astype(int)
    keep = ~((df["country"] == "AAA") & (((df["wave"] == 2) & (i >= 20)) | ((df["wave"] == 3) & (i >= 6))))
    return df[keep].reset_index(drop=True)


def _wave_tables(df, scheme):
    outputs.write_table(describe.surveys_by_country_wave(df), "prepare_surveys_by_country_wave")
    for iso in ("AAA", "BBB"):
        _country_tables(df, iso)


def test_a_hidden_wave_recovered_through_three_tables_fails_the_audit(project, scheme):
    """AAA's 6 wave-3 surveys are hidden in its sample and in the country x wave table, but the pooled wave
    total (numbers/prepare.json) minus BBB's (its sample, the country x wave table) gives them."""
    df = _small_wave(scheme)
    _wave_tables(df, scheme)
    pooled = {str(w): int(k) for w, k in df["wave"].value_counts().sort_index().items()}  # the old, unprotected
    outputs.record_numbers("prepare", {"surveys_by_wave": pooled})
    hits = [str(h) for h in _hits(project)]
    wave3 = [h for h in hits if "country=AAA" in h and "wave=3" in h]
    assert wave3 and all("between 6 and 6" in h for h in wave3)
    assert any("prepare_surveys_by_country_wave.csv" in h for h in wave3)
    revealed = " ".join(wave3)
    assert "numbers/prepare.json" in revealed and "BBB" in revealed


def test_the_pooled_wave_total_is_withheld_and_the_audit_passes(project, scheme):
    df = _small_wave(scheme)
    _wave_tables(df, scheme)
    n = describe.prepare_numbers(_fake_load(scheme), df, source=project, synthetic=True)
    assert n["surveys_by_wave"] == {"1": 100, "2": None, "3": None}
    outputs.record_numbers("prepare", n)
    assert _hits(project) == []


# --------------------------------------------------- a share in numbers.json that recovers hidden sex counts


def _sexes(scheme):
    df = scored_frame(scheme, {"CCC": 30})
    sex = ["F"] * 8 + ["M"] * 21 + [None]
    df["sex"] = pd.Categorical(sex, categories=["F", "M"])
    return df


def test_share_female_with_hidden_sex_counts_fails_the_audit(project, scheme):
    df = _sexes(scheme)
    n = _country_tables(df, "CCC")
    n["share_female"] = 8 / 29  # the old rule: shown whenever 10+ respondents have a known sex
    outputs.record_numbers("country_CCC", n)
    hits = [str(h) for h in _hits(project)]
    assert any("country_CCC_sample.csv" in h and "sex=F" in h and "numbers/country_CCC.json" in h for h in hits)


def test_share_female_is_withheld_when_a_sex_count_is_hidden_and_the_audit_passes(project, scheme):
    df = _sexes(scheme)
    n = _country_tables(df, "CCC")
    assert n["share_female"] is None
    outputs.record_numbers("country_CCC", n)
    sample = pd.read_csv(project / "reports" / "tables" / "country_CCC_sample.csv", dtype=str)
    sex = sample[sample["variable"] == "sex"].set_index("level")["n_respondents"]
    # 8 and 1 hide each other but hold 9 between them, under 10: M is hidden too, else 30 - 21 = 9 "not male"
    assert sex.to_dict() == {"F": "<10", "M": "x", "unknown": "<10"}
    assert _hits(project) == []


# ------------------------------------------------------------------------------- the audit itself


def test_complementary_suppression_holds_the_threshold():
    hidden = disclosure.complementary([4, 3, 50, 60], [True, True, False, False], ["a"] * 4, 10)
    assert hidden.tolist() == [False, False, True, False]


def test_contradicting_published_counts_are_a_finding(project):
    t = pd.DataFrame({"country": ["AAA", "BBB"], "fieldwork": [False, False], "n_surveys": [30, 40],
                      "n_respondents": [25, 40]})
    outputs.write_table(t, "prepare_surveys_by_country", keys=["country", "fieldwork"], groups=[])
    outputs.record_numbers("prepare", {"n_surveys": 60})  # 30 + 40 is not 60: the register is wrong somewhere
    hits = [str(h) for h in _hits(project)]
    assert any("contradict one another" in h for h in hits)


def test_a_cell_hidden_in_one_table_and_shown_in_another_is_found(project):
    t = pd.DataFrame({"country": ["AAA", "AAA", "AAA"], "wave": [1, 2, 3], "n_surveys": [40, 12, 4],
                      "n_respondents": [40, 12, 4]})
    outputs.write_table(t, "prepare_surveys_by_country_wave", keys=["country", "wave"], groups=["country"])
    out = json.loads(json.dumps({"country": "AAA", "n_surveys": 56}))
    outputs.record_numbers("country_AAA", out)
    pd.DataFrame({"variable": ["surveys", "wave", "wave", "wave"], "level": ["all", "1", "2", "3"],
                  "n_surveys": [56, 40, 12, 4], "n_respondents": [40, 40, 12, 4], "share": [1, .7, .2, .1],
                  "suppressed": [False] * 4}).to_csv(project / "reports" / "tables" / "country_AAA_sample.csv",
                                                     index=False)
    hits = [str(h) for h in _hits(project)]
    assert any("prepare_surveys_by_country_wave.csv" in h and "wave=3" in h and "between 4 and 4" in h
               and "country_AAA_sample.csv" in h for h in hits)
