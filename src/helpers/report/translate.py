"""The report's language: gettext-style lookup :func:`_` of every fixed text, French numbers and
country names (babel), and the translation of texts the notebooks wrote (headlines, table values).

The French strings are in ``locale/fr/LC_MESSAGES/report.po``, read at build time with
``babel.messages.pofile.read_po`` (no compiled ``.mo``).  In French mode every msgid looked up
without a translation is collected (:func:`missing`); ``build_report(lang="fr")`` fails naming them.

Texts written from data go through templates: a msgid with ``{placeholders}`` in a context
(``headline``, ``value``, ...) is matched as a regular expression (:func:`phrase`); what a
placeholder captured is rendered by the placeholder's name (:func:`fill`): numbers re-formatted,
codes kept, dimension names and clauses translated in turn.

Extract the messages into ``report.pot`` (the code's ``_()``/``gettext``/``pgettext``/``N_``/``NC_``
calls, the labels, descriptions, patterns and words of ``columns.yml``, and the finite sets of
:mod:`helpers.report.vocabulary`), list what the catalogue lacks, then merge::

    python -m helpers.report.translate extract        # writes src/helpers/report/locale/report.pot
    python -m helpers.report.translate check          # msgids of report.pot without a French msgstr (exit 1)
    pybabel update -D report -i src/helpers/report/locale/report.pot -d src/helpers/report/locale -l fr

Imports: helpers.i18n, helpers.report.vocabulary.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import i18n

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
POT = LOCALE_DIR / "report.pot"
LANGS = i18n.LANGS
_state: dict[str, Any] = {"lang": "en", "missing": {}}
CODE = i18n.CODE
KEYWORDS = {"_": None, "gettext": None, "N_": None, "pgettext": ((1, "c"), 2), "NC_": ((1, "c"), 2)}


def catalogue(lang: str):
    return i18n.catalogue(lang, "report", LOCALE_DIR)


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
    """The texts without a translation: the msgid, with ``[context]`` before it when it has one."""
    return list(_state["missing"])


def _note_missing(msgid: str, context: str | None) -> None:
    _state["missing"][msgid if context is None else f"[{context}] {msgid}"] = True


def translation(msgid: str, context: str | None = None) -> str | None:
    """The current language's text of ``msgid`` (None when the catalogue has none); records nothing."""
    if _state["lang"] == "en":
        return msgid
    m = catalogue(_state["lang"]).get(msgid, context=context)
    return m.string if m is not None and m.string and not m.fuzzy else None


def note_missing(text: str) -> None:
    """Record a text of the page that has no entry in the current language (e.g. a figure's label)."""
    if _state["lang"] != "en":
        _note_missing(text, None)


def gettext(msgid: str, *, context: str | None = None, **values: Any) -> str:
    """``msgid`` in the current language, with ``{name}`` placeholders filled from ``values``."""
    text = translation(msgid, context)
    if text is None:
        _note_missing(msgid, context)
        text = msgid
    return text.format(**values) if values else text


def pgettext(context: str, msgid: str, **values: Any) -> str:
    """:func:`gettext` of ``msgid`` in ``context`` (a msgctxt: the same English in another French)."""
    return gettext(msgid, context=context, **values)


def N_(msgid: str) -> str:  # noqa: N802 -- the gettext name of a no-op marker
    """Marks a text for extraction; it is translated where it is shown."""
    return msgid


def NC_(context: str, msgid: str) -> str:  # noqa: N802
    """Marks a text with its context for extraction; it is translated where it is shown."""
    return msgid


def number(text: str) -> str:
    """An English-formatted number (``20,000``, ``0.623``, ``61.8%``, ``1.6e-23``) in the current language.

    Same digits, other format: babel's ``fr_FR`` decimal comma, U+202F thousands and ``61,8 %``.

    Examples
    --------
    >>> with language("fr"):
    ...     number("20,189"), number("0.623"), number("61.8%"), number("-1.604e-23"), number("n/a")
    ('20\u202f189', '0,623', '61,8\xa0%', '-1,604e-23', 'n/a')
    """
    return i18n.number(text, _state["lang"]) or text


def is_number(text: str) -> bool:
    return i18n.number(text, "en") is not None


