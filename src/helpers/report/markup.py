"""HTML pieces of the report: the stylesheet, the page writer, tables with footnoted long
columns, figures as data URIs, numbers with their keys, and the order of files in a section.

Imports: helpers.outputs (lazily), helpers.report.catalogue, helpers.report.collect, helpers.report.formatting,
helpers.report.readable, helpers.report.sections, helpers.report.translate, helpers.report.values.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from .catalogue import column
from .collect import parse_number, read_csv_rows, suppress
from .formatting import esc, fmt, humanize_key, number_html, scalar_items
from .readable import mark_of, reader_text, suppression_notes, table_title
from .sections import MAX_ROWS_SHOWN
from .translate import gettext as _
from .translate import lang, note_missing
from .values import cell_text, column_description, column_label

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1b1b1b;background:#fff}
main{max-width:1100px;margin:0 auto;padding:0 1.2rem 4rem}
h1{font-size:1.7rem;margin:1.2rem 0 .2rem}h2{border-bottom:2px solid #0b5394;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:2rem}h4{margin:1.2rem 0 .3rem}
.banner{position:sticky;top:0;z-index:9;background:#b00020;color:#fff;font-weight:700;text-align:center;
padding:.55rem;letter-spacing:.02em}
.note{background:#f4f6f8;border-left:4px solid #8a99a8;padding:.5rem .8rem;margin:.8rem 0}
.todo{background:#fff8e1;border-left:4px solid #e0a800;padding:.5rem .8rem;margin:.8rem 0}
.warn{background:#fdecea;border-left:4px solid #b00020;padding:.5rem .8rem;margin:.8rem 0}
.findings{background:#eef5fb;border-left:4px solid #0b5394;padding:.5rem .8rem;margin:.8rem 0}
.findings ul{margin:.3rem 0}ol.notes{font-size:.8rem;color:#444;margin:.2rem 0 1rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.86rem;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #d5dbe1;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #e3e7eb}
figcaption{font-size:.85rem;color:#555}td.sup{color:#8a4b00}a.fn{font-size:.75em;text-decoration:none}
ul.supnotes{font-size:.82rem;color:#444;margin:-.6rem 0 .6rem;padding-left:1.2rem}
nav.toc ol{columns:2}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
.num{font-weight:600}dl.kv{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dl.kv dt{color:#444}
dl.kv dd{margin:0}.muted{color:#666}section.country{border-top:1px dashed #ccd;margin-top:2rem}
@media print{.banner{position:static}}
"""


class Html:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def __call__(self, *s: str) -> None:
        self.parts.extend(s)

    def text(self) -> str:
        return "".join(self.parts)


def table_html(stem: str, path: Path, threshold: int, sheet: str | None) -> str:
    """One table as a reader reads it (:mod:`helpers.report.readable`), with its suppression notes.

    Each header cell shows the catalogue's label, carries the column's description as its
    tooltip and its CSV name in ``data-col`` (read by ``rss check``).
    """
    rows, k = suppress(read_csv_rows(path), threshold)
    if not rows:
        return '<p class="note">' + _("Table <code>{name}</code> is empty.", name=esc(path.name)) + "</p>"
    head, body = rows[0], rows[1:]
    cols = [column(c) for c in head]
    body, notes = _footnoted(head, body)
    h = [f'<div class="tbl" id="table-{esc(stem)}"><h4>{esc(table_title(stem))}</h4><table><thead><tr>']
    h += [f'<th data-col="{esc(c.name)}" title="{esc(column_description(c))}">{esc(column_label(c))}</th>' for c in cols]
    h.append("</tr></thead><tbody>")
    marks: set[str] = set()
    for row in body[:MAX_ROWS_SHOWN]:
        cells = []
        for j, c in enumerate(row):
            col = cols[j] if j < len(cols) else column("")
            mark = mark_of(col, c)
            if mark:
                marks.add(mark)
                cells.append(f'<td class="n sup">{esc(c)} <a class="fn" href="#sup-{esc(stem)}-{mark}">[{mark}]</a></td>')
            else:
                cells.append(f'<td class="{"n" if parse_number(c) is not None else ""}">{esc(reader_text(col, c))}</td>')
        h.append("<tr>" + "".join(cells) + "</tr>")
    h.append("</tbody></table>")
    sup = suppression_notes(marks, threshold)
    if sup:
        h.append('<ul class="supnotes">' + "".join(f'<li id="sup-{esc(stem)}-{ref}">{esc(mark)} [{ref}]: {esc(why)}</li>'
                                                  for ref, mark, why in sup) + "</ul>")
    if notes:
        h.append('<ol class="notes" type="a">' + "".join(f"<li>{esc(cell_text(cols[j] if j < len(cols) else column(''), n))}</li>"
                                                         for j, n in notes) + "</ol>")
    where = f"<code>reports/tables/{esc(path.name)}</code>"
    if sheet:
        where += _(", sheet <code>{sheet}</code> of <code>tables.xlsx</code>", sheet=esc(sheet))
    note = (_("First {shown} of {rows} rows shown; all in {where}.", shown=fmt(MAX_ROWS_SHOWN), rows=fmt(len(body)),
              where=where) if len(body) > MAX_ROWS_SHOWN else _("File: {where}.", where=where))
    note += " " + _('Columns: <a href="#dictionary">data dictionary</a>.')
    if k:
        note += " " + (_("{k} row suppressed: fewer than {threshold} respondents.", k=fmt(k), threshold=fmt(threshold))
                       if k == 1 else _("{k} rows suppressed: fewer than {threshold} respondents.", k=fmt(k),
                                        threshold=fmt(threshold)))
    h.append(f'<p class="muted">{note}</p></div>')
    return "".join(h)


