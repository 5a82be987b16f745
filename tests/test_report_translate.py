"""The report in French: every text written from data goes through a template or a finite set of msgids.

The headline writers are run on hand-made inputs that take each branch of their f-strings, and each
headline must find its French template with the same numbers; table values of each writer, keys of
``numbers.json``, family column labels likewise; the extraction sees every kind of lookup; and a
French build of a full synthetic run meets no text outside ``report.pot``.
"""

from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import describe, stats
from helpers.report import translate, values, vocabulary
from helpers.report.catalogue import column


def numbers(text: str, lang: str = "en") -> list[str]:
    """The numbers of a text, as values: ``20,189`` (en) and ``20 189`` (fr) -> 20189, ``0,5`` (fr) -> 0.5."""
    if lang == "en":
        t = re.sub(r"(?<=\d),(?=\d)", "", text)
    else:
        t = re.sub(r"(?<=\d),(?=\d)", ".", re.sub(r"(?<=\d)[\u202f\u00a0](?=\d)", "", text))
    return sorted(str(float(x)) for x in re.findall(r"\d+(?:\.\d+)?", t))


def french(fn, *args):
    with translate.language("fr"):
        out = fn(*args)
        gaps = translate.missing()
    return out, gaps


def assert_headlines(heads: list[str]) -> None:
    assert heads
    for h in heads:
        out, gaps = french(translate.headline, h)
        assert not gaps, (h, gaps)
        assert out != h and numbers(out, "fr") == numbers(h), (h, out)


# ------------------------------------------------------------------ headline writers, branch by branch


def test_interdependence_and_lead_headlines():
    t = pd.DataFrame([{"estimator": "ols_on_economic", "term": "score_economic", "outcome": f"score_{d}",
                       "estimate": 0.34, "ci_lower": 0.33, "ci_upper": 0.35, "p_value": 0.0, "n_respondents": 500}
                      for d in ("social", "psychosocial")])
    heads = stats.interdependence_numbers(t, min_n=10)["headlines"]

    def lead_rows(dims, fwd, rev=(0.02, -0.05, 0.09)):
        return pd.DataFrame([{"cross_lag": True, "term": term, "outcome": out, "estimate": e, "ci_lower": lo,
                              "ci_upper": hi, "n_respondents": 2700}
                             for d in dims for term, out, (e, lo, hi) in
                             (("score_economic_lag", f"score_{d}", fwd), (f"score_{d}_lag", "score_economic", rev))])

    verdicts = set()
    for fwd in ((0.08, 0.02, 0.13), (0.01, -0.02, 0.03), (0.03, -0.01, 0.1)):  # leads, does not lead, cannot tell
        for dims in (("social",), ("social", "psychosocial")):
            for planted in (None, {f"score_{d}": 0.1 for d in dims}):
                out = stats.lead_numbers(lead_rows(dims, fwd), planted=planted, min_n=10)
                verdicts.add(out["economic_leads"])
                heads += out["headlines"]
    assert verdicts == set(stats.lead.VERDICTS)
    assert_headlines(heads)


def _effects(did_counts=500, dims=("composite", "economic", "social", "psychosocial"), p=0.0, adjusted=True,
             countries="GIN, SEN"):
    rows = []
    for d in dims:
        for est, e in (("raw_difference", 0.095), ("ols_fe", 0.091), ("ipw", 0.0905 if adjusted else None),
                       ("aipw", 0.0905), ("did_panel", 0.039)):
            if e is None or (not adjusted and est in ("ols_fe", "ipw", "aipw")):
                continue
            n = did_counts if est == "did_panel" else 500
            rows.append({"outcome": f"score_{d}", "estimator": est, "estimate": e, "ci_lower": e - 0.01,
                         "ci_upper": e + 0.01, "p_value": p, "n_obs": 4000, "n_clusters": 900,
                         "n_respondents_treated": n, "n_respondents_control": 3 * n,
                         "sample": f"all waves, countries with mentoring ({countries})" if countries else ""})
    return pd.DataFrame(rows)


def _balance(diff):
    b = pd.DataFrame([{"variable": "score_composite", "difference": diff, "normalized_difference": 0.4,
                       "n_control": 400, "n_treated": 300}])
    b.attrs["joint_test"] = {"statistic": 22.9, "p_value": 0.0}
    return b


def _robustness(estimate):
    return pd.DataFrame([{"check": "placebo_timing", "outcome": "score_composite", "estimator": "did_panel",
                          "estimate": estimate, "ci_lower": -0.02, "ci_upper": 0.03, "note": "",
                          "n_respondents_treated": 300, "n_respondents_control": 900}])


