"""Languages of the published outputs: message catalogues, numbers in a language's format, and the
figures' texts in French.

The catalogues are gettext ``.po`` files read with babel (``babel.messages.pofile.read_po``; no
compiled ``.mo``).  The figures' catalogue is ``src/helpers/locale/<lang>/LC_MESSAGES/figures.po``:
it is part of the code the kernels run (:func:`helpers.provenance.helpers_hash`), so a changed
translation reruns the notebooks whose figures it touches.  The report's own catalogue lives with
the report (``helpers/report/locale``).

A figure is translated after its English files are written (:func:`translate_figure`, called by
:func:`helpers.outputs.save_figure` when ``RSS_REPORT_LANG`` asks for French): every text of the
figure (titles, axis labels, legend entries, annotations, tick labels) is looked up as a msgid;
texts built from data match a template, a msgid with ``{placeholders}`` (msgctxt ``template``),
whose captured pieces are translated the same way; numbers are re-formatted (decimal comma, narrow
no-break space between thousands).  What has no entry is returned, so that the French report can
refuse to show a half-translated figure.

Imports: no other helpers module.
"""

from __future__ import annotations

import functools
import os
import re
import textwrap
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

#: The languages outputs can be written in; English is the language of the code.
LANGS = ("en", "fr")
#: The environment variable the runner sets for the kernels: the report's language(s) besides English.
LANG_ENV = "RSS_REPORT_LANG"
LOCALE = Path(__file__).resolve().parent / "locale"
#: The width French notes of a figure are wrapped at (the English ones wrap at the same width).
WRAP = 90
_NUMBER = re.compile(r"^([+\-\u2212]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?([eE][+\-]?\d+)?(%?)$")
_TEMPLATE = "template"
#: Values shown as they are in every language: numbers and ranges, codes (``F``, ``DZA``, ``EU - DZA``,
#: ``GIN, MAR, SEN``, ``E1``), machine names (``score_composite``, ``C(sex)[T.M]``, ``rss-default``).
CODE = re.compile(r"""^(?:
    [<>]?[+-]?\d[\d.,]*%?(?:\s?[-–]\s?[+-]?\d[\d.,]*)?\+?
  | [A-Z0-9]{1,8}(?:(?:,\s|\s-\s|-)[A-Z0-9]{1,8})*
  | [a-z]
  | [A-Za-z][\w.]*_[\w.]*
  | \S*[=~\[\]()]\S*
  | [a-z0-9]+(?:-[a-z0-9]+)+
  | nan | -?inf | n/a | \?
)$""", re.VERBOSE)


def report_langs(env: dict[str, str] | None = None) -> list[str]:
    """The languages besides English that outputs are written in (``RSS_REPORT_LANG``, e.g. ``fr``)."""
    text = (os.environ if env is None else env).get(LANG_ENV, "") or ""
    out = []
    for part in re.split(r"[\s,]+", text.strip()):
        if not part or part == "en":
            continue
        if part not in LANGS:
            raise ValueError(f"{LANG_ENV}={text!r}: {part!r} is not one of {', '.join(LANGS)}")
        out.append(part)
    return out


