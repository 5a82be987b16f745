"""Problems of the input, located by file, row, column and value, and how they are collected.

A :class:`Problem` names the file, the row as a spreadsheet shows it (header row 1,
first record row 2), the column and the offending value; :class:`DataError` lists
them all.  :class:`Checks` collects one group of files' problems, listing at most
:data:`MAX_ROWS_LISTED` rows per (file, column, problem).

Imports: none of helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: How many rows are listed per (file, column, problem) before the rest are counted.
MAX_ROWS_LISTED = 20


@dataclass(frozen=True)
class Problem:
    """One problem of the input, located as precisely as possible."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += ("," if self.row is not None else ",") + f" column {self.column}"
        if self.row is not None and self.value is not None:
            return f"{where}: {show_value(self.value)} {self.message}"
        return f"{where}: {self.message}"


class DataError(ValueError):
    """The input breaks the data contract; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        n = len(problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        super().__init__("\n".join([head, *(str(p) for p in problems)]))



def in_order(problems: list[Problem]) -> list[Problem]:
    """``problems`` per file, file-level first, then by row (stable: same file and row keep their order)."""
    return sorted(problems, key=lambda p: (p.file, p.row or 0))


def show_value(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    text = str(value)
    if text == "":
        return "empty"
    try:
        float(text)
        return text
    except ValueError:
        return repr(text)



class Checks:
    """Collects problems for one file, listing at most MAX_ROWS_LISTED rows per kind.

    Offending values are formatted only for the rows that are listed, so checking a
    million clean rows costs no string conversion.
    """

    def __init__(self, files: pd.Categorical, rows: np.ndarray):
        self.files = files  # file name of each record
        self.rows = rows  # spreadsheet row number of each record
        self.problems: list[Problem] = []

    def rows_bad(self, mask: np.ndarray, column: str, values: pd.Series, message: str) -> None:
        """Report the records in ``mask``: the first MAX_ROWS_LISTED of each file, then a count."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        codes = self.files.codes[idx]
        for code in np.unique(codes):
            in_file = idx[codes == code]
            name = str(self.files.categories[code])
            shown = values.iloc[in_file[:MAX_ROWS_LISTED]]
            if pd.api.types.is_datetime64_any_dtype(shown.dtype):
                shown = shown.dt.strftime("%Y-%m-%d")
            for i, v in zip(in_file[:MAX_ROWS_LISTED], shown.to_numpy(dtype=object), strict=True):
                v = "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
                self.problems.append(Problem(name, message, row=int(self.rows[i]), column=column, value=v))
            if len(in_file) > MAX_ROWS_LISTED:
                self.problems.append(Problem(name, f"... and {len(in_file) - MAX_ROWS_LISTED:,} more rows with the "
                                                   f"same problem", column=column))
