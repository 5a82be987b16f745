"""The default scheme is the spec's table; scheme files get clear errors."""

from __future__ import annotations

import copy

import pytest
import yaml

from helpers import paths
from helpers.scheme import SchemeError, load_scheme, scheme_from_dict

DEFAULT_DOC = yaml.safe_load(paths.DEFAULT_SCHEME.read_text(encoding="utf-8"))

# (question id, indicator, code -> score) transcribed from ../shared/spec/rss-scheme.md
SPEC = {
    "eco_income_sources": ("E1", {0: 0, 1: 0.5, 2: 1}),
    "eco_borrow_freq": ("E2", {1: 1, 2: 0.75, 3: 0.5, 4: 0.25, 5: 0}),
    "eco_debt_gt_spending": ("E2", {1: 0, 0: 1}),
    "eco_food_reduce": ("E3", {1: 1, 5: 0}),
    "eco_employed": ("E4", {1: 1, 0: 0}),
    "eco_training_access": ("E4", {1: 1, 0: 0}),
    "eco_productive_assets": ("E5", {1: 1, 0: 0}),
    "eco_satisfaction": ("E5", {1: 0, 3: 0.5, 5: 1}),
    "soc_housing_access": ("S1", {1: 1, 0: 0}),
    "soc_housing_quality": ("S1", {1: 0, 5: 1}),
    "soc_children_school": ("S2", {1: 1, 2: 0.5, 3: 0}),
    "soc_justice_access": ("S3", {1: 0, 5: 1}),
    "soc_id_documents": ("S3", {1: 1, 0: 0}),
    "soc_health_access": ("S4", {1: 0, 5: 1}),
    "soc_health_quality": ("S4", {1: 0, 5: 1}),
    "soc_water_access": ("S4", {1: 0, 5: 1}),
    "soc_services_access": ("S5", {1: 0, 5: 1}),
    "psy_social_activities": ("P1", {1: 0, 5: 1}),
    "psy_support_network": ("P2", {1: 0, 2: 1 / 3, 3: 2 / 3, 4: 1}),
    "psy_belonging": ("P3", {1: 0, 5: 1}),
    "psy_safety": ("P3", {1: 0, 5: 1}),
    "psy_discrimination": ("P4", {1: 1, 5: 0}),
    "psy_family_tension": ("P4", {1: 1, 5: 0}),
    "psy_distress": ("P5", {1: 1, 5: 0}),
    "psy_wants_support": ("P5", {1: 0, 0: 1}),
    "psy_able_to_stay": ("P5", {1: 0, 5: 1}),
}


def test_default_scheme_is_the_spec_table(scheme):
    assert scheme.id == "rss-default" and not scheme.official
    assert scheme.question_ids == list(SPEC)
    assert len(scheme.indicators) == 15 and scheme.dimensions == ("economic", "social", "psychosocial")
    for qid, (ind, scores) in SPEC.items():
        q = scheme.question(qid)
        assert q.indicator == ind
        for code, s in scores.items():
            assert q.scores[code] == pytest.approx(s)
    for d in scheme.dimensions:
        assert sum(q.weight for q in scheme.questions if q.dimension == d) == pytest.approx(1.0, abs=1e-12)
    assert sum(q.composite_weight for q in scheme.questions) == pytest.approx(1.0, abs=1e-12)
    assert scheme.band_names == ("low", "medium", "high") and scheme.band_edges == (0.33, 0.66)
    assert scheme.min_dimension_weight == 0.6


def test_labels_map_to_codes(scheme):
    assert scheme.label_map("eco_satisfaction")["very satisfied"] == 5
    assert scheme.label_map("eco_employed")["yes"] == 1
    assert scheme.label_map("soc_children_school")["not applicable"] == 97


def broken(mutate):
    doc = copy.deepcopy(DEFAULT_DOC)
    mutate(doc)
    return doc


def _eco(doc):
    return doc["dimensions"][0]["indicators"]


