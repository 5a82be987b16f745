"""Building the report: :func:`build_report` assembles ``report.html``, ``tables.xlsx``,
``numbers.json``, ``lineage.csv`` and ``data_dictionary.csv`` atomically; :func:`main` is ``rss report``.

Imports: helpers.io, helpers.lineage, helpers.paths, helpers.provenance, helpers.report.collect, helpers.report.dictionary, helpers.report.formatting, helpers.report.inputs, helpers.report.markup, helpers.report.pages, helpers.report.sections, helpers.report.translate, helpers.report.workbook, helpers.runner.manifest.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from .. import lineage, paths
from .collect import collect_outputs, section_of_stem
from .dictionary import dictionary_rows, dictionary_section, undocumented_lines, write_dictionary
from .formatting import esc, fmt, humanize_key, number_html, scalar_items, sheet_names
from .inputs import is_synthetic
from .markup import (
    CSS,
    Html,
    figure_html,
    headline_list,
    key_first,
    numbers_html,
    ordered_files,
    summary_items,
    table_html,
)
from .pages import country_section, data_statement_section, lineage_section, methods_section, provenance_section
from .sections import BANNER, COUNTRY_STEM, DEFAULT_THRESHOLD, SECTIONS
from .translate import MissingTranslations, headline, language, missing
from .translate import gettext as _
from .translate import lang as page_lang
from .workbook import write_xlsx


def build_report(root: Path | None = None, *, manifest: dict[str, Any] | None = None,
                 lang: str = "en") -> dict[str, Path]:
    """Write ``report.html``, ``tables.xlsx`` and ``numbers.json`` under ``root/reports`` atomically.

    Parameters
    ----------
    root
        Project root (default :data:`helpers.paths.ROOT`).
    manifest
        The runner's manifest (default: read ``reports/.manifest.json``); it gives
        the countries, the run times, the parameters and the input checksums.
    lang
        ``"en"`` (default; it removes ``report.<lang>.html`` pages built before, which would show
        older outputs), or ``"fr"``: write only ``report.fr.html`` (the other files stay as
        the English build wrote them); raises :class:`MissingTranslations` naming every text
        that has no French entry in ``locale/fr/LC_MESSAGES/report.po``.

    Returns
    -------
    dict
        ``{"html": ..., "xlsx": ..., "numbers": ...}`` paths written.
    """
    from ..io import write_text

    root = Path(root or paths.ROOT)
    if lang != "en":
        with language(lang):
            text, _files = _page(root, manifest, write=False)
            gaps = missing()
        if gaps:
            raise MissingTranslations(lang, gaps)
        return {"html": write_text(root / "reports" / f"report.{lang}.html", text)}
    text, files = _page(root, manifest, write=True)
    html = write_text(root / "reports" / "report.html", text)
    for other in (root / "reports").glob("report.*.html"):  # built from older outputs: it would pass for current
        other.unlink()
    return {"html": html, **files}


def _page(root: Path, manifest: dict[str, Any] | None, *, write: bool) -> tuple[str, dict[str, Path]]:
    """The page's text and, when ``write``, the other files written (workbook, numbers, lineage, dictionary)."""
    from ..provenance import git_state, package_versions
    from ..runner.manifest import load_manifest

    reports = root / "reports"
    man = manifest if manifest is not None else load_manifest(root)
    out = collect_outputs(reports)
    written: dict[str, Path] = {}
    if write:
        from ..io import write_json

        written["numbers"] = write_json(reports / "numbers.json", out.numbers)
        written["lineage"], lineage_rows = lineage.write(reports, root / "notebooks")
    else:
        lineage_rows = lineage.rows(reports, root / "notebooks")

    prepare = out.numbers.get("prepare") if isinstance(out.numbers.get("prepare"), dict) else {}
    threshold = int(prepare.get("disclosure_threshold", DEFAULT_THRESHOLD) or DEFAULT_THRESHOLD)
    synthetic, synth_why = is_synthetic(out.numbers, man, root)
    run = man.get("run", {})
    jobs = man.get("jobs", {})
    countries = run.get("countries") or sorted({m.group(1) for s in [*out.tables, *out.figures, *out.numbers]
                                                if (m := COUNTRY_STEM.match(s))})
    stale = run.get("stale") or []
    sheets = sheet_names(list(out.tables))
    dictionary, undocumented = dictionary_rows(out.tables)
    for line in undocumented_lines(undocumented) if write else ():
        print(f"rss report: {line}", file=sys.stderr)

    # distribute files
    by_section: dict[str, dict[str, list[str]]] = {}
    for kind, stems in (("tables", out.tables), ("figures", out.figures)):
        for stem in stems:
            sec = section_of_stem(stem)
            if sec == "country" and COUNTRY_STEM.match(stem).group(1) not in countries:
                continue
            by_section.setdefault(sec, {"tables": [], "figures": []})[kind].append(stem)

    h = Html()
    title = _("Reintegration outcomes of returnees: comparative RSS analysis")
    h(f'<!DOCTYPE html>\n<html lang="{page_lang()}"><head><meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width,initial-scale=1">',
      f"<title>{esc(title)}{_(' (SYNTHETIC DATA)') if synthetic else ''}</title><style>{CSS}</style></head><body>")
    if synthetic:
        h(f'<div class="banner" id="synthetic-banner" role="alert">{esc(_(BANNER))}</div>')
    built = esc(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))
    h("<main>", f"<h1>{esc(title)}</h1>",
      '<p class="muted">' + _("A rerun of the comparative analysis of <i>Mentoring Returnees: Study on Reintegration "
      "Outcomes Through a Comparative Lens</i> (IOM with Samuel Hall and the University of Sussex, 2020), scored "
      "with the Reintegration Sustainability Survey (RSS), on the data described in the "
      '<a href="#data-statement">data statement</a>. Built {built} from the files the notebooks wrote.',
                              built=f"<span data-volatile>{built}</span>") + "</p>")
    if stale:
        h('<div class="warn">' + (_("Out of date: {n} notebook ({names}) was not rerun after its inputs changed (a "
                                    "<code>--country</code> run).", n=fmt(len(stale)), names=esc(", ".join(stale)))
                                  if len(stale) == 1 else
                                  _("Out of date: {n} notebooks ({names}) were not rerun after their inputs changed "
                                    "(a <code>--country</code> run).", n=fmt(len(stale)), names=esc(", ".join(stale))))
          + " " + _("Run <code>rss run</code> (<code>make report</code>) to bring the whole report up to date.")
          + "</div>")
    failed_before = sorted(k for k, v in jobs.items() if v.get("status") != "ok")
    if failed_before:
        h('<div class="warn">' + _("The last run of {names} did not succeed; the outputs shown for them are from an "
                                   "earlier run, if any.", names=esc(", ".join(failed_before))) + "</div>")
    if out.bad_numbers:
        h('<div class="warn">' + _("Unreadable numbers files, left out: {names}.",
                                   names=esc(", ".join(sorted(out.bad_numbers)))) + "</div>")

    toc = [("summary", _("Executive summary"))] + [(s.id, f"{s.number}. {_(s.title)}") for s in SECTIONS]
    if by_section.get("other"):
        toc.append(("other", _("Other outputs")))
    toc += [("methods", _("Methods")), ("data-statement", _("Data statement")), ("dictionary", _("Data dictionary")),
            ("provenance", _("Provenance")),
            ("lineage", _("Where each output comes from"))]
    h(f'<nav class="toc"><h2>{esc(_("Contents"))}</h2><ol>', *(f'<li><a href="#{i}">{esc(t)}</a></li>' for i, t in toc),
      "</ol></nav>")

    # ---- executive summary
    h(f'<section id="summary"><h2>{esc(_("Executive summary"))}</h2>')
    heads = [(sec, x) for sec in ("prepare", "cross_country", "mentoring", "weight_sensitivity")
             for x in headline_list(out.numbers.get(sec))]
    if prepare and not headline_list(prepare):
        bits = []
        if "n_surveys" in prepare:
            bits.append(_("{n} surveys", n=number_html(prepare['n_surveys'], 'prepare.n_surveys')))
        if "n_respondents" in prepare:
            bits.append(_("of {n} returnees", n=number_html(prepare['n_respondents'], 'prepare.n_respondents')))
        if "n_countries" in prepare:
            bits.append(_("in {n} countries", n=number_html(prepare['n_countries'], 'prepare.n_countries')))
        if bits:
            scheme = prepare.get("scheme") or prepare.get("scheme_id")
            h("<p>" + _("The analysis covers {what}", what=" ".join(bits))
              + (_(", scored with scheme <code>{scheme}</code>", scheme=esc(scheme)) if scheme else "") + ".</p>")
    if heads:
        h("<ul>", *(f'<li>{esc(x)} <span class="muted">({esc(sec)}.json)</span></li>' for sec, x in ((sec, headline(x)) for sec, x in heads)), "</ul>")
    for s in SECTIONS:
        keyed = summary_items(out.numbers.get(s.id)) if headline_list(out.numbers.get(s.id)) else []
        if keyed:
            h(f"<h4>{esc(s.number)}. {esc(_('{title}: headline numbers', title=_(s.title)))}</h4><table><tbody>")
            h(*(f'<tr><td>{esc(humanize_key(k))}</td><td class="n">{number_html(v, f"{s.id}.{k}")}</td></tr>' for k, v in keyed))
            h("</tbody></table>")
    for s in SECTIONS:
        if s.id == "country" or headline_list(out.numbers.get(s.id)):
            continue
        items = scalar_items(out.numbers.get(s.id))
        if not items:
            continue
        shown = key_first(items, 8)
        h(f"<h4>{esc(s.number)}. {esc(_('{title}: key numbers', title=_(s.title)))}</h4><table><tbody>")
        h(*(f'<tr><td>{esc(humanize_key(k))}</td><td class="n">{number_html(v, f"{s.id}.{k}")}</td></tr>' for k, v in shown))
        h("</tbody></table>")
        if len(items) > len(shown):
            h('<p class="muted">' + _('{n} more in <a href="#{id}">section {number}</a>.', n=fmt(len(items) - len(shown)),
                                      id=esc(s.id), number=esc(s.number)) + "</p>")
    missing = [s for s in SECTIONS if s.id != "country" and s.id not in out.numbers]
    if missing:
        h('<p class="todo">' + _("Not computed yet: {sections}.", sections=", ".join(
            f'<a href="#{s.id}">{esc(s.number)}. {esc(_(s.title))}</a>' for s in missing)) + "</p>")
    h('<p class="muted">' + _("Every number in this summary is read from <code>reports/numbers.json</code>, written "
                              "by the notebooks; none is typed by hand.") + "</p></section>")

    # ---- sections
    for s in SECTIONS:
        h(f'<section id="{s.id}"><h2>{esc(s.number)}. {esc(_(s.title))}</h2><p>{esc(_(s.intro))}</p>')
        if s.id == "country":
            country_section(h, countries, out, by_section.get("country", {}), jobs, threshold, sheets)
        else:
            files = by_section.get(s.id, {"tables": [], "figures": []})
            nums = out.numbers.get(s.id)
            if not files["tables"] and not files["figures"] and nums is None:
                h('<p class="todo">' + _("Not computed yet: notebook <code>{notebook}</code> has written no outputs "
                                         "(<code>reports/numbers/{id}.json</code>, <code>reports/tables/{prefix}*.csv"
                                         "</code>, <code>reports/figures/{prefix}*</code>).", notebook=esc(s.notebook),
                                         id=esc(s.id), prefix=esc(s.prefixes[0])) + "</p>")
            else:
                found = headline_list(nums)
                if found:
                    h(f'<div class="findings"><b>{esc(_("Findings"))}</b><ul>',
                      *(f"<li>{esc(headline(x))}</li>" for x in found), '</ul><p class="muted">'
                      + _("From <code>reports/numbers/{id}.json</code>.", id=esc(s.id)) + "</p></div>")
                if nums is not None:
                    h(numbers_html(nums, s.id))
                for kind, stem in ordered_files(files, s.lead):
                    if kind == "figure":
                        h(figure_html(stem, out.figures[stem]))
                    else:
                        h(table_html(stem, out.tables[stem], threshold, sheets.get(stem)))
        h("</section>")
    if by_section.get("other"):
        files = by_section["other"]
        h(f'<section id="other"><h2>{esc(_("Other outputs"))}</h2><p class="muted">'
          f'{esc(_("Files whose names match no section."))}</p>')
        for stem in files["figures"]:
            h(figure_html(stem, out.figures[stem]))
        for stem in files["tables"]:
            h(table_html(stem, out.tables[stem], threshold, sheets.get(stem)))
        h("</section>")

    methods_section(h, prepare, threshold, out.numbers)
    data_statement_section(h, man, root, synthetic, synth_why, threshold)
    h(dictionary_section(dictionary, undocumented))
    provenance_section(h, man, root, git_state, package_versions)
    lineage_section(h, lineage_rows)
    h("</main></body></html>\n")

    if write:
        written["xlsx"] = write_xlsx(reports / "tables.xlsx", out, sheets, threshold, dictionary)
        written["dictionary"] = write_dictionary(reports / "data_dictionary.csv", dictionary)
    return h.text(), written


def main(lang: str = "en") -> int:
    """``rss report [--lang fr]``: build the report from the current outputs."""
    reports = paths.ROOT / "reports"
    if lang != "en":
        try:
            built = build_report(paths.ROOT, lang=lang)
        except MissingTranslations as e:
            (reports / f"report.{lang}.html").unlink(missing_ok=True)  # an older page would pass for this one
            print(f"rss report: {e}", file=sys.stderr)
            return 1
        print(f"wrote {built['html']}")
        return 0
    older = sorted(reports.glob("report.*.html"))  # build_report removes them: out of date once it has run
    built = build_report(paths.ROOT)
    print(f"wrote {built['html']} and {built['xlsx']} (numbers merged into {built['numbers']})")
    for other in older:
        print(f"removed {other} (older than the outputs; `rss report --lang {other.suffixes[0][1:]}` rebuilds it)")
    return 0
