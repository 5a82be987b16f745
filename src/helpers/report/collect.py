"""Reading what the notebooks wrote (tables, figures, numbers) into :class:`Outputs`, and the
second-line suppression of table rows under the disclosure threshold.

Imports: helpers.report.sections.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sections import COUNTRY_STEM, N_COLUMNS, SECTIONS


@dataclass
class Outputs:
    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)
    bad_numbers: dict[str, str] = field(default_factory=dict)


def collect_outputs(reports: Path) -> Outputs:
    out = Outputs()
    for p in sorted((reports / "tables").glob("*.csv")):
        out.tables[p.stem] = p
    figs: dict[str, Path] = {}
    for p in sorted((reports / "figures").glob("*")):
        if p.suffix.lower() in (".png", ".svg") and not p.name.startswith("."):
            if p.stem not in figs or p.suffix.lower() == ".png":
                figs[p.stem] = p
    out.figures = figs
    for p in sorted((reports / "numbers").glob("*.json")):
        try:
            out.numbers[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            out.bad_numbers[p.stem] = str(exc)
    return out


def section_of_stem(stem: str) -> str:
    if COUNTRY_STEM.match(stem):
        return "country"
    for s in SECTIONS:
        if s.id != "country" and (stem == s.id or stem.startswith(s.prefixes)):
            return s.id
    return "other"


def read_csv_rows(path: Path) -> list[list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        return [row for row in csv.reader(f)]


def parse_number(s: str) -> float | None:
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if v == v else None  # NaN is not a number to show


def suppress(rows: list[list[str]], threshold: int) -> tuple[list[list[str]], int]:
    """Suppress rows built on fewer than ``threshold`` respondents (by their ``n`` column).

    Examples
    --------
    >>> rows = [["group", "n", "mean"], ["a", "25", "0.5"], ["b", "3", "0.9"]]
    >>> suppress(rows, 10)
    ([['group', 'n', 'mean'], ['a', '25', '0.5'], ['b', '<10', 'suppressed']], 1)
    """
    if not rows:
        return rows, 0
    header = [h.strip().lower() for h in rows[0]]
    ncols = [i for i, h in enumerate(header) if h in N_COLUMNS or h.startswith("n_respondents")]
    if not ncols:
        return rows, 0
    out, k = [rows[0]], 0
    for row in rows[1:]:
        small = any(i < len(row) and (v := parse_number(row[i])) is not None and 0 < v < threshold for i in ncols)
        if small:
            k += 1
            row = [(f"<{threshold}" if i in ncols else "suppressed") if parse_number(c) is not None else c
                   for i, c in enumerate(row)]
        out.append(row)
    return out, k