def test_mentoring_headlines():
    heads = []
    planted = {f"score_{d}": v for d, v in (("composite", 0.04), ("economic", 0.05), ("social", 0.03),
                                            ("psychosocial", 0.04))}
    for pl in (None, planted, {k: 0.5 for k in planted}):  # no planted effect, inside, outside the interval
        for p in (0.0, 0.2, np.nan):  # p < 0.001, p = ..., p n/a
            heads += stats.mentoring_numbers(_effects(p=p), planted=pl, min_n=10)["headlines"]
    for countries in ("GIN, SEN", ""):  # the DiD suppressed: not available for the countries / where it ran
        heads += stats.mentoring_numbers(_effects(did_counts=3, countries=countries), min_n=10)["headlines"]
    for bal in (None, _balance(0.056), _balance(-0.03)):  # baseline higher, lower, none
        for adjusted in (True, False):
            heads += stats.mentoring_numbers(_effects(adjusted=adjusted), balance=bal, min_n=10)["headlines"]
    heads += stats.mentoring_numbers(_effects(dims=("composite", "social")), min_n=10)["headlines"]
    for est in (np.nan, 0.004):  # placebo not identified / estimated
        heads += stats.mentoring_numbers(_effects(), robustness=_robustness(est), min_n=10)["headlines"]
    spans = _effects()
    spans.loc[spans["estimator"] == "aipw", "estimate"] = 0.2  # the adjusted estimates span a range
    heads += stats.mentoring_numbers(spans, min_n=10)["headlines"]
    assert any("not available" in h for h in heads) and any("outside" in h for h in heads)
    assert any("p n/a" in h for h in heads) and any("lower (baseline)" in h for h in heads)
    assert any(" to 0.200" in h for h in heads) and any("Placebo timing" in h for h in heads)
    assert_headlines(list(dict.fromkeys(heads)))


def test_weight_headlines():
    heads = []
    for rho in (0.95, 0.8, 0.5):
        for k in (0, 1, 3):
            ranks = pd.DataFrame([{"score": "score_composite", "spearman": rho, "max_rank_change": k, "n_groups": 17}])
            for with_did in (True, False):
                eff = pd.DataFrame([{"outcome": "score_composite", "estimator": "did_panel", "scheme": s,
                                     "estimate": e, "ci_lower": e - 0.01, "ci_upper": e + 0.01, "n_clusters": 900,
                                     "n_respondents_treated": 300, "n_respondents_control": 900}
                                    for s, e in (("scheme", 0.039), ("pca", 0.041))] if with_did else [],
                                   columns=["outcome", "estimator", "scheme", "estimate", "ci_lower", "ci_upper"])
                heads += stats.weight_numbers(ranks, eff, min_n=10)["headlines"]
    assert_headlines(heads)


def test_prepare_and_cross_country_headlines():
    heads = []
    for official in (True, False):
        for n_missing in (0, 1, 2):
            df = pd.DataFrame({"country": ["GIN"] * 12 + ["SEN"] * 12, "respondent_id": [f"R{i}" for i in range(24)],
                               "wave": 1, "months_since_return": 3.0, "mentored": [1, 0] * 12,
                               "score_composite": [np.nan] * n_missing + [0.5] * (24 - n_missing)})
            result = SimpleNamespace(scheme=SimpleNamespace(id="rss-default", official=official, title="t"),
                                     files=[], unused_columns={}, ignored_files=[])
            heads += describe.prepare_numbers(result, df, source=".", synthetic=n_missing == 0)["headlines"]
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"country": np.repeat(["GIN", "MAR", "SEN"], 40), "respondent_id": [f"R{i}" for i in range(120)],
                       "mentored": np.tile([0, 1], 60), "score_composite": rng.uniform(0.3, 0.7, 120)})
    means = pd.DataFrame({"score": "composite", "country": ["GIN", "MAR", "SEN"], "mean": [0.41, 0.5, 0.57]})
    ranking = pd.DataFrame({"country": ["GIN", "MAR", "SEN"], "n_respondents": 40})
    fieldwork = pd.DataFrame([{"score": "composite", "n_respondents_fieldwork": 80, "n_respondents_other": 40,
                               "mean_fieldwork": 0.516, "mean_other": 0.501, "diff": 0.014, "diff_ci_low": 0.01,
                               "diff_ci_high": 0.019, "diff_p": 0.0}])
    corr = pd.DataFrame(columns=["n_respondents", "dim_a", "dim_b", "scope", "pearson"])
    heads += describe.cross_numbers(df, means=means, ranking=ranking, fieldwork=fieldwork, correlations=corr,
                                    min_n=10)["headlines"]
    assert len(heads) == 6 + 2 + 2  # 3 x 2 sentences of the sample, 2 synthetic-data warnings, 2 cross-country
    assert_headlines(heads)


