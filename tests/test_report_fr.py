"""The report in French: every text that reaches the English report has a French entry, and the two
reports show the same numbers, only formatted differently.

The shared ``full_project`` (tests/full_project.py) is built with ``rss run --lang fr``: every notebook,
the figures drawn in both languages, ``report.html`` and ``report.fr.html``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import published_outputs, run_rss
from full_project import full_project  # noqa: F401  (the fixture)

_VOLATILE = re.compile(r"<span data-volatile>.*?</span>", re.S)
_HIDDEN = re.compile(r"<(style|script)\b.*?</\1>|<img\b[^>]*>", re.S)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")  # with its sign: a dropped minus is a different number


def text_of(page: str) -> str:
    """What a reader reads: no style, script or images, no build time, no tags; entities decoded."""
    page = _HIDDEN.sub(" ", _VOLATILE.sub(" ", page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_numbers(text: str) -> Counter:
    text = text.replace("\u2212", "-")
    return Counter(_NUMBER.findall(re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)))


def french_numbers(text: str) -> Counter:
    text = re.sub(r"(?<=\d)[\u202f\u00a0 ](?=\d{3}(?!\d))", "", text.replace("\u2212", "-"))  # thousands
    return Counter(_NUMBER.findall(re.sub(r"(?<=\d),(?=\d)", ".", text)))  # decimal comma


def keyed(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'data-key="([^"]+)">([^<]*)<', page)}


def test_the_french_report_is_built_in_french(full_project):  # noqa: F811
    en = (full_project / "reports" / "report.html").read_text(encoding="utf-8")
    fr = (full_project / "reports" / "report.fr.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in fr and '<html lang="en">' in en
    for english, french in (("Executive summary", "Synthèse"), ("Data dictionary", "Dictionnaire des données"),
                            ("Morocco", "Maroc")):
        assert english in text_of(en) and english not in text_of(fr) and french in text_of(fr), english
    # the French page shows the French figures, byte for byte
    shown = re.findall(r'<figure id="figure-([^"]+)"><img src="data:image/png;base64,([^"]+)"', fr)
    assert len(shown) == len(list((full_project / "reports" / "figures").glob("*.png"))) > 10
    import base64

    for stem, data in shown:
        assert base64.b64decode(data) == (full_project / "reports" / "figures" / "fr" / f"{stem}.png").read_bytes()
    assert not list((full_project / "reports" / "figures" / "fr").glob("*.missing.json"))


def test_the_two_reports_show_the_same_numbers(full_project):  # noqa: F811
    en = (full_project / "reports" / "report.html").read_text(encoding="utf-8")
    fr = (full_project / "reports" / "report.fr.html").read_text(encoding="utf-8")
    a, b = english_numbers(text_of(en)), french_numbers(text_of(fr))
    assert sum(a.values()) > 1000
    assert a == b, {"only in English": dict(a - b), "only in French": dict(b - a)}
    ka, kb = keyed(en), keyed(fr)
    assert ka.keys() == kb.keys() and len(ka) > 20
    for k, v in ka.items():
        if re.fullmatch(r"-?[\d,]+(\.\d+)?(e-?\d+)?%?", v):
            assert english_numbers(v) == french_numbers(kb[k]), (k, v, kb[k])


def test_the_number_check_sees_a_changed_number():
    assert english_numbers("0.623 of 20,189") != french_numbers("0,632 sur 20\u202f189")
    assert english_numbers("effect -0.02") != french_numbers("effet 0,02")
    assert english_numbers("0.623 of 20,189 (61.8%)") == french_numbers("0,623 sur 20\u202f189 (61,8\u00a0%)")


def _copy(project: Path, tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(project, root, symlinks=True)
    return root


def test_a_text_without_a_french_entry_fails_the_french_build(full_project, tmp_path, monkeypatch):  # noqa: F811
    from helpers.report import MissingTranslations, build_report, translate

    root = _copy(full_project, tmp_path)
    full = translate.catalogue("fr")
    gap = full.__class__(locale="fr", domain="report")
    for m in full:
        if m.id and m.id != "Executive summary":
            gap.add(m.id, m.string, context=m.context)
    monkeypatch.setattr(translate, "catalogue", lambda lang: gap)
    # a figure drawn with a label the figures' catalogue lacks
    fr = root / "reports" / "figures" / "fr"
    (fr / "cross_means.missing.json").write_text(json.dumps(["an English label"]))
    with pytest.raises(MissingTranslations) as exc:
        build_report(root, lang="fr")
    assert "'Executive summary'" in str(exc.value) and "'figure cross_means: an English label'" in str(exc.value)
    page = root / "reports" / "report.fr.html"
    assert page.read_bytes() == (full_project / "reports" / "report.fr.html").read_bytes()  # not half-written
    # and a figure never drawn in French
    monkeypatch.undo()
    (fr / "cross_means.missing.json").unlink()
    (fr / "cross_means.png").unlink()
    with pytest.raises(MissingTranslations, match=r"figure cross_means has no fr version: run `rss run --lang fr`"):
        build_report(root, lang="fr")
    # the command says so, and removes the older page, which would pass for a current one
    r = run_rss(root, "report", "--lang", "fr")
    assert r.returncode == 1 and "figure cross_means has no fr version" in r.stderr and not page.exists()


def test_an_english_rebuild_removes_the_older_french_page(full_project, tmp_path):  # noqa: F811
    root = _copy(full_project, tmp_path)
    r = run_rss(root, "report")
    assert r.returncode == 0, r.stderr
    assert not (root / "reports" / "report.fr.html").exists() and "removed" in r.stdout
    assert (run_rss(root, "report", "--lang", "fr").returncode, (root / "reports" / "report.fr.html").is_file()) == (
        0, True)


def test_an_english_run_after_a_french_one_drops_the_french_outputs(full_project, tmp_path):  # noqa: F811
    """Switching back reruns the notebooks: the English outputs are the same bytes, nothing French is left."""
    root = _copy(full_project, tmp_path)
    before = published_outputs(root)
    r = run_rss(root, "run", "--jobs", "2", "--timeout", "240", timeout=600)
    assert r.returncode == 0, r.stderr
    after = published_outputs(root)
    french = {k for k in before if "/figures/fr/" in k or k.endswith("report.fr.html")}
    assert french and not (french & after.keys())
    volatile = ("report.html", "tables.xlsx", "lineage.csv", "numbers.json")
    same = {k: v for k, v in before.items()  # the cache's entries are keyed by language: they differ
            if k not in french and not k.endswith(volatile) and "/notebooks/" not in k and "/.cache/" not in k}
    assert same and {k: after.get(k) for k in same} == same