def country_name(alpha_3: str, english: str) -> str:
    """The country's name in the current language (babel's territories through pycountry's alpha-2)."""
    if _state["lang"] == "en":
        return english
    import babel
    import pycountry

    c = pycountry.countries.get(alpha_3=alpha_3)
    return babel.Locale(_state["lang"]).territories.get(c.alpha_2, english) if c else english


# ---------------------------------------------------------------- texts written from data


def _group(name: str) -> str:
    """The regular expression of a placeholder: ``var*`` a variable's name, ``num*`` a number, else any text."""
    if name.startswith("var"):
        return rf"(?P<{name}>[A-Za-z]\w*?)"
    if name.startswith("num"):
        return rf"(?P<{name}>[+-]?\d[\d.,]*(?:e[+-]?\d+)?%?)"
    return rf"(?P<{name}>.+?)"


def _templates(lang: str, context: str) -> list[tuple[re.Pattern, str]]:
    """The templates of ``context``, the most specific first, their placeholders typed by name (:func:`_group`)."""
    return i18n.templates(catalogue(lang), context, _group)


def phrase(text: str, context: str) -> str:
    """A text written from data (a headline, a table value) in the current language.

    An exact msgid of ``context`` first, else the first template of ``context`` that matches, its
    captures rendered by :func:`fill`; neither: the text as it is, recorded as missing.

    Examples
    --------
    >>> phrase("Mean composite score by country ranges from 0.41 (IRQ) to 0.57 (MAR).", "headline")[:12]
    'Mean composi'
    """
    if _state["lang"] == "en":
        return text
    exact = translation(text, context)
    if exact is not None:
        return exact
    done = match_template(text, context)
    if done is None:
        _note_missing(text, context)
        return text
    return done


def match_template(text: str, context: str) -> str | None:
    """The first template of ``context`` that matches ``text``, filled; None when none does (nothing recorded)."""
    if _state["lang"] == "en":
        return None
    for rx, string in _templates(_state["lang"], context):
        found = rx.match(text)
        if found:
            return string.format(**{k: fill(k, v, context) for k, v in found.groupdict().items()})
    return None


def headline(text: str) -> str:
    """A notebook's English headline in the current language (a missing entry when no msgid matches)."""
    return phrase(text, "headline")


def fill(name: str, value: str, context: str) -> str:
    """What a template's placeholder captured, by the placeholder's name.

    ``code*``/``id*``: as it is; ``dim*``: a dimension (context ``dimension``); ``score*``: a score's
    name (context ``score``); ``var*``: a variable (context ``variable``; unknown ones as they are);
    ``word*``: a word of context ``value``; ``clause*``: a piece translated by the templates of the same
    context (of ``headline part`` for a headline); ``list*``/``parts*``: pieces separated by ``", "``/``" | "``,
    each so (a list of numbers joined by the context ``number list separator``); anything else (``num*``
    too): a number re-formatted, a code as it is, or a text looked up.
    """
    if name.startswith(("code", "id")):
        return value
    if name.startswith("dim"):
        return pgettext("dimension", value)
    if name.startswith("score"):
        return pgettext("score", value)
    if name.startswith("var"):
        return translation(value, "variable") or value
    if name.startswith("word"):
        return pgettext("value", value)
    if name.startswith(("clause", "list", "parts")):
        sep = {"c": "", "l": ", ", "p": " | "}[name[0]]
        pieces = value.split(sep) if sep else [value]
        part = "headline part" if context == "headline" else context
        if sep == ", " and all(is_number(p) for p in pieces):
            sep = translation(sep, "number list separator") or sep
        return sep.join(_piece(p, part) for p in pieces)
    if is_number(value) or CODE.match(value.strip()):
        return number(value)
    return gettext(value)


def _piece(value: str, context: str) -> str:
    if is_number(value):
        return number(value)
    done = translation(value, context) or match_template(value, context)
    if done is not None:
        return done
    return value if CODE.match(value.strip()) else phrase(value, context)


_ = gettext


