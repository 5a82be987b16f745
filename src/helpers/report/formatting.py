"""Formatting values for the page: escaping, numbers (thousands, decimals), key names in words
and workbook sheet names.

Imports: helpers.report.translate, helpers.report.sections, helpers.report.values.
"""

from __future__ import annotations

import html
from typing import Any

from .sections import INVALID_SHEET
from .translate import gettext as _
from .translate import number
from .values import humanize_key_en, key_label, number_text


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def fmt(v: Any) -> str:
    """:func:`fmt_en` in the report's language (:func:`helpers.report.translate.number`)."""
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    return number(fmt_en(v))


def fmt_en(v: Any) -> str:
    """Format a number for prose: thousands separators, 3 significant digits.

    Examples
    --------
    >>> fmt_en(20000), fmt(0.623456), fmt(12.345), fmt(0.000123), fmt(True), fmt(3.0)
    ('20,000', '0.623', '12.3', '0.000123', 'yes', '3')
    """
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}"
    return str(v)


def humanize_key(key: str) -> str:
    """:func:`helpers.report.values.humanize_key_en` in the report's language (:func:`~helpers.report.values.key_label`).

    Examples
    --------
    >>> humanize_key("did_composite_ci_low"), humanize_key("prepare.n_surveys")
    ('DiD composite CI low', 'Prepare: n surveys')
    """
    return key_label(key)


__all__ = ["esc", "fmt", "fmt_en", "humanize_key", "humanize_key_en", "number_html", "scalar_items", "sheet_names"]


def number_html(value: Any, key: str) -> str:
    text = number_text(key, value) if isinstance(value, str) else fmt(value)
    return f'<span class="num" data-key="{esc(key)}">{esc(text)}</span>'


def scalar_items(obj: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Flatten scalar entries of a numbers file (two levels), skipping the headlines."""
    out: list[tuple[str, Any]] = []
    if not isinstance(obj, dict):
        return out
    for k, v in obj.items():
        if k in ("headlines", "synthetic") and depth == 0:
            continue
        key = f"{prefix}{k}"
        if isinstance(v, (int, float, str, bool)) and v is not None:
            out.append((key, v))
        elif isinstance(v, dict) and depth < 1:
            out.extend(scalar_items(v, key + ".", depth + 1))
    return out


def sheet_names(stems: list[str]) -> dict[str, str]:
    """Excel sheet names for table stems: at most 31 characters, no ``[]:*?/\\``, unique ignoring case.

    Examples
    --------
    >>> sheet_names(["country_SEN_indicators_vs_pooled_median", "country_SEN_indicators_vs_pooled_median_w2", "a/b"])
    {'country_SEN_indicators_vs_pooled_median': 'country_SEN_indicators_vs_poole', 'country_SEN_indicators_vs_pooled_median_w2': 'country_SEN_indicators_vs_poo~2', 'a/b': 'a_b'}
    """
    used = {"contents", "dictionary"}
    out = {}
    for stem in stems:
        base = INVALID_SHEET.sub("_", stem).strip("'") or "table"
        name = base[:31]
        k = 2
        while name.lower() in used:
            suffix = f"~{k}"
            name = base[: 31 - len(suffix)] + suffix
            k += 1
        used.add(name.lower())
        out[stem] = name
    return out
