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
from .formatting import esc, humanize_key, number_html, scalar_items, sheet_names
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
from .translate import MissingTranslations, language, missing_entries
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
        ``"en"`` (default), or ``"fr"``: write only ``report.fr.html`` (the other files stay as
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
            gaps = missing_entries()
        if gaps:
            raise MissingTranslations(lang, gaps)
        return {"html": write_text(root / "reports" / f"report.{lang}.html", text)}
    text, files = _page(root, manifest, write=True)
    return {"html": write_text(root / "reports" / "report.html", text), **files}


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
    title = "Reintegration outcomes of returnees: comparative RSS analysis"
    h('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width,initial-scale=1">',
      f"<title>{esc(title)}{' (SYNTHETIC DATA)' if synthetic else ''}</title><style>{CSS}</style></head><body>")
    if synthetic:
        h(f'<div class="banner" id="synthetic-banner" role="alert">{esc(BANNER)}</div>')
    h("<main>", f"<h1>{esc(title)}</h1>",
      '<p class="muted">A rerun of the comparative analysis of <i>Mentoring Returnees: Study on Reintegration '
      "Outcomes Through a Comparative Lens</i> (IOM with Samuel Hall and the University of Sussex, 2020), scored "
      "with the Reintegration Sustainability Survey (RSS), on the data described in the "
      '<a href="#data-statement">data statement</a>. Built '
      f"<span data-volatile>{esc(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))}</span> from the files "
      "the notebooks wrote.</p>")
    if stale:
        h(f'<div class="warn">Out of date: {len(stale)} notebook{"s" if len(stale) != 1 else ""} '
          f"({esc(', '.join(stale))}) {'were' if len(stale) != 1 else 'was'} not rerun after "
          f"{'their' if len(stale) != 1 else 'its'} inputs changed (a <code>--country</code> run). "
          "Run <code>rss run</code> (<code>make report</code>) to bring the whole report up to date.</div>")
    failed_before = sorted(k for k, v in jobs.items() if v.get("status") != "ok")
    if failed_before:
        h(f'<div class="warn">The last run of {esc(", ".join(failed_before))} did not succeed; the outputs shown '
          "for them are from an earlier run, if any.</div>")
    if out.bad_numbers:
        h(f'<div class="warn">Unreadable numbers files, left out: {esc(", ".join(sorted(out.bad_numbers)))}.</div>')

    toc = [("summary", "Executive summary")] + [(s.id, f"{s.number}. {s.title}") for s in SECTIONS]
    if by_section.get("other"):
        toc.append(("other", "Other outputs"))
    toc += [("methods", "Methods"), ("data-statement", "Data statement"), ("dictionary", "Data dictionary"),
            ("provenance", "Provenance"),
            ("lineage", "Where each output comes from")]
    h('<nav class="toc"><h2>Contents</h2><ol>', *(f'<li><a href="#{i}">{esc(t)}</a></li>' for i, t in toc),
      "</ol></nav>")

    # ---- executive summary
    h('<section id="summary"><h2>Executive summary</h2>')
    heads = [(sec, x) for sec in ("prepare", "cross_country", "mentoring", "weight_sensitivity")
             for x in headline_list(out.numbers.get(sec))]
    if prepare and not headline_list(prepare):
        bits = []
        if "n_surveys" in prepare:
            bits.append(f"{number_html(prepare['n_surveys'], 'prepare.n_surveys')} surveys")
        if "n_respondents" in prepare:
            bits.append(f"of {number_html(prepare['n_respondents'], 'prepare.n_respondents')} returnees")
        if "n_countries" in prepare:
            bits.append(f"in {number_html(prepare['n_countries'], 'prepare.n_countries')} countries")
        if bits:
            scheme = prepare.get("scheme") or prepare.get("scheme_id")
            h(f"<p>The analysis covers {' '.join(bits)}"
              + (f", scored with scheme <code>{esc(scheme)}</code>" if scheme else "") + ".</p>")
    if heads:
        h("<ul>", *(f'<li>{esc(x)} <span class="muted">({esc(sec)}.json)</span></li>' for sec, x in heads), "</ul>")
    for s in SECTIONS:
        keyed = summary_items(out.numbers.get(s.id)) if headline_list(out.numbers.get(s.id)) else []
        if keyed:
            h(f"<h4>{esc(s.number)}. {esc(s.title)}: headline numbers</h4><table><tbody>")
            h(*(f'<tr><td>{esc(humanize_key(k))}</td><td class="n">{number_html(v, f"{s.id}.{k}")}</td></tr>' for k, v in keyed))
            h("</tbody></table>")
    for s in SECTIONS:
        if s.id == "country" or headline_list(out.numbers.get(s.id)):
            continue
        items = scalar_items(out.numbers.get(s.id))
        if not items:
            continue
        shown = key_first(items, 8)
        h(f"<h4>{esc(s.number)}. {esc(s.title)}: key numbers</h4><table><tbody>")
        h(*(f'<tr><td>{esc(humanize_key(k))}</td><td class="n">{number_html(v, f"{s.id}.{k}")}</td></tr>' for k, v in shown))
        h("</tbody></table>")
        if len(items) > len(shown):
            h(f'<p class="muted">{len(items) - len(shown)} more in <a href="#{esc(s.id)}">section '
              f"{esc(s.number)}</a>.</p>")
    missing = [s for s in SECTIONS if s.id != "country" and s.id not in out.numbers]
    if missing:
        h('<p class="todo">Not computed yet: ' + ", ".join(f'<a href="#{s.id}">{esc(s.number)}. {esc(s.title)}</a>'
                                                           for s in missing) + ".</p>")
    h('<p class="muted">Every number in this summary is read from <code>reports/numbers.json</code>, written by '
      "the notebooks; none is typed by hand.</p></section>")

    # ---- sections
    for s in SECTIONS:
        h(f'<section id="{s.id}"><h2>{esc(s.number)}. {esc(s.title)}</h2><p>{esc(s.intro)}</p>')
        if s.id == "country":
            country_section(h, countries, out, by_section.get("country", {}), jobs, threshold, sheets)
        else:
            files = by_section.get(s.id, {"tables": [], "figures": []})
            nums = out.numbers.get(s.id)
            if not files["tables"] and not files["figures"] and nums is None:
                h(f'<p class="todo">Not computed yet: notebook <code>{esc(s.notebook)}</code> has written no '
                  f"outputs (<code>reports/numbers/{esc(s.id)}.json</code>, <code>reports/tables/"
                  f"{esc(s.prefixes[0])}*.csv</code>, <code>reports/figures/{esc(s.prefixes[0])}*</code>).</p>")
            else:
                found = headline_list(nums)
                if found:
                    h('<div class="findings"><b>Findings</b><ul>', *(f"<li>{esc(x)}</li>" for x in found),
                      f'</ul><p class="muted">From <code>reports/numbers/{esc(s.id)}.json</code>.</p></div>')
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
        h('<section id="other"><h2>Other outputs</h2><p class="muted">Files whose names match no section.</p>')
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
    if lang != "en":
        try:
            built = build_report(paths.ROOT, lang=lang)
        except MissingTranslations as e:
            print(f"rss report: {e}", file=sys.stderr)
            return 1
        print(f"wrote {built['html']}")
        return 0
    built = build_report(paths.ROOT)
    print(f"wrote {built['html']} and {built['xlsx']} (numbers merged into {built['numbers']})")
    return 0