CASES = {
    "unknown answer kind": (
        lambda d: _eco(d)[1]["questions"][0].update(kind="likert7"),
        "(eco_borrow_freq): unknown answer kind 'likert7'"),
    "indicator weights not summing to 1": (
        lambda d: _eco(d)[0].update(weight=0.3),
        "dimensions[0] (economic): indicator weights sum to 1.1, expected 1"),
    "composite weights not summing to 1": (
        lambda d: d["composite_weights"].update(economic=0.5),
        "composite_weights: dimension weights sum to 1.16666666667, expected 1"),
    "duplicate question id": (
        lambda d: _eco(d)[2]["questions"].append(dict(_eco(d)[1]["questions"][0])),
        "duplicate question id 'eco_borrow_freq'"),
    "duplicate indicator id": (
        lambda d: _eco(d)[1].update(id="E1"),
        "duplicate indicator id 'E1'"),
    "bands out of order": (
        lambda d: d.update(bands=[{"name": "low", "below": 0.66}, {"name": "medium", "below": 0.33},
                                  {"name": "high"}]),
        "bands[1] (medium): bands out of order: 0.33 is not above 0.66"),
    "last band bounded": (
        lambda d: d["bands"][2].update(below=1.0),
        "the last band has no upper bound"),
    "negative weight": (
        lambda d: _eco(d)[0].update(weight=-0.2),
        "weight -0.2 must be a non-negative number"),
    "weight not a number": (
        lambda d: _eco(d)[0].update(weight="a fifth"),
        "weight 'a fifth' is not a number"),
    "indicator without questions": (
        lambda d: _eco(d)[2].update(questions=[]),
        "indicator 'E3' has no questions"),
    "unknown label set": (
        lambda d: _eco(d)[2]["questions"][0].update(labels="moods"),
        "unknown label set 'moods'"),
    "score above 1": (
        lambda d: _eco(d)[0]["questions"][0]["answers"][2].update(score=2),
        "score 2 is above 1"),
    "special code as answer": (
        lambda d: _eco(d)[0]["questions"][0]["answers"].update({97: {"score": 0}}),
        "answer code 97 must be an integer 0-96"),
    "kind and answers both": (
        lambda d: _eco(d)[0]["questions"][0].update(kind="likert5"),
        "give either 'kind' or 'answers', not both"),
    "unknown field": (
        lambda d: d.update(weigths=1),
        "unknown field 'weigths'"),
    "reserved id": (
        lambda d: _eco(d)[2]["questions"][0].update(id="country"),
        "question id 'country' is a reserved column"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_broken_scheme_is_refused_with_a_clear_message(case):
    mutate, message = CASES[case]
    with pytest.raises(SchemeError) as err:
        scheme_from_dict(broken(mutate), "my-scheme.yaml")
    assert message in str(err.value), str(err.value)
    assert "scheme my-scheme.yaml" in str(err.value)


def test_every_problem_is_reported_at_once():
    def many(d):
        _eco(d)[0].update(weight=0.3)
        _eco(d)[1]["questions"][0].update(kind="likert7")
        d["bands"][2].update(below=1.0)

    with pytest.raises(SchemeError) as err:
        scheme_from_dict(broken(many))
    assert len(err.value.problems) == 3


EXPLICIT_BASE = {
    "id": "x", "weighting": "explicit",
    "indicators": [{"id": "A", "dimension": "d1"}, {"id": "B", "dimension": "d2"}],
    "questions": [
        {"id": "q1", "indicator": "A", "kind": "likert5", "weight": 1, "composite_weight": 0.5},
        {"id": "q2", "indicator": "B", "kind": "yes_good", "weight": 1, "composite_weight": 0.5},
    ],
}


def test_explicit_scheme_is_accepted():
    s = scheme_from_dict(EXPLICIT_BASE)
    assert s.weighting == "explicit" and s.dimensions == ("d1", "d2")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["questions"][0].pop("indicator"), "(q1): question in no indicator"),
    (lambda d: d["questions"][0].update(indicator="Z"), "indicator 'Z' is not in the indicators list"),
    (lambda d: d["questions"][0].update(weight=0.9), "dimension d1: question weights sum to 0.9, expected 1"),
    (lambda d: d["questions"][1].update(composite_weight=0.6), "composite: composite weights sum to 1.1"),
], ids=["no indicator", "unknown indicator", "dimension weights", "composite weights"])
def test_explicit_scheme_errors(change, message):
    doc = copy.deepcopy(EXPLICIT_BASE)
    change(doc)
    with pytest.raises(SchemeError, match=None) as err:
        scheme_from_dict(doc)
    assert message in str(err.value), str(err.value)


def test_scheme_file_errors(tmp_path):
    with pytest.raises(SchemeError, match="file not found"):
        load_scheme(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="not valid YAML"):
        load_scheme(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="not a YAML mapping"):
        load_scheme(listy)


def test_default_scheme_found_by_name():
    assert load_scheme("rss-default").id == "rss-default"