@functools.lru_cache(maxsize=8)
def read_catalogue(path: Path, lang: str):
    """A ``.po`` file as a babel Catalog (cached per path)."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f, locale=lang)


def catalogue(lang: str, domain: str = "figures", folder: Path = LOCALE):
    return read_catalogue(Path(folder) / lang / "LC_MESSAGES" / f"{domain}.po", lang)


def number(text: str, lang: str) -> str | None:
    """``text`` if it is a number written in English (``20,000``, ``0.623``, ``61.8%``, ``−0.2``,
    ``1.6e-23``), in ``lang``'s format; ``None`` if it is not a number.

    Same digits, other format: babel's ``fr_FR`` decimal comma, U+202F thousands and ``61,8 %``.

    Examples
    --------
    >>> [number(t, "fr") for t in ("20,189", "0.623", "61.8%", "\u22120.20", "-1.604e-23", "12", "n/a")]
    ['20\u202f189', '0,623', '61,8\xa0%', '\u22120,20', '-1,604e-23', '12', None]
    >>> number("0.623", "en")
    '0.623'
    """
    m = _NUMBER.match(text.strip())
    if not m:
        return None
    if lang == "en":
        return text
    from babel.numbers import format_decimal, format_percent

    sign, whole, frac, exp, pct = m.groups()
    try:
        value = Decimal(whole.replace(",", "") + ("." + frac if frac else ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    pattern = "#,##0" + ("." + "0" * len(frac) if frac else "")
    if pct:
        body = format_percent(value / 100, format=pattern + "\u00a0%", locale=f"{lang}_FR")
    else:
        body = format_decimal(value, format=pattern, locale=f"{lang}_FR") + (exp or "")
    return sign + body


def _any(name: str) -> str:
    return f"(?P<{name}>.+?)"


def template_pattern(msgid: str, group: Callable[[str], str] = _any) -> re.Pattern:
    """The regular expression of a template: its text as it is, each ``{name}`` the group ``group(name)``
    (default: any text, as little as will do)."""
    parts = re.split(r"\{(\w+)\}", msgid)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else group(p) for i, p in enumerate(parts)) + "$", re.S)


@functools.lru_cache(maxsize=64)
def templates(cat: Any, context: str, group: Callable[[str], str] = _any) -> list[tuple[re.Pattern, str]]:
    """The translated templates of ``context`` in catalogue ``cat``, as (pattern, msgstr), the most specific
    first (the most fixed text, then the fewest placeholders).  The report and the figures both match these."""
    found = [m for m in cat if m.context == context and m.id and m.string and not m.fuzzy and "{" in m.id]
    found.sort(key=lambda m: (-len(re.sub(r"\{\w+\}", "", m.id)), m.id.count("{")))
    return [(template_pattern(m.id, group), m.string) for m in found]


class Translator:
    """Texts of one kind of output in one language, from a catalogue; :attr:`missing` collects the gaps."""

    def __init__(self, lang: str, cat: Any):
        self.lang, self.cat = lang, cat
        self.missing: dict[str, None] = {}

    def lookup(self, text: str) -> str | None:
        """``text`` in the language, or ``None`` (nothing recorded as missing)."""
        if not text.strip():
            return text
        found = number(text, self.lang)
        if found is not None:
            return found
        m = self.cat.get(text)
        if m is not None and m.string and not m.fuzzy:
            return m.string
        for pattern, string in templates(self.cat, _TEMPLATE):
            hit = pattern.match(text)
            if hit:
                pieces = {k: self.lookup(v) for k, v in hit.groupdict().items()}
                if all(v is not None for v in pieces.values()):
                    return string.format(**pieces)
        if CODE.match(text):  # a code (SEN, EU, M, E1), a range, a machine name: the same in every language
            return text
        return None

    def __call__(self, text: str) -> str:
        """``text`` in the language; a text without an entry stays English and is recorded in :attr:`missing`."""
        if self.lang == "en":
            return text
        lines = text.split("\n")
        if len(lines) > 1:  # a title over a note wrapped at WRAP: the note is translated whole, then wrapped again
            head = self(lines[0])
            note = self(" ".join(lines[1:]))
            return "\n".join([head, *textwrap.wrap(note, WRAP)]) if note else head
        found = self.lookup(text)
        if found is None:
            self.missing[text] = None
            return text
        return found


def translate_figure(fig: Any, lang: str, translator: Translator | None = None) -> list[str]:
    """Translate every text of a matplotlib Figure in place; return the texts with no entry.

    Tick labels are drawn by the axis' formatter at each draw, so they are read after one draw
    and fixed (a ``FixedLocator`` at the same positions and a ``FixedFormatter`` of the translated
    labels).  A figure laid out by a layout engine is laid out again for the new texts.
    """
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FixedLocator

    tr = translator or Translator(lang, catalogue(lang))
    fig.canvas.draw_without_rendering() if hasattr(fig.canvas, "draw_without_rendering") else fig.canvas.draw()
    ticks: set[int] = set()
    done: set[int] = set()  # axes that share an axis share its ticker: translate its labels once
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                minor = which == "minor"
                labels = axis.get_ticklabels(minor=minor)
                ticks.update(id(t) for t in labels)
                texts = [t.get_text() for t in labels]
                ticker = axis.minor if minor else axis.major
                if not any(texts) or id(ticker) in done:
                    continue
                done.add(id(ticker))
                locs = list(axis.get_minorticklocs() if minor else axis.get_majorticklocs())
                if len(locs) != len(texts):  # labels not one a position: cannot be fixed, so said, never left silently
                    tr.missing.update((t, None) for t in texts if t and tr.lookup(t) != t)
                    continue
                new = [tr(t) for t in texts]
                if minor:
                    axis.set_minor_locator(FixedLocator(locs))
                    axis.set_minor_formatter(FixedFormatter(new))
                else:
                    axis.set_major_locator(FixedLocator(locs))
                    axis.set_major_formatter(FixedFormatter(new))
    from matplotlib.axis import Tick

    for tick in _texts(fig, Tick):  # a new tick (more positions) has new labels: all are the formatter's
        ticks.update((id(tick.label1), id(tick.label2)))
    for t in _texts(fig, Text):
        if id(t) not in ticks and t.get_text():
            t.set_text(tr(t.get_text()))
    return list(tr.missing)


def _texts(fig: Any, kind: type) -> Iterable[Any]:
    seen: set[int] = set()
    for t in fig.findobj(kind):
        if id(t) not in seen:
            seen.add(id(t))
            yield t
