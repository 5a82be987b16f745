"""The report's language: gettext-style lookup :func:`_` of every fixed text, French numbers and
country names (babel), and the translation of the notebooks' English headlines.

The French strings are in ``locale/fr/LC_MESSAGES/report.po``, read at build time with
``babel.messages.pofile.read_po`` (no compiled ``.mo``).  In French mode every msgid looked up
without a translation is collected (:func:`missing`); ``build_report(lang="fr")`` fails naming them.
Headlines are msgids with context ``headline`` and ``{placeholders}``, matched as regular
expressions; the captured numbers are re-formatted in French.

Extract the messages into ``report.pot`` (the code's ``_()`` calls and the labels and
descriptions of ``columns.yml``), then merge into the catalogue::

    python -m helpers.report.translate extract        # = pybabel extract -k _ over src/helpers/report + columns.yml
    pybabel update -D report -i src/helpers/report/locale/report.pot -d src/helpers/report/locale -l fr

Imports: no other helpers module.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGS = ("en", "fr")
_state: dict[str, Any] = {"lang": "en", "missing": {}}
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(e[+-]?\d+)?(%?)$")


@functools.lru_cache(maxsize=4)
def catalogue(lang: str):
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "report.po", "rb") as f:
        return read_po(f, locale=lang, domain="report")


@contextlib.contextmanager
def language(lang: str) -> Iterator[None]:
    """Build in ``lang`` inside the block; :func:`missing` then lists the msgids without a translation."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: one of {LANGS}")
    old = dict(_state)
    _state.update(lang=lang, missing={})
    try:
        yield
    finally:
        _state.clear()
        _state.update(old)


def lang() -> str:
    return _state["lang"]


def missing() -> list[str]:
    return list(_state["missing"])


def note_missing(text: str) -> None:
    """Record a text of the page that has no entry in the current language (e.g. a figure's label)."""
    if _state["lang"] != "en":
        _state["missing"][text] = True


def gettext(msgid: str, *, context: str | None = None, **values: Any) -> str:
    """``msgid`` in the current language, with ``{name}`` placeholders filled from ``values``."""
    text = msgid
    if _state["lang"] != "en":
        m = catalogue(_state["lang"]).get(msgid, context=context)
        if m is not None and m.string and not m.fuzzy:
            text = m.string
        else:
            _state["missing"][msgid] = True
    return text.format(**values) if values else text


def number(text: str) -> str:
    """An English-formatted number (``20,000``, ``0.623``, ``61.8%``, ``1.6e-23``) in the current language.

    Same digits, other format: babel's ``fr_FR`` decimal comma, U+202F thousands and ``61,8 %``.

    Examples
    --------
    >>> with language("fr"):
    ...     number("20,189"), number("0.623"), number("61.8%"), number("-1.604e-23"), number("n/a")
    ('20\u202f189', '0,623', '61,8\xa0%', '-1,604e-23', 'n/a')
    """
    m = _NUMBER.match(text.strip())
    if _state["lang"] == "en" or not m:
        return text
    from babel.numbers import format_decimal, format_percent

    sign, whole, frac, exp, pct = m.groups()
    value = Decimal(sign + whole.replace(",", "") + ("." + frac if frac else ""))
    pattern = "#,##0" + ("." + "0" * len(frac) if frac else "")
    if pct:
        return format_percent(value / 100, format=pattern + "\u00a0%", locale="fr_FR")
    return format_decimal(value, format=pattern, locale="fr_FR") + (exp or "")


def country_name(alpha_3: str, english: str) -> str:
    """The country's name in the current language (babel's territories through pycountry's alpha-2)."""
    if _state["lang"] == "en":
        return english
    import babel
    import pycountry

    c = pycountry.countries.get(alpha_3=alpha_3)
    return babel.Locale(_state["lang"]).territories.get(c.alpha_2, english) if c else english


def _pattern(msgid: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", msgid)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)) + "$")


def headline(text: str) -> str:
    """A notebook's English headline in the current language (a missing entry when no msgid matches)."""
    if _state["lang"] == "en":
        return text
    for m in catalogue(_state["lang"]):
        if m.context != "headline" or not m.id or not m.string:
            continue
        found = _pattern(m.id).match(text)
        if found:
            return m.string.format(**{k: _word(v) for k, v in found.groupdict().items()})
    _state["missing"][text] = True
    return text


def _word(value: str) -> str:
    """A captured piece of a headline: a number in the current format, a country code as it is, else translated."""
    if _NUMBER.match(value.strip()) or re.fullmatch(r"[A-Z]{3}", value):
        return number(value)
    return gettext(value)


_ = gettext


class MissingTranslations(Exception):
    """``build_report(lang=...)`` met texts with no entry in the language's catalogue."""

    def __init__(self, lang: str, msgids: list[str]):
        self.msgids = msgids
        shown = "\n  ".join(repr(m) for m in msgids[:40])
        more = f"\n  ... and {len(msgids) - 40} more" if len(msgids) > 40 else ""
        super().__init__(f"{len(msgids)} text(s) without a {lang} entry in locale/{lang}/LC_MESSAGES/report.po:"
                         f"\n  {shown}{more}")
