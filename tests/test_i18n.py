"""Figures in French (helpers.i18n, helpers.outputs.save_figure): texts, templates, numbers and tick
labels translated from the figures' catalogue; what has no entry is reported, never silently left."""

from __future__ import annotations

import json

import pytest

from helpers import i18n


def _figure(title: str):
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained", figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([0, 0.5, 1.0], [0.1, 0.25, 0.2], label="country mean")
    ax.set_xlabel("months since return")
    ax.set_ylabel("mean score (95% CI)")
    ax.legend()
    ax.set_title(title)
    return fig


def test_templates_translate_their_pieces_in_turn():
    tr = i18n.Translator("fr", i18n.catalogue("fr"))
    assert tr("SEN: scores by wave") == "SEN\u00a0: scores par vague"
    assert tr("SEN: score distributions (dashed: mean)") == "SEN\u00a0: distributions des scores (tirets\u00a0: moyenne)"
    assert tr("Overlap: 1.5% of rows outside [0.05, 0.95]") == (
        "Support commun\u00a0: 1,5\u00a0% des lignes hors de [0,05 ; 0,95]")
    assert tr("return_from=EU") == "pays de migration = EU"  # codes stay codes, as in the tables
    assert tr("\u22120.25") == "\u22120,25" and tr("12,000") == "12\u202f000"
    assert not tr.missing
    assert tr("SEN: a title nobody wrote") == "SEN: a title nobody wrote"
    assert list(tr.missing) == ["SEN: a title nobody wrote"]


def test_a_title_over_a_wrapped_note_is_translated_whole():
    tr = i18n.Translator("fr", i18n.catalogue("fr"))
    text = ("SEN: share of surveys per band\nnot shown (bands with fewer than 10 respondents): composite low,\n"
            "composite high")
    out = tr(text)
    assert not tr.missing, tr.missing
    head, *note = out.split("\n")
    assert head == "SEN\u00a0: part des enquêtes par tranche"
    assert " ".join(note) == "non affichés (tranches de moins de 10 répondants)\u00a0: composite faible, composite élevé"


def test_report_langs_refuses_an_unknown_language():
    assert i18n.report_langs({}) == [] and i18n.report_langs({"RSS_REPORT_LANG": "fr"}) == ["fr"]
    with pytest.raises(ValueError, match=r"RSS_REPORT_LANG='de': 'de' is not one of en, fr"):
        i18n.report_langs({"RSS_REPORT_LANG": "de"})


def test_save_figure_draws_the_french_figure_after_the_english_one(tables_project, monkeypatch):
    from helpers import outputs

    figures = tables_project / "reports" / "figures"
    monkeypatch.delenv("RSS_REPORT_LANG", raising=False)
    outputs.save_figure(_figure("SEN: scores by wave"), "plain")
    english = (figures / "plain.png").read_bytes()

    monkeypatch.setenv("RSS_REPORT_LANG", "fr")
    outputs.save_figure(_figure("SEN: scores by wave"), "plain")
    assert (figures / "plain.png").read_bytes() == english  # the English file is drawn first, unchanged
    assert (figures / "fr" / "plain.png").is_file() and (figures / "fr" / "plain.png").read_bytes() != english
    assert not (figures / "fr" / "plain.missing.json").exists()

    outputs.save_figure(_figure("SEN: an untranslated title"), "gap")
    assert json.loads((figures / "fr" / "gap.missing.json").read_text()) == ["SEN: an untranslated title"]

    monkeypatch.delenv("RSS_REPORT_LANG")  # an English run: French files of the same figure would be stale
    outputs.save_figure(_figure("SEN: an untranslated title"), "gap")
    assert not (figures / "fr" / "gap.png").exists() and not (figures / "fr" / "gap.missing.json").exists()


def test_tick_labels_are_french_numbers():
    fig = _figure("SEN: scores by wave")
    assert i18n.translate_figure(fig, "fr") == []
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "0,4" in labels and not any("." in t for t in labels), labels
    assert ax.get_xlabel() == "mois depuis le retour"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["moyenne du pays"]
