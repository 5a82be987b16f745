"""The catalogue of table columns (``columns.yml``, shipped with the package): each column's label,
description and kind, from an exact entry or a family pattern (``n_respondents_treated``,
``mean_economic``, ``ci_low_fieldwork``, ...).

Imports: no other helpers module.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

KINDS = ("count", "share", "country", "flag", "text", "number")
FIELDS = {"label", "description", "kind"}


@dataclass(frozen=True)
class Column:
    """What the report says about one column: ``documented`` is False when the catalogue has no entry."""

    name: str
    label: str
    description: str
    kind: str
    documented: bool = True
    #: For a family name: the pattern's (label, description) templates ...
    pattern: tuple[str, str] | None = None
    #: ... and what fills them: (field, word family or ``base``, English text).
    parts: tuple[tuple[str, str, str], ...] = ()


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict[str, Any]:
    import importlib.resources

    import yaml

    text = importlib.resources.files("helpers.report").joinpath("columns.yml").read_text(encoding="utf-8")
    cat = yaml.safe_load(text)
    for name, e in cat["columns"].items():
        if e.get("kind") not in KINDS or not e.get("label") or not e.get("description") or set(e) - FIELDS:
            raise ValueError(f"columns.yml: column {name}: needs a label, a description and a kind of {KINDS}, "
                             f"nothing else (got {sorted(e)}; quote a label holding a comma)")
    exact = sorted(cat["columns"], key=len, reverse=True)
    compiled = []
    for p in cat["patterns"]:
        def group(m: re.Match) -> str:
            name = m.group(1)
            choices = exact if name == "base" else sorted(cat["words"][name], key=len, reverse=True)
            return f"(?P<{name}>{'|'.join(map(re.escape, choices))})"
        compiled.append((re.compile("^" + re.sub(r"\{(\w+)\}", group, p["match"]) + "$"), p))
    cat["compiled"] = compiled
    return cat


def lookup(name: str) -> Column | None:
    """The catalogue's entry for a column name, or None.

    Examples
    --------
    >>> lookup("n_respondents_treated").label, lookup("share_of_surveys").kind
    ('Respondents, mentored', 'share')
    >>> lookup("ci_low_fieldwork").label, lookup("mean_economic").label
    ('95% CI, lower, fieldwork countries', 'Mean economic score')
    >>> lookup("adj_n_surveys").kind, lookup("no_such_column") is None
    ('count', True)
    """
    cat = _catalogue()
    e = cat["columns"].get(name)
    if e is not None:
        return Column(name, e["label"], e["description"], e["kind"])
    for rx, p in cat["compiled"]:
        m = rx.match(name)
        if not m:
            continue
        fields: dict[str, str] = {}
        parts: list[tuple[str, str, str]] = []
        kind = p.get("kind")
        for g, v in m.groupdict().items():
            if g == "base":
                b = cat["columns"][v]
                fields["base"], kind = b["label"], kind or b["kind"]
                fields["base_description"] = b["description"]
                parts += [("base", "base", b["label"]), ("base_description", "base", b["description"])]
            else:
                fields[g] = cat["words"][g][v]
                parts.append((g, g, fields[g]))
        return Column(name, p["label"].format(**fields), p["description"].format(**fields), kind or "number",
                      pattern=(p["label"], p["description"]), parts=tuple(parts))
    return None


def column(name: str) -> Column:
    """The entry of ``name``, or a stand-in (the name in words, no description, ``documented=False``)."""
    found = lookup(name)
    if found is not None:
        return found
    words = name.replace("_", " ").strip() or name
    return Column(name, words[:1].upper() + words[1:], "", "number", documented=False)