# ------------------------------------------------------------------ table values, keys, column labels


COV = [stats.contract.CR1_COV.format(c="respondent_id"), stats.contract.HC1_COV, stats.contract.NONROBUST_COV,
       stats.contract.DID_COV.format(c="respondent_id"),
       stats.contract.DID_COV.format(c="respondent_id").replace("absorbed effects not counted", "absorbed effects counted"),
       stats.contract.M_COV.format(c="respondent_id"), stats.contract.M_COV_HC0,
       "heteroskedasticity-robust HC3, t(N-K)", "linearmodels unadjusted", "Fisher z, independent rows", "cluster",
       "cluster-robust (CR1) by respondent_id, t(G-1)"]


@pytest.mark.parametrize(("name", "text"), [
    *[("cov_type", c) for c in COV],
    ("status", "scored"), ("status", "excluded"), ("reason", "composite scored"), ("reason", "no composite score"),
    *[("reason", f"no {d} score") for d in ("economic", "social", "psychosocial")],
    *[("level", v) for v in ("all", "unknown", "yes", "no", "years, first survey", "months, all surveys")],
    ("scope", "pooled"), ("country", "pooled"), ("group", "treated"), ("group", "control"), ("group", "all"),
    ("scheme", "pca"), ("scheme", "scheme"), ("mean", "suppressed"),
    ("test", "F-test: all slopes of group on the variables are 0"),
    ("note", "not identified: no treated entity has an untreated period both before and after the placebo start"),
    ("note", "propensity in [0.1, 0.9]"), ("note", "scores recomputed with the pca weights"),
    ("note", "propensity in [0.05, 0.95]; return_from[T.SAU] occur(s) in one group only: left out of the propensity "
             "model (rows pooled with the reference level)"),
    ("sample", "wave >= 2, countries with mentoring (GIN, MAR, SEN), treated vs never treated, complete covariates"),
    ("sample", "all waves, countries with mentoring (GIN, MAR, SEN)"),
    ("label", "sex=F"), ("label", "return_from: EU - DZA"), ("label", "income"), ("band", "medium"),
    ("term", "treated x assist_economic=1"), ("term", "event_time=-1 (reference)"), ("term", "placebo"),
    ("variable", "months_since_return"), ("by", "return_from"), ("outcome", "age"),
    *[(c, d) for c in ("score", "dimension", "strongest", "dim_a") for d in vocabulary.SCORES],
])
def test_words_of_table_values_are_translated(name, text):
    out, gaps = french(values.cell_text, column(name), text)
    assert not gaps and numbers(out, "fr") == numbers(text), out
    assert out != text or text in ("social", "psychosocial", "composite", "placebo", "linearmodels unadjusted"), out


@pytest.mark.parametrize(("name", "text"), [
    ("term", "C(sex)[T.M]"), ("term", "score_economic_lag"), ("outcome", "score_composite"), ("group", "M - F"),
    ("group", "EU - DZA"), ("level", "F"), ("months_since_return", "36+"), ("months_since_return", "0-3"),
    ("countries_fieldwork", "GIN, MAR, SEN"), ("estimator", "raw_difference"), ("question", "eco_income_sources"),
    ("direction", "x -> y"), ("scope", "NER"), ("model", "score_social ~ mentored + C(sex)"), ("check", "scheme=pca"),
    ("n_respondents", "<10"),
])
def test_codes_and_machine_names_stay(name, text):
    assert french(values.cell_text, column(name), text) == (text, [])


def test_an_unknown_word_is_reported_missing():
    out, gaps = french(values.cell_text, column("note"), "a note nobody wrote down")
    assert out == "a note nobody wrote down" and gaps == ["[value] a note nobody wrote down"]


def test_number_texts_and_run_states():
    assert french(values.number_text, "cross_country.economic_leads", "cannot tell at this size")[0] \
        == "indécidable à cette taille d'échantillon"
    assert french(values.number_text, "prepare.scheme_id", "rss-default") == ("rss-default", [])
    assert french(values.number_text, "country_AFG.n_respondents", "<10") == ("<10", [])
    title = vocabulary.scheme_texts()[0]
    assert french(values.number_text, "prepare.scheme_title", title)[0].startswith("Barème")
    assert french(values.status_text, "failed") == ("échec", []) and french(values.status_text, "?") == ("?", [])


