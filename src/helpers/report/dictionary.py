"""The data dictionary: every column of every published table, described from the column
catalogue (``columns.yml``), written to ``reports/data_dictionary.csv`` (and, by the workbook,
to the sheet ``dictionary`` of ``tables.xlsx``), and the report's section about it.

One row per table and column actually published: ``table`` (the file stem under
``reports/tables/``), ``column`` (its name in the CSV), ``label`` (the header the report
and the workbook show) and ``description``.  A column the catalogue does not know is
listed by :func:`dictionary_rows` so that the build can name it.

Imports: helpers.io, helpers.report.catalogue, helpers.report.collect, helpers.report.formatting, helpers.report.translate,
helpers.report.values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .catalogue import column
from .collect import read_csv_rows
from .formatting import esc, fmt
from .translate import gettext as _
from .values import column_description, column_label

HEADER = ["table", "column", "label", "description"]
CATALOGUE = "src/helpers/report/columns.yml"


def dictionary_rows(tables: dict[str, Path]) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """(rows of the dictionary, (table, column) of each column with no catalogue entry)."""
    rows: list[list[str]] = []
    missing: list[tuple[str, str]] = []
    for stem, path in tables.items():
        head = next(iter(read_csv_rows(path)), [])
        for name in head:
            c = column(name)
            rows.append([stem, name, c.label, c.description])
            if not c.documented:
                missing.append((stem, name))
    return rows, missing


def undocumented_lines(missing: list[tuple[str, str]]) -> list[str]:
    return [f"column {c!r} of table {t} (reports/tables/{t}.csv) has no entry in the column catalogue "
            f"({CATALOGUE})" for t, c in missing]


def write_dictionary(target: Path, rows: list[list[str]]) -> Path:
    """Write ``data_dictionary.csv`` atomically."""
    from ..io import write_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    return write_text(target, buf.getvalue())


def dictionary_section(rows: list[list[str]], missing: list[tuple[str, str]]) -> str:
    """The report's section "Data dictionary": how tables read, and each distinct column once."""
    tables: dict[str, list[str]] = {}
    info: dict[str, tuple[str, str]] = {}
    for t, name, label, desc in rows:
        tables.setdefault(name, []).append(t)
        info[name] = (label, desc)
    h = [f'<section id="dictionary"><h2>{esc(_("Data dictionary"))}</h2><p>' + _("Tables show their columns in words "
         "and their values as a reader reads them: shares as percentages, yes/no for true/false, countries by name with their ISO "
         "code. The CSV files in <code>reports/tables/</code> keep the column names and values as computed. Every "
         "column of every table is described in <code>reports/data_dictionary.csv</code> (one row per table and "
         "column: table, column, label, description) and in the sheet <code>dictionary</code> of "
         "<code>tables.xlsx</code>, whose table sheets show the labels in row 1 and the column names in row 2. "
         'Suppressed counts read <code>&lt;threshold</code> (primary) or <code>x</code> (secondary); a note under '
         "each table says why.") + "</p>"]
    if missing:
        h.append('<div class="warn">' + _("Columns with no description in the catalogue: {names}.",
                                           names=esc("; ".join(f"{t}.{c}" for t, c in missing))) + "</div>")
    h.append("<details><summary>" + _("The {n} distinct columns of {k} tables", n=fmt(len(info)),
                                      k=fmt(len({r[0] for r in rows}))) + "</summary><table><thead><tr>"
             + "".join(f"<th>{esc(t)}</th>" for t in (_("Column"), _("Label"), _("Description"), _("Tables")))
             + "</tr></thead><tbody>")
    for name in sorted(info):
        ts = tables[name]
        where = esc(ts[0]) + (_(" and {n} more", n=fmt(len(ts) - 1)) if len(ts) > 1 else "")
        c = column(name)
        h.append(f"<tr><td><code>{esc(name)}</code></td><td>{esc(column_label(c))}</td><td>{esc(column_description(c))}</td>"
                 f"<td>{where}</td></tr>")
    h.append("</tbody></table></details></section>")
    return "".join(h)
