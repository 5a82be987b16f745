"""Build ``reports/report.html`` and ``reports/tables.xlsx`` from what the notebooks wrote.

    rss report        (also run by ``rss run`` when every notebook succeeded)

The report is built from files, never from notebook cells:

* ``reports/numbers/<section>.json`` -- merged into ``reports/numbers.json``
  (``{"prepare": {...}, "country_SEN": {...}, "cross_country": {...}, ...}``); every
  number of the executive summary is taken from there and carries its key
  (``<span class="num" data-key="prepare.n_surveys">``);
* ``reports/tables/*.csv`` -- shown as HTML tables and written one sheet each to
  ``tables.xlsx`` (sheet names at most 31 characters and unique, a ``contents`` sheet
  maps them back to the files);
* ``reports/figures/*.png`` / ``*.svg`` -- embedded as base64 ``data:`` URIs (PNG
  preferred when both exist), so the single HTML file works offline, with no
  external CSS, script or image.

Files go to sections by name: ``country_<ISO3>_*`` to that country's page, and
``prepare_*``/``quality_*``/``data_*`` (section 0), ``cross_*``,
``dimension_interdependence*`` and ``determinants*`` (2), ``mentoring_*`` (3),
``weight_sensitivity*``/``weights_*`` (4); anything else to "Other outputs".  Inside
a section, the stems of its ``lead`` come first (a figure, then the table of the same
name), the other files after them.  A section with no file says "not computed yet".

A section's ``headlines`` (from its numbers file) open the section as its findings
and make the executive summary; a numbers file may also list ``summary_keys``, the
numbers the summary shows beside the headlines, each carrying its key.  Long text
columns of a table that repeat a few values (e.g. the covariance of tidy estimate
rows) are shown as lettered notes under the table (the CSV and the workbook keep them).

As a second line of defence for the disclosure rule, a table row whose ``n`` or
``n_respondents`` column is below the threshold (``disclosure_threshold`` of
``prepare.json``, default 10) is suppressed in both the HTML and the workbook, and the
table says how many rows were.

The synthetic-data banner is shown exactly when the data is synthetic: when
``prepare.json`` says ``"synthetic": true`` or the input folder holds ``truth.json``.
"""

from __future__ import annotations

from .build import build_report, main
from .collect import Outputs, suppress
from .formatting import esc, fmt, sheet_names
from .inputs import is_synthetic, report_key
from .markup import CSS
from .sections import BANNER, DEFAULT_THRESHOLD, MAX_ROWS_SHOWN, N_COLUMNS, SECTIONS, Section
from .translate import MissingTranslations

__all__ = [
    "MissingTranslations",
    "SECTIONS",
    "BANNER",
    "build_report",
    "report_key",
    "sheet_names",
    "is_synthetic",
    "main",
    "CSS",
    "DEFAULT_THRESHOLD",
    "MAX_ROWS_SHOWN",
    "N_COLUMNS",
    "Outputs",
    "Section",
    "esc",
    "fmt",
    "suppress",
]