@pytest.mark.parametrize(("key", "expected"), [
    ("lead_economic_to_social_ci_low", "Effet décalé (intra-individuel) du score économique sur le score social, "
                                       "borne inférieure de l'IC"),
    ("surveys_by_wave.3", "Enquêtes par vague\u00a0: 3"),
    ("country_NER_bands", "Pays NER\u00a0: tranches de score"),
    ("trimmed_aipw_composite", "AIPW tronqué, score composite"),
])
def test_keys_with_scores_codes_and_numbers_are_templates(key, expected):
    assert french(values.key_label, key) == (expected, [])
    assert values.key_label(key) == values.humanize_key_en(key)


def test_every_key_template_has_french():
    for template in vocabulary.KEYS:
        with translate.language("fr"):
            assert translate.translation(template, "key"), template


@pytest.mark.parametrize(("name", "label"), [
    ("mean_economic", "Moyenne du score économique"), ("n_respondents_treated", None),
    ("ci_low_fieldwork", None), ("raw_diff", None), ("rank_pca", "Rang, pondérations ACP"),
])
def test_family_columns_translate_their_parts(name, label):
    c = column(name)
    assert c.pattern is not None
    with translate.language("fr"):
        shown, desc = values.column_label(c), values.column_description(c)
        gaps = [g for g in translate.missing() if g.startswith("[")]
    assert not gaps and desc
    assert label is None or shown == label
    assert values.column_label(c) == c.label and values.column_description(c) == c.description


# ------------------------------------------------------------------ the catalogue and its extraction


def test_extraction_sees_every_kind_of_lookup(tmp_path):
    cat = translate.extract(tmp_path / "report.pot")
    ids = {(m.context, m.id) for m in cat if m.id}
    assert (None, "Contents") in ids  # _() inside an f-string
    assert (None, "SYNTHETIC DATA — figures are synthetic and are not IOM results") in ids  # N_()
    assert (None, "Bootstrap is not used: every variance is analytic.</p>") in ids  # methods paragraph
    assert (None, "Surveys") in ids and ("column pattern", "{base}, {group}") in ids  # columns.yml
    assert ("column word: group", "fieldwork countries") in ids
    assert ("headline", vocabulary.HEADLINES[0]) in ids and ("key", "DiD {score} CI low") in ids
    assert ("scheme", "medium") in ids and (None, "N surveys") in ids
    committed = translate.POT.read_text(encoding="utf-8")
    assert (tmp_path / "report.pot").read_text(encoding="utf-8").split("\n\n", 1)[1] == \
        committed.split("\n\n", 1)[1], "report.pot is stale: run python -m helpers.report.translate extract"


def test_every_text_with_a_context_has_french_and_keeps_its_placeholders_and_numbers():
    lacking, _obsolete = translate.check()
    assert [m for m in lacking if m.startswith("[")] == []
    for m in translate.catalogue("fr"):
        if not m.id or not m.string:
            continue
        assert set(re.findall(r"\{(\w+)\}", m.id)) == set(re.findall(r"\{(\w+)\}", m.string)), m.id
        assert numbers(m.id) == numbers(m.string, "fr"), (m.id, m.string)


def test_a_french_build_of_a_full_run_meets_only_texts_of_the_pot(synthetic_project, tmp_path):
    """Every text the French build looks up is in report.pot: what it lacks is a translation, never a template."""
    from helpers.report.build import build_report

    root = tmp_path / "proj"
    shutil.copytree(synthetic_project / "reports", root / "reports", symlinks=True)
    shutil.copytree(synthetic_project / "notebooks", root / "notebooks", symlinks=True)
    try:
        build_report(root, lang="fr")
        gaps: list[str] = []
    except translate.MissingTranslations as e:
        gaps = e.msgids
    pot = translate.extract(tmp_path / "report.pot")
    known = {m.id if m.context is None else f"[{m.context}] {m.id}" for m in pot if m.id}
    # figures are drawn in French by `rss run --lang fr` (tests/test_report_fr.py); this run was English
    assert [g for g in gaps if g not in known and not g.startswith("figure ")] == []
    assert [g for g in gaps if g.startswith("[")] == []
    if not gaps:
        assert '<html lang="fr">' in (root / "reports" / "report.fr.html").read_text(encoding="utf-8")