class MissingTranslations(Exception):
    """``build_report(lang=...)`` met texts with no entry in the language's catalogue."""

    def __init__(self, lang: str, msgids: list[str]):
        self.msgids = msgids
        shown = "\n  ".join(repr(m) for m in msgids[:40])
        more = f"\n  ... and {len(msgids) - 40} more" if len(msgids) > 40 else ""
        super().__init__(f"{len(msgids)} text(s) without a {lang} entry in locale/{lang}/LC_MESSAGES/report.po:"
                         f"\n  {shown}{more}")


# ---------------------------------------------------------------- extraction


def python_calls(fileobj, keywords, comment_tags, options):
    """A babel extraction method: every call of a keyword in a Python file, also inside f-strings.

    Yields ``(line, keyword, arguments, comments)``; an argument that is not a literal string is None
    (babel then skips the call: a text looked up from a variable is listed where it is defined, with
    :func:`N_`/:func:`NC_`, or in :mod:`helpers.report.vocabulary`).
    """
    import ast

    calls = [n for n in ast.walk(ast.parse(fileobj.read())) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id in keywords]
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        args = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args)
        if args and all(a is not None for a in args[:2]):
            yield node.lineno, node.func.id, args, []


def extract(target: Path = POT):
    """Write ``report.pot``: every text the report can show, with its context; return the catalogue."""
    import yaml
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import write_po

    from . import vocabulary

    here = Path(__file__).resolve().parent
    cat = Catalog(domain="report", project="rss-report", charset="utf-8")

    def add(msgid: str, where: str, context: str | None = None) -> None:
        if not msgid:
            return
        old = cat.get(msgid, context=context)
        if old is None:
            cat.add(msgid, locations=[(where, None)], context=context)
        elif (where, None) not in old.locations:
            old.locations.append((where, None))

    for p in sorted(here.glob("*.py")):
        for _line, msg, _comments, context in extract_from_file(python_calls, p, keywords=KEYWORDS):
            if isinstance(msg, str):
                add(msg, f"src/helpers/report/{p.name}", context)
    cols = yaml.safe_load((here / "columns.yml").read_text(encoding="utf-8"))
    for e in cols["columns"].values():
        add(e["label"], "src/helpers/report/columns.yml")
        add(e["description"], "src/helpers/report/columns.yml")
    for p in cols["patterns"]:
        add(p["label"], "src/helpers/report/columns.yml", "column pattern")
        add(p["description"], "src/helpers/report/columns.yml", "column pattern")
    for family, words in cols["words"].items():
        for w in words.values():
            add(w, "src/helpers/report/columns.yml", f"column word: {family}")
    for context, msgid, where in vocabulary.messages():
        add(msgid, where, context)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as f:
        write_po(f, cat, width=0, omit_header=False, sort_output=False)
    return cat


def check(lang: str = "fr", pot: Path = POT) -> tuple[list[str], list[str]]:
    """(msgids of ``pot`` without a ``lang`` msgstr, msgids of the catalogue no longer in ``pot``)."""
    from babel.messages.pofile import read_po

    with open(pot, "rb") as f:
        template = read_po(f, domain="report")
    po = catalogue(lang)

    def name(m) -> str:
        return m.id if m.context is None else f"[{m.context}] {m.id}"

    lacking = []
    for m in template:
        if not m.id:
            continue
        t = po.get(m.id, context=m.context)
        if t is None or not t.string or t.fuzzy:
            lacking.append(name(m))
    obsolete = [name(m) for m in po if m.id and template.get(m.id, context=m.context) is None]
    return lacking, obsolete


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.report.translate extract|check``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["extract"]:
        cat = extract()
        print(f"wrote {POT} ({sum(1 for m in cat if m.id)} messages)")
        return 0
    if args[:1] == ["check"]:
        if not POT.is_file():
            extract()
        lacking, obsolete = check()
        for m in lacking:
            print(f"no French: {m!r}")
        if obsolete:
            print(f"({len(obsolete)} entries of report.po are not in report.pot: obsolete, or data-dependent "
                  "texts the report no longer looks up)", file=sys.stderr)
        print(f"{len(lacking)} of the messages of {POT.name} have no French msgstr", file=sys.stderr)
        return 1 if lacking else 0
    print("usage: python -m helpers.report.translate extract|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
