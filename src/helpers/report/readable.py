"""Tables as a reader reads them: headers in words (the catalogue's labels), values in words
(``True``/``False`` as yes/no, shares as percentages, countries as "Niger (NER)", counts with
thousands separators), table titles, and the suppression marks with the notes that say why.

The CSV files keep the machine names and values; the report and the workbook carry the
machine name of each column beside its label (``<th data-col="n_respondents">`` in the
page, the second row of each sheet), which is what ``rss check`` reads.

Imports: helpers.report.catalogue, helpers.report.collect, helpers.report.formatting, helpers.report.translate,
helpers.report.inputs,
helpers.report.sections, helpers.report.values.
"""

from __future__ import annotations

import re
from typing import Any

from .catalogue import Column
from .collect import parse_number
from .formatting import humanize_key
from .inputs import country_label
from .sections import COUNTRY_STEM
from .translate import N_, country_name, number
from .translate import gettext as _
from .values import cell_text

#: Footnote references of the two suppression marks: primary ("<10") and secondary ("x").
PRIMARY, SECONDARY = "s1", "s2"
_PRIMARY_MARK = re.compile(r"^<\d+$")


def country_text(code: str) -> str:
    """A country code as a reader reads it: ``"Niger (NER)"``; the code alone when pycountry does not know it.

    Examples
    --------
    >>> country_text("NER"), country_text("CIV"), country_text("pooled")
    ('Niger (NER)', "Côte d'Ivoire (CIV)", 'pooled')
    """
    name = country_name(code.strip(), country_label(code.strip())) if re.fullmatch(r"[A-Z]{3}", code.strip()) else ""
    return f"{name} ({code.strip()})" if name else code


def table_title(stem: str) -> str:
    """The title of a table or figure file: ``country_NER_sample`` reads "Niger (NER): Sample".

    Examples
    --------
    >>> table_title("country_NER_sample"), table_title("prepare_exclusions_by_country")
    ('Niger (NER): Sample', 'Prepare exclusions by country')
    """
    m = COUNTRY_STEM.match(stem)
    if not m:
        return humanize_key(stem)
    rest = stem[m.end():]
    return country_text(m.group(1)) + (f"{_(': ')}{humanize_key(rest)}" if rest else "")


def mark_of(col: Column, text: str) -> str | None:
    """``PRIMARY`` for a count shown as ``"<10"``, ``SECONDARY`` for one shown as ``"x"``, else None."""
    if col.kind != "count":
        return None
    t = text.strip()
    if _PRIMARY_MARK.match(t):
        return PRIMARY
    return SECONDARY if t == "x" else None


def suppression_notes(marks: set[str], threshold: int) -> list[tuple[str, str, str]]:
    """(reference, mark, why) for each mark a table shows, primary first."""
    out = []
    if PRIMARY in marks:
        out.append((PRIMARY, f"<{threshold}", N_("fewer than {threshold} respondents, hidden (primary suppression)")))
    if SECONDARY in marks:
        out.append((SECONDARY, "x", N_("hidden so that a hidden small count cannot be recovered by subtraction from "
                                       "the table's total (secondary suppression)")))
    return [(ref, mark, _(why, threshold=threshold)) for ref, mark, why in out]


def reader_text(col: Column, text: str) -> str:
    """A CSV cell as the page shows it (not escaped).

    Examples
    --------
    >>> from helpers.report.catalogue import column
    >>> reader_text(column("share"), "0.618047"), reader_text(column("suppressed"), "True")
    ('61.8%', 'yes')
    >>> reader_text(column("n_surveys"), "20189"), reader_text(column("country"), "NER")
    ('20,189', 'Niger (NER)')
    >>> reader_text(column("mean"), "0.524784"), reader_text(column("p_value"), "1.60353e-23")
    ('0.5248', '1.604e-23')
    """
    t = text.strip()
    if t in ("True", "False"):
        return _("yes") if t == "True" else _("no")
    if t == "" or col.kind == "country":
        shown = country_text(t) if t else ""
        return cell_text(col, t) if t and shown == t else shown
    if parse_number(t) is None:
        return cell_text(col, text)
    return number(_reader_text_en(col, text))


def _reader_text_en(col: Column, text: str) -> str:
    t = text.strip()
    v = parse_number(t)
    if v is None:
        return text
    if col.kind == "share" and 0 <= v <= 1:
        return f"{100 * v:.1f}%"
    if re.fullmatch(r"[+-]?\d+", t):
        return f"{int(t):,}" if col.kind == "count" else t
    return f"{v:.4g}"


def reader_cell(col: Column, text: str) -> tuple[Any, str | None]:
    """A CSV cell as the workbook holds it: (value, its number format: ``"count"``, ``"share"`` or None).

    Shares stay the fraction (0.618047) with a percent format, so the sheet computes with
    the exact value and shows 61.8%; counts are whole numbers shown with thousands
    separators; yes/no and country names are text; suppression marks stay ``"<10"``/``"x"``.

    Examples
    --------
    >>> from helpers.report.catalogue import column
    >>> reader_cell(column("share"), "0.618047"), reader_cell(column("n_respondents"), "<10")
    ((0.618047, 'share'), ('<10', None))
    >>> reader_cell(column("fieldwork"), "False"), reader_cell(column("mean"), "")
    (('no', None), (None, None))
    """
    t = text.strip()
    if t in ("True", "False"):
        return ("yes" if t == "True" else "no"), None
    if t == "":
        return None, None
    if col.kind == "country":
        return country_text(t), None
    if re.fullmatch(r"[+-]?\d{1,15}", t):
        return int(t), ("count" if col.kind == "count" else None)
    v = parse_number(t)
    if v is None or t.lower() in ("inf", "-inf", "+inf", "infinity", "-infinity"):
        return text, None
    return v, ("share" if col.kind == "share" and 0 <= v <= 1 else None)
