"""What a scan of ``rss check`` reports: a :class:`Hit` (where, what), and the small text helpers the scans share.

Imports: the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Hit", "CheckError", "show", "number", "blank"]


class CheckError(RuntimeError):
    """A scan cannot run as asked (e.g. no respondent ids to search for)."""


@dataclass(frozen=True)
class Hit:
    """One problem found: where (file and line, sheet row or notebook cell) and what."""

    path: str
    where: str | None
    message: str

    def __str__(self) -> str:
        sep = ":" if self.where and not self.where.startswith("[") else ""
        return f"{self.path}{sep}{self.where or ''}: {self.message}"

    def to_json(self) -> list[Any]:
        return [self.path, self.where, self.message]

    @classmethod
    def from_json(cls, v: list[Any]) -> Hit:
        return cls(str(v[0]), None if v[1] is None else str(v[1]), str(v[2]))


def show(path: Path, root: Path) -> str:
    """``path`` as the user reads it: relative to the project root when it is inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def number(text: Any) -> float | None:
    """The number a cell shows, or None (``"1,234"`` reads 1234; booleans are not numbers)."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text) if text == text else None
    try:
        v = float(str(text).strip().replace(",", ""))
    except ValueError:
        return None
    return v if v == v else None


def blank(value: Any) -> bool:
    """Whether a cell shows nothing (empty, or a missing-value marker)."""
    return value is None or str(value).strip() in ("", "nan", "NaN", "<NA>", "None")
