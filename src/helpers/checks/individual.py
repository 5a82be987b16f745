"""The individual-level scan of ``rss check``: no notebook output shows rows with a ``respondent_id`` column.

Notebooks show aggregates only.  Each notebook (executed under ``reports/``, or
committed under ``notebooks/``) is one :class:`~helpers.checks.state.Unit`.

Imports: helpers.checks.hits, helpers.checks.state, helpers.checks.tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .hits import Hit, show
from .state import Unit
from .tables import executed_notebooks, notebook_outputs, text_of

__all__ = ["shows_individual_rows", "individual_units", "individual_summary", "all_notebooks"]

_HTML_ID_COLUMN = re.compile(r"<th[^>]*>\s*respondent_id\s*</th>", re.I)
_SERIES_NAME = re.compile(r"\bName: respondent_id\b")


def shows_individual_rows(out: dict[str, Any]) -> bool:
    """Whether a notebook output displays a table (or Series) of rows with a ``respondent_id`` column."""
    data = out.get("data") or {}
    if _HTML_ID_COLUMN.search(text_of(data.get("text/html", ""))):
        return True
    for text in (text_of(data.get("text/plain", "")), text_of(out.get("text", ""))):
        lines = text.splitlines()
        if sum(1 for ln in lines if ln.strip()) < 2:
            continue
        if _SERIES_NAME.search(text):
            return True
        # header lines of a DataFrame repr: the first line, and the first line of each block of a wide frame
        heads = [ln for k, ln in enumerate(lines) if ln.strip() and (k == 0 or not lines[k - 1].strip())]
        if any("respondent_id" in ln.replace("\\", " ").split() for ln in heads):
            return True
    return False


def all_notebooks(root: Path) -> list[Path]:
    """The executed notebooks under ``reports/``, then the committed ones under ``notebooks/``."""
    return executed_notebooks(root) + sorted((root / "notebooks").glob("*.ipynb"))


def _scan(root: Path, nb: Path) -> tuple[list[Hit], dict[str, int]]:
    hits = [Hit(show(nb, root), f" cell {cell}", "an output displays rows with a respondent_id column: notebooks "
                                                "show aggregates only")
            for cell, out in notebook_outputs(nb) if shows_individual_rows(out)]
    return hits, {"notebooks": 1}


def individual_units(root: Path) -> Iterator[Unit]:
    """One unit per notebook."""
    for nb in all_notebooks(root):
        yield Unit("individual", (nb,), lambda p=nb: _scan(root, p))


def individual_summary(counts: dict[str, int]) -> str:
    return f"individual-level outputs: {counts.get('notebooks', 0)} notebooks (executed and committed)"
