"""What the notebooks wrote, in the report's language: key names of ``numbers.json`` and file stems
in words, the texts of table cells and of numbers, and the column catalogue's labels and descriptions.

English is the text as computed (``humanize_key_en``, the cell as it is, the catalogue's label).
In another language each kind goes through a template or a finite set of msgids
(:mod:`helpers.report.vocabulary`): a key such as ``lead_economic_to_social_ci_low`` is the template
"Lead {score} to {score2} CI low" (context ``key``) with its scores translated; a cell is an exact
word of its column's context, a template of context ``value``, or a machine name or code, which
is shown as it is; a family column's label is its pattern's template (context ``column pattern``)
with the base label and the words (context ``column word: <family>``) translated.

Imports: helpers.report.catalogue, helpers.report.translate, helpers.report.vocabulary.
"""

from __future__ import annotations

import re

from .catalogue import Column
from .translate import CODE, is_number, lang, match_template, number, pgettext, phrase, translation
from .translate import gettext as _
from .vocabulary import COLUMN_CONTEXT, MACHINE_COLUMNS, SCHEME_KEYS, SCORES

_ACRONYMS = {"did": "DiD", "ipw": "IPW", "aipw": "AIPW", "ci": "CI", "ols": "OLS", "fe": "FE", "pca": "PCA"}


def humanize_key_en(key: str) -> str:
    """A key or file stem as a label.

    Examples
    --------
    >>> humanize_key_en("did_composite_ci_low"), humanize_key_en("prepare.n_surveys")
    ('DiD composite CI low', 'Prepare: n surveys')
    """
    k = key.replace("_", " ").replace(".", ": ").strip()
    k = " ".join(_ACRONYMS.get(w, w) for w in k.split(" "))
    return k[:1].upper() + k[1:]


def key_template(key: str) -> tuple[str, dict[str, str]]:
    """The key with its scores, country codes and numbers as placeholders, and what they hold.

    Examples
    --------
    >>> key_template("lead_economic_to_social_ci_low")
    ('lead_{score}_to_{score2}_ci_low', {'score': 'economic', 'score2': 'social'})
    >>> key_template("surveys_by_wave.1"), key_template("country_NER_bands")
    (('surveys_by_wave.{n}', {'n': '1'}), ('country_{code}_bands', {'code': 'NER'}))
    """
    out, fills, seen = [], {}, {}
    for t in re.split(r"([_.])", key):
        kind = "score" if t in SCORES else "code" if re.fullmatch(r"[A-Z]{3}", t) else "n" if t.isdigit() else None
        if kind is None:
            out.append(t)
            continue
        seen[kind] = seen.get(kind, 0) + 1
        name = kind if seen[kind] == 1 else f"{kind}{seen[kind]}"
        fills[name] = t
        out.append("{" + name + "}")
    return "".join(out), fills


def key_label(key: str) -> str:
    """A key of ``numbers.json`` or a file stem in words, in the report's language."""
    if lang() == "en":
        return humanize_key_en(key)
    template, fills = key_template(key)
    if not fills:
        return _(humanize_key_en(key))
    shown = {k: pgettext("score", v) if k.startswith("score") else number(v) for k, v in fills.items()}
    return pgettext("key", humanize_key_en(template), **shown)


def cell_text(col: Column, text: str) -> str:
    """A table cell's text (not a number) in the report's language.

    Machine-name columns (:data:`MACHINE_COLUMNS`) as they are; otherwise an exact word of the
    column's context (:data:`COLUMN_CONTEXT`, default ``value``), a template of context ``value``,
    a code or machine name as it is, or (recorded as missing) the text.
    """
    t = text.strip()
    if lang() == "en" or not t or col.name in MACHINE_COLUMNS:
        return text
    context = COLUMN_CONTEXT.get(col.name, "value")
    exact = translation(t, context)
    if exact is not None:
        return exact
    if context != "value":
        exact = translation(t, "value")
        if exact is not None:
            return exact
    done = match_template(t, "value")
    if done is not None:
        return done
    if CODE.match(t) or is_number(t):
        return text
    return phrase(t, "value")


def number_text(key: str, value: str) -> str:
    """A text value of ``numbers.json`` (a verdict, a note, a country code, the scheme's title)."""
    t = value.strip()
    if lang() == "en" or not t:
        return value
    if key.rsplit(".", 1)[-1] in SCHEME_KEYS:
        return pgettext("scheme", t)
    exact = translation(t, "value")
    if exact is not None:
        return exact
    if CODE.match(t) or is_number(t):
        return number(value)
    return phrase(t, "value")


def status_text(status: str) -> str:
    """A notebook run's state (``ok``, ``failed``, ``timeout``) in the report's language."""
    return status if lang() == "en" or status in ("", "?") else _(status)


def _fields(col: Column) -> dict[str, str]:
    out = {}
    for field, family, text in col.parts:
        out[field] = _(text) if family == "base" else pgettext(f"column word: {family}", text)
    return out


def column_label(col: Column) -> str:
    """The header of a column in the report's language."""
    if lang() == "en":
        return col.label
    if col.pattern is None:
        return _(col.label)
    return pgettext("column pattern", col.pattern[0], **_fields(col))


def column_description(col: Column) -> str:
    """The description of a column in the report's language ("" when the catalogue has none)."""
    if lang() == "en" or not col.description:
        return col.description
    if col.pattern is None:
        return _(col.description)
    return pgettext("column pattern", col.pattern[1], **_fields(col))