def _footnoted(head: list[str], body: list[list[str]], *, long: int = 24,
               most: int = 8) -> tuple[list[list[str]], list[tuple[int, str]]]:
    """Replace long texts that repeat in a column (at most ``most`` distinct) by note letters ``[a]``, ``[b]``.

    The notes are (column index, text), in letter order.

    Examples
    --------
    >>> body, notes = _footnoted(["x", "cov"], [["1", "clustered by respondent_id, " * 2], ["2", "short"]])
    >>> [r[1] for r in body], len(notes)
    (['[a]', 'short'], 1)
    """
    notes: list[tuple[int, str]] = []
    cols = []
    for j in range(len(head)):
        vals = [r[j] for r in body if j < len(r)]
        distinct = list(dict.fromkeys(v for v in vals if len(v) > long))
        if distinct and len(distinct) <= most:
            cols.append((j, distinct))
    if not cols:
        return body, notes
    letter = {}
    for j, distinct in cols:
        for v in distinct:
            if v not in letter:
                letter[v] = chr(ord("a") + len(notes)) if len(notes) < 26 else str(len(notes) + 1)
                notes.append((j, v))
    index = {j for j, _ in cols}
    out = [[f"[{letter[c]}]" if i in index and c in letter else c for i, c in enumerate(r)] for r in body]
    return out, notes


def figure_in(folder: Path, stem: str, language: str) -> tuple[Path, list[str]]:
    """The ``language`` PNG of figure ``stem`` and its texts without an entry (one if the PNG is not there)."""
    from ..outputs import figure_gaps, translated_figure  # lazily: helpers.report stays cheap to import

    path = translated_figure(stem, language, folder)
    if not path.is_file():
        return folder / f"{stem}.png", [f"figure {stem} has no {language} version: run `rss run --lang {language}`"]
    gaps = figure_gaps(stem, language, folder)
    return path, ([f"figure {stem}: {t}" for t in json.loads(gaps.read_text(encoding="utf-8"))]
                  if gaps.is_file() else [])


def figure_html(stem: str, path: Path) -> str:
    """The figure as an embedded image; in French, the French PNG the notebook drew beside it
    (``figures/fr/<stem>.png``, :func:`helpers.outputs.save_figure`), its untranslated texts reported missing."""
    if lang() != "en":
        path, gaps = figure_in(path.parent, stem, lang())
        for text in gaps:
            note_missing(text)
    mime = "image/png" if path.suffix.lower() == ".png" else "image/svg+xml"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure id="figure-{esc(stem)}"><img src="data:{mime};base64,{data}" alt="{esc(humanize_key(stem))}">'
            f"<figcaption>{esc(humanize_key(stem))} <span class=\"mono\">({esc(path.name)})</span></figcaption></figure>")


def numbers_html(obj: Any, source: str) -> str:
    items = scalar_items(obj)
    if not items:
        return ""
    rows = "".join(f"<dt>{esc(humanize_key(k))}</dt><dd>{number_html(v, f'{source}.{k}')}</dd>" for k, v in items)
    return ("<details><summary>" + _("Key numbers ({n}, from <code>numbers.json</code>: {source})", n=fmt(len(items)),
                                     source=esc(source)) + "</summary>"
            f'<dl class="kv">{rows}</dl></details>')


def key_first(items: list[tuple[str, Any]], k: int) -> list[tuple[str, Any]]:
    """Pick ``k`` headline-like numbers: counts, means, effects and differences before intervals and p-values."""
    def rank(key: str) -> int:
        leaf = key.rsplit(".", 1)[-1]
        if leaf.startswith(("ci_", "se_")) or "_ci_" in leaf or leaf.endswith(("_p", "_se")) or leaf.startswith("p_"):
            return 2
        if leaf.startswith(("n_", "mean_")) or any(w in leaf for w in ("effect", "diff", "rank", "corr")):
            return 0
        return 1
    return sorted(items, key=lambda kv: rank(kv[0]))[:k]


def ordered_files(files: dict[str, list[str]], lead: tuple[str, ...]) -> list[tuple[str, str]]:
    """Files of a section in showing order: each ``lead`` stem (figure, then table), then the rest.

    Examples
    --------
    >>> ordered_files({"figures": ["a", "b"], "tables": ["a", "c"]}, ("b", "a"))
    [('figure', 'b'), ('figure', 'a'), ('table', 'a'), ('table', 'c')]
    """
    figs, tabs = list(files.get("figures", [])), list(files.get("tables", []))
    out = []
    for stem in lead:
        if stem in figs:
            out.append(("figure", stem))
        if stem in tabs:
            out.append(("table", stem))
    out += [("figure", f) for f in figs if f not in lead]
    out += [("table", t) for t in tabs if t not in lead]
    return out


def summary_items(obj: Any) -> list[tuple[str, Any]]:
    """The ``summary_keys`` of a numbers file that hold a value, in the order listed."""
    keys = obj.get("summary_keys") if isinstance(obj, dict) else None
    if not isinstance(keys, list):
        return []
    return [(str(k), obj[k]) for k in keys if isinstance(obj.get(k), (int, float, str, bool))]


def headline_list(obj: Any) -> list[str]:
    h = obj.get("headlines") if isinstance(obj, dict) else None
    return [str(x) for x in h] if isinstance(h, list) else []
